"""The one text splitter of the adapters: a reply longer than a platform allows, in parts that each fit."""

from __future__ import annotations

import re
from collections.abc import Callable

SEPARATORS = ("\n\n", "\n", " ")  # paragraphs, then lines, then words
_STARTS_NUMBERED = re.compile(r"\d+[.)](\s|$)")


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """``text`` in parts of at most ``limit`` (as ``measure`` counts: characters, or Telegram's UTF-16 units),
    cut at paragraph, then line, then word boundaries; a word longer than ``limit`` is cut between code
    points. A cut between words never starts a part with a number like "101." (read as a list item): the
    word before goes with it. Parts that are only whitespace are dropped."""
    text = text.strip()
    if not text:
        return []
    return [part for part in _split(text, limit, SEPARATORS, measure) if part.strip()]


def _split(text: str, limit: int, separators: tuple[str, ...], measure: Callable[[str], int]) -> list[str]:
    if measure(text) <= limit:
        return [text]
    if not separators:
        return _hard_split(text, limit, measure)
    sep, finer = separators[0], separators[1:]
    units = [u for u in text.split(sep) if u.strip()]
    if len(units) <= 1:
        return _split(text, limit, finer, measure)
    parts: list[str] = []
    current = ""
    for unit in units:
        for sub in _split(unit, limit, finer, measure):
            candidate = f"{current}{sep}{sub}" if current else sub
            if measure(candidate) <= limit:
                current = candidate
                continue
            # A cut between words never starts a part with "101." (read as list item 101): the words
            # before the number go with it.
            head, carried = (current if sep == " " else ""), sub
            while head and _STARTS_NUMBERED.match(carried):
                head, _, word = head.rpartition(" ")
                carried = f"{word} {carried}"
            if head and carried != sub and measure(carried) <= limit:
                parts.append(head)
                current = carried
                continue
            if current:
                parts.append(current)
            current = sub
    if current:
        parts.append(current)
    return parts


def _hard_split(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:  # whole code points, so a surrogate pair is never cut
        width = measure(char)
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return parts
