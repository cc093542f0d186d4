"""The store interface every backend honours, and what the backends share.

Only :class:`~bot.session.Session` records are kept, under a keyed hash of the conversation reference, with
a time-to-live. Every store offers a per-conversation lock so that turns of one conversation never
interleave, while different conversations run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import statistics
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.logs import log_error
from bot.session import CorruptSession, Preferences, Session
from bot.types import ConversationRef

Clock = Callable[[], float]
DEFAULT_TTL = 24 * 3600.0
# A preference (Slack's area) is not a conversation: it is kept a year after it was last chosen or used.
PREFERENCE_TTL = 365 * 24 * 3600.0


def conversation_key(ref: ConversationRef, secret: str) -> str:
    """The store key for a conversation: a keyed hash, so raw platform ids are never at rest. It begins with
    :func:`workspace_prefix`, so that a workspace's data can be deleted together (a Slack app uninstalled)."""
    raw = "\x1f".join((ref.platform, ref.workspace, ref.chat, ref.user)).encode()
    conversation = hmac.digest(secret.encode(), raw, "sha256").hex()[:24]
    return workspace_prefix(ref.platform, ref.workspace, secret) + conversation


@functools.lru_cache(maxsize=256)  # a handful of workspaces (a bot id, Slack teams), asked on every turn
def workspace_prefix(platform: str, workspace: str, secret: str) -> str:
    """The first 8 hex digits of every conversation key of one workspace (a keyed hash too)."""
    raw = "\x1f".join(("workspace", platform, workspace)).encode()
    return hmac.digest(secret.encode(), raw, "sha256").hex()[:8]


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


def stats_of(backend: str, created: list[float], now: float) -> StoreStats:
    ages = [max(0.0, now - c) for c in created]
    return StoreStats(len(ages), max(ages, default=0.0), statistics.median(ages) if ages else 0.0, backend)


class KeyLocks:
    """asyncio locks per key, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # the lock, and how many hold or wait for it

    def __call__(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return _HeldKey(self._locks, key)


class _HeldKey(contextlib.AbstractAsyncContextManager[None]):
    """One turn holding a key of :class:`KeyLocks`. A class rather than ``@asynccontextmanager``: it is
    entered on every turn, and a generator-based context manager costs several times as much."""

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], key: str) -> None:
        self._locks, self._key = locks, key

    async def __aenter__(self) -> None:
        held = self._locks.get(self._key)
        lock, users = held if held is not None else (asyncio.Lock(), 0)
        self._locks[self._key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a user
            self._leave()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._locks[self._key][0].release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._key]
        if users <= 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)


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

    async def healthy(self) -> bool:
        """What ``/healthz`` reports, on every platform: :meth:`health`, and ``False`` (logged) when even
        that fails."""
        try:
            return await self.health()
        except Exception as exc:  # a broken store is exactly what this reports
            log_error("health_check_failed", exc, backend=self.backend)
            return False

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
