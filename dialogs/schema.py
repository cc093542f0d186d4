"""The pydantic models of everything in ``content/``: one model per content file.

A safeguarding reviewer edits YAML; :mod:`dialogs.load` validates each file with its model here, so that
structural problems (a wrong field, a bad date, a message that is not text) are reported by pydantic with
the file and the place. Cross-references between files are :mod:`dialogs.lint`'s job.

Files and their models: ``meta.yaml`` :class:`Meta`; ``areas/<id>.yaml`` :class:`AreaPack`;
``flows/<id>.yaml`` :class:`Flow`; ``topics.yaml`` :class:`TopicsFile`; ``routing.yaml``
:class:`RoutingFile`; ``safety.yaml`` :class:`Safety`; ``messages.yaml`` and ``messages/*.yaml``
:class:`MessagesFile`; ``sources.yaml`` :class:`SourcesFile`; ``language/hints.yaml`` :class:`Language`;
``bank_holidays.yaml`` :class:`BankHolidays`; ``commands.yaml`` :class:`Command` (one per command name).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StringConstraints, field_validator

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
    ``command:<name>`` (a command of ``content/commands.yaml``).
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
    talk_request: list[str] = Field(default_factory=list)  # words asking for someone to talk to
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


class Meta(_Strict):
    version: str
    reviewed: dt.date
    default_area: Id = "national"


# -------------------------------------------------------------------------------------------- commands

Platform = Literal["telegram", "slack", "console"]
PLATFORMS: tuple[Platform, ...] = ("telegram", "slack", "console")
COMMAND_NAME = r"^[a-z][a-z0-9_]{0,31}$"  # Telegram's rule
CommandName = Annotated[str, StringConstraints(pattern=COMMAND_NAME)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class Command(_Strict):
    """One entry of ``content/commands.yaml``: a command people type, keyed there by its name."""

    aliases: dict[LanguageCode, list[CommandName]] = Field(default_factory=dict)
    platform_aliases: dict[Platform, list[CommandName]] = Field(default_factory=dict)
    platforms: list[Platform] = Field(default_factory=lambda: list(PLATFORMS))
    audiences: list[Who] = Field(default_factory=lambda: list(_ALL_WHO))
    private_only: bool = False
    button: bool = False
    menu: dict[Platform, str] = Field(default_factory=dict)  # platform → the short description listed there
    usage: str = ""

    def other_names(self, platform: str | None = None) -> list[str]:
        """Its aliases in every language, then those it has on ``platform`` only."""
        words = [w for ws in self.aliases.values() for w in ws]
        return words + [w for p, ws in self.platform_aliases.items() if p == platform for w in ws]


# ---------------------------------------------------------------------------------- whole-file models


class TopicsFile(_Strict):
    """``content/topics.yaml``."""

    topics: list[Topic] = Field(default_factory=list)


Word = Annotated[str, AfterValidator(str.lower)]


class RoutingFile(_Strict):
    """``content/routing.yaml``: what typed words mean. ``synonyms`` maps an answer id (or a ``like_`` word
    class) to the words typed for it, read in lower case."""

    synonyms: dict[str, list[Word]] = Field(default_factory=dict)
    intents: list[Intent] = Field(default_factory=list)


class SourcesFile(_Strict):
    """``content/sources.yaml``: the documents the guidance rests on (area packs add their own)."""

    sources: list[Source] = Field(default_factory=list)


class MessagesFile(RootModel[dict[str, Annotated[str, AfterValidator(str.strip)]]]):
    """``content/messages.yaml`` or ``content/messages/<platform>.yaml``: message key → text."""

    model_config = ConfigDict(frozen=True)
