"""Where conversation state lives: one interface, an in-memory store (tests, console), SQLite (the
embedded default) and Redis (several processes; see :mod:`bot.store_redis`).

Only :class:`~bot.session.Session` records are kept, under a keyed hash of the conversation reference, with
a time-to-live. Every store offers a per-conversation lock so that turns of one conversation never
interleave, while different conversations run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import os
import sqlite3
import statistics
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from logging import WARNING
from pathlib import Path
from typing import Any

from bot.logs import log
from bot.session import CorruptSession, Preferences, Session
from bot.types import ConversationRef

Clock = Callable[[], float]
DEFAULT_TTL = 24 * 3600.0
# A preference (Slack's area) is not a conversation: it is kept a year after it was last chosen or used.
PREFERENCE_TTL = 365 * 24 * 3600.0
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # primary result codes: a damaged file, or not a database at all
# Tables slack-sdk's SQLite installation and OAuth state stores keep in the same file (HTTP mode with OAuth).
SLACK_TABLES = frozenset({"slack_installations", "slack_bots", "oauth_states"})
MOVED_ASIDE = ".corrupt-"  # state.db.corrupt-20261130T010203Z: a damaged state file, moved aside at start-up


def conversation_key(ref: ConversationRef, secret: str) -> str:
    """The store key for a conversation: a keyed hash, so raw platform ids are never at rest. It begins with
    :func:`workspace_prefix`, so that a workspace's data can be deleted together (a Slack app uninstalled)."""
    raw = "\x1f".join((ref.platform, ref.workspace, ref.chat, ref.user)).encode()
    return workspace_prefix(ref.platform, ref.workspace, secret) + hmac.new(
        secret.encode(), raw, hashlib.sha256
    ).hexdigest()[:24]


def workspace_prefix(platform: str, workspace: str, secret: str) -> str:
    """The first 8 hex digits of every conversation key of one workspace (a keyed hash too)."""
    raw = "\x1f".join(("workspace", platform, workspace)).encode()
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()[:8]


@dataclass(frozen=True)
class StoreStats:
    """Counts and ages only: nothing that identifies anyone."""

    live: int
    oldest_age_s: float
    median_age_s: float
    backend: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "live_sessions": self.live,
            "oldest_age_seconds": round(self.oldest_age_s),
            "median_age_seconds": round(self.median_age_s),
        }


class StoreStartError(ValueError):
    """The store cannot be opened as configured; the message is one sentence for the person starting the bot."""


def created_of(raw: str | bytes) -> float | None:
    """When a stored record's conversation started, or ``None`` for an unreadable record (``store stats``
    counts only what it can read, and never fails on a bad record)."""
    try:
        return Session.loads(raw).created
    except CorruptSession:
        return None


def _stats(backend: str, created: list[float], now: float) -> StoreStats:
    ages = [max(0.0, now - c) for c in created]
    return StoreStats(len(ages), max(ages, default=0.0), statistics.median(ages) if ages else 0.0, backend)


