"""Conversation state in Redis, for several bot processes behind one webhook or one HTTP endpoint.

Keys live under a namespace (``ypsi`` by default), per conversation key ``K`` (the keyed hash from
:func:`bot.store.base.conversation_key`, never a raw platform id):

* ``ypsi:s:K`` — the saved :class:`~bot.session.Session`, as ``"<expires> <json>"``, with a Redis TTL;
* ``ypsi:p:K`` — the person's :class:`~bot.session.Preferences` (Slack's area), the same way, with the
  longer ``preference_ttl``;
* ``ypsi:l:K`` — the turn lock while a process holds it: redis-py's :class:`~redis.asyncio.lock.Lock`, a
  random token with a lease (PX).

Expiry is enforced twice: Redis drops the key when its TTL runs out, and a value whose stored expiry
(``clock() + ttl`` at save time) has passed by ``clock()`` reads as absent, so the injected clock that the
other stores honour works here too.

The lock is taken in two steps: an in-process :class:`asyncio.Lock` per key (so coroutines of one process
queue without polling Redis), then the Redis lock (redis-py's ``Lock``: ``SET NX PX`` with a random token,
tried again with a growing pause). It is released by redis-py's compare-and-delete script, so a process whose
lease ran out can never release another's lock. A process
killed mid-turn leaves its lock to expire after ``lock_lease`` seconds; nobody waits longer than
``lock_wait`` seconds (then :class:`StoreBusyError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from logging import WARNING
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import LockNotOwnedError, RedisError

from bot.logs import log
from bot.session import CorruptSession, Preferences, Session
from bot.store.base import DEFAULT_TTL, Clock, KeyLocks, SessionStore, StoreStats, created_of, stats_of

# KEYS[1] session key, KEYS[2] lock key, KEYS[3] preferences key; ARGV[1] the token of the lock we hold, or "".
# Deletes the session, the preferences and, if we hold it, our lock, in one step; never another process's lock.
_FORGET = """
redis.call('del', KEYS[1], KEYS[3])
if ARGV[1] ~= '' and redis.call('get', KEYS[2]) == ARGV[1] then redis.call('del', KEYS[2]) return 1 end
return 0
"""


class StoreBusyError(TimeoutError):
    """Another process held this conversation's lock for longer than ``lock_wait``."""


