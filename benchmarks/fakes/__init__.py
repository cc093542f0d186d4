"""The loopback fakes of the Telegram Bot API and the Slack Web API (shared by tests and benchmarks), and what
the benchmarks need on top: when each call arrived.

:class:`TimedTelegram` stamps every recorded Bot API call with ``time.perf_counter()`` (in
``call.params["_t"]``, set before the call is recorded, so a waiter never sees a call without it). On Linux
``perf_counter`` is CLOCK_MONOTONIC, shared by every process, so it can be compared with a time taken in
this process before a bot subprocess was started.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.fakes.slack_api import Call as SlackCall
from benchmarks.fakes.slack_api import FakeSlack
from benchmarks.fakes.telegram_api import Call, FakeTelegram

STAMP = "_t"


class TimedTelegram(FakeTelegram):
    """:class:`FakeTelegram` whose calls carry their arrival time in ``params["_t"]``."""

    def _record(self, method: str, params: dict[str, Any], token: str, status: int) -> Call:
        stamped = {**params, STAMP: time.perf_counter()}
        return super()._record(method, stamped, token, status)


def stamp(call: Call) -> float:
    value: float = call.params[STAMP]
    return value


@contextlib.contextmanager
def slack_fake_in_thread() -> Iterator[str]:
    """A fake Slack Web API in a background thread; yields its ``api_url`` (for SLACK_API_URL)."""
    fake = FakeSlack.run_in_thread()
    try:
        yield fake.api_url
    finally:
        fake.stop()


class TimedSlack(FakeSlack):
    """:class:`FakeSlack` that also notes when each call arrived (``times[method]``, perf_counter)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.times: dict[str, list[float]] = {}

    async def _record(self, call: SlackCall) -> None:
        self.times.setdefault(call.method, []).append(time.perf_counter())
        with self._lock:
            self._calls.append(call)
        # No waiters in benchmarks: skip the condition's notify_all (O(calls) per waiter wake-up).


async def _serve_slack() -> None:
    """Serve a TimedSlack until stdin closes; print its URLs first and its call times last (JSON lines)."""
    import asyncio
    import json
    import sys

    fake = TimedSlack()
    await fake.start()
    print(json.dumps({"api_url": fake.api_url, "base_url": fake.base_url}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # the driver closes our stdin to stop us
    print(json.dumps({"times": fake.times}), flush=True)
    await fake.stop()


if __name__ == "__main__":
    import asyncio
    import sys

    if sys.argv[1:] == ["slack"]:
        asyncio.run(_serve_slack())
