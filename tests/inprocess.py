"""The command line run in this process (``adapters.cli.main(argv)``), for tests where no process boundary is
under test: its exit code and what it printed, like a finished subprocess."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass

from adapters.cli import main


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def ypsi(*args: str, stdin: str = "", check: bool = True) -> Ran:
    """``ypsi-bot ARGS`` with ``stdin`` piped in (so not a terminal: plain text out)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse (--help, --version, bad usage) and the usage errors
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.stdin = saved
    if check and code != 0:
        raise AssertionError(f"ypsi-bot {' '.join(args)} exited {code}: {err.getvalue()}")
    return Ran(code, out.getvalue(), err.getvalue())
