"""Signed button tokens: a forged or tampered button cannot jump a flow.

Telegram allows 64 bytes of callback data, so tokens are short: ``<payload>~<signature>`` where the
payload is dot-separated ids and the signature is 10 characters of HMAC-SHA256 (60 bits).

A turn signs every button it shows (often seven or more), always from the same few hundred payloads, so
signatures are memoised in a bounded LRU cache: the HMAC is computed once per payload, not once per button.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

MAX_TOKEN = 64
CACHE_SIZE = 4096  # payloads whose signature is kept; content has a few hundred


class TokenSigner:
    def __init__(self, secret: str):
        self._key = hashlib.sha256(("ypsi-buttons:" + secret).encode()).digest()
        self._sig = functools.lru_cache(maxsize=CACHE_SIZE)(self._compute_sig)
        self._token = functools.lru_cache(maxsize=CACHE_SIZE)(self._make_token)

    def _compute_sig(self, payload: str) -> str:
        mac = hmac.digest(self._key, payload.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac)[:10].decode()

    def _make_token(self, payload: str) -> str:
        token = f"{payload}~{self._sig(payload)}"
        if len(token.encode()) > MAX_TOKEN:
            raise ValueError(f"button token too long for Telegram: {token!r}")
        return token

    def sign(self, *parts: str) -> str:
        return self._token(".".join(parts))

    def verify(self, token: str) -> list[str] | None:
        """The token's parts, or ``None`` if it was not issued by this deployment."""
        payload, sep, sig = token.rpartition("~")
        # Compared as bytes: compare_digest refuses non-ASCII str, and a forged token may carry any text.
        if not sep or not hmac.compare_digest(sig.encode(), self._sig(payload).encode()):
            return None
        return payload.split(".")
