"""A failing store never costs anyone the crisis card, and nothing fails silently.

Each fault is made for real where it can be on loopback: a redis-server stopped mid-conversation, a SQLite
file that is full (``max_page_count``) or read-only (``query_only``); and with a wrapper that makes each
store operation (lock, load, save, forget) fail as a full disk does. Before: the reply was dropped (Slack
sent nothing, Telegram "Sorry… call 999"). After: the crisis card, or "something went wrong on our side"
with 999 and Childline; nothing saved; ``/healthz`` reports it.
"""

from __future__ import annotations

import asyncio
import io
import signal
import sqlite3
from pathlib import Path

import pytest
from test_store_support import RedisServer

from bot.action import Nav
from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.store import MemoryStore, SQLiteStore
from bot.store.redis import RedisStore, StoreBusyError
from bot.types import ConversationRef, Inbound
from dialogs.content import Content
from tests.clock import FakeClock
from tests.faults_support import OPERATIONS, FaultyStore, assert_crisis_card, log_lines

REF = ConversationRef("slack", "T0FAULTS01", "D0FAULTS01", "U0FAULTS01")
SLACK = Defaults(who="practitioner", area="national", fixed_who=True)
CRISIS = "I want to kill myself"
SECRET = "fault-suite-secret-0123456789abcdef"

CRISIS_INBOUNDS = {
    "typed": Inbound("text", text=CRISIS),
    "caption": Inbound("media", media="photo", text=CRISIS),
    "/urgent": Inbound("command", command="urgent"),
}


def assert_store_down_reply(handled: object, content: Content) -> None:
    from bot.service import Handled

    assert isinstance(handled, Handled) and handled.reply is not None and handled.fault == "store"
    assert [r.text for r in handled.reply.replies] == [content.text("store_down")]
    assert "999" in content.text("store_down") and "0800 1111" in content.text("store_down")


# ------------------------------------------------------------------------- Redis stopped mid-conversation


async def test_redis_stopped_mid_conversation(
    own_redis: RedisServer, content: Content, assistant: Assistant, captured_logs: io.StringIO
) -> None:
    store = RedisStore(own_redis.url, 3600.0, timeout=2.0)
    service = Service(assistant, store, SECRET)
    try:
        started = await service.handle(REF, Inbound("command", command="triage"), event_id="Ev1", defaults=SLACK)
        assert started.fault is None and await service.healthy()
        own_redis.process.terminate()
        own_redis.process.wait(timeout=10)

        for name, inbound in CRISIS_INBOUNDS.items():
            handled = await service.handle(REF, inbound, event_id=f"Ev-{name}", defaults=SLACK)
            assert_crisis_card(handled, content)
            assert handled.fault == "store"
        urgent_button = assistant.button(Nav("urgent"))
        pressed = await service.handle(REF, Inbound("action", action=urgent_button), defaults=SLACK)
        assert_crisis_card(pressed, content)

        other = await service.handle(REF, Inbound("text", text="what is the EDT number"), defaults=SLACK)
        assert_store_down_reply(other, content)
        forget = await service.handle(REF, Inbound("command", command="forget"), defaults=SLACK)
        assert_store_down_reply(forget, content)  # never "Done, forgotten" when it was not
        assert not await service.healthy()  # what /healthz reports
    finally:
        await store.close()
    lines = log_lines(captured_logs.getvalue())
    failures = [line for line in lines if line["event"] == "store_failed"]
    assert failures and all(line["conv"] == started.key[:12] for line in failures)
    assert all(line["error"] in ("ConnectionError", "TimeoutError") for line in failures)
    logged = captured_logs.getvalue()
    assert CRISIS not in logged and "kill" not in logged and "EDT" not in logged


async def test_a_hung_redis_cannot_hold_back_the_crisis_card(
    own_redis: RedisServer, content: Content, assistant: Assistant
) -> None:
    """Redis stopped with SIGSTOP answers nothing and refuses nothing (like a network partition): a crisis
    turn gives the card after ``crisis_store_wait``, not after the client's timeouts and retries."""
    store = RedisStore(own_redis.url, 3600.0, timeout=30.0)
    service = Service(assistant, store, SECRET)
    service.crisis_store_wait = 0.05
    try:
        first = await service.handle(REF, Inbound("command", command="triage"), event_id="Ev1", defaults=SLACK)
        own_redis.process.send_signal(signal.SIGSTOP)
        try:
            handled = await service.handle(REF, Inbound("text", text=CRISIS), event_id="Ev2", defaults=SLACK)
            assert_crisis_card(handled, content)
            assert handled.fault == "store" and service.late_turns
            assert not await store.health()  # noted, though the probe would hang too: it is not asked
        finally:
            own_redis.process.send_signal(signal.SIGCONT)
        await asyncio.gather(*service.late_turns)  # the turn finishes once Redis answers again...
        saved = await store.load(first.key)
        assert saved is not None and saved.has_seen("Ev2")  # ...and is saved like any other
    finally:
        await store.close()


# ------------------------------------------------------------------------------- full disk, read-only


