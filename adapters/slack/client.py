"""The Slack Web API client: slack-sdk's ``AsyncWebClient`` on ``SLACK_API_URL``, retrying rate limits (as long
as Slack asks, up to a limit), server errors and connection errors; and which failures may pass (for the outbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import ClientError, ClientSession
from slack_bolt.async_app import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

Sleep = Callable[[float], Awaitable[None]]


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after the number of seconds in ``Retry-After``, then gives up. A 429 asking for more
    than ``max_wait`` seconds is not waited out in the turn (it would hold the person's conversation): the
    error is raised at once, and the reply goes to the outbox, which waits as long as Slack asked."""

    def __init__(self, max_retry_count: int = 2, *, sleep: Sleep = asyncio.sleep, max_wait: float = 60.0):
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("rate limit retry without a response")
        state.next_attempt_requested = True
        await self._sleep(min(_retry_after(response), self.max_wait))
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    return retry_after_header(response.headers)


def retry_after_header(headers: Any) -> float:
    """Seconds in a ``Retry-After`` header (1 when absent or unreadable)."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(raw).strip()))
            except ValueError:
                break
    return 1.0


class ServerErrorHandler(AsyncServerErrorRetryHandler):
    """Retries 500, 502, 503 and 504 with backoff."""

    def __init__(self, max_retry_count: int = 2, *, sleep: Sleep = asyncio.sleep):
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in (500, 502, 503, 504)

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self._sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


#: Errors from the network rather than from Slack: worth trying again later.
NETWORK_ERRORS = (ClientError, asyncio.TimeoutError, OSError)


def retry_later(exc: BaseException) -> tuple[bool, float | None]:
    """Whether a failed Web API call may succeed later (a 5xx, a 429, the network), and how long Slack asked
    us to wait. ``ok: false`` with HTTP 200 (``channel_not_found``, ``msg_too_long``...) would fail again."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        if status == 429:
            return True, retry_after_header(getattr(exc.response, "headers", None))
        return status >= 500, None
    return isinstance(exc, NETWORK_ERRORS), None


#: The loggers slack-sdk's Web API and webhook clients write to. Before every call, and again on every response,
#: slack-sdk checks ``logger.level <= logging.DEBUG`` (the logger's own level, 0 when unset, not the level it
#: inherits) and, if so, formats the request and the whole response body for a debug line that logging then
#: drops. Their own level is set to WARNING (what the rest of slack_sdk is held at) unless someone set one.
SDK_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.webhook.async_client")


def quiet_sdk_loggers() -> None:
    """No payload formatted for debug lines nobody sees (see :data:`SDK_LOGGERS`)."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def make_client(
    token: str | None, api_url: str, *, sleep: Sleep = asyncio.sleep, session: ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client: ``api_url`` (SLACK_API_URL) as base, retrying rate limits and server errors.

    Pass a long-lived ``session`` to reuse connections (without one, slack-sdk opens one per call).
    """
    quiet_sdk_loggers()
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(),
        RetryAfterHandler(sleep=sleep),
        ServerErrorHandler(sleep=sleep),
    ]
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=handlers, session=session)



class PooledRespond(AsyncRespond):
    """Bolt's ``respond()`` over the Web API client's connection pool. Bolt's own opens a new aiohttp session,
    hence a new connection (and TLS handshake), for every answer; this one reuses the client's session."""

    def __init__(self, respond: AsyncRespond, session: ClientSession):
        super().__init__(response_url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl)
        self.session = session

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None or self.session.closed:
            return await super().__call__(
                text, blocks, attachments, response_type, replace_original, delete_original, unfurl_links,
                unfurl_media, thread_ts, metadata,
            )
        client = AsyncWebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl, session=self.session)
        if isinstance(text, dict):
            return await client.send_dict(_build_message(**text))
        message = _build_message(
            text=text, blocks=blocks, attachments=attachments, response_type=response_type,
            replace_original=replace_original, delete_original=delete_original, unfurl_links=unfurl_links,
            unfurl_media=unfurl_media, thread_ts=thread_ts, metadata=metadata,
        )
        return await client.send_dict(message)


def pooled(respond: AsyncRespond, client: AsyncWebClient) -> AsyncRespond:
    """``respond`` sent over ``client``'s connection pool when it has one (run.py gives it one)."""
    session = client.session
    return PooledRespond(respond, session) if session is not None else respond
