"""Contacts: opening hours in Europe/London with England's bank holidays, fuzzy search, and how a
contact is described to a user."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from bot.safety import words
from dialogs.content import Content
from dialogs.load import load_bank_holidays
from dialogs.schema import BankHolidays, Contact

LONDON = ZoneInfo("Europe/London")


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


def is_web_page(contact: Contact) -> bool:
    """A page or online form, not a line someone answers: it is "online", never "open"."""
    return not contact.phone and not contact.text_to


def status(contact: Contact, at: dt.datetime) -> str:
    """"open", "closed", "online" (a web page), or "likely_open" / "likely_closed" when the hours are not
    confirmed (assumed or unknown)."""
    if is_web_page(contact) and contact.hours.always:
        return "online"
    is_on = is_open(contact, at)
    if not contact.hours.confirmed:
        return "likely_open" if is_on else "likely_closed"
    return "open" if is_on else "closed"


def reachable_now(contact: Contact, at: dt.datetime) -> bool:
    """Honest "open now": open by confirmed hours, or a web page (any time). Never true for hours not confirmed."""
    return contact.hours.confirmed and status(contact, at) in ("open", "online")


_BY_ID: dict[int, tuple[Content, dict[str, Contact]]] = {}


def _by_id(content: Content) -> dict[str, Contact]:
    """Every contact by id, the first area's where ids repeat (cached per loaded content)."""
    cached = _BY_ID.get(id(content))
    if cached is None or cached[0] is not content:
        table: dict[str, Contact] = {}
        for _, c in content.all_contacts():
            table.setdefault(c.id, c)
        cached = _BY_ID[id(content)] = (content, table)
    return cached[1]


def alternatives(content: Content, contact: Contact, area: str | None) -> list[Contact]:
    """What to call while ``contact`` is closed (its ``when_closed``, roles resolved in ``area``)."""
    visible = content.contacts_for(area or content.meta.default_area)
    out: list[Contact] = []
    for ref in contact.when_closed:
        for cid in content.role_members(ref, area or content.meta.default_area):
            c = visible.get(cid) or _by_id(content).get(cid)
            if c is not None and c.id != contact.id and all(c.id != o.id for o in out):
                out.append(c)
    return out


def status_text(
    content: Content, contact: Contact, at: dt.datetime, area: str | None = None, *, instead: bool = True
) -> str:
    """The state in words: "open now", "online", "hours not confirmed", "closed now", and with ``instead``,
    what to call while it is closed ("closed now; instead, call …", the out-of-hours route for ``area``)."""
    st = status(contact, at)
    if st == "online":
        words = content.text("online")
        return words if contact.hours.confirmed else f"{words}, {content.text('hours_not_confirmed')}"
    if st == "open":
        return content.text("open_now")
    if st == "likely_open":
        return content.text("hours_not_confirmed")
    words = content.text("closed_now") if st == "closed" else content.text("closed_not_confirmed")
    alts = [a for a in alternatives(content, contact, area) if status(a, at) in ("open", "online")] if instead else []
    if not alts:
        return words
    reach = f" {content.text('alternative_or')} ".join(f"{a.name}: {a.phone or a.text_to or a.url}" for a in alts)
    return content.text("when_closed", state=words, alternatives=reach)


# Who is asking (the session's ``who``) → the contact audience that is theirs.
AUDIENCE_OF = {"practitioner": "professionals", "parent": "public", "young_person": "children_and_young_people"}

# How well a contact matched, best first (``Match.match``): a number or a name in full, a kind of service
# asked for by its role words ("out of hours", "social services"), part of a name, a fuzzy match; then what a
# list adds: the open alternative to a closed contact, and an area's list when nothing was asked.
MATCH_KINDS = ("number", "name", "role", "partial", "fuzzy", "alternative", "listed")

# State of a contact at a time: "open" (a line, open now), "online" (a web page), "likely_open" (open by its
# timetable, but the hours are not confirmed), "closed", "likely_closed" (closed by an unconfirmed timetable).
_REACH = {"open": 3, "likely_open": 2, "online": 1, "closed": 0, "likely_closed": 0}


@dataclass(frozen=True)
class Match:
    contact: Contact
    area: str
    score: float
    open_now: bool
    superseded: str = ""  # why an old number or name the query used now leads here
    match: str = "listed"  # one of MATCH_KINDS
    why: str = ""  # one line: why it is in this place


def _words(text: str) -> list[str]:
    return words(text)


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


