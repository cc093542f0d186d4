"""The Slack app: Bolt listeners that turn slash commands, buttons, DMs and App Home into assistant turns.

Privacy rule: anything about a case (questions, outcomes, decision records) is only ever posted in the
user's direct messages with the bot; other answers to a slash command are ephemeral. One conversation per
user and workspace, so the slash command, the DM and App Home share one triage.

Every command and action is acknowledged first (Bolt runs listeners after the acknowledgement with
``process_before_response=False``); requests no listener matches are answered 200 so Slack does not retry
them; redeliveries are recognised by a stable id (the event id, or a hash of the trigger id).

Delivery: a reply Slack still refuses after slack-sdk's retries for a reason that may pass (a 5xx, a
connection error, a 429 asking to wait longer than ``RetryAfterHandler.max_wait``) is not dropped: it goes
to the :class:`~adapters.outbox.Outbox` under the person's hashed conversation key, and is retried in the
background, in order, backing off (or as long as Slack asks); later replies to that DM queue behind it.
Quick exit and "Forget me" discard what is waiting. See :meth:`SlackBot._ephemeral` for ``respond()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import logging
import queue
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import ClientError, ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
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

from adapters.outbox import Outbox, Outcome, Pending
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
from adapters.slack.checks import CheckProcess
from adapters.slack.modal import Modal, ModalTriage
from adapters.slack.shortcuts import Shortcuts
from adapters.slack.welcome import Welcome
from bot.assistant import Defaults, Reply
from bot.logs import log, log_error
from bot.service import Handled, Service
from bot.types import ConversationRef, Inbound, Option, Outbound

Sleep = Callable[[float], Awaitable[None]]
Done = Callable[[str, str], None]

PLATFORM = "slack"
# Replies about a case: never shown outside the user's DM with the bot.
PRIVATE_KINDS = frozenset({"menu", "outcome", "record"})
# Slash command words passed to the assistant as commands (anything else is read as typed text).
ASSISTANT_COMMANDS = frozenset({"urgent", "emergency", "sos", "forget", "exit", "quit", "restart", "back"})
# HTTP mode: request bodies larger than this (a long DM: Slack allows 40,000 characters) are read and
# dispatched at most HEAVY_AT_ONCE at a time, so that a flood of them never delays small requests (slash
# commands, buttons), which are never held.
HEAVY_BODY = 16 * 1024
HEAVY_AT_ONCE = 4
# Text longer than this is read for crisis words in a worker thread, and the service gets its first LONG_TEXT
# characters (what it routes on), or all of it if it has crisis words. Turns on long text run one at a time
# across everyone, each followed by a breather, so that other people's acks get through between them.
LONG_TEXT = 4000
BREATHER = 0.05
# Message subtypes a person wrote to the bot; the rest (edits, deletions, joins...) are ignored.
TEXT_SUBTYPES = frozenset({None, "thread_broadcast"})


# ------------------------------------------------------------------------------------- Web API client


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after the number of seconds in ``Retry-After``, then gives up. A 429 asking for more
    than ``max_wait`` seconds is not waited out in the turn (it would hold the person's conversation): the
    error is raised at once, and the reply goes to the outbox, which waits as long as Slack asked."""

    def __init__(self, max_retry_count: int = 2, *, sleep: Sleep = asyncio.sleep, max_wait: float = 60.0):
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait

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
    return retry_after_header(response.headers)


def retry_after_header(headers: Any) -> float:
    """Seconds in a ``Retry-After`` header (1 when absent or unreadable)."""
    for name, value in (headers or {}).items():
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


#: Errors from the network rather than from Slack: worth trying again later.
_NETWORK_ERRORS = (ClientError, asyncio.TimeoutError, OSError)


