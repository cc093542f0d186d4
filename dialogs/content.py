"""Content packs: the pydantic models of everything in ``content/``, and the loader.

A safeguarding reviewer edits YAML; this module turns it into typed, validated objects. Structural
problems (wrong field, bad date) are reported by pydantic, cross-references (unknown ids, dangling
transitions, unreachable states, dead ends, contacts without source) by :mod:`dialogs.lint`. Both are
collected as :class:`Problem` objects naming the file and the place, never raised one at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=48)]
Audience = Literal["professionals", "public", "children_and_young_people"]
Who = Literal["practitioner", "parent", "young_person"]
_ALL_WHO: tuple[Who, ...] = ("practitioner", "parent", "young_person")
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------- contacts


class Hours(_Strict):
    """Opening hours in Europe/London.

    ``always`` means 24/7. Otherwise ``weekly`` maps day keys ("mon", "mon-thu", "sat-sun") to one or more
    spans "HH:MM-HH:MM" separated by commas ("24:00" may end a span). England's bank holidays are
    ``closed`` (office services), ``open`` (open the whole day: out-of-hours services) or ``as_weekday``.
    """

    always: bool = False
    weekly: dict[str, str] = Field(default_factory=dict)
    bank_holidays: Literal["closed", "open", "as_weekday"] = "closed"
    text: str = ""
    confirmed: bool = True  # false: the hours are assumed or unknown, so the service is never called "open now"

    @field_validator("weekly")
    @classmethod
    def _check_weekly(cls, value: dict[str, str]) -> dict[str, str]:
        for key, spans in value.items():
            for day in key.split("-"):
                if day not in DAY_KEYS:
                    raise ValueError(f"unknown day {day!r} in {key!r}; use mon..sun or a range like mon-thu")
            for span in spans.split(","):
                m = _SPAN.match(span.strip())
                if not m:
                    raise ValueError(f"bad span {span!r}; write HH:MM-HH:MM")
                h1, m1, h2, m2 = (int(x) for x in m.groups())
                if not (h1 * 60 + m1 < h2 * 60 + m2 <= 24 * 60):
                    raise ValueError(f"span {span!r} must start before it ends, within one day")
        return value

    def day_spans(self) -> dict[int, list[tuple[int, int]]]:
        """Weekday number (Monday 0) → list of (start minute, end minute).

        Hours are frozen, so the parsed spans are memoised by the weekly table; the result is shared: read it,
        do not modify it.
        """
        key = tuple(self.weekly.items())
        cached = _DAY_SPANS.get(key)
        if cached is None:
            cached = _DAY_SPANS[key] = self._parse_spans()
        return cached

    def _parse_spans(self) -> dict[int, list[tuple[int, int]]]:
        out: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for key, spans in self.weekly.items():
            parts = key.split("-")
            first, last = DAY_KEYS.index(parts[0]), DAY_KEYS.index(parts[-1])
            days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            for span in spans.split(","):
                m = _SPAN.match(span.strip())
                assert m is not None
                h1, m1, h2, m2 = (int(x) for x in m.groups())
                for d in days:
                    out[d].append((h1 * 60 + m1, h2 * 60 + m2))
        return out


_DAY_SPANS: dict[tuple[tuple[str, str], ...], dict[int, list[tuple[int, int]]]] = {}


class Superseded(_Strict):
    """An old number or name printed in a seed document, kept so a search for it finds the current one."""

    phone: str = ""
    name: str = ""
    note: str


class Contact(_Strict):
    id: Id
    name: str
    aliases: list[str] = Field(default_factory=list)
    audience: list[Audience]
    phone: str = ""
    text_to: str = ""  # e.g. "Text SHOUT to 85258"
    url: str = ""
    summary: str = ""
    hours: Hours = Field(default_factory=lambda: Hours(always=True))
    out_of_hours: bool = False
    stand_in: bool = False  # national placeholder for a local service, hidden where the area has its own
    source: str
    checked: dt.date
    checked_how: str = ""  # what was checked on that date, and how (page read, call made)
    superseded: list[Superseded] = Field(default_factory=list)
    confirm_locally: str = ""  # a caveat shown beside the contact
    when_closed: list[str] = Field(default_factory=list)  # contact ids or role:... to call while it is closed

    @field_validator("source")
    @classmethod
    def _source_is_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("source must be the URL the contact was checked against")
        return value


class Source(_Strict):
    """A document the guidance rests on, cited by outcomes and topics."""

    id: Id
    title: str
    url: str = ""
    published: str = ""


class AreaPack(_Strict):
    """One area: its contacts and how the flows' contact roles resolve there."""

    id: Id
    name: str
    practitioner_flow: Id
    aliases: list[str] = Field(default_factory=list)
    public_line: Id | None = None
    contacts: list[Contact] = Field(default_factory=list)
    roles: dict[Id, list[Id]] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    notes: dict[Id, str] = Field(default_factory=dict)  # area-specific text keyed by outcome id


