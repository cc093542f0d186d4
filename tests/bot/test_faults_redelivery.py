"""Re-deliveries and lost state.

* The dedupe window is kept in time, not a count. Before: a re-delivery beyond the last 16 update ids was
  answered again (Telegram re-sends everything after the last confirmed update, up to 100 at a time, for 24
  hours). After: ids are kept for 24 hours, up to 64 per conversation so the record stays small.
* After a Redis FLUSHALL, an old button no longer restarts the conversation silently: "That menu has
  expired" and the current screen.
"""

from __future__ import annotations

from test_store_support import RedisServer

from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.session import SEEN_LIMIT, SEEN_WINDOW, Session
from bot.store import MemoryStore
from bot.store.redis import RedisStore
from bot.types import ConversationRef, Inbound, Outbound
from dialogs.content import Content
from tests.clock import FakeClock

SECRET = "fault-suite-secret-0123456789abcdef"
REF = ConversationRef("telegram", "7000000001", "555000444", "555000444")
SLACK = ConversationRef("slack", "T0FLUSH001", "D0FLUSH001", "U0FLUSH001")
PRACTITIONER = Defaults(who="practitioner", area="national", fixed_who=True)


async def test_a_redelivery_beyond_sixteen_updates_is_still_recognised(
    assistant: Assistant, clock: FakeClock
) -> None:
    service = Service(assistant, MemoryStore(10 * SEEN_WINDOW, clock), SECRET, clock=clock)
    for n in range(40):  # a batch of updates from one chat, handled once each
        handled = await service.handle(REF, Inbound("command", command="help"), event_id=str(9000 + n))
        assert not handled.duplicate
        clock.advance(60)
    again = await service.handle(REF, Inbound("command", command="help"), event_id="9000")  # 40 updates later
    assert again.duplicate and again.reply is None
    clock.advance(SEEN_WINDOW)  # 24 hours on: the platform no longer re-delivers it
    later = await service.handle(REF, Inbound("command", command="help"), event_id="9000")
    assert not later.duplicate


def test_the_window_is_bounded_in_count_too() -> None:
    session = Session()
    for n in range(3 * SEEN_LIMIT):
        session.mark_seen(str(n), 1_800_000_000.0 + n)
    assert len(session.seen) == len(session.seen_at) == SEEN_LIMIT
    assert session.has_seen(str(3 * SEEN_LIMIT - 1)) and not session.has_seen("0")
    session.mark_seen("late", 1_800_000_000.0 + SEEN_WINDOW + 3 * SEEN_LIMIT - 10)
    assert len(session.seen) == 10  # only the last 24 hours


def test_records_from_before_the_time_window_are_read(clock: FakeClock) -> None:
    old = '{"v":"x","c":1800000000,"u":1800000100,"s":["abcdef","ghijkl"]}'  # digests without times
    session = Session.loads(old)
    assert session.seen == ["abcdef", "ghijkl"] and session.seen_at == [1_800_000_100.0] * 2
    assert Session.loads(session.dumps()) == session


def _texts(replies: list[Outbound]) -> list[str]:
    return [r.text for r in replies]


async def test_an_old_button_after_flushall_says_the_menu_expired(
    own_redis: RedisServer, content: Content, assistant: Assistant
) -> None:
    store = RedisStore(own_redis.url, 3600.0)
    service = Service(assistant, store, SECRET)
    try:
        first = await service.handle(SLACK, Inbound("command", command="triage"), event_id="1", defaults=PRACTITIONER)
        assert first.reply is not None
        question = first.reply.replies[-1]
        answer = [o for o in question.options if not o.nav][-1]
        moved = await service.handle(SLACK, Inbound("action", action=answer.action), event_id="2",
                                     defaults=PRACTITIONER)
        assert moved.reply is not None and moved.reply.event == "answer"
        back = next(o for o in moved.reply.replies[-1].options if o.label == content.text("nav_back"))
        with own_redis.client() as client:
            client.flushall()
        for n, option in enumerate((back, answer)):  # "Back" and an answer from the old screens
            handled = await service.handle(SLACK, Inbound("action", action=option.action), event_id=f"3{n}",
                                           defaults=PRACTITIONER)
            assert handled.reply is not None and handled.reply.event == "expired_action"
            texts = _texts(handled.reply.replies)
            assert texts[0] == content.text("menu_expired")
            assert handled.reply.replies[-1].options  # and the current screen: the first question
            assert texts[-1] == _texts(first.reply.replies)[-1]
            with own_redis.client() as client:
                client.flushall()
    finally:
        await store.close()
