"""Settings from the environment or a ``.env`` file (pydantic-settings).

Secrets are ``SecretStr`` so that they never appear in reprs or logs.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.store import default_sqlite_path

_TELEGRAM_TOKEN = re.compile(r"^\d{5,15}:[A-Za-z0-9_-]{30,}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence for the person starting the bot."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    ypsi_store: str | None = None
    ypsi_default_area: str = "national"
    ypsi_secret: SecretStr | None = None
    ypsi_session_ttl: float = 24 * 3600
    ypsi_log_level: str = "INFO"

    def telegram_token(self) -> str:
        token = self.telegram_bot_token.get_secret_value().strip() if self.telegram_bot_token else ""
        if not token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it.")
        if not _TELEGRAM_TOKEN.match(token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then about 35 characters)."
            )
        return token

    def secret(self) -> str:
        """The deployment secret that keys stored conversation ids and signs buttons.

        Several instances must share it (set YPSI_SECRET); a single instance without it gets one made once
        and kept beside its state file, readable only by its user.
        """
        if self.ypsi_secret is not None and self.ypsi_secret.get_secret_value():
            return self.ypsi_secret.get_secret_value()
        if self.ypsi_store and self.ypsi_store.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("YPSI_SECRET must be set when YPSI_STORE is Redis, the same on every instance.")
        path = Path(os.environ.get("YPSI_SECRET_FILE", str(default_sqlite_path().with_name("secret"))))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        return path.read_text().strip()


def load_settings() -> Settings:
    return Settings()
