"""Corrupt state is contained.

Before: one unreadable row gave that person "Sorry" for 24 hours, ``/forget`` failed too, and
``store stats`` failed for everyone; a corrupt, truncated or foreign state.db gave a 20-line traceback at
start-up. After: the row is dropped (logged by hashed key only) and the person starts again with an apology;
forget and stats always work; a damaged state.db is moved aside and replaced, and a foreign one stops the
start with one sentence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_store_support import REPO, RedisServer, redis_client

from adapters.cli import main
from bot.assistant import Assistant
from bot.service import Service
from bot.store import MOVED_ASIDE, SessionStore, SQLiteStore, StoreStartError
from bot.store.redis import RedisStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content
from tests.clock import FakeClock
from tests.faults_support import log_lines

REF = ConversationRef("telegram", "7000000001", "555000111", "555000111")
SECRET = "fault-suite-secret-0123456789abcdef"

# Values a row may hold after a bad disk, a bad restore or another program writing into the store.
DAMAGED: dict[str, bytes] = {
    "not JSON": b"{\"w\": \"parent\", \"a\"",
    "a JSON list": b"[1, 2, 3]",
    "wrong types": b'{"w": 7, "x": "not pairs"}',
    "bad UTF-8": b"\xff\xfe{\"w\":\"parent\"}",
    "empty": b"",
    "deep nesting": b"[" * 100_000,
}


def _damage(store: SessionStore, key: str, raw: bytes) -> None:
    if isinstance(store, SQLiteStore):
        store._db.execute("UPDATE sessions SET data = ? WHERE key = ?", (raw, key))
    else:
        assert isinstance(store, RedisStore)
        with redis_client(store) as client:
            client.set(store.session_key(key), f"{store.clock() + 3600:.3f} ".encode() + raw, px=3_600_000)


async def _starts_afresh(
    store: SessionStore, content: Content, assistant: Assistant, captured_logs: io.StringIO
) -> None:
    service = Service(assistant, store, SECRET, clock=store.clock)
    first = await service.handle(REF, Inbound("command", command="start", arg="leeds"), event_id="1")
    for n, (name, raw) in enumerate(DAMAGED.items()):
        _damage(store, first.key, raw)
        handled = await service.handle(REF, Inbound("text", text="childline"), event_id=f"2{n}")
        assert handled.reply is not None and handled.fault is None, name
        texts = [r.text for r in handled.reply.replies]
        assert texts[0] == content.text("session_reset"), name  # a short apology...
        assert any("0800 1111" in t for t in texts[1:]), name  # ...then what was asked for
        saved = await store.load(first.key)  # the damaged row was replaced by a fresh one
        assert saved is not None and saved.area is None, name
    unreadable = [line for line in log_lines(captured_logs.getvalue()) if line["event"] == "session_unreadable"]
    assert len(unreadable) == len(DAMAGED)
    assert all(set(line) == {"ts", "level", "logger", "event", "platform", "conv", "backend"} for line in unreadable)
    assert all(line["conv"] == first.key[:12] for line in unreadable)


async def test_an_unreadable_sqlite_row_is_dropped_and_the_person_starts_again(
    tmp_path: Path, content: Content, assistant: Assistant, clock: FakeClock, captured_logs: io.StringIO
) -> None:
    store = SQLiteStore(tmp_path / "state.db", 3600.0, clock)
    try:
        await _starts_afresh(store, content, assistant, captured_logs)
    finally:
        await store.close()


async def test_an_unreadable_redis_value_is_dropped_and_the_person_starts_again(
    own_redis: RedisServer, content: Content, assistant: Assistant, clock: FakeClock, captured_logs: io.StringIO
) -> None:
    store = RedisStore(own_redis.url, 3600.0, clock)
    try:
        await _starts_afresh(store, content, assistant, captured_logs)
    finally:
        await store.close()


async def test_forget_and_stats_work_with_an_unreadable_row(
    tmp_path: Path, content: Content, assistant: Assistant, clock: FakeClock
) -> None:
    store = SQLiteStore(tmp_path / "state.db", 3600.0, clock)
    service = Service(assistant, store, SECRET, clock=clock)
    try:
        other = ConversationRef("telegram", "7000000001", "555000222", "555000222")
        await service.handle(other, Inbound("command", command="start"), event_id="1")
        first = await service.handle(REF, Inbound("command", command="start"), event_id="1")
        _damage(store, first.key, DAMAGED["not JSON"])
        stats = await store.stats()
        assert stats.live == 1  # the readable one; the damaged one is skipped, not fatal
        handled = await service.handle(REF, Inbound("command", command="forget"), event_id="2")
        assert handled.reply is not None and handled.reply.event == "forget"
        assert content.text("forgotten") in [r.text for r in handled.reply.replies]
        assert store._db.execute("SELECT count(*) FROM sessions WHERE key = ?", (first.key,)).fetchone()[0] == 0
        _damage(store, service.key(other), DAMAGED["a JSON list"])
        await service.forget(other)  # the adapters' direct forget never reads the row
        assert (await store.stats()).live == 0
    finally:
        await store.close()


def test_store_stats_command_with_unreadable_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    db = tmp_path / "state.db"
    store = SQLiteStore(db, 3600.0)
    store._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", ("a" * 32, b"\xff garbage", 4e9))
    store._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", ("b" * 32, '{"v":"","c":1800000000}', 4e9))
    asyncio.run(store.close())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YPSI_STORE", f"sqlite://{db}")
    assert main(["store", "stats"]) == 0
    assert json.loads(capsys.readouterr().out)["live_sessions"] == 1


# --------------------------------------------------------------------------- a damaged state.db at start


def _stats_process(db: Path) -> subprocess.CompletedProcess[str]:
    """The real ``ypsi-bot store stats``, as an operator would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YPSI_")}
    env |= {"YPSI_STORE": f"sqlite://{db}", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "adapters", "store", "stats"], capture_output=True, text=True,
                          env=env, cwd=db.parent, timeout=60)


