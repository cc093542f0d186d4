"""Where a Slack turn's replies go, and getting them there: the DM for anything about a case, else an ephemeral
answer; a pressed question edited in place; a modal (drawn by :mod:`adapters.slack.modal`); quick exit; and the
outbox for replies Slack cannot take yet.

:class:`Delivery` is mixed into :class:`~adapters.slack.app.SlackBot`, which holds the state it uses.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.outbox import Outbox, Outcome, Pending
from adapters.slack.blocks import Renderer, SlackMessage
from adapters.slack.client import NETWORK_ERRORS, retry_after_header, retry_later
from adapters.slack.guards import DmChannels, PostedMessages, UserLimit
from bot.assistant import Reply
from bot.logs import log
from bot.types import Outbound
from dialogs.content import Content

# Replies about a case: never shown outside the user's DM with the bot.
PRIVATE_KINDS = frozenset({"menu", "outcome", "record"})
# Replies that are a screen of the conversation (a question, an outcome): a press edits its message into them.
SCREENS = frozenset({"menu", "outcome"})
# The triage modal's callback ids: a screen of the flow, and an aside pushed on top of it.
CALLBACK_TRIAGE = "ypsi_triage_modal"
CALLBACK_ASIDE = "ypsi_aside_modal"


@dataclass(frozen=True)
class Modal:
    """Where a turn's replies are drawn: the modal pressed (``view_id``), or a new one (``trigger_id``)."""

    trigger_id: str = ""
    view_id: str | None = None  # None: open one with the trigger
    hash: str | None = None  # the pressed view's hash: an update fails if the view changed since
    aside: bool = False  # the pressed view is an aside pushed on top of the triage

    @classmethod
    def pressed(cls, body: dict[str, Any]) -> Modal | None:
        """The modal a ``block_actions`` press came from, or ``None`` (a message, App Home)."""
        view = body.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("id"):
            return None
        return cls(
            trigger_id=str(body.get("trigger_id") or ""),
            view_id=str(view["id"]),
            hash=str(view["hash"]) if view.get("hash") else None,
            aside=view.get("callback_id") == CALLBACK_ASIDE,
        )


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
    key: str = ""  # the conversation's hashed key: messages posted in the DM are remembered under it
    modal: Modal | None = None  # replies are drawn in a modal (the one pressed, or a new one)


class ModalDrawer(Protocol):
    """Draws a turn's replies in the modal of ``where`` (:class:`adapters.slack.modal.ModalTriage`)."""

    async def deliver(self, reply: Reply, outs: list[Outbound], where: Where) -> None: ...


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