def _filled(path: Path, clock: FakeClock) -> SQLiteStore:
    """A SQLite store whose file may not grow any more and has no room left: SQLite answers SQLITE_FULL."""
    store = SQLiteStore(path, 3600.0, clock)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    filler = '{"v":"%s"}' % ("p" * 40)  # expired rows that only take space
    with pytest.raises(sqlite3.OperationalError, match="full"):  # the fault is real
        for n in range(10_000):
            store._db.execute("INSERT INTO sessions VALUES (?, ?, 0)", (f"filler{n:026d}", filler))
    return store


async def test_full_sqlite_file(tmp_path: Path, content: Content, assistant: Assistant, clock: FakeClock) -> None:
    store = _filled(tmp_path / "state.db", clock)
    service = Service(assistant, store, SECRET, clock=clock)
    try:
        crisis = await service.handle(REF, Inbound("text", text=CRISIS), event_id="Ev1")
        assert_crisis_card(crisis, content)
        other = await service.handle(REF, Inbound("command", command="start"), event_id="Ev2")
        assert_store_down_reply(other, content)
        assert await store.load(other.key) is None  # nothing half-written
        assert not await service.healthy()
        store._db.execute("DELETE FROM sessions WHERE expires = 0")  # space again
        again = await service.handle(REF, Inbound("command", command="start"), event_id="Ev2")
        assert again.fault is None and await store.load(again.key) is not None
        assert await service.healthy()  # a successful turn clears the fault
    finally:
        await store.close()


async def test_read_only_sqlite(tmp_path: Path, content: Content, assistant: Assistant, clock: FakeClock) -> None:
    store = SQLiteStore(tmp_path / "state.db", 3600.0, clock)
    service = Service(assistant, store, SECRET, clock=clock)
    try:
        first = await service.handle(REF, Inbound("command", command="start", arg="kent"), event_id="Ev1")
        before = await store.load(first.key)
        store._db.execute("PRAGMA query_only = ON")  # SQLite refuses every write: SQLITE_READONLY
        crisis = await service.handle(REF, Inbound("text", text=CRISIS), event_id="Ev2")
        assert_crisis_card(crisis, content)
        other = await service.handle(REF, Inbound("text", text="parent"), event_id="Ev3")
        assert_store_down_reply(other, content)
        assert await store.load(first.key) == before
        assert not await service.healthy()
        clock.advance(store.FAULT_MEMORY)  # a fault is not held against the store for ever
        assert await service.healthy()
    finally:
        await store.close()


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_each_store_operation_failing(
    operation: str, content: Content, assistant: Assistant, clock: FakeClock, captured_logs: io.StringIO
) -> None:
    store = FaultyStore(MemoryStore(3600.0, clock))
    service = Service(assistant, store, SECRET, clock=clock)
    first = await service.handle(REF, Inbound("command", command="start"), event_id="Ev1")
    store.failing = {operation}
    crisis = await service.handle(REF, Inbound("text", text=CRISIS), event_id="Ev2")
    assert_crisis_card(crisis, content)  # (a crisis turn forgets nothing, so with forget failing it is whole)
    before = await store.inner.load(first.key)
    # forget is only called for a turn that forgets
    inbound = Inbound("command", command="forget") if operation == "forget" else Inbound("text", text="parent")
    other = await service.handle(REF, inbound, event_id="Ev3")
    assert_store_down_reply(other, content)
    assert await store.inner.load(first.key) == before  # nothing changed
    assert not await service.healthy()
    store.failing = set()
    retried = await service.handle(REF, inbound, event_id="Ev3")  # the platform's retry is handled as new
    assert retried.fault is None and not retried.duplicate and await service.healthy()
    failed = [line for line in log_lines(captured_logs.getvalue()) if line["event"] == "store_failed"]
    assert [line["error"] for line in failed] == ["OSError"] * (1 if operation == "forget" else 2)
    assert all(set(line) == {"ts", "level", "logger", "event", "platform", "conv", "backend", "error"}
               for line in failed)


async def test_a_conversation_locked_too_long(content: Content, assistant: Assistant, clock: FakeClock) -> None:
    store = FaultyStore(MemoryStore(3600.0, clock), StoreBusyError("locked"))
    store.failing = {"lock"}
    service = Service(assistant, store, SECRET, clock=clock)
    assert_crisis_card(await service.handle(REF, Inbound("text", text=CRISIS)), content)
    assert_store_down_reply(await service.handle(REF, Inbound("command", command="help")), content)


async def test_peek_never_raises_for_the_store(content: Content, assistant: Assistant, clock: FakeClock) -> None:
    """What an adapter reads outside a turn (Slack's App Home reads the area) survives a failing store."""
    store = FaultyStore(MemoryStore(3600.0, clock))
    service = Service(assistant, store, SECRET, clock=clock)
    await service.handle(REF, Inbound("command", command="triage", arg="leeds"), defaults=SLACK)
    peeked = await service.peek(REF)
    assert peeked is not None and peeked.area == "leeds"
    store.inner._data[service.key(REF)] = ("[not a session", clock.now + 3600)  # type: ignore[attr-defined]
    assert await service.peek(REF) is None
    store.failing = {"load"}
    assert await service.peek(REF) is None and not await service.healthy()
