"""The Messages tab's one-time welcome.

Slack sends ``app_home_opened`` with ``tab: "messages"`` every time someone opens their DM with the app. The
first time, they get a short welcome (what the app does, "never send pictures", 999) with a button to start a
triage. That it was sent is kept as a flag in their preferences: under the hashed conversation key, with the
preferences' time-to-live, deleted by "Forget me" (after which they are welcomed again). Nothing else.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import SlackMessage, context, escape
from adapters.slack.delivery import Where
from adapters.slack.turns import Host
from bot.action import Nav
from bot.types import Option, Outbound


class Welcome:
    def __init__(self, bot: Host):
        self.bot = bot

    def message(self) -> SlackMessage:
        """The welcome, a note on privacy and 999 (secondary: a context block), and "Start a triage"."""
        text = self.bot.content.text
        start = Option(self.bot.assistant.button(Nav("triage")), text("nav_triage"), nav=True)
        blocks = self.bot.render.blocks(Outbound(text("slack_welcome"), kind="info"))
        blocks.append(context(escape(text("slack_welcome_note"))))
        blocks += self.bot.render.blocks(Outbound("", (start,), kind="info"))
        return SlackMessage(text("slack_welcome"), blocks)

    async def opened(self, client: AsyncWebClient, team: str, event: dict[str, Any]) -> str:
        """The Messages tab was opened: the welcome, the first time only."""
        bot = self.bot
        user = str(event.get("user", ""))
        if not await bot.service.first_welcome(bot.ref(team, user)):
            return "ignored"
        where = Where(client, team, user, key=bot.service.key(bot.ref(team, user)))
        channel = str(event.get("channel") or "") or await bot._dm_or_later(where)
        await bot._post_one(where, channel or None, self.message(), crisis=False, track=True, queue=where.key)
        return "welcome"
