"""The triage in a modal: a window over Slack, so that a DSL can answer without leaving the channel.

The modal is one more place to show the person's one conversation (per user and workspace): its buttons carry
the assistant's tokens, a press runs the same turn through the same service and store as in the DM, and the
replies are drawn in the modal instead of posted. Answers and outcomes are therefore those of the DM.

* A screen of the flow (a question, an outcome) is drawn in the view that was pressed (``views.update``, with
  the view's ``hash``, so that an older turn never draws over a newer screen).
* An aside (contacts, an explanation, the crisis card, the decision record) is pushed on top
  (``views.push``); Slack's own "Back" returns to the question beneath it. A press in an aside draws there.
* An outcome's submit button, "Send to my DMs", puts the outcome in the DM (with the decision record button).
* A view that is gone (closed, or drawn over since the press): the reply is dropped with a log line, except a
  crisis card, which goes to the DM. A modal that cannot be opened (the trigger expired) leaves the triage in
  the DM, where it was started anyway. Nothing about a case is ever shown in a channel.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import Block, _plain
from adapters.slack.client import retry_later
from adapters.slack.delivery import CALLBACK_ASIDE, CALLBACK_TRIAGE, Modal, Where
from adapters.slack.turns import Host, Turn, interaction_id, team_of
from bot.action import Nav
from bot.assistant import Reply
from bot.logs import log
from bot.types import Inbound, Outbound

__all__ = ["CALLBACK_ASIDE", "CALLBACK_TRIAGE", "MAX_TITLE", "Modal", "ModalTriage"]

MAX_MODAL_BLOCKS = 100
MAX_TITLE = 24  # a modal's title, close and submit labels
SCREEN_KINDS = frozenset({"menu", "outcome"})


class ModalTriage:
    """Draws replies in modals and handles "Send to my DMs"; registered on the bot's Bolt app."""

    def __init__(self, bot: Host):
        self.bot = bot

    def register(self) -> None:
        self.bot.app.view_submission(CALLBACK_TRIAGE)(self._on_submit)

    # ------------------------------------------------------------------------------------ views

    def view(self, outs: list[Outbound]) -> dict[str, Any]:
        """The replies as a modal: a screen of the flow, or an aside (with "Back")."""
        text = self.bot.content.text
        screen = any(o.kind in SCREEN_KINDS for o in outs)
        blocks: list[Block] = self.bot.render.merged(outs).blocks if outs else []
        view: dict[str, Any] = {
            "type": "modal",
            "callback_id": CALLBACK_TRIAGE if screen else CALLBACK_ASIDE,
            "title": _plain(text("slack_modal_title"), MAX_TITLE),
            "close": _plain(text("slack_modal_close" if screen else "slack_modal_back"), MAX_TITLE),
            "blocks": blocks[:MAX_MODAL_BLOCKS],
        }
        if screen and any(o.kind == "outcome" for o in outs):
            view["submit"] = _plain(text("slack_modal_send"), MAX_TITLE)
        return view

    async def deliver(self, reply: Reply, outs: list[Outbound], where: Where) -> None:
        """Draw a turn's replies in the modal: open it, push an aside, or update the view pressed."""
        modal = where.modal
        assert modal is not None
        view = self.view(outs)
        aside = view["callback_id"] == CALLBACK_ASIDE
        client = where.client
        try:
            if modal.view_id is None:
                await client.views_open(trigger_id=modal.trigger_id, view=view)
            elif aside and not modal.aside and modal.trigger_id:
                await client.views_push(trigger_id=modal.trigger_id, view=view)
            else:
                await client.views_update(view_id=modal.view_id, hash=modal.hash, view=view)
        except Exception as exc:
            await self._undrawn(exc, reply, outs, where)

    async def _undrawn(self, exc: Exception, reply: Reply, outs: list[Outbound], where: Where) -> None:
        """The modal could not be drawn: a triage that never opened carries on in the DM; a view that is gone
        (closed, or drawn over by a newer screen) is left alone, except that a crisis card goes to the DM."""
        if not isinstance(exc, SlackApiError) and not retry_later(exc)[0]:
            raise exc
        modal = where.modal
        assert modal is not None
        error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else type(exc).__name__
        opening = modal.view_id is None
        crisis = [o for o in outs if o.kind == "crisis"]
        log("slack_modal_gone", level=logging.WARNING, error=error[:40], opening=opening, crisis=bool(crisis))
        moved = outs if opening else crisis
        if moved:
            dm_where = replace(where, modal=None)
            await self.bot._post(dm_where, await self.bot._dm_or_later(dm_where), moved, reply)

    # ------------------------------------------------------------------------------- listeners

    async def open(self, turn: Turn) -> str:
        """A turn whose replies open (or are drawn in) a modal: the service's turn, then the modal."""
        assert turn.inbound is not None
        bot = self.bot
        handled = await bot.service.handle(turn.ref, turn.inbound, event_id=turn.event_id, defaults=bot.defaults())
        if handled.duplicate or handled.reply is None:
            return "rate_limited" if handled.fault == "rate_limited" else "duplicate"
        await bot._deliver(handled.reply, turn.where)
        return handled.reply.event

    async def _on_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """"Send to my DMs" on an outcome: the modal closes, and the outcome is shown again in the DM."""
        await ack()
        bot = self.bot
        user = str((body.get("user") or {}).get("id", ""))
        if not user:
            await bot._run("ignored", "modal", self.open)
            return
        team = team_of(context, (body.get("user") or {}).get("team_id"))
        resume = Inbound("action", action=bot.assistant.button(Nav("resume")))
        event_id = interaction_id("sub", body.get("trigger_id"))
        await bot._run(bot._turn("modal", team, user, resume, Where(client, team, user), event_id), "modal", self.open)
