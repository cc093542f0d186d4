"""Fixtures shared by every test folder: the content, an assistant on it, the fixed clock, log capture, and a
network guard that lets no test reach past loopback."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from bot.assistant import Assistant
from bot.logs import setup_logging
from dialogs.content import Content
from dialogs.lint import load_content
from tests.clock import TODAY, FakeClock
from tests.network import LoopbackGuard

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped content, linted as of :data:`~tests.clock.TODAY`."""
    return load_content(today=TODAY)


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, "test-secret")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line (JSON, DEBUG and up) written while the test runs; the logging set-up, and every logger's
    level, are restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict})
    buffer = io.StringIO()
    setup_logging("DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    """Every test: no proxy from the environment (it would carry loopback traffic away), and no connection or
    name lookup outside loopback."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    guard = LoopbackGuard()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        guard.check_address(self.family, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check_address(self.family, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check_name(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check_name(address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield guard
    if guard.violations:
        pytest.fail("reached past loopback: " + "; ".join(guard.violations), pytrace=False)
