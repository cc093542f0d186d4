"""Installable by many workspaces: Slack's OAuth flow (Bolt's) with the installations kept on the same
database as the conversations, so one deployment serves every school in a council.

- ``YPSI_STORE=sqlite:///…`` (the default): slack-sdk's SQLite installation and OAuth state stores, in the
  same file (tables ``slack_installations``, ``slack_bots``, ``oauth_states``).
- ``YPSI_STORE=redis://…``: :class:`RedisInstallationStore` and :class:`RedisStateStore` below (slack-sdk has
  none for Redis), under the store's ``ypsi:`` namespace.

What is kept per workspace is what Slack's OAuth answer holds: the workspace and app ids, the bot token and
scopes, and the id of whoever installed the app. Nothing about any conversation.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.store import SessionStore, SQLiteStore
from bot.store.redis import RedisStore

#: The bot scopes asked for at installation: those in slack-manifest.yaml.
SCOPES = ("commands", "chat:write", "im:write", "im:history")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


def _json(value: Any) -> Any:
    return value.timestamp() if hasattr(value, "timestamp") else str(value)


class SQLiteInstallationStore(SQLite3InstallationStore):
    """slack-sdk's SQLite installation store, whose deletions it has only in the sync API (its async ones
    raise NotImplementedError)."""

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


class RedisInstallationStore(AsyncInstallationStore):
    """Installations in Redis: the latest one per workspace (``ypsi:slack:i:E:T``) and its bot
    (``ypsi:slack:b:E:T``), as JSON. Bot-only apps (ypsi-bot has no user scopes) need no more."""

    def __init__(self, redis: Redis, client_id: str, namespace: str = "ypsi"):
        self.redis = redis
        self.prefix = f"{namespace}:slack:{client_id}"

    def _key(self, kind: str, enterprise_id: str | None, team_id: str | None) -> str:
        return f"{self.prefix}:{kind}:{enterprise_id or '-'}:{team_id or '-'}"

    async def async_save(self, installation: Installation) -> None:
        team = None if installation.is_enterprise_install else installation.team_id
        body = json.dumps(installation.to_dict(), default=_json)
        await self.redis.set(self._key("i", installation.enterprise_id, team), body)
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        team = None if bot.is_enterprise_install else bot.team_id
        await self.redis.set(self._key("b", bot.enterprise_id, team), json.dumps(bot.to_dict(), default=_json))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        raw = await self.redis.get(self._key("b", enterprise_id, None if is_enterprise_install else team_id))
        return Bot(**json.loads(raw)) if raw else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        raw = await self.redis.get(self._key("i", enterprise_id, None if is_enterprise_install else team_id))
        if not raw:
            return None
        installation = Installation(**json.loads(raw))
        return None if user_id is not None and installation.user_id != user_id else installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.redis.delete(self._key("b", enterprise_id, team_id))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.redis.delete(self._key("i", enterprise_id, team_id))

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.redis.delete(self._key("i", enterprise_id, team_id), self._key("b", enterprise_id, team_id))


class RedisStateStore(AsyncOAuthStateStore):
    """OAuth ``state`` values in Redis, each usable once, for ``expiration_seconds``."""

    def __init__(self, redis: Redis, expiration_seconds: int = STATE_SECONDS, namespace: str = "ypsi"):
        self.redis = redis
        self.expiration_seconds = expiration_seconds
        self.prefix = f"{namespace}:slack:state"

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self.redis.set(f"{self.prefix}:{state}", str(time.time()), ex=self.expiration_seconds)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(await self.redis.delete(f"{self.prefix}:{state}"))


def stores_for(
    store: SessionStore, url: str, client_id: str
) -> tuple[AsyncInstallationStore, AsyncOAuthStateStore]:
    """The installation and OAuth state stores on the same database as ``store`` (opened from ``url``)."""
    if isinstance(store, SQLiteStore):
        path = str(store.path)
        return (
            SQLiteInstallationStore(database=path, client_id=client_id),
            SQLite3OAuthStateStore(database=path, expiration_seconds=STATE_SECONDS),
        )
    if isinstance(store, RedisStore):
        redis = Redis.from_url(url)
        return RedisInstallationStore(redis, client_id, store.namespace), RedisStateStore(redis)
    raise ValueError(f"OAuth installation needs a durable store (sqlite or redis), not {store.backend}")


def oauth_settings(
    client_id: str,
    client_secret: str,
    installations: AsyncInstallationStore,
    states: AsyncOAuthStateStore,
    *,
    scopes: Sequence[str] = SCOPES,
    redirect_uri: str | None = None,
) -> AsyncOAuthSettings:
    """Bolt's OAuth settings: ``/slack/install`` starts an installation, ``/slack/oauth_redirect`` finishes it."""
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(scopes),
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        redirect_uri=redirect_uri,
    )


def cached_authorize(
    settings: AsyncOAuthSettings, client: AsyncWebClient, logger: logging.Logger
) -> AsyncInstallationStoreAuthorize:
    """Bolt's installation-store authorize, remembering each token's ``auth.test`` (Bolt's default asks Slack
    again on every request). Cleared when a workspace revokes its tokens or uninstalls the app."""
    assert settings.installation_store is not None
    return AsyncInstallationStoreAuthorize(
        installation_store=settings.installation_store,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        bot_only=True,
        cache_enabled=True,
        client=client,
        logger=logger,
    )
