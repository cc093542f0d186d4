"""Fairness under a flood (issue 11): one user sends 200 DMs of 40,000 characters at once while another user
types ``/ypsi help`` every 100 ms. Measured: the other user's ack time (request sent → HTTP response), and when
their help answer reached the fake's ``response_url``; how many replies the flooding user got and how long the
app took to drain the flood.

Four processes: the flooding client, this driver (the other user), the fake Slack Web API
(:class:`~benchmarks.fakes.TimedSlack`) and the real ``ypsi-bot slack --http``. Nothing here asserts a time::

    .venv/bin/python -m benchmarks.slack_flood            # 200 DMs of 40,000 characters
    .venv/bin/python -m benchmarks.slack_flood --dms 50   # a smaller flood
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from benchmarks.common import PYTHON, ROOT, child_env, free_port, median, percentile, ypsi_command
from benchmarks.fakes.slack_api import event_body, im_message_event, signed_headers, slash_command_payload
from benchmarks.slack_e2e import wait_idle
from benchmarks.startup import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, bot_env, process, wait_http

TEAM = "T0FAKETEAM"
FLOODER = "U0000FLOOD"
OTHER = "U0000OTHER"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
SECRET = "benchmark-flood-secret-0123456789abcdef"  # the bot refuses secrets under 32 characters


def flood_text(n: int, size: int) -> str:
    """Words the assistant does not recognise (so every DM takes the slow path), different each time."""
    words = f"quokka{n} zebrafish lantern orchard meridian "
    return (words * (size // len(words) + 1))[:size]


async def post(session: aiohttp.ClientSession, url: str, body: str, content_type: str) -> tuple[int, float]:
    headers = signed_headers(body, SLACK_SIGNING_SECRET, content_type=content_type)
    t0 = time.perf_counter()
    async with session.post(url, data=body.encode(), headers=headers) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - t0


async def _flood(url: str, dms: int, size: int) -> tuple[dict[int, int], float]:
    bodies = [event_body(im_message_event(flood_text(i, size), user_id=FLOODER, team_id=TEAM), team_id=TEAM)
              for i in range(dms)]
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        results = await asyncio.gather(*(post(session, url, b, JSON) for b in bodies))
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return statuses, max(t for _, t in results)


def _flood_process(url: str, dms: int, size: int, conn: Connection) -> None:
    conn.send(time.perf_counter())  # starting
    conn.send(asyncio.run(_flood(url, dms, size)))
    conn.close()


async def _other_user(url: str, hooks: str, helps: int) -> tuple[list[float], list[float], dict[int, int]]:
    acks: list[float] = []
    sent_at: list[float] = []
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        for i in range(helps):
            await asyncio.sleep(0.1)  # benchmark pacing, not a test
            body = urlencode(slash_command_payload("/ypsi", "help", user_id=OTHER, team_id=TEAM,
                                                   response_url=f"{hooks}/help{i}",
                                                   trigger_id=f"{i}.help.{time.time_ns()}"))
            sent_at.append(time.perf_counter())
            status, took = await post(session, url, body, FORM)
            statuses[status] = statuses.get(status, 0) + 1
            acks.append(took)
    return acks, sent_at, statuses


def drive(url: str, hooks: str, dms: int, size: int, helps: int) -> dict[str, object]:
    """The flood from its own process (so that sending it does not delay the other user's requests at the
    client); the other user from this one."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    flooder = multiprocessing.get_context("fork").Process(target=_flood_process, args=(url, dms, size, theirs))
    flooder.start()
    started = ours.recv()
    acks, sent_at, statuses = asyncio.run(_other_user(url, hooks, helps))
    flood_statuses, flood_ack_max = ours.recv()
    flooder.join(60)
    return {"started": started, "acks": acks, "sent_at": sent_at, "statuses": statuses,
            "flood_statuses": flood_statuses, "flood_ack_max": flood_ack_max}


def wait_done(log_path: Path, dms: int, timeout: float = 600.0) -> None:
    """Wait until the app has logged ``slack_done`` for every DM (benchmark polling, not a test)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        text = log_path.read_text(errors="replace")
        if text.count('"event":"slack_done","kind":"message"') >= dms:
            return
        time.sleep(0.5)


def run(dms: int = 200, size: int = 40_000, helps: int = 30) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ypsi-bench-flood-") as tmp_name:
        tmp = Path(tmp_name)
        fake = subprocess.Popen([PYTHON, "-m", "benchmarks.fakes", "slack"], cwd=ROOT, env=child_env(),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert fake.stdout is not None and fake.stdin is not None
            urls = json.loads(fake.stdout.readline())
            port = free_port()
            env = bot_env(tmp, SLACK_BOT_TOKEN=SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
                          SLACK_API_URL=urls["api_url"], YPSI_SECRET=SECRET)
            log_path = tmp / "app.log"
            with process([*ypsi_command(), "slack", "--http", "--port", str(port)], env, tmp, log_path) as proc:
                wait_http(f"http://127.0.0.1:{port}/healthz", proc, log_path)
                url = f"http://127.0.0.1:{port}/slack/events"
                result = drive(url, urls["base_url"] + "/hooks", dms, size, helps)
                wait_done(log_path, dms)  # every DM answered or dropped (crisis checks run in a child process)
                wait_idle(proc.pid)
                drained = time.perf_counter()
                log_text = log_path.read_text(errors="replace")
            fake.stdin.close()
            times: dict[str, list[float]] = json.loads(fake.stdout.readline())["times"]
        finally:
            if fake.poll() is None:
                fake.terminate()
            fake.wait(20)
    lines = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    done = [x for x in lines if x.get("event") == "slack_done"]
    started = float(result["started"])  # type: ignore[arg-type]
    posts = [t for t in times.get("chat.postMessage", []) if t >= started]
    result.update(
        replies_to_flooder=len(posts),
        dms_handled={r: sum(1 for x in done if x.get("kind") == "message" and x.get("result") == r)
                     for r in sorted({str(x.get("result")) for x in done if x.get("kind") == "message"})},
        last_call_s=max((t for ts in times.values() for t in ts), default=started) - started,
        drained_s=drained - started,
        errors=sum(1 for x in lines if x.get("level") == "error"),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dms", type=int, default=200)
    parser.add_argument("--size", type=int, default=40_000)
    parser.add_argument("--helps", type=int, default=30)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    r = run(args.dms, args.size, args.helps)
    acks = [a * 1000 for a in r["acks"]]  # type: ignore[attr-defined]
    print(f"flood: {args.dms} DMs x {args.size:,} characters from one user; other user: {args.helps} x /ypsi help"
          f" every 100 ms; {os.cpu_count()} CPUs, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"other user's ack: p50 {median(acks):.0f} ms, p99 {percentile(acks, 99):.0f} ms, max {max(acks):.0f} ms;"
          f" statuses {r['statuses']}")
    print(f"flood: statuses {r['flood_statuses']}, slowest ack {float(r['flood_ack_max']) * 1000:.0f} ms "  # type: ignore[arg-type]
          f"; DMs handled {r['dms_handled']}; chat.postMessage calls {r['replies_to_flooder']}")
    print(f"last Web API call {float(r['last_call_s']):.1f} s after the start; every DM handled "  # type: ignore[arg-type]
          f"{float(r['drained_s']):.1f} s after the start; errors logged {r['errors']}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
