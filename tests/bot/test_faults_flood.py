"""One conversation's flood is limited, calmly, and a crisis message is never limited away.

A token bucket per conversation (in memory, keyed by the hashed key): ``YPSI_RATE_BURST`` messages at once
(20), then ``YPSI_RATE_PER_SECOND`` (2). The first refused message gets one calm reply; the rest of that run
get none, so the bot does not flood the platform back. The clock is moved by hand: no sleeps.
"""

from __future__ import annotations

import pytest

from bot.action import Nav
from bot.assistant import Assistant
from bot.ratelimit import RateLimiter
from bot.service import Service
from bot.settings import Settings, SettingsError
from bot.store import MemoryStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content
from tests.clock import FakeClock
from tests.faults_support import assert_crisis_card

SECRET = "fault-suite-secret-0123456789abcdef"
ALICE = ConversationRef("slack", "T0FLOOD001", "D0ALICE001", "U0ALICE001")
BOB = ConversationRef("slack", "T0FLOOD001", "D0BOB00001", "U0BOB00001")


def _service(assistant: Assistant, clock: FakeClock) -> Service:
    return Service(assistant, MemoryStore(3600.0, clock), SECRET, clock=clock, limiter=RateLimiter(20, 2.0, clock))


async def test_a_flood_is_limited_calmly_and_others_are_not(
    content: Content, assistant: Assistant, clock: FakeClock
) -> None:
    service = _service(assistant, clock)
    answered = [await service.handle(ALICE, Inbound("text", text="x" * 40_000), event_id=f"a{n}") for n in range(20)]
    assert all(h.fault is None and h.reply is not None for h in answered)
    told = await service.handle(ALICE, Inbound("text", text="x" * 40_000), event_id="a20")
    assert told.fault == "rate_limited" and told.reply is not None
    assert [r.text for r in told.reply.replies] == [content.text("rate_limited")]
    quiet = [await service.handle(ALICE, Inbound("text", text="more"), event_id=f"b{n}") for n in range(50)]
    assert all(h.reply is None and h.fault == "rate_limited" and not h.duplicate for h in quiet)
    other = await service.handle(BOB, Inbound("command", command="help"), event_id="c0")  # someone else
    assert other.fault is None and other.reply is not None and other.reply.event == "help"
    saved = await service.store.load(service.key(ALICE))
    assert saved is not None and not saved.has_seen("b0")  # a refused message changed nothing
    clock.advance(1.0)  # two more a second
    again = [await service.handle(ALICE, Inbound("command", command="help"), event_id=f"d{n}") for n in range(3)]
    assert [h.fault for h in again] == [None, None, "rate_limited"]
    assert again[2].reply is not None  # a new run of refusals is told once again


async def test_a_crisis_message_always_gets_the_card_even_when_limited(
    content: Content, assistant: Assistant, clock: FakeClock
) -> None:
    service = _service(assistant, clock)
    for n in range(25):
        await service.handle(ALICE, Inbound("text", text="hello"), event_id=f"a{n}")
    for n, inbound in enumerate([Inbound("text", text="i want to kill myself"), Inbound("command", command="urgent"),
                                 Inbound("action", action=assistant.button(Nav("urgent")))]):
        handled = await service.handle(ALICE, inbound, event_id=f"c{n}")
        assert handled.fault == "rate_limited"
        assert_crisis_card(handled, content)


def test_the_limiter_forgets_quiet_conversations(clock: FakeClock) -> None:
    limiter = RateLimiter(20, 2.0, clock)
    for n in range(5000):
        limiter.take(f"{n:032x}")
    clock.advance(10.0)  # every bucket has filled up again
    for _ in range(RateLimiter.SWEEP_EVERY):
        limiter.take("a" * 32)
    assert len(limiter) <= 1 + RateLimiter.SWEEP_EVERY


def test_rate_limit_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("YPSI_RATE_BURST", "5")
    monkeypatch.setenv("YPSI_RATE_PER_SECOND", "0.5")
    limiter = Settings().rate_limiter()
    assert (limiter.burst, limiter.rate) == (5.0, 0.5)
    monkeypatch.setenv("YPSI_RATE_BURST", "0")
    with pytest.raises(SettingsError):
        Settings().rate_limiter()
