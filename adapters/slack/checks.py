"""Crisis checks of long text in a child process, so that they never hold the GIL the event loop needs.

The Slack app's one crisis-check thread (``adapters.slack.app.CrisisChecker``) calls :class:`CheckProcess`,
which hands the message to a child process over a pipe and waits for the answer: the thread then waits in
``recv`` without the GIL, and the event loop, which acknowledges everyone's commands and buttons, runs freely.
The child is the same assistant (same content, same secret, so the crisis card's buttons are signed alike).
If the child cannot start, dies or fails, the check runs in the thread instead: a check is never skipped.

This module imports only the assistant, so the child starts quickly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bot.assistant import Assistant
from bot.logs import log, log_error
from bot.types import Inbound, Outbound
from dialogs.content import Content

Check = Callable[[Inbound, dt.datetime], Outbound | None]


class CheckProcess:
    """Runs ``Assistant.crisis_card`` in a child process (started on first use, restarted after a failure)."""

    def __init__(self, content: Content, secret: str, fallback: Check):
        self._args = (content, secret)
        self._fallback = fallback
        self._conn: Connection | None = None
        self._proc: BaseProcess | None = None
        self.failures = 0

    def __call__(self, inbound: Inbound, now: dt.datetime) -> Outbound | None:
        if self.failures < 3:
            try:
                conn = self._start()
                conn.send((inbound, now))
                ok, value = conn.recv()
                if ok:
                    card: Outbound | None = value
                    return card
                log("slack_check_process_error", error=str(value)[:40])
            except Exception as exc:  # the child died or could not start: check here instead
                self.failures += 1
                log_error("slack_check_process_failed", exc, failures=self.failures)
                self.close()
        return self._fallback(inbound, now)

    def _start(self) -> Connection:
        if self._conn is None:
            ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: safe beside threads and a loop
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=serve_checks, args=(child, *self._args), name="ypsi-slack-checks", daemon=True)
            proc.start()
            child.close()
            self._conn, self._proc = parent, proc
        return self._conn

    def close(self) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        if conn is not None:
            with contextlib.suppress(Exception):  # already gone
                conn.send(None)
            conn.close()
        if proc is not None:
            proc.join(2)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)


def serve_checks(conn: Connection, content: Content, secret: str) -> None:
    """The child: answer crisis checks until the pipe closes or ``None`` comes."""
    assistant = Assistant(content, secret)
    while True:
        try:
            job: Any = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        inbound, now = job
        try:
            conn.send((True, assistant.crisis_card(inbound, now)))
        except Exception as exc:  # the parent checks again itself
            conn.send((False, type(exc).__name__))
