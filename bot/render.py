"""Turning prompts, contacts and topics into neutral :class:`~bot.types.Outbound` replies.

All wording comes from content; this module only arranges it.
"""

from __future__ import annotations

import datetime as dt

from bot.contacts import describe, order_by_open
from bot.types import Option, Outbound
from dialogs.content import Content
from dialogs.engine import Result
from dialogs.schema import Contact, Flow, Question, Topic


def paragraphs(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def contact_lines(content: Content, contacts: list[Contact], at: dt.datetime, *, detail: bool = True) -> str:
    return "\n".join(describe(content, c, at, detail=detail) for c in order_by_open(contacts, at))


def question(content: Content, flow: Flow, q: Question, options: tuple[Option, ...], *, first: bool) -> Outbound:
    intro = flow.intro if first else ""
    return Outbound(paragraphs(intro, q.text), options, kind="menu", title=flow.title)


def explain(content: Content, q: Question) -> Outbound:
    cites = ", ".join(content.sources[c].title for c in q.cites if c in content.sources)
    body = q.help or content.text("no_explanation")
    return Outbound(paragraphs(q.text, body, content.text("based_on", sources=cites) if cites else ""), kind="info")


def outcome(
    content: Content,
    flow: Flow,
    result: Result,
    contacts: list[Contact],
    area_note: str,
    at: dt.datetime,
    options: tuple[Option, ...],
    *,
    detail: bool = True,
) -> Outbound:
    """An outcome; ``detail`` (practitioners) adds each contact's hours and purpose and the sources."""
    o = result.outcome
    cites = ", ".join(content.sources[c].title for c in o.cites if c in content.sources)
    listed = contact_lines(content, contacts, at, detail=detail)
    parts = [
        content.text("classification", label=result.classification) if result.classification else "",
        o.text,
        *result.notes,
        area_note,
        content.text("contacts_heading") + "\n" + listed if contacts else "",
        content.text("based_on", sources=cites) if cites and detail else "",
        flow.footer,
    ]
    return Outbound(paragraphs(*parts), options, kind="outcome", title=o.title)


def topic(
    content: Content,
    t: Topic,
    contacts: list[Contact],
    at: dt.datetime,
    options: tuple[Option, ...],
    *,
    detail: bool = True,
) -> Outbound:
    cites = ", ".join(content.sources[c].title for c in t.cites if c in content.sources)
    return Outbound(
        paragraphs(
            t.text,
            content.text("contacts_heading") + "\n" + contact_lines(content, contacts, at, detail=detail)
            if contacts
            else "",
            content.text("based_on", sources=cites) if cites else "",
        ),
        options,
        kind="info",
        title=t.title,
    )
