"""The decision record: what a practitioner pastes into their own safeguarding system.

It holds the date and time, area, flow and content version, each question with its answer, the outcome,
the contacts shown, the guidance it rests on and the reminder about imagery. No names, no free text.
"""

from __future__ import annotations

import datetime as dt

from bot.contacts import local
from dialogs.content import Contact, Content, Flow
from dialogs.engine import Result


def decision_record(
    content: Content,
    flow: Flow,
    area: str,
    answers: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    result: Result,
    contacts: list[Contact],
    at: dt.datetime,
) -> str:
    """The record as plain text, one fact a line."""
    t = local(at)
    lines = [
        content.text("record_heading"),
        f"Date and time: {t.strftime('%Y-%m-%d %H:%M')} (Europe/London)",
        f"Area: {content.areas[area].name} ({area})",
        f"Guidance flow: {flow.title} ({flow.id}); content version {content.version}",
        "",
        "Questions and answers:",
    ]
    for qid, aid in answers:
        q = flow.question(qid)
        if q is None:
            continue
        label = next((c.label for c in q.choices if c.id == aid), aid)
        lines.append(f"- {q.text} [{qid}] → {label} [{aid}]")
    lines += ["", f"Outcome: {result.outcome.title} [{result.outcome.id}]"]
    if result.classification:
        lines.append(f"Category: {result.classification}")
    lines += [f"Note: {note}" for note in result.notes]
    lines += ["", "Contacts shown:"]
    lines += [f"- {c.name}: {' / '.join(x for x in (c.phone, c.url) if x)} (checked {c.checked})" for c in contacts]
    cites = [content.sources[c] for c in result.outcome.cites if c in content.sources]
    if cites:
        lines += ["", "Guidance this rests on:"]
        lines += [f"- {s.title}{' — ' + s.url if s.url else ''}" for s in cites]
    lines += ["", content.text("record_imagery"), content.text("record_judgement")]
    return "\n".join(lines)
