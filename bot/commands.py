"""Commands: the table of what people may type (``content/commands.yaml``) and what each command does.

:class:`CommandTable` is the one reader of the command vocabulary. The assistant resolves a typed name or
alias with it, Telegram's "/" menu (:meth:`CommandTable.menu`) and Slack's ``/ypsi`` subcommands and help
(:meth:`CommandTable.resolve` with ``platform="slack"``, :meth:`CommandTable.menu`) come from it, and the
content check lints it (:mod:`dialogs.lint`). :class:`Commands` is the assistant's layer that carries a
command out, by its name in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.asides import Asides
from bot.reply import Ctx
from bot.types import Outbound
from dialogs.content import Content


@dataclass(frozen=True)
class MenuEntry:
    """A command as a platform lists it: its name, the short description, and whether only private chats
    should offer it (Telegram's command scopes)."""

    name: str
    description: str
    usage: str = ""
    private_only: bool = False


class CommandTable:
    """Names and aliases → commands, for every platform, from ``content/commands.yaml``."""

    def __init__(self, content: Content):
        self.commands = content.commands
        self._names: dict[str | None, dict[str, str]] = {}
        for platform in (None, "telegram", "slack", "console"):
            words: dict[str, str] = {}
            for name, command in content.commands.items():
                if platform is not None and platform not in command.platforms:
                    continue
                for word in (name, *command.other_names(platform)):
                    words.setdefault(word, name)
            self._names[platform] = words

    def resolve(self, word: str, platform: str | None = None) -> str | None:
        """The command ``word`` names (any case), or ``None``. With ``platform``: only commands accepted
        there, with that platform's own aliases; without: every command, in any language."""
        return self._names.get(platform, {}).get(word.lower())

    def menu(self, platform: str) -> list[MenuEntry]:
        """The commands ``platform`` lists, in the file's order, with their descriptions there."""
        return [
            MenuEntry(name, command.menu[platform], command.usage, command.private_only)
            for name, command in self.commands.items()
            if platform in command.menu
        ]

    def offered_as_button(self, name: str) -> bool:
        """Whether a command may be offered as a button where typed words suggest it."""
        command = self.commands.get(name)
        return command is not None and command.button


class Commands(Asides):
    """Carries out a command (typed, or the command a button or typed words lead to)."""

    def __init__(self, content: Content, secret: str):
        super().__init__(content, secret)
        self.commands = CommandTable(content)
        self._handlers: dict[str, Callable[[Ctx, str], str]] = {
            "start": self._start,
            "urgent": lambda ctx, arg: self._crisis(ctx, asked=True),
            "hello": self._hello,
            "thanks": self._thanks,
            "help": self._help,
            "contacts": self._contacts,
            "forget": self._forget,
            "exit": self._exit,
            "restart": lambda ctx, arg: self._restart(ctx),
            "back": lambda ctx, arg: self._back(ctx),
            "triage": self._triage,
        }

    def handles(self) -> frozenset[str]:
        """The commands this assistant can carry out (the content's table must name no others)."""
        return frozenset(self._handlers)

    def _command(self, ctx: Ctx, name: str, arg: str) -> str:
        s = ctx.s
        kind = self.language.crisis_kind(arg, s.who)[0] if arg else None
        if kind:
            return self._crisis(ctx, kind=kind)
        handler = self._handlers.get(self.commands.resolve(name) or "")
        if handler is not None:
            return handler(ctx, arg)
        ctx.out.append(Outbound(self.content.text("unknown_command"), self._nav(ctx), kind="info"))
        self._current(ctx)
        return "unknown_command"

    def _start(self, ctx: Ctx, arg: str) -> str:
        s = ctx.s
        area = self._area_from_words(arg)
        keep_who = ctx.defaults.who
        s.who, s.flow, s.node, s.answers, s.hints = keep_who, None, None, [], []
        s.area = area or ctx.defaults.area
        self._current(ctx, welcome=True)
        return "start"

    def _hello(self, ctx: Ctx, arg: str) -> str:
        """A greeting: say hello and show where we are, without losing anyone's place."""
        self._current(ctx, welcome=True)
        return "hello"

    def _thanks(self, ctx: Ctx, arg: str) -> str:
        """Thanks: a kind word back and the ways on, without losing anyone's place."""
        ctx.out.append(Outbound(self.content.text(f"thanks_{ctx.s.who or 'unknown'}"), self._nav(ctx), kind="info"))
        return "thanks"

    def _help(self, ctx: Ctx, arg: str) -> str:
        ctx.out.append(Outbound(self.content.text("help"), self._nav(ctx), kind="info"))
        ctx.help = True
        return "help"

    def _forget(self, ctx: Ctx, arg: str) -> str:
        ctx.out.append(Outbound(self.content.text("forgotten"), kind="farewell"))
        ctx.ending = "forget"
        return "forget"

    def _exit(self, ctx: Ctx, arg: str) -> str:
        ctx.out.append(Outbound(self.content.text("quick_exit"), kind="farewell"))
        ctx.ending = "exit"
        return "exit"

    def _triage(self, ctx: Ctx, arg: str) -> str:
        s = ctx.s
        area = self._area_from_words(arg)
        s.who, s.flow, s.node, s.answers, s.hints = "practitioner", None, None, [], []
        s.area = area or s.area or ctx.defaults.area
        self._current(ctx)
        return "start"
