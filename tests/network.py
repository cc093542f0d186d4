"""The loopback-only network guard of the root conftest (compare python-telegram-bot's ``OfflineRequest``)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


class OffLoopback(RuntimeError):
    """A test tried to reach past loopback (compare python-telegram-bot's ``OfflineRequest``)."""


class LoopbackGuard:
    """Refuses, and remembers, any connection or name lookup outside 127.0.0.0/8 and ::1. The test fails
    afterwards even if the code under test caught the error."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def refuse(self, what: str) -> OffLoopback:
        self.violations.append(what)
        return OffLoopback(f"tests may use loopback only, not {what}")

    @staticmethod
    def loopback(host: object) -> bool:
        if isinstance(host, bytes):
            host = host.decode()
        if not isinstance(host, str):
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def check_address(self, family: int, address: Any) -> None:
        if family in (socket.AF_INET, socket.AF_INET6) and not self.loopback(address[0]):
            raise self.refuse(f"a connection to {address[0]!r}")

    def check_name(self, host: object) -> None:
        """Lookups of loopback names and addresses pass; so do passive ones (no host, an address to bind)."""
        if host in (None, "", b"", "0.0.0.0", "::") or self.loopback(host):
            return
        raise self.refuse(f"a lookup of {host!r}")