# ------------------------------------------------------------------------------------------------ flows

Answers = dict[str, str]


class Branch(_Strict):
    """One conditional destination: taken when every ``when`` answer matches (an empty ``when`` always)."""

    when: dict[Id, Id] = Field(default_factory=dict)
    to: Id


class Choice(_Strict):
    id: Id
    label: str
    next: Id | list[Branch]

    def branches(self) -> list[Branch]:
        return [Branch(to=self.next)] if isinstance(self.next, str) else list(self.next)


class Question(_Strict):
    id: Id
    text: str
    help: str = ""
    cites: list[Id] = Field(default_factory=list)
    choices: list[Choice]


class Note(_Strict):
    when: dict[Id, Id] = Field(default_factory=dict)
    text: str


class Outcome(_Strict):
    id: Id
    title: str
    text: str
    notes: list[Note] = Field(default_factory=list)
    contacts: list[str]  # contact ids, or "role:<role id>" resolved by the area pack
    cites: list[Id] = Field(default_factory=list)


class Classification(_Strict):
    when: dict[Id, Id]
    label: str


class Flow(_Strict):
    id: Id
    who: Who
    title: str
    intro: str = ""
    start: Id
    questions: list[Question]
    outcomes: list[Outcome]
    classification: list[Classification] = Field(default_factory=list)
    footer: str = ""

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def outcome(self, oid: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == oid), None)


# ------------------------------------------------------------------------------- topics, routing, safety


class Topic(_Strict):
    """A piece of guidance a practitioner (or parent) can ask for by name."""

    id: Id
    title: str
    who: list[Who]
    text: str
    contacts: list[str] = Field(default_factory=list)
    cites: list[Id] = Field(default_factory=list)


class Intent(_Strict):
    """What a typed message can mean: keywords and example phrases, and where it leads.

    ``target`` is ``contact:<id>``, ``topic:<id>``, ``flow:<flow id>:<question or outcome id>``, or
    ``command:<name>`` (contacts, urgent, help, restart, back, forget).
    """

    id: Id
    target: str
    who: list[Who] = Field(default_factory=lambda: list(_ALL_WHO))
    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)


class Safety(_Strict):
    """Crisis words. ``phrases`` are matched after normalising case, spacing and common misspellings;
    ``patterns`` are regular expressions over the normalised text; ``near_misses`` must never trigger.
    """

    phrases: list[str]
    patterns: list[str] = Field(default_factory=list)
    near_misses: list[str] = Field(default_factory=list)
    spelling: dict[str, str] = Field(default_factory=dict)  # misspelling → canonical word
    contacts: list[Id]
    certain: list[str] = Field(default_factory=list)  # first-person statements that are a crisis whatever else
    joking: list[str] = Field(default_factory=list)  # words that make a "certain" statement a joke or a quote
    digits_for_letters: dict[str, str] = Field(default_factory=dict)  # "k1ll" → "kill"


class CrisisKind(_Strict):
    """What follows the crisis card for one kind of crisis: the specific next step, and extra contacts."""

    title: str
    next_step: str
    for_adults: str = ""  # the next step as said to a parent or practitioner, where it differs
    contacts: list[Id] = Field(default_factory=list)


class Prefill(_Strict):
    """Answers a practitioner's own description suggests, by question id → choice id, shown for confirmation."""

    adult: dict[Id, Id] = Field(default_factory=dict)
    adult_unknown: dict[Id, Id] = Field(default_factory=dict)  # an online contact whose age is not known
    coercion: dict[Id, Id] = Field(default_factory=dict)
    under_13: dict[Id, Id] = Field(default_factory=dict)
    age_13_to_17: dict[Id, Id] = Field(default_factory=dict)


