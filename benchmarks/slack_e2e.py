"""Part 3: Slack end to end. Signed slash commands and block actions sent over loopback HTTP to the real
``ypsi-bot slack --http`` process, beside a minimal Bolt echo app (:mod:`benchmarks.echo_slack`).

Three processes: this load generator; the fake Slack Web API (:class:`~benchmarks.fakes.TimedSlack`, in its
own process so that its work does not delay the load generator's clocks); the app under test.

Load: a bounded aiohttp client with a fixed number of workers (each with at most one request in flight)
and a bounded number of requests. A triage conversation is 7 requests from one user: ``/ypsi triage kent`` (form
body, signed) then 6 ``block_actions`` button presses in the user's DM (``payload=`` JSON, signed), each sent
when the previous one was acknowledged. Measured:

- acknowledgement time: request sent → HTTP response received, at the client;
- requests per second acknowledged (first request sent → last response);
- requests per second completed: until the app's last Web API call reached the fake, since both apps
  acknowledge first and do the work after (``process_before_response=False``).

ypsi-bot's work per slash command: conversations.open, chat.postMessage (the question in the DM) and a
response_url post (the ephemeral "see your DM" note); per button: one chat.update (the pressed question edited
in place into the next question or the outcome). The echo app posts one chat.postMessage per request.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from benchmarks.common import PYTHON, ROOT, Section, child_env, fmt_int, free_port, median, percentile, ypsi_command
from benchmarks.fakes.slack_api import block_action_payload, signed_headers, slash_command_payload
from benchmarks.startup import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, bot_env, process, wait_http

ACK_TARGET_MS = 50.0
TARGET_RATIO = 0.95
ACK_RATIO_TARGET = 1.1
TEAM = "T0FAKETEAM"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Result:
    name: str
    requests: int
    ack_seconds: float  # first send → last ack
    done_seconds: float  # first send → last Web API call at the fake
    acks: list[float] = field(default_factory=list)
    unloaded_acks: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    app_cpu: float = 0.0
    fake_cpu: float = 0.0
    driver_cpu: float = 0.0
    outcomes: int = 0
    errors: int = 0

    @property
    def ack_rate(self) -> float:
        return self.requests / self.ack_seconds

    @property
    def done_rate(self) -> float:
        return self.requests / self.done_seconds


def tokens() -> list[str]:
    """The button values of the Kent triage (6 answers to its outcome), signed with the bot's secret."""
    from benchmarks.engine import build_scripts
    from benchmarks.startup import BOT_SECRET
    from bot.assistant import Assistant
    from dialogs.lint import load_content

    triage, _ = build_scripts(Assistant(load_content(), BOT_SECRET))
    return [i.action for i in triage.variants[0][1:]]


def contacts_bodies(i: int, hooks: str, n: int = 6) -> list[str]:
    """``n`` ``/ypsi contacts childline`` slash commands from user U…i, in a channel (answered ephemerally)."""
    user = f"U{i:09d}"
    return [urlencode(slash_command_payload("/ypsi", "contacts childline", user_id=user, team_id=TEAM,
                                            channel_id="C0FAKECHAN", response_url=f"{hooks}/k{i}-{n}",
                                            trigger_id=f"{i}.{k}.{uuid.uuid4().hex}"))
            for k in range(n)]


def conversation_bodies(i: int, values: Sequence[str], hooks: str) -> list[str]:
    """The 6 request bodies of conversation ``i`` (user U…i, DM D…i): a triage, or (``values`` empty)
    six ``/ypsi contacts childline``."""
    if not values:
        return contacts_bodies(i, hooks)
    user = f"U{i:09d}"
    dm = "D" + user[1:]
    bodies = [urlencode(slash_command_payload("/ypsi", "triage kent", user_id=user, team_id=TEAM,
                                              channel_id="C0FAKECHAN", response_url=f"{hooks}/c{i}",
                                              trigger_id=f"{i}.{uuid.uuid4().hex}"))]
    for n, value in enumerate(values):
        payload = block_action_payload(
            "ypsi_opt_0", value, user_id=user, team_id=TEAM, channel_id=dm,
            message_ts=f"1700000000.{i:06d}{n}", response_url=f"{hooks}/a{i}-{n}",
            trigger_id=f"{i}.{n}.{uuid.uuid4().hex}", block_id="ypsi_choices",
        )
        bodies.append(urlencode({"payload": json.dumps(payload)}))
    return bodies


