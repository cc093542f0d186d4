"""Asides: replies that answer something on the way and leave the conversation where it was (the crisis
card, the imagery warning, contacts, a topic, a contact, the decision record), and jumps to a place in a flow.
"""

from __future__ import annotations

import datetime as dt

from bot import render
from bot.action import Nav
from bot.contacts import describe, search
from bot.language import Language
from bot.record import decision_record
from bot.reply import Ctx
from bot.screens import Screens
from bot.types import Option, Outbound
from dialogs.content import Content
from dialogs.engine import Result
from dialogs.schema import Contact


class Asides(Screens):
    """Replies on the way: the crisis card and its detector, the imagery warning, contacts, topics, the
    decision record, and a jump to a place in a flow."""

    def __init__(self, content: Content, secret: str):
        super().__init__(content, secret)
        self.language = Language(content)
        self.crisis = self.language.crisis

    def _crisis(self, ctx: Ctx, asked: bool = False, kind: str | None = None, who: str | None = None) -> str:
        adult = (ctx.s.who or who) in ("parent", "practitioner")  # ``who``: what the words say, if not known
        ctx.out.append(self._crisis_card(kind, ctx.area or ctx.s.area, ctx.now, carry_on=bool(ctx.s.who), adult=adult))
        if not asked:
            self._current(ctx)
        return "urgent" if asked else "crisis"

    def _crisis_card(
        self, kind: str | None, area: str | None, now: dt.datetime, *, carry_on: bool, adult: bool = False
    ) -> Outbound:
        """The one way the crisis card is built, as one message: 999, Childline, Samaritans, Shout (the area's
        crisis contacts, national when unknown), then the next step for the kind of crisis (sextortion: don't
        pay, CEOP, Report Remove; an adult meeting a child: 999 and CEOP; an overdose: 999 now; ...)."""
        area = area or self.content.meta.default_area
        contacts = self.content.resolve_contacts(list(self.content.safety.contacts), area)
        parts = [self.content.text("crisis"),
                 "\n".join(describe(self.content, c, now, detail=False, state=False) for c in contacts)]
        specific = self.content.language.crisis_kinds.get(kind or "") if self.content.language else None
        extra: list[Contact] = []
        if specific is not None:
            extra = [c for c in self.content.resolve_contacts(specific.contacts, area) if c not in contacts]
            step = specific.for_adults if adult and specific.for_adults else specific.next_step
            parts.append(render.paragraphs(
                f"{specific.title}\n{step}",
                "\n".join(describe(self.content, c, now, detail=False, state=False) for c in extra),
            ))
        parts.append(self.content.text("crisis_after"))
        carry = (Option(self.button(Nav("resume")), self.content.text("nav_continue"), nav=True),)
        opts = (*self.one_tap([*contacts, *extra], area), *(carry if carry_on else ()))  # Childline, CEOP: one tap
        return Outbound(render.paragraphs(*parts), opts, kind="crisis", title=self.content.text("crisis_title"))

    def _media_warning(self) -> Outbound:
        return Outbound(self.content.text("media_warning"), kind="warning", title=self.content.text("media_title"))

    def _contacts(self, ctx: Ctx, query: str) -> str:
        area = ctx.area or ctx.s.area
        matches = search(self.content, query, area=area, at=ctx.now, limit=6, who=ctx.s.who)
        if not matches:
            ctx.out.append(Outbound(self.content.text("no_contacts_found"), self._nav(ctx), kind="info"))
            return "contacts_none"
        body = "\n\n".join(describe(self.content, m.contact, ctx.now, area=m.area) for m in matches)
        area = matches[0].area if area else None  # an area named in the query ("out of hours leeds") wins
        heading = self.content.text("contacts_for", area=self.content.areas[area].name) if area else ""
        acts = self.one_tap([m.contact for m in matches], area)
        ctx.out.append(Outbound(render.paragraphs(heading, body), (*acts, *self._nav(ctx)), kind="info"))
        return "contacts"

    def _topic(self, ctx: Ctx, topic_id: str) -> str:
        t = self.content.topics[topic_id]
        contacts = self.content.resolve_contacts(t.contacts, ctx.s.area or self.content.meta.default_area)
        detail = ctx.s.who in (None, "practitioner")
        acts = self.one_tap(contacts, ctx.s.area)
        ctx.out.append(render.topic(self.content, t, contacts, ctx.now, acts, detail=detail))
        self._then_current_question(ctx)
        return "topic"

    def _then_current_question(self, ctx: Ctx) -> None:
        """After an aside (a contact, a topic) the question on screen is shown again, so answering carries
        on where it was; elsewhere the aside gets the ways on."""
        flow, pos = self._position(ctx)
        if flow is not None and pos is not None and flow.question(pos.node) is not None:
            self._current(ctx)
        else:
            last = ctx.out[-1]
            ctx.out[-1] = Outbound(last.text, (*last.options, *self._nav(ctx)), last.kind, last.title)

    def _record(self, ctx: Ctx) -> str:
        flow, pos = self._position(ctx)
        if flow is None or pos is None or flow.who != "practitioner" or flow.outcome(pos.node) is None:
            return self._expired(ctx)
        prompt = self.dialogs.engine(flow.id).prompt(pos)
        assert isinstance(prompt, Result)
        area = ctx.s.area or self.content.meta.default_area
        contacts = self.content.resolve_contacts(prompt.outcome.contacts, area)
        record = decision_record(self.content, flow, area, pos.answers, prompt, contacts, ctx.now)
        ctx.out.append(Outbound(record, kind="record", title=self.content.text("record_heading")))
        return "record"

    def _jump(self, ctx: Ctx, flow_id: str, node: str) -> str:
        """Typed words that name a place in a signposting flow ("my daughter sent a photo") go there."""
        flow = self.content.flows.get(flow_id)
        if flow is None:
            return self._expired(ctx)
        s = ctx.s
        if flow.who == "practitioner":
            s.who = "practitioner"
        elif s.who != flow.who:
            s.who = flow.who
        s.area = s.area or ctx.defaults.area or self.content.meta.default_area
        engine = self.dialogs.engine(flow_id)
        answers = engine.path_to(node)
        if answers is None:
            return self._expired(ctx)
        turn = engine.replay(answers)
        self._enter(ctx, flow, turn)
        return "routed"
