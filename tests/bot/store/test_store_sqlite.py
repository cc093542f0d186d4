"""SQLite specifics: the files are private to the bot's user, and what is forgotten leaves the disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.session import Session
from bot.store import SQLiteStore, open_store
from bot.store.sqlite import CACHE_KIB
from tests.clock import FakeClock

KEY = "5e55104c0ffee0ddba11f00d5eedcafe"
MARKER = "harm_vulnerability_or_no_consent"


def files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + "*"))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
async def test_database_and_its_wal_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "state" / "state.db"
    store = SQLiteStore(db)
    try:
        await store.save(KEY, Session(flow="kent", node=MARKER))
        names = {p.name for p in files(db)}
        assert {"state.db", "state.db-wal"} <= names  # WAL mode: the recent turns live in the -wal file
        for path in files(db):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        await store.close()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
async def test_a_database_made_before_with_loose_modes_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = SQLiteStore(db)
    await first.save(KEY, Session(flow="kent"))
    await first.close()
    os.chmod(db, 0o644)
    store = SQLiteStore(db)
    try:
        await store.save(KEY, Session(flow="ukcis"))
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files(db))
    finally:
        await store.close()


async def test_forgotten_state_leaves_the_files(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = open_store(f"sqlite://{db}")
    assert isinstance(store, SQLiteStore)
    try:
        for n in range(5):  # several versions of the session, as turns go by
            await store.save(KEY, Session(who="parent", area="leeds", flow="kent", node=MARKER, seen=[str(n)]))
        assert any(MARKER.encode() in p.read_bytes() for p in files(db))
        await store.forget(KEY)
        for path in files(db):
            data = path.read_bytes()
            assert MARKER.encode() not in data and KEY.encode() not in data, path.name
    finally:
        await store.close()


def rows(store: SQLiteStore) -> int:
    """Rows in the file, expired or not (what a purge removes)."""
    return int(store._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])


async def test_expired_rows_are_purged_every_few_hundred_writes_at_most_once_a_minute(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "state.db", ttl=30, clock=clock)
    try:
        for n in range(10):
            await store.save(f"{n:032x}", Session(flow="kent"))
        clock.advance(61)  # all ten expired, a minute after the purge at opening: still in the file
        assert await store.load(f"{0:032x}") is None and rows(store) == 10
        other = "f" * 32
        for _ in range(store.PURGE_EVERY - 11):
            await store.save(other, Session(flow="kent"))
        assert rows(store) == 11  # not yet
        await store.save(other, Session(flow="kent"))  # the PURGE_EVERY-th write since the store opened
        assert rows(store) == 1 and await store.load(other) is not None
        await store.save(f"{1:032x}", Session(flow="kent"))  # PURGE_EVERY writes from here to each check
        clock.advance(31)  # expired, but only 31 s after the last purge
        for _ in range(store.PURGE_EVERY - 1):  # within a minute of the last purge
            await store.save(other, Session(flow="kent"))
        assert rows(store) == 2
        clock.advance(store.PURGE_MIN_INTERVAL - 31)
        for _ in range(store.PURGE_EVERY + 1):
            await store.save(other, Session(flow="kent"))
        assert rows(store) == 1  # the expired one went, the one written a moment ago stays
    finally:
        await store.close()


async def test_the_page_cache_holds_a_busy_bots_working_set(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    try:
        assert store._db.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB  # KiB, not SQLite's 2 MiB
    finally:
        await store.close()


async def test_a_session_read_back_unchanged_is_not_parsed_again_but_is_still_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    try:
        await store.save(KEY, Session(who="parent", area="kent", answers=[("q", "a")]))
        parsed: list[str] = []
        real = Session.loads.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(Session, "loads", classmethod(lambda cls, raw: parsed.append(raw) or real(cls, raw)))
        first = await store.load(KEY)
        assert first is not None and first.answers == [("q", "a")] and parsed == []  # from what was written
        first.answers.append(("changed", "in a turn that then failed"))
        again = await store.load(KEY)
        assert again is not None and again.answers == [("q", "a")]  # the failed turn changed nothing
        # written by someone else (another process on the same file): read from the record, not the memory
        other = SQLiteStore(tmp_path / "state.db")
        await other.save(KEY, Session(who="young_person", area="leeds"))
        await other.close()
        fresh = await store.load(KEY)
        assert fresh is not None and fresh.who == "young_person" and len(parsed) == 1
        await store.forget(KEY)
        assert await store.load(KEY) is None and KEY not in store._recent
    finally:
        await store.close()
