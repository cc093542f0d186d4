"""Fixtures for the fault suite (content and the clock are the root conftest's): an assistant, and a
redis-server of each test's own (so a test may stop it mid-conversation).

The Redis helpers are shared with the store suite (tests/store/test_store_support.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from test_store_support import RedisServer, start_redis  # noqa: E402

from bot.assistant import Assistant  # noqa: E402
from dialogs.content import Content  # noqa: E402

SECRET = "fault-suite-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, SECRET)


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
