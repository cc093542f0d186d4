"""Fixtures for the store suite (the clock is the root conftest's): a real redis-server on a free loopback port, and a
factory that builds each kind of store (memory, sqlite, redis) so one contract suite runs against all.

redis-server comes from the Debian package ``redis-server``. When it is not on PATH the Redis tests are
skipped, except under CI (env ``CI`` set), where they fail with a message saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from test_store_support import SECRET, RedisServer, StoreFactory, start_redis

from bot.assistant import Assistant
from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.store.redis import RedisStore
from dialogs.content import Content
from tests.clock import FakeClock

STORE_KINDS = ("memory", "sqlite", "redis")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = ("redis-server is not on PATH: install the Debian package `redis-server` "
                   "(apt-get install redis-server) to run the Redis store tests")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = start_redis(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        if server.process.stdout is not None:
            server.process.stdout.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The server's URL, with database 0 emptied before and after the test."""
    client = redis_server.client()
    client.flushdb()
    try:
        yield redis_server.url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
async def make_store(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[StoreFactory]:
    """Builds stores of this test's kind (``make_store(ttl=...)``); all are closed afterwards.

    Stores made by one factory share their data (one SQLite file, one Redis database), as the
    processes of one deployment would.
    """
    made: list[SessionStore] = []
    url = request.getfixturevalue("redis_url") if store_kind == "redis" else ""
    shared_memory: list[MemoryStore] = []

    def factory(ttl: float = 3600.0, clk: Callable[[], float] = clock) -> SessionStore:
        store: SessionStore
        if store_kind == "memory":
            if shared_memory:
                return shared_memory[0]
            store = MemoryStore(ttl, clk)
            shared_memory.append(store)
        elif store_kind == "sqlite":
            store = SQLiteStore(tmp_path / "state.db", ttl, clk)
        else:
            store = RedisStore(url, ttl, clk)
        made.append(store)
        return store

    yield factory
    for store in made:
        await store.close()


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, SECRET)

