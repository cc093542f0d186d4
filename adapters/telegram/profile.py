"""The bot's profile on Telegram, set in code at start-up: description, short description, command menus.

The description is what a frightened parent sees in an empty chat before they press Start; the short
description shows on the bot's profile and when its link is shared. Both come from content
(``telegram_description``, ``telegram_short_description`` in ``content/messages/telegram.yaml``).

The "/" menus are scoped, and both come from ``content/commands.yaml``: private chats get every command
with a Telegram menu description, in the file's order (:func:`private_commands`); groups, where the bot
holds no conversation and any command gets the link to a private chat, get only the commands that are not
``private_only`` and have wording for groups (``telegram_cmd_group_<name>``): today ``/start``, never
``/exit`` or ``/forget`` (:func:`group_commands`). A menu an older version set for the default scope is
removed, so nothing else shows.

Each part is read first and written only when it differs, so a restart makes no changes (five reads, made
together). A part that fails is logged and left: typed commands and the conversation work without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)
from telegram.constants import BotDescriptionLimit
from telegram.error import TelegramError

from bot.commands import CommandTable, MenuEntry
from bot.logs import log, log_error
from dialogs.content import Content

PLATFORM = "telegram"
#: The message that describes a command in groups (a group's /start is not the private chat's /start); a
#: command without one is not listed there.
GROUP_COMMAND_TEXT = "telegram_cmd_group_{name}"
DESCRIPTION_MAX = int(BotDescriptionLimit.MAX_DESCRIPTION_LENGTH)  # 512
SHORT_DESCRIPTION_MAX = int(BotDescriptionLimit.MAX_SHORT_DESCRIPTION_LENGTH)  # 120

Call = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


def _private_menu(table: CommandTable) -> list[MenuEntry]:
    return table.menu(PLATFORM)


def _group_menu(table: CommandTable, content: Content) -> list[MenuEntry]:
    return [
        e for e in table.menu(PLATFORM)
        if not e.private_only and GROUP_COMMAND_TEXT.format(name=e.name) in content.messages
    ]


def private_commands(content: Content) -> tuple[str, ...]:
    """The "/" menu of private chats, in order: every command ``content/commands.yaml`` lists for Telegram."""
    return tuple(e.name for e in _private_menu(CommandTable(content)))


def group_commands(content: Content) -> tuple[str, ...]:
    """The "/" menu of groups: the commands that are not ``private_only`` and have wording for groups."""
    return tuple(e.name for e in _group_menu(CommandTable(content), content))


@dataclass(frozen=True)
class Profile:
    """What the bot's profile should be, worked out from content."""

    description: str
    short_description: str
    private: tuple[BotCommand, ...]
    groups: tuple[BotCommand, ...]

    @classmethod
    def from_content(cls, content: Content, table: CommandTable | None = None) -> Profile:
        table = table or CommandTable(content)
        return cls(
            description=content.text("telegram_description").strip(),
            short_description=content.text("telegram_short_description").strip(),
            private=tuple(BotCommand(e.name, e.description) for e in _private_menu(table)),
            groups=tuple(
                BotCommand(e.name, content.text(GROUP_COMMAND_TEXT.format(name=e.name)))
                for e in _group_menu(table, content)
            ),
        )

    def menus(self) -> tuple[tuple[BotCommandScope, tuple[BotCommand, ...]], ...]:
        """Each scope with the commands it should show (none, for the default scope)."""
        return (
            (BotCommandScopeAllPrivateChats(), self.private),
            (BotCommandScopeAllGroupChats(), self.groups),
            (BotCommandScopeDefault(), ()),
        )


def _same(have: tuple[BotCommand, ...], want: tuple[BotCommand, ...]) -> bool:
    return [(c.command, c.description) for c in have] == [(c.command, c.description) for c in want]


async def _text(bot: Bot, kind: str, want: str, call: Call) -> str:
    """``kind``: ``description`` or ``short_description`` (getMyDescription / setMyShortDescription...)."""
    method = "".join(word.title() for word in kind.split("_"))
    getter, setter = getattr(bot, f"get_my_{kind}"), getattr(bot, f"set_my_{kind}")
    have = await call(f"getMy{method}", getter)
    if getattr(have, kind) == want:
        return "same"
    await call(f"setMy{method}", lambda: setter(want))
    return "set"


async def _menu(bot: Bot, scope: BotCommandScope, want: tuple[BotCommand, ...], call: Call) -> str:
    have = await call("getMyCommands", lambda: bot.get_my_commands(scope=scope))
    if _same(tuple(have), want):
        return "same"
    if want:
        await call("setMyCommands", lambda: bot.set_my_commands(want, scope=scope))
    else:
        await call("deleteMyCommands", lambda: bot.delete_my_commands(scope=scope))
    return "set"


async def _part(name: str, work: Awaitable[str]) -> str:
    try:
        return await work
    except TelegramError as exc:
        log_error("telegram_profile_failed", exc, part=name)
        return "failed"


async def sync_profile(bot: Bot, profile: Profile, call: Call) -> dict[str, str]:
    """Make Telegram's profile match ``profile``; each part → ``same``, ``set`` or ``failed`` (logged)."""
    parts: dict[str, Awaitable[str]] = {
        "description": _text(bot, "description", profile.description, call),
        "short_description": _text(bot, "short_description", profile.short_description, call),
    }
    for scope, commands in profile.menus():
        parts[f"commands_{scope.type}"] = _menu(bot, scope, commands, call)
    results = await asyncio.gather(*(_part(name, work) for name, work in parts.items()))
    outcome = dict(zip(parts, results, strict=True))
    fields: dict[str, Any] = dict(outcome)
    log("telegram_profile", **fields)
    return outcome
