"""The loaded content: the :class:`Content` object and its queries (contacts by area, roles, messages).

Built by :mod:`dialogs.load` from the models in :mod:`dialogs.schema`; checked by :mod:`dialogs.lint`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.schema import AreaPack, Command, Contact, Flow, Intent, Language, Meta, Safety, Source, Topic


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
    commands: dict[str, Command] = field(default_factory=dict)  # content/commands.yaml, in file order

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
