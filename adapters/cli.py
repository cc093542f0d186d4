"""The ``ypsi-bot`` command line (also ``python -m adapters``): the composition root.

Settings, then content, then the store, then the service; then one adapter (Telegram, Slack or the console
chat) is given the service. Nothing in ``bot/`` or ``dialogs/`` imports this package.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import faulthandler
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.contacts import as_json, describe, search
from dialogs.content import Content
from dialogs.lint import check_content, load_content
from dialogs.load import ContentError

if TYPE_CHECKING:
    from bot.service import Service
    from bot.settings import Settings

# Start-up time matters for one-shot commands (`ypsi-bot contacts ...`): asyncio, pydantic-settings and the
# transitions engine are imported by the commands that use them, not here.

EXIT_USAGE = 2


def _content() -> Content:
    try:
        return load_content()
    except ContentError as exc:
        print(f"ypsi-bot: the content has problems; run `ypsi-bot content check`:\n{exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def _area_arg(content: Content, area: str | None, *, required: bool) -> str | None:
    if area is None:
        if required:
            _usage(f"--area is required; one of: {', '.join(sorted(content.areas))}")
        return None
    if area not in content.areas:
        _usage(f"unknown area {area!r}; one of: {', '.join(sorted(content.areas))}")
    return area


def _usage(message: str) -> None:
    print(f"ypsi-bot: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _parse_at(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        _usage(f"--at must be an ISO-8601 date and time such as 2026-11-21T22:30, not {value!r}")
        raise
    return at


# ------------------------------------------------------------------------------------------- triage


def cmd_triage(args: argparse.Namespace) -> int:
    content = _content()
    area = _area_arg(content, args.area, required=True)
    assert area is not None
    flow_id = args.flow or content.areas[area].practitioner_flow
    flow = content.flows.get(flow_id)
    if flow is None or flow.who != "practitioner":
        _usage(f"unknown practitioner flow {flow_id!r}")
        raise AssertionError
    answers: dict[str, str] = {}
    for item in args.answer or []:
        qid, sep, value = item.partition("=")
        q = flow.question(qid)
        if not sep or q is None:
            _usage(f"unknown question {qid!r} for flow {flow.id!r}; one of: {', '.join(x.id for x in flow.questions)}")
            raise AssertionError
        if value not in {c.id for c in q.choices}:
            _usage(f"unknown value {value!r} for {qid}; one of: {', '.join(c.id for c in q.choices)}")
        answers[qid] = value
    from bot.triage import triage

    result = triage(content, area, answers, _parse_at(args.at), flow.id)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if result["outcome"] is None:
        nq = result["next_question"]
        print(content.text("cli_still_needed", id=nq["id"], text=nq["text"], options="|".join(nq["options"])))
    else:
        print(result["record"])
    return 0


# ----------------------------------------------------------------------------------------- contacts


def cmd_contacts(args: argparse.Namespace) -> int:
    content = _content()
    area = _area_arg(content, args.area, required=False)
    at = _parse_at(args.at)
    who = args.who.replace("-", "_") if args.who else None
    matches = search(content, " ".join(args.query), area=area, at=at, limit=args.limit, who=who)
    if args.json:
        print(json.dumps([as_json(m, at) for m in matches], indent=2, ensure_ascii=False))
        return 0 if matches else 1
    if not matches:
        print(content.text("no_contacts_found"))
        return 1
    for i, m in enumerate(matches):
        old = "\n  " + content.text("cli_superseded", note=m.superseded) if m.superseded else ""
        print(("\n" if i else "") + describe(content, m.contact, at, area=m.area) + old)
    return 0


# --------------------------------------------------------------------------------------- flow, check


def cmd_flow(args: argparse.Namespace) -> int:
    from dialogs.engine import Dialogs

    content = _content()
    area = _area_arg(content, args.area, required=False)
    flows = [content.flows[content.areas[area].practitioner_flow]] if area else list(content.flows.values())
    dialogs = Dialogs(content)
    if args.format == "json":
        out = {f.id: dialogs.engine(f.id).machine_config_json() for f in flows}
        print(json.dumps(out if len(out) > 1 else next(iter(out.values())), indent=2))
    else:
        print("\n\n".join(dialogs.engine(f.id).mermaid() for f in flows))
    return 0


def cmd_content_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    content, problems = check_content(Path(args.content) if args.content else None)
    for p in problems:
        print(p, file=sys.stderr if not p.warning else sys.stdout)
    errors = [p for p in problems if not p.warning]
    if errors:
        print(f"{len(errors)} problem(s) found.", file=sys.stderr)
        return 1
    assert content is not None
    n_contacts = sum(1 for _ in content.all_contacts())
    print(
        f"Content {content.version} OK: {len(content.flows)} flows, {len(content.areas)} areas, "
        f"{n_contacts} contacts, {len(content.topics)} topics, {len(content.intents)} intents"
        + (f", {len(problems)} warning(s)" if problems else "")
        + "."
    )
    return 0


def cmd_store_stats(args: argparse.Namespace) -> int:
    import asyncio

    from bot.logs import setup_logging
    from bot.settings import load_settings
    from bot.store import StoreStartError, open_store

    settings = load_settings()
    setup_logging(settings.ypsi_log_level)  # JSON lines on stderr, e.g. a damaged file moved aside
    try:
        store = open_store(settings.ypsi_store, ttl=settings.ypsi_session_ttl)
    except StoreStartError:
        raise
    except Exception as exc:  # e.g. a folder that cannot be made: one sentence, no traceback
        print(f"ypsi-bot: cannot open the state store ({type(exc).__name__}); check YPSI_STORE.", file=sys.stderr)
        return 1

    async def run() -> dict[str, Any]:
        try:
            return (await store.stats()).as_dict() | {"healthy": await store.health()}
        finally:
            await store.close()

    try:
        stats = asyncio.run(run())
    except Exception as exc:  # unreachable Redis, unreadable file: one sentence, no traceback
        print(f"ypsi-bot: cannot read the state store ({type(exc).__name__}); check YPSI_STORE.", file=sys.stderr)
        return 1
    print(json.dumps(stats, indent=2))
    return 0


# ------------------------------------------------------------------------------------------ running


def build_service(settings: Settings, content: Content) -> Service:
    """The core every platform adapter is given: the store named by the settings, the assistant, the service."""
    from bot.assistant import Assistant
    from bot.service import Service
    from bot.settings import SettingsError
    from bot.store import open_store

    secret = settings.secret()
    try:
        store = open_store(settings.ypsi_store, ttl=settings.ypsi_session_ttl)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return Service(Assistant(content, secret), store, secret, limiter=settings.rate_limiter())


def _core(settings: Settings) -> Service:
    """Logging (opening a store may log), content, then the service."""
    from bot.logs import setup_logging

    setup_logging(settings.ypsi_log_level)
    return build_service(settings, _content())


def cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console import console_service, run_console

    content = _content()
    area = _area_arg(content, args.area, required=False)
    who = args.as_.replace("-", "_") if args.as_ else None
    return run_console(console_service(content), who=who, area=area)


def cmd_eval(args: argparse.Namespace) -> int:
    from adapters.evaluate import run_eval

    return run_eval(_content(), args.file, as_json=args.json, verbose=args.verbose)


def cmd_telegram(args: argparse.Namespace) -> int:
    return _telegram(_settings(), webhook_url=args.webhook_url, port=args.port, listen=args.listen)


def cmd_slack(args: argparse.Namespace) -> int:
    return _slack(_settings(), http=args.http, port=args.port, listen=args.listen)


def _telegram(settings: Settings, webhook_url: str | None = None, port: int = 8443, listen: str = "127.0.0.1") -> int:
    from adapters.telegram.run import run_telegram, telegram_tokens

    tokens = telegram_tokens(settings, webhook_url)  # before anything is opened or imported
    return run_telegram(settings, tokens, _core(settings), port=port, listen=listen)


def _slack(settings: Settings, *, http: bool, port: int = 3000, listen: str = "127.0.0.1") -> int:
    from adapters.slack.run import run_slack, slack_tokens

    tokens = slack_tokens(settings, http=http)
    return run_slack(settings, tokens, _core(settings), http=http, port=port, listen=listen)


def cmd_run(args: argparse.Namespace) -> int:
    """The README's run command: Telegram or Slack when their tokens are set, else the console chat."""
    settings = _settings()
    if settings.telegram_bot_token:
        return _telegram(settings)
    if settings.slack_bot_token and (settings.slack_app_token or settings.slack_signing_secret):
        return _slack(settings, http=settings.slack_app_token is None)
    args.area, args.as_ = None, None
    return cmd_chat(args)


