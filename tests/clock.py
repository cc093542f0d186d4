"""Fixed time for tests: a clock moved by hand, and the "today" the content lint is run on."""

from __future__ import annotations

import asyncio
import datetime as dt

# A fixed "today" for the content lint, so the stale-contact warning does not depend on when tests run.
TODAY = dt.date(2026, 11, 21)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class VirtualClock:
    """The outbox's clock: it moves only when slept on (``sleep(d)`` records ``d``, adds it, and yields), so
    hours of back-off pass at once and no test depends on timing."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += delay
        await asyncio.sleep(0)
