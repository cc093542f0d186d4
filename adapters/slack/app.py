"""The Slack app: Bolt listeners that turn slash commands, buttons, DMs and App Home into assistant turns.

Privacy rule: anything about a case (questions, outcomes, decision records) is only ever posted in the
user's direct messages with the bot; other answers to a slash command are ephemeral. One conversation per
user and workspace, so the slash command, the DM and App Home share one triage.

Every command and action is acknowledged first (Bolt runs listeners after the acknowledgement with
``process_before_response=False``); requests no listener matches are answered 200 so Slack does not retry
them; redeliveries are recognised by a stable id (the event id, or a hash of the trigger id).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
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
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    ACTION_AREA,
    ACTION_FORGET,
    ACTION_OPTION,
    ACTION_TRIAGE,
    Renderer,
    SlackMessage,
)
from bot.assistant import Defaults, Reply
from bot.logs import log, log_error
from bot.service import Service
from bot.types import ConversationRef, Inbound, Option, Outbound

Sleep = Callable[[float], Awaitable[None]]
Done = Callable[[str, str], None]

PLATFORM = "slack"
# Replies about a case: never shown outside the user's DM with the bot.
PRIVATE_KINDS = frozenset({"menu", "outcome", "record"})
# Slash command words passed to the assistant as commands (anything else is read as typed text).
ASSISTANT_COMMANDS = frozenset({"urgent", "emergency", "sos", "forget", "exit", "quit", "restart", "back"})
# Message subtypes a person wrote to the bot; the rest (edits, deletions, joins...) are ignored.
TEXT_SUBTYPES = frozenset({None, "thread_broadcast"})


# ------------------------------------------------------------------------------------- Web API client


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after the number of seconds in ``Retry-After`` (capped), then gives up."""

    def __init__(self, max_retry_count: int = 2, *, sleep: Sleep = asyncio.sleep, max_wait: float = 60.0):
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self.max_wait = max_wait

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
    for name, value in response.headers.items():
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


