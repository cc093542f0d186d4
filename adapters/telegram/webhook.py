"""The webhook server: a small aiohttp app in front of PTB's update queue.

PTB's built-in (tornado) webhook server checks the secret token but offers no way to add a health check,
so this one does both: ``POST <path of the webhook URL>`` accepts an update only with the right
``X-Telegram-Bot-Api-Secret-Token`` header (otherwise 403) and queues it for the Application, which
orders it per chat like a polled update; ``GET /healthz`` reports the store's health (200 or 503).

A body that is not a JSON object with an ``update_id`` gets 400. An update PTB cannot read (the poison
updates of :mod:`adapters.telegram.intake`) gets 200, so Telegram does not deliver it again and again,
and is skipped; only its ``update_id`` and type are logged, never the body.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from adapters.health import HEALTH_PATH, health_response
from adapters.telegram.intake import read_update
from bot.logs import log, log_error
from bot.store import SessionStore

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # updates are a few kilobytes; anything bigger is not from Telegram


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram should post (``url``, public HTTPS), the shared secret, and where we listen."""

    url: str
    secret_token: str
    listen: str = "127.0.0.1"
    port: int = 8443
    max_connections: int = 40

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


class WebhookServer:
    """Serves the webhook path and ``/healthz``; ``port`` is the bound port (useful with port 0)."""

    def __init__(self, app: Any, store: SessionStore, config: WebhookConfig):
        self.app = app  # a TelegramApp; Any keeps this module free of the Application's generics
        self.store = store
        self.config = config
        self.port = 0
        self._secret = config.secret_token.encode()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.config.path, self._update)
        web_app.router.add_get(HEALTH_PATH, self._health)
        runner = web.AppRunner(web_app, access_log=None)  # access logs would hold paths and addresses
        await runner.setup()
        await web.TCPSite(runner, self.config.listen, self.config.port).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log("telegram_webhook_listening", listen=self.config.listen, port=self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log("telegram_webhook_forbidden")
            return web.Response(status=403)
        if not self.app.running:
            return web.Response(status=503)  # Telegram will deliver it again
        try:
            data = await request.json()
        except Exception as exc:  # malformed JSON, a wrong encoding, a body too large: the sender's problem
            log_error("telegram_webhook_bad_update", exc)
            return web.Response(status=400)
        update = read_update(data, self.app.bot)
        if update is None:  # not an update at all (logged by read_update, by type only)
            return web.Response(status=400)
        if update.to_dict() != {"update_id": update.update_id}:  # a poison update is confirmed, not queued
            await self.app.update_queue.put(update)
        return web.Response(status=200)

    async def _health(self, request: web.Request) -> web.Response:
        return await health_response(self.store, running=bool(self.app.running))