class Delivery:
    """Sending replies (mixed into :class:`~adapters.slack.app.SlackBot`)."""

    content: Content
    render: Renderer
    outbox: Outbox
    posted: PostedMessages
    dms: DmChannels
    limit: UserLimit
    modals: ModalDrawer
    _single_shot: dict[int, tuple[AsyncWebClient, AsyncWebClient]]

    def _platform_wording(self, out: Outbound, reply: Reply) -> Outbound:
        if reply.forgotten and out.kind == "farewell":
            return Outbound(self.content.text("slack_forgotten"), kind="farewell")
        return out

    def _forget_local(self, key: str) -> None:
        """Forget what this process holds about a conversation (posted message ids, notices, and replies
        still waiting in the outbox: nothing from before should arrive after "Forget me")."""
        self._discard(key)
        self.posted.pop(key)
        self.limit.forget(key)
        self.dms.forget(key)

    def _discard(self, key: str) -> None:
        self.outbox.discard(_dm_queue(key))
        self.outbox.discard(_ephemeral_queue(key))

    async def _deliver(self, reply: Reply, where: Where) -> None:
        """Send a turn's replies where they may go: the DM for anything about a case, else ephemeral."""
        outs = [self._platform_wording(o, reply) for o in reply.replies]
        if reply.crisis and where.key:  # a crisis card went out: the busy notice then never replaces one
            self.limit.note(where.key, "crisis")
        if reply.delete_conversation:
            await self._quick_exit(reply, outs, where)
            return
        if reply.forgotten:
            self._forget_local(where.key)
        if where.modal is not None:
            await self.modals.deliver(reply, outs, where)
            return
        if where.dm is not None:
            await self._post(where, where.dm, outs, reply, where.pressed_ts)
            return
        if where.respond is None:
            await self._post(where, await self._dm_or_later(where), outs, reply)
            return
        private = [o for o in outs if o.kind in PRIVATE_KINDS]
        public = [o for o in outs if o.kind not in PRIVATE_KINDS]
        note: SlackMessage | None = None
        if private:
            dm = await self._dm_or_later(where)
            await self._post(where, dm, private, reply)
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
        except NETWORK_ERRORS:
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
        self.dms.forget(where.key)
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
        dm = where.dm or channel or await self._open_dm(where.client, where.user, where.key)
        msg = self.render.merged(outs)
        await where.client.chat_postEphemeral(channel=dm, user=where.user, **msg.as_kwargs())

    async def _open_dm(self, client: AsyncWebClient, user: str, key: str = "") -> str:
        """The person's DM with the bot: remembered under their hashed key once opened (``key`` "": not)."""
        channel = self.dms.get(key)
        if channel is not None:
            return channel
        opened = await client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        self.dms.put(key, channel)
        return channel

    async def _post_to_dm(self, client: AsyncWebClient, queued: Queued, channel: str) -> Any:
        """``chat.postMessage`` in the DM. When Slack no longer knows a remembered DM id (``channel_not_found``),
        it is forgotten, the DM opened afresh and the message posted once more."""
        try:
            return await client.chat_postMessage(channel=channel, **queued.message.as_kwargs())
        except SlackApiError as exc:
            if exc.response.get("error") != "channel_not_found" or self.dms.get(queued.conv) != channel:
                raise
            self.dms.forget(queued.conv, channel)
            log("slack_dm_reopened")
        queued.channel = await self._open_dm(client, queued.user, queued.conv)
        return await client.chat_postMessage(channel=queued.channel, **queued.message.as_kwargs())

    async def _dm_or_later(self, where: Where) -> str | None:
        """The person's DM, or ``None`` when Slack cannot open it just now (the outbox opens it later)."""
        if self.outbox.has(_dm_queue(where.key or where.user)):
            return None  # replies are waiting: these go behind them anyway
        try:
            return await self._open_dm(where.client, where.user, where.key)
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
        reply: Reply,
        pressed_ts: str | None = None,
    ) -> None:
        """Post replies in the DM (``channel``; ``None``: not opened yet). A press is answered with one Web API
        call: the pressed message is edited in place into the next screen (the next question or the outcome, a
        screen that replaces it (back, start again), or the explanation when "What does this mean?" was pressed,
        the question then asked again below), carrying a context line of the answers so far. A crisis card is
        always posted first, as a new message, never hidden by an edit. While replies wait in the outbox for
        this DM, an answered question is only marked "✓ question — answer" and the rest queues behind them; when
        the edit fails, a reply that would have replaced the question is posted as a new message instead.
        The ts of each message posted is remembered (ids only) for quick exit."""
        queue = _dm_queue(where.key or where.user)
        track = bool(where.key) and not reply.forgotten
        if pressed_ts and channel is not None:
            urgent = [o for o in outs if o.kind == "crisis"]
            for out in urgent:
                await self._post_one(where, channel, self.render.message(out), crisis=True, track=track, queue=queue)
            outs = [o for o in outs if o.kind != "crisis"] if urgent else outs
            update: SlackMessage | None = None
            replacing = False
            if outs and not self.outbox.has(queue) and (
                outs[0].replace_menu or reply.explains or (reply.answered is not None and outs[0].kind in SCREENS)
            ):  # (while replies wait, the question may be out of date by the time this arrives)
                trail = self.render.trail(reply.session) if outs[0].kind in SCREENS else None
                update, outs, replacing = self.render.message(outs[0], trail), outs[1:], True
            elif reply.answered is not None:
                update = self.render.answered(reply.answered)
            if update is not None:
                await self._edit(where, channel, pressed_ts, update, replacing=replacing, track=track, queue=queue)
        for out in outs:
            message = self.render.message(out)
            await self._post_one(where, channel, message, crisis=out.kind == "crisis", track=track, queue=queue)

    async def _edit(
        self, where: Where, channel: str, ts: str, update: SlackMessage, *, replacing: bool, track: bool, queue: str
    ) -> None:
        """Edit a pressed message. When that fails (too old to edit, deleted, Slack down...), a reply that was
        to replace it is posted below instead."""
        try:
            await where.client.chat_update(channel=channel, ts=ts, **update.as_kwargs())
        except Exception as exc:
            if not isinstance(exc, SlackApiError) and not retry_later(exc)[0]:
                raise
            error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else ""
            log("slack_update_failed", level=logging.WARNING, error=error[:40] or type(exc).__name__)
            if replacing:
                await self._post_one(where, channel, update, crisis=False, track=track, queue=queue)

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
            posted = await self._post_to_dm(where.client, queued, channel)
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
                queued.channel = await self._open_dm(client, queued.user, queued.conv)
            posted = await self._post_to_dm(client, queued, queued.channel)
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

