"""``ypsi-bot slack``: run the Slack app in Socket Mode (default) or over HTTP (``--http``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.signals import stop_on_signals
from adapters.slack.app import SlackBot
from adapters.slack.client import make_client
from adapters.slack.http import web_app
from adapters.slack.install import oauth_settings, stores_for
from bot.logs import log
from bot.service import Service
from bot.settings import Settings, SettingsError

# auth.test errors that mean the token itself is wrong, not that Slack is unreachable.
_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


SWITCH_INTERVAL = 0.001  # seconds


@dataclass(frozen=True)
class SlackTokens:
    bot: str  # "" with OAuth: each workspace's token comes from its installation
    app: str = ""  # Socket Mode
    signing_secret: str = ""  # HTTP mode
    client_id: str = ""  # OAuth (HTTP mode): installable by many workspaces
    client_secret: str = ""


def _secret(value: object) -> str:
    get = getattr(value, "get_secret_value", None)
    return str(get()).strip() if callable(get) else ""


def slack_tokens(settings: Settings, *, http: bool) -> SlackTokens:
    """The tokens the chosen mode needs, or :class:`SettingsError` naming the one that is missing or wrong.
    With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (HTTP mode), the app is installed by OAuth instead of
    SLACK_BOT_TOKEN."""
    client_id = (settings.slack_client_id or "").strip()
    client_secret = _secret(settings.slack_client_secret)
    if client_id or client_secret:
        if not (client_id and client_secret):
            raise SettingsError("OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information page).")
        if not http:
            raise SettingsError("OAuth installation (SLACK_CLIENT_ID) needs HTTP mode: run `ypsi-bot slack --http`.")
        secret = _secret(settings.slack_signing_secret)
        if not secret:
            raise SettingsError("SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page.")
        return SlackTokens("", signing_secret=secret, client_id=client_id, client_secret=client_secret)
    bot = _secret(settings.slack_bot_token)
    if not bot:
        raise SettingsError(
            "SLACK_BOT_TOKEN is not set: install the app to your workspace and copy its Bot User OAuth Token "
            "(xoxb-...) from the app's OAuth & Permissions page."
        )
    if not bot.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN does not look like a bot token: it should start with xoxb-.")
    if http:
        secret = _secret(settings.slack_signing_secret)
        if not secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from the app's Basic Information "
                "page (or run Socket Mode, without --http, with SLACK_APP_TOKEN)."
            )
        return SlackTokens(bot, signing_secret=secret)
    app = _secret(settings.slack_app_token)
    if not app:
        raise SettingsError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with "
            "connections:write from the app's Basic Information page "
            "(or run `ypsi-bot slack --http` with SLACK_SIGNING_SECRET)."
        )
    if not app.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN does not look like an app-level token: it should start with xapp-.")
    return SlackTokens(bot, app=app)


def run_slack(
    settings: Settings, tokens: SlackTokens, service: Service, http: bool = False, port: int = 3000,
    listen: str = "127.0.0.1",
) -> int:
    """Run until SIGINT or SIGTERM. A refused bot token raises :class:`SettingsError`."""
    asyncio.run(serve(settings, tokens, service, http=http, port=port, listen=listen))
    return 0


async def serve(
    settings: Settings,
    tokens: SlackTokens,
    service: Service,
    *,
    http: bool,
    port: int = 3000,
    listen: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    ready: Callable[[SlackBot, int | None], None] | None = None,
) -> None:
    """Serve until ``stop`` is set (by SIGINT/SIGTERM when not given). ``ready`` gets the bot and the HTTP
    port once Slack can reach it."""
    stop = stop or stop_on_signals()
    # The crisis check of a flood's extra messages runs in a worker thread; a shorter GIL switch interval (the
    # default is 5 ms) lets the event loop, hence every other person's ack, take the GIL back sooner from it.
    sys.setswitchinterval(SWITCH_INTERVAL)
    store = service.store
    session = aiohttp.ClientSession()  # one connection pool for every Web API call
    try:
        default_area = settings.default_area(service.assistant.content.areas)  # before Slack is called
        client = make_client(tokens.bot or None, settings.slack_api_url, session=session)
        oauth = None
        if tokens.client_id:
            installations, states = stores_for(store, settings.ypsi_store or "", tokens.client_id)
            oauth = oauth_settings(
                tokens.client_id, tokens.client_secret, installations, states, redirect_uri=settings.slack_redirect_uri
            )
        else:
            await _check_bot_token(client)
        bot = SlackBot(
            service,
            client=client,
            signing_secret=tokens.signing_secret,
            default_area=default_area,
            check_process=True,
            oauth=oauth,
            process_before_response=http and settings.slack_process_before_response,
        )
        if http:
            runner = web.AppRunner(web_app(bot), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, listen, port)
            await site.start()
            bound = int(runner.addresses[0][1])
            log("slack_listening", mode="http", address=listen, port=bound, store=store.backend,
                oauth=oauth is not None, serverless=bot.serverless)
            if ready is not None:
                ready(bot, bound)
            try:
                await stop.wait()
            finally:
                await runner.cleanup()
        else:
            handler = AsyncSocketModeHandler(bot.app, app_token=tokens.app)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log("slack_listening", mode="socket", store=store.backend)
            if ready is not None:
                ready(bot, None)
            try:
                await stop.wait()
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
        await bot.outbox.stop()  # what is still waiting is logged as a count (slack_outbox_unsent_at_stop)
        bot.close()
        log("slack_stopped")
    finally:
        await session.close()
        await store.close()


async def _check_bot_token(client: AsyncWebClient) -> None:
    """Fail at once, in one sentence, if Slack refuses the bot token; carry on if Slack is unreachable."""
    try:
        await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in _REFUSED:
            raise SettingsError(
                f"Slack refused SLACK_BOT_TOKEN ({error}): copy it again from the app's "
                "OAuth & Permissions page, after installing the app."
            ) from None
        log("slack_auth_check_failed", error=error[:40])
    except Exception as exc:  # unreachable now; Bolt checks again on the first request
        log("slack_auth_check_failed", error=type(exc).__name__)

