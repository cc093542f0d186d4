"""Structured logs as JSON lines: event names, counts and hashed keys only.

Never pass message text, raw user or chat ids, or tokens to these functions. httpx (used by
python-telegram-bot) logs every request URL, which contains the bot token, at INFO: it is held at WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_LOGGER = logging.getLogger("ypsi")
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode  # built once, not per line
_NOISY = ("httpx", "httpcore", "telegram", "slack_bolt", "slack_sdk", "aiohttp.access", "apscheduler")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: messages and tracebacks may quote user text or URLs with tokens.
            data["error"] = record.exc_info[0].__name__
        return _ENCODE(data)


def setup_logging(level: str = "INFO", stream: Any = None) -> None:
    """JSON lines on stderr; third-party loggers that may print URLs or payloads held at WARNING."""
    # A line is logged per turn: skip what the JSON lines never show (the logging HOWTO's "Optimization"):
    # caller lookup, thread, process and multiprocessing names. This halves the cost of a line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)


def log(event: str, /, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with structured ``fields`` (ids must already be hashed)."""
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, event, extra={"fields": fields})


def log_error(event: str, exc: BaseException, /, **fields: Any) -> None:
    """Log a failure by exception type only."""
    _LOGGER.error(event, extra={"fields": {**fields, "error": type(exc).__name__}})


def now_ms() -> float:
    return time.perf_counter() * 1000
