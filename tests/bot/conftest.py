"""Fixtures for the bot tests (content, the assistant and the clock are the root conftest's): a redis-server of
each test's own (so a test may stop it mid-conversation).

The Redis helpers are shared with the store tests (tests/bot/store/test_store_support.py, beside the store
worker script that imports it too).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "store"))

from test_store_support import RedisServer, start_redis  # noqa: E402


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for this test alone, which the test may stop."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not on PATH: install the Debian package `redis-server`"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = start_redis(binary, tmp_path)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            server.process.wait(timeout=10)
        if server.process.stdout is not None:
            server.process.stdout.close()
