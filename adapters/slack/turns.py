"""One Slack interaction as the bot runs it (:class:`Turn`), the ids it is known by, and :class:`Host`: what the
shortcuts, the modal triage and the welcome (``shortcuts``, ``modal``, ``welcome``) ask of the bot, which is
:class:`~adapters.slack.app.SlackBot` (they never import it: app.py registers them)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from adapters.slack.blocks import Renderer, SlackMessage
from adapters.slack.delivery import Where
from bot.assistant import Assistant, Defaults, Reply
from bot.service import Service
from bot.types import ConversationRef, Inbound, Outbound
from dialogs.content import Content


@dataclass
class Turn:
    """One interaction to run: who, what they did, where the replies (or an apology) go."""

    kind: str  # "command", "action", "message", "shortcut" or "modal"
    ref: ConversationRef
    key: str
    inbound: Inbound | None  # None: a Slack-only screen (the /ypsi menu, the out-of-hours window)
    where: Where
    event_id: str | None = None
    name: str = ""  # the slash command word, the action id or the shortcut's callback id
    slash: str = ""  # the slash command itself (usually /ypsi)

    @property
    def text(self) -> str:
        return self.inbound.text if self.inbound is not None else ""


def interaction_id(prefix: str, raw: str | None) -> str | None:
    """A short stable id for a redelivered interaction (the raw ids are not kept)."""
    if not raw:
        return None
    return prefix + ":" + hashlib.sha256(raw.encode()).hexdigest()[:16]


def team_of(context: AsyncBoltContext, fallback: Any = None) -> str:
    return str(context.team_id or fallback or context.enterprise_id or "")


class Host(Protocol):
    """What of the bot the shortcuts, the modal triage and the welcome use."""

    app: AsyncApp
    content: Content
    assistant: Assistant
    service: Service
    render: Renderer
    default_area: str

    def ref(self, team: str, user: str) -> ConversationRef: ...

    def now(self) -> dt.datetime: ...

    def defaults(self) -> Defaults: ...

    def _turn(
        self, kind: str, team: str, user: str, inbound: Inbound | None, where: Where, event_id: str | None,
        name: str = "",
    ) -> Turn: ...

    async def _run(self, turn: Turn | str, kind: str, work: Callable[[Turn], Awaitable[str]]) -> None: ...

    async def _guarded(self, kind: str, work: Awaitable[str]) -> None: ...

    def _finished(self, kind: str, result: str, started: float) -> None: ...

    async def _deliver(self, reply: Reply, where: Where) -> None: ...

    async def _post(
        self, where: Where, channel: str | None, outs: list[Outbound], reply: Reply, pressed_ts: str | None = None
    ) -> None: ...

    async def _post_one(
        self, where: Where, channel: str | None, message: SlackMessage, *, crisis: bool, track: bool, queue: str
    ) -> None: ...

    async def _dm_or_later(self, where: Where) -> str | None: ...
