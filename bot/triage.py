"""``triage``: a practitioner flow decided from given answers, for the command line, scripts and audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.contacts import Match, as_json, reachable_now
from bot.record import decision_record
from dialogs.content import Content
from dialogs.engine import Ask, FlowEngine


def triage(
    content: Content, area: str, answers: dict[str, str], at: dt.datetime, flow_id: str | None = None
) -> dict[str, Any]:
    """Run a practitioner flow on given answers; say the outcome, or the next question still needed.

    The area's own flow is used unless ``flow_id`` names another practitioner flow (a Kent school may use the
    UKCIS questions); the decision record names the flow used."""
    flow = content.flows[flow_id or content.areas[area].practitioner_flow]
    engine = FlowEngine(flow)
    turn = engine.follow(answers)
    prompt = engine.prompt(turn.position)
    path = [qid for qid, _ in turn.position.answers]
    result: dict[str, Any] = {"area": area, "flow": flow.id, "outcome": None, "next_question": None, "path": path}
    if isinstance(prompt, Ask):
        q = prompt.question
        result |= {"next_question": {"id": q.id, "text": q.text, "options": [c.id for c in q.choices]}}
        result |= {"contacts": [], "record": None}
        return result
    contacts = content.resolve_contacts(prompt.outcome.contacts, area)
    result["outcome"] = prompt.outcome.id
    result["classification"] = prompt.classification
    result["contacts"] = [as_json(Match(c, area, 100.0, reachable_now(c, at)), at) for c in contacts]
    result["record"] = decision_record(content, flow, area, turn.position.answers, prompt, contacts, at)
    return result