class Language(_Strict):
    """``content/language/hints.yaml``: what words in a message say about who is asking, where, and the facts
    of an incident. Patterns are regular expressions over folded text (see ``bot/language.py``)."""

    crisis_kinds: dict[Id, CrisisKind]
    audience: dict[Who, list[str]]
    places: dict[Id, list[str]] = Field(default_factory=dict)  # area id → towns and districts named
    adult: list[str] = Field(default_factory=list)
    adult_unknown: list[str] = Field(default_factory=list)  # an online contact whose age is not known
    coercion: list[str] = Field(default_factory=list)
    incident: list[str] = Field(default_factory=list)  # words that make a practitioner's message an incident
    contact_request: list[str] = Field(default_factory=list)  # words asking whom to call ("who do i ring")
    ages: list[str] = Field(default_factory=list)  # patterns with one group: an age in years
    year_groups: list[str] = Field(default_factory=list)  # patterns with one group: an English school year
    prefill: Prefill = Field(default_factory=Prefill)
    when_adult: dict[str, str] = Field(default_factory=dict)  # a target → the target when an adult is named
    stopwords: list[str] = Field(default_factory=list)  # routing: words that mean nothing on their own
    contact_stopwords: list[str] = Field(default_factory=list)  # contact search: words left out of a name
    out_of_hours: str = r"\b(?:out of hours|ooh)\b"  # words that ask for out-of-hours services
    social_care: str = ""  # words that ask for children's social care as a service, not one team by name

    def patterns(self) -> dict[str, list[str]]:
        """Every list of regular expressions, by name (for the lint)."""
        return {**{f"audience.{w}": p for w, p in self.audience.items()}, "adult": self.adult,
                "adult_unknown": self.adult_unknown, "coercion": self.coercion, "incident": self.incident,
                "ages": self.ages,
                "year_groups": self.year_groups, "out_of_hours": [self.out_of_hours],
                "social_care": [self.social_care] if self.social_care else []}


class BankHolidays(_Strict):
    """England's bank holidays for a span of years (``content/bank_holidays.yaml``)."""

    first_year: int
    last_year: int
    source: str
    dates: list[dt.date]

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


def load_bank_holidays(root: Path | None = None) -> BankHolidays:
    """The bank holiday table (read on its own: opening hours need it before, or without, the rest)."""
    path = (root or default_content_dir()) / "bank_holidays.yaml"
    problems: list[Problem] = []
    table = _build(BankHolidays, _read(path, path.parent, problems), "content/bank_holidays.yaml", problems)
    if table is None:
        raise ContentError(problems)
    return table  # type: ignore[no-any-return]


class Meta(_Strict):
    version: str
    reviewed: dt.date
    default_area: Id = "national"


@dataclass(frozen=True)
class Problem:
    """A content problem: where it is, and what is wrong, in words a reviewer can act on."""

    file: str
    place: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.file}: {self.place}: {kind}: {self.message}"


@dataclass
class Content:
    """Everything the bot says and knows, loaded from one content directory."""

    meta: Meta
    areas: dict[str, AreaPack]
    flows: dict[str, Flow]
    topics: dict[str, Topic]
    intents: list[Intent]
    safety: Safety
    messages: dict[str, str]
    sources: dict[str, Source]
    version: str  # meta.version plus a short hash of the files, so any edit changes it
    files: dict[str, str] = field(default_factory=dict)  # object kind:id → file it came from
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # answer id → words typed for it
    language: Language | None = None  # content/language/hints.yaml
    root: Path | None = None  # the folder it was loaded from (the crisis model's weights live there too)

    def contacts_for(self, area: str) -> dict[str, Contact]:
        """The contacts visible in an area: the national pack plus the area's own.

        A national ``stand_in`` contact ("your local children's social care") is left out in an area that
        fills every national role naming it with its own contacts.
        """
        national = self.areas["national"]
        out = {c.id: c for c in national.contacts}
        pack = self.areas.get(area)
        if pack is not None and area != "national":
            still_needed = {cid for role, ids in national.roles.items() if role not in pack.roles for cid in ids}
            still_needed |= {cid for ids in pack.roles.values() for cid in ids}
            for c in national.contacts:
                if c.stand_in and c.id not in still_needed:
                    out.pop(c.id, None)
            out.update({c.id: c for c in pack.contacts})
        return out

    def all_contacts(self) -> Iterator[tuple[str, Contact]]:
        for area in self.areas.values():
            for c in area.contacts:
                yield area.id, c

    def resolve_contacts(self, refs: list[str], area: str) -> list[Contact]:
        """Contact ids and ``role:`` references → contacts, in order, without repeats."""
        visible = self.contacts_for(area)
        out: list[Contact] = []
        seen: set[str] = set()  # by id: ``visible`` holds one contact per id (model equality is slow)
        for ref in refs:
            for cid in self.role_members(ref, area):
                c = visible.get(cid)
                if c is not None and c.id not in seen:
                    seen.add(c.id)
                    out.append(c)
        return out

    def role_members(self, ref: str, area: str) -> list[str]:
        if not ref.startswith("role:"):
            return [ref]
        role = ref[5:]
        pack = self.areas.get(area)
        if pack is not None and role in pack.roles:
            return pack.roles[role]
        return self.areas["national"].roles.get(role, [])

    def text(self, key: str, **values: str) -> str:
        """A message from ``messages.yaml`` with ``{placeholders}`` filled."""
        template = self.messages[key]
        return template.format(**values) if values else template


