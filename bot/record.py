"""The decision record: what a practitioner pastes into their own safeguarding system.

It holds the date and time, area, flow and content version, each question with its answer, the outcome,
the contacts shown, the guidance it rests on and the reminder about imagery. No names, no free text.
"""

from __future__ import annotations

import datetime as dt

from bot.contacts import local
from dialogs.content import Content
from dialogs.engine import Result
from dialogs.schema import Contact, Flow


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
        content.text("record_when", when=t.strftime("%Y-%m-%d %H:%M")),
        content.text("record_area", area=f"{content.areas[area].name} ({area})"),
        content.text("record_flow", flow=f"{flow.title} ({flow.id})", version=content.version),
        "",
        content.text("record_questions"),
    ]
    for qid, aid in answers:
        q = flow.question(qid)
        if q is None:
            continue
        label = next((c.label for c in q.choices if c.id == aid), aid)
        lines.append(f"- {q.text} [{qid}] → {label} [{aid}]")
    lines += ["", content.text("record_outcome", outcome=f"{result.outcome.title} [{result.outcome.id}]")]
    if result.classification:
        lines.append(content.text("classification", label=result.classification))
    lines += [content.text("record_note", note=note) for note in result.notes]
    lines += ["", content.text("record_contacts")]
    lines += [
        content.text("record_contact", name=c.name, reach=" / ".join(x for x in (c.phone, c.url) if x),
                     checked=c.checked.isoformat())
        for c in contacts
    ]
    cites = [content.sources[c] for c in result.outcome.cites if c in content.sources]
    if cites:
        lines += ["", content.text("record_sources")]
        lines += [f"- {s.title}{' — ' + s.url if s.url else ''}" for s in cites]
    lines += ["", content.text("record_imagery"), content.text("record_judgement")]
    return "\n".join(lines)