def retry_later(exc: BaseException) -> tuple[bool, float | None]:
    """Whether a failed Web API call may succeed later (a 5xx, a 429, the network), and how long Slack asked
    us to wait. ``ok: false`` with HTTP 200 (``channel_not_found``, ``msg_too_long``...) would fail again."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        if status == 429:
            return True, retry_after_header(getattr(exc.response, "headers", None))
        return status >= 500, None
    return isinstance(exc, _NETWORK_ERRORS), None


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
    key: str = ""  # the conversation's hashed key: messages posted in the DM are remembered under it
    modal: Modal | None = None  # replies are drawn in a modal (the one pressed, or a new one)


#: ``respond()`` posts to the command's ``response_url``, which Slack honours for 30 minutes (and 5 uses).
#: An ephemeral answer that could not be delivered is retried from the outbox only within this window
#: (from its first try, leaving a margin for the time the command took to reach us); after that it is
#: given up (logged), except a crisis card, which falls back to the person's DM.
EPHEMERAL_WINDOW = 25 * 60.0


@dataclass
class Queued:
    """A reply waiting in the outbox: where it goes and what it says. In memory only, never logged."""

    client: AsyncWebClient
    user: str
    message: SlackMessage
    channel: str | None = None  # the DM; None: open it first
    key: str = ""  # the conversation key its ts is remembered under for quick exit ("": not remembered)
    respond: AsyncRespond | None = None  # an ephemeral answer through the command's response_url
    deadline: float | None = None  # on the outbox's clock: when the response_url is given up
    conv: str = ""  # the person's hashed conversation key (their outbox queues are named after it)


@dataclass
class Turn:
    """One interaction to run: who, what they did, where the replies (or an apology) go."""

    kind: str  # "command", "action" or "message"
    ref: ConversationRef
    key: str
    inbound: Inbound | None  # None: a Slack-only screen (the /ypsi menu)
    where: Where
    event_id: str | None = None
    name: str = ""  # the slash command word, or the action id
    slash: str = ""  # the slash command itself (usually /ypsi)

    @property
    def text(self) -> str:
        return self.inbound.text if self.inbound is not None else ""


def _event_id(prefix: str, raw: str | None) -> str | None:
    """A short stable id for a redelivered interaction (the raw ids are not kept)."""
    if not raw:
        return None
    return prefix + ":" + hashlib.sha256(raw.encode()).hexdigest()[:16]


class SeenIds:
    """Interactions handled in the last ``window`` seconds, by hashed id: a redelivery inside the window is
    answered once, even when the conversation (and the ids it remembers) was forgotten in between. Keyed on
    time; ``size`` only bounds memory."""

    def __init__(self, window: float = 900.0, size: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.size = size
        self.clock = clock
        self._ids: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = self.clock()
        while self._ids and (len(self._ids) >= self.size or next(iter(self._ids.values())) < now - self.window):
            self._ids.popitem(last=False)
        if event_id in self._ids:
            return False
        self._ids[event_id] = now
        return True

    def __len__(self) -> int:
        return len(self._ids)


class UserLimit:
    """At most ``in_flight`` interactions per person at a time (one running, the rest waiting for the
    conversation's lock); notices at most once per ``window`` seconds. Hashed keys and counts only."""

    def __init__(
        self, in_flight: int = 4, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ):
        self.in_flight = in_flight
        self.window = window
        self.clock = clock
        self.size = size
        self._busy: dict[str, int] = {}
        self._noticed: OrderedDict[tuple[str, str], float] = OrderedDict()

    def enter(self, key: str) -> bool:
        n = self._busy.get(key, 0)
        if n >= self.in_flight:
            return False
        self._busy[key] = n + 1
        return True

    def leave(self, key: str) -> None:
        n = self._busy.get(key, 0) - 1
        if n > 0:
            self._busy[key] = n
        else:
            self._busy.pop(key, None)

    def busy(self, key: str) -> int:
        return self._busy.get(key, 0)

    def noticed(self, key: str, what: str) -> bool:
        """Whether ``what`` was said to this person within the window."""
        at = self._noticed.get((key, what))
        return at is not None and at > self.clock() - self.window

    def note(self, key: str, what: str) -> None:
        self._noticed.pop((key, what), None)
        self._noticed[(key, what)] = self.clock()
        while len(self._noticed) > self.size:
            self._noticed.popitem(last=False)

    def once(self, key: str, what: str) -> bool:
        """True (and noted) the first time in the window."""
        if self.noticed(key, what):
            return False
        self.note(key, what)
        return True

    def forget(self, key: str) -> None:
        for what in ("busy", "crisis"):
            self._noticed.pop((key, what), None)


class PostedMessages:
    """The bot's own messages in each DM, for quick exit: channel and message ts only, never text; at most
    ``per_dm`` for each of at most ``dms`` conversations (the least recently active are dropped first).
    Lost on restart, by design."""

    def __init__(self, dms: int = 10_000, per_dm: int = 200):
        self.dms = dms
        self.per_dm = per_dm
        self._posted: OrderedDict[str, tuple[str, deque[str]]] = OrderedDict()

    def add(self, key: str, channel: str, ts: str) -> None:
        entry = self._posted.get(key)
        if entry is None or entry[0] != channel:
            entry = self._posted[key] = (channel, deque(maxlen=self.per_dm))
            while len(self._posted) > self.dms:
                self._posted.popitem(last=False)
        self._posted.move_to_end(key)
        entry[1].append(ts)

    def pop(self, key: str) -> tuple[str | None, list[str]]:
        channel, ts = self._posted.pop(key, (None, deque()))
        return channel, list(ts)

    def get(self, key: str) -> list[str]:
        return list(self._posted.get(key, ("", deque()))[1])

    def __len__(self) -> int:
        return len(self._posted)


class CrisisChecker:
    """One worker thread that looks for crisis words in long or extra text, away from the event loop: text of
    turns in progress first (``urgent``), then a flood's extra messages. One thread only: more would take
    the GIL from the event loop more often. Started on first use."""

    def __init__(self, check: Callable[[Inbound], Outbound | None]):
        self._check = check
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    async def __call__(self, inbound: Inbound, *, urgent: bool) -> Outbound | None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="ypsi-slack-crisis", daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outbound | None] = loop.create_future()
        self._queue.put((0 if urgent else 1, next(self._order), (inbound, loop, future)))
        return await future

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put((-1, -1, None))
            self._thread = None

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            inbound, loop, future = job
            try:
                found: Outbound | None | BaseException = self._check(inbound)
            except BaseException as exc:  # handed to the waiting turn
                found = exc
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, future, found)


