"""``ypsi-bot telegram``: long polling by default, or ``--webhook-url`` for a webhook with a secret token.

Start-up order: getMe (retried on network errors), post_init (setMyCommands), start processing, then
either deleteWebhook + getUpdates (polling) or the webhook server + setWebhook. SIGINT/SIGTERM stop it
gracefully (polling confirms the updates it has handled). State is in the store, so a crash loses at
most the turn in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError

from adapters.telegram.app import ALLOWED_UPDATES, TelegramAdapter, TelegramApp, build_application
from adapters.telegram.retry import RetryPolicy, with_retry
from adapters.telegram.webhook import WebhookConfig, WebhookServer
from bot.assistant import Assistant, Defaults
from bot.logs import log, setup_logging
from bot.service import Service
from bot.settings import Settings, SettingsError
from bot.store import SessionStore, open_store
from dialogs.content import Content, ContentError, load_content

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
POLL_TIMEOUT = 30  # seconds a getUpdates long poll may wait


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, required in webhook mode; raises SettingsError with one sentence."""
    secret = settings.telegram_webhook_secret
    value = secret.get_secret_value().strip() if secret is not None else ""
    if not value:
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs a secret of 1 to 256 letters, "
            "digits, _ or -."
        )
    if not _WEBHOOK_SECRET.match(value):
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET may only use letters, digits, _ and - (1 to 256 of them)."
        )
    return value


def defaults_for(settings: Settings, content: Content) -> Defaults:
    """Ask who and where, unless YPSI_DEFAULT_AREA was set explicitly (then "where" is not asked)."""
    if "ypsi_default_area" not in settings.model_fields_set:
        return Defaults()
    area = settings.ypsi_default_area.strip().lower()
    if area not in content.areas:
        known = ", ".join(sorted(content.areas))
        raise SettingsError(f"YPSI_DEFAULT_AREA must be one of {known}, not {area!r}.")
    return Defaults(area=area)


class _RedactSecrets(logging.Filter):
    """Defence in depth: should any library log a URL with the token in it, the token is blanked."""

    def __init__(self, *secrets: str):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for s in self.secrets:
                message = message.replace(s, "[redacted]")
            record.msg, record.args = message, None
        return True


def redact_in_logs(*secrets: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactSecrets(*secrets))


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
        await app.shutdown()
        log("telegram_stopped")


async def _serve(app: TelegramApp, store: SessionStore, webhook: WebhookConfig | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        async with running(app, store, webhook=webhook):
            await stop.wait()
    finally:
        await store.close()


def run_telegram(
    settings: Settings, webhook_url: str | None = None, port: int = 8443, listen: str = "127.0.0.1"
) -> int:
    """Run the bot until SIGINT/SIGTERM. Bad settings raise SettingsError (the CLI prints one sentence)."""
    token = settings.telegram_token()
    webhook: WebhookConfig | None = None
    if webhook_url is not None:
        if urlsplit(webhook_url).scheme != "https" or not urlsplit(webhook_url).hostname:
            raise SettingsError("--webhook-url must be a public https:// URL that Telegram can reach.")
        webhook = WebhookConfig(webhook_url, webhook_secret(settings), listen, port)
    # Opt in to PTB's future timedelta durations, which silences a deprecation warning on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    setup_logging(settings.ypsi_log_level)
    redact_in_logs(token, webhook.secret_token if webhook else "")
    try:
        content = load_content()
    except ContentError as exc:
        print(f"ypsi-bot: the content has problems; run `ypsi-bot content check`:\n{exc}", file=sys.stderr)
        return 1
    defaults = defaults_for(settings, content)
    secret = settings.secret()
    try:
        store = open_store(settings.ypsi_store, ttl=settings.ypsi_session_ttl)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    adapter = TelegramAdapter(Service(Assistant(content, secret), store, secret), defaults=defaults)
    app = build_application(token, adapter, base_url=settings.telegram_base_url, polling=webhook is None)
    try:
        asyncio.run(_serve(app, store, webhook))
    except InvalidToken:
        raise SettingsError("Telegram did not accept TELEGRAM_BOT_TOKEN: check it with @BotFather.") from None
    except NetworkError as exc:
        host = urlsplit(settings.telegram_base_url).netloc
        print(
            f"ypsi-bot: could not reach the Telegram Bot API at {host} ({type(exc).__name__}); "
            "check the network, any proxy settings and TELEGRAM_BASE_URL.",
            file=sys.stderr,
        )
        return 1
    return 0
