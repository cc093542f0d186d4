"""Helpers for the fault suite (no tests here): a store wrapper that fails chosen operations the way a full
disk, a read-only file or a stopped Redis does, and checks on the crisis card and the logs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

from bot.service import Handled
from bot.session import Preferences, Session
from bot.store import SessionStore, StoreStats
from dialogs.content import Content

OPERATIONS = ("lock", "load", "save", "forget")


class FaultyStore(SessionStore):
    """Wraps a real store; each operation named in ``failing`` raises ``error`` instead of running."""

    def __init__(self, inner: SessionStore, error: BaseException | None = None) -> None:
        super().__init__(inner.ttl, inner.clock)
        self.inner = inner
        self.backend = inner.backend
        self.failing: set[str] = set()
        self.error = error or OSError(28, "No space left on device")

    def _check(self, operation: str) -> None:
        if operation in self.failing:
            raise self.error

    async def load(self, key: str) -> Session | None:
        self._check("load")
        return await self.inner.load(key)

    async def save(self, key: str, session: Session) -> None:
        self._check("save")
        await self.inner.save(key, session)

    async def forget(self, key: str) -> None:
        self._check("forget")
        await self.inner.forget(key)

    async def load_preferences(self, key: str) -> Preferences | None:
        self._check("load")
        return await self.inner.load_preferences(key)

    async def save_preferences(self, key: str, preferences: Preferences) -> None:
        self._check("save")
        await self.inner.save_preferences(key, preferences)

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock(key)

    @contextlib.asynccontextmanager
    async def _lock(self, key: str) -> AsyncIterator[None]:
        self._check("lock")
        async with self.inner.lock(key):
            yield

    async def stats(self) -> StoreStats:
        return await self.inner.stats()

    async def probe(self) -> bool:
        return await self.inner.probe()

    async def close(self) -> None:
        await self.inner.close()


def crisis_numbers(content: Content) -> list[str]:
    """What a crisis card must carry: 999 and the national crisis lines (Childline, Samaritans, Shout)."""
    return ["999", "0800 1111", "116 123", "85258"]


def assert_crisis_card(handled: Handled, content: Content) -> None:
    assert handled.reply is not None, "a crisis message always gets a reply"
    card = handled.reply.replies[0]
    assert card.kind == "crisis" and card.title == content.text("crisis_title")
    for number in crisis_numbers(content):
        assert number in card.text, number


def log_lines(buffer: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.splitlines() if line.strip()]
