"""Part 2: Telegram end to end. The real ``ypsi-bot telegram`` process against the loopback fake Bot API,
beside a minimal python-telegram-bot echo bot (:mod:`benchmarks.echo_telegram`) against the same fake.

Each bot runs as a subprocess polling a :class:`~benchmarks.fakes.TimedTelegram` that lives in this process's
event loop. A conversation is 6 updates in one private chat: ``/triage kent``, then 5 button presses on the
menu the bot sent (no, no, yes, 13 to 17, low or medium → outcome). The next update of a conversation is
pushed as soon as the reply it answers has arrived at the fake, as a (very fast) user would.

Latency of an update = from the moment it is pushed into the fake (available to getUpdates) to the moment the
fake receives the reply: the ``sendMessage``/``editMessageText`` that carries the next menu (for the last turn,
the first message of the outcome). The fake stamps calls on arrival, so the driver's own scheduling does not
count.

Phases, per bot: a warm-up (not counted); *unloaded*: conversations one at a time (latency with no queue);
*load*: N conversations all at once, as fast as the bot takes them (updates handled per second, and latency
under load, which is mostly time spent queued behind other chats' updates).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, ROOT, Section, fmt_int, median, percentile, ypsi_command
from benchmarks.fakes import TimedTelegram, stamp
from benchmarks.fakes.telegram_api import Call
from benchmarks.startup import BOT_SECRET, TELEGRAM_TOKEN, bot_env

TARGET_RATIO = 0.95  # issue 15
REPLIES = ("sendMessage", "editMessageText")
WAIT = 300.0  # safety net per reply; never a speed assertion
FIRST_CHAT = 5_000_000


@dataclass
class Step:
    kind: str  # "command" | "button"
    data: str = ""  # callback data for a button
    expect: str | None = None  # callback data the reply must offer (our bot), so we know it is the menu


@dataclass
class Phase:
    name: str
    conversations: int
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    bot_cpu: float = 0.0
    driver_cpu: float = 0.0
    calls: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0


@dataclass
class BotRun:
    name: str
    phases: dict[str, Phase]
    errors: int
    log_lines: int


def our_steps() -> list[Step]:
    """The Kent triage as Telegram updates; button data from an Assistant with the bot's secret."""
    from benchmarks.engine import build_scripts
    from bot.assistant import Assistant
    from dialogs.lint import load_content

    triage, _ = build_scripts(Assistant(load_content(), BOT_SECRET))
    tokens = [i.action for i in triage.variants[0][1:]]
    steps = [Step("command", expect=tokens[0])]
    for i, token in enumerate(tokens):
        steps.append(Step("button", token, tokens[i + 1] if i + 1 < len(tokens) else None))
    return steps


def _offers(call: Call, data: str) -> bool:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return False
    return any(b.get("callback_data") == data for row in markup.get("inline_keyboard", []) for b in row)


def _menu_id(tg: TimedTelegram, chat: int, call: Call, data: str | None) -> int:
    if call.method == "editMessageText":
        return int(call.params["message_id"])
    for message in reversed(tg.sent_messages(chat)):
        markup = message.get("reply_markup") or {}
        if data is None or any(b.get("callback_data") == data for row in markup.get("inline_keyboard", [])
                               for b in row):
            return int(message["message_id"])
    raise LookupError("menu message not found")


async def conversation(tg: TimedTelegram, chat: int, steps: Sequence[Step], latencies: list[float]) -> float:
    """Run one conversation; returns the arrival time of its last reply."""
    menu = 0
    last = 0.0
    for step in steps:
        mark = tg.mark()
        expect = step.expect

        def done(call: Call, expect: str | None = expect) -> bool:
            return call.method in REPLIES and (expect is None or _offers(call, expect))

        pushed = time.perf_counter()
        if step.kind == "command":
            tg.push_command(chat, chat, "triage", "kent")
        else:
            tg.push_callback(chat, chat, menu, step.data)
        [call] = await tg.wait_for(done, chat_id=chat, since=mark, timeout=WAIT)
        last = stamp(call)
        latencies.append(last - pushed)
        menu = _menu_id(tg, chat, call, expect)
    return last


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run_phase(tg: TimedTelegram, pid: int, name: str, first_chat: int, n: int, steps: Sequence[Step],
                    concurrent: bool) -> Phase:
    phase = Phase(name, n)
    calls_before = tg.mark()
    cpu0, self0 = _proc_cpu(pid), _self_cpu()
    started = time.perf_counter()
    if concurrent:
        ends = await asyncio.gather(*(conversation(tg, first_chat + i, steps, phase.latencies) for i in range(n)))
        end = max(ends)
    else:
        end = started
        for i in range(n):
            end = await conversation(tg, first_chat + i, steps, phase.latencies)
    phase.seconds = end - started
    phase.updates = n * len(steps)
    phase.bot_cpu, phase.driver_cpu = _proc_cpu(pid) - cpu0, _self_cpu() - self0
    phase.calls = tg.mark() - calls_before
    return phase


