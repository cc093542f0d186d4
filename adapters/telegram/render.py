"""Neutral :class:`~bot.types.Outbound` replies as Telegram messages.

Messages are plain text (no ``parse_mode``), so no wording ever needs escaping; a title is made bold with
a message entity. Options become an inline keyboard: choices one per row (their labels are sentences),
navigation two per row underneath. Texts longer than Telegram's 4,096 characters are split at paragraph
boundaries (then lines, then spaces), and the keyboard goes on the last part. Link and copy options (see
:class:`~bot.types.Option`) become URL and ``copy_text`` buttons, two to a row between the choices and the
navigation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity

from bot.types import Option, Outbound

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units
NAV_PER_ROW = 2
ACTS_PER_ROW = 2
_SEPARATORS = ("\n\n", "\n", " ")
_STARTS_NUMBERED = re.compile(r"\d+[.)](\s|$)")


@dataclass(frozen=True)
class Piece:
    """One Telegram message: text, bold-title entity, and the keyboard (last piece only)."""

    text: str
    entities: tuple[MessageEntity, ...] = ()
    markup: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 units, cut at paragraph, line or word boundaries."""
    text = text.strip()
    if not text:
        return []
    return [part for part in _split(text, limit, _SEPARATORS) if part.strip()]


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if utf16_len(text) <= limit:
        return [text]
    if not separators:
        return _hard_split(text, limit)
    sep, finer = separators[0], separators[1:]
    units = [u for u in text.split(sep) if u.strip()]
    if len(units) <= 1:
        return _split(text, limit, finer)
    parts: list[str] = []
    current = ""
    for unit in units:
        for sub in _split(unit, limit, finer):
            candidate = f"{current}{sep}{sub}" if current else sub
            if utf16_len(candidate) <= limit:
                current = candidate
                continue
            # A cut between words never starts a message with "101." (read as list item 101): the words
            # before the number go with it.
            head, carried = (current if sep == " " else ""), sub
            while head and _STARTS_NUMBERED.match(carried):
                head, _, word = head.rpartition(" ")
                carried = f"{word} {carried}"
            if head and carried != sub and utf16_len(carried) <= limit:
                parts.append(head)
                current = carried
                continue
            if current:
                parts.append(current)
            current = sub
    if current:
        parts.append(current)
    return parts


def _hard_split(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:  # whole code points, so a surrogate pair is never cut
        width = utf16_len(char)
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return parts


def keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup | None:
    """Choices one per row, then links and copy buttons ``ACTS_PER_ROW`` to a row, then navigation
    ``NAV_PER_ROW`` to a row. Tokens are ≤ 64 bytes already."""
    if not options:
        return None
    rows: list[list[InlineKeyboardButton]] = [
        [button(o)] for o in options if not o.nav and not o.acts_here
    ]
    acts = [button(o) for o in options if o.acts_here]
    rows += [acts[i : i + ACTS_PER_ROW] for i in range(0, len(acts), ACTS_PER_ROW)]
    nav = [button(o) for o in options if o.nav and not o.acts_here]
    rows += [nav[i : i + NAV_PER_ROW] for i in range(0, len(nav), NAV_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def button(o: Option) -> InlineKeyboardButton:
    """One option as a button: a link, a copy button (Telegram copies the text, up to 256 characters, to the
    clipboard) or a callback carrying the option's token."""
    if o.url:
        return InlineKeyboardButton(o.label, url=o.url)
    if o.copy:
        return InlineKeyboardButton(o.label, copy_text=CopyTextButton(o.copy[:256]))
    return InlineKeyboardButton(o.label, callback_data=o.action)


def render(out: Outbound, limit: int = MAX_MESSAGE) -> list[Piece]:
    """The messages that show ``out``: usually one; several when the text is too long for one."""
    title = out.title.strip()
    full = f"{title}\n\n{out.text}" if title and out.text.strip() else (title or out.text)
    texts = split_text(full, limit)
    if not texts:
        return []
    markup = keyboard(out.options)
    pieces: list[Piece] = []
    for i, text in enumerate(texts):
        entities: tuple[MessageEntity, ...] = ()
        if i == 0 and title and text.startswith(title):
            entities = (MessageEntity(MessageEntity.BOLD, 0, utf16_len(title)),)
        pieces.append(Piece(text, entities, markup if i == len(texts) - 1 else None))
    return pieces