def _settings() -> Settings:
    from bot.settings import load_settings

    try:
        return load_settings()
    except Exception as exc:  # pydantic's message names the bad variable
        print(f"ypsi-bot: a setting is not valid: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from exc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ypsi-bot",
        description="Safeguarding assistant for incidents of youth-produced sexual imagery "
        "(sharing nudes and semi-nudes). With no command: Telegram or Slack if their tokens are set, "
        "otherwise a chat in this terminal.",
    )
    p.add_argument("--version", action="version", version=f"ypsi-bot {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the bot in this terminal", description="Console chat. "
                          "Type a number or a label to choose; words like 'childline' or 'back' work too. "
                          "With stdin not a terminal it reads one input per line and prints plain text.")
    chat.add_argument("--area", help="kent, leeds or national (asked if not given)")
    chat.add_argument("--as", dest="as_", choices=["practitioner", "parent", "young-person"],
                      help="who is asking (asked if not given)")
    chat.set_defaults(func=cmd_chat)

    tri = sub.add_parser("triage", help="run a practitioner flow without a dialogue",
                         description="Decide a practitioner flow from answers, for scripting and audit. "
                         "Prints the outcome and decision record, or the next question still needed.")
    tri.add_argument("--area", help="kent, leeds or national")
    tri.add_argument("--flow", help="another practitioner flow than the area's own (a Kent school may use ukcis)")
    tri.add_argument("--answer", action="append", metavar="QUESTION=VALUE", help="an answer (repeatable)")
    tri.add_argument("--at", help="time of the decision for the record (ISO-8601; default now)")
    tri.add_argument("--json", action="store_true", help="print a JSON object")
    tri.set_defaults(func=cmd_triage)

    con = sub.add_parser("contacts", help="find a contact by name, alias or number",
                         description="Fuzzy search over contacts' names, aliases, audiences and numbers; "
                         "services open at --at rank before closed ones.")
    con.add_argument("query", nargs="*", help="e.g. childline, 'out of hours', EDT, 0113 376 0469")
    con.add_argument("--area", help="kent, leeds or national (default: every area)")
    con.add_argument("--at", help="ISO-8601 time for open/closed (default now)")
    con.add_argument("--limit", type=int, default=5, help="how many results (default 5)")
    con.add_argument("--as", dest="who", choices=["practitioner", "parent", "young-person"],
                     help="who is asking: parents and young people see no professional-only contacts")
    con.add_argument("--json", action="store_true", help="print a JSON list")
    con.set_defaults(func=cmd_contacts)

    fl = sub.add_parser("flow", help="draw a flow from its state machine",
                        description="Print each flow (or the area's practitioner flow) as mermaid or JSON.")
    fl.add_argument("--area", help="kent, leeds or national (default: every flow)")
    fl.add_argument("--format", choices=["mermaid", "json"], default="mermaid")
    fl.set_defaults(func=cmd_flow)

    content = sub.add_parser("content", help="content tools", description="Content tools.")
    csub = content.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate every content file", description="Validate content: "
                            "exits non-zero on any problem; warns on contacts not re-checked within 6 months.")
    check.add_argument("--content", metavar="DIR", help="check this content folder instead of the installed one")
    check.set_defaults(func=cmd_content_check)

    store = sub.add_parser("store", help="state store tools", description="State store tools.")
    ssub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    stats = ssub.add_parser("stats", help="count live sessions and their ages (nothing identifying)",
                            description="How many live sessions there are and their age.")
    stats.set_defaults(func=cmd_store_stats)

    tg = sub.add_parser("telegram", help="run on Telegram (long polling, or a webhook)",
                        description="Run the Telegram bot. Needs TELEGRAM_BOT_TOKEN.")
    tg.add_argument("--webhook-url", help="public HTTPS URL for webhook mode (needs TELEGRAM_WEBHOOK_SECRET)")
    tg.add_argument("--port", type=int, default=8443, help="webhook server port (default 8443)")
    tg.add_argument("--listen", default="127.0.0.1", help="webhook server address (default 127.0.0.1)")
    tg.set_defaults(func=cmd_telegram)

    sl = sub.add_parser("slack", help="run on Slack (Socket Mode, or HTTP)",
                        description="Run the Slack app. Socket Mode needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN; "
                        "--http needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN.")
    sl.add_argument("--http", action="store_true", help="serve /slack/events over HTTP instead of Socket Mode")
    sl.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    sl.add_argument("--listen", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    sl.set_defaults(func=cmd_slack)

    ev = sub.add_parser("eval", help="score a labelled phrase file: crisis recall, false positives, routing",
                        description="Score a labelled phrase file (the format of shared/tools/score-phrases) "
                        "through the console chat: crisis recall by kind, near-miss false positives, routing by "
                        "audience, and dead ends.")
    ev.add_argument("file", type=Path, help="phrase file (JSON)")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    ev.set_defaults(func=cmd_eval)

    run = sub.add_parser("run", help="Telegram or Slack if configured, else the console chat")
    run.set_defaults(func=cmd_run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # A SIGBUS or SIGSEGV from the OS (say the SQLite -shm file turned unwritable) cannot be caught; this at
    # least leaves one line and the code locations on stderr (never values: no text, no ids).
    if not faulthandler.is_enabled():
        with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):  # stderr without an fd
            faulthandler.enable()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_run
    try:
        result: int = args.func(args)
        return result
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ypsi-bot contacts | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        from bot.settings import SettingsError  # imported here: see the note at the top
        from bot.store import StoreStartError

        if not isinstance(exc, SettingsError | StoreStartError):
            raise
        print(f"ypsi-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