def _score(words: list[str], raw: list[str], query: str, contact: Contact, stop: set[str]) -> tuple[int, float]:
    """How well the query names ``contact``: (rank, score 0–100). Rank 4 a number, 3 a name or alias in full,
    2 part of one, 1 a typo-tolerant fuzzy match.

    ``words`` are the query's words without stopwords, ``raw`` with them: an alias is named in full when its
    words are all in the query, even words the search otherwise leaves out ("contact centre", "out of hours").
    The more of the query an alias covers, the higher its score.
    """
    digits = _digits(query)
    if len(digits) >= 4:
        numbers = [contact.phone, contact.text_to, *(s.phone for s in contact.superseded)]
        return (4, 100.0) if any(digits in _digits(n) for n in numbers if n) else (0, 0.0)
    q = " ".join(words)
    qset, rset = set(words), set(raw)
    best: tuple[int, float] = (0, 0.0)
    for item in _haystack(contact):
        iw = item.split()
        iset = set(iw)
        if not iw:
            continue
        if words and iset <= qset:
            found = (3, min(100.0, 90.0 + 10.0 * len(iset) / len(qset)))
        elif len(iset) > 1 and iset <= rset and not iset <= stop:
            found = (3, min(100.0, 90.0 + 10.0 * len(iset - stop) / max(1, len(qset))))
        elif words and qset <= iset:
            found = (2, 85.0 + 10.0 * len(qset) / len(iset))
        elif words:
            fuzzy_words = sum(1 for w in words if len(w) >= 4 and max(fuzz.ratio(w, x) for x in iw) >= 80)
            found = (1, max(fuzz.token_sort_ratio(q, item) * 0.9, 80.0 * fuzzy_words / len(words)))
        else:
            continue
        best = max(best, found)
    return best


Scored = list[tuple[str, Contact, tuple[int, float]]]
_SCORED: OrderedDict[bytes, tuple[Content, Scored]] = OrderedDict()
_SCORED_SIZE = 256


def _scored(content: Content, area: str | None, words: list[str], raw: list[str], query: str,
            stop: set[str]) -> Scored:
    """(area, contact, :func:`_score`) for every contact searched. How well words name a contact does not
    change, so the last few queries' scores are kept (fuzzy matching is most of a search's cost), under a
    digest of the words: the cache never holds what anyone typed."""
    key = hashlib.blake2b(repr((id(content), area, words, raw, _digits(query))).encode(), digest_size=16).digest()
    cached = _SCORED.get(key)
    if cached is not None and cached[0] is content:
        _SCORED.move_to_end(key)
        return cached[1]
    pool = [(area, c) for c in content.contacts_for(area).values()] if area else list(content.all_contacts())
    scored: Scored = [(a, c, _score(words, raw, query, c, stop)) for a, c in pool]
    _SCORED[key] = (content, scored)
    while len(_SCORED) > _SCORED_SIZE:
        _SCORED.popitem(last=False)
    return scored


_AREA_NAMES: dict[int, tuple[Content, list[tuple[tuple[str, ...], str]]]] = {}


def _area_names(content: Content) -> list[tuple[tuple[str, ...], str]]:
    """Every way a query can name an area (its id, name, aliases, and the towns and districts in
    content/language/hints.yaml ``places``) as word tuples, longest first."""
    cached = _AREA_NAMES.get(id(content))
    if cached is not None and cached[0] is content:
        return cached[1]
    places = content.language.places if content.language else {}
    names: list[tuple[tuple[str, ...], str]] = []
    for area in content.areas.values():
        if area.id == content.meta.default_area:
            continue
        for name in (area.id, area.name, *area.aliases, *places.get(area.id, [])):
            phrase = tuple(_words(name))
            if phrase:
                names.append((phrase, area.id))
    names.sort(key=lambda n: -len(n[0]))
    _AREA_NAMES[id(content)] = (content, names)
    return names


def find_area_word(content: Content, words: list[str]) -> tuple[str | None, list[str]]:
    """Pull an area's name, or one of its towns or districts ("leeds", "kent", "maidstone", "tunbridge wells",
    "west yorkshire"), out of a query's words."""
    names = _area_names(content)
    for i in range(len(words)):
        for phrase, area_id in names:
            if tuple(words[i : i + len(phrase)]) == phrase:
                return area_id, words[:i] + words[i + len(phrase) :]
    return None, words


def _pro_only(contact: Contact) -> bool:
    return "public" not in contact.audience and "children_and_young_people" not in contact.audience


def _fit(contact: Contact, who: str | None) -> int:
    """2 when the contact is for the person asking, 1 otherwise (or when nobody said who they are)."""
    return 2 if who in AUDIENCE_OF and AUDIENCE_OF[who] in contact.audience else 1


_KIND_OF = {4: "number", 3: "name", 2: "partial", 1: "fuzzy"}


