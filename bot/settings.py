"""Settings from the environment or a ``.env`` file (pydantic-settings).

Secrets are ``SecretStr`` so that they never appear in reprs or logs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Collection
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.ratelimit import DEFAULT_BURST, DEFAULT_RATE, RateLimiter
from bot.store import default_sqlite_path

_TELEGRAM_TOKEN = re.compile(r"^\d{5,15}:[A-Za-z0-9_-]{30,}$")
MIN_SECRET = 32  # characters; a made secret has 43 (32 random bytes)


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
    # Installable by many workspaces (HTTP mode): OAuth instead of one SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_redirect_uri: str | None = None
    # Serverless HTTP mode: respond to Slack only once the work is done (the platform freezes us after).
    slack_process_before_response: bool = False
    ypsi_store: str | None = None
    ypsi_default_area: str | None = None  # unset: Telegram asks where; Slack uses content's meta.default_area
    ypsi_secret: SecretStr | None = None
    ypsi_session_ttl: float = 24 * 3600
    ypsi_log_level: str = "INFO"
    ypsi_rate_burst: int = DEFAULT_BURST  # messages one conversation may send at once...
    ypsi_rate_per_second: float = DEFAULT_RATE  # ...then this many a second

    def rate_limiter(self) -> RateLimiter:
        try:
            return RateLimiter(self.ypsi_rate_burst, self.ypsi_rate_per_second)
        except ValueError:
            raise SettingsError("YPSI_RATE_BURST must be at least 1 and YPSI_RATE_PER_SECOND above 0.") from None

    def default_area(self, areas: Collection[str]) -> str | None:
        """YPSI_DEFAULT_AREA checked against the content's areas (one check for every platform): ``None``
        when it is not set; raises SettingsError with one sentence when it names no area."""
        if self.ypsi_default_area is None:
            return None
        area = self.ypsi_default_area.strip().lower()
        if area not in areas:
            raise SettingsError(f"YPSI_DEFAULT_AREA must be one of {', '.join(sorted(areas))}, not {area!r}.")
        return area

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
        and kept beside its state file, readable only by its user. An empty or short secret, set or read
        from the file, stops the start: it would make stored keys linkable to platform ids and buttons
        forgeable.
        """
        if self.ypsi_secret is not None and self.ypsi_secret.get_secret_value():
            value = self.ypsi_secret.get_secret_value()
            if len(value.strip()) < MIN_SECRET:
                raise SettingsError(
                    f"YPSI_SECRET is too short: use at least {MIN_SECRET} random characters "
                    "(for example from `openssl rand -hex 32`)."
                )
            return value
        if self.ypsi_store and self.ypsi_store.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("YPSI_SECRET must be set when YPSI_STORE is Redis, the same on every instance.")
        path = self.secret_path()
        try:
            if not path.exists():
                _write_new_secret(path)
            value = path.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"cannot make or read the secret file {path} ({type(exc).__name__}): check that its folder is "
                "writable and the disk has space, or set YPSI_SECRET."
            ) from None
        if len(value) < MIN_SECRET:
            raise SettingsError(
                f"the secret file {path} is empty or too short (a start on a full disk can leave it so): "
                "delete it to have a new one made, or set YPSI_SECRET."
            )
        return value

    def secret_path(self) -> Path:
        """Where a single instance keeps its own secret: beside its SQLite state file."""
        if "YPSI_SECRET_FILE" in os.environ:
            return Path(os.environ["YPSI_SECRET_FILE"])
        store = self.ypsi_store or ""
        if store.startswith("sqlite:") and store.removeprefix("sqlite://"):
            return Path(store.removeprefix("sqlite://")).with_name("secret")
        return default_sqlite_path().with_name("secret")


def _write_new_secret(path: Path) -> None:
    """Write a new random secret atomically: a private temp file, fsync, then link into place (which never
    replaces a secret another process made first), and fsync the folder. A crash or a full disk leaves no
    file, or a whole one; never an empty one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def load_settings() -> Settings:
    return Settings()
