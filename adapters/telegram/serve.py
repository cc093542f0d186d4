"""Running the Application: long polling, or the webhook server, until told to stop.

Start-up order: getMe (retried on network errors), post_init (setMyCommands), start processing, then
either deleteWebhook + getUpdates (polling) or the webhook server + setWebhook. SIGINT/SIGTERM stop it
gracefully (polling confirms the updates it has handled). State is in the store, so a crash loses at
most the turn in flight.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from adapters.signals import stop_on_signals
from adapters.telegram.app import ALLOWED_UPDATES, TelegramApp
from adapters.telegram.retry import RetryPolicy, with_retry
from adapters.telegram.webhook import WebhookConfig, WebhookServer
from bot.logs import log
from bot.store import SessionStore

POLL_TIMEOUT = 30  # seconds a getUpdates long poll may wait


@contextlib.asynccontextmanager
async def running(
    app: TelegramApp,
    store: SessionStore,
    *,
    webhook: WebhookConfig | None = None,
    retry: RetryPolicy | None = None,
    poll_timeout: int = POLL_TIMEOUT,
) -> AsyncIterator[WebhookServer | None]:
    """Run ``app`` (polling, or the webhook server) for the body of the ``async with``; then stop it."""
    retry = retry or RetryPolicy()
    server: WebhookServer | None = None
    await with_retry(app.initialize, retry, "getMe")
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        if webhook is None:
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=poll_timeout, allowed_updates=list(ALLOWED_UPDATES), bootstrap_retries=5
            )
        else:
            server = WebhookServer(app, store, webhook)
            await server.start()
            await with_retry(
                lambda: app.bot.set_webhook(
                    webhook.url,
                    secret_token=webhook.secret_token,
                    allowed_updates=list(ALLOWED_UPDATES),
                    max_connections=webhook.max_connections,
                ),
                retry,
                "setWebhook",
            )
        log("telegram_started", mode="polling" if webhook is None else "webhook")
        yield server
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if server is not None:
            await server.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        log("telegram_stopped")


async def serve(app: TelegramApp, store: SessionStore, webhook: WebhookConfig | None) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully and close the store."""
    stop = stop_on_signals()
    try:
        async with running(app, store, webhook=webhook):
            await stop.wait()
    finally:
        await store.close()
