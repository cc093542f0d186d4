"""What only Redis does: real key expiry, the lock shared between processes (two clients here), leases,
safe release, namespaces, and health when the server is gone."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from test_store_support import records, redis_client

from bot.session import CorruptSession, Session
from bot.store import open_store
from bot.store.redis import RedisStore, StoreBusyError
from tests.clock import FakeClock

K = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture
async def stores(redis_url: str, clock: FakeClock) -> AsyncIterator[list[RedisStore]]:
    """Two stores on one server, each with its own connections: two bot processes, in effect."""
    made = [RedisStore(redis_url, 3600.0, clock), RedisStore(redis_url, 3600.0, clock)]
    yield made
    for store in made:
        await store.close()


async def test_open_store_gives_redis(redis_url: str) -> None:
    store = open_store(redis_url, ttl=60.0)
    try:
        assert isinstance(store, RedisStore) and store.ttl == 60.0
        assert await store.health()
    finally:
        await store.close()


async def test_keys_are_namespaced_and_carry_a_real_ttl(redis_url: str, clock: FakeClock) -> None:
    store = RedisStore(redis_url, 86_400.0, clock)
    try:
        await store.save(K, Session(flow="kent", node="age_band", created=clock.now))
        with redis_client(store) as client:
            assert [n.decode() for n in client.scan_iter(match="*")] == [f"ypsi:s:{K}"]
            pttl = client.pttl(f"ypsi:s:{K}")
            assert 86_390_000 < pttl <= 86_400_000  # Redis will drop the key itself after the TTL
            value = client.get(f"ypsi:s:{K}")
            assert isinstance(value, bytes)
            assert value.startswith(f"{clock.now + 86_400:.3f} ".encode())  # the expiry for injected clocks
            client.pexpire(f"ypsi:s:{K}", 5_000)  # as if most of the day had gone by...
            await store.save(K, Session(flow="kent", node="risk_level", created=clock.now))
            assert client.pttl(f"ypsi:s:{K}") > 86_390_000  # ...a new turn starts the TTL again
    finally:
        await store.close()


async def test_a_tiny_ttl_is_set_in_milliseconds(redis_url: str, clock: FakeClock) -> None:
    store = RedisStore(redis_url, 0.25, clock)
    try:
        await store.save(K, Session())
        with redis_client(store) as client:
            assert 0 < client.pttl(f"ypsi:s:{K}") <= 250
    finally:
        await store.close()


async def test_lock_holds_a_lease_and_is_gone_after_the_turn(redis_url: str) -> None:
    store = RedisStore(redis_url, 3600.0, lock_lease=7.0)
    try:
        with redis_client(store) as client:
            async with store.lock(K):
                token = client.get(f"ypsi:l:{K}")
                assert isinstance(token, bytes) and len(token) == 32  # a random token per turn
                assert 0 < client.pttl(f"ypsi:l:{K}") <= 7_000  # a crashed holder frees it after the lease
            assert client.exists(f"ypsi:l:{K}") == 0
    finally:
        await store.close()


async def test_two_processes_never_interleave_turns_of_one_conversation(stores: list[RedisStore]) -> None:
    one, two = stores
    order: list[str] = []
    one_inside, one_may_finish, two_refused = asyncio.Event(), asyncio.Event(), asyncio.Event()
    two.on_lock_wait = lambda key: two_refused.set()

    async def turn(store: RedisStore, name: str, answer: tuple[str, str],
                   inside: asyncio.Event | None = None, may_finish: asyncio.Event | None = None) -> None:
        async with store.lock(K):
            order.append(f"{name} in")
            session = await store.load(K) or Session()
            if inside is not None and may_finish is not None:
                inside.set()
                await may_finish.wait()
            session.answers.append(answer)
            await store.save(K, session)
            order.append(f"{name} out")

    first = asyncio.create_task(turn(one, "one", ("q1", "no"), one_inside, one_may_finish))
    await one_inside.wait()
    second = asyncio.create_task(turn(two, "two", ("q2", "yes")))
    await two_refused.wait()  # the other process asked Redis for the lock and was refused
    assert order == ["one in"]
    one_may_finish.set()
    await asyncio.gather(first, second)
    assert order == ["one in", "one out", "two in", "two out"]
    loaded = await two.load(K)
    assert loaded is not None and loaded.answers == [("q1", "no"), ("q2", "yes")]
    assert two.lock_waits >= 1 and one.lock_waits == 0


async def test_two_processes_run_different_conversations_at_once(stores: list[RedisStore]) -> None:
    one, two = stores
    a_inside, b_inside = asyncio.Event(), asyncio.Event()

    async def hold(store: RedisStore, key: str, mine: asyncio.Event, other: asyncio.Event) -> None:
        async with store.lock(key):
            mine.set()
            await asyncio.wait_for(other.wait(), timeout=10)  # deadlock → failure, not a hang

    await asyncio.gather(hold(one, K, a_inside, b_inside), hold(two, OTHER, b_inside, a_inside))
    assert one.lock_waits == two.lock_waits == 0


async def test_release_never_deletes_another_process_lock(
    stores: list[RedisStore], caplog: pytest.LogCaptureFixture
) -> None:
    one, _ = stores
    caplog.set_level(logging.INFO, logger="ypsi")
    with redis_client(one) as client:
        async with one.lock(K):
            # The lease ran out mid-turn and another process took the lock with its own token.
            client.set(f"ypsi:l:{K}", b"someone-else", px=60_000)
        assert client.get(f"ypsi:l:{K}") == b"someone-else"
    assert any(r.getMessage() == "store_lock_lost" for r in caplog.records)


async def test_forget_never_deletes_another_process_lock(stores: list[RedisStore]) -> None:
    one, two = stores
    await one.save(K, Session(flow="kent"))
    inside, done = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with two.lock(K):
            inside.set()
            await done.wait()

    task = asyncio.create_task(holder())
    await inside.wait()
    await one.forget(K)  # without the lock: the session goes, the other process's lock stays
    assert set(records(one, K)) == {f"ypsi:l:{K}"}
    done.set()
    await task
    assert records(one, K) == {}


async def test_a_lock_left_by_a_dead_process_is_waited_for_then_reported(redis_url: str) -> None:
    store = RedisStore(redis_url, 3600.0, lock_wait=0.05)
    try:
        with redis_client(store) as client:
            client.set(f"ypsi:l:{K}", b"dead-process-token", px=60_000)
        with pytest.raises(StoreBusyError):
            async with store.lock(K):
                pytest.fail("entered a conversation another process holds")
        assert store.lock_waits >= 1
    finally:
        await store.close()


async def test_stats_scan_only_this_namespace_and_live_values(redis_url: str, clock: FakeClock) -> None:
    store = RedisStore(redis_url, 100.0, clock)
    try:
        with redis_client(store) as client:
            client.set("other-app:thing", b"x")
            client.set("ypsi:s:" + "e" * 32, b"not a session")  # a damaged value is skipped, not fatal
            await store.save(K, Session(created=clock.now))
            async with store.lock(OTHER):
                stats = await store.stats()
        assert stats.live == 1
        with pytest.raises(CorruptSession):  # the service drops it and starts the person afresh
            await store.load("e" * 32)
        for n in range(1200):  # more than one SCAN batch
            await store.save(f"{n:032x}", Session(created=clock.now))
        assert (await store.stats()).live == 1201
        clock.advance(100)
        assert (await store.stats()).live == 0
    finally:
        await store.close()


async def test_namespaces_keep_deployments_apart(redis_url: str, clock: FakeClock) -> None:
    blue = RedisStore(redis_url, 3600.0, clock, namespace="blue")
    green = RedisStore(redis_url, 3600.0, clock, namespace="green")
    try:
        await blue.save(K, Session(flow="kent"))
        assert await green.load(K) is None
        assert ((await blue.stats()).live, (await green.stats()).live) == (1, 0)
    finally:
        await blue.close()
        await green.close()


async def test_health_is_false_when_redis_is_unreachable() -> None:
    with socket.socket() as s:  # a loopback port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        store = RedisStore(f"redis://127.0.0.1:{port}/0", 60.0, timeout=1.0)
        try:
            assert await store.health() is False
        finally:
            await store.close()
