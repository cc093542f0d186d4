"""Issue 11's Telegram findings, each reproduced through the real PTB stack against the loopback fake:
a poison update (polling and webhook), six 502s in a row, a flood wait over a minute, a slow
``sendMessage``, a crisis card, a redelivered update, and one chat flooding while another talks.

No test sleeps or measures time: back-off runs on the harness's virtual clock, a slow Telegram is the
fake holding its answer until released, and waiting is on recorded calls and handled updates.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientSession
from telegram_harness import SECRET, TOKEN, Bot, joined, texts

from adapters.telegram.app import TelegramAdapter, build_application
from adapters.telegram.ordering import MAX_CHAT_BACKLOG, PerChatUpdateProcessor
from adapters.telegram.render import MAX_MESSAGE, render, utf16_len
from adapters.telegram.retry import SEND_TIMEOUTS, Timeouts
from adapters.telegram.serve import running
from adapters.telegram.webhook import SECRET_HEADER, WebhookConfig
from benchmarks.fakes.telegram_api import Call, FakeTelegram, ptb_request
from bot.assistant import Assistant
from bot.logs import JsonLines
from bot.ratelimit import RateLimiter
from bot.service import Service
from bot.store import MemoryStore
from bot.types import ConversationRef
from dialogs.content import Content

# Distinctive values: finding any of them in a log line is a leak.
WORDS = "zebra-marmalade confession"
NAME = "Quintessa"
USER = 918273645599
CHAT = 918273645599


def _user() -> dict[str, Any]:
    return {"id": USER, "is_bot": False, "first_name": NAME, "username": "quintessa_x"}


def _message(**fields: Any) -> dict[str, Any]:
    message = {
        "message_id": 41,
        "date": 1_764_460_800,
        "chat": {"id": CHAT, "type": "private", "first_name": NAME},
        "from": _user(),
        "text": WORDS,
    }
    message.update(fields)
    return {k: v for k, v in message.items() if v is not None}


_DROP = None  # a field set to this is left out

POISON: dict[str, dict[str, Any]] = {
    "no date": {"message": _message(date=_DROP)},
    "no chat": {"message": _message(chat=_DROP)},
    "chat is a string": {"message": _message(chat=f"{NAME} {WORDS}")},
    "date is a string": {"message": _message(date=f"{WORDS}")},
    "message is a string": {"message": f"{WORDS} {NAME} {USER}"},
    "message is a list": {"message": [WORDS, NAME, USER]},
    "chat id is text": {"message": _message(chat={"id": f"{WORDS}", "type": "private"})},
    "text is an object": {"message": _message(text={"t": WORDS})},
    "sender id is text": {"message": _message(**{"from": {"id": NAME, "is_bot": False, "first_name": NAME}})},
    "button without a sender": {"callback_query": {"id": "77", "chat_instance": "1", "data": WORDS}},
    "button data is a number": {
        "callback_query": {"id": "78", "from": _user(), "chat_instance": "1", "data": USER}
    },
}


def _leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record, formatted both plainly (with tracebacks) and as our JSON lines."""
    plain, json_lines = logging.Formatter(), JsonLines()
    found = []
    for record in caplog.records:
        for line in (plain.format(record), json_lines.format(record)):
            if any(s in line for s in (WORDS, "zebra", NAME, str(USER), "quintessa")):
                found.append(line[:300])
    return found


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("telegram", "httpx", "httpcore", "aiohttp", "ypsi"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


# ------------------------------------------------------------------------------------ poison updates


@pytest.mark.parametrize("shape", sorted(POISON))
async def test_a_poison_update_is_skipped_and_the_next_one_answered(
    bot: Bot, content: Content, all_logs: pytest.LogCaptureFixture, shape: str
) -> None:
    poison = bot.tg.push_raw(json.loads(json.dumps(POISON[shape])))
    mark = bot.tg.mark()
    calls = await bot.command(601, "start")  # a good update behind it, from another chat
    assert content.text("ask_who") in joined(calls)
    await bot.settle(poison)  # the poison one went through as a bare update, matched by no handler

    # Fetched once (by the long poll waiting when it arrived, or the next one): later polls confirm it.
    offsets = [c.params.get("offset") for c in bot.tg.calls("getUpdates") if c.seq >= mark]
    fetches = [o for o in offsets if not (isinstance(o, int) and o > poison["update_id"])]
    assert len(fetches) <= 1, offsets
    assert bot.tg.pending_updates() == 0
    assert not bot.tg.calls("sendMessage", chat_id=CHAT) and not bot.tg.calls("getFile")

    [skipped] = [r for r in all_logs.records if r.getMessage() == "telegram_update_skipped"]
    fields = skipped.fields  # type: ignore[attr-defined]
    assert fields["update_id"] == poison["update_id"]
    assert fields["type"] in ("message", "callback_query")
    assert set(fields) == {"update_id", "type", "error"}
    assert _leaks(all_logs) == []


async def test_several_poison_updates_in_one_batch_between_good_ones(bot: Bot, content: Content) -> None:
    def poison(shape: str) -> dict[str, Any]:
        return bot.tg.push_raw(json.loads(json.dumps(POISON[shape])))

    bot.tg.push_command(610, 610, "start")
    poison("no date")
    bot.tg.push_command(611, 611, "start")
    poison("message is a string")
    poison("no chat")
    last = bot.tg.push_command(612, 612, "start")
    await bot.settle(last)
    for chat in (610, 611, 612):
        assert bot.tg.sent_texts(chat)
    assert bot.tg.pending_updates() == 0


async def test_an_update_id_given_as_digits_is_still_confirmed(bot: Bot, content: Content) -> None:
    update = bot.tg.make_command(615, 615, "start")
    update["update_id"] = str(update["update_id"])  # "12", not 12
    bot.tg.push_raw(update)
    [sent] = await bot.tg.wait_for("sendMessage", chat_id=615)
    assert content.text("ask_who") in joined([sent])
    follow = await bot.command(616, "start")  # polling goes on past it
    assert follow and bot.tg.pending_updates() == 0


async def test_webhook_refuses_malformed_bodies_and_skips_poison_updates(
    tg: FakeTelegram, content: Content, all_logs: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    adapter = TelegramAdapter(Service(Assistant(content, SECRET), store, SECRET))
    app = build_application(TOKEN, adapter, base_url=tg.base_url, polling=False, request=ptb_request())
    config = WebhookConfig("https://bot.example.org/tg/hook", "right-secret", "127.0.0.1", 0)
    async with running(app, store, webhook=config) as server, ClientSession() as http:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}/tg/hook"
        headers = {SECRET_HEADER: "right-secret", "Content-Type": "application/json"}
        bodies = {
            f'{{"update_id": 5, "message": {{"text": "{WORDS}"': 400,  # truncated JSON
            json.dumps([WORDS, NAME]): 400,  # not an object
            json.dumps({"message": _message()}): 400,  # no update_id
            WORDS.encode("utf-16").decode("latin-1"): 400,  # not UTF-8 JSON at all
        }
        for shape in POISON.values():
            bodies[json.dumps({"update_id": 7, **shape})] = 200  # Telegram must not send it again
        for body, status in bodies.items():
            async with http.post(url, data=body.encode("utf-8", "surrogatepass"), headers=headers) as answer:
                assert answer.status == status, body[:40]
        mark = tg.mark()
        assert await tg.post_update_to(url, tg.make_command(620, 620, "start"), "right-secret") == 200
        [sent] = await tg.wait_for("sendMessage", chat_id=620, since=mark)
        assert content.text("ask_who") in joined([sent])
        assert app.running
    assert not tg.calls("sendMessage", chat_id=CHAT)
    assert _leaks(all_logs) == []


def test_ptb_log_records_lose_their_arguments_and_tracebacks(all_logs: pytest.LogCaptureFixture) -> None:
    """What PTB logs at CRITICAL on a batch it cannot parse: the format string stays, the batch goes."""
    from adapters.telegram.intake import scrub_library_logs

    scrub_library_logs()
    try:
        raise KeyError(WORDS)
    except KeyError as exc:
        logging.getLogger("telegram.Bot").critical("Error while parsing updates! Received data was %r",
                                                   [{"message": {"text": WORDS}}], exc_info=exc)
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", {"text": WORDS, "id": USER})
    [critical, debug] = [r for r in all_logs.records if r.name.startswith("telegram")]
    assert critical.getMessage() == "Error while parsing updates! Received data was %r"
    assert critical.fields == {"error": "KeyError"}  # type: ignore[attr-defined]
    assert debug.getMessage() == "Processing update %s"
    assert _leaks(all_logs) == []


# -------------------------------------------------------------------------------------- delivery


def _ok_sends(bot: Bot, chat: int) -> list[Call]:
    return [c for c in bot.tg.calls("sendMessage", chat_id=chat) if c.ok]


async def test_six_502s_in_a_row_then_the_outbox_delivers_the_reply_in_order(bot: Bot, content: Content) -> None:
    bot.tg.fail_next("sendMessage", 502, times=6)
    calls = await bot.command(630, "urgent")
    assert [c.status for c in calls] == [502] * 5  # the turn's own tries: before, the reply was lost here
    assert len(bot.adapter.outbox) == 1
    await bot.say(630, "childline")  # a later reply in the same chat waits behind the first
    await bot.delivered()
    statuses = [c.status for c in bot.tg.calls("sendMessage", chat_id=630)]
    assert statuses == [502] * 6 + [200, 200]
    sent = bot.tg.sent_texts(630)
    assert content.text("crisis_title") in sent[0] and "0800 1111" in sent[0]
    assert "Childline" in sent[1]
    assert bot.clock.slept and all(d > 0 for d in bot.clock.slept)  # backed off (on the virtual clock)
    assert bot.adapter.outbox.delivered == 2 and bot.adapter.outbox.dropped == 0


async def test_a_flood_wait_over_a_minute_is_waited_out_by_the_outbox(bot: Bot, content: Content) -> None:
    bot.tg.fail_next("sendMessage", 429, retry_after=90)
    await bot.command(631, "start")
    await bot.delivered()
    assert 90.0 in bot.clock.slept  # waited as long as Telegram asked, in the background
    assert [c.status for c in bot.tg.calls("sendMessage", chat_id=631)] == [429, 200]
    assert content.text("ask_who") in bot.tg.sent_texts(631)[0]


async def test_the_outbox_gives_up_only_after_hours_and_says_so(
    bot: Bot, all_logs: pytest.LogCaptureFixture
) -> None:
    bot.tg.fail_next("sendMessage", 502, times=10_000)  # Telegram unreachable for good
    await bot.command(632, "start")
    await bot.delivered(timeout=30)
    assert bot.adapter.outbox.dropped == 1
    assert any(r.getMessage() == "telegram_outbox_dropped" for r in all_logs.records)
    assert sum(bot.clock.slept) >= bot.adapter.outbox.policy.max_age


async def test_quick_exit_drops_replies_still_waiting_for_that_chat(bot: Bot) -> None:
    bot.tg.fail_next("sendMessage", 502, times=5)
    await bot.command(633, "start")
    assert bot.adapter.outbox.has(633)
    bot.adapter.outbox.discard(633)  # what /exit and /forget do before anything else
    await bot.delivered()
    assert not _ok_sends(bot, 633)


def test_client_timeouts_are_long_enough_for_a_slow_telegram(bot: Bot) -> None:
    assert SEND_TIMEOUTS.read >= 30 and SEND_TIMEOUTS.write >= 30  # PTB's default of 5 s doubled replies
    assert bot.adapter.timeouts == SEND_TIMEOUTS


async def test_a_slow_send_is_waited_for_not_repeated(bot: Bot, content: Content) -> None:
    release = bot.tg.hold_next("sendMessage")
    update = bot.tg.push_command(640, 640, "urgent")
    await bot.tg.wait_for("sendMessage", chat_id=640)  # Telegram has it, but has not answered yet
    release.set()
    await bot.settle(update)
    assert len(bot.tg.calls("sendMessage", chat_id=640)) == 1
    assert not bot.sleeps  # no retry


async def test_a_send_that_timed_out_is_not_sent_again(
    make_bot: Callable[..., Any], content: Content, all_logs: pytest.LogCaptureFixture
) -> None:
    """The read timeout expires while Telegram (the fake) holds its answer: the message may be there."""
    short = Timeouts(connect=5, read=0.2, write=5, pool=5)  # so that it does expire; nothing is measured
    async with make_bot(timeouts=short) as bot:
        release = bot.tg.hold_next("sendMessage")
        await bot.command(641, "urgent")  # handled: the send timed out and was not repeated
        release.set()
        await bot.delivered()
        assert len(bot.tg.calls("sendMessage", chat_id=641)) == 1
        assert content.text("crisis_title") in bot.tg.sent_texts(641)[0]
        assert any(r.getMessage() == "telegram_send_unconfirmed" for r in all_logs.records)
        calls = await bot.say(641, "childline")  # the chat goes on normally
        assert "Childline" in joined(calls)


async def test_an_update_delivered_again_after_forget_is_not_answered_twice(bot: Bot, content: Content) -> None:
    await bot.command(642, "start")
    forget = bot.tg.push_command(642, 642, "forget")
    await bot.settle(forget)
    before = len(_ok_sends(bot, 642))
    bot.tg.push_duplicate(forget["update_id"])
    await bot.settle(forget, times=2)
    assert len(_ok_sends(bot, 642)) == before


@pytest.mark.parametrize("area", ["kent", "leeds", "national"])
async def test_the_crisis_card_is_one_message(bot: Bot, content: Content, area: str) -> None:
    await bot.command(650, "start", area)
    calls = await bot.say(650, "i want to kill myself")
    crisis = [t for t in texts(calls) if content.text("crisis_title") in t]
    assert len(crisis) == 1
    card = crisis[0]
    for must in ("999", "0800 1111", "Samaritans", "Shout"):
        assert must in card
    assert content.text("crisis_after") in card  # the card's last line is in the same message


def test_every_crisis_card_renders_as_one_piece(content: Content) -> None:
    """Every kind of crisis card in every area, with and without its "carry on" button, fits one message
    with room to spare (the renderer splits only past 4,096 characters)."""
    assistant = Assistant(content, SECRET)
    now = dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.UTC)  # out of hours: the longest contact lines
    for kind in [None, *(content.language.crisis_kinds if content.language else ())]:
        for area in [None, *content.areas]:
            for carry_on in (False, True):
                card = assistant._crisis_card(kind, area, now, carry_on=carry_on)  # noqa: SLF001
                assert card.kind == "crisis"
                assert len(render(card)) == 1, (kind, area)
                assert utf16_len(f"{card.title}\n\n{card.text}") <= MAX_MESSAGE // 2, (kind, area)