def search(
    content: Content,
    query: str,
    *,
    area: str | None,
    at: dt.datetime,
    limit: int = 8,
    who: str | None = None,
) -> list[Match]:
    """Contacts for ``query``, best first, for ``who`` ("practitioner", "parent", "young_person" or None).

    The order: how well a contact matches the words (a number or a name in full beats part of a name, which
    beats a fuzzy match; weaker matches are dropped, not padded in); then whether it is meant for ``who``;
    then whether it is open at ``at`` (open, then online, then hours not confirmed, then closed). A closed
    contact keeps its place and its open alternative (``when_closed``) comes straight after it.

    Words for a kind of service ("out of hours", "social services") list the area's social care services
    (and, for the public, its public line) with the one open now first. Parents and young people never see
    professional-only contacts unless they name one.

    With no area the contacts of every area are searched; an area the query names ("... leeds", "... in
    maidstone") is searched instead of ``area``. An empty query lists the area's contacts for ``who``: 999,
    the area's public line (with its out-of-hours route when closed) and Childline or the NSPCC first.
    Numbers (even old ones printed in seed documents) match the contact that owns them.
    """
    raw = _words(query)
    named_area, raw = find_area_word(content, raw)
    area = named_area or area
    hints = content.language
    stop = set(hints.contact_stopwords) if hints else set()
    words = [w for w in raw if w not in stop]
    if not words and len(_digits(query)) < 4:
        return _listing(content, area, who, at)[:limit]
    text = " ".join(w.replace("'", "") for w in raw)
    role = bool(hints and re.search(hints.out_of_hours, text)) or bool(
        hints and hints.social_care and re.search(hints.social_care, text)
    )
    members = _role_members(content, area, who) if role else set()
    found: list[tuple[Match, int]] = []
    for area_id, c, (rank, score) in _scored(content, area, words, raw, query, stop):
        kind = _KIND_OF.get(rank, "fuzzy")
        if (area_id, c.id) in members:
            rank, score, kind = 3, max(score, 90.0), "role"
        if rank == 0:
            continue
        if who in ("parent", "young_person") and _pro_only(c) and kind not in ("number", "name"):
            continue
        note = _superseded_note(query, c) if score >= 60 else ""
        found.append((Match(c, area_id, score, reachable_now(c, at), note, kind), rank))
    if not found:
        return []
    top = max(rank for _, rank in found)
    best = max(m.score for m, rank in found if rank == top)
    floor = max(60.0, best - 12.0) if top == 1 else 0.0
    kept = [m for m, rank in found if rank == top and m.score >= floor]
    kept.sort(key=lambda m: (-_fit(m.contact, who), -_REACH[status(m.contact, at)], -m.score, m.contact.name))
    return _with_alternatives(content, [_explained(content, m, at) for m in kept], who, at)[:limit]


def _role_members(content: Content, area: str | None, who: str | None) -> set[tuple[str, str]]:
    """(area, contact id) of the services a role query means: children's social care, and for anyone who is
    not a practitioner, the area's public line."""
    out: set[tuple[str, str]] = set()
    for a in [area] if area else list(content.areas):
        pack = content.areas.get(a)
        for cid in content.role_members("role:social_care", a):
            out.add((a, cid))
        if pack is not None and pack.public_line and who != "practitioner":
            out.add((a, pack.public_line))
    if not area:  # every area's pool holds its own contacts only; national contacts sit under "national"
        out |= {(content.meta.default_area, cid) for _, cid in out}
    return out


def _explained(content: Content, m: Match, at: dt.datetime) -> Match:
    if m.match == "role":
        pack = content.areas.get(m.area)
        what = content.text("why_role_public" if pack and pack.public_line == m.contact.id else "why_role_social_care")
        st = status(m.contact, at)
        key = {"open": "open", "likely_open": "likely_open", "online": "online"}.get(st, "closed")
        why = content.text(f"why_role_{key}", what=what)
    else:
        why = content.text(f"why_{m.match}")
    return replace(m, why=why)


def _with_alternatives(content: Content, matches: list[Match], who: str | None, at: dt.datetime) -> list[Match]:
    """Each closed contact followed straight away by what to call instead (unless that came earlier)."""
    out: list[Match] = []
    seen: set[str] = set()
    for m in matches:
        if m.contact.id in seen:
            continue
        out.append(m)
        seen.add(m.contact.id)
        if status(m.contact, at) not in ("closed", "likely_closed"):
            continue
        for alt in alternatives(content, m.contact, m.area):
            if alt.id in seen or status(alt, at) not in ("open", "online", "likely_open"):
                continue
            if who in ("parent", "young_person") and _pro_only(alt):
                continue
            why = content.text("why_alternative", name=m.contact.name)
            out.append(Match(alt, m.area, m.score, reachable_now(alt, at), "", "alternative", why))
            seen.add(alt.id)
    return out


