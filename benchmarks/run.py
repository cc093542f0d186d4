"""Run every benchmark and print one table: ``python -m benchmarks.run [--quick] [--only engine,slack]``.

Writes the same markdown to ``benchmarks/results.md`` (unless ``--no-write``). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import timeit
import traceback
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Section, cpu_pressure_seconds, cpu_times, machine  # noqa: E402

SECTIONS = ("engine", "telegram", "slack", "memory", "startup")


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def calibration() -> str:
    """A tiny CPU yardstick, so that numbers from different machines can be compared."""
    best = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000
    return f"sum(range(1000)) takes {best * 1e6:.1f} µs (best of 5)"


def _run_section(name: str, quick: bool) -> Section:
    if name == "engine":
        from benchmarks import engine

        return engine.run(quick=quick, progress=_progress)
    if name == "telegram":
        from benchmarks import telegram_e2e

        return telegram_e2e.run(quick=quick, progress=_progress)
    if name == "slack":
        from benchmarks import slack_e2e

        return slack_e2e.run(quick=quick, progress=_progress)
    if name == "memory":
        from benchmarks import memory

        return memory.run(quick=quick, progress=_progress)
    if name == "startup":
        from benchmarks import startup

        return startup.run(quick=quick, progress=_progress)
    raise ValueError(name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(sections: list[Section], info: list[tuple[str, str]], header: str) -> str:
    lines = ["# ypsi-bot benchmarks", "", header, "", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in info]
    lines += ["", "## Results", "", "| Benchmark | Metric | Result | Target | Met | Notes |"]
    lines += ["|---|---|---|---|---|---|"]
    for sec in sections:
        for row in sec.rows:
            lines.append(
                f"| {_cell(row.section)} | {_cell(row.metric)} | {_cell(row.value)} | {_cell(row.target)} | "
                f"{row.verdict} | {_cell(row.note)} |"
            )
    notes = [(sec.title, n) for sec in sections for n in sec.notes]
    if notes:
        lines += ["", "## How each was measured", ""]
        lines += [f"- **{title}.** {n}" for title, n in notes]
    misses = [r for sec in sections for r in sec.rows if r.verdict == "MISS"]
    lines += ["", f"Targets missed: {len(misses)}" + (": " + "; ".join(f"{r.section}: {r.metric}" for r in misses)
                                                      if misses else "."), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs, about a minute in all")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(SECTIONS)}")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/results.md alone")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.md"), help="where to write")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    os.chdir(ROOT)
    started, psi_start, jiffies_start = time.perf_counter(), cpu_pressure_seconds(), cpu_times()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    info.append(("CPU yardstick", calibration()))
    _progress(f"benchmarks ({'quick' if args.quick else 'full'}): {', '.join(chosen)}")
    sections: list[Section] = []
    for name in chosen:
        _progress(f"- {name}")
        t0, psi0 = time.perf_counter(), cpu_pressure_seconds()
        try:
            section = _run_section(name, args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others' results
            traceback.print_exc(file=sys.stderr)
            section = Section(name)
            section.add("did not complete", f"{type(exc).__name__}: {str(exc)[:200]}", ok=False)
        wall, psi1 = time.perf_counter() - t0, cpu_pressure_seconds()
        contention = f"; CPU pressure (PSI 'some') {(psi1 - psi0) / wall:.0%} of the time" if psi0 and psi1 else ""
        section.notes.append(f"took {wall:.0f} s{contention}.")
        sections.append(section)
    took = time.perf_counter() - started
    psi_end = cpu_pressure_seconds()
    if psi_start is not None and psi_end is not None:
        info.append(("CPU pressure during the run", f"{(psi_end - psi_start) / took:.0%} of the time some task waited "
                     "for a CPU (Linux PSI; other work on the machine makes the numbers slower and noisier)"))
    jiffies_end = cpu_times()
    if jiffies_start is not None and jiffies_end is not None and jiffies_end[1] > jiffies_start[1]:
        steal = (jiffies_end[0] - jiffies_start[0]) / (jiffies_end[1] - jiffies_start[1])
        info.append(("CPU steal during the run", f"{steal:.1%} (time the hypervisor ran something else)"))
    info.append(("Load average at end (1/5/15 min)", " / ".join(f"{x:.2f}" for x in os.getloadavg())))
    mode = "`python -m benchmarks.run --quick`" if args.quick else "`python -m benchmarks.run`"
    if args.only:
        mode += f" `--only {args.only}`"
    header = f"Run {when} with {mode}; took {took / 60:.1f} min."
    text = render(sections, info, header)
    print(text)
    if not args.no_write:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        _progress(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