class RedisStore(SessionStore):
    """Sessions in Redis with a TTL, and a per-conversation lock shared by every process."""

    backend = "redis"
    SCAN_BATCH = 500

    def __init__(
        self,
        url: str,
        ttl: float = DEFAULT_TTL,
        clock: Clock = time.time,
        *,
        namespace: str = "ypsi",
        lock_lease: float = 10.0,
        lock_wait: float = 15.0,
        timeout: float = 5.0,
    ):
        super().__init__(ttl, clock)
        if ttl <= 0:
            raise ValueError("the session time-to-live must be positive")
        self.namespace = namespace
        self.lock_lease = lock_lease
        self.lock_wait = lock_wait
        self.lock_waits = 0  # how often a turn found another process holding its conversation
        self.on_lock_wait: Callable[[str], None] | None = None  # called with the key on each refused attempt
        retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), retries=3)
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=retry
        )
        self._locks = KeyLocks()
        self._held: dict[str, Lock] = {}  # key → the Redis lock this process holds

    # ------------------------------------------------------------------------------------------ keys

    def session_key(self, key: str) -> str:
        return f"{self.namespace}:s:{key}"

    def lock_key(self, key: str) -> str:
        return f"{self.namespace}:l:{key}"

    def preferences_key(self, key: str) -> str:
        return f"{self.namespace}:p:{key}"

    def _ms(self, seconds: float) -> int:
        return max(1, round(seconds * 1000))

    # ----------------------------------------------------------------------------------------- state

    async def _live(self, redis_key: str) -> bytes | None:
        """The record under ``redis_key`` without its expiry, or ``None`` when missing or expired."""
        raw = cast("bytes | None", await self._redis.get(redis_key))
        if raw is None:
            return None
        parsed = self._parse(raw)
        if parsed is None:
            raise CorruptSession("no expiry")
        expires, body = parsed
        return body if expires > self.clock() else None

    async def load(self, key: str) -> Session | None:
        body = await self._live(self.session_key(key))
        return None if body is None else Session.loads(body)  # CorruptSession for a bad record

    async def save(self, key: str, session: Session) -> None:
        expires = self.clock() + self.ttl
        value = f"{expires:.3f} {session.dumps()}".encode()
        await self._redis.set(self.session_key(key), value, px=self._ms(self.ttl))

    async def forget(self, key: str) -> None:
        held = self._held.get(key)
        token = held.local.token if held is not None and held.local.token is not None else b""
        keys = (self.session_key(key), self.lock_key(key), self.preferences_key(key))
        dropped_lock = await self._eval(_FORGET, keys, token)
        if dropped_lock:
            self._held.pop(key, None)

    async def forget_prefix(self, prefix: str) -> int:
        if not prefix.isalnum():  # hex digits: nothing a SCAN pattern would read as a wildcard
            raise ValueError("a key prefix is hex digits")
        keys: set[str] = set()
        for kind in ("s", "p"):
            async for name in self._redis.scan_iter(match=f"{self.namespace}:{kind}:{prefix}*", count=self.SCAN_BATCH):
                raw = name.decode() if isinstance(name, bytes) else str(name)
                keys.add(raw.split(":", 2)[2])
        for key in keys:
            await self.forget(key)
        return len(keys)

    async def load_preferences(self, key: str) -> Preferences | None:
        body = await self._live(self.preferences_key(key))
        return None if body is None else Preferences.loads(body)

    async def save_preferences(self, key: str, preferences: Preferences) -> None:
        expires = self.clock() + self.preference_ttl
        value = f"{expires:.3f} {preferences.dumps()}".encode()
        await self._redis.set(self.preferences_key(key), value, px=self._ms(self.preference_ttl))

    @staticmethod
    def _parse(raw: bytes) -> tuple[float, bytes] | None:
        head, sep, body = raw.partition(b" ")
        try:
            return (float(head), body) if sep else None
        except ValueError:
            return None

    async def _eval(self, script: str, keys: tuple[str, ...], *args: bytes | int) -> int:
        result = await cast("Any", self._redis.eval(script, len(keys), *keys, *args))
        return int(result)

    # ------------------------------------------------------------------------------------------ lock

    def lock(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock(key)

    @contextlib.asynccontextmanager
    async def _lock(self, key: str) -> AsyncIterator[None]:
        async with self._locks(key):
            lock = await self._acquire(key)
            self._held[key] = lock
            try:
                yield
            finally:
                if self._held.pop(key, None) is not None:  # not already dropped by forget()
                    await self._release(key, lock)

    async def _acquire(self, key: str) -> Lock:
        lock = Lock(self._redis, self.lock_key(key), timeout=self.lock_lease, thread_local=False)
        token = secrets.token_hex(16).encode()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_wait
        pause = 0.005
        while not await lock.acquire(blocking=False, token=token):
            # A SET that Redis carried out but whose reply was lost (then retried) finds our own token there.
            if await self._redis.get(lock.name) == token:
                lock.local.token = token
                break
            self.lock_waits += 1
            if self.on_lock_wait is not None:
                self.on_lock_wait(key)
            if loop.time() >= deadline:
                raise StoreBusyError(f"conversation {key[:12]} stayed locked for {self.lock_wait:g} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        return lock

    async def _release(self, key: str, lock: Lock) -> None:
        try:
            await lock.release()
        except LockNotOwnedError:  # the lease ran out during the turn: say so, never touch another's lock
            log("store_lock_lost", WARNING, backend=self.backend, conv=key[:12], lease_s=self.lock_lease)
        except (RedisError, OSError) as exc:  # the lease will free it
            error = type(exc).__name__
            log("store_lock_release_failed", WARNING, backend=self.backend, conv=key[:12], error=error)

    # -------------------------------------------------------------------------------- stats, health

    async def stats(self) -> StoreStats:
        """Counts and ages of live sessions, by SCAN over the namespace (never KEYS)."""
        now = self.clock()
        created: list[float] = []
        batch: list[bytes] = []

        async def flush() -> None:
            values = cast("list[bytes | None]", await self._redis.mget(batch))
            for raw in values:
                parsed = self._parse(raw) if raw is not None else None
                if parsed is None or parsed[0] <= now:
                    continue
                started = created_of(parsed[1])
                if started is not None:
                    created.append(started)
            batch.clear()

        async for name in self._redis.scan_iter(match=f"{self.namespace}:s:*", count=self.SCAN_BATCH):
            batch.append(name)
            if len(batch) >= self.SCAN_BATCH:
                await flush()
        if batch:
            await flush()
        return stats_of(self.backend, created, now)

    async def probe(self) -> bool:
        try:
            return bool(await cast("Any", self._redis.ping()))
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
