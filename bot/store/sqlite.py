"""The embedded default: SQLite in WAL mode, one file, one process."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from collections import OrderedDict
from logging import WARNING
from pathlib import Path

from bot.logs import log
from bot.session import Preferences, Session
from bot.store.base import (
    DEFAULT_TTL,
    Clock,
    KeyLocks,
    SessionStore,
    StoreStartError,
    StoreStats,
    created_of,
    stats_of,
)

SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # primary result codes: a damaged file, or not a database at all
# Tables slack-sdk's SQLite installation and OAuth state stores keep in the same file (HTTP mode with OAuth).
SLACK_TABLES = frozenset({"slack_installations", "slack_bots", "oauth_states"})
CACHE_KIB = 16 * 1024  # the page cache's limit
MOVED_ASIDE = ".corrupt-"  # state.db.corrupt-20261130T010203Z: a damaged state file, moved aside at start-up


class SQLiteStore(SessionStore):
    """SQLite in WAL mode: safe for one process with many concurrent conversations.

    Each save is one committed transaction, so a kill -9 loses at most the turn in flight and never
    corrupts the file. Expired rows are invisible at once and purged every few hundred writes, at most once a
    minute: the purge scans the whole table (about 25 ms at 100,000 rows), so on a busy bot purging every 500
    writes would cost more per turn the more conversations there are.
    """

    backend = "sqlite"
    PURGE_EVERY = 500
    RECENT = 1024  # conversations whose session is kept parsed beside its record
    PURGE_MIN_INTERVAL = 60.0  # seconds

    def __init__(self, path: str | Path, ttl: float = DEFAULT_TTL, clock: Clock = time.time):
        super().__init__(ttl, clock)
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreStartError(
                f"cannot make the folder for the state file {self.path} ({type(exc).__name__}): set YPSI_STORE."
            ) from None
        self._drop_old_moved_aside()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if (exc.sqlite_errorcode & 0xFF) not in (SQLITE_CORRUPT, SQLITE_NOTADB):
                raise self._cannot_open(exc) from None
            # Corrupt, truncated or not a database at all: it holds only hours-long state, so it is moved
            # aside (never deleted here, never read again) and a new file takes its place.
            moved = self._move_aside()
            log("store_moved_aside", WARNING, backend=self.backend, error=exc.sqlite_errorname, moved_to=moved)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as again:
                raise self._cannot_open(again) from None
        self._locks = KeyLocks()
        self._writes = 0
        self._purged = 0.0
        # Sessions as last read or written, with their record: a record read back unchanged (the usual case,
        # from one turn to the next) is not parsed again. Only what the table holds, for RECENT conversations.
        self._recent: OrderedDict[str, tuple[bytes, Session]] = OrderedDict()
        self.purge()

    def _check_ours(self) -> None:
        """Before anything is changed: refuse another program's database (read-only look)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            tables = {t for t in tables if not t.startswith("sqlite_")}
            columns = [r[1] for r in db.execute("PRAGMA table_info(sessions)")]
        finally:
            db.close()
        if tables - {"sessions", "preferences", *SLACK_TABLES} or (tables and columns != ["key", "data", "expires"]):
            raise StoreStartError(
                f"{self.path} is a database of something else, not ypsi-bot's state: "
                "point YPSI_STORE at a file of its own."
            )

    def _open(self) -> sqlite3.Connection:
        self._check_ours()
        # Private before SQLite opens it: SQLite gives the -wal and -shm files (recent turns) the db's mode.
        with contextlib.suppress(OSError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.chmod(f"{self.path}{suffix}", 0o600)
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        db.text_factory = bytes  # records are decoded by Session.loads, so a bad one is a CorruptSession
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
            # A page cache (at most 16 MiB) that holds the pages of about a thousand conversations active at
            # once among 100,000 kept; SQLite's default (2 MiB) made each turn read its page back from the OS.
            db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            check = db.execute("PRAGMA quick_check").fetchall()
            if [bytes(r[0]) for r in check] != [b"ok"]:
                error = sqlite3.DatabaseError("quick_check failed")
                error.sqlite_errorcode, error.sqlite_errorname = SQLITE_CORRUPT, "SQLITE_CORRUPT"
                raise error
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL)"
                " WITHOUT ROWID"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS preferences"
                " (key TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
            )
        except BaseException:
            db.close()
            raise
        return db

    def _cannot_open(self, exc: sqlite3.Error) -> StoreStartError:
        name = getattr(exc, "sqlite_errorname", type(exc).__name__)
        return StoreStartError(
            f"cannot open the state file {self.path} ({name}): check that its folder is writable and the disk "
            "has space, or set YPSI_STORE."
        )

    def _move_aside(self) -> str:
        """Rename the file (and its -wal and -shm) to ``<name>.corrupt-<UTC time>``; returns the new name."""
        stamp = dt.datetime.fromtimestamp(self.clock(), dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}{MOVED_ASIDE}{stamp}")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{target}{suffix}")
                os.chmod(f"{target}{suffix}", 0o600)  # it may hold recent state: private, like the original
        return target.name

    def _drop_old_moved_aside(self) -> None:
        """A file moved aside more than one time-to-live ago holds only expired state: delete it."""
        for old in self.path.parent.glob(f"{self.path.name}{MOVED_ASIDE}*"):
            stamp = old.name.removeprefix(f"{self.path.name}{MOVED_ASIDE}")[:16]
            try:
                moved = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp()
            except ValueError:
                continue
            if moved + self.ttl <= self.clock():
                with contextlib.suppress(OSError):
                    old.unlink()

    def purge(self) -> int:
        self._purged = self.clock()
        cur = self._db.execute("DELETE FROM sessions WHERE expires <= ?", (self._purged,))
        self._db.execute("DELETE FROM preferences WHERE expires <= ?", (self._purged,))
        return cur.rowcount

    async def load(self, key: str) -> Session | None:
        row = self._db.execute(
            "SELECT data FROM sessions WHERE key = ? AND expires > ?", (key, self.clock())
        ).fetchone()
        if not row:
            return None
        raw = row[0]
        known = self._recent.get(key)
        if known is not None and known[0] == raw:
            self._recent.move_to_end(key)
            return known[1].copy()
        session = Session.loads(raw)  # CorruptSession for a bad record
        self._remember(key, raw, session.copy())
        return session

    async def save(self, key: str, session: Session) -> None:
        raw = session.dumps()
        self._db.execute(
            "INSERT INTO sessions (key, data, expires) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
            (key, raw, self.clock() + self.ttl),
        )
        self._remember(key, raw.encode(), session.copy())  # as it is read back (text_factory=bytes)
        self._writes += 1
        if self._writes % self.PURGE_EVERY == 0 and self.clock() - self._purged >= self.PURGE_MIN_INTERVAL:
            self.purge()

    def _remember(self, key: str, raw: bytes, session: Session) -> None:
        self._recent[key] = (raw, session)
        self._recent.move_to_end(key)
        if len(self._recent) > self.RECENT:
            self._recent.popitem(last=False)

    async def forget(self, key: str) -> None:
        self._recent.pop(key, None)
        self._db.execute("BEGIN")
        try:
            self._db.execute("DELETE FROM sessions WHERE key = ?", (key,))
            self._db.execute("DELETE FROM preferences WHERE key = ?", (key,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        # The row is zeroed (secure_delete); a truncating checkpoint also drops its older copies in the WAL.
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def forget_prefix(self, prefix: str) -> int:
        if not prefix.isalnum():  # hex digits: nothing LIKE would read as a pattern
            raise ValueError("a key prefix is hex digits")
        for key in [k for k in self._recent if k.startswith(prefix)]:
            del self._recent[key]
        self._db.execute("BEGIN")
        try:
            gone = self._db.execute("DELETE FROM sessions WHERE key LIKE ?", (prefix + "%",)).rowcount
            gone += self._db.execute("DELETE FROM preferences WHERE key LIKE ?", (prefix + "%",)).rowcount
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(gone)

    async def load_preferences(self, key: str) -> Preferences | None:
        row = self._db.execute(
            "SELECT data FROM preferences WHERE key = ? AND expires > ?", (key, self.clock())
        ).fetchone()
        return Preferences.loads(row[0]) if row else None

    async def save_preferences(self, key: str, preferences: Preferences) -> None:
        self._db.execute(
            "INSERT INTO preferences (key, data, expires) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
            (key, preferences.dumps(), self.clock() + self.preference_ttl),
        )

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._locks(key)

    async def stats(self) -> StoreStats:
        now = self.clock()
        rows = self._db.execute("SELECT data FROM sessions WHERE expires > ?", (now,)).fetchall()
        created = [created_of(r[0]) for r in rows]
        return stats_of(self.backend, [c for c in created if c is not None], now)

    async def probe(self) -> bool:
        """The table answers and the file, and its folder, may be written (cheap: no scan of the table)."""
        try:
            self._db.execute("SELECT 1 FROM sessions LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return all(os.access(p, os.W_OK) for p in (self.path, self.path.parent))

    async def close(self) -> None:
        self._db.close()


def default_sqlite_path() -> Path:
    """A per-user data path: $XDG_STATE_HOME/ypsi-bot/state.db (or ~/.local/state/...)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ypsi-bot" / "state.db"
