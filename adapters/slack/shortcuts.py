"""Global shortcuts, reachable from the composer and the search bar during a shift (slack-manifest.yaml):

* ``ypsi_out_of_hours`` ("Out-of-hours number"): the area's out-of-hours service, open or closed now, in a
  modal (it leaves nothing behind); a select in it shows another area's, for that window only.
* ``ypsi_start_triage`` ("Start a triage"): the triage in a modal (adapters/slack/modal.py).

A global shortcut has no channel and no ``response_url``: when the modal cannot be opened (the trigger
expired), the answer goes to the person's DM with the app instead, so it is never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import Block, _plain, context, escape
from adapters.slack.delivery import Where
from adapters.slack.modal import MAX_TITLE, Modal, ModalTriage
from adapters.slack.turns import Host, Turn, interaction_id, team_of
from bot.assistant import Reply
from bot.contacts import describe, status
from bot.logs import log
from bot.types import Inbound, Outbound
from dialogs.schema import Contact

CALLBACK_OUT_OF_HOURS = "ypsi_out_of_hours"
CALLBACK_START_TRIAGE = "ypsi_start_triage"
ACTION_OOH_AREA = "ypsi_ooh_area"
CALLBACK_OOH_VIEW = "ypsi_ooh_modal"


class Shortcuts:
    def __init__(self, bot: Host, modals: ModalTriage):
        self.bot = bot
        self.modals = modals

    def register(self) -> None:
        app = self.bot.app
        app.global_shortcut(CALLBACK_OUT_OF_HOURS)(self._on_out_of_hours)
        app.global_shortcut(CALLBACK_START_TRIAGE)(self._on_start_triage)
        app.action(ACTION_OOH_AREA)(self._on_ooh_area)

    # ----------------------------------------------------------------------------- out of hours

    def out_of_hours(self, area: str) -> list[Contact]:
        """The area's out-of-hours services (the contacts marked ``out_of_hours`` it shows)."""
        return [c for c in self.bot.content.contacts_for(area).values() if c.out_of_hours]

    def instead(self, area: str, now: dt.datetime) -> list[Contact]:
        """While every out-of-hours service is closed (in working hours): the area's social care lines open
        now (or within their usual hours, when those are not confirmed)."""
        if any(_open(c, now) for c in self.out_of_hours(area)):
            return []
        day = self.bot.content.resolve_contacts(["role:social_care"], area)
        return [c for c in day if c.phone and not c.out_of_hours and _open(c, now)]

    def ooh_view(self, area: str, now: dt.datetime) -> dict[str, Any]:
        bot = self.bot
        text, render = bot.content.text, bot.render
        name = render.area_label(area)
        blocks: list[Block] = [{"type": "header", "text": _plain(text("slack_ooh_heading", area=name), 150)}]
        for contact in self.out_of_hours(area):
            blocks += render.contact_blocks(contact, now, area=area)
            if contact.summary:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(contact.summary)}})
        instead = self.instead(area, now)
        if instead:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(text("slack_ooh_instead"))}})
        for contact in instead:
            blocks += render.contact_blocks(contact, now, area=area)
        blocks.append(context(escape(text("slack_ooh_danger"))))
        blocks.append({"type": "divider"})
        blocks.append(
            {
                "type": "section",
                "block_id": "ypsi_ooh_area",
                "text": {"type": "mrkdwn", "text": text("slack_ooh_area", area=escape(name))},
                "accessory": {
                    "type": "static_select",
                    "action_id": ACTION_OOH_AREA,
                    "placeholder": _plain(text("slack_home_area_pick")),
                    "options": [_area_option(render.area_label(a), a) for a in render.area_order()],
                    "initial_option": _area_option(name, area),
                },
            }
        )
        return {
            "type": "modal",
            "callback_id": CALLBACK_OOH_VIEW,
            "title": _plain(text("slack_ooh_title"), MAX_TITLE),
            "close": _plain(text("slack_modal_close"), MAX_TITLE),
            "blocks": blocks,
        }

    def ooh_message(self, area: str, now: dt.datetime) -> Outbound:
        """The same answer as a DM, for when the modal cannot be opened."""
        content = self.bot.content
        lines = [describe(content, c, now, area=area) for c in self.out_of_hours(area)]
        instead = self.instead(area, now)
        if instead:
            lines += [content.text("slack_ooh_instead"), *(describe(content, c, now, area=area) for c in instead)]
        return Outbound(
            "\n\n".join(lines + [content.text("slack_ooh_danger")]),
            kind="info",
            title=content.text("slack_ooh_heading", area=self.bot.render.area_label(area)),
        )

    async def _area(self, turn: Turn) -> str:
        bot = self.bot
        area = await bot.service.remembered_area(turn.ref)  # None when the store fails: the default then
        return area if area in bot.content.areas else str(bot.default_area)

    async def _show_out_of_hours(self, turn: Turn) -> str:
        bot, where = self.bot, turn.where
        assert where.modal is not None
        area, now = await self._area(turn), bot.now()
        try:
            await where.client.views_open(trigger_id=where.modal.trigger_id, view=self.ooh_view(area, now))
            return "out_of_hours"
        except SlackApiError as exc:  # the trigger expired (3 s), Slack refused...: the DM instead
            log("slack_modal_gone", level=logging.WARNING, error=str(exc.response.get("error", ""))[:40], opening=True)
        message = self.ooh_message(area, now)
        await bot._post(where, await bot._dm_or_later(where), [message], Reply(None, [message], "out_of_hours"))
        return "out_of_hours_dm"

    # -------------------------------------------------------------------------------- listeners

    def _shortcut_turn(self, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext,
                       inbound: Inbound | None, name: str) -> Turn | str:
        user = str((body.get("user") or {}).get("id", ""))
        trigger = str(body.get("trigger_id") or "")
        if not user or not trigger:
            return "ignored"
        team = team_of(context, (body.get("user") or {}).get("team_id"))
        where = Where(client, team, user, modal=Modal(trigger_id=trigger))
        return self.bot._turn("shortcut", team, user, inbound, where, interaction_id("sc", trigger), name)

    async def _on_out_of_hours(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        turn = self._shortcut_turn(body, client, context, None, CALLBACK_OUT_OF_HOURS)
        await self.bot._run(turn, "shortcut", self._show_out_of_hours)

    async def _on_start_triage(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        turn = self._shortcut_turn(body, client, context, Inbound("command", command="triage"), CALLBACK_START_TRIAGE)
        await self.bot._run(turn, "shortcut", self.modals.open)

    async def _on_ooh_area(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Another area's out-of-hours number, in the same window (not remembered)."""
        await ack()
        area = str((action.get("selected_option") or {}).get("value", ""))
        view = body.get("view") or {}
        if area not in self.bot.content.areas or not view.get("id"):
            self.bot._finished("action", "bad_area", time.perf_counter())
            return
        await self.bot._guarded(
            "action", self._redraw(client, str(view["id"]), view.get("hash"), area)
        )

    async def _redraw(self, client: AsyncWebClient, view_id: str, view_hash: Any, area: str) -> str:
        view = self.ooh_view(area, self.bot.now())
        await client.views_update(view_id=view_id, hash=str(view_hash) if view_hash else None, view=view)
        return "out_of_hours_area"


def _area_option(label: str, area: str) -> Block:
    return {"text": _plain(label), "value": area}


def _open(contact: Contact, now: dt.datetime) -> bool:
    return status(contact, now) not in ("closed", "likely_closed")