def _truncated(db: Path) -> None:
    store = SQLiteStore(db, 3600.0)
    for n in range(2000):
        store._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (f"{n:032x}", '{"v":"' + "p" * 200 + '"}', 4e9))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    asyncio.run(store.close())
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.truncate(size // 2)


def _garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database at all\n" * 200)


def _zeroed_header(db: Path) -> None:
    store = SQLiteStore(db, 3600.0)
    store._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", ("a" * 32, "{}", 4e9))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    asyncio.run(store.close())
    with open(db, "r+b") as f:
        f.write(b"\0" * 100)


@pytest.mark.parametrize("damage", [_garbage, _truncated, _zeroed_header], ids=["garbage", "truncated", "zeroed"])
def test_a_damaged_state_db_is_moved_aside_at_start(tmp_path: Path, damage: object) -> None:
    db = tmp_path / "state.db"
    assert callable(damage)
    damage(db)
    done = _stats_process(db)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["live_sessions"] == 0 and json.loads(done.stdout)["healthy"] is True
    moved = sorted(tmp_path.glob(f"state.db{MOVED_ASIDE}*"))
    assert moved and moved[0].stat().st_mode & 0o777 == 0o600
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in lines] == ["store_moved_aside"]
    assert lines[0]["moved_to"] == moved[0].name
    # The new file works, and a second start leaves it alone.
    again = _stats_process(db)
    assert again.returncode == 0 and again.stderr == ""
    assert sorted(tmp_path.glob(f"state.db{MOVED_ASIDE}*")) == moved


def test_a_foreign_database_stops_the_start_with_one_sentence(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.commit()
    other.close()
    before = db.read_bytes()
    done = _stats_process(db)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "database of something else" in done.stderr
    assert db.read_bytes() == before  # never moved, never changed
    assert not list(tmp_path.glob(f"state.db{MOVED_ASIDE}*"))


def test_a_moved_aside_file_is_deleted_once_its_state_would_have_expired(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    _garbage(db)
    moved_at = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC).timestamp()
    asyncio.run(SQLiteStore(db, 3600.0, FakeClock(moved_at)).close())
    assert len(list(tmp_path.glob(f"state.db{MOVED_ASIDE}*"))) == 1
    asyncio.run(SQLiteStore(db, 3600.0, FakeClock(moved_at + 3599)).close())
    assert len(list(tmp_path.glob(f"state.db{MOVED_ASIDE}*"))) == 1
    asyncio.run(SQLiteStore(db, 3600.0, FakeClock(moved_at + 3600)).close())
    assert list(tmp_path.glob(f"state.db{MOVED_ASIDE}*")) == []


def test_an_unopenable_state_file_is_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where the state folder should be")
    with pytest.raises(StoreStartError, match="cannot make the folder"):
        SQLiteStore(folder / "state.db")
