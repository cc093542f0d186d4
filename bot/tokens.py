"""Signed button tokens: a forged or tampered button cannot jump a flow.

Telegram allows 64 bytes of callback data, so tokens are short: ``<payload>~<signature>`` where the
payload is dot-separated ids and the signature is 10 characters of HMAC-SHA256 (60 bits).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_TOKEN = 64


class TokenSigner:
    def __init__(self, secret: str):
        self._key = hashlib.sha256(("ypsi-buttons:" + secret).encode()).digest()

    def _sig(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac)[:10].decode()

    def sign(self, *parts: str) -> str:
        payload = ".".join(parts)
        token = f"{payload}~{self._sig(payload)}"
        if len(token.encode()) > MAX_TOKEN:
            raise ValueError(f"button token too long for Telegram: {token!r}")
        return token

    def verify(self, token: str) -> list[str] | None:
        """The token's parts, or ``None`` if it was not issued by this deployment."""
        payload, sep, sig = token.rpartition("~")
        if not sep or not hmac.compare_digest(sig, self._sig(payload)):
            return None
        return payload.split(".")
