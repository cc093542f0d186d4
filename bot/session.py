"""What is kept about a conversation: dialogue state and answers to fixed choices, nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
import operator
from dataclasses import dataclass, field, fields
from itertools import repeat
from typing import Any

# Recent update/event ids are remembered for de-duplication, as 6-character digests (36 bits tell them apart),
# for as long as a platform may deliver an event again: Telegram keeps an unconfirmed update for 24 hours.
# The window is kept in time, with a bound on the count so a record stays small: a conversation has to send
# more than SEEN_LIMIT events within SEEN_WINDOW before the oldest ids are dropped early.
SEEN_WINDOW = 24 * 3600.0  # seconds
SEEN_LIMIT = 64


class CorruptSession(ValueError):
    """A stored record that cannot be read back as a :class:`Session` (the message names no content)."""


def event_digest(event_id: str) -> str:
    """A short digest of a platform event id, as kept in a session."""
    return base64.urlsafe_b64encode(hashlib.sha256(event_id.encode()).digest()[:6]).decode()[:6]
# json.dumps(..., separators=...) builds a new encoder on every call; this is the same encoder, built once.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_ROUND = float.__round__


@dataclass
class Session:
    """One conversation's saved state. Every field is a content id, a timestamp or a platform event digest.

    ``seen`` holds the digests of recent event ids and ``seen_at`` when each was handled (same length).
    """

    who: str | None = None  # practitioner | parent | young_person
    area: str | None = None
    flow: str | None = None
    node: str | None = None
    answers: list[tuple[str, str]] = field(default_factory=list)
    version: str = ""
    created: float = 0.0
    updated: float = 0.0
    seen: list[str] = field(default_factory=list)
    misses: int = 0  # typed messages in a row that were not understood (the second hands over to people)
    hints: list[tuple[str, str]] = field(default_factory=list)  # answers suggested by a description, to confirm
    # When each id was handled: bookkeeping for the window, left out of equality (a record read back has
    # these to the second).
    seen_at: list[float] = field(default_factory=list, compare=False)

    def copy(self) -> Session:
        """An independent copy (the lists too): a turn works on one, so a failed turn changes nothing."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name in _LIST_FIELDS:  # every list field, including any added later
            setattr(new, name, list(getattr(self, name)))
        return new

    def has_seen(self, event_id: str, now: float | None = None) -> bool:
        """Whether ``event_id`` was handled (within SEEN_WINDOW before ``now``, if given)."""
        digest = event_digest(event_id)
        if digest not in self.seen:  # the usual answer, found without looking at the times
            return False
        if now is None:
            return True
        self._align()
        return any(d == digest and t > now - SEEN_WINDOW for d, t in zip(self.seen, self.seen_at, strict=True))

    def mark_seen(self, event_id: str, at: float) -> None:
        """Remember ``event_id`` as handled at ``at``; forget ids older than SEEN_WINDOW, and the oldest
        beyond SEEN_LIMIT."""
        self._align()
        self.seen.append(event_digest(event_id))
        self.seen_at.append(at)
        cutoff = at - SEEN_WINDOW
        if min(self.seen_at) > cutoff:  # none too old (the usual case): keep the newest SEEN_LIMIT
            del self.seen[:-SEEN_LIMIT], self.seen_at[:-SEEN_LIMIT]
            return
        keep = [i for i, t in enumerate(self.seen_at) if t > cutoff][-SEEN_LIMIT:]
        self.seen = [self.seen[i] for i in keep]
        self.seen_at = [self.seen_at[i] for i in keep]

    def _align(self) -> None:
        """Records from before ``seen_at`` existed (or built by hand): their ids count as seen at ``updated``."""
        missing = len(self.seen) - len(self.seen_at)
        if missing > 0:
            self.seen_at = [self.updated] * missing + self.seen_at
        elif missing < 0:
            self.seen_at = self.seen_at[-missing:]

    def dumps(self) -> str:
        """Compact JSON: well under 2 KB even at the limits (see the worst-case size test)."""
        data: dict[str, Any] = {"v": self.version, "c": round(self.created), "u": round(self.updated, 3)}
        for key, value in (("w", self.who), ("a", self.area), ("f", self.flow), ("n", self.node)):
            if value is not None:
                data[key] = value
        if self.answers:
            data["x"] = [list(a) for a in self.answers]
        if self.seen:
            self._align()
            # The ids as one comma-joined string: it is written and read at a fraction of the cost of a list of
            # up to SEEN_LIMIT strings. A list ("s", as records were first written) when an id has a comma in
            # it, which a digest never does.
            joined = ",".join(self.seen)
            if joined.count(",") == len(self.seen) - 1:
                data["e"] = joined
            else:
                data["s"] = self.seen
            # Ages in whole seconds before "u": short numbers, and a record never holds a second clock.
            # float.__round__ is round() for a float (the differences are: ``updated`` is made a float) without
            # round()'s look-up of the method for each of up to SEEN_LIMIT ids: a dumps() 14% cheaper.
            ages = list(map(_ROUND, map(operator.sub, repeat(float(self.updated), len(self.seen_at)), self.seen_at)))
            data["t"] = ages if min(ages) >= 0 else [max(0, a) for a in ages]
        if self.misses:
            data["m"] = self.misses
        if self.hints:
            data["h"] = [list(h) for h in self.hints]
        return _ENCODE(data)

    @classmethod
    def loads(cls, raw: str | bytes) -> Session:
        """The session in ``raw``; :class:`CorruptSession` for anything that is not a record we wrote."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            updated = float(data.get("u", 0))
            joined = data.get("e")
            seen = _texts(data.get("s", [])) if joined is None else _text(joined).split(",")
            ages = list(map(float, data.get("t", [])))
            session = cls(
                who=_opt(data.get("w")),
                area=_opt(data.get("a")),
                flow=_opt(data.get("f")),
                node=_opt(data.get("n")),
                answers=[(_text(q), _text(a)) for q, a in data.get("x", [])],
                version=_text(data.get("v", "")),
                created=float(data.get("c", 0)),
                updated=updated,
                seen=seen,
                seen_at=list(map(operator.sub, repeat(updated, len(ages)), ages)),
                misses=int(data.get("m", 0)),
                hints=[(_text(q), _text(a)) for q, a in data.get("h", [])],
            )
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:  # JSON and Unicode errors too
            raise CorruptSession(type(exc).__name__) from None
        session._align()
        return session


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _texts(values: object) -> list[str]:
    """A JSON list of strings, checked in one pass."""
    if type(values) is not list or not set(map(type, values)) <= _STR:
        raise TypeError("not a list of strings")
    return values


_STR = frozenset({str})


def _opt(value: object) -> str | None:
    return None if value is None else _text(value)



_LIST_FIELDS = tuple(f.name for f in fields(Session) if f.default_factory is list)

@dataclass
class Preferences:
    """What a person chose once and expects remembered beyond one conversation (Slack's area), and whether
    they were welcomed (Slack's Messages tab). Content ids and a flag only; kept under the same hashed key as
    the session, with its own, longer time-to-live; "Forget me" deletes it."""

    area: str | None = None
    welcomed: bool = False

    def dumps(self) -> str:
        data: dict[str, Any] = {"a": self.area} if self.area is not None else {}
        if self.welcomed:
            data["w"] = 1
        return _ENCODE(data)

    @classmethod
    def loads(cls, raw: str | bytes) -> Preferences:
        """The preferences in ``raw``; :class:`CorruptSession` for anything that is not a record we wrote."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise TypeError("not an object")
            return cls(area=_opt(data.get("a")), welcomed=data.get("w") == 1)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise CorruptSession(type(exc).__name__) from None