async def run_bot(name: str, command: list[str], steps: Sequence[Step], load_n: int, unloaded_n: int,
                  progress: Callable[[str], None]) -> BotRun:
    with tempfile.TemporaryDirectory(prefix="ypsi-bench-tg-") as tmp_name:
        tmp = Path(tmp_name)
        async with TimedTelegram() as tg:
            env = bot_env(tmp, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, **tg.env)
            log_path = tmp / "bot.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
                try:
                    await tg.wait_for("getUpdates", timeout=120)
                    chat = FIRST_CHAT
                    await run_phase(tg, proc.pid, "warm-up", chat, 20, steps, concurrent=True)
                    chat += 20
                    unloaded = await run_phase(tg, proc.pid, "unloaded", chat, unloaded_n, steps, concurrent=False)
                    chat += unloaded_n
                    loaded = await run_phase(tg, proc.pid, "load", chat, load_n, steps, concurrent=True)
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
                    measured_log = log_path.stat().st_size  # errors while shutting down are not counted
                finally:
                    proc.terminate()
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(20)
            lines = log_path.read_bytes()[:measured_log].decode(errors="replace").splitlines()
    errors = sum(1 for line in lines if '"level":"error"' in line or "Traceback" in line)
    progress(f"  telegram {name:9s}: {loaded.rate:7,.0f} updates/s under load, p50 "
             f"{median(loaded.latencies) * 1000:.0f} ms, p99 {percentile(loaded.latencies, 99) * 1000:.0f} ms; "
             f"unloaded p50 {median(unloaded.latencies) * 1000:.1f} ms; bot CPU {loaded.bot_cpu / loaded.seconds:.0%},"
             f" fake+driver CPU {loaded.driver_cpu / loaded.seconds:.0%}; errors {errors}")
    return BotRun(name, {"unloaded": unloaded, "load": loaded}, errors, len(lines))


def run(quick: bool = False, progress: Callable[[str], None] = print) -> Section:
    load_n = 100 if quick else 1_000
    unloaded_n = 5 if quick else 30
    rounds = 1
    steps = our_steps()
    echo_steps = [Step(s.kind, s.data) for s in steps]
    ours_cmd = [*ypsi_command(), "telegram"]
    echo_cmd = [PYTHON, str(ROOT / "benchmarks" / "echo_telegram.py")]
    ours: list[BotRun] = []
    echo: list[BotRun] = []
    for _ in range(rounds):  # alternate, so that a busy spell on the machine does not favour one
        ours.append(asyncio.run(run_bot("ypsi-bot", ours_cmd, steps, load_n, unloaded_n, progress)))
        echo.append(asyncio.run(run_bot("echo", echo_cmd, echo_steps, load_n, unloaded_n, progress)))
    best_ours = max(ours, key=lambda r: r.phases["load"].rate)
    best_echo = max(echo, key=lambda r: r.phases["load"].rate)
    section = Section("2. Telegram end to end")
    ratio = best_ours.phases["load"].rate / best_echo.phases["load"].rate
    for run_ in (best_ours, best_echo):
        ld, un = run_.phases["load"], run_.phases["unloaded"]
        label = "ypsi-bot telegram" if run_ is best_ours else "PTB echo bot (baseline)"
        section.add(
            f"{label}: updates/s, {load_n:,} conversations × {len(steps)} updates at once",
            fmt_int(ld.rate),
            "",
            None,
            f"p50 {median(ld.latencies) * 1000:.0f} ms / p99 {percentile(ld.latencies, 99) * 1000:.0f} ms under load; "
            f"bot process CPU {ld.bot_cpu / ld.seconds:.0%} of a core, fake + driver {ld.driver_cpu / ld.seconds:.0%}; "
            f"{ld.calls / ld.updates:.1f} Bot API calls per update",
        )
        section.add(
            f"{label}: latency update pushed → reply at the fake, one conversation at a time ({unloaded_n})",
            f"p50 {median(un.latencies) * 1000:.1f} ms / p99 {percentile(un.latencies, 99) * 1000:.1f} ms",
            "",
            None,
            f"bot CPU per update {un.bot_cpu / un.updates * 1000:.1f} ms",
        )
    o_ld, e_ld = best_ours.phases["load"], best_echo.phases["load"]
    cpu_ratio = (e_ld.bot_cpu / e_ld.updates) / (o_ld.bot_cpu / o_ld.updates)
    section.add("ypsi-bot ÷ echo, updates/s under load", f"{ratio:.2f}", f"≥ {TARGET_RATIO}", ratio >= TARGET_RATIO,
                f"by CPU per update (less sensitive to other load on the machine): {cpu_ratio:.2f} "
                f"({o_ld.bot_cpu / o_ld.updates * 1000:.1f} vs {e_ld.bot_cpu / e_ld.updates * 1000:.1f} ms); "
                f"errors logged by ypsi-bot: {best_ours.errors}")
    section.notes.append(
        "Conversation: /triage kent + 5 button presses (answerCallbackQuery + editMessageText each). ypsi-bot: "
        "YPSI_STORE=sqlite in a temp dir, JSON log lines at INFO to a file. Echo: PTB Application, long polling, "
        "concurrent_updates(256), sendMessage / answerCallbackQuery + editMessageText. Both poll the same fake, "
        "which runs in the benchmark process (its CPU share is shown: if it nears 100% the fake is the limit)."
    )
    return section


if __name__ == "__main__":
    import sys

    sec = run(quick="--quick" in sys.argv)
    for row in sec.rows:
        print(row)
    _: Any = None
