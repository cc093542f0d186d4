"""What is kept about a conversation: dialogue state and answers to fixed choices, nothing else."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# Recent update/event ids are remembered for de-duplication, as 6-character digests: a platform re-delivers
# an event within minutes, so 16 per conversation is ample, and 36 bits tell them apart.
SEEN_LIMIT = 16


def event_digest(event_id: str) -> str:
    """A short digest of a platform event id, as kept in a session."""
    return base64.urlsafe_b64encode(hashlib.sha256(event_id.encode()).digest()[:6]).decode()[:6]
# json.dumps(..., separators=...) builds a new encoder on every call; this is the same encoder, built once.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class Session:
    """One conversation's saved state. Every field is a content id, a timestamp or a platform event id."""

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

    def has_seen(self, event_id: str) -> bool:
        return event_digest(event_id) in self.seen

    def mark_seen(self, event_id: str) -> None:
        self.seen.append(event_digest(event_id))
        del self.seen[:-SEEN_LIMIT]

    def dumps(self) -> str:
        """Compact JSON: a few hundred bytes at most."""
        data: dict[str, Any] = {"v": self.version, "c": round(self.created), "u": round(self.updated, 3)}
        for key, value in (("w", self.who), ("a", self.area), ("f", self.flow), ("n", self.node)):
            if value is not None:
                data[key] = value
        if self.answers:
            data["x"] = [list(a) for a in self.answers]
        if self.seen:
            data["s"] = self.seen
        if self.misses:
            data["m"] = self.misses
        if self.hints:
            data["h"] = [list(h) for h in self.hints]
        return _ENCODE(data)

    @classmethod
    def loads(cls, raw: str | bytes) -> Session:
        data = json.loads(raw)
        return cls(
            who=data.get("w"),
            area=data.get("a"),
            flow=data.get("f"),
            node=data.get("n"),
            answers=[(str(q), str(a)) for q, a in data.get("x", [])],
            version=data.get("v", ""),
            created=float(data.get("c", 0)),
            updated=float(data.get("u", 0)),
            seen=[str(s) for s in data.get("s", [])],
            misses=int(data.get("m", 0)),
            hints=[(str(q), str(a)) for q, a in data.get("h", [])],
        )
