"""Contacts: opening hours in Europe/London with England's bank holidays, fuzzy search, and how a
contact is described to a user."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from dialogs.content import BankHolidays, Contact, Content, load_bank_holidays

LONDON = ZoneInfo("Europe/London")
_WORD = re.compile(r"[a-z0-9']+")


@lru_cache(maxsize=1)
def _table() -> tuple[frozenset[dt.date], BankHolidays]:
    table = load_bank_holidays()
    return frozenset(table.dates), table


@lru_cache(maxsize=8)
def _package_bank_holidays(year: int) -> frozenset[dt.date]:
    # Only for years outside the content table: importing `holidays` loads every country (about 0.2 s).
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def local(at: dt.datetime) -> dt.datetime:
    """``at`` in Europe/London (naive times are taken as London time)."""
    return at.replace(tzinfo=LONDON) if at.tzinfo is None else at.astimezone(LONDON)


def is_bank_holiday(day: dt.date) -> bool:
    """England's bank holidays: from content/bank_holidays.yaml, or the `holidays` package outside its years."""
    dates, table = _table()
    return day in dates if table.covers(day.year) else day in _package_bank_holidays(day.year)


def is_open(contact: Contact, at: dt.datetime) -> bool:
    """Whether the service is open at ``at``."""
    hours = contact.hours
    if hours.always:
        return True
    t = local(at)
    if is_bank_holiday(t.date()) and hours.bank_holidays != "as_weekday":
        return hours.bank_holidays == "open"
    minute = t.hour * 60 + t.minute
    return any(start <= minute < end for start, end in hours.day_spans()[t.weekday()])


def hours_text(contact: Contact) -> str:
    """The opening hours in words, as content gives them (the lint requires them)."""
    return contact.hours.text


@dataclass(frozen=True)
class Match:
    contact: Contact
    area: str
    score: float
    open_now: bool
    superseded: str = ""  # why an old number or name the query used now leads here


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


_HAYSTACKS: dict[tuple[str, str, tuple[str, ...]], tuple[str, ...]] = {}


def _haystack(contact: Contact) -> tuple[str, ...]:
    """The normalised strings a contact can be found by (cached: contacts are immutable)."""
    key = (contact.id, contact.name, tuple(contact.aliases))
    cached = _HAYSTACKS.get(key)
    if cached is not None:
        return cached
    items = [contact.name, contact.id.replace("_", " "), *contact.aliases]
    items += [a.replace("_", " ") for a in contact.audience]
    items += [s.name for s in contact.superseded if s.name]
    cached = _HAYSTACKS[key] = tuple(" ".join(_words(i)) for i in items if i)
    return cached


def _superseded_note(query: str, contact: Contact) -> str:
    digits = _digits(query)
    words = " ".join(_words(query))
    for old in contact.superseded:
        if (len(digits) >= 4 and old.phone and digits in _digits(old.phone)) or (
            old.name and words and words in " ".join(_words(old.name))
        ):
            return f"{old.phone or old.name}: {old.note}"
    return ""


def _score(query: str, contact: Contact) -> float:
    """How well ``query`` (normalised words) names ``contact``, 0–100.

    An alias named in full inside the query scores highest (more of the query covered, higher still); a
    query that is part of an alias next; then typo-tolerant fuzzy matching.
    """
    digits = _digits(query)
    if len(digits) >= 4:
        numbers = [contact.phone, contact.text_to, *(s.phone for s in contact.superseded)]
        return 100.0 if any(digits in _digits(n) for n in numbers if n) else 0.0
    qw = query.split()
    best = 0.0
    for item in _haystack(contact):
        iw = item.split()
        if not iw:
            continue
        if set(iw) <= set(qw):
            best = max(best, 90.0 + 10.0 * len(iw) / len(qw))
        elif set(qw) <= set(iw):
            best = max(best, 85.0 + 10.0 * len(qw) / len(iw))
        else:
            fuzzy_words = sum(1 for w in qw if len(w) >= 4 and max(fuzz.ratio(w, x) for x in iw) >= 80)
            best = max(best, fuzz.token_sort_ratio(query, item) * 0.9, 80.0 * fuzzy_words / len(qw))
    return best


