"""The assistant: one pure turn of a conversation, the same for every platform.

``handle(session, inbound, now)`` → :class:`Reply` (the session to save, or ``None`` to forget it, and the
replies). Order of precedence, whatever state the conversation is in:

1. media is refused with the imagery warning (nothing about it is kept);
2. crisis words get emergency signposting before anything else;
3. commands and navigation (start, back, start again, help, contacts, urgent, forget, exit);
4. a button or a typed answer to the current question;
5. free text routed to a topic, contact or place in a flow, or a gentle "I didn't catch that".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot import render
from bot.areas import area_label, area_order
from bot.contacts import describe, search
from bot.language import Language, Reading
from bot.record import decision_record
from bot.safety import normalise
from bot.session import Session
from bot.tokens import TokenSigner
from bot.types import Inbound, Option, Outbound
from dialogs.content import Content
from dialogs.engine import Ask, Dialogs, InvalidInput, Position, Result, Turn
from dialogs.schema import Contact, Flow

WHO = ("young_person", "parent", "practitioner")
MAX_TEXT = 40_000  # Slack's limit: crisis words are looked for in all of it; routing reads the start
MAX_COPY = 3  # copy buttons in one reply: enough for the numbers that matter, a keyboard that fits a phone


@dataclass
class Reply:
    """What a turn produced. ``session`` is ``None`` when the user asked to be forgotten."""

    session: Session | None
    replies: list[Outbound]
    event: str  # a label for logs and metrics: never user text
    delete_conversation: bool = False  # quick exit: adapters delete what they can of this chat


@dataclass
class Defaults:
    """What a platform or command line already knows: who is asking, and where."""

    who: str | None = None
    area: str | None = None
    fixed_who: bool = False  # Slack: always a practitioner
    remember_area: bool = False  # Slack: the area chosen is a preference kept beyond the session (the service)


@dataclass
class _Ctx:
    s: Session
    now: dt.datetime
    defaults: Defaults
    out: list[Outbound] = field(default_factory=list)
    area: str | None = None  # an area named in this message: used for this answer only


class Assistant:
    """Holds the content, the flows' machines and the matchers; every conversation shares it."""

    def __init__(self, content: Content, secret: str):
        self.content = content
        self.dialogs = Dialogs(content)
        self.signer = TokenSigner(secret)
        self.language = Language(content)
        self.crisis = self.language.crisis
        self.router = self.language.router
        self.ver = content.version[-4:]
        self._flow_by_who: dict[str, str] = {f.who: f.id for f in content.flows.values() if f.who != "practitioner"}
        # Worked out once: content does not change after loading (a new load makes a new Assistant).
        self._area_names = [
            (area.id, {area.id, normalise(area.name), *(normalise(a) for a in area.aliases)})
            for area in content.areas.values()
        ]
        self._q_index = {(f.id, q.id): i for f in content.flows.values() for i, q in enumerate(f.questions)}
        self._nav_options: dict[tuple[str, ...], tuple[Option, ...]] = {}
        self._choice_options: dict[tuple[str, int], tuple[Option, ...]] = {}

    # ------------------------------------------------------------------------------------------ entry

    def handle(
        self, session: Session | None, inbound: Inbound, now: dt.datetime, defaults: Defaults | None = None
    ) -> Reply:
        defaults = defaults or Defaults()
        s = session or Session(created=now.timestamp())
        ctx = _Ctx(s, now, defaults)
        self._apply_defaults(ctx)
        self._restore(ctx)
        event = self._dispatch(ctx, inbound)
        if s.who == "young_person":
            self._quick_exit_on_every_keyboard(ctx)
        if event == "forget":
            return Reply(None, ctx.out, event)
        if event == "exit":
            return Reply(None, ctx.out, event, delete_conversation=True)
        s.version = self.content.version
        s.updated = now.timestamp()
        return Reply(s, ctx.out, event)

    def _apply_defaults(self, ctx: _Ctx) -> None:
        d, s = ctx.defaults, ctx.s
        if d.who and (s.who is None or d.fixed_who) and s.who != d.who:
            s.who, s.flow, s.node, s.answers = d.who, None, None, []
        if d.area and s.area is None and d.area in self.content.areas:
            s.area = d.area

    def _restore(self, ctx: _Ctx) -> None:
        """A saved state from older content that no longer exists gets a polite restart."""
        s = ctx.s
        if s.flow is None or s.version == self.content.version:
            return
        turn = self.dialogs.restore(Position(s.flow, s.node or "", tuple(s.answers)))
        if turn is None:
            s.flow, s.node, s.answers = None, None, []
            ctx.out.append(Outbound(self.content.text("content_changed"), kind="info"))

    def _dispatch(self, ctx: _Ctx, inbound: Inbound) -> str:
        if inbound.kind == "media":
            # A caption can carry crisis words too: they still come first. The media itself is never seen.
            kind = self.language.crisis_kind(inbound.text[:MAX_TEXT], ctx.s.who)[0] if inbound.text else None
            if kind:
                self._crisis(ctx, asked=True, kind=kind)
            ctx.out.append(self._media_warning())
            return "crisis" if kind else "media"
        if inbound.kind == "command":
            return self._command(ctx, inbound.command.lower(), inbound.arg[:200])
        if inbound.kind == "action":
            return self._action(ctx, inbound.action)
        return self._text(ctx, inbound.text[:MAX_TEXT])

    # ------------------------------------------------------------------------------------- commands

    def _command(self, ctx: _Ctx, name: str, arg: str) -> str:
        s = ctx.s
        kind = self.language.crisis_kind(arg, s.who)[0] if arg else None
        if kind:
            return self._crisis(ctx, kind=kind)
        if name == "start":
            area = self._area_from_words(arg)
            keep_who = ctx.defaults.who
            s.who, s.flow, s.node, s.answers, s.hints = keep_who, None, None, [], []
            s.area = area or ctx.defaults.area
            self._current(ctx, welcome=True)
            return "start"
        if name in ("urgent", "emergency", "sos"):
            return self._crisis(ctx, asked=True)
        if name == "hello":  # a greeting: say hello and show where we are, without losing anyone's place
            self._current(ctx, welcome=True)
            return "hello"
        if name == "help":
            ctx.out.append(Outbound(self.content.text("help"), self._nav(ctx), kind="info"))
            return "help"
        if name == "contacts":
            return self._contacts(ctx, arg)
        if name == "forget":
            ctx.out.append(Outbound(self.content.text("forgotten"), kind="farewell"))
            return "forget"
        if name in ("exit", "quit"):
            ctx.out.append(Outbound(self.content.text("quick_exit"), kind="farewell"))
            return "exit"
        if name in ("restart", "menu"):
            return self._restart(ctx)
        if name == "back":
            return self._back(ctx)
        if name in ("triage",):
            area = self._area_from_words(arg)
            s.who, s.flow, s.node, s.answers, s.hints = "practitioner", None, None, [], []
            s.area = area or s.area or ctx.defaults.area
            self._current(ctx)
            return "start"
        ctx.out.append(Outbound(self.content.text("unknown_command"), self._nav(ctx), kind="info"))
        self._current(ctx)
        return "unknown_command"

    def _area_from_words(self, text: str) -> str | None:
        words = normalise(text)
        if not words:
            return None
        for area_id, names in self._area_names:
            if words in names:
                return area_id
        return None

    # --------------------------------------------------------------------------------------- actions

    def _action(self, ctx: _Ctx, token: str) -> str:
        # The bot only issues short ASCII tokens (hmac.compare_digest raises on non-ASCII text).
        parts = self.signer.verify(token[:128]) if token.isascii() else None
        if parts is None:
            ctx.out.append(Outbound(self.content.text("forged_button"), kind="warning"))
            self._current(ctx)
            return "forged_action"
        kind, args = parts[0], parts[1:]
        s = ctx.s
        if kind == "w" and args and args[0] in WHO:
            if s.who is not None:
                return self._expired(ctx)
            s.who = args[0]
            self._current(ctx, replace=True)
            return "who"
        if kind == "a" and args and args[0] in self.content.areas:
            if s.area is not None:
                return self._expired(ctx)
            s.area = args[0]
            self._current(ctx, replace=True)
            return "area"
        if kind == "c" and len(args) == 4:
            return self._choice_action(ctx, *args)
        if kind == "t" and args and args[0] in self.content.topics:
            return self._topic(ctx, args[0])
        if kind == "k" and args:
            return self._follow(ctx, f"contact:{args[0]}")
        if kind == "j" and len(args) == 2:
            return self._jump(ctx, args[0], args[1])
        if kind == "g" and args:
            return self._global(ctx, args[0])
        return self._expired(ctx)

    def _choice_action(self, ctx: _Ctx, flow_id: str, qi: str, ci: str, ver: str) -> str:
        s = ctx.s
        flow = self.content.flows.get(flow_id)
        if flow is None or ver != self.ver or s.flow != flow_id or not (qi.isdigit() and ci.isdigit()):
            return self._expired(ctx)
        q_index, c_index = int(qi), int(ci)
        if q_index >= len(flow.questions) or flow.questions[q_index].id != s.node:
            return self._expired(ctx)
        q = flow.questions[q_index]
        if c_index >= len(q.choices):
            return self._expired(ctx)
        return self._answer(ctx, flow, q.choices[c_index].id, replace=True)

    def _global(self, ctx: _Ctx, name: str) -> str:
        if name == "back":
            return self._back(ctx, replace=True)
        if name == "restart":
            return self._restart(ctx, replace=True)
        if name == "contacts":
            return self._contacts(ctx, "")
        if name == "urgent":
            return self._crisis(ctx, asked=True)
        if name == "help":
            return self._command(ctx, "help", "")
        if name == "resume":
            self._current(ctx, replace=True)
            return "resume"
        if name == "forget":
            return self._command(ctx, "forget", "")
        if name == "exit":
            return self._command(ctx, "exit", "")
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
            self._current(ctx)
            return "explain"
        if name == "record":
            return self._record(ctx)
        if name == "triage":
            return self._command(ctx, "triage", "")
        return self._expired(ctx)

    def _expired(self, ctx: _Ctx) -> str:
        ctx.out.append(Outbound(self.content.text("menu_expired"), kind="info"))
        self._current(ctx)
        return "expired_action"

    # ------------------------------------------------------------------------------------------ text

    def _text(self, ctx: _Ctx, text: str) -> str:
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
        if self._is_incident(ctx, reading, text):
            s.misses = 0
            return self._incident(ctx, reading)
        if reading.route is not None:
            s.misses = 0
            if reading.route.target == "command:triage":
                return self._incident(ctx, reading)
            return self._follow(ctx, reading.route.target)
        return self._not_understood(ctx, reading)

    def _assume_who(self, ctx: _Ctx, reading: Reading) -> bool:
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
        opts = (Option(self.signer.sign("g", "who"), self.content.text("nav_change_who"), nav=True),)
        ctx.out.append(Outbound(label, opts, kind="info"))
        return True

    def _is_incident(self, ctx: _Ctx, reading: Reading, text: str) -> bool:
        """A practitioner describing what happened ("a year 8 pupil sent a nude to…") gets the triage, unless
        the words clearly ask for something else, or a triage is already under way."""
        if ctx.s.who != "practitioner" or not reading.incident or ctx.s.answers:
            return False
        if reading.route is not None and reading.route.target.startswith(("contact:", "command:")) and \
                reading.route.target != "command:triage":
            return False  # they asked for a number or a command, not for the triage
        return "picture" in self.router.fold(text).split()

    def _incident(self, ctx: _Ctx, reading: Reading) -> str:
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

    def _not_understood(self, ctx: _Ctx, reading: Reading) -> str:
        """Never a dead end: the first miss says so kindly with a safety line and a one-tap way to a person;
        a second miss in a row hands over to people instead of repeating the same menu."""
        s = ctx.s
        s.misses += 1
        who = s.who or "unknown"
        talk = Option(self.signer.sign("g", "urgent"), self.content.text("nav_talk_now"), nav=True)
        if s.misses >= 2:
            text = self.content.text(f"handover_{who}")
            if who == "practitioner":
                opts: tuple[Option, ...] = (
                    Option(self.signer.sign("g", "triage"), self.content.text("nav_triage"), nav=True),
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
            nav = self._nav(ctx) if s.node is not None else ()
            ctx.out.append(Outbound(self.content.text("did_you_mean"), (*options, *nav), kind="menu"))
            if s.node is None:
                self._current(ctx)
            return "unsure"
        self._current(ctx)
        return "unrecognised"

    def _typed_choice(self, ctx: _Ctx, norm: str) -> str | None:
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

    def _follow(self, ctx: _Ctx, target: str) -> str:
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
            return Option(self.signer.sign("t", rest), self.content.topics[rest].title)
        if kind == "command" and rest in ("contacts", "urgent", "help", "restart", "back", "triage"):
            return Option(self.signer.sign("g", rest), self.content.text(f"nav_{rest}"), nav=True)
        if kind == "contact":
            contact = next((c for _, c in self.content.all_contacts() if c.id == rest), None)
            return Option(self.signer.sign("k", rest), contact.name) if contact else None
        if kind == "flow":
            flow_id, _, node = rest.partition(":")
            flow = self.content.flows.get(flow_id)
            outcome = flow.outcome(node) if flow else None
            if outcome is None:
                return None
            try:
                return Option(self.signer.sign("j", flow_id, node), outcome.title)
            except ValueError:  # too long for a Telegram button
                return None
        return None

    def _jump(self, ctx: _Ctx, flow_id: str, node: str) -> str:
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

    # ------------------------------------------------------------------------------------- the flow

    def _flow_for(self, s: Session) -> Flow | None:
        if s.who is None or s.area is None:
            return None
        if s.who == "practitioner":
            return self.content.flows[self.content.areas[s.area].practitioner_flow]
        return self.content.flows.get(self._flow_by_who.get(s.who, ""))

    def _position(self, ctx: _Ctx) -> tuple[Flow | None, Position | None]:
        s = ctx.s
        if s.flow is None or s.node is None:
            return None, None
        return self.content.flows[s.flow], Position(s.flow, s.node, tuple(s.answers))

    def _current(self, ctx: _Ctx, *, welcome: bool = False, replace: bool = False) -> None:
        """Show where the conversation is now: who are you, where are you, or the current step."""
        s, c = ctx.s, self.content
        if s.who is None:
            opts = tuple(Option(self.signer.sign("w", w), c.text(f"who_{w}")) for w in WHO)
            text = render.paragraphs(c.text("welcome") if welcome else "", c.text("ask_who"))
            ctx.out.append(Outbound(text, opts, kind="menu", replace_menu=replace))
            return
        if s.area is None:
            opts = tuple(Option(self.signer.sign("a", a), area_label(c, a)) for a in area_order(c))
            text = render.paragraphs(c.text("welcome") if welcome else "", c.text("ask_area"))
            ctx.out.append(Outbound(text, opts, kind="menu", replace_menu=replace))
            return
        flow = self._flow_for(s)
        if flow is None:
            return
        if s.flow != flow.id or s.node is None:
            turn = self.dialogs.engine(flow.id).start()
            if welcome:
                ctx.out.append(Outbound(c.text("welcome"), kind="info"))
            self._enter(ctx, flow, turn, replace=replace)
            return
        pos = Position(s.flow, s.node, tuple(s.answers))
        prompt = self.dialogs.engine(flow.id).prompt(pos)
        if isinstance(prompt, Result) and not replace:
            # Already shown in full: a short reminder with the ways on, not the whole outcome again.
            opts = self._outcome_options(flow)
            ctx.out.append(Outbound(c.text("at_outcome"), (*opts, *self._nav(ctx)), kind="menu",
                                    title=prompt.outcome.title))
            return
        self._show(ctx, flow, pos, prompt, replace=replace)

    def _answer(self, ctx: _Ctx, flow: Flow, choice: str, *, replace: bool = False) -> str:
        _, pos = self._position(ctx)
        assert pos is not None
        try:
            turn = self.dialogs.engine(flow.id).step(pos, choice)
        except InvalidInput:
            return self._expired(ctx)
        self._enter(ctx, flow, turn, replace=replace)
        return "outcome" if isinstance(turn.prompts[-1], Result) else "answer"

    def _enter(self, ctx: _Ctx, flow: Flow, turn: Turn, *, replace: bool = False) -> None:
        s = ctx.s
        s.flow, s.node, s.answers = flow.id, turn.position.node, list(turn.position.answers)
        for prompt in turn.prompts:
            self._show(ctx, flow, turn.position, prompt, replace=replace)

    def _show(self, ctx: _Ctx, flow: Flow, pos: Position, prompt: Ask | Result, *, replace: bool = False) -> None:
        if isinstance(prompt, Ask):
            q = prompt.question
            q_index = self._q_index[(flow.id, q.id)]
            choices = self._choice_options.get((flow.id, q_index))
            if choices is None:  # the same (immutable) buttons every time this question is asked
                opts = [Option(self.signer.sign("c", flow.id, str(q_index), str(i), self.ver), ch.label)
                        for i, ch in enumerate(q.choices)]
                if q.help:
                    opts.append(Option(self.signer.sign("g", "explain"), self.content.text("nav_explain"), nav=True))
                choices = self._choice_options[(flow.id, q_index)] = tuple(opts)
            out = render.question(self.content, flow, q, (*choices, *self._nav(ctx)), first=not pos.answers)
            hint = dict(ctx.s.hints).get(q.id)
            label = next((ch.label for ch in q.choices if ch.id == hint), None)
            if label is not None:  # suggested by their description: shown, never chosen for them
                text = render.paragraphs(out.text, self.content.text("suggested_answer", answer=label))
                out = Outbound(text, out.options, out.kind, out.title)
        else:
            area = ctx.s.area or self.content.meta.default_area
            contacts = self.content.resolve_contacts(prompt.outcome.contacts, area)
            note = self.content.areas[area].notes.get(prompt.outcome.id, "") if flow.who == "practitioner" else ""
            opts = [*self._outcome_options(flow), *self.one_tap(contacts, area)]
            detail = flow.who == "practitioner"
            out = render.outcome(
                self.content, flow, prompt, contacts, note, ctx.now, (*opts, *self._nav(ctx)), detail=detail
            )
        if replace:
            out = Outbound(out.text, out.options, out.kind, out.title, replace_menu=True)
        ctx.out.append(out)

    def _outcome_options(self, flow: Flow) -> tuple[Option, ...]:
        if flow.who != "practitioner":
            return ()
        return (Option(self.signer.sign("g", "record"), self.content.text("nav_record"), nav=True),)

    def one_tap(self, contacts: list[Contact], area: str | None) -> tuple[Option, ...]:
        """Buttons that act in one tap on the contacts in a reply: a link for each one in the content's
        ``link_buttons`` role, then copy buttons for the first few phone numbers (not three-digit ones, 999 and
        101: dialled as fast as copied). Adapters without copy buttons leave those out; the number is in the
        text."""
        linked = set(self.content.role_members("role:link_buttons", area or self.content.meta.default_area))
        links = [Option("", self.content.messages.get(f"link_{c.id}", c.name), url=c.url)
                 for c in contacts if c.id in linked and c.url]
        phones = dict.fromkeys(c.phone for c in contacts if sum(ch.isdigit() for ch in c.phone) > 3)
        copies = [Option("", self.content.text("copy_number", phone=p), copy=p) for p in phones][:MAX_COPY]
        return (*links, *copies)

    def _quick_exit_on_every_keyboard(self, ctx: _Ctx) -> None:
        """Young people get a one-tap quick exit (what /exit does) on every reply that has buttons."""
        leave = Option(self.signer.sign("g", "exit"), self.content.text("nav_exit"), nav=True)
        ctx.out = [replace(o, options=(*o.options, leave)) if o.options and leave not in o.options else o
                   for o in ctx.out]

    def _nav(self, ctx: _Ctx) -> tuple[Option, ...]:
        chosen_here = not (ctx.defaults.area and ctx.defaults.who)
        names = ["back"] if ctx.s.answers or (chosen_here and ctx.s.flow is not None) else []
        names += ["restart", "contacts", "urgent"]
        key = tuple(names)
        options = self._nav_options.get(key)
        if options is None:  # two possible sets: the same (immutable) options every turn
            options = tuple(Option(self.signer.sign("g", n), self.content.text(f"nav_{n}"), nav=True) for n in names)
            self._nav_options[key] = options
        return options

    def _back(self, ctx: _Ctx, *, replace: bool = False) -> str:
        flow, pos = self._position(ctx)
        if flow is None or pos is None or not pos.answers:
            # Before the first answer, back steps out to "where are you?", then "who are you?" (unless the
            # platform or command line fixed them).
            s = ctx.s
            if s.area is not None and not ctx.defaults.area:
                s.area, s.flow, s.node, s.answers = None, None, None, []
            elif s.who is not None and not ctx.defaults.who:
                s.who, s.flow, s.node, s.answers = None, None, None, []
            self._current(ctx, replace=replace)
            return "back"
        self._enter(ctx, flow, self.dialogs.engine(flow.id).back(pos), replace=replace)
        return "back"

    def _restart(self, ctx: _Ctx, *, replace: bool = False) -> str:
        s = ctx.s
        s.flow, s.node, s.answers, s.hints = None, None, [], []
        self._current(ctx, replace=replace)
        return "restart"

    # --------------------------------------------------------------------------- other replies

    def _crisis(self, ctx: _Ctx, asked: bool = False, kind: str | None = None, who: str | None = None) -> str:
        adult = (ctx.s.who or who) in ("parent", "practitioner")  # ``who``: what the words say, if not known
        ctx.out.append(self._crisis_card(kind, ctx.area or ctx.s.area, ctx.now, carry_on=bool(ctx.s.who), adult=adult))
        if not asked:
            self._current(ctx)
        return "urgent" if asked else "crisis"

    def _media_warning(self) -> Outbound:
        return Outbound(self.content.text("media_warning"), kind="warning", title=self.content.text("media_title"))

    def _contacts(self, ctx: _Ctx, query: str) -> str:
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

    def _topic(self, ctx: _Ctx, topic_id: str) -> str:
        t = self.content.topics[topic_id]
        contacts = self.content.resolve_contacts(t.contacts, ctx.s.area or self.content.meta.default_area)
        detail = ctx.s.who in (None, "practitioner")
        acts = self.one_tap(contacts, ctx.s.area)
        ctx.out.append(render.topic(self.content, t, contacts, ctx.now, acts, detail=detail))
        self._then_current_question(ctx)
        return "topic"

    def _then_current_question(self, ctx: _Ctx) -> None:
        """After an aside (a contact, a topic) the question on screen is shown again, so answering carries
        on where it was; elsewhere the aside gets the ways on."""
        flow, pos = self._position(ctx)
        if flow is not None and pos is not None and flow.question(pos.node) is not None:
            self._current(ctx)
        else:
            last = ctx.out[-1]
            ctx.out[-1] = Outbound(last.text, (*last.options, *self._nav(ctx)), last.kind, last.title)

    def _record(self, ctx: _Ctx) -> str:
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

    # ------------------------------------------------------------------------------ for adapters

    def sorry(self) -> Outbound:
        """The reply when a turn fails unexpectedly: an apology and the ways out."""
        return Outbound(self.content.text("sorry"), kind="info")

    def option_for(self, kind: str, *args: str) -> str:
        """A signed token for an action an adapter offers itself (e.g. App Home's "Start triage")."""
        return self.signer.sign(kind, *args)

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
            kind = self.language.crisis_kind(inbound.arg[:200])[0] if inbound.arg else None
            crisis = kind is not None or inbound.command.lower() in ("urgent", "emergency", "sos")
        elif inbound.kind == "action":
            parts = self.signer.verify(inbound.action[:128]) if inbound.action.isascii() else None
            crisis = parts == ["g", "urgent"]
        return self._crisis_card(kind, None, now, carry_on=False) if crisis else None

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
        carry = (Option(self.signer.sign("g", "resume"), self.content.text("nav_continue"), nav=True),)
        opts = (*self.one_tap([*contacts, *extra], area), *(carry if carry_on else ()))  # Childline, CEOP: one tap
        return Outbound(render.paragraphs(*parts), opts, kind="crisis", title=self.content.text("crisis_title"))

    def needs_session(self, inbound: Inbound) -> bool:
        """True for a button that only means something inside a saved conversation (an answer, "Back",
        "Carry on", "What does this mean?", "Decision record"). With no saved session (it expired, was
        forgotten or lost, say after a Redis FLUSHALL) such a button gets "That menu has expired", never a
        silent restart."""
        if inbound.kind != "action" or not inbound.action.isascii():
            return False
        parts = self.signer.verify(inbound.action[:128])
        if not parts:
            return False
        return parts[0] == "c" or (parts[0] == "g" and parts[1:] in (["back"], ["resume"], ["explain"], ["record"]))

    def expired(self, now: dt.datetime, defaults: Defaults | None = None, notice: str = "menu_expired") -> Reply:
        """A fresh conversation that starts with ``notice`` (a message key) and shows the first screen."""
        s = Session(created=now.timestamp())
        ctx = _Ctx(s, now, defaults or Defaults())
        self._apply_defaults(ctx)
        ctx.out.append(Outbound(self.content.text(notice), kind="info"))
        self._current(ctx)
        s.version = self.content.version
        s.updated = now.timestamp()
        return Reply(s, ctx.out, "expired_action")

    def text(self, key: str) -> Outbound:
        """A plain message from content (for the service's replies about the service itself)."""
        return Outbound(self.content.text(key), kind="info")
