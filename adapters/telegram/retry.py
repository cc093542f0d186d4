"""Retrying Bot API calls: python-telegram-bot retries neither flood control (429) nor server errors.

A 429 (:class:`~telegram.error.RetryAfter`) waits the time Telegram asks for; a 5xx, a timeout or a
dropped connection (:class:`~telegram.error.NetworkError`) backs off exponentially. A
:class:`~telegram.error.BadRequest` is a subclass of ``NetworkError`` but is never retried: sending the
same request again would fail the same way. Attempts are bounded, so a dead API cannot hang a turn.

A call that is not idempotent (``sendMessage``) is not repeated when it may have reached Telegram: a read
timeout or a connection lost while waiting for the answer means the request was sent in full, and a slow
Telegram may well have delivered the message. Sending it again would show it twice; the caller decides
(:func:`maybe_delivered`). Timeouts are set long enough (:data:`SEND_TIMEOUTS`) for this to be rare.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.logs import log

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


#: Client timeouts for Bot API calls (seconds). PTB's default read timeout is 5 s, and a slow
#: ``sendMessage`` that took longer was sent again, so the person got it twice.
@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 10.0


SEND_TIMEOUTS = Timeouts()

#: httpx errors after which the request may have been received and acted on by Telegram.
_MAYBE_RECEIVED = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


def maybe_delivered(exc: BaseException) -> bool:
    """Whether a failed call may nevertheless have been carried out (its request was sent in full)."""
    return isinstance(exc, NetworkError) and isinstance(exc.__cause__, _MAYBE_RECEIVED)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``sleep`` is injectable so tests can check delays without waiting."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer flood wait gives up rather than leaving a user hanging
    sleep: Sleep = asyncio.sleep


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that the int form will become a timedelta
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def with_retry(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, method: str, *, idempotent: bool = True
) -> T:
    """Await ``call()``, retrying 429s and network/server errors up to ``policy.attempts`` times.

    With ``idempotent=False``, an error after which the call may have been carried out is raised at once.
    """
    attempt = 1
    while True:
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt >= policy.attempts or wait > policy.max_retry_after:
                raise
            delay, reason = wait, "flood"
        except BadRequest:
            raise
        except NetworkError as exc:  # 5xx, timeouts, connection errors
            if attempt >= policy.attempts or (not idempotent and maybe_delivered(exc)):
                raise
            delay, reason = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay), type(exc).__name__
        log("telegram_retry", method=method, attempt=attempt, reason=reason, delay_s=round(delay, 2))
        await policy.sleep(delay)
        attempt += 1
