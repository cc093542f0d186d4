"""Issue 11 on Slack: each finding of the fault run, reproduced through the real Bolt app over HTTP on loopback
against the fake Slack Web API.

- a store that fails (Redis down, disk full, read-only WAL) never leaves a person without an answer, and words
  of danger still get 999, Childline and Samaritans;
- a retried "Forget me", button or command is answered once;
- malformed bodies get 400 once signed, 401 when unsigned, badly signed or with a timestamp that is not a number;
- quick exit deletes the bot's own messages in the DM;
- one person flooding the bot is held to a few messages in flight, and everyone else is answered meanwhile.

No sleeps and no timing: waits are on the fake's recorded calls and the bot's "done" reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import threading
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from test_slack_harness import CHANNEL, DM, SIGNING_SECRET, TEAM, USER, Harness, Stack, block_text, buttons

from adapters.slack.blocks import ACTION_FORGET
from adapters.slack.checks import CheckProcess, CrisisChecker
from adapters.slack.guards import SeenIds
from benchmarks.fakes.slack_api import (
    RESPONSE_URL,
    block_action_body,
    dm_channel_id,
    event_body,
    im_message_event,
    post_signed,
    slash_command_body,
)
from bot.session import Session
from bot.store import MemoryStore
from bot.types import Inbound, Outbound
from dialogs.content import Content

OTHER = "U0OTHERPERSON"


class FaultyStore(MemoryStore):
    """A store whose reads and writes fail on demand, as Redis stopped or a full disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.failures = 0

    def _check(self) -> None:
        if self.broken:
            self.failures += 1
            raise OSError(28, "No space left on device")

    async def load(self, key: str) -> Session | None:
        self._check()
        return await super().load(key)

    async def save(self, key: str, session: Session) -> None:
        self._check()
        await super().save(key, session)

    async def forget(self, key: str) -> None:
        self._check()
        await super().forget(key)


class HeldStore(MemoryStore):
    """A store whose loads for one conversation wait until released: that person's turns queue up."""

    def __init__(self) -> None:
        super().__init__()
        self.held: str | None = None
        self.release = asyncio.Event()
        self.waiting = 0

    async def load(self, key: str) -> Session | None:
        if key == self.held:
            self.waiting += 1
            await self.release.wait()
        return await super().load(key)


def crisis_numbers(text: str) -> None:
    assert "999" in text
    assert "Childline" in text and "0800 1111" in text
    assert "Samaritans" in text and "116 123" in text


async def home_press(h: Harness, action_id: str, value: str, trigger_id: str, retry_num: int | None = None) -> str:
    body = block_action_body(action_id, value, user_id=USER, team_id=TEAM, container_type="view",
                             trigger_id=trigger_id)
    assert await h.post(body, retry_num=retry_num) == 200
    kind, result = await h.done()
    assert kind == "action"
    return result


# ------------------------------------------------------------------------------- 1. nothing fails silently


@pytest.fixture
async def broken(stack: Stack) -> AsyncIterator[tuple[Harness, FaultyStore]]:
    store = FaultyStore()
    h = await stack.start(store=store)
    yield h, store


async def test_store_down_a_crisis_dm_still_gets_999_childline_and_samaritans(
    broken: tuple[Harness, FaultyStore],
) -> None:
    h, store = broken
    store.broken = True

    result = await h.dm("I want to kill myself")

    assert result in {"crisis", "error_crisis"}
    reply = await h.next_call("chat.postMessage")
    assert reply.params["channel"] == DM
    crisis_numbers(block_text(reply.params["blocks"]))
    assert store.failures >= 1


async def test_store_down_an_ordinary_dm_gets_the_apology_with_999(
    broken: tuple[Harness, FaultyStore], content: Content
) -> None:
    h, store = broken
    store.broken = True

    assert await h.dm("EDT number") not in {"undelivered", "busy", "busy_dropped"}

    reply = await h.next_call("chat.postMessage")
    assert reply.params["channel"] == DM and "999" in block_text(reply.params["blocks"])


async def test_store_down_a_slash_command_is_answered_ephemerally(broken: tuple[Harness, FaultyStore]) -> None:
    h, store = broken
    store.broken = True

    await h.command("triage leeds")

    hook = await h.next_call(RESPONSE_URL, "cmd")
    assert hook.params["response_type"] == "ephemeral" and "999" in block_text(hook.params["blocks"])
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []  # nothing about a case, and nothing in a channel


