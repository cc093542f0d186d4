"""Fixtures for the store suite: an injectable clock, a real redis-server on a free loopback port, and a
factory that builds each kind of store (memory, sqlite, redis) so one contract suite runs against all.

redis-server comes from the Debian package ``redis-server``. When it is not on PATH the Redis tests are
skipped, except under CI (env ``CI`` set), where they fail with a message saying what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from test_store_support import SECRET, FakeClock, StoreFactory

from bot.assistant import Assistant
from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.store_redis import RedisStore
from dialogs.content import Content, load_content

STORE_KINDS = ("memory", "sqlite", "redis")


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_redis(binary: str, workdir: Path) -> RedisServer:
    """Start redis-server in the foreground and read its log until it accepts connections."""
    for _ in range(5):  # the free port may be taken between choosing and binding it: try another
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--daemonize", "no", "--loglevel", "notice", "--logfile", ""],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir,
        )
        assert proc.stdout is not None
        log: list[str] = []
        for line in proc.stdout:
            log.append(line)
            if "Ready to accept connections" in line:
                return RedisServer(port, proc)
        proc.wait()
        if not any("Address already in use" in line for line in log):
            raise RuntimeError("redis-server did not start:\n" + "".join(log[-20:]))
    raise RuntimeError("redis-server found no free port")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = ("redis-server is not on PATH: install the Debian package `redis-server` "
                   "(apt-get install redis-server) to run the Redis store tests")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = _start_redis(binary, tmp_path_factory.mktemp("redis"))
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()



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
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, SECRET)