def _listing(content: Content, area: str | None, who: str | None, at: dt.datetime) -> list[Match]:
    """An area's contacts for ``who`` when nothing in particular was asked: 999, the area's public line and
    the helpline for them first (practitioners: the area's key contacts, the open social care service
    first), then the rest: theirs first, open before online before closed."""
    a = area or content.meta.default_area
    visible = content.contacts_for(a)
    pack = content.areas.get(a)
    picked: list[tuple[str, str]] = [(cid, "why_emergency") for cid in content.role_members("role:emergency", a)]
    helpline = [(cid, "why_helpline") for cid in content.role_members(f"role:helpline_{who}", a)] if who else []
    public = [(pack.public_line, "why_public_line")] if pack and pack.public_line and who != "practitioner" else []
    picked += helpline + public if who == "young_person" else public + helpline
    if who in (None, "practitioner"):
        key = content.role_members("role:key_contacts", a)
        social = set(content.role_members("role:social_care", a))
        slots = [i for i, cid in enumerate(key) if cid in social]
        def reach(cid: str) -> int:
            return _REACH[status(visible[cid], at)] if cid in visible else 0

        by_reach = sorted((key[i] for i in slots), key=lambda cid: -reach(cid))
        key = list(key)
        for i, cid in zip(slots, by_reach, strict=True):
            key[i] = cid
        picked += [(cid, "why_key_contact") for cid in key]
    listed = {cid for cid, _ in picked}
    local_ids = {c.id for c in pack.contacts} if pack is not None and a != content.meta.default_area else set()
    rest = sorted(
        (c for c in visible.values() if c.id not in listed),
        key=lambda c: (-_fit(c, who), -_REACH[status(c, at)], c.id not in local_ids, c.name),
    )
    picked += [(c.id, "why_listed") for c in rest]
    matches: list[Match] = []
    for cid, why in picked:
        c = visible.get(cid)
        if c is None or (who in ("parent", "young_person") and _pro_only(c)):
            continue
        matches.append(Match(c, a, 50.0, reachable_now(c, at), "", "listed", content.text(why)))
    return _with_alternatives(content, matches, who, at)


def order_by_open(contacts: list[Contact], at: dt.datetime) -> list[Contact]:
    """Keep the given order, but put services that can be reached now (open, online, or within hours not
    confirmed) before closed ones."""
    return sorted(contacts, key=lambda c: status(c, at) in ("closed", "likely_closed"))


def describe(
    content: Content,
    contact: Contact,
    at: dt.datetime,
    *,
    detail: bool = True,
    state: bool = True,
    area: str | None = None,
) -> str:
    """A contact as plain text: name and how to reach it; with ``detail``, hours, its state now ("open now",
    "online", "hours not confirmed", "closed now; out of hours call …") and what it is for; without, one line
    that still says when a service is closed (``state``). ``area`` picks the out-of-hours route."""
    reach = " · ".join(x for x in (contact.phone, contact.text_to, contact.url) if x)
    lines = [f"{contact.name}: {reach}"]
    if not detail and state and not contact.hours.always:
        lines[0] += f" ({status_text(content, contact, at, area)})"
    if detail:
        lines.append(f"  {contact.hours.text} ({status_text(content, contact, at, area)})")
        if contact.summary:
            lines.append(f"  {contact.summary}")
        if contact.confirm_locally:
            lines.append(f"  {contact.confirm_locally}")
    return "\n".join(lines)


def actions(contact: Contact) -> list[dict[str, str]]:
    """What can be done in one tap: call the number, text, or open the page."""
    out: list[dict[str, str]] = []
    if contact.phone:
        out.append({"type": "call", "label": contact.phone, "url": "tel:" + _digits(contact.phone)})
    if contact.text_to and _digits(contact.text_to):
        out.append({"type": "text", "label": contact.text_to, "url": "sms:" + _digits(contact.text_to)})
    if contact.url:
        out.append({"type": "open", "label": contact.url, "url": contact.url})
    return out


def as_json(match: Match, at: dt.datetime | None = None) -> dict[str, Any]:
    c = match.contact
    out = {
        "id": c.id,
        "name": c.name,
        "phone": c.phone or None,
        "url": c.url or None,
        "audience": list(c.audience),
        "open_now": match.open_now,
        "hours": c.hours.text,
        "source": c.source,
        "checked": c.checked.isoformat(),
        "area": match.area,
        "superseded": match.superseded or None,
        "hours_confirmed": c.hours.confirmed,
        "match": match.match,
        "why": match.why or None,
        "actions": actions(c),
    }
    if at is not None:
        out["state"] = status(c, at)
    return out
