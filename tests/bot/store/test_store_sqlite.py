"""SQLite specifics: the files are private to the bot's user, and what is forgotten leaves the disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.session import Session
from bot.store import SQLiteStore, open_store

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
