"""The root conftest's network guard: loopback works, anything else is refused and fails the test."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.network import LoopbackGuard, OffLoopback


def test_loopback_connections_pass(loopback_only: LoopbackGuard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            pass
        with socket.create_connection(("localhost", port)):
            pass
    assert loopback_only.violations == []


@pytest.mark.parametrize("address", ["192.0.2.1", "10.0.0.1", "2001:db8::1"])
def test_a_connection_past_loopback_is_refused_before_it_is_made(
    loopback_only: LoopbackGuard, address: str
) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s, pytest.raises(OffLoopback):
        s.connect((address, 443))
    assert loopback_only.violations == [f"a connection to {address!r}"]
    loopback_only.violations.clear()  # this test made them on purpose


def test_a_name_lookup_past_loopback_is_refused(loopback_only: LoopbackGuard) -> None:
    with pytest.raises(OffLoopback):
        socket.getaddrinfo("api.telegram.org", 443)
    with pytest.raises(OffLoopback):
        socket.create_connection(("slack.com", 443))
    assert len(loopback_only.violations) == 2
    loopback_only.violations.clear()


async def test_asyncio_connections_are_guarded_too(loopback_only: LoopbackGuard) -> None:
    with pytest.raises(OffLoopback):
        await asyncio.open_connection("api.telegram.org", 443)
    with pytest.raises(OffLoopback):
        await asyncio.open_connection("192.0.2.1", 443)
    assert len(loopback_only.violations) == 2
    loopback_only.violations.clear()
