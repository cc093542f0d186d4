"""HTTP mode: the aiohttp application that verifies Slack's signed requests and hands them to Bolt, and
``/healthz``."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.health import HEALTH_PATH, health_response
from adapters.slack.app import LAZY_WORK, SlackBot
from bot.logs import log, log_error

# Request bodies larger than this (a long DM: Slack allows 40,000 characters) are read and dispatched at most
# HEAVY_AT_ONCE at a time, so that a flood of them never delays small requests (slash commands, buttons),
# which are never held.
HEAVY_BODY = 16 * 1024
HEAVY_AT_ONCE = 4


def verified(signing_secret: str, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Slack's v0 request signature, over the raw bytes; a timestamp that is not a number, or is more than
    five minutes off, fails like a wrong signature."""
    if not signing_secret or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > 300:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def web_app(bot: SlackBot, path: str = "/slack/events", clock: Callable[[], float] = time.time) -> web.Application:
    """The aiohttp application for HTTP mode: Slack's requests at ``path``, and ``/healthz``.

    A request is verified before its body is read as anything: a missing, wrong or stale signature, or a
    timestamp that is not a number, gets 401; a signed body that is not the JSON or form Slack sends gets
    400. Only then does Bolt see it (and verify it again). A slash command or a button press of the shape Slack
    sends is answered 200 at once, and handed to Bolt after the response (:meth:`SlackBot.acks_before_dispatch`),
    except in serverless mode, where the response waits for the work."""

    heavy = asyncio.Semaphore(HEAVY_AT_ONCE)

    async def events(request: web.Request) -> web.Response:
        if (request.content_length or 0) > HEAVY_BODY:
            async with heavy:
                return await handle(request)
        return await handle(request)

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not verified(bot.signing_secret, raw, timestamp, signature, clock()):
            log("slack_unverified", level=logging.WARNING, size=len(raw))
            return web.Response(status=401, text="invalid request")
        try:
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
            if not isinstance(bolt_request.body, dict) or not bolt_request.body:
                raise ValueError("not an object")
        except Exception as exc:  # undecodable, not JSON, a JSON list, a payload of the wrong shape...
            log("slack_malformed", level=logging.WARNING, error=type(exc).__name__, size=len(raw))
            return web.Response(status=400, text="malformed body")
        if bot.acks_before_dispatch(bolt_request.body):  # ack first: Bolt and the turn run after the response
            bot.dispatch_after_ack(bolt_request)
            return web.Response(status=200, text="")
        lazy: list[asyncio.Future[None]] = []
        started = LAZY_WORK.set(lazy if bot.serverless else None)
        try:
            bolt_response = await bot.app.async_dispatch(bolt_request)
        except Exception as exc:  # never a 500 with a traceback for a body Bolt cannot make sense of
            log_error("slack_dispatch_failed", exc)
            return web.Response(status=400, text="malformed body")
        finally:
            LAZY_WORK.reset(started)
        if lazy:  # serverless: the platform may freeze us once the response is out, so the work goes first
            await asyncio.gather(*lazy, return_exceptions=True)
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        return await health_response(bot.service.store)

    async def oauth(request: web.Request) -> web.Response:
        """Bolt's OAuth flow: the "Add to Slack" page, then Slack's redirect back with the code."""
        flow = bot.app.oauth_flow
        assert flow is not None
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

    app = web.Application()
    app.router.add_post(path, events)
    app.router.add_get(HEALTH_PATH, healthz)
    if bot.app.oauth_flow is not None:
        app.router.add_get(bot.app.oauth_flow.install_path, oauth)
        app.router.add_get(bot.app.oauth_flow.redirect_uri_path, oauth)
    return app
