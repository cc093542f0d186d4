"""Shared helpers: the machine description, result rows, percentiles, subprocess environment, free ports."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import socket
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LIBRARIES = (
    "python-telegram-bot",
    "slack-bolt",
    "slack-sdk",
    "aiohttp",
    "httpx",
    "transitions",
    "pydantic",
    "PyYAML",
    "rapidfuzz",
    "holidays",
)


@dataclass
class Row:
    """One line of the results table."""

    section: str
    metric: str
    value: str
    target: str = ""
    verdict: str = ""  # "ok", "MISS" or "" (no target)
    note: str = ""


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, metric: str, value: str, target: str = "", ok: bool | None = None, note: str = "") -> None:
        verdict = "" if ok is None else ("ok" if ok else "MISS")
        self.rows.append(Row(self.title, metric, value, target, verdict, note))


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def machine() -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    return [
        ("CPU", cpu_model()),
        ("Cores", f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable)"),
        ("Memory", f"{mem_kb / 1024 / 1024:.1f} GiB" if mem_kb else "unknown"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in versions().items())),
        ("ypsi-bot commit", git_commit()),
        ("Load average at start (1/5/15 min)", load),
    ]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a bot subprocess: the repository importable, no stray tokens, no .env surprises."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "YPSI_", "REDIS_"))}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def ypsi_command() -> list[str]:
    """How to start ``ypsi-bot``: the installed console script if there is one, else ``python -m adapters``."""
    script = Path(PYTHON).parent / "ypsi-bot"
    return [str(script)] if script.exists() else [PYTHON, "-m", "adapters"]


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def cpu_pressure_seconds() -> float | None:
    """Linux PSI: total seconds during which some runnable task waited for a CPU (None if unavailable)."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies from /proc/stat: time the hypervisor gave this VM's CPUs to someone else."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields)