class _KeyLocks:
    """asyncio locks per key, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class SessionStore(ABC):
    """The contract every store honours (tested by one suite against each)."""

    backend = "abstract"

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Clock = time.time):
        self.ttl = ttl
        self.clock = clock
        self.preference_ttl = PREFERENCE_TTL

    @abstractmethod
    async def load(self, key: str) -> Session | None:
        """The saved session, or ``None`` if there is none or it has expired.

        Raises :class:`~bot.session.CorruptSession` for a record that cannot be read back (the caller drops
        it with :meth:`forget`); any other exception means the store itself failed.
        """

    @abstractmethod
    async def save(self, key: str, session: Session) -> None:
        """Write the session durably, with the time-to-live counted from now."""

    @abstractmethod
    async def forget(self, key: str) -> None:
        """Delete everything kept under ``key`` (the session and the preferences), at once."""

    async def forget_prefix(self, prefix: str) -> int:
        """Forget every conversation (and preference) whose key begins with ``prefix``: a workspace's (see
        :func:`workspace_prefix`). Returns how many conversations and preferences went."""
        raise NotImplementedError(f"{type(self).__name__} cannot forget a workspace")

    @abstractmethod
    async def load_preferences(self, key: str) -> Preferences | None:
        """The preferences saved under ``key``, or ``None`` (none, or older than ``preference_ttl``); they
        outlive the session. :class:`~bot.session.CorruptSession` for a record that cannot be read back."""

    @abstractmethod
    async def save_preferences(self, key: str, preferences: Preferences) -> None:
        """Write the preferences, kept ``preference_ttl`` seconds from now (not the session's ``ttl``)."""

    @abstractmethod
    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold while running one turn of the conversation ``key``."""

    @abstractmethod
    async def stats(self) -> StoreStats: ...

    async def health(self) -> bool:
        """True while the store answers and its last real operation (noted by the service) did not fail
        within the last FAULT_MEMORY seconds."""
        return self.probe_ok() and await self.probe()

    async def probe(self) -> bool:
        """A cheap check that the store answers."""
        return True

    # The service notes each store operation's outcome, so /healthz also sees faults a probe cannot (a full
    # disk, a read-only WAL). A fault is forgotten after the next success, or after FAULT_MEMORY seconds, so
    # an instance a load balancer took out of service for it can come back.
    FAULT_MEMORY = 60.0
    _fault_at: float | None = None

    def note_fault(self) -> None:
        self._fault_at = self.clock()

    def note_ok(self) -> None:
        self._fault_at = None

    def probe_ok(self) -> bool:
        return self._fault_at is None or self.clock() - self._fault_at >= self.FAULT_MEMORY

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


class MemoryStore(SessionStore):
    """A dict. For tests, benchmarks and the console; lost when the process ends."""

    backend = "memory"

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Clock = time.time):
        super().__init__(ttl, clock)
        self._data: dict[str, tuple[str, float]] = {}
        self._prefs: dict[str, tuple[str, float]] = {}
        self._locks = _KeyLocks()

    async def load(self, key: str) -> Session | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= self.clock():
            del self._data[key]
            return None
        return Session.loads(item[0])  # CorruptSession for a bad record

    async def save(self, key: str, session: Session) -> None:
        self._data[key] = (session.dumps(), self.clock() + self.ttl)

    async def forget(self, key: str) -> None:
        self._data.pop(key, None)
        self._prefs.pop(key, None)

    async def forget_prefix(self, prefix: str) -> int:
        gone = [k for k in (*self._data, *self._prefs) if k.startswith(prefix)]
        for key in gone:
            await self.forget(key)
        return len(gone)

    async def load_preferences(self, key: str) -> Preferences | None:
        item = self._prefs.get(key)
        if item is None:
            return None
        if item[1] <= self.clock():
            del self._prefs[key]
            return None
        return Preferences.loads(item[0])

    async def save_preferences(self, key: str, preferences: Preferences) -> None:
        self._prefs[key] = (preferences.dumps(), self.clock() + self.preference_ttl)

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._locks(key)

    async def stats(self) -> StoreStats:
        now = self.clock()
        created = [created_of(d) for d, exp in self._data.values() if exp > now]
        return _stats(self.backend, [c for c in created if c is not None], now)


class SQLiteStore(SessionStore):
    """SQLite in WAL mode: safe for one process with many concurrent conversations.

    Each save is one committed transaction, so a kill -9 loses at most the turn in flight and never
    corrupts the file. Expired rows are invisible at once and purged every few hundred writes, at most once a
    minute: the purge scans the whole table (about 25 ms at 100,000 rows), so on a busy bot purging every 500
    writes would cost more per turn the more conversations there are.
    """

    backend = "sqlite"
    PURGE_EVERY = 500
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
        self._locks = _KeyLocks()
        self._writes = 0
        self._purged = 0.0
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
        return Session.loads(row[0]) if row else None  # CorruptSession for a bad record

    async def save(self, key: str, session: Session) -> None:
        self._db.execute(
            "INSERT INTO sessions (key, data, expires) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
            (key, session.dumps(), self.clock() + self.ttl),
        )
        self._writes += 1
        if self._writes % self.PURGE_EVERY == 0 and self.clock() - self._purged >= self.PURGE_MIN_INTERVAL:
            self.purge()

    async def forget(self, key: str) -> None:
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
        return _stats(self.backend, [c for c in created if c is not None], now)

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


def open_store(url: str | None, *, ttl: float = DEFAULT_TTL, clock: Clock = time.time) -> SessionStore:
    """A store from a URL: ``sqlite:///path/state.db``, ``redis://host:6379/0`` or ``memory://``."""
    if not url:
        return SQLiteStore(default_sqlite_path(), ttl, clock)
    if url.startswith("memory:"):
        return MemoryStore(ttl, clock)
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite://")
        return SQLiteStore(path if path else default_sqlite_path(), ttl, clock)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from bot.store_redis import RedisStore

        return RedisStore(url, ttl, clock)
    raise StoreStartError(f"YPSI_STORE must start with sqlite://, redis:// or memory://, not {url.split(':')[0]!r}")