class ContentError(Exception):
    """Raised when content cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads yes/no/on/off as booleans; in content they are answer ids, so only true/false are."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# The same loader over libyaml's parser (about 10x faster; start-up is mostly YAML). A file it rejects is read
# again with the pure-Python loader, whose error messages quote the offending line.
_FastLoader: type[Any] = _Loader
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        pass

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _CLoader


def default_content_dir() -> Path:
    """The content shipped with the package (``content/`` beside ``bot/``)."""
    return Path(__file__).resolve().parent.parent / "content"


_BULLET = re.compile(r"^\s*[-*•]\s")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s")
_BREAK_AFTER = (".", ":", "!", "?")


def list_number(line: str, last: int) -> int | None:
    """The number of the list item ``line`` starts, or ``None``. A number counts only as ``1.`` or the
    item after ``last`` (the previous item's number): "call⏎101. Don't pay." wraps a sentence, and joins."""
    numbered = _NUMBERED.match(line)
    if numbered is None:
        return None
    number = int(numbered[1])
    return number if number in (1, last + 1) else None


def unwrap(text: str) -> str:
    """Undo the hard line wrapping of YAML block text, so that a phone reflows it.

    A line joins the one before unless it starts a list item (a bullet, or the next number of a numbered
    list), or the line before ends a sentence (a deliberate break) and this one starts in upper case at the
    margin. Blank lines stay paragraph breaks.
    """
    if "\n" not in text:
        return text
    out: list[str] = []
    last = 0  # the number of the last numbered item in this paragraph
    for line in text.split("\n"):
        stripped = line.strip()
        prev = out[-1] if out else ""
        number = list_number(line, last)
        item = number is not None or bool(_BULLET.match(line))
        joins = (
            prev.strip() != ""
            and stripped != ""
            and not item
            and (not prev.rstrip().endswith(_BREAK_AFTER) or stripped[0].islower() or line[:1].isspace())
        )
        if not stripped:
            last = 0
        elif number is not None:
            last = number
        if joins:
            out[-1] = prev.rstrip() + " " + stripped
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def _unwrap_all(data: Any) -> Any:
    """Unwrap every text in flows, topics and area packs (prose written as wrapped YAML blocks); messages
    keep their line breaks, which are deliberate."""
    if isinstance(data, str):
        return unwrap(data)
    if isinstance(data, list):
        return [_unwrap_all(x) for x in data]
    if isinstance(data, dict):
        return {k: _unwrap_all(v) for k, v in data.items()}
    return data


def _read(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
        try:
            return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - safe loader subclass
        except yaml.YAMLError:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - same result, the clearer error message
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, "file", f"not valid YAML: {exc}"))
    except OSError as exc:
        problems.append(Problem(rel, "file", f"cannot read: {exc}"))
    return None


