"""``ypsi-bot telegram``: long polling by default, or ``--webhook-url`` for a webhook with a secret token.

Settings are checked (:func:`telegram_tokens`) before python-telegram-bot and aiohttp are even imported, so a
missing or malformed token stops the start at once with one sentence. The running is in :mod:`.serve`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.assistant import Defaults
from bot.settings import Settings, SettingsError
from dialogs.content import Content

if TYPE_CHECKING:
    from bot.service import Service

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


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
    """Ask who and where, unless YPSI_DEFAULT_AREA was set (then "where" is not asked)."""
    return Defaults(area=settings.default_area(content.areas))


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


@dataclass(frozen=True)
class TelegramTokens:
    bot: str
    webhook_url: str | None = None
    webhook_secret: str | None = None  # set in webhook mode


def telegram_tokens(settings: Settings, webhook_url: str | None = None) -> TelegramTokens:
    """The token (and in webhook mode the URL and secret) checked; raises SettingsError with one sentence."""
    token = settings.telegram_token()
    if webhook_url is None:
        return TelegramTokens(token)
    if urlsplit(webhook_url).scheme != "https" or not urlsplit(webhook_url).hostname:
        raise SettingsError("--webhook-url must be a public https:// URL that Telegram can reach.")
    return TelegramTokens(token, webhook_url, webhook_secret(settings))


def run_telegram(settings: Settings, tokens: TelegramTokens, service: Service, port: int = 8443,
                 listen: str = "127.0.0.1") -> int:
    """Run the bot until SIGINT/SIGTERM. Bad settings raise SettingsError (the CLI prints one sentence)."""
    # Opt in to PTB's future timedelta durations, which silences a deprecation warning on every 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")

    from telegram.error import InvalidToken, NetworkError

    from adapters.telegram.app import TelegramAdapter, build_application
    from adapters.telegram.intake import install_handler_scrub
    from adapters.telegram.serve import serve
    from adapters.telegram.webhook import WebhookConfig

    redact_in_logs(tokens.bot, tokens.webhook_secret or "")
    install_handler_scrub()  # python-telegram-bot's records lose their arguments (raw updates) and tracebacks
    defaults = defaults_for(settings, service.assistant.content)
    webhook = None
    if tokens.webhook_url and tokens.webhook_secret:
        webhook = WebhookConfig(tokens.webhook_url, tokens.webhook_secret, listen, port)
    adapter = TelegramAdapter(service, defaults=defaults)
    app = build_application(tokens.bot, adapter, base_url=settings.telegram_base_url, polling=webhook is None)
    try:
        asyncio.run(serve(app, service.store, webhook))
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
