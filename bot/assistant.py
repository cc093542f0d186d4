"""The assistant: one pure turn of a conversation, the same for every platform.

``handle(session, inbound, now)`` → :class:`~bot.reply.Reply` (the session to save, or ``None`` to forget
it, and the replies). The assistant is built in layers, each a module that uses only those below it:

- :mod:`bot.screens`: who are you, where are you, the current question or outcome, navigation, answers;
- :mod:`bot.asides`: the crisis card, the imagery warning, contacts, topics, the decision record, jumps;
- :mod:`bot.commands`: the command table (``content/commands.yaml``) and what each command does;
- :mod:`bot.text`: typed answers and free text;
- :mod:`bot.turn`: the order of precedence (media, crisis, command, button, text);

with :mod:`bot.action` the typed button payloads and their token format. :class:`Assistant` adds what the
service and the adapters ask of it besides a turn.
"""

from __future__ import annotations

import datetime as dt

from bot.action import Action, Answer, Nav
from bot.reply import Answered, Ctx, Defaults, Reply
from bot.screens import WHO
from bot.session import Session
from bot.turn import MAX_ARG, MAX_TEXT, Turn
from bot.types import Inbound, Outbound

__all__ = ["WHO", "Action", "Answered", "Assistant", "Defaults", "Reply"]

NEEDS_SESSION = (Nav("back"), Nav("resume"), Nav("explain"), Nav("record"))


class Assistant(Turn):
    """Holds the content, the flows' machines and the matchers; every conversation shares it."""

    def crisis_card(self, inbound: Inbound, now: dt.datetime) -> Outbound | None:
        """The crisis card (999, Childline, Samaritans, Shout; national contacts) when ``inbound`` is a
        crisis: crisis words in its text, caption or command argument, /urgent, or the "Urgent help" button.

        Needs no session, so the service can work it out before touching the store, and give it even when
        the store has failed.
        """
        crisis, kind = False, None
        if inbound.kind in ("text", "media"):
            kind = self.language.crisis_kind(inbound.text[:MAX_TEXT])[0] if inbound.text else None
            crisis = kind is not None
        elif inbound.kind == "command":
            kind = self.language.crisis_kind(inbound.arg[:MAX_ARG])[0] if inbound.arg else None
            crisis = kind is not None or self.commands.resolve(inbound.command) == "urgent"
        elif inbound.kind == "action":
            crisis = self.buttons.decode(inbound.action) == Nav("urgent")
        return self._crisis_card(kind, None, now, carry_on=False) if crisis else None

    def needs_session(self, inbound: Inbound) -> bool:
        """True for a button that only means something inside a saved conversation (an answer, "Back",
        "Carry on", "What does this mean?", "Decision record"). With no saved session (it expired, was
        forgotten or lost, say after a Redis FLUSHALL) such a button gets "That menu has expired", never a
        silent restart."""
        if inbound.kind != "action":
            return False
        action = self.buttons.decode(inbound.action)
        return isinstance(action, Answer) or action in NEEDS_SESSION

    def expired(self, now: dt.datetime, defaults: Defaults | None = None, notice: str = "menu_expired") -> Reply:
        """A fresh conversation that starts with ``notice`` (a message key) and shows the first screen."""
        s = Session(created=now.timestamp())
        ctx = Ctx(s, now, defaults or Defaults())
        self._apply_defaults(ctx)
        ctx.out.append(Outbound(self.content.text(notice), kind="info"))
        ctx.stale = True
        self._current(ctx)
        s.version = self.content.version
        s.updated = now.timestamp()
        return ctx.reply("expired_action")

    def sorry(self) -> Outbound:
        """The reply when a turn fails unexpectedly: an apology and the ways out."""
        return Outbound(self.content.text("sorry"), kind="info")

    def text(self, key: str) -> Outbound:
        """A plain message from content (for the service's replies about the service itself)."""
        return Outbound(self.content.text(key), kind="info")
