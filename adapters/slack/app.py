"""The Slack app: Bolt listeners that turn slash commands, buttons, DMs and App Home into assistant turns.

Privacy rule: anything about a case (questions, outcomes, decision records) is only ever posted in the
user's direct messages with the bot; other answers to a slash command are ephemeral. One conversation per
user and workspace, so the slash command, the DM and App Home share one triage.

Every command and action is acknowledged first (Bolt runs listeners after the acknowledgement with
``process_before_response=False``; in HTTP mode the response goes even before Bolt sees the request, see
:meth:`SlackBot.acks_before_dispatch`); requests no listener matches are answered 200 so Slack does not retry
them; redeliveries are recognised by a stable id (the event id, or a hash of the trigger id).

Delivery: a reply Slack still refuses after slack-sdk's retries for a reason that may pass (a 5xx, a
connection error, a 429 asking to wait longer than ``RetryAfterHandler.max_wait``) is not dropped: it goes
to the :class:`~adapters.outbox.Outbox` under the person's hashed conversation key, and is retried in the
background, in order, backing off (or as long as Slack asks); later replies to that DM queue behind it.
Quick exit and "Forget me" discard what is waiting. See :meth:`SlackBot._ephemeral` for ``respond()``.

The pieces: ``client`` (the Web API client and its retries), ``guards`` (redeliveries, each person's in-flight
limit, the bot's own message ids), ``checks`` (crisis checks off the event loop), ``delivery`` (where replies
go, and the outbox), ``turns`` (one interaction, and what the pieces below ask of the bot), ``shortcuts``
(global shortcuts), ``modal`` (the triage in a modal), ``welcome`` (the Messages tab's welcome), ``blocks``
(Block Kit), ``http`` (HTTP mode) and ``run`` (``ypsi-bot slack``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.lazy_listener.async_internals import to_runnable_function
from slack_bolt.lazy_listener.asyncio_runner import AsyncioLazyListenerRunner
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.outbox import Outbox
from adapters.slack.blocks import (
    ACTION_AREA,
    ACTION_FORGET,
    ACTION_MODAL,
    ACTION_OPTION,
    ACTION_PICK,
    ACTION_TRIAGE,
    Renderer,
    SlackMessage,
)
from adapters.slack.checks import CheckProcess, CrisisChecker
from adapters.slack.client import pooled
from adapters.slack.delivery import Delivery, Where
from adapters.slack.guards import DmChannels, PostedMessages, SeenIds, UserLimit
from adapters.slack.install import cached_authorize
from adapters.slack.modal import Modal, ModalTriage
from adapters.slack.shortcuts import Shortcuts
from adapters.slack.turns import Turn, interaction_id, team_of
from adapters.slack.welcome import Welcome
from bot.action import Nav, ShowTopic
from bot.assistant import Defaults, Reply
from bot.logs import log, log_error
from bot.service import Handled, Service
from bot.types import ConversationRef, Inbound, Option, Outbound

Done = Callable[[str, str], None]

PLATFORM = "slack"
# Text longer than this is read for crisis words in a worker thread, and the service gets its first LONG_TEXT
# characters (what it routes on), or all of it if it has crisis words. Turns on long text run one at a time
# across everyone, each followed by a breather, so that other people's acks get through between them.
LONG_TEXT = 4000
BREATHER = 0.05
# Message subtypes a person wrote to the bot; the rest (edits, deletions, joins...) are ignored.
TEXT_SUBTYPES = frozenset({None, "thread_broadcast"})


class SlackBot(Delivery):
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
        limit: UserLimit | None = None,
        check_process: bool = False,
        outbox: Outbox | None = None,
        oauth: AsyncOAuthSettings | None = None,
        process_before_response: bool = False,
    ):
        self.service = service
        self.assistant = service.assistant
        self.content = service.assistant.content
        self.signing_secret = signing_secret
        areas = self.content.areas
        self.default_area = default_area if default_area in areas else self.content.meta.default_area
        self.render = Renderer(self.content, self.assistant, command)
        self.on_done = on_done
        self.seen = SeenIds()
        self.limit = limit or UserLimit()
        self.posted = PostedMessages()
        self.dms = DmChannels()  # each person's DM id, by hashed key: no conversations.open per reply
        # Replies Slack could not take yet, per person (hashed key): started on first use, on the event loop.
        self.outbox = outbox if outbox is not None else Outbox()  # (an empty Outbox is falsy)
        self.outbox.sender = self._send_queued
        self.outbox.platform = PLATFORM  # its log events: slack_outbox_queued, slack_outbox_dropped...
        self._single_shot: dict[int, tuple[AsyncWebClient, AsyncWebClient]] = {}
        # Crisis words in long messages, in messages beyond a person's in-flight limit and in one that failed
        # are looked for in one worker thread, so that they never hold the event loop (everyone's acks).
        # With ``check_process`` (as run.py does), the worker thread hands the check to a child process and
        # waits without the GIL, so that the event loop never waits for the check's CPU either.
        self.check_process = (
            CheckProcess(self.content, service.secret, self.assistant.crisis_card) if check_process else None
        )
        self.checker = CrisisChecker(self._crisis_of)
        self._long_turns: asyncio.Semaphore | None = None  # made on the event loop, on first use
        self._dispatching: set[asyncio.Future[None]] = set()  # requests acknowledged, not yet through Bolt
        # Bolt's loggers may print payloads below WARNING; its own logger is configured from this one.
        bolt_logger = logging.getLogger("slack_bolt")
        if bolt_logger.getEffectiveLevel() < logging.WARNING:
            bolt_logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _TokenUnusedFilter) for f in bolt_logger.filters):
            bolt_logger.addFilter(_TokenUnusedFilter())
        # Many workspaces (``oauth``): Bolt's OAuth flow, and each request's token from the installation store.
        self.authorize = cached_authorize(oauth, client, bolt_logger) if oauth is not None else None
        # Serverless (``process_before_response``): the HTTP response goes only once the work is done, for a
        # platform that freezes the process after it; the work runs as Bolt's lazy listeners (see http.py).
        self.serverless = process_before_response
        self.app = AsyncApp(
            name="ypsi-bot",
            client=client,
            signing_secret=signing_secret,
            logger=bolt_logger,
            raise_error_for_unhandled_request=True,
            process_before_response=process_before_response,
            oauth_settings=oauth,
            authorize=self.authorize,  # type: ignore[arg-type]  # (Bolt takes an AsyncAuthorize as it is)
            installation_store=oauth.installation_store if oauth is not None else None,
        )
        # Shortcuts, the modal triage and the Messages tab's welcome (registered first: the first match wins).
        # Their listeners acknowledge first themselves, in both modes (serverless: the response waits anyway).
        self.modals = ModalTriage(self)
        self.modals.register()
        Shortcuts(self, self.modals).register()
        self.welcome = Welcome(self)
        if process_before_response:
            self.app.listener_runner.lazy_listener_runner = AwaitedLazyRunner(bolt_logger)
            self.app.command(re.compile(r"^/"))(ack=_ack, lazy=[self._on_command])
            self.app.action(re.compile(r"^ypsi_"))(ack=_ack, lazy=[self._on_action])
            self.app.event("app_home_opened")(ack=_ack, lazy=[self._on_home_opened])
            self.app.event("message")(ack=_ack, lazy=[self._on_message])
        else:
            self.app.middleware(AckFirst())
            self.app.command(re.compile(r"^/"))(self._on_command)
            self.app.action(re.compile(r"^ypsi_"))(self._on_action)
            self.app.event("app_home_opened")(self._on_home_opened)
            self.app.event("message")(self._on_message)
        self.app.event("tokens_revoked")(self._on_tokens_revoked)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.error(self._on_error)

    # ------------------------------------------------------------------------------------- helpers

    def defaults(self) -> Defaults:
        return Defaults(who="practitioner", area=self.default_area, fixed_who=True, remember_area=True)

    @staticmethod
    def ref(team: str, user: str) -> ConversationRef:
        """One conversation per user and workspace, whatever the channel."""
        return ConversationRef(PLATFORM, team, "", user)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.service.clock(), dt.UTC)

    def _turn(
        self, kind: str, team: str, user: str, inbound: Inbound | None, where: Where, event_id: str | None,
        name: str = "",
    ) -> Turn:
        ref = self.ref(team, user)
        key = self.service.key(ref)
        where.key = key
        return Turn(kind, ref, key, inbound, where, event_id, name)

    def _finished(self, kind: str, result: str, started: float) -> None:
        log("slack_done", kind=kind, result=result, ms=round((time.perf_counter() - started) * 1000, 1))
        if self.on_done is not None:
            self.on_done(kind, result)

    async def _guarded(self, kind: str, work: Awaitable[str]) -> None:
        """Run work that has nobody to answer (App Home): log failures by type only, never raise into Bolt."""
        result = "error"
        started = time.perf_counter()
        try:
            result = await work
        except SlackApiError as exc:
            log("slack_api_error", level=logging.WARNING, kind=kind, error=str(exc.response.get("error", "")))
        except Exception as exc:
            log_error("slack_failed", exc, kind=kind)
        finally:
            self._finished(kind, result, started)

    async def _run(self, turn: Turn | str, kind: str, work: Callable[[Turn], Awaitable[str]]) -> None:
        """One interaction after the ack: drop redeliveries, hold each person to the in-flight limit, and
        answer every failure: the crisis card if they wrote words of danger, else the assistant's apology."""
        started = time.perf_counter()
        result = "error"
        try:
            if isinstance(turn, str):  # nothing to do (an edit, another bot, a payload without a user...)
                result = turn
                return
            if turn.event_id is not None and not self.seen.first_time(turn.event_id):
                log("duplicate", platform=PLATFORM, conv=turn.key[:12], kind=kind)
                result = "duplicate"
                return
            if not self.limit.enter(turn.key):
                result = await self._over_limit(turn)
                return
            try:
                long = len(turn.text) > LONG_TEXT
                turn = await self._bounded(turn)
                if long:
                    result = await self._long_turn(turn, work)
                else:
                    result = await work(turn)
            except Exception as exc:
                if isinstance(exc, SlackApiError):
                    error = str(exc.response.get("error", ""))
                    log("slack_api_error", level=logging.WARNING, kind=kind, error=error[:40])
                else:
                    log_error("slack_failed", exc, kind=kind, conv=turn.key[:12])
                result = await self._apologise(turn)
            finally:
                self.limit.leave(turn.key)
        except Exception as exc:  # the apology or the busy notice could not be sent either
            log_error("slack_reply_failed", exc, kind=kind)
            result = "undelivered"
        finally:
            self._finished(kind, result, started)

    async def _long_turn(self, turn: Turn, work: Callable[[Turn], Awaitable[str]]) -> str:
        """A turn on long text: one at a time, then a breather for everyone else."""
        if self._long_turns is None:
            self._long_turns = asyncio.Semaphore(1)
        async with self._long_turns:
            try:
                return await work(turn)
            finally:
                await asyncio.sleep(BREATHER)

    def _crisis_of(self, inbound: Inbound) -> Outbound | None:
        """The assistant's crisis card for ``inbound`` (crisis words, /urgent, the "Urgent help" button), or
        ``None``. Needs no stored state; runs in the worker thread (or, through it, in the check process)."""
        if self.check_process is not None:
            return self.check_process(inbound, self.now())
        return self.assistant.crisis_card(inbound, self.now())

    def close(self) -> None:
        """Stop the crisis-check thread and process."""
        self.checker.close()
        if self.check_process is not None:
            self.check_process.close()

    async def _crisis(self, inbound: Inbound | None, *, urgent: bool = True) -> Outbound | None:
        """The crisis card for ``inbound``, worked out in the worker thread (never on the event loop)."""
        if inbound is None:
            return None
        return await self.checker(inbound, urgent=urgent)

    async def _bounded(self, turn: Turn) -> Turn:
        """Long text (Slack allows 40,000 characters): crisis words are looked for in all of it in the worker
        thread; unless there are some, the service gets the first ``LONG_TEXT`` characters, which is what it
        routes on. Long messages then cost the event loop what short ones do."""
        inbound = turn.inbound
        if inbound is None or len(inbound.text) <= LONG_TEXT:
            return turn
        try:
            crisis = await self._crisis(inbound) is not None
        except Exception as exc:  # unsure: the service reads it all
            log_error("slack_crisis_check_failed", exc, kind=turn.kind)
            crisis = True
        if crisis:
            return turn
        return replace(turn, inbound=replace(inbound, text=inbound.text[:LONG_TEXT]))

    async def _apologise(self, turn: Turn) -> str:
        """Something failed: the crisis card if it was a crisis, else the assistant's apology (with 999)."""
        card: Outbound | None = None
        try:
            card = await self._crisis(turn.inbound)
        except Exception as exc:
            log_error("slack_crisis_check_failed", exc, kind=turn.kind)
        outs = [card] if card is not None else [self.assistant.sorry()]
        await self._deliver(Reply(None, outs, "error"), replace(turn.where, pressed_ts=None))  # notes a card
        return "error_crisis" if card is not None else "error"

    async def _over_limit(self, turn: Turn) -> str:
        """Beyond the person's in-flight limit: not handed to the service. A crisis still gets the crisis card
        (once a window); otherwise one calm "you're sending a lot" a window, and the rest is dropped."""
        log("slack_busy", kind=turn.kind, conv=turn.key[:12], in_flight=self.limit.busy(turn.key))
        where = replace(turn.where, pressed_ts=None)
        card: Outbound | None = None
        if not self.limit.noticed(turn.key, "crisis"):
            try:
                card = await self._crisis(turn.inbound, urgent=False)
            except Exception as exc:  # the busy notice below still says 999
                log_error("slack_crisis_check_failed", exc, kind=turn.kind)
        if card is not None and self.limit.once(turn.key, "crisis"):
            await self._deliver(Reply(None, [card], "urgent"), where)
            return "busy_crisis"
        if self.limit.once(turn.key, "busy"):
            await self._deliver(Reply(None, [Outbound(self.content.text("slack_busy"), kind="info")], "busy"), where)
            return "busy"
        return "busy_dropped"

    # ------------------------------------------------------------------------------------- ack first

    def acks_before_dispatch(self, body: dict[str, Any]) -> bool:
        """Whether HTTP mode answers this request 200 before Bolt sees it: a slash command or a button press
        (:class:`AckFirst` acknowledges those with an empty 200 anyway), whose shape Bolt's matchers can read (a
        body they would fail on still gets its 400). Not in serverless mode (the response must wait for the
        work), nor with OAuth (Bolt answers a workspace it has no installation for in its response)."""
        if self.serverless or self.authorize is not None:
            return False
        if body.get("type") == "block_actions":
            actions = body.get("actions")
            return (
                isinstance(body.get("user"), dict)
                and isinstance(actions, list)
                and bool(actions)
                and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
                and all(isinstance(body.get(k), dict | None) for k in ("team", "container", "channel", "view"))
            )
        command = body.get("command")
        return isinstance(command, str) and command.startswith("/") and "payload" not in body

    def dispatch_after_ack(self, request: AsyncBoltRequest) -> None:
        """Hand an acknowledged request to Bolt (its middleware, listener matching, then the listener) in a
        task of its own, after the HTTP response has gone."""
        task = asyncio.ensure_future(self._dispatch(request))
        self._dispatching.add(task)  # (the loop keeps only a weak reference)
        task.add_done_callback(self._dispatching.discard)

    async def _dispatch(self, request: AsyncBoltRequest) -> None:
        try:
            await self.app.async_dispatch(request)
        except Exception as exc:  # already acknowledged: nobody to answer, so logged by type only
            log_error("slack_dispatch_failed", exc)

    # ------------------------------------------------------------------------------------ listeners

    async def _on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await _ack_once(ack)
        await self._run(self._parse_command(command, respond, client, context), "command", self._command)

    async def _on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await _ack_once(ack)
        await self._run(self._parse_action(body, action, respond, client, context), "action", self._action)

    async def _on_home_opened(self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab") == "messages" and event.get("user"):
            await self._guarded("home", self.welcome.opened(client, team_of(context), event))
            return
        if event.get("tab", "home") != "home" or not event.get("user"):
            if self.on_done is not None:
                self.on_done("home", "ignored")
            return
        await self._guarded("home", self._publish_home(client, team_of(context), str(event.get("user", ""))))

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._run(self._parse_message(event, body, client, context), "message", self._message)

    async def _on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """The bot's token was revoked: the workspace is gone for us, as if uninstalled (user tokens alone, of
        which ypsi-bot asks for none, change nothing)."""
        if (event.get("tokens") or {}).get("bot"):
            await self._on_uninstalled(context)

    async def _on_uninstalled(self, context: AsyncBoltContext) -> None:
        """The app was uninstalled from a workspace: delete its installation (OAuth) and every conversation
        and preference of its people. Logged by a keyed hash of the workspace only."""
        team = team_of(context)
        store = self.app.installation_store
        if store is not None:
            await store.async_delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
        if self.authorize is not None:
            self.authorize.authorize_result_cache.clear()  # its token no longer works
        forgotten = await self.service.forget_workspace(PLATFORM, team) if team else 0
        log("slack_uninstalled", installation=store is not None, forgotten=forgotten)
        if self.on_done is not None:
            self.on_done("uninstalled", "forgotten")

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Answer 200 so that Slack does not redeliver events we do not subscribe to or ignore.
            kind = body.get("type", "")
            event_type = body.get("event", {}).get("type", "") if isinstance(body.get("event"), dict) else ""
            log("slack_unhandled", kind=str(kind)[:40], event=str(event_type)[:40])
            if self.on_done is not None:
                self.on_done("unhandled", str(event_type or kind))
            return BoltResponse(status=200, body="")
        if isinstance(error, (AttributeError, TypeError, KeyError, IndexError, ValueError)):
            # A signed body of the wrong shape (an event that is a string, a user that is not an object...):
            # Bolt's matchers fail on it before any listener acknowledges it. Nothing to retry: 400.
            log("slack_malformed", level=logging.WARNING, error=type(error).__name__)
            return BoltResponse(status=400, body="malformed body")
        log_error("slack_listener_failed", error)
        return None

    # ---------------------------------------------------------------------------------- slash command

    def _parse_command(
        self, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
    ) -> Turn | str:
        team, user = team_of(context, command.get("team_id")), str(command.get("user_id", ""))
        if not user:  # Slack always names the user; a payload without one is not from Slack
            return "ignored"
        text = typed(str(command.get("text") or "")).strip()
        name, _, arg = text.partition(" ")
        name, arg = name.lower(), arg.strip()
        inbound: Inbound | None
        command_name = self.assistant.commands.resolve(name, PLATFORM)  # content/commands.yaml, Slack's words
        if not text or name == "menu":
            inbound, name = None, "menu"
        elif command_name is not None:
            inbound, name = Inbound("command", command=command_name, arg=arg), command_name
        else:  # anything else is read as typed text
            inbound = Inbound("text", text=text)
        channel = str(command.get("channel_id", ""))
        where = Where(client, team, user, respond=pooled(respond, client), channel=channel)
        event_id = interaction_id("cmd", command.get("trigger_id"))
        turn = self._turn("command", team, user, inbound, where, event_id, name)
        turn.slash = str(command.get("command") or self.render.command)
        return turn

    async def _command(self, turn: Turn) -> str:
        where = turn.where
        assert where.respond is not None
        if turn.inbound is None:
            await where.respond(**self._menu().as_kwargs(), response_type="ephemeral")
            return "menu"
        handled = await self.service.handle(
            turn.ref, turn.inbound, event_id=turn.event_id, defaults=self.defaults()
        )
        if handled.duplicate or handled.reply is None:
            return _unanswered(handled)
        if turn.name == "help" and handled.reply.help:
            help_message = self.render.help(handled.reply.replies, self.render.area_order(), command=turn.slash)
            await where.respond(**help_message.as_kwargs(), response_type="ephemeral")
            return "help"
        await self._deliver(handled.reply, where)
        return handled.reply.event

    def _menu(self) -> SlackMessage:
        topics = [
            Option(self.assistant.button(ShowTopic(t.id)), t.title)
            for t in self.content.topics.values()
            if "practitioner" in t.who
        ]
        nav = [
            Option(self.assistant.button(Nav(name)), self.content.text(f"nav_{name}"), nav=True)
            for name in ("contacts", "help", "urgent")
        ]
        return self.render.menu(topics, nav)

    # ------------------------------------------------------------------------------------------ buttons

    def _parse_action(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> Turn | str:
        user = str((body.get("user") or {}).get("id", ""))
        if not user:
            return "ignored"
        team = team_of(context, (body.get("user") or {}).get("team_id"))
        action_id = str(action.get("action_id", ""))
        event_id = interaction_id("act", body.get("trigger_id") or action.get("action_ts"))
        if action_id == ACTION_AREA:
            area = str((action.get("selected_option") or {}).get("value", ""))
            if area not in self.content.areas:
                return "bad_area"
            inbound = Inbound("command", command="start", arg=area)
        elif action_id == ACTION_FORGET:
            inbound = Inbound("command", command="forget")
        elif action_id in (ACTION_TRIAGE, ACTION_MODAL):
            inbound = Inbound("command", command="triage")
        elif action_id.startswith(ACTION_OPTION):
            inbound = Inbound("action", action=str(action.get("value", "")))
        elif action_id == ACTION_PICK:  # a select (the menu's topics): the option chosen carries the token
            inbound = Inbound("action", action=str((action.get("selected_option") or {}).get("value", "")))
        else:
            return "ignored"  # e.g. a link button: nothing to do
        where = self._where_pressed(body, pooled(respond, client), client, team, user)
        if action_id == ACTION_MODAL:
            where = replace(where, modal=Modal(trigger_id=str(body.get("trigger_id") or "")))
        return self._turn("action", team, user, inbound, where, event_id, action_id)

    async def _action(self, turn: Turn) -> str:
        assert turn.inbound is not None
        where = turn.where
        handled = await self.service.handle(turn.ref, turn.inbound, event_id=turn.event_id, defaults=self.defaults())
        if handled.fault is not None and handled.reply is not None and turn.name in (ACTION_AREA, ACTION_FORGET):
            await self._deliver(handled.reply, where)  # nothing was changed or forgotten: say so, in the DM
            return handled.reply.event
        if turn.name == ACTION_AREA:
            if not handled.duplicate:
                await self._publish_home(where.client, where.team, where.user)
            return "area"
        if turn.name == ACTION_FORGET:
            self._forget_local(turn.key)
            await self._publish_home(
                where.client, where.team, where.user, note=self.content.text("slack_home_forgotten")
            )
            return "forget"
        if handled.duplicate or handled.reply is None:
            return _unanswered(handled)
        await self._deliver(handled.reply, where)
        return handled.reply.event

    @staticmethod
    def _where_pressed(
        body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, team: str, user: str
    ) -> Where:
        container = body.get("container") or {}
        if container.get("type") == "view":  # a modal: replies are drawn in it; App Home: they go to the DM
            return Where(client, team, user, modal=Modal.pressed(body))
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        if container.get("is_ephemeral") or not channel.startswith("D"):
            return Where(client, team, user, respond=respond, channel=channel)
        return Where(client, team, user, dm=channel, pressed_ts=container.get("message_ts"))

    # ---------------------------------------------------------------------------------------------- DMs

    def _parse_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> Turn | str:
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
        team = team_of(context, body.get("team_id"))
        where = Where(client, team, user, dm=str(event.get("channel") or "") or None)
        raw_id = body.get("event_id")
        return self._turn("message", team, user, inbound, where, str(raw_id) if raw_id else None)

    async def _message(self, turn: Turn) -> str:
        assert turn.inbound is not None
        handled = await self.service.handle(turn.ref, turn.inbound, event_id=turn.event_id, defaults=self.defaults())
        if handled.duplicate or handled.reply is None:
            return _unanswered(handled)
        await self._deliver(handled.reply, turn.where)
        return handled.reply.event

    # ------------------------------------------------------------------------------------------ App Home

    async def _publish_home(self, client: AsyncWebClient, team: str, user: str, note: str = "") -> str:
        area = self.default_area
        chosen = await self.service.remembered_area(self.ref(team, user))  # None when the store fails
        if chosen in self.content.areas:
            area = chosen
        assert area is not None
        await client.views_publish(user_id=user, view=self.render.home(area, self.now(), note))
        return "published"


def _unanswered(handled: Handled) -> str:
    """Why the service gave no reply: a redelivery, or a message the rate limit refused quietly."""
    return "rate_limited" if handled.fault == "rate_limited" else "duplicate"


class AckFirst(AsyncMiddleware):
    """Slash commands and button presses are acknowledged before Bolt runs their listener. Bolt starts the
    listener as a task and then polls for its ``ack()`` every 10 ms (``slack_bolt/listener/asyncio_runner``),
    so each ack waited at least one poll, and behind other people's turns; the listeners' own ``ack()`` then
    changes nothing. A listener that must answer in its ack (a modal's validation errors) is for another kind
    of request, which is not acknowledged here. A class rather than a function: Bolt then builds no keyword
    arguments for it on every request."""

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body
        if body.get("command") or body.get("type") == "block_actions":
            await req.context.ack()
        await next()
        return None  # (as a function middleware returns: the response so far is the ack's)


class _TokenUnusedFilter(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is given: it is the
    client's token, so the warning would only worry whoever starts the bot."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


#: Serverless mode: the lazy listeners started while one HTTP request is dispatched (http.py waits for them).
LAZY_WORK: ContextVar[list[asyncio.Future[None]] | None] = ContextVar("ypsi_slack_lazy_work", default=None)


class AwaitedLazyRunner(AsyncioLazyListenerRunner):
    """Bolt's lazy listener runner, which also hands each lazy listener's task to the HTTP request that started
    it (through :data:`LAZY_WORK`), so that the response is sent only once the work is done."""

    def start(self, function: Callable[..., Awaitable[None]], request: AsyncBoltRequest) -> None:
        task = asyncio.ensure_future(to_runnable_function(internal_func=function, logger=self.logger, request=request))
        waiting = LAZY_WORK.get()
        if waiting is not None:
            waiting.append(task)


async def _ack_once(ack: AsyncAck) -> None:
    """A listener's ack, unless :class:`AckFirst` gave it already (Bolt builds a new response on every call)."""
    if ack.response is None:
        await ack()


async def _ack(ack: AsyncAck) -> None:
    """Serverless mode: the acknowledgement; the work runs in the lazy listener, before the response goes."""
    await ack()


def typed(text: str) -> str:
    """What the person typed: Slack sends &, < and > escaped in message and slash command text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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
