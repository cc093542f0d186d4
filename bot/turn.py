"""One turn, in order of precedence, whatever state the conversation is in:

1. media is refused with the imagery warning (nothing about it is kept);
2. crisis words get emergency signposting before anything else;
3. commands and navigation (start, back, start again, help, contacts, urgent, forget, exit: see
   ``content/commands.yaml``);
4. a button (a typed :mod:`bot.action`) or a typed answer to the current question;
5. free text routed to a topic, contact or place in a flow, or a gentle "I didn't catch that".
"""

from __future__ import annotations

import datetime as dt

from bot import render
from bot.action import Answer, JumpTo, Nav, PickArea, PickWho, ShowContact, ShowTopic
from bot.reply import Ctx, Defaults, Reply
from bot.screens import WHO
from bot.session import Session
from bot.text import Text
from bot.types import Inbound, Outbound

MAX_TEXT = 40_000  # Slack's limit: crisis words are looked for in all of it; routing reads the start
MAX_ARG = 200  # of a command's argument


class Turn(Text):
    """A whole turn: defaults, a restore after a content change, then the first of the five that applies."""

    def handle(
        self, session: Session | None, inbound: Inbound, now: dt.datetime, defaults: Defaults | None = None
    ) -> Reply:
        defaults = defaults or Defaults()
        s = session or Session(created=now.timestamp())
        ctx = Ctx(s, now, defaults)
        self._apply_defaults(ctx)
        self._restore(ctx)
        event = self._dispatch(ctx, inbound)
        if s.who == "young_person":
            self._quick_exit_on_every_keyboard(ctx)
        if ctx.ending is None:
            s.version = self.content.version
            s.updated = now.timestamp()
        return ctx.reply(event)

    def _dispatch(self, ctx: Ctx, inbound: Inbound) -> str:
        if inbound.kind == "media":
            # A caption can carry crisis words too: they still come first. The media itself is never seen.
            kind = self.language.crisis_kind(inbound.text[:MAX_TEXT], ctx.s.who)[0] if inbound.text else None
            if kind:
                self._crisis(ctx, asked=True, kind=kind)
            ctx.out.append(self._media_warning())
            return "crisis" if kind else "media"
        if inbound.kind == "command":
            return self._command(ctx, inbound.command.lower(), inbound.arg[:MAX_ARG])
        if inbound.kind == "action":
            return self._action(ctx, inbound.action)
        return self._text(ctx, inbound.text[:MAX_TEXT])

    # --------------------------------------------------------------------------------------- buttons

    def _action(self, ctx: Ctx, token: str) -> str:
        action = self.buttons.decode(token)
        if action is None:
            ctx.out.append(Outbound(self.content.text("forged_button"), kind="warning"))
            ctx.stale = True
            self._current(ctx)
            return "forged_action"
        s = ctx.s
        if isinstance(action, PickWho) and action.who in WHO:
            if s.who is not None:
                return self._expired(ctx)
            s.who = action.who
            self._current(ctx, replace=True)
            return "who"
        if isinstance(action, PickArea) and action.area in self.content.areas:
            if s.area is not None:
                return self._expired(ctx)
            s.area = action.area
            self._current(ctx, replace=True)
            return "area"
        if isinstance(action, Answer):
            return self._choice_action(ctx, action)
        if isinstance(action, ShowTopic) and action.topic in self.content.topics:
            return self._topic(ctx, action.topic)
        if isinstance(action, ShowContact):
            return self._follow(ctx, f"contact:{action.contact}")
        if isinstance(action, JumpTo):
            return self._jump(ctx, action.flow, action.node)
        if isinstance(action, Nav):
            return self._global(ctx, action.name)
        return self._expired(ctx)  # Expired, or a who, area or topic that does not exist

    def _choice_action(self, ctx: Ctx, action: Answer) -> str:
        s = ctx.s
        flow = self.content.flows.get(action.flow)
        if flow is None or not self.buttons.current(action) or s.flow != action.flow:
            return self._expired(ctx)
        if action.question >= len(flow.questions) or flow.questions[action.question].id != s.node:
            return self._expired(ctx)
        q = flow.questions[action.question]
        if action.choice >= len(q.choices):
            return self._expired(ctx)
        return self._answer(ctx, flow, q.choices[action.choice].id, replace=True)

    def _global(self, ctx: Ctx, name: str) -> str:
        """A navigation button: back and start again replace the pressed menu; a command's button (contacts,
        urgent help, help, forget, quick exit, triage) does what the command does."""
        if name == "back":
            return self._back(ctx, replace=True)
        if name == "restart":
            return self._restart(ctx, replace=True)
        if name == "resume":
            self._current(ctx, replace=True)
            return "resume"
        if name == "who":
            ctx.s.who, ctx.s.flow, ctx.s.node, ctx.s.answers = None, None, None, []
            self._current(ctx, replace=True)
            return "change_who"
        if name == "area":
            ctx.s.area, ctx.s.flow, ctx.s.node, ctx.s.answers = None, None, None, []
            self._current(ctx, replace=True)
            return "change_area"
        if name == "explain":
            flow, pos = self._position(ctx)
            q = flow.question(pos.node) if flow and pos else None
            if q is None:
                return self._expired(ctx)
            ctx.out.append(render.explain(self.content, q))
            ctx.explains = True
            self._current(ctx)
            return "explain"
        if name == "record":
            return self._record(ctx)
        if name in self.commands.commands:
            return self._command(ctx, name, "")
        return self._expired(ctx)
