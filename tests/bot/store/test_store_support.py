"""Helpers shared by the store suite (no tests here): a hand-moved clock, and ways to look at exactly
what each kind of store holds, for the "nothing else is kept" and size checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.store.redis import RedisStore
from tests.clock import FakeClock  # noqa: F401  (the suites import it from here too)


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


def start_redis(binary: str, workdir: Path) -> RedisServer:
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


REPO = Path(__file__).resolve().parents[3]
SECRET = "store-suite-secret-0123456789abcdef"
StoreFactory = Callable[..., SessionStore]  # make_store(ttl=..., clk=...) from conftest


def redis_client(store: RedisStore) -> redis.Redis:
    """A plain client on the store's server and database, to look behind the store's back."""
    kwargs = store._redis.connection_pool.connection_kwargs
    return redis.Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0))


def records(store: SessionStore, key: str) -> dict[str, bytes]:
    """Every record kept for one conversation, expired or not: name → stored bytes."""
    if isinstance(store, MemoryStore):
        found = {prefix + key: item[0].encode() for prefix, items in (("", store._data), ("p:", store._prefs))
                 if (item := items.get(key))}
        return found
    if isinstance(store, SQLiteStore):
        found = {}
        for table, prefix in (("sessions", ""), ("preferences", "p:")):
            rows = store._db.execute(f"SELECT key, data FROM {table} WHERE key = ?", (key,)).fetchall()
            found |= {prefix + bytes(r[0]).decode(): bytes(r[1]) for r in rows}  # the store reads text as bytes
        return found
    assert isinstance(store, RedisStore)
    with redis_client(store) as client:
        found: dict[str, bytes] = {}
        for name in client.scan_iter(match=f"{store.namespace}:*{key}*"):
            value = client.get(name)
            found[name.decode()] = value if isinstance(value, bytes) else b""
        return found


def record_size(store: SessionStore, key: str) -> int:
    """Bytes kept for one conversation: its key(s) and value(s), plus SQLite's 8-byte expiry column."""
    found = records(store, key)
    extra = 8 * len(found) if isinstance(store, SQLiteStore) else 0
    return sum(len(name.encode()) + len(value) for name, value in found.items()) + extra


def everything_stored(store: SessionStore) -> bytes:
    """All bytes the store holds anywhere: the memory dict, the SQLite files (db, WAL), every Redis key."""
    if isinstance(store, MemoryStore):
        return b"\n".join(k.encode() + b" " + v[0].encode() for k, v in store._data.items())
    if isinstance(store, SQLiteStore):
        parts = [p.read_bytes() for p in store.path.parent.glob(store.path.name + "*")]
        return b"\n".join(parts)
    assert isinstance(store, RedisStore)
    with redis_client(store) as client:
        out = []
        for name in client.scan_iter(match="*"):
            value = client.get(name)
            out.append(name + b" " + (value if isinstance(value, bytes) else b""))
        return b"\n".join(out)


def worker_command(*args: str) -> list[str]:
    """The command line for tests/bot/store/test_store_worker.py, run as a separate bot process."""
    return [sys.executable, str(REPO / "tests" / "bot" / "store" / "test_store_worker.py"), *args]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env
