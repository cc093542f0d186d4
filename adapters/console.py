"""The console adapter: a chat in the terminal, and the scriptable harness for tests.

Options are numbered (choices first, then navigation); a number or the label picks one, and anything else
is sent as typed text. Links and numbers to copy are printed as "label: address" lines, unnumbered.
With stdin not a terminal it reads one input per line and prints plain text.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import TextIO

from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.store import MemoryStore
from bot.types import ConversationRef, Inbound, Option, Outbound
from dialogs.content import Content

REF = ConversationRef("console", "console", "local", "local")


def to_inbound(line: str, options: tuple[Option, ...]) -> Inbound:
    """A typed line → what the user meant: a numbered option, a /command, or text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return Inbound("action", action=options[int(text) - 1].action)
    if text.startswith("/") and len(text) > 1:
        name, _, arg = text[1:].partition(" ")
        return Inbound("command", command=name, arg=arg.strip())
    folded = text.casefold()
    for option in options:
        if option.label.casefold() == folded:
            return Inbound("action", action=option.action)
    return Inbound("text", text=text)


def plain(out: Outbound, first_number: int = 1) -> str:
    """An outbound as plain text with numbered options."""
    lines = [f"== {out.title} ==" if out.title else "", out.text]
    lines += [f"  {o.label}: {o.url or o.copy}" for o in out.options if o.acts_here]
    choices = [o for o in out.options if not o.nav and not o.acts_here]
    nav = [o for o in out.options if o.nav and not o.acts_here]
    n = first_number
    for o in choices:
        lines.append(f"  {n}. {o.label}")
        n += 1
    if nav:
        lines.append("  " + "   ".join(f"{n + i}. {o.label}" for i, o in enumerate(nav)))
    return "\n".join(line for line in lines if line != "")


def console_service(content: Content, assistant: Assistant | None = None) -> Service:
    """The console's service: a fresh secret and a store in memory, so nothing of a chat is kept."""
    return Service(assistant or Assistant(content, secrets.token_urlsafe(16)), MemoryStore(), secrets.token_hex(8))


class ConsoleChat:
    """Holds the last options shown, so a number can pick one."""

    def __init__(self, service: Service, who: str | None = None, area: str | None = None):
        self.service = service
        self.defaults = Defaults(who=who, area=area)
        self.options: tuple[Option, ...] = ()
        self._loop = asyncio.new_event_loop()

    def send(self, inbound: Inbound) -> list[Outbound]:
        handled = self._loop.run_until_complete(self.service.handle(REF, inbound, defaults=self.defaults))
        replies = handled.reply.replies if handled.reply else []
        with_options = [r for r in replies if any(not o.acts_here for o in r.options)]
        if with_options:
            last = [o for o in with_options[-1].options if not o.acts_here]
            self.options = (*[o for o in last if not o.nav], *[o for o in last if o.nav])
        return replies

    def type(self, line: str) -> list[Outbound]:
        return self.send(to_inbound(line, self.options))

    def close(self) -> None:
        self._loop.close()


def _printer(stream: TextIO, rich_output: bool) -> object:
    if not rich_output:
        return None
    from rich.console import Console

    return Console(file=stream)


def show(replies: list[Outbound], stream: TextIO, console: object | None) -> None:
    # Numbers pick from the last reply with buttons (as ConsoleChat.send keeps them): earlier replies show only
    # their links and numbers, so that "1" never means two things on one screen.
    active = max((i for i, r in enumerate(replies) if any(not o.acts_here for o in r.options)), default=-1)
    for i, out in enumerate(replies):
        options = out.options if i == active else tuple(o for o in out.options if o.acts_here)
        body = plain(Outbound(out.text, options, out.kind))
        if console is None:
            print((f"== {out.title} ==\n" if out.title else "") + body + "\n", file=stream, flush=True)
            continue
        from rich.console import Console
        from rich.panel import Panel
        from rich.text import Text

        assert isinstance(console, Console)
        style = {"crisis": "bold red", "warning": "yellow", "outcome": "green"}.get(out.kind, "cyan")
        console.print(Panel(Text(body), title=out.title or None, border_style=style, expand=False))


def run_console(service: Service, who: str | None = None, area: str | None = None,
                stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Chat until end of input, "exit" or Ctrl-C."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    console = _printer(stdout, interactive)
    chat = ConsoleChat(service, who, area)
    try:
        show(chat.send(Inbound("command", command="start", arg=area or "")), stdout, console)
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            replies = chat.type(line)
            show(replies, stdout, console)
            if any(r.kind == "farewell" for r in replies):
                break
    except KeyboardInterrupt:
        pass
    finally:
        chat.close()
    return 0