async def test_store_down_crisis_words_in_a_slash_command_get_the_crisis_card(
    broken: tuple[Harness, FaultyStore],
) -> None:
    h, store = broken
    store.broken = True

    await h.command("someone is going to hurt me tonight")

    hook = await h.next_call(RESPONSE_URL, "cmd")
    crisis_numbers(block_text(hook.params["blocks"]))


async def test_store_down_forget_me_on_app_home_is_answered_in_the_dm(broken: tuple[Harness, FaultyStore]) -> None:
    h, store = broken
    store.broken = True

    assert await home_press(h, ACTION_FORGET, "forget", "111.222.forget") != "undelivered"

    reply = await h.next_call("chat.postMessage")
    assert reply.params["channel"] == DM and "999" in block_text(reply.params["blocks"])
    await h.settle()
    for publish in h.fake.calls("views.publish"):  # never "Done: I have forgotten" when nothing was
        assert "forgotten" not in block_text(publish.params["view"]["blocks"])


async def test_store_down_app_home_still_shows_the_contacts(broken: tuple[Harness, FaultyStore]) -> None:
    h, store = broken
    store.broken = True

    assert await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"}) == "published"

    view = (await h.next_call("views.publish")).params["view"]
    assert "Childline" in block_text(view["blocks"])


async def test_a_reply_slack_refuses_is_followed_by_the_apology(h: Harness) -> None:
    h.fake.fail_next("chat.postMessage", error="msg_too_long")

    assert await h.dm("contacts") == "error"

    refused, apology = await h.fake.wait_for("chat.postMessage", count=2)
    assert refused.response["ok"] is False
    assert apology.response["ok"] is True and "999" in apology.params["text"]


async def test_when_even_the_apology_cannot_be_sent_the_failure_is_logged_not_raised(h: Harness) -> None:
    h.fake.fail_next("chat.postMessage", error="channel_not_found", times=2)

    assert await h.dm("contacts") == "undelivered"
    assert await h.dm("childline") == "contact"  # the next message is answered as usual


# -------------------------------------------------------------------------------- 2. retries answered once


async def test_a_retried_forget_me_is_answered_once(h: Harness) -> None:
    await h.triage("kent")

    assert await home_press(h, ACTION_FORGET, "forget", "333.444.same") == "forget"
    assert await home_press(h, ACTION_FORGET, "forget", "333.444.same", retry_num=1) == "duplicate"
    assert await home_press(h, ACTION_FORGET, "forget", "333.444.same", retry_num=2) == "duplicate"

    await h.settle()
    assert len(h.fake.calls("views.publish")) == 1


async def test_a_retried_button_press_is_answered_once(h: Harness) -> None:
    question = await h.triage("leeds")
    no = next(b for b in buttons(question.params["blocks"]) if b["text"]["text"] == "No")
    body = block_action_body(no["action_id"], no["value"], user_id=USER, team_id=TEAM, channel_id=DM,
                             message_ts=question.response["ts"], response_url=h.fake.response_url("act"),
                             trigger_id="555.666.press")
    posted = len(h.fake.calls("chat.postMessage"))

    assert await h.post(body) == 200
    assert await h.done() == ("action", "answer")
    assert await h.post(body, retry_num=1) == 200
    assert await h.done() == ("action", "duplicate")

    await h.settle()
    assert len(h.fake.calls("chat.postMessage")) == posted  # the next question is the pressed one, edited
    assert len(h.fake.calls("chat.update")) == 1


async def test_a_retried_forget_command_is_answered_once(h: Harness) -> None:
    await h.triage("kent")
    assert await h.command("forget", trigger_id="777.888.forget") == "forget"
    assert await h.command("forget", trigger_id="777.888.forget") == "duplicate"
    await h.settle()
    assert len(h.fake.calls(RESPONSE_URL)) == 2  # the triage's "see your DM" note, then one goodbye


async def test_a_retried_forget_me_dm_is_answered_once(h: Harness) -> None:
    event = im_message_event("forget me", user_id=USER, team_id=TEAM)
    assert await h.event(event, event_id="Ev0FORGET") == "forget"
    assert await h.event(event, event_id="Ev0FORGET", retry_num=1) == "duplicate"
    await h.settle()
    assert len(h.fake.calls("chat.postMessage")) == 1


# ----------------------------------------------------------------------------------- 3. malformed bodies


def _sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


async def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


