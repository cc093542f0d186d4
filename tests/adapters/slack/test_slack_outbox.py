"""Issue 11, "Delivery", on Slack: a reply Slack cannot take after slack-sdk's retries waits in the outbox
and arrives later, in order, exactly once. Through the real Bolt app over HTTP on loopback against the fake
Slack Web API; the outbox runs on a virtual clock (its back-off passes at once: no real sleeps, no timing).
"""

from __future__ import annotations

import asyncio
import io

import pytest
from test_slack_harness import DM, TEAM, USER, Harness, Stack, block_text

from benchmarks.fakes.slack_api import RESPONSE_URL, Call
from dialogs.content import Content


def crisis_numbers(text: str) -> None:
    assert "999" in text
    assert "Childline" in text and "0800 1111" in text
    assert "Samaritans" in text and "116 123" in text


def delivered(h: Harness) -> list[Call]:
    """The bot's messages Slack accepted, oldest first."""
    return [c for c in h.fake.calls("chat.postMessage") if c.status == 200 and c.response.get("ok")]


class Gate:
    """An outbox sleep that waits until opened: what is queued stays queued while the test acts."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.open = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        await self.open.wait()
        await self.stack.clock.sleep(delay)



async def test_several_500s_in_a_row_then_the_replies_arrive_in_order_exactly_once(
    h: Harness, stack: Stack, captured_logs: io.StringIO
) -> None:
    expected = await h.dm("childline")  # what the same DMs get when Slack is well
    await h.dm("contacts")
    first, second = (c.params["text"] for c in delivered(h))
    assert first != second
    h.fake.clear_calls()
    h.fake.fail_next("chat.postMessage", status=500, times=6)  # 3 in the turn (the SDK retries twice), 3 later
    gate = Gate(stack)
    h.outbox.sleep = gate  # the outbox waits until both DMs are in

    assert await h.dm("childline") == expected  # answered: the reply waits in the outbox
    assert len(h.outbox) == 1
    assert await h.dm("contacts") != "undelivered"  # a later reply queues behind it
    assert len(h.outbox) == 2
    gate.open.set()
    await h.drained()

    # The deferred reply first, then the later one, each exactly once.
    assert [p.params["text"] for p in delivered(h)] == [first, second]
    assert [c.status for c in h.fake.calls("chat.postMessage")][:6] == [500] * 6
    assert h.outbox.delivered == 2 and h.outbox.dropped == 0
    assert stack.clock.slept and all(s > 0 for s in stack.clock.slept)  # backed off between tries

    logs = captured_logs.getvalue()
    assert '"event":"slack_send_deferred"' in logs and '"event":"slack_outbox_delivered"' in logs
    for secret in ("Childline", USER, TEAM, DM):
        assert secret not in logs, secret


async def test_the_deferred_replies_are_remembered_for_quick_exit(h: Harness) -> None:
    h.fake.fail_next("chat.postMessage", status=503, times=4)
    await h.dm("childline")
    await h.drained()
    assert len(h.fake.messages(DM)) == 1

    assert await h.dm("exit") == "exit"
    await h.settle()
    assert h.fake.messages(DM) == []  # the message the outbox delivered was deleted too


async def test_a_crisis_card_during_an_outage_arrives(h: Harness) -> None:
    h.fake.fail_next("chat.postMessage", status=502, times=8)

    assert await h.dm("I want to kill myself") == "crisis"
    await h.drained()

    card = delivered(h)[0]  # the card first (then the question the conversation was on)
    crisis_numbers(block_text(card.params["blocks"]))
    assert card.params["channel"] == DM


async def test_a_connection_failure_opening_the_dm_is_retried_by_the_outbox(h: Harness) -> None:
    h.fake.fail_next("conversations.open", status=500, times=3)

    assert await h.command("triage leeds") == "start"  # the first question goes to the DM
    await h.drained()

    [question] = delivered(h)
    assert question.params["channel"] == DM


@pytest.mark.parametrize("words, result", [("forget me", "forget"), ("exit", "exit")])
async def test_forget_me_and_quick_exit_discard_what_is_waiting(
    h: Harness, stack: Stack, content: Content, words: str, result: str
) -> None:
    gate = Gate(stack)
    h.outbox.sleep = gate
    h.fake.fail_next("chat.postMessage", status=500, times=3)
    await h.dm("childline")
    assert len(h.outbox) == 1

    assert await h.dm(words) == result

    assert len(h.outbox) == 0
    gate.open.set()
    await h.settle()
    assert all("0800 1111" not in c.params["text"] for c in delivered(h))  # the waiting reply never arrives
    assert h.outbox.delivered == 0


async def test_a_long_retry_after_is_honoured_by_the_outbox(h: Harness, stack: Stack) -> None:
    h.fake.fail_next("chat.postMessage", status=429, retry_after=120, times=2)

    assert await h.dm("childline") == "contact"
    assert stack.slept == []  # not waited out inside the turn (it would hold the conversation)
    await h.drained()

    assert stack.clock.slept == [120.0, 120.0]  # as long as Slack asked, twice
    assert [c.status for c in h.fake.calls("chat.postMessage")] == [429, 429, 200]
    assert len(delivered(h)) == 1


async def test_a_full_queue_keeps_the_crisis_card(h: Harness, stack: Stack) -> None:
    gate = Gate(stack)
    h.outbox.sleep = gate
    h.bot.outbox.policy = type(h.outbox.policy)(per_chat=2)
    h.fake.fail_next("chat.postMessage", status=500, times=3)
    await h.dm("childline")
    assert await h.dm("I want to kill myself") == "crisis"  # the card, then the question (refused: full)
    await h.dm("childline")  # refused too: only the head and a crisis card are left, and both are kept

    assert len(h.outbox) == 2 and h.outbox.dropped >= 2
    gate.open.set()
    await h.drained()
    first, card = delivered(h)
    assert "0800 1111" in first.params["text"]
    crisis_numbers(block_text(card.params["blocks"]))


async def test_an_ephemeral_answer_is_retried_within_the_response_urls_window(h: Harness) -> None:
    h.fake.fail_next(RESPONSE_URL, status=500, times=3)

    assert await h.command("contacts") != "undelivered"
    await h.drained()

    hooks = h.fake.calls(RESPONSE_URL)
    assert [c.status for c in hooks] == [500, 500, 500, 200]
    assert "999" in block_text(hooks[-1].params["blocks"])


async def test_after_the_window_an_ephemeral_crisis_card_falls_back_to_the_dm(h: Harness, stack: Stack) -> None:
    h.fake.fail_next(RESPONSE_URL, status=503, times=1000)

    assert await h.command("I want to kill myself") == "crisis"
    await h.drained()

    assert sum(stack.clock.slept) >= 25 * 60  # retried only while the response_url lasts
    [card] = [c for c in delivered(h) if "Samaritans" in c.params["text"]]
    assert card.params["channel"] == DM
    crisis_numbers(block_text(card.params["blocks"]))


async def test_after_the_window_an_ordinary_ephemeral_answer_is_given_up_with_a_log_line(
    h: Harness, captured_logs: io.StringIO
) -> None:
    h.fake.fail_next(RESPONSE_URL, status=503, times=1000)

    assert await h.command("contacts") != "undelivered"
    await h.drained()

    assert delivered(h) == []
    assert '"event":"slack_outbox_expired"' in captured_logs.getvalue()


async def test_a_reply_that_would_replace_the_question_is_posted_when_the_edit_keeps_failing(h: Harness) -> None:
    question = await h.triage("leeds")
    h.fake.fail_next("chat.update", status=500, times=3)

    await h.press(question, "Start again")
    await h.settle()

    updates = h.fake.calls("chat.update")
    assert [u.status for u in updates] == [500, 500, 500]  # the SDK's retries
    update = updates[-1]
    again = await h.next_call("chat.postMessage")  # the reply is not lost with the edit
    assert again.params["text"] == update.params["text"]