def find_area_word(content: Content, words: list[str]) -> tuple[str | None, list[str]]:
    """Pull an area name ("leeds", "kent") out of a query's words."""
    for area in content.areas.values():
        names = {area.id, *(" ".join(_words(a)) for a in [area.name, *area.aliases])}
        for i, w in enumerate(words):
            if w in names and area.id != "national":
                return area.id, words[:i] + words[i + 1 :]
    return None, words


def search(
    content: Content, query: str, *, area: str | None, at: dt.datetime, limit: int = 8
) -> list[Match]:
    """Contacts for ``query``, best first; services open at ``at`` before closed ones of similar fit.

    With no area the contacts of every area are searched; an area the query names ("... leeds") is searched
    instead of ``area``. An empty query lists the area's contacts. Numbers (even old ones printed in seed
    documents) match the contact that owns them.
    """
    words = _words(query)
    named_area, words = find_area_word(content, words)
    area = named_area or area
    hints = content.language
    ooh = bool(hints and re.search(hints.out_of_hours, " ".join(words)))
    stop = set(hints.contact_stopwords) if hints else set()
    words = [w for w in words if w not in stop]
    q = " ".join(words)
    pool = [(area, c) for c in content.contacts_for(area).values()] if area else list(content.all_contacts())
    matches: list[Match] = []
    for area_id, c in pool:
        if not q:
            score = 50.0
        else:
            score = _score(q, c)
            if ooh and c.out_of_hours:
                score = max(score, 90.0)
        note = _superseded_note(query, c) if q and score >= 60 else ""
        matches.append(Match(c, area_id, score, is_open(c, at), note))
    if q:
        matches = _cover_closed(content, matches)
        best = max((m.score for m in matches), default=0.0)
        floor = max(60.0, best - 12.0)
        matches = [m for m in matches if m.score >= floor]
        matches.sort(key=lambda m: (-round(m.score / 10), not m.open_now, -m.score))
    else:
        matches.sort(key=lambda m: (not m.open_now, m.contact.name))
    return matches[:limit]


def _cover_closed(content: Content, matches: list[Match]) -> list[Match]:
    """A closed service that matched well brings forward the open out-of-hours service that shares a role
    with it in its area (Duty and Advice at 7pm → the Emergency Duty Team), scored just below it."""
    by_key = {(m.area, m.contact.id): m for m in matches}
    for m in list(matches):
        if m.open_now or m.score < 80:
            continue
        pack = content.areas.get(m.area)
        roles = pack.roles.values() if pack is not None else ()
        for members in roles:
            if m.contact.id not in members:
                continue
            for cid in members:
                other = by_key.get((m.area, cid))
                if other is not None and other.open_now and other.contact.out_of_hours and other.score < m.score - 1:
                    by_key[(m.area, cid)] = Match(other.contact, other.area, m.score - 1, True, other.superseded)
    return list(by_key.values())


def order_by_open(contacts: list[Contact], at: dt.datetime) -> list[Contact]:
    """Keep the given order, but put services that are open now before closed ones."""
    return sorted(contacts, key=lambda c: not is_open(c, at))


def describe(content: Content, contact: Contact, at: dt.datetime, *, detail: bool = True, state: bool = True) -> str:
    """A contact as plain text: name and how to reach it; with ``detail``, hours, whether it is open now and
    what it is for; without, one line that still says when a service is closed (``state``)."""
    reach = " · ".join(x for x in (contact.phone, contact.text_to, contact.url) if x)
    lines = [f"{contact.name}: {reach}"]
    if not detail and state and not contact.hours.always:
        open_now = content.text("open_now") if is_open(contact, at) else content.text("closed_now")
        lines[0] += f" ({open_now})"
    if detail:
        now_text = content.text("open_now") if is_open(contact, at) else content.text("closed_now")
        lines.append(f"  {hours_text(contact)} ({now_text})")
        if contact.summary:
            lines.append(f"  {contact.summary}")
        if contact.confirm_locally:
            lines.append(f"  {contact.confirm_locally}")
    return "\n".join(lines)


def as_json(match: Match) -> dict[str, Any]:
    c = match.contact
    return {
        "id": c.id,
        "name": c.name,
        "phone": c.phone or None,
        "url": c.url or None,
        "audience": list(c.audience),
        "open_now": match.open_now,
        "hours": hours_text(c),
        "source": c.source,
        "checked": c.checked.isoformat(),
        "area": match.area,
        "superseded": match.superseded or None,
    }
