"""The dialogue engine: one ``transitions`` machine per flow, built once from content.

A turn is pure: (position, input) → (new position, prompts). A position is the flow id, the node (question
or outcome id) and the answers given so far; it is all that is ever saved. The machine is shared by every
conversation: a turn borrows a per-thread cursor model, sets its state, fires the trigger and reads the
state back, so its cost does not depend on how many conversations are live. A turn is a pure function of
(position, choice) over content that never changes once loaded, so each engine memoises the turns it has
computed (bounded): the machine decides every transition the first time it is taken, and the same answer
from the same position afterwards is a dictionary look-up.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError
from transitions.core import EventData

from dialogs.content import Content
from dialogs.schema import Flow, Outcome, Question

AnswerPath = tuple[tuple[str, str], ...]
STEP_CACHE = 4096  # memoised (position, choice) turns per flow; flows have far fewer paths


class InvalidInput(ValueError):
    """The input names no choice of the current question (or the position is not valid)."""


@dataclass(frozen=True)
class Position:
    """Where a conversation is in a flow. Everything here is a content id: no free text."""

    flow: str
    node: str
    answers: AnswerPath = ()

    def answer_map(self) -> dict[str, str]:
        return dict(self.answers)


@dataclass(frozen=True)
class Ask:
    """Prompt: ask a question."""

    question: Question


@dataclass(frozen=True)
class Result:
    """Prompt: show an outcome, with the notes and classification that apply to the path taken."""

    outcome: Outcome
    notes: tuple[str, ...] = ()
    classification: str | None = None


Prompt = Ask | Result


@dataclass(frozen=True)
class Turn:
    position: Position
    prompts: tuple[Prompt, ...]


def holds(when: Mapping[str, str], answers: Mapping[str, str]) -> bool:
    """A content condition (``when``: question id → choice id) holds when every answer it names was given.

    The one evaluator of ``when`` for branches, outcome notes and classifications; an empty ``when`` holds."""
    return all(answers.get(q) == a for q, a in when.items())


class _When:
    """Whitelisted condition for the machine: :func:`holds` over the answers given so far."""

    def __init__(self, expected: Mapping[str, str]):
        self.expected = dict(expected)
        self.__name__ = " & ".join(f"{q}={a}" for q, a in self.expected.items())

    def __call__(self, event: EventData) -> bool:
        return holds(self.expected, event.kwargs.get("answers", {}))


class _Cursor:
    """The model a turn borrows. Its only state is what the machine sets; prompts are queued by on_enter."""

    state: str

    def __init__(self) -> None:
        self.queued: list[str] = []

    def queue(self, event: EventData) -> None:  # on_enter callback: cannot fail
        self.queued.append(event.state.name)


def machine_config(flow: Flow) -> dict[str, Any]:
    """The flow as ``transitions`` configuration: states and transitions as plain dicts."""
    states = [{"name": n, "on_enter": "queue"} for n in [q.id for q in flow.questions] + [o.id for o in flow.outcomes]]
    transitions: list[dict[str, Any]] = []
    for q in flow.questions:
        for c in q.choices:
            for b in c.branches():
                t: dict[str, Any] = {"trigger": c.id, "source": q.id, "dest": b.to}
                if b.when:
                    t["conditions"] = [_When(b.when)]
                transitions.append(t)
    return {
        "states": states,
        "transitions": transitions,
        "initial": flow.start,
        "auto_transitions": False,
        "send_event": True,
        "ignore_invalid_triggers": False,
    }


class FlowEngine:
    """One flow's machine and the pure turn over it."""

    def __init__(self, flow: Flow):
        self.flow = flow
        self.machine = Machine(model=[], **machine_config(flow))
        self._questions = {q.id: q for q in flow.questions}
        self._outcomes = {o.id: o for o in flow.outcomes}
        self._local = threading.local()
        self._steps: dict[tuple[Position, str], Turn] = {}

    def _cursor(self) -> _Cursor:
        cursor: _Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = _Cursor()
            self.machine.add_model(cursor)
            self._local.cursor = cursor
        return cursor

    def start(self) -> Turn:
        pos = Position(self.flow.id, self.flow.start)
        return Turn(pos, (self.prompt(pos),))

    def step(self, pos: Position, choice: str) -> Turn:
        """Answer the current question with ``choice`` (a choice id)."""
        try:
            cached = self._steps.get((pos, choice))
        except TypeError:  # a position built with lists is not hashable: compute it, uncached
            return self._step(pos, choice)
        if cached is not None:
            return cached
        turn = self._step(pos, choice)
        if len(self._steps) < STEP_CACHE:
            self._steps[(pos, choice)] = turn
        return turn

    def _step(self, pos: Position, choice: str) -> Turn:
        question = self._questions.get(pos.node)
        if question is None or choice not in {c.id for c in question.choices}:
            raise InvalidInput(f"{choice!r} is not a choice at {pos.node!r}")
        answers = (*pos.answers, (pos.node, choice))
        cursor = self._cursor()
        cursor.queued.clear()
        self.machine.set_state(pos.node, cursor)
        try:
            cursor.trigger(choice, answers=dict(answers))  # type: ignore[attr-defined]  # bound by transitions
        except MachineError as exc:  # no branch matched: content lint forbids this
            raise InvalidInput(str(exc)) from exc
        new = Position(pos.flow, cursor.state, answers)
        return Turn(new, tuple(self.prompt(Position(pos.flow, n, answers)) for n in cursor.queued))

    def replay(self, answers: Iterable[tuple[str, str]]) -> Turn:
        """Replay saved answers from the start; raise :class:`InvalidInput` if they no longer fit."""
        turn = self.start()
        for qid, choice in answers:
            if turn.position.node != qid:
                raise InvalidInput(f"saved answer for {qid!r} but the flow is at {turn.position.node!r}")
            turn = self.step(turn.position, choice)
        return turn

    def follow(self, answers: Mapping[str, str]) -> Turn:
        """From the start, answer each question from ``answers`` (question id → choice id), until an outcome
        or a question they do not answer; raise :class:`InvalidInput` on an answer that is not a choice."""
        turn = self.start()
        for _ in self.flow.questions:  # at most one step per question, so a loop in the graph cannot spin
            node = turn.position.node
            if node not in self._questions or node not in answers:
                break
            turn = self.step(turn.position, answers[node])
        return turn

    def path_to(self, node: str) -> AnswerPath | None:
        """The shortest answers from the start that reach ``node`` (``None`` if none do). Each step is the
        machine's, so branch conditions hold along the way."""
        frontier = deque([self.start().position])
        seen = {self.flow.start}
        while frontier:
            pos = frontier.popleft()
            if pos.node == node:
                return pos.answers
            for c in self._questions[pos.node].choices if pos.node in self._questions else ():
                try:
                    reached = self.step(pos, c.id).position
                except InvalidInput:  # no branch taken for this answer on this path
                    continue
                if reached.node not in seen:
                    seen.add(reached.node)
                    frontier.append(reached)
        return None

    def back(self, pos: Position) -> Turn:
        """Undo the last answer."""
        return self.replay(pos.answers[:-1])

    def prompt(self, pos: Position) -> Prompt:
        if pos.node in self._questions:
            return Ask(self._questions[pos.node])
        outcome = self._outcomes[pos.node]
        answers = pos.answer_map()
        notes = tuple(n.text for n in outcome.notes if holds(n.when, answers))
        label = next((c.label for c in self.flow.classification if holds(c.when, answers)), None)
        return Result(outcome, notes, label)

    def machine_config_json(self) -> dict[str, Any]:
        """The machine's configuration as JSON-ready data (conditions by name)."""
        config = machine_config(self.flow)
        transitions = [
            {**t, "conditions": [c.__name__ for c in t["conditions"]]} if "conditions" in t else t
            for t in config["transitions"]
        ]
        return {
            "flow": self.flow.id,
            "initial": config["initial"],
            "questions": [q.id for q in self.flow.questions],
            "outcomes": [o.id for o in self.flow.outcomes],
            "transitions": transitions,
        }

    def mermaid(self) -> str:
        """The flow drawn by transitions' mermaid engine, from the same configuration as the machine."""
        from transitions.extensions import GraphMachine

        config = machine_config(self.flow)
        for s in config["states"]:
            s.pop("on_enter")
        model = _Cursor()
        GraphMachine(model=model, graph_engine="mermaid", show_conditions=True, title=self.flow.title, **config)
        source: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
        return source


@dataclass
class Dialogs:
    """All flows' engines, built once per content load."""

    content: Content
    engines: dict[str, FlowEngine] = field(init=False)

    def __post_init__(self) -> None:
        self.engines = {fid: FlowEngine(flow) for fid, flow in self.content.flows.items()}

    def engine(self, flow_id: str) -> FlowEngine:
        return self.engines[flow_id]

    def restore(self, pos: Position) -> Turn | None:
        """Check a saved position against current content; ``None`` when it no longer exists."""
        engine = self.engines.get(pos.flow)
        if engine is None:
            return None
        try:
            turn = engine.replay(pos.answers)
        except InvalidInput:
            return None
        return turn if turn.position.node == pos.node else None
