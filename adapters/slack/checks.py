"""Crisis checks of long text in a child process, so that they never hold the GIL the event loop needs.

The Slack app's one crisis-check thread (:class:`CrisisChecker`) calls :class:`CheckProcess`,
which hands the message to a child process over a pipe and waits for the answer: the thread then waits in
``recv`` without the GIL, and the event loop, which acknowledges everyone's commands and buttons, runs freely.
The child is the same assistant (same content, same secret, so the crisis card's buttons are signed alike).
If the child cannot start, dies or fails, the check runs in the thread instead: a check is never skipped.

This module imports only the assistant, so the child starts quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import multiprocessing
import queue
import threading
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


class CrisisChecker:
    """One worker thread that looks for crisis words in long or extra text, away from the event loop: text of
    turns in progress first (``urgent``), then a flood's extra messages. One thread only: more would take
    the GIL from the event loop more often. Started on first use."""

    def __init__(self, check: Callable[[Inbound], Outbound | None]):
        self._check = check
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    async def __call__(self, inbound: Inbound, *, urgent: bool) -> Outbound | None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="ypsi-slack-crisis", daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outbound | None] = loop.create_future()
        self._queue.put((0 if urgent else 1, next(self._order), (inbound, loop, future)))
        return await future

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put((-1, -1, None))
            self._thread = None

    def _work(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            inbound, loop, future = job
            try:
                found: Outbound | None | BaseException = self._check(inbound)
            except BaseException as exc:  # handed to the waiting turn
                found = exc
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, future, found)


def _settle(future: asyncio.Future[Outbound | None], found: Outbound | None | BaseException) -> None:
    if future.done():
        return
    if isinstance(found, BaseException):
        future.set_exception(found)
    else:
        future.set_result(found)

