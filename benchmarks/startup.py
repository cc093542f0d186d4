"""Part 5: start-up.

5a. Process start to answer: ``ypsi-bot contacts childline``, run N times, median wall time (and the child's
    CPU time, which a busy machine inflates less).
5b. Process start to ready: ``ypsi-bot telegram`` (polling) until its first ``getUpdates`` reaches the fake
    Bot API, and ``ypsi-bot slack --http`` until ``/healthz`` answers 200 (``auth.test`` goes to the fake
    Web API).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, ROOT, Section, child_env, free_port, median, ypsi_command

CONTACTS_TARGET_S = 0.5
TELEGRAM_TOKEN = "7000000001:AAFakeTokenForBenchmarksOnly_abcdefgh"
SLACK_BOT_TOKEN = "xoxb-0000000000-benchmark-token"
SLACK_SIGNING_SECRET = "benchmark-signing-secret-0123456789"
BOT_SECRET = "benchmark-deployment-secret-of-32-characters-or-more"
READY_TIMEOUT = 60.0  # safety net only


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def contacts_once(cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds for one ``ypsi-bot contacts childline``, and its output."""
    before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run([*ypsi_command(), "contacts", "childline"], cwd=cwd, env=child_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0 or "Childline" not in proc.stdout:
        raise RuntimeError(f"contacts childline failed ({proc.returncode}): {proc.stderr[-1000:]}")
    return wall, _children_cpu() - before, proc.stdout


def bot_env(tmp: Path, **extra: str) -> dict[str, str]:
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
    env = {k: v for k, v in child_env().items() if k not in proxies}
    env.update(
        XDG_STATE_HOME=str(tmp / "state"),
        YPSI_STORE=f"sqlite://{tmp / 'state.db'}",
        YPSI_SECRET=BOT_SECRET,
        PTB_TIMEDELTA="true",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A bot process with stderr (its JSON log lines) to a file; terminated (then killed) on exit."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(15)


def telegram_ready_once(fake: Any) -> float:
    """Seconds from Popen to the bot's first getUpdates at the fake."""
    from benchmarks.fakes import stamp

    with tempfile.TemporaryDirectory(prefix="ypsi-bench-tg-") as tmp_name:
        tmp = Path(tmp_name)
        env = bot_env(tmp, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, **fake.env)
        mark = fake.mark()
        started = time.perf_counter()
        with process([*ypsi_command(), "telegram"], env, tmp, tmp / "bot.log") as proc:
            try:
                [call] = fake.wait_for_sync("getUpdates", since=mark, timeout=READY_TIMEOUT)
            except TimeoutError:
                raise RuntimeError(f"telegram bot not ready: {(tmp / 'bot.log').read_text()[-2000:]}") from None
            ready = stamp(call) - started
            if proc.poll() is not None:
                raise RuntimeError("telegram bot exited")
        return ready


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = READY_TIMEOUT) -> float:
    """Poll ``url`` until it answers 200; the time it did (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.005)  # benchmark readiness probe (not a test)
    raise RuntimeError(f"not ready within {timeout:.0f}s: {log.read_text()[-2000:]}")


def slack_ready_once(api_url: str) -> float:
    """Seconds from Popen to ``/healthz`` answering 200 for ``ypsi-bot slack --http``."""
    with tempfile.TemporaryDirectory(prefix="ypsi-bench-slack-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = bot_env(tmp, SLACK_BOT_TOKEN=SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
                      SLACK_API_URL=api_url)
        started = time.perf_counter()
        log = tmp / "bot.log"
        with process([*ypsi_command(), "slack", "--http", "--port", str(port)], env, tmp, log) as proc:
            ready = wait_http(f"http://127.0.0.1:{port}/healthz", proc, log) - started
        return ready


def run(quick: bool = False, progress: Callable[[str], None] = print, parts: tuple[str, ...] = ("5a", "5b")
        ) -> Section:
    section = Section("5. Start-up")
    runs = 3 if quick else 10
    cwd = Path(tempfile.gettempdir())
    if "5a" in parts:
        contacts_once(cwd)  # warm the page cache and .pyc files; not counted
        samples = [contacts_once(cwd) for _ in range(runs)]
        walls = [w for w, _, _ in samples]
        cpus = [c for _, c, _ in samples]
        progress(f"  start-up contacts childline: median {median(walls) * 1000:.0f} ms wall, "
                 f"{median(cpus) * 1000:.0f} ms CPU")
        cmd = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(ypsi_command()))
        section.add(
            "`ypsi-bot contacts childline`, process start to answer (median of "
            f"{runs})",
            f"{median(walls) * 1000:.0f} ms",
            f"≤ {CONTACTS_TARGET_S * 1000:.0f} ms",
            median(walls) <= CONTACTS_TARGET_S,
            f"min {min(walls) * 1000:.0f} / max {max(walls) * 1000:.0f} ms; CPU (user+sys) median "
            f"{median(cpus) * 1000:.0f} ms; ran `{cmd} contacts childline`",
        )
    if "5b" in parts:
        ready_runs = 2 if quick else 5
        tg = telegram_ready(ready_runs)
        progress(f"  start-up telegram ready: median {median(tg) * 1000:.0f} ms")
        section.add(f"`ypsi-bot telegram`, process start → first getUpdates (median of {ready_runs})",
                    f"{median(tg) * 1000:.0f} ms", "", None,
                    f"min {min(tg) * 1000:.0f} / max {max(tg) * 1000:.0f} ms; getMe and setMyCommands come first")
        sl = slack_ready(ready_runs)
        progress(f"  start-up slack ready: median {median(sl) * 1000:.0f} ms")
        section.add(f"`ypsi-bot slack --http`, process start → /healthz 200 (median of {ready_runs})",
                    f"{median(sl) * 1000:.0f} ms", "", None,
                    f"min {min(sl) * 1000:.0f} / max {max(sl) * 1000:.0f} ms; auth.test to the fake Web API first")
    return section


def telegram_ready(runs: int) -> list[float]:
    from benchmarks.fakes import TimedTelegram

    fake = TimedTelegram.run_in_thread()
    try:
        return [telegram_ready_once(fake) for _ in range(runs)]
    finally:
        fake.stop()


def slack_ready(runs: int) -> list[float]:
    from benchmarks.fakes import slack_fake_in_thread

    with slack_fake_in_thread() as api_url:
        return [slack_ready_once(api_url) for _ in range(runs)]


if __name__ == "__main__":
    import sys

    os.chdir(ROOT)
    sec = run(quick="--quick" in sys.argv)
    for row in sec.rows:
        print(row)
    _ = PYTHON
