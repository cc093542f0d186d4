"""Typed words: an answer to what is on screen (a number, a label, yes/no), or free text read once by
:mod:`bot.language` and answered from that reading (a crisis, an incident to triage, a topic, a contact, a
place in a flow, a command), or a kind "I didn't catch that" that is never a dead end.
"""

from __future__ import annotations

from bot import render
from bot.action import JumpTo, Nav, ShowContact, ShowTopic
from bot.areas import area_order
from bot.commands import Commands
from bot.contacts import describe
from bot.language import Reading
from bot.reply import Ctx
from bot.safety import normalise
from bot.screens import WHO
from bot.types import Option, Outbound
from dialogs.content import Content


class Text(Commands):
    """Typed words: answers to the screen, and free text read by the language layer."""

    def __init__(self, content: Content, secret: str):
        super().__init__(content, secret)
        self.router = self.language.router

    def _text(self, ctx: Ctx, text: str) -> str:
        """Typed words: read once (:mod:`bot.language`), then answered from that reading alone."""
        s = ctx.s
        reading = self.language.read(text, s.who, s.area)
        if reading.crisis:
            s.misses = 0
            return self._crisis(ctx, kind=reading.crisis, who=reading.who)
        if not reading.norm:
            return self._not_understood(ctx, reading)
        picked = self._typed_choice(ctx, normalise(text[:200]))  # labels as typed: "2" is an option, not "to"
        if picked is not None:
            s.misses = 0
            return picked
        if reading.area is not None:
            if s.area is None:
                s.area = reading.area  # they said where they are
            ctx.area = reading.area
        assumed = s.who is None and self._assume_who(ctx, reading)
        if assumed:  # what they asked is read again as from the audience now assumed
            reading = self.language.read(text, s.who, ctx.area or s.area)
            if reading.crisis:
                return self._crisis(ctx, kind=reading.crisis)
        # An incident triage starts from a first message only when the words say who is writing, not when who
        # was taken from what they asked ("is it illegal to send nudes" may well be a young person's question).
        if (not assumed or reading.who is not None) and self._is_incident(ctx, reading, text):
            s.misses = 0
            return self._incident(ctx, reading)
        if reading.route is not None:
            s.misses = 0
            if reading.route.target == "command:triage":
                return self._incident(ctx, reading)
            return self._follow(ctx, reading.route.target)
        if reading.guess is not None:
            return self._guess(ctx, reading)
        return self._not_understood(ctx, reading)

    def _guess(self, ctx: Ctx, reading: Reading) -> str:
        """Nothing was clearly meant, but one answer is far likelier than the rest: give it, and say it is a guess
        (the reply's buttons and "say it another way" are the ways on when it is not). Never a command."""
        assert reading.guess is not None
        ctx.s.misses = 0
        ctx.out.append(Outbound(self.content.text("guess_intro"), kind="info"))
        self._follow(ctx, reading.guess.target)
        return "guess"

    def _assume_who(self, ctx: Ctx, reading: Reading) -> bool:
        """Who is writing, when their words say it ("my daughter…", "a pupil in year 9…", "I sent…"), or when
        the only intent they can mean is for one audience. Says what was assumed, with a one-tap change."""
        who = reading.who
        if who is None and reading.route is not None:
            intent = next((i for i in self.content.intents if i.id == reading.route.intent), None)
            if intent is not None and len(intent.who) == 1:
                who = intent.who[0]
        if who is None or who not in WHO:
            return False
        ctx.s.who = who
        label = self.content.text(f"assumed_{who}")
        opts = (Option(self.button(Nav("who")), self.content.text("nav_change_who"), nav=True),)
        ctx.out.append(Outbound(label, opts, kind="info"))
        return True

    def _is_incident(self, ctx: Ctx, reading: Reading, text: str) -> bool:
        """A practitioner describing what happened ("a year 8 pupil sent a nude to…") gets the triage, unless
        the words clearly ask for something else, or a triage is already under way."""
        if ctx.s.who != "practitioner" or not reading.incident or ctx.s.answers:
            return False
        if reading.route is not None and reading.route.target.startswith(("contact:", "command:")) and \
                reading.route.target != "command:triage":
            return False  # they asked for a number or a command, not for the triage
        return "picture" in self.router.fold(text).split()

    def _incident(self, ctx: Ctx, reading: Reading) -> str:
        """Start the practitioner's triage with what the description already says suggested, to confirm."""
        s = ctx.s
        s.flow, s.node, s.answers = None, None, []
        s.area = s.area or ctx.area or ctx.defaults.area
        suggested = reading.facts.answers(self.content)
        flow = self._flow_for(s) if s.area is not None else None
        s.hints = sorted((q, c) for q, c in suggested.items() if flow is None or flow.question(q) is not None)
        asked = {q for q, _ in s.hints}
        pre = self.content.language.prefill if self.content.language else None
        facts = []  # only the facts that suggest an answer to a question this flow asks
        if pre and reading.facts.age is not None and asked & {*pre.under_13, *pre.age_13_to_17}:
            facts.append(self.content.text("fact_age", age=str(reading.facts.age)))
        if pre and reading.facts.adult and asked & set(pre.adult):
            facts.append(self.content.text("fact_adult"))
        elif pre and reading.facts.adult_unknown and asked & set(pre.adult_unknown):
            facts.append(self.content.text("fact_adult_unknown"))
        if pre and reading.facts.coercion and asked & set(pre.coercion):
            facts.append(self.content.text("fact_coercion"))
        text = self.content.text("incident_start")
        if facts:
            text = render.paragraphs(text, self.content.text("incident_facts"), "\n".join(f"- {f}" for f in facts))
        ctx.out.append(Outbound(text, kind="info"))
        self._current(ctx)
        return "incident"

    def _not_understood(self, ctx: Ctx, reading: Reading) -> str:
        """Never a dead end: the first miss says so kindly with a safety line and a one-tap way to a person;
        a second miss in a row hands over to people instead of repeating the same menu."""
        s = ctx.s
        s.misses += 1
        who = s.who or "unknown"
        talk = Option(self.button(Nav("urgent")), self.content.text("nav_talk_now"), nav=True)
        if s.misses >= 2:
            text = self.content.text(f"handover_{who}")
            if who == "practitioner":
                opts: tuple[Option, ...] = (
                    Option(self.button(Nav("triage")), self.content.text("nav_triage"), nav=True),
                    *self._nav(ctx)[-2:],
                )
            else:
                opts = (talk, *self._nav(ctx)[-3:-1])
            ctx.out.append(Outbound(text, opts, kind="info"))
            return "handover"
        ctx.out.append(Outbound(self.content.text(f"didnt_catch_{who}"), (talk,) if who != "practitioner" else (),
                                kind="info"))
        options: list[Option] = []
        for r in reading.maybe:
            o = self._target_option(r.target)
            if o is not None and all(o.label != x.label for x in options):
                options.append(o)
        if options:  # a question back instead of the same screen again (unless no screen was shown yet)
            ask = self.content.text("did_you_mean")
            if s.node is not None:
                ctx.out.append(Outbound(ask, (*options, *self._nav(ctx)), kind="menu"))
                return "unsure"
            mark = len(ctx.out)
            self._current(ctx, brief=True)
            screen = ctx.out[mark:]
            if len(screen) == 1 and screen[0].kind == "menu" and s.node is None:
                # "who are you?" or "where are you?": one menu, so the suggestions and the question are one tap
                # apart (and numbered together where menus are typed as numbers)
                ctx.out[mark:] = [Outbound(render.paragraphs(ask, screen[0].text), (*options, *screen[0].options),
                                           kind="menu", title=screen[0].title)]
            else:
                ctx.out.insert(mark, Outbound(ask, tuple(options), kind="menu"))
            return "unsure"
        self._current(ctx, brief=True)
        return "unrecognised"

    def _typed_choice(self, ctx: Ctx, norm: str) -> str | None:
        """A typed number, label or yes/no answering what is on screen now."""
        s = ctx.s
        if s.who is None:
            labels = [(w, normalise(self.content.text(f"who_{w}"))) for w in WHO]
            who = self._match_label(norm, labels, extra={w: self.content.synonyms.get(w, []) for w in WHO})
            if who is not None:
                s.who = who
                self._current(ctx)
                return "who"
            return None
        if s.area is None:
            areas = area_order(self.content)
            labels = [(a, normalise(self.content.areas[a].name)) for a in areas]
            area = self._match_label(norm, labels) or self._area_from_words(norm)
            if area is None and normalise(self.content.text("area_elsewhere")) == norm:
                area = self.content.meta.default_area
            if area is not None:
                s.area = area
                self._current(ctx)
                return "area"
            return None
        flow, pos = self._position(ctx)
        if flow is None or pos is None:
            return None
        q = flow.question(pos.node)
        if q is None:
            return None
        labels = [(c.id, normalise(c.label)) for c in q.choices]
        choice = self._match_label(norm, labels, extra={c.id: self.content.synonyms.get(c.id, []) for c in q.choices})
        if choice is None:
            return None
        return self._answer(ctx, flow, choice)

    @staticmethod
    def _match_label(norm: str, labels: list[tuple[str, str]], extra: dict[str, list[str]] | None = None) -> str | None:
        if norm.isdigit():
            i = int(norm) - 1
            return labels[i][0] if 0 <= i < len(labels) else None
        for ident, label in labels:
            if norm in (label, ident.replace("_", " ")):
                return ident
        for ident, words in (extra or {}).items():
            if norm in words:
                return ident
        return None

    def _follow(self, ctx: Ctx, target: str) -> str:
        kind, _, rest = target.partition(":")
        if kind == "contact":
            contact = self.content.contacts_for(ctx.area or ctx.s.area or self.content.meta.default_area).get(rest)
            if contact is None:
                contact = next((c for _, c in self.content.all_contacts() if c.id == rest), None)
            if contact is not None:
                acts = self.one_tap([contact], ctx.area or ctx.s.area)
                ctx.out.append(Outbound(describe(self.content, contact, ctx.now), acts, kind="info"))
                self._then_current_question(ctx)
                return "contact"
        if kind == "topic":
            return self._topic(ctx, rest)
        if kind == "command":
            return self._command(ctx, rest, "")
        if kind == "flow":
            flow_id, _, node = rest.partition(":")
            return self._jump(ctx, flow_id, node)
        ctx.out.append(Outbound(self.content.text("didnt_catch"), kind="info"))
        self._current(ctx)
        return "unrecognised"

    def _target_option(self, target: str) -> Option | None:
        """A button for a "did you mean" suggestion: a topic, a contact, a place in a flow or a command."""
        kind, _, rest = target.partition(":")
        if kind == "topic" and rest in self.content.topics:
            return Option(self.button(ShowTopic(rest)), self.content.topics[rest].title)
        if kind == "command" and self.commands.offered_as_button(rest):
            return Option(self.button(Nav(rest)), self.content.text(f"nav_{rest}"), nav=True)
        if kind == "contact":
            contact = next((c for _, c in self.content.all_contacts() if c.id == rest), None)
            return Option(self.button(ShowContact(rest)), contact.name) if contact else None
        if kind == "flow":
            flow_id, _, node = rest.partition(":")
            flow = self.content.flows.get(flow_id)
            outcome = flow.outcome(node) if flow else None
            if outcome is None:
                return None
            try:
                return Option(self.button(JumpTo(flow_id, node)), outcome.title)
            except ValueError:  # too long for a Telegram button
                return None
        return None
