"""Deep links: ``https://t.me/<bot>?start=parent_kent`` says who is asking and where, so a school poster or a
council page can open the bot at the right place.

A payload is a role (``young_person``, ``parent``, ``practitioner``), optionally followed by ``_`` and an
area id from content (``kent``, ``leeds``, ``national``). Nothing else is a deep link: matching is exact
(lower case, no spaces), and any other payload is left to the normal start (``/start kent`` still picks the
area; ``/start private``, the link offered in groups, is a plain start), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from bot.assistant import WHO

#: What Telegram allows in a start payload: 1 to 64 of A-Z, a-z, 0-9, _ and -.
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class DeepLink:
    who: str
    area: str | None = None

    @property
    def payload(self) -> str:
        return f"{self.who}_{self.area}" if self.area else self.who


def parse(payload: str, areas: Collection[str]) -> DeepLink | None:
    """The deep link ``payload`` names, or ``None`` when it names none (then it is an ordinary argument)."""
    if not _PAYLOAD.fullmatch(payload):
        return None
    for who in WHO:
        if payload == who:
            return DeepLink(who)
        area = payload.removeprefix(f"{who}_")
        if area != payload and area in areas:
            return DeepLink(who, area)
    return None


def every_link(areas: Collection[str]) -> Iterator[DeepLink]:
    """Every deep link there is: each role alone, then with each area (for the README's list)."""
    for who in WHO:
        yield DeepLink(who)
        for area in sorted(areas):
            yield DeepLink(who, area)


def url(username: str, link: DeepLink) -> str:
    return f"https://t.me/{username}?start={link.payload}"
