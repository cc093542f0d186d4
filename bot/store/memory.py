"""A store in a dict: for tests, benchmarks and the console."""

from __future__ import annotations

import contextlib
import time

from bot.session import Preferences, Session
from bot.store.base import DEFAULT_TTL, Clock, KeyLocks, SessionStore, StoreStats, created_of, stats_of


class MemoryStore(SessionStore):
    """A dict. For tests, benchmarks and the console; lost when the process ends."""

    backend = "memory"

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Clock = time.time):
        super().__init__(ttl, clock)
        self._data: dict[str, tuple[str, float]] = {}
        self._prefs: dict[str, tuple[str, float]] = {}
        self._locks = KeyLocks()

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
        return stats_of(self.backend, [c for c in created if c is not None], now)