# ------------------------------------------------------------------------------------------ flood


async def test_one_flooding_chat_does_not_stall_another(bot: Bot, content: Content) -> None:
    """Chat 660's first reply is held (a slow Telegram) while it sends 300 more; chat 661 still gets its
    answer, chat 660's backlog stays bounded, and words of danger in the flood still get through."""
    processor = bot.app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    release = bot.tg.hold_next("sendMessage")
    first = bot.tg.push_command(660, 660, "start")
    await bot.tg.wait_for("sendMessage", chat_id=660)  # chat 660 is now stuck on its first reply
    for i in range(300):
        bot.tg.push_text(660, 660, f"spam {i}")
    danger = bot.tg.push_text(660, 660, "i want to kill myself")
    calls = await bot.command(661, "start")  # before the fix: never, while chat 660 was stuck
    assert content.text("ask_who") in joined(calls)
    assert processor.backlog(660) <= MAX_CHAT_BACKLOG + 2  # the running one, the waiting ones, danger
    assert processor.dropped >= 300 - MAX_CHAT_BACKLOG - 1
    release.set()
    await bot.settle(first)
    await bot.settle(danger)
    assert any(content.text("crisis_title") in t for t in bot.tg.sent_texts(660))


async def test_a_redelivery_beyond_the_last_sixteen_updates_is_not_answered_again(
    bot: Bot, content: Content
) -> None:
    first = bot.tg.push_command(643, 643, "start")
    await bot.settle(first)
    await bot.choose(643, content.text("who_parent"))
    for _ in range(20):  # more than the session remembers (16 event ids)
        await bot.say(643, "contacts")
    before = len(_ok_sends(bot, 643))
    bot.tg.push_duplicate(first["update_id"])
    await bot.settle(first, times=2)
    assert len(_ok_sends(bot, 643)) == before  # not answered again
    ref = ConversationRef("telegram", str(bot.app.bot.id), "643", "643")
    session = await bot.store.load(bot.adapter.service.key(ref))
    assert session is not None and session.who == "parent"  # and the old /start did not restart it


async def test_a_flood_under_the_service_rate_limit_gets_one_calm_reply_and_others_are_answered(
    make_bot: Callable[..., Any], content: Content
) -> None:
    """As run in production: the service's per-conversation limit (burst 20, clock frozen) on Telegram."""
    async with make_bot(limiter=RateLimiter(20, 2.0, clock=lambda: 0.0)) as bot:
        flood = [bot.tg.push_text(670, 670, f"what do i do {i}") for i in range(45)]  # within the backlog
        danger = bot.tg.push_text(670, 670, "i want to kill myself")
        other = await bot.command(671, "start")
        assert content.text("ask_who") in joined(other)
        for update in [*flood, danger]:
            await bot.settle(update)
        sent = bot.tg.sent_texts(670)
        assert sent.count(content.text("rate_limited")) == 1  # one calm reply, then quiet...
        after = sent[sent.index(content.text("rate_limited")) + 1 :]
        assert len(after) <= 2  # ...but for the crisis card (and its menu)
        assert content.text("crisis_title") in sent[-1] or content.text("crisis_title") in sent[-2]