MALFORMED = {
    "broken-json": (b"{not json", "application/json"),
    "json-list": (b"[1, 2, 3]", "application/json"),
    "json-string": (b'"hello"', "application/json"),
    "json-null": (b"null", "application/json"),
    "empty": (b"", "application/json"),
    "not-utf8": (b"\xff\xfe{\x00}", "application/json"),
    "broken-payload": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "payload-list": (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "event-not-an-object": (json.dumps({"type": "event_callback", "event": "hi"}).encode(), "application/json"),
    "user-not-an-object": (
        b"payload=" + json.dumps({"type": "block_actions", "user": "U1", "actions": "x"}).encode(),
        "application/x-www-form-urlencoded",
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_signed_malformed_bodies_get_400(h: Harness, name: str) -> None:
    assert h.url is not None
    body, content_type = MALFORMED[name]
    ts = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": _sign(body, ts)}

    assert await _post_raw(h.url, body, headers) == 400

    await h.settle()
    assert set(h.fake.methods()) == {"auth.test"}  # our barrier (and Bolt's token check): nothing was sent


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_unsigned_malformed_bodies_get_401(h: Harness, name: str) -> None:
    assert h.url is not None
    body, content_type = MALFORMED[name]

    assert await _post_raw(h.url, body, {"Content-Type": content_type}) == 401


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_badly_signed_malformed_bodies_get_401(h: Harness, name: str) -> None:
    assert h.url is not None
    body, content_type = MALFORMED[name]
    ts = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": _sign(body, ts, "not-the-secret")}

    assert await _post_raw(h.url, body, headers) == 401


@pytest.mark.parametrize(
    "timestamp", ["abc", "", "1e9", "-5", " 1700000000", "١٧٠٠٠٠٠٠٠٠", "9" * 40, None],
    ids=["letters", "empty", "exponent", "negative", "space", "arabic-digits", "huge", "missing"],
)
async def test_a_timestamp_that_is_not_a_number_gets_401(h: Harness, timestamp: str | None) -> None:
    assert h.url is not None
    body = slash_command_body(text="help", user_id=USER, team_id=TEAM, response_url=h.fake.response_url())
    raw = body.encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Signature": _sign(raw, timestamp or "")}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp

    assert await _post_raw(h.url, raw, headers) == 401
    await h.settle()
    assert set(h.fake.methods()) == {"auth.test"}


async def test_a_request_without_a_signature_gets_401(h: Harness) -> None:
    assert h.url is not None
    body = slash_command_body(text="help", user_id=USER, team_id=TEAM).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": str(int(time.time()))}
    assert await _post_raw(h.url, body, headers) == 401


async def test_after_malformed_requests_the_bot_still_answers(h: Harness) -> None:
    assert h.url is not None
    for body, content_type in MALFORMED.values():
        await post_signed(h.url, body.decode("utf-8", "replace"), content_type, SIGNING_SECRET)
    assert await h.dm("childline") == "contact"


# ---------------------------------------------------------------------------------------- 4. quick exit


async def test_quick_exit_in_the_dm_deletes_the_bots_messages_and_forgets(h: Harness, content: Content) -> None:
    first = await h.triage("leeds")
    await h.answer(first, "No")
    await h.dm("childline")
    await h.settle()
    visible = h.fake.messages(DM)
    assert len(visible) >= 3
    key = h.bot.service.key(h.bot.ref(TEAM, USER))

    assert await h.dm("exit") == "exit"

    await h.settle()
    deleted = h.fake.calls("chat.delete")
    assert sorted(c.params["ts"] for c in deleted) == sorted(m["ts"] for m in visible)
    assert all(c.response["ok"] for c in deleted)
    assert h.fake.messages(DM) == []  # nothing of the bot's is left in the DM
    [goodbye] = h.fake.calls("chat.postEphemeral")  # the goodbye vanishes too
    assert goodbye.params["channel"] == DM and goodbye.params["user"] == USER
    assert goodbye.params["text"] == content.text("quick_exit")
    assert await h.bot.service.store.load(key) is None
    assert h.bot.posted.get(key) == []


async def test_quick_exit_by_slash_command_in_a_channel_deletes_the_dm_and_answers_there(h: Harness) -> None:
    await h.triage("kent")
    await h.settle()
    assert h.fake.messages(DM)

    assert await h.command("exit") == "exit"

    goodbye = await h.next_call(RESPONSE_URL, "cmd")
    goodbye = await h.next_call(RESPONSE_URL, "cmd")  # the first was the triage's "see your DM" note
    assert goodbye.params["response_type"] == "ephemeral"
    assert h.fake.messages(DM) == []


async def test_quick_exit_carries_on_when_a_message_is_already_gone(h: Harness) -> None:
    await h.triage("kent")
    await h.dm("childline")
    await h.settle()
    visible = h.fake.messages(DM)
    await h.bot.app.client.chat_delete(channel=DM, ts=visible[-1]["ts"])  # deleted on Slack already

    assert await h.dm("exit") == "exit"

    await h.settle()
    errors = [c.response.get("error") for c in h.fake.calls("chat.delete")[1:]]
    assert errors == ["message_not_found"] + [None] * (len(visible) - 1)  # newest first, and carries on
    assert h.fake.messages(DM) == []


async def test_messages_remembered_for_quick_exit_are_ids_only_and_bounded(h: Harness) -> None:
    h.bot.posted.per_dm = 3
    for _ in range(5):
        await h.dm("childline")
    await h.settle()
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    remembered = h.bot.posted.get(key)
    assert len(remembered) == 3 and all(ts.replace(".", "").isdigit() for ts in remembered)


# -------------------------------------------------------------------------------- 5. fair under a flood


async def _flood(h: Harness, n: int, text: str = "quokka zebrafish ") -> None:
    for i in range(n):
        event = im_message_event(f"{text}{i}", user_id=OTHER, team_id=TEAM)
        assert await h.post(event_body(event)) == 200


async def test_a_flood_is_held_to_a_few_in_flight_and_another_person_is_answered_meanwhile(
    stack: Stack, content: Content
) -> None:
    store = HeldStore()
    h = await stack.start(store=store)
    store.held = h.bot.service.key(h.bot.ref(TEAM, OTHER))
    limit = h.bot.limit.in_flight

    await _flood(h, limit + 8, "quokka zebrafish " * 250)

    early = [await h.done() for _ in range(8)]  # those beyond the limit, at once
    assert early.count(("message", "busy")) == 1
    assert early.count(("message", "busy_dropped")) == 7
    [busy] = h.fake.calls("chat.postMessage")
    assert busy.params["channel"] == dm_channel_id(OTHER) and busy.params["text"] == content.text("slack_busy")

    # The flood's first messages are still queued; someone else's /ypsi help is acknowledged and answered.
    help_body = slash_command_body(text="help", user_id=USER, team_id=TEAM, channel_id=CHANNEL,
                                   response_url=h.fake.response_url("help"))
    assert await h.post(help_body) == 200
    assert await h.done() == ("command", "help")
    assert "/ypsi triage" in block_text((await h.next_call(RESPONSE_URL, "help")).params["blocks"])
    assert store.waiting == 1 and h.bot.limit.busy(store.held) == limit  # the flood has not drained

    store.release.set()
    rest = [await h.done() for _ in range(limit)]
    assert all(kind == "message" and result not in {"busy", "busy_dropped", "error"} for kind, result in rest)
    await h.settle()
    posts = h.fake.calls("chat.postMessage")
    assert len(posts) > limit and {p.params["channel"] for p in posts} == {dm_channel_id(OTHER)}
    assert h.bot.limit.busy(store.held) == 0


async def test_crisis_words_beyond_the_limit_still_get_the_crisis_card_once(stack: Stack) -> None:
    store = HeldStore()
    h = await stack.start(store=store)
    store.held = h.bot.service.key(h.bot.ref(TEAM, OTHER))
    limit = h.bot.limit.in_flight
    await _flood(h, limit)

    await _flood(h, 3, "I want to kill myself ")

    results = sorted([(await h.done())[1] for _ in range(3)])
    assert results == ["busy", "busy_crisis", "busy_dropped"]
    await h.settle()
    card, busy = sorted(h.fake.calls("chat.postMessage"), key=lambda c: "999" not in c.params["text"][:200])
    crisis_numbers(block_text(card.params["blocks"]))
    assert busy.params["text"].startswith("You're sending a lot")
    store.release.set()
    for _ in range(limit):
        await h.done()


async def test_the_busy_notice_is_said_once_a_window(stack: Stack) -> None:
    store = HeldStore()
    h = await stack.start(store=store)
    now = [1000.0]
    h.bot.limit.clock = lambda: now[0]
    store.held = h.bot.service.key(h.bot.ref(TEAM, OTHER))
    await _flood(h, h.bot.limit.in_flight + 3)
    assert sorted([(await h.done())[1] for _ in range(3)]) == ["busy", "busy_dropped", "busy_dropped"]

    now[0] += h.bot.limit.window + 1
    await _flood(h, 2)
    assert sorted([(await h.done())[1] for _ in range(2)]) == ["busy", "busy_dropped"]
    store.release.set()
    for _ in range(h.bot.limit.in_flight):
        await h.done()


async def test_crisis_words_at_the_end_of_a_40000_character_dm_get_the_crisis_card(h: Harness) -> None:
    text = ("quokka zebrafish lantern " * 1700)[:39_970] + " I want to kill myself"

    assert await h.dm(text) == "crisis"

    crisis_numbers(block_text((await h.next_call("chat.postMessage")).params["blocks"]))


async def test_a_long_dm_without_crisis_words_is_read_from_its_start(h: Harness) -> None:
    assert await h.dm("childline " + "quokka zebrafish lantern " * 1700) == "contact"
    assert "0800 1111" in block_text((await h.next_call("chat.postMessage")).params["blocks"])


def test_redeliveries_are_remembered_for_a_time_window_not_a_count() -> None:
    now = [0.0]
    seen = SeenIds(window=900.0, size=1_000_000, clock=lambda: now[0])
    assert seen.first_time("act:1")
    for i in range(5000):  # many other interactions in between do not push it out
        seen.first_time(f"act:other{i}")
    now[0] = 899.0
    assert not seen.first_time("act:1")
    now[0] = 1800.0
    assert seen.first_time("act:1") and len(seen) == 1  # the window passed: all older ids are dropped


async def test_the_crisis_checker_serves_turns_in_progress_before_a_floods_extras() -> None:
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    card = Outbound("999", kind="crisis")

    def check(inbound: Inbound) -> Outbound | None:
        if inbound.text == "first":
            started.set()
            release.wait(10)  # holds the worker until every other check is queued
        order.append(inbound.text)
        return card if "danger" in inbound.text else None

    checker = CrisisChecker(check)
    first = asyncio.ensure_future(checker(Inbound("text", text="first"), urgent=False))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    extras = [asyncio.ensure_future(checker(Inbound("text", text=f"extra {i}"), urgent=False)) for i in range(3)]
    mine = asyncio.ensure_future(checker(Inbound("text", text="danger, another person"), urgent=True))
    await asyncio.sleep(0)  # let the tasks queue their checks (no time passes)
    release.set()

    assert await mine is card
    assert [await f for f in (first, *extras)] == [None] * 4
    assert order == ["first", "danger, another person", "extra 0", "extra 1", "extra 2"]
    checker.close()



async def test_fault_paths_log_no_typed_text_or_ids(stack: Stack, captured_logs: io.StringIO) -> None:
    store = FaultyStore()
    h = await stack.start(store=store)
    typed = "Quokka Zebrafish 44172 I want to kill myself"
    store.broken = True
    await h.dm(typed)
    store.broken = False
    h.fake.fail_next("chat.postMessage", error="channel_not_found", times=2)
    await h.dm("Quokka contacts")
    assert h.url is not None
    await post_signed(h.url, "{Quokka", "application/json", SIGNING_SECRET)
    await post_signed(h.url, "{Quokka", "application/json", "wrong-secret")
    await h.dm("exit")
    await h.settle()

    logs = captured_logs.getvalue()
    assert '"event":"slack_reply_failed"' in logs and '"event":"slack_quick_exit"' in logs
    for secret in ("Quokka", "44172", "kill", USER, TEAM, DM, SIGNING_SECRET):
        assert secret not in logs, secret


async def test_long_text_is_checked_in_a_child_process_and_a_dead_child_is_replaced(h: Harness) -> None:
    bot = h.bot
    bot.check_process = CheckProcess(bot.content, bot.service.secret, bot.assistant.crisis_card)
    try:
        long_crisis = ("quokka zebrafish lantern " * 400) + " I want to kill myself"
        assert await h.dm(long_crisis) == "crisis"
        await h.settle()
        crisis_numbers(block_text(h.fake.calls("chat.postMessage")[0].params["blocks"]))
        proc = bot.check_process._proc
        assert proc is not None and proc.is_alive()

        proc.kill()  # the check process dies: the next check notices, and is still made
        proc.join(10)
        before = len(h.fake.calls("chat.postMessage"))
        assert await h.dm(long_crisis) == "crisis"
        await h.settle()
        crisis_numbers(block_text(h.fake.calls("chat.postMessage")[before].params["blocks"]))
        assert bot.check_process.failures == 1
        assert await h.dm("childline " + "quokka zebrafish lantern " * 400) == "contact"
    finally:
        bot.close()