async def load(url: str, conversations: list[list[str]], concurrency: int) -> tuple[list[float], dict[int, int],
                                                                                   float, float]:
    """Send every conversation's requests (in order within a conversation) with ``concurrency`` workers."""
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for c in conversations:
        queue.put_nowait(c)
    acks: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    last = 0.0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal last
        while True:
            try:
                bodies = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for body in bodies:
                headers = signed_headers(body, SLACK_SIGNING_SECRET, content_type=FORM)
                t0 = time.perf_counter()
                async with session.post(url, data=body.encode(), headers=headers) as resp:
                    await resp.read()
                    t1 = time.perf_counter()
                acks.append(t1 - t0)
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
                last = max(last, t1)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return acks, statuses, started, last


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 120.0) -> None:
    """Wait until process ``pid`` stops using CPU (its work after the acks is finished)."""
    deadline = time.perf_counter() + timeout
    before = _proc_cpu(pid)
    while time.perf_counter() < deadline:
        time.sleep(0.25)  # benchmark polling, not a test
        now = _proc_cpu(pid)
        if now - before < 0.01:
            return
        before = now


def run_app(name: str, command: Callable[[int], list[str]], n: int, warmup: int, concurrency: int,
            values: Sequence[str], progress: Callable[[str], None], unloaded: int = 10) -> Result:
    with tempfile.TemporaryDirectory(prefix="ypsi-bench-slack-") as tmp_name:
        tmp = Path(tmp_name)
        fake = subprocess.Popen([PYTHON, "-m", "benchmarks.fakes", "slack"], cwd=ROOT, env=child_env(),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert fake.stdout is not None and fake.stdin is not None
            urls = json.loads(fake.stdout.readline())
            port = free_port()
            env = bot_env(tmp, SLACK_BOT_TOKEN=SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
                          SLACK_API_URL=urls["api_url"])
            log_path = tmp / "app.log"
            hooks = urls["base_url"] + "/hooks"
            with process(command(port), env, tmp, log_path) as proc:
                wait_http(f"http://127.0.0.1:{port}/healthz", proc, log_path)
                url = f"http://127.0.0.1:{port}/slack/events"
                warm = [conversation_bodies(i, values, hooks) for i in range(warmup)]
                asyncio.run(load(url, warm, concurrency))
                convs = [conversation_bodies(warmup + i, values, hooks) for i in range(n)]
                wait_idle(proc.pid)  # the warm-up's work after its acks is done
                alone = [conversation_bodies(warmup + n + i, values, hooks) for i in range(unloaded)]
                unloaded_acks, _, _, _ = asyncio.run(load(url, alone, 1))
                wait_idle(proc.pid)
                cpu0, fake0, self0 = _proc_cpu(proc.pid), _proc_cpu(fake.pid), _self_cpu()
                acks, statuses, started, last_ack = asyncio.run(load(url, convs, concurrency))
                wait_idle(proc.pid)  # the apps work after acknowledging: let the tail reach the fake
                app_cpu = _proc_cpu(proc.pid) - cpu0
                fake_cpu, driver_cpu = _proc_cpu(fake.pid) - fake0, _self_cpu() - self0
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
                log_text = log_path.read_text(errors="replace")
            fake.stdin.close()
            times: dict[str, list[float]] = json.loads(fake.stdout.readline())["times"]
        finally:
            if fake.poll() is None:
                fake.terminate()
            fake.wait(20)
    measured = [t for ts in times.values() for t in ts if t >= started]
    done = max(measured) if measured else last_ack
    result = Result(name, len(acks), last_ack - started, max(done, last_ack) - started, acks=acks,
                    statuses=statuses)
    result.api_calls = {m: sum(1 for t in ts if t >= started) for m, ts in times.items()}
    result.app_cpu, result.fake_cpu, result.driver_cpu = app_cpu, fake_cpu, driver_cpu
    result.unloaded_acks = unloaded_acks
    result.outcomes = max(0, sum(1 for line in log_text.splitlines()
                              if '"event":"slack_done"' in line and '"result":"outcome"' in line) - warmup - unloaded)
    result.errors = sum(1 for line in log_text.splitlines() if '"level":"error"' in line or "Traceback" in line)
    progress(f"  slack {name:9s}: {result.ack_rate:6,.0f} req/s acked, {result.done_rate:6,.0f} req/s completed; "
             f"ack p50 {median(acks) * 1000:.1f} ms p99 {percentile(acks, 99) * 1000:.1f} ms; "
             f"CPU: app {app_cpu / result.done_seconds:.0%}, fake {fake_cpu / result.done_seconds:.0%}, "
             f"load generator {driver_cpu / result.done_seconds:.0%}; outcomes {result.outcomes}; "
             f"errors {result.errors}")
    return result


def run(quick: bool = False, progress: Callable[[str], None] = print, concurrency: int = 16,
        scenarios: Sequence[str] = ("triage", "contacts")) -> Section:
    n = 60 if quick else 500
    warmup = 10 if quick else 30
    rounds = 1 if quick else 2

    def ours(port: int) -> list[str]:
        return [*ypsi_command(), "slack", "--http", "--port", str(port)]

    def echo(port: int) -> list[str]:
        return [PYTHON, str(ROOT / "benchmarks" / "echo_slack.py"), str(port)]

    section = Section("3. Slack end to end")
    for scenario in scenarios:
        values = tokens() if scenario == "triage" else []
        results: dict[str, list[Result]] = {"ypsi-bot": [], "echo": []}
        for _ in range(rounds):
            results["ypsi-bot"].append(run_app("ypsi-bot", ours, n, warmup, concurrency, values, progress))
            results["echo"].append(run_app("echo", echo, n, warmup, concurrency, values, progress))
        add_rows(section, scenario, {k: max(v, key=lambda r: r.done_rate) for k, v in results.items()},
                 concurrency, rounds)
    section.notes.append(
        f"{concurrency} client workers over keep-alive connections, each with one request in flight; conversations "
        "of 7 (triage) or 6 (contacts) requests, the next sent when the previous was acknowledged: "
        "triage = `/ypsi triage kent` + 6 button presses in the DM; contacts = 6 × `/ypsi contacts childline` in "
        "a channel (answered ephemerally through the response_url). Fake Web API in its own process; apps log to "
        "a file (ypsi-bot: JSON lines at INFO)."
    )
    return section


def add_rows(section: Section, scenario: str, best: dict[str, Result], concurrency: int, rounds: int) -> None:
    for key, label in (("ypsi-bot", "ypsi-bot slack --http"), ("echo", "Bolt echo app (baseline)")):
        r = best[key]
        p99 = percentile(r.acks, 99) * 1000
        ok_statuses = r.statuses.get(200, 0) == r.requests
        calls = ", ".join(f"{m} {c:,}" for m, c in sorted(r.api_calls.items()))
        section.add(
            f"{scenario}: {label}: ack time p50 / p99 ({r.requests:,} requests, {concurrency} concurrent)",
            f"{median(r.acks) * 1000:.1f} / {p99:.1f} ms",
            f"p99 < {ACK_TARGET_MS:.0f} ms" if key == "ypsi-bot" else "",
            p99 < ACK_TARGET_MS if key == "ypsi-bot" else None,
            f"max {max(r.acks) * 1000:.0f} ms; HTTP statuses {dict(sorted(r.statuses.items()))}"
            + ("" if ok_statuses else " (NOT all 200)")
            + f"; one request at a time: p50 {median(r.unloaded_acks) * 1000:.1f} / p99 "
            f"{percentile(r.unloaded_acks, 99) * 1000:.1f} ms",
        )
        section.add(
            f"{scenario}: {label}: requests/s acknowledged / completed",
            f"{fmt_int(r.ack_rate)} / {fmt_int(r.done_rate)}",
            "",
            None,
            f"app CPU {r.app_cpu / r.requests * 1000:.1f} ms per request, "
            f"{r.app_cpu / r.done_seconds:.0%} of a core; fake Web API {r.fake_cpu / r.done_seconds:.0%}, "
            f"load generator {r.driver_cpu / r.done_seconds:.0%}; Web API calls: {calls} "
            f"({sum(r.api_calls.values()) / r.requests:.2f} per request)"
            + (f"; triage outcomes reached {r.outcomes:,} of {r.requests // 7:,}"
               if key == "ypsi-bot" and scenario == "triage" else "")
            + (f"; errors logged {r.errors}" if key == "ypsi-bot" else ""),
        )
    ours, echo = best["ypsi-bot"], best["echo"]
    ratio = ours.done_rate / echo.done_rate
    ack_ratio = ours.ack_rate / echo.ack_rate
    section.add(f"{scenario}: ypsi-bot ÷ echo, requests/s completed", f"{ratio:.2f}", f"≥ {TARGET_RATIO}",
                ratio >= TARGET_RATIO, f"acknowledged: {ack_ratio:.2f}; best of {rounds} alternating runs each")
    p99_ratio = percentile(ours.acks, 99) / percentile(echo.acks, 99)
    section.add(f"{scenario}: ypsi-bot ÷ echo, ack p99 ({concurrency} concurrent)", f"{p99_ratio:.2f}",
                f"≤ {ACK_RATIO_TARGET}", p99_ratio <= ACK_RATIO_TARGET,
                f"p50: {median(ours.acks) / median(echo.acks):.2f}")


if __name__ == "__main__":
    import sys

    only = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--scenario=")]
    sec = run(quick="--quick" in sys.argv, scenarios=only or ("triage", "contacts"))
    for row in sec.rows:
        print(row)
