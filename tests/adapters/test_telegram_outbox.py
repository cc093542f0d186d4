"""The outbox on its own: bounded, in order per chat, backing off on a virtual clock, never silent."""

from __future__ import annotations

import asyncio

from adapters.outbox import Outbox, OutboxPolicy, Outcome, Pending
from tests.clock import VirtualClock


class Script:
    """A sender that fails the first ``failures`` tries, then sends; it records what it sent."""

    def __init__(self, failures: int = 0, wait: float | None = None):
        self.failures = failures
        self.wait = wait
        self.sent: list[tuple[int, str]] = []
        self.tries = 0

    async def __call__(self, item: Pending) -> tuple[Outcome, float | None]:
        self.tries += 1
        if self.tries <= self.failures:
            return "retry", self.wait
        self.sent.append((item.chat_id, item.payload))
        return "sent", None


def outbox(sender: Script, **policy: float) -> tuple[Outbox, VirtualClock]:
    clock = VirtualClock()
    box = Outbox(sender, policy=OutboxPolicy(**policy), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    return box, clock


async def run_until_empty(box: Outbox) -> None:
    await box.start()
    try:
        await asyncio.wait_for(box.wait_empty(), 10)
    finally:
        await box.stop()


async def test_replies_are_sent_in_order_per_chat_after_backing_off() -> None:
    sender = Script(failures=4)
    box, clock = outbox(sender)
    for text in ("a1", "a2", "a3"):
        box.put(1, text)
    box.put(2, "b1")
    await run_until_empty(box)
    assert [t for c, t in sender.sent if c == 1] == ["a1", "a2", "a3"]
    assert ("b1" in [t for _, t in sender.sent])
    assert clock.slept[:1] == [2.0]  # the first try after base_delay, then doubling per chat
    assert box.delivered == 4 and box.dropped == 0


async def test_retry_after_is_honoured() -> None:
    sender = Script(failures=1, wait=120.0)
    box, clock = outbox(sender)
    box.put(1, "x", delay=90.0)
    await run_until_empty(box)
    assert clock.slept == [90.0, 120.0]


async def test_a_full_chat_drops_its_oldest_non_crisis_reply_but_keeps_crisis_cards() -> None:
    box, _ = outbox(Script(), per_chat=3)
    box.put(1, "first")
    box.put(1, "crisis", crisis=True)
    box.put(1, "menu")
    box.put(1, "newer")  # full: "menu" (oldest non-crisis after the head) makes room
    assert box.dropped == 1 and len(box) == 3
    box.put(1, "crisis 2", crisis=True)  # full again: "newer" goes
    assert box.dropped == 2
    box.put(1, "crisis 3", crisis=True)  # only the head and crisis cards left: the new one is refused
    assert box.dropped == 3 and len(box) == 3


async def test_capacity_is_bounded_across_chats_and_discard_forgets_a_chat() -> None:
    box, _ = outbox(Script(), capacity=2)
    box.put(1, "a")
    box.put(2, "b")
    box.put(3, "c")
    assert len(box) == 2 and box.dropped == 1 and not box.has(3)
    assert box.discard(1) == 1 and not box.has(1) and len(box) == 1


async def test_a_reply_too_old_is_given_up_with_a_count() -> None:
    box, clock = outbox(Script(failures=10_000), max_age=600.0, max_delay=60.0)
    box.put(1, "x")
    await run_until_empty(box)
    assert box.dropped == 1 and box.delivered == 0
    assert sum(clock.slept) > 600.0


async def test_a_failing_sender_does_not_stop_the_outbox() -> None:
    calls = 0

    async def broken(item: Pending) -> tuple[Outcome, float | None]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        return "sent", None

    clock = VirtualClock()
    box = Outbox(broken, clock=clock, sleep=clock.sleep)
    box.put(1, "x")
    await run_until_empty(box)
    assert box.delivered == 1