def _settle(future: asyncio.Future[Outbound | None], found: Outbound | None | BaseException) -> None:
    if future.done():
        return
    if isinstance(found, BaseException):
        future.set_exception(found)
    else:
        future.set_result(found)


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
        limit: UserLimit | None = None,
        check_process: bool = False,
        outbox: Outbox | None = None,
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
        # Shortcuts, the modal triage and the Messages tab's welcome (registered first: the first match wins).
        self.modals = ModalTriage(self)
        self.modals.register()
        Shortcuts(self).register()
        self.welcome = Welcome(self)
        self.app.command(re.compile(r"^/"))(self._on_command)
        self.app.action(re.compile(r"^ypsi_"))(self._on_action)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.event("message")(self._on_message)
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
                if result in ("crisis", "urgent"):
                    self.limit.note(turn.key, "crisis")
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
        await self._deliver(Reply(None, outs, "error"), replace(turn.where, pressed_ts=None, token=""))
        if card is not None:
            self.limit.note(turn.key, "crisis")
        return "error_crisis" if card is not None else "error"

    async def _over_limit(self, turn: Turn) -> str:
        """Beyond the person's in-flight limit: not handed to the service. A crisis still gets the crisis card
        (once a window); otherwise one calm "you're sending a lot" a window, and the rest is dropped."""
        log("slack_busy", kind=turn.kind, conv=turn.key[:12], in_flight=self.limit.busy(turn.key))
        where = replace(turn.where, pressed_ts=None, token="")
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
        await ack()
        await self._run(self._parse_action(body, action, respond, client, context), "action", self._action)

    async def _on_home_opened(self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab") == "messages" and event.get("user"):
            await self._guarded("home", self.welcome.opened(client, _team(context), event))
            return
        if event.get("tab", "home") != "home" or not event.get("user"):
            if self.on_done is not None:
                self.on_done("home", "ignored")
            return
        await self._guarded("home", self._publish_home(client, _team(context), str(event.get("user", ""))))

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await self._run(self._parse_message(event, body, client, context), "message", self._message)

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
        team, user = _team(context, command.get("team_id")), str(command.get("user_id", ""))
        if not user:  # Slack always names the user; a payload without one is not from Slack
            return "ignored"
        text = typed(str(command.get("text") or "")).strip()
        name, _, arg = text.partition(" ")
        name, arg = name.lower(), arg.strip()
        inbound: Inbound | None
        if not text or name == "menu":
            inbound, name = None, "menu"
        elif name in ("triage", "start"):
            inbound = Inbound("command", command="triage", arg=arg)
        elif name in ("help", "contacts") or name in ASSISTANT_COMMANDS:
            inbound = Inbound("command", command=name, arg=arg)
        else:
            inbound = Inbound("text", text=text)
        where = Where(client, team, user, respond=respond, channel=str(command.get("channel_id", "")))
        event_id = _event_id("cmd", command.get("trigger_id"))
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
        if turn.name == "help" and handled.reply.event == "help":
            help_message = self.render.help(handled.reply.replies, self.render.area_order(), command=turn.slash)
            await where.respond(**help_message.as_kwargs(), response_type="ephemeral")
            return "help"
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
        team = _team(context, (body.get("user") or {}).get("team_id"))
        action_id = str(action.get("action_id", ""))
        event_id = _event_id("act", body.get("trigger_id") or action.get("action_ts"))
        token = ""
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
            token = str(action.get("value", ""))
            inbound = Inbound("action", action=token)
        elif action_id == ACTION_PICK:  # a select (the menu's topics): the option chosen carries the token
            inbound = Inbound("action", action=str((action.get("selected_option") or {}).get("value", "")))
        else:
            return "ignored"  # e.g. a link button: nothing to do
        where = self._where_pressed(body, respond, client, team, user, token)
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
        body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, team: str, user: str, token: str
    ) -> Where:
        container = body.get("container") or {}
        if container.get("type") == "view":  # a modal: replies are drawn in it; App Home: they go to the DM
            return Where(client, team, user, modal=Modal.pressed(body))
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        if container.get("is_ephemeral") or not channel.startswith("D"):
            return Where(client, team, user, respond=respond, channel=channel)
        return Where(client, team, user, dm=channel, pressed_ts=container.get("message_ts"), token=token)

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
        team = _team(context, body.get("team_id"))
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

    # ------------------------------------------------------------------------------------------ delivery

    def _platform_wording(self, out: Outbound, reply: Reply) -> Outbound:
        if reply.event == "forget" and out.kind == "farewell":
            return Outbound(self.content.text("slack_forgotten"), kind="farewell")
        return out

    def _forget_local(self, key: str) -> None:
        """Forget what this process holds about a conversation (posted message ids, notices, and replies
        still waiting in the outbox: nothing from before should arrive after "Forget me")."""
        self._discard(key)
        self.posted.pop(key)
        self.limit.forget(key)

    def _discard(self, key: str) -> None:
        self.outbox.discard(_dm_queue(key))
        self.outbox.discard(_ephemeral_queue(key))

    async def _deliver(self, reply: Reply, where: Where) -> None:
        """Send a turn's replies where they may go: the DM for anything about a case, else ephemeral."""
        outs = [self._platform_wording(o, reply) for o in reply.replies]
        if reply.delete_conversation:
            await self._quick_exit(reply, outs, where)
            return
        if reply.session is None and reply.event == "forget":
            self._forget_local(where.key)
        if where.modal is not None:
            await self.modals.deliver(reply.event, outs, where)
            return
        if where.dm is not None:
            await self._post(where, where.dm, outs, reply.event, where.pressed_ts, where.token)
            return
        if where.respond is None:
            await self._post(where, await self._dm_or_later(where), outs, reply.event)
            return
        private = [o for o in outs if o.kind in PRIVATE_KINDS]
        public = [o for o in outs if o.kind not in PRIVATE_KINDS]
        note: SlackMessage | None = None
        if private:
            dm = await self._dm_or_later(where)
            await self._post(where, dm, private, reply.event)
            if dm is not None and dm != where.channel:  # (unknown yet: the DM itself will show it)
                note = self.render.dm_note(where.team, dm)
        if public or note is not None:
            await self._ephemeral(where, public, note)

    async def _ephemeral(self, where: Where, outs: list[Outbound], note: SlackMessage | None = None) -> None:
        """An ephemeral answer through ``respond()``. One that fails for a reason that may pass (5xx, 429,
        the network) goes to the outbox, and is retried there only within ``EPHEMERAL_WINDOW`` of now: the
        response_url expires after 30 minutes. When that window has passed, an ordinary answer is given up
        (logged); a crisis card falls back to the person's DM, as does one Slack refuses outright."""
        assert where.respond is not None
        msg = self.render.merged(outs) if outs else None
        blocks = (msg.blocks if msg else []) + (note.blocks if note else [])
        text = "\n\n".join(x.text for x in (msg, note) if x is not None)
        crisis = any(o.kind == "crisis" for o in outs)
        queued = Queued(
            where.client, where.user, SlackMessage(text, blocks), respond=where.respond,
            deadline=self.outbox.clock() + EPHEMERAL_WINDOW, conv=where.key,
        )
        queue = _ephemeral_queue(where.key or where.user)
        if self.outbox.has(queue):
            await self._queue(queue, queued, crisis=crisis)
            return
        outcome, wait = await self._try_respond(queued, crisis=crisis)
        if outcome == "retry":
            log("slack_send_deferred", via="respond", crisis=crisis)
            await self._queue(queue, queued, crisis=crisis, delay=wait)

    async def _try_respond(self, queued: Queued, *, crisis: bool) -> tuple[Outcome, float | None]:
        """One ``respond()``: sent, retry (and how long Slack asked to wait), or drop. A crisis card that
        Slack refuses outright is posted in the DM instead."""
        assert queued.respond is not None
        try:
            response = await queued.respond(
                text=queued.message.text, blocks=queued.message.blocks, response_type="ephemeral",
                replace_original=False,
            )
        except _NETWORK_ERRORS:
            return "retry", None
        status = int(getattr(response, "status_code", 200))
        if status < 300:
            return "sent", None
        if status == 429:
            return "retry", retry_after_header(getattr(response, "headers", None))
        if status >= 500:
            return "retry", None
        log("slack_respond_failed", level=logging.WARNING, status=status, crisis=crisis)
        if crisis:
            await self._crisis_to_dm(queued)
        return "drop", None

    async def _crisis_to_dm(self, queued: Queued) -> None:
        """A crisis card the response_url could not take: into the DM (through the outbox if need be)."""
        log("slack_crisis_moved_to_dm")
        where = Where(queued.client, "", queued.user, key=queued.conv)
        queue = _dm_queue(queued.conv or queued.user)
        await self._post_one(where, None, queued.message, crisis=True, track=bool(queued.conv), queue=queue)

    async def _quick_exit(self, reply: Reply, outs: list[Outbound], where: Where) -> None:
        """Quick exit: delete the bot's own messages in the DM (``chat.delete`` works on them with the bot
        token), forget what this process holds, and say goodbye where it leaves nothing behind: ephemerally."""
        self._discard(where.key)  # nothing still waiting may arrive after quick exit
        channel, posted = self.posted.pop(where.key)
        if channel is None:
            posted = []
        self.limit.forget(where.key)
        deleted = failed = 0
        for ts in reversed(posted):  # newest first: what is on screen goes first
            try:
                await where.client.chat_delete(channel=str(channel), ts=ts)
                deleted += 1
            except SlackApiError as exc:  # already deleted by the person, too old...: carry on
                failed += 1
                log("slack_delete_failed", level=logging.WARNING, error=str(exc.response.get("error", ""))[:40])
        log("slack_quick_exit", conv=where.key[:12], deleted=deleted, failed=failed)
        if not outs:
            return
        if where.respond is not None and not where.dm:
            await self._ephemeral(where, outs)
            return
        dm = where.dm or channel or await self._open_dm(where.client, where.user)
        msg = self.render.merged(outs)
        await where.client.chat_postEphemeral(channel=dm, user=where.user, **msg.as_kwargs())

    async def _open_dm(self, client: AsyncWebClient, user: str) -> str:
        opened = await client.conversations_open(users=user)
        return str(opened["channel"]["id"])

    async def _dm_or_later(self, where: Where) -> str | None:
        """The person's DM, or ``None`` when Slack cannot open it just now (the outbox opens it later)."""
        if self.outbox.has(_dm_queue(where.key or where.user)):
            return None  # replies are waiting: these go behind them anyway
        try:
            return await self._open_dm(where.client, where.user)
        except Exception as exc:
            if not retry_later(exc)[0]:
                raise
            log("slack_open_dm_deferred", error=type(exc).__name__)
            return None

    async def _post(
        self,
        where: Where,
        channel: str | None,
        outs: list[Outbound],
        event: str,
        pressed_ts: str | None = None,
        token: str = "",
    ) -> None:
        """Post replies in the DM (``channel``; ``None``: not opened yet). A pressed question is edited in
        place: to "✓ question — answer" when it was answered, to the reply itself when the reply replaces it
        (back, start again), or to the explanation when "What does this mean?" was pressed (the question is
        then asked again below). While replies wait in the outbox for this DM, or when the edit fails, a
        reply that would have replaced the question is posted as a new message instead (behind them).
        The ts of each message posted is remembered (ids only) for quick exit."""
        client = where.client
        queue = _dm_queue(where.key or where.user)
        if pressed_ts and channel is not None:
            update: SlackMessage | None = None
            replacing = False
            if event in ("answer", "outcome"):
                update = self.render.answered(token)
            if update is None and outs and (outs[0].replace_menu or event == "explain"):
                if self.outbox.has(queue):
                    update = None  # the question may be out of date by the time this arrives
                else:
                    update, outs, replacing = self.render.message(outs[0]), outs[1:], True
            if update is not None:
                try:
                    await client.chat_update(channel=channel, ts=pressed_ts, **update.as_kwargs())
                except Exception as exc:  # too old to edit, deleted, Slack down...: the reply still goes below
                    if not isinstance(exc, SlackApiError) and not retry_later(exc)[0]:
                        raise
                    error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else ""
                    log("slack_update_failed", level=logging.WARNING, error=error[:40] or type(exc).__name__)
                    if replacing:
                        await self._post_one(where, channel, update, crisis=False, track=True, queue=queue)
        track = bool(where.key) and event != "forget"
        for out in outs:
            message = self.render.message(out)
            await self._post_one(where, channel, message, crisis=out.kind == "crisis", track=track, queue=queue)

    async def _post_one(
        self, where: Where, channel: str | None, message: SlackMessage, *, crisis: bool, track: bool, queue: str
    ) -> None:
        """Post one message in the DM now, or queue it in the outbox: behind anything already waiting for this
        DM, or when Slack still fails after the SDK's retries for a reason that may pass."""
        queued = Queued(where.client, where.user, message, channel, where.key if track else "", conv=where.key)
        if channel is None or self.outbox.has(queue):
            await self._queue(queue, queued, crisis=crisis)
            return
        try:
            posted = await where.client.chat_postMessage(channel=channel, **message.as_kwargs())
        except Exception as exc:
            later, wait = retry_later(exc)
            if not later:
                raise
            log("slack_send_deferred", via="post", crisis=crisis, error=_error_name(exc))
            await self._queue(queue, queued, crisis=crisis, delay=wait)
            return
        self._remember(queued, posted)

    def _remember(self, queued: Queued, posted: Any) -> None:
        ts = posted.get("ts") if queued.key else None
        if ts:
            self.posted.add(queued.key, str(posted.get("channel") or queued.channel), str(ts))

    async def _queue(self, queue: str, queued: Queued, *, crisis: bool, delay: float | None = None) -> None:
        await self.outbox.start()  # (once; on the event loop)
        self.outbox.put(queue, queued, crisis=crisis, delay=delay)

    def _client_without_retries(self, client: AsyncWebClient) -> AsyncWebClient:
        """The same client without slack-sdk's retries: the outbox does its own backing off, and must not
        sleep inside one attempt while other people's replies wait."""
        entry = self._single_shot.get(id(client))
        if entry is None or entry[0] is not client:
            single = AsyncWebClient(
                token=client.token, base_url=client.base_url, session=client.session, timeout=client.timeout,
                retry_handlers=[],
            )
            entry = self._single_shot[id(client)] = (client, single)
        return entry[1]

    async def _send_queued(self, item: Pending) -> tuple[Outcome, float | None]:
        """The outbox's sender: one attempt, classified (sent, drop, or retry and when)."""
        queued: Queued = item.payload
        if queued.respond is not None:
            if queued.deadline is not None and self.outbox.clock() > queued.deadline:
                log("slack_outbox_expired", crisis=item.crisis)  # the response_url has expired by now
                if item.crisis and not item.cancelled:
                    await self._crisis_to_dm(queued)
                return "drop", None
            return await self._try_respond(queued, crisis=item.crisis)
        client = self._client_without_retries(queued.client)
        try:
            if queued.channel is None:
                queued.channel = await self._open_dm(client, queued.user)
            posted = await client.chat_postMessage(channel=queued.channel, **queued.message.as_kwargs())
        except Exception as exc:
            later, wait = retry_later(exc)
            if later:
                return "retry", wait
            log("slack_outbox_undeliverable", level=logging.WARNING, error=_error_name(exc), crisis=item.crisis)
            return "drop", None
        if item.cancelled:  # quick exit or "Forget me" while this was on its way: take it back
            with contextlib.suppress(Exception):
                await client.chat_delete(channel=str(posted.get("channel") or queued.channel), ts=str(posted["ts"]))
            return "drop", None
        self._remember(queued, posted)
        return "sent", None


