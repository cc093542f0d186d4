"""One contract, three stores: memory, SQLite and Redis (a real redis-server) honour it alike."""

from __future__ import annotations

import asyncio

import pytest
from test_store_support import SECRET, StoreFactory, everything_stored, record_size, records

from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.session import Preferences, Session
from bot.store import KeyLocks, SessionStore
from bot.types import ConversationRef, Inbound, Option
from tests.clock import FakeClock

K1 = "a" * 32
K2 = "b" * 32


def sample(**changes: object) -> Session:
    base = Session(
        who="practitioner", area="kent", flow="kent", node="age_band",
        answers=[("immediate_danger", "no"), ("adult_involved", "no"), ("aggravating_factors", "yes")],
        version="2026.11.1+ae54db16", created=1_800_000_000.0, updated=1_800_000_123.5,
        seen=["700000001", "700000002"],
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def test_round_trip(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.load(K1) is None
    await store.save(K1, sample())
    assert await store.load(K1) == sample()
    await store.save(K1, sample(node="risk_level", seen=["1", "2", "3"]))
    assert await store.load(K1) == sample(node="risk_level", seen=["1", "2", "3"])
    assert await store.load(K2) is None


async def test_round_trip_survives_reopening(make_store: StoreFactory, store_kind: str) -> None:
    if store_kind == "memory":
        pytest.skip("the memory store is lost with its process by design")
    first = make_store()
    await first.save(K1, sample())
    await first.close()
    assert await make_store().load(K1) == sample()


async def test_expiry_follows_the_injected_clock(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(ttl=100.0)
    await store.save(K1, sample())
    clock.advance(99.9)
    assert await store.load(K1) == sample()
    await store.save(K1, sample(node="risk_level"))  # a save counts the time-to-live from now
    clock.advance(99.9)
    assert await store.load(K1) == sample(node="risk_level")
    clock.advance(0.1)
    assert await store.load(K1) is None
    assert (await store.stats()).live == 0


async def test_forget_removes_every_key_of_the_conversation(make_store: StoreFactory) -> None:
    store = make_store()
    await store.save(K1, sample())
    await store.save(K2, sample(area="leeds"))
    async with store.lock(K1):  # as the service does: forget inside the turn's lock
        await store.forget(K1)
        assert await store.load(K1) is None
    assert records(store, K1) == {}  # no session, no lock: nothing left (Redis: checked by SCAN)
    assert await store.load(K2) == sample(area="leeds")
    await store.forget(K2)  # and outside a lock
    assert records(store, K2) == {}
    await store.forget(K2)  # forgetting twice is fine
    async with store.lock(K1):  # the conversation can start again
        await store.save(K1, sample())
    assert await store.load(K1) == sample()


async def _until_waiting(store: SessionStore, key: str) -> None:
    """Return once a second turn of ``key`` is queued for the lock (the first still holds it)."""
    locks = store._locks  # type: ignore[attr-defined]
    assert isinstance(locks, KeyLocks)
    for _ in range(100):
        if locks._locks.get(key, (None, 0))[1] >= 2:
            return
        await asyncio.sleep(0)
    pytest.fail("the second turn never queued for the lock")


async def test_lock_serialises_turns_of_one_conversation(make_store: StoreFactory) -> None:
    store = make_store()
    order: list[str] = []
    a_inside, a_may_finish = asyncio.Event(), asyncio.Event()

    async def turn(name: str, answer: tuple[str, str], inside: asyncio.Event | None = None,
                   may_finish: asyncio.Event | None = None) -> None:
        async with store.lock(K1):
            order.append(f"{name} in")
            session = await store.load(K1) or Session()
            if inside is not None and may_finish is not None:
                inside.set()
                await may_finish.wait()
            session.answers.append(answer)
            await store.save(K1, session)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("a", ("q1", "yes"), a_inside, a_may_finish))
    await a_inside.wait()
    second = asyncio.create_task(turn("b", ("q2", "no")))
    await _until_waiting(store, K1)
    assert order == ["a in"]  # b is waiting while a holds the conversation
    a_may_finish.set()
    await asyncio.gather(first, second)
    assert order == ["a in", "a out", "b in", "b out"]
    loaded = await store.load(K1)
    assert loaded is not None and loaded.answers == [("q1", "yes"), ("q2", "no")]  # no lost update


async def test_different_conversations_proceed_concurrently(make_store: StoreFactory) -> None:
    store = make_store()
    one_inside, two_inside = asyncio.Event(), asyncio.Event()

    async def hold(key: str, mine: asyncio.Event, other: asyncio.Event) -> None:
        async with store.lock(key):
            mine.set()
            # Each waits, holding its lock, for the other to be inside its own: only possible if the
            # two conversations run at once. The timeout only turns a deadlock into a failure.
            await asyncio.wait_for(other.wait(), timeout=10)

    await asyncio.gather(hold(K1, one_inside, two_inside), hold(K2, two_inside, one_inside))


async def test_lock_is_released_when_the_turn_fails(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(RuntimeError):
        async with store.lock(K1):
            raise RuntimeError("turn failed")
    async with store.lock(K1):  # not left locked
        await store.save(K1, sample())
    assert len(records(store, K1)) == 1  # the session only: no lock left behind


async def test_a_turn_cancelled_while_waiting_for_the_lock_leaves_it_to_the_others(make_store: StoreFactory) -> None:
    store = make_store()
    locks = store._locks  # type: ignore[attr-defined]
    first_inside, first_may_finish = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def turn(name: str, inside: asyncio.Event | None = None) -> None:
        async with store.lock(K1):
            order.append(name)
            if inside is not None:
                inside.set()
                await first_may_finish.wait()

    first = asyncio.create_task(turn("a", first_inside))
    await first_inside.wait()
    cancelled = asyncio.create_task(turn("b"))
    await _until_waiting(store, K1)
    third = asyncio.create_task(turn("c"))
    for _ in range(100):  # until c queues too
        if locks._locks[K1][1] >= 3:
            break
        await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert locks._locks[K1][1] == 2  # a holds it, c waits: b no longer counts
    first_may_finish.set()
    await asyncio.gather(first, third)
    assert order == ["a", "c"]
    assert locks._locks == {}  # nobody holds or waits: nothing kept
    async with store.lock(K1):  # and the conversation can go on
        await store.save(K1, sample())


async def test_stats_count_live_sessions_only(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(ttl=1000.0)
    empty = await store.stats()
    assert (empty.live, empty.oldest_age_s, empty.median_age_s) == (0, 0.0, 0.0)
    start = clock.now
    await store.save("c" * 32, sample(created=start))
    await store.save("d" * 32, sample(created=start))
    clock.advance(600)
    await store.save(K1, sample(created=start + 600))
    clock.advance(500)  # the first two have expired, K1 is 500 s old
    await store.save(K2, sample(created=clock.now - 200))
    stats = await store.stats()
    assert stats.backend == store.backend
    assert (stats.live, stats.oldest_age_s, stats.median_age_s) == (2, 500.0, 350.0)
    assert stats.as_dict() == {"backend": store.backend, "live_sessions": 2,
                               "oldest_age_seconds": 500, "median_age_seconds": 350}


async def test_health(make_store: StoreFactory) -> None:
    assert await make_store().health() is True


# ------------------------------------------------------------------ a typical dialogue through the service

REF = ConversationRef("telegram", "7710044321", "5532187790", "5532187790")
TYPED = "my pupil zebraquartz sent something"


def _choice(replies: list[Option], label: str) -> str:
    return next(o.action for o in replies if o.label == label)


async def run_six_turns(service: Service) -> str:
    """start, I work with children, Kent, typed "No", free text (not understood), No."""
    turns: list[Inbound] = [Inbound("command", command="start")]
    key = ""
    options: list[Option] = []
    plan = ["I work with children", "Kent", None, None, "No"]
    for n in range(6):
        if n == 0:
            inbound = turns[0]
        elif n == 3:
            inbound = Inbound("text", text="no")
        elif n == 4:
            inbound = Inbound("text", text=TYPED)
        else:
            label = plan[n - 1]
            assert label is not None
            inbound = Inbound("action", action=_choice(options, label))
        handled = await service.handle(REF, inbound, event_id=str(846_213_570 + n))
        assert handled.reply is not None and not handled.duplicate
        key = handled.key
        shown = [o for r in handled.reply.replies for o in r.options]
        options = shown + options  # buttons stay on screen: an earlier question's can still be pressed
    return key


async def test_bytes_per_conversation_after_a_typical_dialogue(
    make_store: StoreFactory, assistant: Assistant
) -> None:
    store = make_store()
    service = Service(assistant, store, "deployment-secret")
    key = await run_six_turns(service)
    session = await store.load(key)
    assert session is not None
    assert (session.who, session.area, session.flow) == ("practitioner", "kent", "kent")
    assert session.answers == [("immediate_danger", "no"), ("adult_involved", "no")]
    assert len(session.seen) == 6
    size = record_size(store, key)
    print(f"\n{store.backend}: {size} bytes for one conversation after 6 turns")
    assert 0 < size <= 512


async def test_nothing_identifying_or_typed_is_kept(make_store: StoreFactory, assistant: Assistant) -> None:
    store = make_store()
    service = Service(assistant, store, "deployment-secret")
    await run_six_turns(service)
    kept = everything_stored(store)
    assert kept  # the session is there...
    for raw in (REF.workspace, REF.chat, "zebraquartz", "pupil"):
        assert raw.encode() not in kept  # ...but no raw platform id and nothing the user typed


async def test_slack_practitioner_defaults_are_kept_per_conversation(
    make_store: StoreFactory, assistant: Assistant
) -> None:
    store = make_store()
    service = Service(assistant, store, "deployment-secret")
    ref = ConversationRef("slack", "T0ABCDEF1", "D0ABCDEF2", "U0ABCDEF3")
    defaults = Defaults(who="practitioner", area="leeds", fixed_who=True)
    triage = Inbound("command", command="triage")
    handled = await service.handle(ref, triage, event_id="Ev01", defaults=defaults)
    again = await service.handle(ref, triage, event_id="Ev01", defaults=defaults)
    assert again.duplicate and again.reply is None  # the event id was kept with the session
    session = await store.load(handled.key)
    assert session is not None
    assert (session.who, session.area, session.flow) == ("practitioner", "leeds", "ukcis")


async def test_bytes_per_conversation_at_worst(
    make_store: StoreFactory, assistant: Assistant, clock: FakeClock
) -> None:
    """The largest record the bot can write: the longest ids and answer path in the content, and the most
    event ids it remembers (SEEN_LIMIT, with ages up to a day)."""
    from bot.session import SEEN_LIMIT, SEEN_WINDOW

    content = assistant.content
    store = make_store()
    longest_path = max(
        ((q.id, max((c.id for c in q.choices), key=len)) for f in content.flows.values() for q in f.questions),
        key=lambda answer: len(answer[0]) + len(answer[1]),
    )
    answers = [longest_path] * max(len(f.questions) for f in content.flows.values())
    session = Session(
        who="young_person", area=max(content.areas, key=len), flow=max(content.flows, key=len),
        node=max((n for f in content.flows.values() for n in [*(q.id for q in f.questions),
                  *(o.id for o in f.outcomes)]), key=len),
        answers=answers, version=content.version, created=clock.now, updated=clock.now,
    )
    for n in range(SEEN_LIMIT):  # spread over the day, so every age is five digits
        session.mark_seen(f"{10**12 + n}", clock.now - SEEN_WINDOW + 3600 + n)
    key = "f" * 32
    await store.save(key, session)
    assert (await store.load(key)) == session
    size = record_size(store, key)
    print(f"\n{store.backend}: {size} bytes for one conversation at worst")
    assert size <= 1536


# ------------------------------------------------------------------------------------ preferences


async def test_preferences_round_trip_apart_from_the_session(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.load_preferences(K1) is None
    await store.save_preferences(K1, Preferences(area="leeds"))
    assert await store.load_preferences(K1) == Preferences(area="leeds")
    assert await store.load(K1) is None  # a preference is not a conversation
    await store.save_preferences(K1, Preferences(area="kent"))
    assert await store.load_preferences(K1) == Preferences(area="kent")
    assert await store.load_preferences(K2) is None


async def test_preferences_outlive_the_session_ttl_and_expire_on_their_own(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    store = make_store(ttl=100.0)
    await store.save(K1, sample())
    await store.save_preferences(K1, Preferences(area="leeds"))
    clock.advance(100.0)
    assert await store.load(K1) is None
    assert await store.load_preferences(K1) == Preferences(area="leeds")
    clock.advance(store.preference_ttl - 100.0 - 0.1)
    assert await store.load_preferences(K1) == Preferences(area="leeds")
    clock.advance(0.1)
    assert await store.load_preferences(K1) is None


async def test_forget_removes_the_preferences_too(make_store: StoreFactory) -> None:
    store = make_store()
    await store.save(K1, sample())
    await store.save_preferences(K1, Preferences(area="leeds"))
    await store.save_preferences(K2, Preferences(area="kent"))
    async with store.lock(K1):
        await store.forget(K1)
    assert await store.load_preferences(K1) is None
    assert records(store, K1) == {}
    await store.save_preferences(K1, Preferences(area="leeds"))
    await store.forget(K1)  # a preference alone, with no session, is forgotten as well
    assert records(store, K1) == {}
    assert await store.load_preferences(K2) == Preferences(area="kent")


async def test_preferences_are_stored_under_the_hashed_key_only(make_store: StoreFactory, assistant: Assistant) -> None:
    store = make_store()
    service = Service(assistant, store, SECRET)
    ref = ConversationRef("slack", "T0RAWTEAM", "", "U0RAWUSER")
    defaults = Defaults(who="practitioner", area="national", fixed_who=True, remember_area=True)
    await service.handle(ref, Inbound("command", command="triage", arg="leeds"), defaults=defaults)
    assert await store.load_preferences(service.key(ref)) == Preferences(area="leeds")
    stored = everything_stored(store)
    assert b"U0RAWUSER" not in stored and b"T0RAWTEAM" not in stored
