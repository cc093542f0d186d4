"""A per-conversation token bucket, in memory, keyed by the hashed conversation key.

Each conversation may send ``burst`` messages at once, then one every ``1 / rate`` seconds. The clock is
injected, so tests move time by hand. Buckets that have filled up again are dropped now and then, so memory
follows the conversations active in the last ``burst / rate`` seconds, not every conversation ever seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_BURST = 20  # messages at once
DEFAULT_RATE = 2.0  # messages per second after that: 20 in 10 s


@dataclass
class _Bucket:
    tokens: float
    at: float
    told: bool = False  # the "please slow down" reply was given in this run of refusals


class RateLimiter:
    SWEEP_EVERY = 1024  # calls between sweeps of full buckets

    def __init__(self, burst: int = DEFAULT_BURST, rate: float = DEFAULT_RATE,
                 clock: Callable[[], float] = time.monotonic):
        if burst < 1 or rate <= 0:
            raise ValueError("a rate limit needs a burst of at least 1 and a positive rate")
        self.burst = float(burst)
        self.rate = rate
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._calls = 0

    def take(self, key: str) -> str:
        """``"ok"`` and one token taken; else ``"tell"`` the first time in a run of refusals, then ``"quiet"``."""
        now = self.clock()
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.told = False
            return "ok"
        if bucket.told:
            return "quiet"
        bucket.told = True
        return "tell"

    def _sweep(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]

    def __len__(self) -> int:
        return len(self._buckets)