def _dm_queue(key: str) -> str:
    """The outbox queue of a person's DM (their hashed conversation key)."""
    return key


def _ephemeral_queue(key: str) -> str:
    """Ephemeral answers queue apart: a dead response_url must not hold up the DM."""
    return "eph:" + key


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "") or getattr(exc.response, "status_code", ""))[:40]
    return type(exc).__name__


def _unanswered(handled: Handled) -> str:
    """Why the service gave no reply: a redelivery, or a message the rate limit refused quietly."""
    return "rate_limited" if handled.fault == "rate_limited" else "duplicate"


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


def verified(signing_secret: str, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Slack's v0 request signature, over the raw bytes; a timestamp that is not a number, or is more than
    five minutes off, fails like a wrong signature."""
    if not signing_secret or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > 300:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def web_app(bot: SlackBot, path: str = "/slack/events", clock: Callable[[], float] = time.time) -> web.Application:
    """The aiohttp application for HTTP mode: Slack's requests at ``path``, and ``/healthz``.

    A request is verified before its body is read as anything: a missing, wrong or stale signature, or a
    timestamp that is not a number, gets 401; a signed body that is not the JSON or form Slack sends gets
    400. Only then does Bolt see it (and verify it again)."""

    heavy = asyncio.Semaphore(HEAVY_AT_ONCE)

    async def events(request: web.Request) -> web.Response:
        if (request.content_length or 0) > HEAVY_BODY:
            async with heavy:
                return await handle(request)
        return await handle(request)

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not verified(bot.signing_secret, raw, timestamp, signature, clock()):
            log("slack_unverified", level=logging.WARNING, size=len(raw))
            return web.Response(status=401, text="invalid request")
        try:
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
            if not isinstance(bolt_request.body, dict) or not bolt_request.body:
                raise ValueError("not an object")
        except Exception as exc:  # undecodable, not JSON, a JSON list, a payload of the wrong shape...
            log("slack_malformed", level=logging.WARNING, error=type(exc).__name__, size=len(raw))
            return web.Response(status=400, text="malformed body")
        try:
            bolt_response = await bot.app.async_dispatch(bolt_request)
        except Exception as exc:  # never a 500 with a traceback for a body Bolt cannot make sense of
            log_error("slack_dispatch_failed", exc)
            return web.Response(status=400, text="malformed body")
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        store = bot.service.store
        healthy = await bot.service.healthy()
        return web.json_response({"ok": healthy, "store": store.backend}, status=200 if healthy else 503)

    app = web.Application()
    app.router.add_post(path, events)
    app.router.add_get("/healthz", healthz)
    return app