def _place(loc: tuple[int | str, ...], data: Any) -> str:
    """Turn a pydantic error location into a reviewer's path, naming ids where there are ids."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{ident or step}]"]
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(str(step))
    return ".".join(parts) or "top level"


def _build(model: type[BaseModel], data: Any, rel: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(rel, _place(tuple(err["loc"]), data), err["msg"]))
    return None


def load_content(root: Path | None = None, *, lint: bool = True, today: dt.date | None = None) -> Content:
    """Load and validate a content directory; raise :class:`ContentError` listing every error found."""
    content, problems = check_content(root, today=today) if lint else _load(root)
    errors = [p for p in problems if not p.warning]
    if errors or content is None:
        raise ContentError(errors or problems)
    return content


def check_content(root: Path | None = None, *, today: dt.date | None = None) -> tuple[Content | None, list[Problem]]:
    """Load a content directory and lint it; return the content (if it loaded) and every problem."""
    from dialogs.lint import lint_content

    content, problems = _load(root)
    if content is not None:
        problems.extend(lint_content(content, today=today))
    try:
        table = load_bank_holidays(root)
    except ContentError as exc:
        problems.extend(exc.problems)
    else:
        year = (today or dt.date.today()).year
        if not (table.covers(year) and table.covers(year + 1)):
            problems.append(Problem("content/bank_holidays.yaml", "last_year", f"does not cover {year} and "
                                    f"{year + 1}: run `python -m tools.bank_holidays`", warning=True))
    return content, problems


def _load(root: Path | None) -> tuple[Content | None, list[Problem]]:
    root = (root or default_content_dir()).resolve()
    problems: list[Problem] = []
    digest = hashlib.sha256()

    def rel(p: Path) -> str:
        return str(p.relative_to(root.parent))

    def read(p: Path) -> Any:
        digest.update(rel(p).encode())
        digest.update(p.read_bytes() if p.exists() else b"")
        return _read(p, root, problems)

    files: dict[str, str] = {}
    meta = _build(Meta, read(root / "meta.yaml"), "content/meta.yaml", problems)

    def one_per_file(kind: str, folder: str, model: type[AreaPack] | type[Flow]) -> dict[str, Any]:
        """Each ``folder/<id>.yaml`` as one ``model`` whose id must be its file name."""
        out: dict[str, Any] = {}
        for p in sorted((root / folder).glob("*.yaml")):
            item = _build(model, _unwrap_all(read(p)), rel(p), problems)
            if item is None:
                continue
            if item.id != p.stem:
                problems.append(Problem(rel(p), "id", f"{kind} id {item.id!r} must match the file name {p.stem!r}"))
            out[item.id] = item
            files[f"{kind}:{item.id}"] = rel(p)
        return out

    areas: dict[str, AreaPack] = one_per_file("area", "areas", AreaPack)
    flows: dict[str, Flow] = one_per_file("flow", "flows", Flow)

    topics: dict[str, Topic] = {}
    raw_topics = _unwrap_all(read(root / "topics.yaml")) or {}
    for i, raw in enumerate(raw_topics.get("topics", []) if isinstance(raw_topics, dict) else []):
        t = _build(Topic, raw, f"content/topics.yaml: topics[{i}]", problems)
        if t is not None:
            topics[t.id] = t

    intents: list[Intent] = []
    raw_routing = read(root / "routing.yaml") or {}
    for i, raw in enumerate(raw_routing.get("intents", []) if isinstance(raw_routing, dict) else []):
        it = _build(Intent, raw, f"content/routing.yaml: intents[{i}]", problems)
        if it is not None:
            intents.append(it)

    synonyms: dict[str, list[str]] = {}
    raw_synonyms = raw_routing.get("synonyms", {}) if isinstance(raw_routing, dict) else {}
    if isinstance(raw_synonyms, dict):
        synonyms = {str(k): [str(w).lower() for w in v] for k, v in raw_synonyms.items() if isinstance(v, list)}
    else:
        problems.append(Problem("content/routing.yaml", "synonyms", "must map answer ids to lists of words"))

    safety = _build(Safety, read(root / "safety.yaml"), "content/safety.yaml", problems)
    messages: dict[str, str] = {}
    for p in [root / "messages.yaml", *sorted((root / "messages").glob("*.yaml"))]:
        raw_messages = read(p)
        if not isinstance(raw_messages, dict):
            problems.append(Problem(rel(p), "file", "must map message keys to text"))
            continue
        for k, v in raw_messages.items():
            if not isinstance(v, str):
                problems.append(Problem(rel(p), str(k), "each message must be text"))
            elif str(k) in messages:
                problems.append(Problem(rel(p), str(k), "message key defined twice"))
            else:
                messages[str(k)] = v.strip()

    sources: dict[str, Source] = {}
    raw_sources = read(root / "sources.yaml") or {}
    for i, raw in enumerate(raw_sources.get("sources", []) if isinstance(raw_sources, dict) else []):
        s = _build(Source, raw, f"content/sources.yaml: sources[{i}]", problems)
        if s is not None:
            sources[s.id] = s
    for pack in areas.values():
        sources.update({s.id: s for s in pack.sources})

    language = _build(Language, read(root / "language" / "hints.yaml"), "content/language/hints.yaml", problems)
    model_meta = root / "language" / "model.yaml"
    if model_meta.exists():  # the crisis model's weights: any retraining changes the content version
        read(model_meta)

    if "national" not in areas:
        problems.append(Problem("content/areas", "national.yaml", "the national pack is required"))
    if meta is None or safety is None or problems:
        return None, problems
    version = f"{meta.version}+{digest.hexdigest()[:8]}"
    return (
        Content(meta, areas, flows, topics, intents, safety, messages, sources, version, files, synonyms,
                language, root),
        problems,
    )