def make_client(
    token: str, api_url: str, *, sleep: Sleep = asyncio.sleep, session: ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client: ``api_url`` (SLACK_API_URL) as base, retrying rate limits and server errors.

    Pass a long-lived ``session`` to reuse connections (without one, slack-sdk opens one per call).
    """
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(),
        RetryAfterHandler(sleep=sleep),
        ServerErrorHandler(sleep=sleep),
    ]
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=handlers, session=session)


# ---------------------------------------------------------------------------------------------- the app


@dataclass
class Where:
    """Where an interaction happened, hence where its replies may go."""

    client: AsyncWebClient
    team: str
    user: str
    dm: str | None = None  # the DM with the bot, when the interaction happened there
    respond: AsyncRespond | None = None  # an ephemeral answer in a channel, when one is possible
    channel: str | None = None  # the channel a slash command was typed in
    pressed_ts: str | None = None  # the DM message whose button was pressed
    token: str = ""  # the pressed button's token


def _event_id(prefix: str, raw: str | None) -> str | None:
    """A short stable id for a redelivered interaction (the raw ids are not kept)."""
    if not raw:
        return None
    return prefix + ":" + hashlib.sha256(raw.encode()).hexdigest()[:16]


class SlackBot:
    """Holds the Bolt app and the service; one instance serves a workspace."""

    def __init__(
        self,
        service: Service,
        *,
        client: AsyncWebClient,
        signing_secret: str = "",
        default_area: str | None = None,
        command: str = "/ypsi",
        on_done: Done | None = None,
    ):
        self.service = service
        self.assistant = service.assistant
        self.content = service.assistant.content
        areas = self.content.areas
        self.default_area = default_area if default_area in areas else self.content.meta.default_area
        self.render = Renderer(self.content, self.assistant, command)
        self.on_done = on_done
        # Bolt's loggers may print payloads below WARNING; its own logger is configured from this one.
        bolt_logger = logging.getLogger("slack_bolt")
        if bolt_logger.getEffectiveLevel() < logging.WARNING:
            bolt_logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _TokenUnusedFilter) for f in bolt_logger.filters):
            bolt_logger.addFilter(_TokenUnusedFilter())
        self.app = AsyncApp(
            name="ypsi-bot",
            client=client,
            signing_secret=signing_secret,
            logger=bolt_logger,
            raise_error_for_unhandled_request=True,
            process_before_response=False,
        )
        self.app.command(re.compile(r"^/"))(self._on_command)
        self.app.action(re.compile(r"^ypsi_"))(self._on_action)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.event("message")(self._on_message)
        self.app.error(self._on_error)

    # ------------------------------------------------------------------------------------- helpers

    def defaults(self) -> Defaults:
        return Defaults(who="practitioner", area=self.default_area, fixed_who=True)

    @staticmethod
    def ref(team: str, user: str) -> ConversationRef:
        """One conversation per user and workspace, whatever the channel."""
        return ConversationRef(PLATFORM, team, "", user)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.service.clock(), dt.UTC)

    async def _guarded(self, kind: str, work: Awaitable[str]) -> None:
        """Run one interaction's work after the ack: log failures by type only, never raise into Bolt."""
        result = "error"
        started = time.perf_counter()
        try:
            result = await work
        except SlackApiError as exc:
            log("slack_api_error", level=logging.WARNING, kind=kind, error=str(exc.response.get("error", "")))
        except Exception as exc:
            log_error("slack_failed", exc, kind=kind)
        finally:
            log("slack_done", kind=kind, result=result, ms=round((time.perf_counter() - started) * 1000, 1))
            if self.on_done is not None:
                self.on_done(kind, result)

    # ------------------------------------------------------------------------------------ listeners

    async def _on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        await self._guarded("command", self._command(command, respond, client, context))

    async def _on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        await self._guarded("action", self._action(body, action, respond, client, context))

    async def _on_home_opened(self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            if self.on_done is not None:
                self.on_done("home", "ignored")
            return
        await self._guarded("home", self._publish_home(client, _team(context), str(event.get("user", ""))))

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._guarded("message", self._message(event, body, client, context))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Answer 200 so that Slack does not redeliver events we do not subscribe to or ignore.
            kind = body.get("type", "")
            event_type = body.get("event", {}).get("type", "") if isinstance(body.get("event"), dict) else ""
            log("slack_unhandled", kind=str(kind)[:40], event=str(event_type)[:40])
            if self.on_done is not None:
                self.on_done("unhandled", str(event_type or kind))
            return BoltResponse(status=200, body="")
        log_error("slack_listener_failed", error)
        return None

    # ---------------------------------------------------------------------------------- slash command

    async def _command(
        self,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> str:
        team, user = _team(context, command.get("team_id")), str(command.get("user_id", ""))
        if not user:  # Slack always names the user; a payload without one is not from Slack
            return "ignored"
        text = typed(str(command.get("text") or "")).strip()
        name, _, arg = text.partition(" ")
        name, arg = name.lower(), arg.strip()
        if not text or name == "menu":
            await respond(**self._menu().as_kwargs(), response_type="ephemeral")
            return "menu"
        if name in ("triage", "start"):
            inbound = Inbound("command", command="triage", arg=arg)
        elif name in ("help", "contacts") or name in ASSISTANT_COMMANDS:
            inbound = Inbound("command", command=name, arg=arg)
        else:
            inbound = Inbound("text", text=text)
        ref = self.ref(team, user)
        handled = await self.service.handle(
            ref, inbound, event_id=_event_id("cmd", command.get("trigger_id")), defaults=self.defaults()
        )
        if handled.duplicate or handled.reply is None:
            return "duplicate"
        if name == "help":
            areas, slash = self.render.area_order(), str(command.get("command") or self.render.command)
            help_message = self.render.help(handled.reply.replies, areas, command=slash)
            await respond(**help_message.as_kwargs(), response_type="ephemeral")
            return "help"
        where = Where(client, team, user, respond=respond, channel=str(command.get("channel_id", "")))
        await self._deliver(handled.reply, where)
        return handled.reply.event

    def _menu(self) -> SlackMessage:
        topics = [
            Option(self.assistant.option_for("t", t.id), t.title)
            for t in self.content.topics.values()
            if "practitioner" in t.who
        ]
        nav = [
            Option(self.assistant.option_for("g", name), self.content.text(f"nav_{name}"), nav=True)
            for name in ("contacts", "help", "urgent")
        ]
        return self.render.menu(topics, nav)

    # ------------------------------------------------------------------------------------------ buttons

    async def _action(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> str:
        user = str((body.get("user") or {}).get("id", ""))
        if not user:
            return "ignored"
        team = _team(context, (body.get("user") or {}).get("team_id"))
        action_id = str(action.get("action_id", ""))
        event_id = _event_id("act", body.get("trigger_id") or action.get("action_ts"))
        ref = self.ref(team, user)
        if action_id == ACTION_AREA:
            area = str((action.get("selected_option") or {}).get("value", ""))
            if area not in self.content.areas:
                return "bad_area"
            handled = await self.service.handle(
                ref,
                Inbound("command", command="start", arg=area),
                event_id=event_id,
                defaults=self.defaults(),
            )
            if not handled.duplicate:
                await self._publish_home(client, team, user)
            return "area"
        if action_id == ACTION_FORGET:
            handled = await self.service.handle(
                ref, Inbound("command", command="forget"), event_id=event_id, defaults=self.defaults()
            )
            await self._publish_home(client, team, user, note=self.content.text("slack_home_forgotten"))
            return "forget"
        if action_id == ACTION_TRIAGE:
            inbound = Inbound("command", command="triage")
            token = ""
        elif action_id.startswith(ACTION_OPTION):
            token = str(action.get("value", ""))
            inbound = Inbound("action", action=token)
        else:
            return "ignored"  # e.g. a link button: nothing to do
        handled = await self.service.handle(ref, inbound, event_id=event_id, defaults=self.defaults())
        if handled.duplicate or handled.reply is None:
            return "duplicate"
        await self._deliver(handled.reply, self._where_pressed(body, respond, client, team, user, token))
        return handled.reply.event

    @staticmethod
    def _where_pressed(
        body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, team: str, user: str, token: str
    ) -> Where:
        container = body.get("container") or {}
        if container.get("type") == "view":  # App Home: replies go to the DM
            return Where(client, team, user)
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        if container.get("is_ephemeral") or not channel.startswith("D"):
            return Where(client, team, user, respond=respond, channel=channel)
        return Where(client, team, user, dm=channel, pressed_ts=container.get("message_ts"), token=token)

    # ---------------------------------------------------------------------------------------------- DMs

    async def _message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> str:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return "ignored"
        subtype = event.get("subtype")
        user = str(event.get("user") or "")
        if not user:
            return "ignored"
        if event.get("files") or subtype == "file_share":
            # Described by kind only: never downloaded, never looked up.
            # The message's own words are still read for crisis words, like any typed text.
            inbound = Inbound("media", media=_media_kind(event), text=typed(str(event.get("text") or "")))
        elif subtype in TEXT_SUBTYPES and str(event.get("text") or "").strip():
            inbound = Inbound("text", text=typed(str(event.get("text") or "")))
        else:
            return "ignored"
        team = _team(context, body.get("team_id"))
        handled = await self.service.handle(
            self.ref(team, user), inbound, event_id=body.get("event_id"), defaults=self.defaults()
        )
        if handled.duplicate or handled.reply is None:
            return "duplicate"
        await self._deliver(handled.reply, Where(client, team, user, dm=str(event.get("channel") or "") or None))
        return handled.reply.event

    # ------------------------------------------------------------------------------------------ App Home

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str, note: str = "") -> str:
        session = await self.service.store.load(self.service.key(self.ref(team, user)))
        area = session.area if session is not None and session.area in self.content.areas else self.default_area
        assert area is not None
        await client.views_publish(user_id=user, view=self.render.home(area, self.now(), note))
        return "published"

    # ------------------------------------------------------------------------------------------ delivery

    def _platform_wording(self, out: Outbound, reply: Reply) -> Outbound:
        if reply.event == "forget" and out.kind == "farewell":
            return Outbound(self.content.text("slack_forgotten"), kind="farewell")
        return out

    async def _deliver(self, reply: Reply, where: Where) -> None:
        """Send a turn's replies where they may go: the DM for anything about a case, else ephemeral."""
        outs = [self._platform_wording(o, reply) for o in reply.replies]
        if where.dm is not None:
            await self._post(where.client, where.dm, outs, reply.event, where.pressed_ts, where.token)
            return
        if where.respond is None:
            dm = await self._open_dm(where.client, where.user)
            await self._post(where.client, dm, outs, reply.event)
            return
        private = [o for o in outs if o.kind in PRIVATE_KINDS]
        public = [o for o in outs if o.kind not in PRIVATE_KINDS]
        note: SlackMessage | None = None
        if private:
            dm = await self._open_dm(where.client, where.user)
            await self._post(where.client, dm, private, reply.event)
            if dm != where.channel:
                note = self.render.dm_note(where.team, dm)
        if public or note is not None:
            msg = self.render.merged(public) if public else None
            blocks = (msg.blocks if msg else []) + (note.blocks if note else [])
            text = "\n\n".join(x.text for x in (msg, note) if x is not None)
            await where.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    async def _open_dm(self, client: AsyncWebClient, user: str) -> str:
        opened = await client.conversations_open(users=user)
        return str(opened["channel"]["id"])

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        outs: list[Outbound],
        event: str,
        pressed_ts: str | None = None,
        token: str = "",
    ) -> None:
        """Post replies in the DM. A pressed question is edited in place: to "✓ question — answer" when it
        was answered, to the reply itself when the reply replaces it (back, start again), or to the
        explanation when "What does this mean?" was pressed (the question is then asked again below)."""
        if pressed_ts:
            update: SlackMessage | None = None
            if event in ("answer", "outcome"):
                update = self.render.answered(token)
            if update is None and outs and (outs[0].replace_menu or event == "explain"):
                update, outs = self.render.message(outs[0]), outs[1:]
            if update is not None:
                try:
                    await client.chat_update(channel=channel, ts=pressed_ts, **update.as_kwargs())
                except SlackApiError as exc:  # too old to edit, deleted...: the reply still goes below
                    log("slack_update_failed", level=logging.WARNING, error=str(exc.response.get("error", "")))
        for out in outs:
            await client.chat_postMessage(channel=channel, **self.render.message(out).as_kwargs())


class _TokenUnusedFilter(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is given: it is the
    client's token, so the warning would only worry whoever starts the bot."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def typed(text: str) -> str:
    """What the person typed: Slack sends &, < and > escaped in message and slash command text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _team(context: AsyncBoltContext, fallback: Any = None) -> str:
    return str(context.team_id or fallback or context.enterprise_id or "")


def _media_kind(event: dict[str, Any]) -> str:
    files = event.get("files") or [{}]
    mimetype = str(files[0].get("mimetype", "")) if isinstance(files[0], dict) else ""
    if mimetype.startswith("image/"):
        return "photo"
    if mimetype.startswith("video/"):
        return "video"
    if mimetype.startswith("audio/"):
        return "voice"
    return "file"


# ------------------------------------------------------------------------------------------ HTTP mode


def web_app(bot: SlackBot, path: str = "/slack/events") -> web.Application:
    """The aiohttp application for HTTP mode: Slack's requests at ``path``, and ``/healthz``."""

    async def events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:  # a body that is not the JSON or form it claims to be (json errors are ValueErrors)
            return web.Response(status=400, text="malformed body")
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        store = bot.service.store
        healthy = await store.health()
        return web.json_response({"ok": healthy, "store": store.backend}, status=200 if healthy else 503)

    app = web.Application()
    app.router.add_post(path, events)
    app.router.add_get("/healthz", healthz)
    return app
