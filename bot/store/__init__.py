"""Where conversation state lives: one interface (:mod:`.base`), an in-memory store (tests, console),
SQLite (the embedded default) and Redis (several processes; imported only when asked for).

Only :class:`~bot.session.Session` records are kept, under a keyed hash of the conversation reference, with
a time-to-live. Every store offers a per-conversation lock so that turns of one conversation never
interleave, while different conversations run concurrently.
"""

from __future__ import annotations

import time

from bot.store.base import (
    DEFAULT_TTL,
    PREFERENCE_TTL,
    Clock,
    KeyLocks,
    SessionStore,
    StoreStartError,
    StoreStats,
    conversation_key,
    created_of,
    workspace_prefix,
)
from bot.store.memory import MemoryStore
from bot.store.sqlite import MOVED_ASIDE, SQLiteStore, default_sqlite_path

__all__ = [
    "DEFAULT_TTL",
    "MOVED_ASIDE",
    "PREFERENCE_TTL",
    "Clock",
    "KeyLocks",
    "MemoryStore",
    "SQLiteStore",
    "SessionStore",
    "StoreStartError",
    "StoreStats",
    "conversation_key",
    "created_of",
    "default_sqlite_path",
    "open_store",
    "workspace_prefix",
]


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
        from bot.store.redis import RedisStore

        return RedisStore(url, ttl, clock)
    raise StoreStartError(f"YPSI_STORE must start with sqlite://, redis:// or memory://, not {url.split(':')[0]!r}")
