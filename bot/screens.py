"""The screens of a conversation: who are you, where are you, the current question or outcome, and the
navigation under them; moving through a flow (answer, back, start again); buttons for all of these.

The lowest layer of the assistant (:mod:`bot.asides`, :mod:`bot.commands`, :mod:`bot.text` and
:mod:`bot.turn` build on it). Everything here works on one turn's :class:`~bot.reply.Ctx`.
"""

from __future__ import annotations

from dataclasses import replace

from bot import render
from bot.action import Action, Answer, Buttons, Nav, PickArea, PickWho
from bot.areas import area_label, area_order
from bot.reply import Answered, Ctx
from bot.safety import normalise
from bot.session import Session
from bot.types import Option, Outbound
from dialogs.content import Content
from dialogs.engine import Ask, Dialogs, InvalidInput, Position, Result, Turn
from dialogs.schema import Contact, Flow

WHO = ("young_person", "parent", "practitioner")
MAX_COPY = 3  # copy buttons in one reply: enough for the numbers that matter, a keyboard that fits a phone


class Screens:
    """Holds the content, the flows' machines and the button codec; every conversation shares it."""

    def __init__(self, content: Content, secret: str):
        self.content = content
        self.dialogs = Dialogs(content)
        self.buttons = Buttons(secret, content.version)
        self.signer = self.buttons.signer
        self._flow_by_who: dict[str, str] = {f.who: f.id for f in content.flows.values() if f.who != "practitioner"}
        # Worked out once: content does not change after loading (a new load makes a new Assistant).
        self._area_names = [
            (area.id, {area.id, normalise(area.name), *(normalise(a) for a in area.aliases)})
            for area in content.areas.values()
        ]
        self._q_index = {(f.id, q.id): i for f in content.flows.values() for i, q in enumerate(f.questions)}
        self._nav_options: dict[tuple[str, ...], tuple[Option, ...]] = {}
        self._choice_options: dict[tuple[str, int], tuple[Option, ...]] = {}

    def button(self, action: Action) -> str:
        """The token of a button that does ``action``."""
        return self.buttons.encode(action)

    def _apply_defaults(self, ctx: Ctx) -> None:
        d, s = ctx.defaults, ctx.s
        if d.who and (s.who is None or d.fixed_who) and s.who != d.who:
            s.who, s.flow, s.node, s.answers = d.who, None, None, []
        if d.area and s.area is None and d.area in self.content.areas:
            s.area = d.area

    def _restore(self, ctx: Ctx) -> None:
        """A saved state from older content that no longer exists gets a polite restart."""
        s = ctx.s
        if s.flow is None or s.version == self.content.version:
            return
        turn = self.dialogs.restore(Position(s.flow, s.node or "", tuple(s.answers)))
        if turn is None:
            s.flow, s.node, s.answers = None, None, []
            ctx.out.append(Outbound(self.content.text("content_changed"), kind="info"))

    def _flow_for(self, s: Session) -> Flow | None:
        if s.who is None or s.area is None:
            return None
        if s.who == "practitioner":
            return self.content.flows[self.content.areas[s.area].practitioner_flow]
        return self.content.flows.get(self._flow_by_who.get(s.who, ""))

    def _position(self, ctx: Ctx) -> tuple[Flow | None, Position | None]:
        s = ctx.s
        if s.flow is None or s.node is None:
            return None, None
        return self.content.flows[s.flow], Position(s.flow, s.node, tuple(s.answers))

    def _current(self, ctx: Ctx, *, welcome: bool = False, replace: bool = False, brief: bool = False) -> None:
        """Show where the conversation is now: who are you, where are you, or the current step (``brief``: asked
        again without the flow's introduction, as after words that were not understood)."""
        s, c = ctx.s, self.content
        if s.who is None:
            opts = tuple(Option(self.button(PickWho(w)), c.text(f"who_{w}")) for w in WHO)
            text = render.paragraphs(c.text("welcome") if welcome else "", c.text("ask_who"))
            ctx.out.append(Outbound(text, opts, kind="menu", replace_menu=replace))
            return
        if s.area is None:
            opts = tuple(Option(self.button(PickArea(a)), area_label(c, a)) for a in area_order(c))
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
        self._show(ctx, flow, pos, prompt, replace=replace, brief=brief)

    def _answer(self, ctx: Ctx, flow: Flow, choice: str, *, replace: bool = False) -> str:
        _, pos = self._position(ctx)
        assert pos is not None
        try:
            turn = self.dialogs.engine(flow.id).step(pos, choice)
        except InvalidInput:
            return self._expired(ctx)
        q = flow.question(pos.node)
        label = next((c.label for c in q.choices if c.id == choice), "") if q else ""
        if q is not None:
            ctx.answered = Answered(q.text, label, q.id == flow.start, flow.title, flow.intro)
        self._enter(ctx, flow, turn, replace=replace)
        return "outcome" if isinstance(turn.prompts[-1], Result) else "answer"

    def _enter(self, ctx: Ctx, flow: Flow, turn: Turn, *, replace: bool = False) -> None:
        s = ctx.s
        s.flow, s.node, s.answers = flow.id, turn.position.node, list(turn.position.answers)
        for prompt in turn.prompts:
            self._show(ctx, flow, turn.position, prompt, replace=replace)

    def _show(self, ctx: Ctx, flow: Flow, pos: Position, prompt: Ask | Result, *, replace: bool = False,
              brief: bool = False) -> None:
        if isinstance(prompt, Ask):
            q = prompt.question
            q_index = self._q_index[(flow.id, q.id)]
            choices = self._choice_options.get((flow.id, q_index))
            if choices is None:  # the same (immutable) buttons every time this question is asked
                opts = [Option(self.button(Answer(flow.id, q_index, i)), ch.label)
                        for i, ch in enumerate(q.choices)]
                if q.help:
                    opts.append(Option(self.button(Nav("explain")), self.content.text("nav_explain"), nav=True))
                choices = self._choice_options[(flow.id, q_index)] = tuple(opts)
            first = not pos.answers and not brief
            out = render.question(self.content, flow, q, (*choices, *self._nav(ctx)), first=first)
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
        return (Option(self.button(Nav("record")), self.content.text("nav_record"), nav=True),)

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

    def _quick_exit_on_every_keyboard(self, ctx: Ctx) -> None:
        """Young people get a one-tap quick exit (what /exit does) on every reply that has buttons."""
        leave = Option(self.button(Nav("exit")), self.content.text("nav_exit"), nav=True)
        ctx.out = [replace(o, options=(*o.options, leave)) if o.options and leave not in o.options else o
                   for o in ctx.out]

    def _nav(self, ctx: Ctx) -> tuple[Option, ...]:
        chosen_here = not (ctx.defaults.area and ctx.defaults.who)
        names = ["back"] if ctx.s.answers or (chosen_here and ctx.s.flow is not None) else []
        names += ["restart", "contacts", "urgent"]
        key = tuple(names)
        options = self._nav_options.get(key)
        if options is None:  # two possible sets: the same (immutable) options every turn
            options = tuple(Option(self.button(Nav(n)), self.content.text(f"nav_{n}"), nav=True) for n in names)
            self._nav_options[key] = options
        return options

    def _back(self, ctx: Ctx, *, replace: bool = False) -> str:
        flow, pos = self._position(ctx)
        if flow is None or pos is None or not pos.answers:
            # Before the first answer, back steps out to "where are you?", then "who are you?" (unless the
            # platform or command line fixed them).
            s = ctx.s
            if s.area is not None and not ctx.defaults.area:
                s.area, s.flow, s.node, s.answers = None, None, None, []
            elif s.who is not None and not ctx.defaults.who:
                s.who, s.flow, s.node, s.answers = None, None, None, []
            elif not replace:  # typed "back" with nowhere to go: say so, rather than show the same screen silently
                ctx.out.append(Outbound(self.content.text("back_at_start"), kind="info"))
            self._current(ctx, replace=replace)
            return "back"
        self._enter(ctx, flow, self.dialogs.engine(flow.id).back(pos), replace=replace)
        return "back"

    def _restart(self, ctx: Ctx, *, replace: bool = False) -> str:
        s = ctx.s
        s.flow, s.node, s.answers, s.hints = None, None, [], []
        if not replace:  # typed: a word that it happened (a tap redraws the screen in place instead)
            ctx.out.append(Outbound(self.content.text("restarting"), kind="info"))
        self._current(ctx, replace=replace)
        return "restart"

    def _expired(self, ctx: Ctx) -> str:
        ctx.out.append(Outbound(self.content.text("menu_expired"), kind="info"))
        ctx.stale = True
        self._current(ctx)
        return "expired_action"


    def _area_from_words(self, text: str) -> str | None:
        words = normalise(text)
        if not words:
            return None
        for area_id, names in self._area_names:
            if words in names:
                return area_id
        return None
