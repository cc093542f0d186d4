"""The neutral message model shared by every adapter. No platform objects in here, ever."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "action", "command", "media"]
OutboundKind = Literal["menu", "info", "outcome", "crisis", "warning", "record", "farewell"]


@dataclass(frozen=True)
class ConversationRef:
    """Who is talking where. Raw ids live only here, in memory, for the length of one turn."""

    platform: str
    workspace: str  # Slack team id, Telegram bot id, "console"
    chat: str
    user: str


@dataclass(frozen=True)
class Inbound:
    """One thing a user did.

    ``text`` is what they typed (never stored, never logged); ``action`` is a signed button token the
    bot issued; ``command`` is a slash command name without the slash, with ``arg`` its argument;
    ``media`` is any photo, video, file, voice note or sticker, described only by its kind.
    """

    kind: InboundKind
    text: str = ""
    action: str = ""
    command: str = ""
    arg: str = ""
    media: str = ""


@dataclass(frozen=True)
class Option:
    """A button (or numbered option on the console). ``action`` is a signed token; ``nav`` marks
    navigation (back, start again, contacts) that adapters may lay out apart from the choices.

    Two kinds act on the device instead of coming back to the bot (their ``action`` is empty): ``url``, a
    page to open, and ``copy``, a text (a phone number) to copy. Adapters render them natively, or show the
    address or number where a platform has no such button."""

    action: str
    label: str
    nav: bool = False
    url: str = ""
    copy: str = ""

    @property
    def acts_here(self) -> bool:
        """True for a link or copy button: nothing is sent to the bot when it is used."""
        return bool(self.url or self.copy)


@dataclass(frozen=True)
class Outbound:
    """One reply. ``text`` is plain text with blank lines between paragraphs; adapters render it."""

    text: str
    options: tuple[Option, ...] = ()
    kind: OutboundKind = "info"
    title: str = ""
    replace_menu: bool = field(default=False)  # edit the message whose button was pressed, if possible
