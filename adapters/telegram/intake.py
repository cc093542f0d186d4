"""Updates in: a poison update is skipped (and confirmed), never retried forever, and never logged.

python-telegram-bot parses a whole ``getUpdates`` batch at once. One update it cannot parse (no ``date``,
a ``chat`` that is a string, ...) makes the whole batch fail: PTB logs the raw batch at CRITICAL (with
people's words, names and ids in it), does not move the offset, and fetches the same batch again at once,
for ever, so no chat is answered. :class:`ScreenedBot` reads each update of a batch on its own first: an
update that cannot be read, or that reads into the wrong types where the adapter relies on them, is
replaced by a bare ``Update(update_id)``. PTB then confirms it with the rest of the batch, and no handler
matches it. Only its ``update_id`` and top-level type are logged.

:func:`read_update` does the same for the webhook server, one update per request.

:func:`scrub_library_logs` makes sure PTB's own log lines carry no update, message text or id at any
level: their arguments are dropped (the fixed format string is kept) and an exception is reduced to its
type name, as :mod:`bot.logs` does for ours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import TimedOut
from telegram.ext import ExtBot

from bot.logs import log

#: Top-level update types Telegram can send; anything else is logged as "unknown".
_UPDATE_TYPES = frozenset(str(t) for t in Update.ALL_TYPES)


def update_id_of(data: object) -> int | None:
    """The ``update_id`` of a raw update, if it has a usable one (an integer, or digits)."""
    if not isinstance(data, dict):
        return None
    value = data.get("update_id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def update_type_of(data: object) -> str:
    """The top-level type of a raw update (``message``, ``callback_query``...), never its content."""
    if isinstance(data, dict):
        for key in data:
            if key in _UPDATE_TYPES:
                return str(key)
    return "unknown"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _message_ok(message: object) -> bool:
    if not isinstance(message, Message):
        return True  # an inaccessible message (a button under an old one) carries nothing we read
    chat, sender = message.chat, message.from_user
    return (
        _is_int(message.message_id)
        and isinstance(message.date, dt.datetime)
        and _is_int(chat.id)
        and isinstance(chat.type, str)
        and (sender is None or _is_int(sender.id))
        and _optional_str(message.text)
        and _optional_str(message.caption)
    )


def usable(update: Update) -> bool:
    """Whether the fields the adapter reads have the types it expects (PTB checks no types itself)."""
    if not _is_int(update.update_id):
        return False
    for message in (update.message, update.edited_message, update.channel_post, update.edited_channel_post):
        if message is not None and not _message_ok(message):
            return False
    query = update.callback_query
    if query is not None:
        sender = query.from_user
        if not (isinstance(query.id, str) and sender is not None and _is_int(sender.id) and _optional_str(query.data)):
            return False
        if query.message is not None and not _message_ok(query.message):
            return False
    user = update.effective_user
    return user is None or _is_int(user.id)


def _skipped(update_id: int | None, data: object, exc: BaseException | None) -> None:
    log(
        "telegram_update_skipped",
        level=logging.WARNING,
        update_id=update_id,
        type=update_type_of(data),
        error=type(exc).__name__ if exc is not None else "wrong types",
    )


def _check(data: object, bot: Bot) -> tuple[int | None, Update | None]:
    """``(update_id, update)``; the update is ``None`` when ``data`` is poison (and it is logged)."""
    update_id = update_id_of(data)
    if update_id is None:
        _skipped(None, data, None)
        return None, None
    assert isinstance(data, dict)
    if data["update_id"] != update_id:  # "12" as a string: an int, for PTB's offset arithmetic
        data = {**data, "update_id": update_id}
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # whatever PTB raises on a shape it does not expect
        _skipped(update_id, data, exc)
        return update_id, None
    try:
        ok = usable(update)
    except Exception as exc:  # a missing part PTB left as None, say
        _skipped(update_id, data, exc)
        return update_id, None
    if not ok:
        _skipped(update_id, data, None)
        return update_id, None
    return update_id, update


def read_update(data: object, bot: Bot) -> Update | None:
    """``data`` as an Update; a bare ``Update(update_id)`` if it is poison; ``None`` if it has no id."""
    update_id, update = _check(data, bot)
    if update_id is None:
        return None
    return update if update is not None else Update(update_id)


def screen_batch(result: list[Any], bot: Bot) -> list[Any]:
    """A getUpdates result with each poison update replaced by ``{"update_id": n}`` (confirmable).

    An item without a usable ``update_id`` is dropped: it cannot be confirmed on its own, but the next
    good update's id confirms it (Telegram's ids increase within a batch).
    """
    screened: list[Any] = []
    for data in result:
        update_id, update = _check(data, bot)
        if update_id is None:
            continue
        if update is None:
            screened.append({"update_id": update_id})
        elif data["update_id"] != update_id:
            screened.append({**data, "update_id": update_id})
        else:
            screened.append(data)
    return screened


class ScreenedBot(ExtBot[None]):
    """An ExtBot whose ``getUpdates`` answers never contain an update PTB cannot parse, and which lets at most
    ``max_in_flight`` other Bot API calls into the HTTP client at once.

    The limit is for speed: httpcore's connection pool looks at every open connection and every waiting
    request each time a request starts or ends (and asks the kernel whether each idle socket is readable), so
    with 256 calls in flight about half of the process's CPU went to that bookkeeping. Calls beyond the limit
    wait here, in an ``asyncio.Semaphore`` that costs nothing per waiter; one that waits longer than
    ``pool_timeout`` seconds fails as PTB's own pool timeout does (:class:`~telegram.error.TimedOut`, which
    the adapter retries). ``getUpdates`` has its own client and never waits here.
    """

    def __init__(self, *args: Any, max_in_flight: int = 32, pool_timeout: float = 10.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._gate_timeout = pool_timeout

    async def _do_post(
        self,
        endpoint: str,
        data: dict[str, Any],
        *,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        post = super()._do_post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if endpoint == "getUpdates":
            result = await post
            return screen_batch(result, self) if isinstance(result, list) else result
        try:
            async with asyncio.timeout(self._gate_timeout):
                await self._in_flight.acquire()
        except TimeoutError:
            post.close()
            raise TimedOut("Pool timeout: too many Bot API calls in flight") from None
        try:
            return await post
        finally:
            self._in_flight.release()


# ------------------------------------------------------------------------------------------ logs


class ScrubLibraryRecords(logging.Filter):
    """Drop a library log record's arguments and traceback: they can hold a raw update or a message.

    The format string (fixed text in the library) stays; an exception becomes its type name in the
    record's ``fields``, which is all :class:`bot.logs.JsonLines` prints anyway. With ``prefix``, only
    records of loggers under it are touched (for use on a handler).
    """

    def __init__(self, prefix: str = ""):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if self.prefix and not (record.name == self.prefix or record.name.startswith(self.prefix + ".")):
            return True
        if record.args:
            record.msg, record.args = str(record.msg), None
        if record.exc_info and record.exc_info[0] is not None:
            fields = dict(getattr(record, "fields", {}))
            fields.setdefault("error", record.exc_info[0].__name__)
            record.fields = fields
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_SCRUB = ScrubLibraryRecords()


def scrub_library_logs(prefix: str = "telegram") -> None:
    """Put the scrubbing filter on every logger PTB has created (idempotent; call after building a Bot)."""
    names = [n for n in logging.root.manager.loggerDict if n == prefix or n.startswith(prefix + ".")]
    for name in [prefix, *names]:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)


def install_handler_scrub(prefix: str = "telegram") -> None:
    """Also scrub at the root handlers, for any PTB logger created after :func:`scrub_library_logs`."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, ScrubLibraryRecords) for f in handler.filters):
            handler.addFilter(ScrubLibraryRecords(prefix))


__all__ = [
    "ScreenedBot",
    "ScrubLibraryRecords",
    "install_handler_scrub",
    "read_update",
    "screen_batch",
    "scrub_library_logs",
    "update_id_of",
    "update_type_of",
    "usable",
]
