"""A fake Telegram Bot API server for tests, driven by the real python-telegram-bot stack.

The fake is a small aiohttp server on ``127.0.0.1`` (ephemeral port) that answers Bot API
calls the way ``api.telegram.org`` does, records every call, and lets a test push updates,
inject faults and wait for the bot's replies without sleeping.

Async use (same event loop as the code under test)::

    async with FakeTelegram() as tg:
        app = (
            Application.builder()
            .token("123456:TEST")
            .base_url(tg.base_url)            # http://127.0.0.1:PORT/bot  (PTB appends the token)
            .base_file_url(tg.base_file_url)  # http://127.0.0.1:PORT/file/bot
            .build()
        )
        ...                                   # app.initialize(), updater.start_polling(), app.start()
        mark = tg.mark()
        tg.push_text(chat_id=42, user_id=42, text="hello")
        [call] = await tg.wait_for("sendMessage", chat_id=42, since=mark)
        assert call.params["text"] == "..."

Threaded use (the bot runs in another process or thread, e.g. with ``TELEGRAM_BASE_URL``)::

    with FakeTelegram.run_in_thread() as tg:     # or: tg = FakeTelegram.run_in_thread(); tg.stop()
        env = {**os.environ, **tg.env}           # TELEGRAM_BASE_URL / TELEGRAM_BASE_FILE_URL
        ...start the bot process with env...
        tg.push_command(chat_id=42, user_id=42, command="start")
        tg.wait_for_sync("sendMessage", chat_id=42)

The test-side API, in short:

* updates: ``push_text``, ``push_command``, ``push_callback``, ``push_photo``/``_document``/
  ``_video``/``_voice``/``_sticker``/``_animation``, ``push_raw``, ``push_duplicate`` queue an
  update for ``getUpdates`` and return it; the ``make_*`` twins only build it (for webhooks:
  ``await FakeTelegram.post_update_to(url, update, secret_token=...)``).  Group chats need a
  negative ``chat_id`` and ``chat_type="group"`` or ``"supergroup"``.
* inspection: ``calls(method, chat_id=...)``, ``mark()``, ``sent_messages(chat_id)``,
  ``sent_texts(chat_id)``, ``message(chat_id, message_id)``, ``deleted_message_ids(chat_id)``,
  ``commands(scope)``, ``description(kind)``, ``pending_updates()``, ``webhook_url``.
* waiting: ``await wait_for(target, count, chat_id=..., since=...)`` in the fake's loop,
  ``wait_for_sync(...)`` from any other thread.
* faults: ``fail_next(method, 429, retry_after=1, times=N)``, ``fail_next(method, 502)``,
  ``make_undeletable(*message_ids, chat_id=...)``; ``hold_next(method)`` carries out the next call
  (it is recorded) but holds its answer until the returned event is set: a slow Telegram, without a
  clock (the client's read timeout may expire meanwhile).
* speed: ``ptb_request()`` builds a PTB request object that skips reloading the CA bundle
  (~70 ms per ``Bot``); pass it as ``request=``/``get_updates_request=``.

PTB turns an error description like "Bad Request: message can't be deleted" into
``BadRequest("Message can't be deleted")`` (prefix dropped, first letter capitalised), so match
case-insensitively.  PTB ignores ``retry_after=0`` (falsy) and raises ``NetworkError``.

What it models (see the PTB sources under ``telegram/request/``):

* Every call arrives as ``POST {base_url}{token}/{method}``; PTB form-encodes the body with
  non-string values JSON-encoded.  JSON and multipart bodies and GET query strings are also
  accepted.  Parameters are decoded (``"42"`` -> ``42``, ``reply_markup`` -> dict) except for
  parameters that are always strings in the Bot API (``text``, ``callback_query_id``, ...).
* Answers are ``{"ok": true, "result": ...}``; errors are
  ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``, which PTB maps
  to ``RetryAfter`` (429 with ``parameters.retry_after``), ``BadRequest`` (400), ``Forbidden``
  (403), ``Conflict`` (409) and ``NetworkError`` (5xx).  Injected 5xx answers are an HTML page,
  as a proxy in front of the Bot API would send.
* ``getUpdates`` is a real long poll: it returns at once when updates are queued and otherwise
  waits (on an ``asyncio.Event``, no polling) until an update is pushed or ``timeout`` expires.
  ``offset`` confirms and forgets older updates exactly as Telegram does; ``limit`` is honoured;
  ``allowed_updates`` is recorded but not applied.  ``getUpdates`` answers 409 while a webhook
  is set.
* Messages get per-chat incrementing ``message_id`` values shared by user and bot messages, as
  in a real private chat.  ``editMessageText``/``editMessageReplyMarkup`` return the edited
  message, remove the inline keyboard when no ``reply_markup`` is given (as Telegram does) and
  answer 400 "message is not modified" for a no-op edit.  ``sendMessage`` checks the 4096
  character limit (for texts without ``parse_mode``) and the 1-64 byte ``callback_data`` limit.
* ``getFile`` is answered (with a ``file_path``) and recorded, and any download from the file
  URL is recorded as the pseudo-method :data:`FILE_DOWNLOAD` and answered 404, so tests can
  assert that the bot never fetches user media: ``assert not tg.calls("getFile")``.
* Unknown methods are recorded and answered ``{"ok": true, "result": true}``.

Waiting is event-driven: :meth:`FakeTelegram.wait_for` resolves a future when the matching
call is recorded; :meth:`FakeTelegram.wait_for_sync` waits on a ``threading.Condition``.  Their
timeout is only a safety net that fails a stuck test.  Calls are indexed by method and chat,
so waiting per chat with ``since=tg.mark()`` stays cheap with thousands of conversations.

Known gaps: one update queue shared by all bot tokens; no entity parsing for ``parse_mode``;
concurrent ``getUpdates`` requests are not answered with 409; sending media is answered with
the generic ``true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import ssl
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from aiohttp import ClientSession, ClientTimeout, web

if TYPE_CHECKING:
    from telegram.request import HTTPXRequest

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "FILE_DOWNLOAD",
    "SECRET_TOKEN_HEADER",
    "Call",
    "FakeTelegram",
    "ptb_request",
]

#: Safety-net timeout (seconds) for :meth:`FakeTelegram.wait_for`; never a speed assertion.
DEFAULT_WAIT_TIMEOUT = 10.0
#: Pseudo-method under which a request to the file download URL is recorded.
FILE_DOWNLOAD = "fileDownload"
#: Header Telegram sends with webhook updates when ``setWebhook`` had a ``secret_token``.
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"

JSONDict = dict[str, Any]
ChatKey = int | str
CallPredicate = Callable[["Call"], bool]

# Bot API parameters that are always strings: never JSON-decode them ("123" stays "123").
_STRING_PARAMS = frozenset(
    {
        "action", "address", "animation", "audio", "business_connection_id", "caption",
        "callback_query_id", "currency", "custom_title", "description", "document", "emoji",
        "explanation", "file_id", "first_name", "foursquare_id", "inline_message_id",
        "invite_link", "ip_address", "language_code", "last_name", "message_effect_id", "name",
        "next_offset", "parse_mode", "payload", "phone_number", "photo", "provider_token",
        "query", "question", "secret_token", "set_name", "short_description", "start_parameter",
        "sticker", "switch_pm_parameter", "switch_pm_text", "text", "title", "url", "vcard",
        "video", "video_note", "voice",
    }
)  # fmt: skip

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
}
_MAX_TEXT_LENGTH = 4096
_MAX_CALLBACK_DATA_BYTES = 64
_MAX_DESCRIPTION = {"description": 512, "short_description": 120}
_ANY_METHOD = "*"


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded Bot API call.

    ``params`` holds the decoded parameters, ``seq`` the position in the call log (compare with
    :meth:`FakeTelegram.mark`) and ``status`` the HTTP status the fake answered with.  A call
    is recorded once its effect is applied (e.g. the sent message is stored); ``getUpdates`` is
    recorded when it arrives, so waiting for it tells that a long poll is parked in the fake.
    """

    method: str
    params: JSONDict
    token: str
    seq: int = 0
    status: int = 200

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.status == 200

    @property
    def chat_id(self) -> ChatKey | None:
        """The call's ``chat_id`` parameter, if it has a usable one."""
        return _chat_key(self.params.get("chat_id"))


class _ApiError(Exception):
    """Raised by method handlers; turned into a Telegram-style error answer."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _Fault:
    status: int
    retry_after: float
    description: str | None
    remaining: int

    def response(self) -> web.Response:
        if self.status >= 500:
            # What nginx in front of the Bot API answers: HTML, not JSON.
            try:
                title = f"{self.status} {HTTPStatus(self.status).phrase}"
            except ValueError:
                title = str(self.status)
            page = (
                f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"
            )
            return web.Response(status=self.status, text=page, content_type="text/html")
        parameters: JSONDict | None = None
        description = self.description
        if self.status == 429:
            retry = int(self.retry_after) if float(self.retry_after).is_integer() else self.retry_after
            parameters = {"retry_after": retry}
            description = description or f"Too Many Requests: retry after {retry}"
        description = description or _DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        return _ApiError(self.status, description, parameters).response()


@dataclass(slots=True)
class _QueuedUpdate:
    update_id: int
    update: JSONDict
    # Re-deliveries (push_duplicate) bypass the offset and are dropped once delivered.
    redelivery: bool = False
    delivered: bool = False


@dataclass(slots=True)
class _AsyncWaiter:
    predicate: CallPredicate | None
    needed: int
    found: list[Call]
    future: asyncio.Future[list[Call]]


@dataclass(slots=True)
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = field(default=None)


def _chat_key(value: object) -> ChatKey | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        return value
    return None


def _decode_value(name: str, value: str) -> Any:
    """Undo PTB's encoding: non-string values were JSON-encoded, strings were sent as-is."""
    if not value or name in _STRING_PARAMS:
        return value
    if value[0] in '{["-0123456789' or value in ("true", "false", "null"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _read_params(request: web.Request) -> JSONDict:
    params: JSONDict = {key: _decode_value(key, value) for key, value in request.query.items()}
    if not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise _bad_request("can't parse JSON request body") from exc
        if not isinstance(body, dict):
            raise _bad_request("request body must be a JSON object")
        params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                # Record that a file was uploaded, never its content.
                params[key] = {"filename": value.filename, "content_type": value.content_type}
            elif isinstance(value, bytes | bytearray):
                params[key] = _decode_value(key, value.decode("utf-8", "replace"))
            else:
                params[key] = _decode_value(key, value)
    return params


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _split_target(target: str | CallPredicate | None) -> tuple[str | None, CallPredicate | None]:
    if target is None:
        return None, None
    if isinstance(target, str):
        return target, None
    return None, target


def _inline_markup(markup: object) -> JSONDict | None:
    """Validate ``reply_markup``; return it if Telegram would echo it in the message."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return None  # reply keyboards / ForceReply / ReplyKeyboardRemove are not echoed
    if not isinstance(keyboard, list):
        raise _bad_request("can't parse inline keyboard button: InlineKeyboardButtons must be an Array")
    for row in keyboard:
        for button in row if isinstance(row, list) else []:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= _MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
    return markup


class FakeTelegram:
    """Fake Bot API server; see the module docstring for usage."""

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "ypsi_test_bot",
        bot_first_name: str = "YPSI Test Bot",
        first_update_id: int = 1,
    ) -> None:
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        # call log and its indexes: (method|None, chat|None) -> calls in seq order
        self._calls: list[Call] = []
        self._index: dict[tuple[str | None, ChatKey | None], list[Call]] = {(None, None): self._calls}
        self._async_waiters: dict[tuple[str | None, ChatKey | None], list[_AsyncWaiter]] = {}
        # updates
        self._next_update_id = first_update_id
        self._confirmed_below = first_update_id  # Telegram forgets updates below the last offset
        self._queue: deque[_QueuedUpdate] = deque()
        self._history: dict[int, JSONDict] = {}
        self._updates_event = asyncio.Event()
        # messages
        self._next_message_id: dict[ChatKey, int] = {}
        self._messages: dict[tuple[ChatKey, int], JSONDict] = {}
        self._sent: dict[ChatKey, list[JSONDict]] = {}
        self._deleted: dict[ChatKey, set[int]] = {}
        self._undeletable: dict[ChatKey | None, set[int]] = {}
        self._chats: dict[ChatKey, JSONDict] = {}
        self._ids = itertools.count(1)  # callback query ids and file ids
        # other state
        self._faults: dict[str, deque[_Fault]] = {}
        self._holds: dict[str, deque[asyncio.Event]] = {}
        self._webhook = _Webhook()
        self._commands: dict[str, list[JSONDict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}  # (kind, language_code) -> text
        self._handlers: dict[str, Callable[[JSONDict], object]] = {
            "getMe": self._api_get_me,
            "logOut": lambda _p: True,
            "close": lambda _p: True,
            "setWebhook": self._api_set_webhook,
            "deleteWebhook": self._api_delete_webhook,
            "getWebhookInfo": self._api_get_webhook_info,
            "sendMessage": self._api_send_message,
            "editMessageText": self._api_edit_message_text,
            "editMessageReplyMarkup": self._api_edit_message_reply_markup,
            "deleteMessage": self._api_delete_message,
            "deleteMessages": self._api_delete_messages,
            "answerCallbackQuery": lambda _p: True,
            "sendChatAction": lambda _p: True,
            "setMyCommands": self._api_set_my_commands,
            "getMyCommands": self._api_get_my_commands,
            "deleteMyCommands": self._api_delete_my_commands,
            "setMyDescription": functools.partial(self._api_set_description, "description"),
            "getMyDescription": functools.partial(self._api_get_description, "description"),
            "setMyShortDescription": functools.partial(self._api_set_description, "short_description"),
            "getMyShortDescription": functools.partial(self._api_get_description, "short_description"),
            "getFile": self._api_get_file,
        }
        self._canonical = {name.lower(): name for name in [*self._handlers, "getUpdates"]}
        # server
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Bot API base URL for PTB's ``base_url`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """File download base URL for PTB's ``base_file_url``; downloads are recorded and refused."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing a separately started bot at this fake."""
        return {"TELEGRAM_BASE_URL": self.base_url, "TELEGRAM_BASE_FILE_URL": self.base_file_url}

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    async def start(self) -> None:
        """Start serving on 127.0.0.1 at an ephemeral port, in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        self._closing = False
        self._updates_event = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll the client abandoned stops waiting at once.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Release pending long polls, fail pending waiters and stop the server."""
        self._closing = True
        self._wake_updates()
        with self._lock:
            waiters = [w for bucket in self._async_waiters.values() for w in bucket]
            self._async_waiters.clear()
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(RuntimeError("FakeTelegram closed while waiting"))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @classmethod
    def run_in_thread(cls, *, startup_timeout: float = DEFAULT_WAIT_TIMEOUT, **kwargs: Any) -> Self:
        """Start a fake in a background thread with its own event loop; stop it with :meth:`stop`.

        Everything but :meth:`wait_for` is safe to call from other threads; use
        :meth:`wait_for_sync` there.
        """
        fake = cls(**kwargs)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failures: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(fake.start())
            except BaseException as exc:  # reported to the starting thread
                failures.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=serve, name="FakeTelegram", daemon=True)
        thread.start()
        if not ready.wait(startup_timeout):
            raise TimeoutError("FakeTelegram did not start")
        if failures:
            raise failures[0]
        fake._thread = thread
        return fake

    def stop(self, timeout: float = DEFAULT_WAIT_TIMEOUT) -> None:
        """Stop a fake started with :meth:`run_in_thread` and join its thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            raise RuntimeError("stop() is for run_in_thread(); use 'await close()' instead")
        asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        if self._thread is None:
            raise RuntimeError("use 'with FakeTelegram.run_in_thread() as tg' or 'async with'")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ recorded calls

    def mark(self) -> int:
        """Position in the call log; pass as ``since=`` to consider only later calls."""
        with self._lock:
            return len(self._calls)

    def calls(self, method: str | None = None, *, chat_id: ChatKey | None = None) -> list[Call]:
        """Recorded calls, optionally only of ``method`` and/or to ``chat_id`` (failed ones too)."""
        with self._lock:
            return list(self._index.get((method, chat_id), ()))

    def sent_messages(self, chat_id: ChatKey) -> list[JSONDict]:
        """Messages successfully sent with ``sendMessage`` to ``chat_id``, as first sent."""
        with self._lock:
            return [dict(message) for message in self._sent.get(chat_id, ())]

    def sent_texts(self, chat_id: ChatKey) -> list[str]:
        """Texts of :meth:`sent_messages`."""
        return [str(message.get("text", "")) for message in self.sent_messages(chat_id)]

    def message(self, chat_id: ChatKey, message_id: int) -> JSONDict | None:
        """Current state of a message (after edits), or ``None`` if unknown or deleted."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return dict(message) if message is not None else None

    def deleted_message_ids(self, chat_id: ChatKey) -> set[int]:
        """Ids of messages deleted in ``chat_id`` through ``deleteMessage(s)``."""
        with self._lock:
            return set(self._deleted.get(chat_id, ()))

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands last set with ``setMyCommands`` for this scope and language."""
        with self._lock:
            return list(self._commands.get(self._commands_key(scope, language_code), ()))

    def description(self, kind: str = "description", language_code: str = "") -> str:
        """The bot's ``description`` or ``short_description`` as last set ("" when never set)."""
        with self._lock:
            return self._descriptions.get((kind, language_code), "")

    @property
    def webhook_url(self) -> str:
        """URL set with ``setWebhook`` ("" when none)."""
        return self._webhook.url

    def pending_updates(self) -> int:
        """Number of pushed updates not yet confirmed by a ``getUpdates`` offset."""
        with self._lock:
            return sum(1 for entry in self._queue if not self._is_confirmed(entry))

    def _record(self, method: str, params: JSONDict, token: str, status: int) -> Call:
        with self._lock:
            call = Call(method, params, token, len(self._calls), status)
            self._calls.append(call)
            chat = call.chat_id
            keys: tuple[tuple[str | None, ChatKey | None], ...] = (
                ((method, None), (None, chat), (method, chat)) if chat is not None else ((method, None),)
            )
            for key in keys:
                self._index.setdefault(key, []).append(call)
            self._cond.notify_all()
            if self._async_waiters:
                self._notify_async_waiters(call, ((None, None), *keys))
        return call

    def _notify_async_waiters(self, call: Call, keys: tuple[tuple[str | None, ChatKey | None], ...]) -> None:
        for key in keys:
            bucket = self._async_waiters.get(key)
            if not bucket:
                continue
            for waiter in list(bucket):
                if waiter.future.done():
                    bucket.remove(waiter)
                elif waiter.predicate is None or waiter.predicate(call):
                    waiter.found.append(call)
                    if len(waiter.found) >= waiter.needed:
                        waiter.future.set_result(waiter.found)
                        bucket.remove(waiter)

    def _matches(self, method: str | None, chat_id: ChatKey | None, since: int) -> list[Call]:
        calls = self._index.get((method, chat_id), [])
        return calls[bisect_left(calls, since, key=lambda c: c.seq) :]

    async def wait_for(
        self,
        target: str | CallPredicate | None = None,
        count: int = 1,
        *,
        chat_id: ChatKey | None = None,
        since: int = 0,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> list[Call]:
        """Wait until ``count`` calls match; return the first ``count`` matches.

        ``target`` is a method name, a predicate on :class:`Call`, or ``None`` for any call;
        ``chat_id`` narrows to calls to that chat (cheap: indexed); ``since`` ignores calls
        recorded before that :meth:`mark`.  Call it in the fake's event loop; raises
        ``TimeoutError`` (listing the last calls) if nothing matches within ``timeout``.
        """
        if self._loop is not asyncio.get_running_loop():
            raise RuntimeError("wait_for() must run in the fake's event loop; use wait_for_sync()")
        method, predicate = _split_target(target)
        with self._lock:
            found = [c for c in self._matches(method, chat_id, since) if predicate is None or predicate(c)]
            if len(found) >= count:
                return found[:count]
            future: asyncio.Future[list[Call]] = self._loop.create_future()
            waiter = _AsyncWaiter(predicate, count, found, future)
            bucket = self._async_waiters.setdefault((method, chat_id), [])
            bucket.append(waiter)
        try:
            return (await asyncio.wait_for(future, timeout))[:count]
        except TimeoutError:
            raise TimeoutError(self._timeout_message(target, count, chat_id, len(found))) from None
        finally:
            with self._lock:
                if waiter in bucket:
                    bucket.remove(waiter)

    def wait_for_sync(
        self,
        target: str | CallPredicate | None = None,
        count: int = 1,
        *,
        chat_id: ChatKey | None = None,
        since: int = 0,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> list[Call]:
        """Blocking, thread-safe :meth:`wait_for` for a fake started with :meth:`run_in_thread`."""
        if threading.get_ident() == self._loop_thread_id:
            raise RuntimeError("wait_for_sync() would block the fake's own event loop; use wait_for()")
        method, predicate = _split_target(target)
        deadline = time.monotonic() + timeout
        found: list[Call] = []
        position = since
        with self._cond:
            while True:
                found.extend(c for c in self._matches(method, chat_id, position) if predicate is None or predicate(c))
                position = len(self._calls)
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(target, count, chat_id, len(found)))
                self._cond.wait(remaining)

    def _timeout_message(
        self, target: str | CallPredicate | None, count: int, chat_id: ChatKey | None, got: int
    ) -> str:
        with self._lock:
            recent = [f"{c.method}({c.status}) chat={c.chat_id}" for c in self._calls[-10:]]
        where = f" to chat {chat_id}" if chat_id is not None else ""
        return f"waited for {count} x {target!r}{where}, got {got}; last calls: {recent}"

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: float = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``"*"`` = any method) with an error.

        429 is Telegram's JSON flood-control answer with ``parameters.retry_after`` (PTB raises
        ``RetryAfter``; note PTB ignores ``retry_after=0`` and raises ``NetworkError``).  5xx is
        an HTML page as a proxy sends (PTB raises ``NetworkError``).  Other statuses are JSON
        errors with ``description`` or a default one.  Successive calls queue up.
        """
        key = method if method == _ANY_METHOD else method.lower()
        with self._lock:
            self._faults.setdefault(key, deque()).append(_Fault(status, retry_after, description, times))

    def hold_next(self, method: str) -> asyncio.Event:
        """Carry out the next call of ``method`` but answer only once the returned event is set.

        Use in the fake's loop (in-process tests). If the client gives up meanwhile (a read timeout),
        the call has still happened, as with a slow Telegram.
        """
        release = asyncio.Event()
        with self._lock:
            self._holds.setdefault(method.lower(), deque()).append(release)
        return release

    def make_undeletable(self, *message_ids: int, chat_id: ChatKey | None = None) -> None:
        """Make ``deleteMessage`` answer 400 "message can't be deleted" for these ids (in any chat
        unless ``chat_id`` is given)."""
        with self._lock:
            self._undeletable.setdefault(chat_id, set()).update(message_ids)

    def _take_fault(self, method: str) -> _Fault | None:
        if not self._faults:
            return None
        with self._lock:
            for key in (method.lower(), _ANY_METHOD):
                faults = self._faults.get(key)
                if faults:
                    fault = faults[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        faults.popleft()
                    if not faults:
                        del self._faults[key]
                    return fault
        return None

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        try:
            params = await _read_params(request)
        except _ApiError as error:
            self._record(method, {}, token, error.status)
            return error.response()
        fault = self._take_fault(method)
        if fault is not None:
            self._record(method, params, token, fault.status)
            return fault.response()
        if method == "getUpdates":
            return await self._get_updates(params, token)
        handler = self._handlers.get(method)
        if handler is None:
            self._record(method, params, token, 200)
            return _ok(True)
        try:
            with self._lock:
                result = handler(params)
        except _ApiError as error:
            self._record(method, params, token, error.status)
            return error.response()
        self._record(method, params, token, 200)
        holds = self._holds.get(method.lower())
        if holds:
            with self._lock:
                release = holds.popleft()
            await release.wait()  # cancelled (handler_cancellation) if the client hangs up first
        return _ok(result)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        self._record(FILE_DOWNLOAD, {"file_path": request.match_info["path"]}, request.match_info["token"], 404)
        return _ApiError(404, "Not Found: file downloads are disabled in tests").response()

    async def _get_updates(self, params: JSONDict, token: str) -> web.Response:
        if self._webhook.url:
            error = _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
            self._record("getUpdates", params, token, error.status)
            return error.response()
        self._record("getUpdates", params, token, 200)
        offset = params.get("offset")
        offset = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        first = True
        while True:
            event = self._updates_event  # taken before checking, so no push can be missed
            with self._lock:
                batch = self._take_updates(offset if first else None, limit)
            first = False
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return _ok(batch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ------------------------------------------------------------------ update queue

    def _is_confirmed(self, entry: _QueuedUpdate) -> bool:
        if entry.redelivery:
            return entry.delivered
        return entry.update_id < self._confirmed_below

    def _take_updates(self, offset: int | None, limit: int) -> list[JSONDict]:
        """Apply ``offset`` (Telegram semantics) and return up to ``limit`` pending updates."""
        queue = self._queue
        if offset is not None and offset < 0:
            while len(queue) > -offset:  # keep only the last -offset updates
                dropped = queue.popleft()
                self._confirmed_below = max(self._confirmed_below, dropped.update_id + 1)
        elif offset is not None:
            self._confirmed_below = max(self._confirmed_below, offset)
        while queue and self._is_confirmed(queue[0]):
            queue.popleft()
        batch: list[_QueuedUpdate] = []
        for entry in queue:
            if self._is_confirmed(entry):
                continue
            # PTB confirms with the batch's last update_id + 1, so a re-delivery (with an old id)
            # must never be last after newer updates: it starts a batch or waits for the next.
            if entry.redelivery and batch:
                break
            batch.append(entry)
            if len(batch) >= limit:
                break
        for entry in batch:
            entry.delivered = True
        return [entry.update for entry in batch]

    def _wake_updates(self) -> None:
        """Wake every pending long poll (call in the fake's loop)."""
        event, self._updates_event = self._updates_event, asyncio.Event()
        event.set()

    def _wake_updates_threadsafe(self) -> None:
        loop = self._loop
        if loop is None:
            return  # not started: nobody can be waiting
        if threading.get_ident() == self._loop_thread_id:
            self._wake_updates()
        else:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(self._wake_updates)

    def push_raw(self, update: JSONDict) -> JSONDict:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing. Returns it."""
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._history[update_id] = update
            for message in self._messages_in(update):
                self._remember_message(message)
            redelivery = update_id < self._confirmed_below
            self._queue.append(_QueuedUpdate(update_id, update, redelivery=redelivery))
        self._wake_updates_threadsafe()
        return update

    def push_duplicate(self, update_id: int) -> JSONDict:
        """Deliver an already pushed update again, with the same ``update_id``."""
        with self._lock:
            try:
                update = self._history[update_id]
            except KeyError:
                raise ValueError(f"no update {update_id} was pushed") from None
            self._queue.append(_QueuedUpdate(update_id, update, redelivery=True))
        self._wake_updates_threadsafe()
        return update

    @staticmethod
    def _messages_in(update: JSONDict) -> list[JSONDict]:
        found: list[JSONDict] = []
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if isinstance(update.get(key), dict):
                found.append(update[key])
        callback = update.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("message"), dict):
            found.append(callback["message"])
        return found

    # ------------------------------------------------------------------ update builders

    def make_text(self, chat_id: int, user_id: int, text: str, chat_type: str = "private") -> JSONDict:
        """A ``message`` update with ``text`` from user ``user_id`` in chat ``chat_id``."""
        with self._lock:
            message = self._new_message(chat_id, self._user(user_id), chat_type, text=text)
            return self._update(message=message)

    def make_command(
        self,
        chat_id: int,
        user_id: int,
        command: str,
        args: str = "",
        chat_type: str = "private",
        *,
        mention_bot: bool = False,
    ) -> JSONDict:
        """A ``/command args`` message with its ``bot_command`` entity (``/cmd@bot`` if mentioned)."""
        head = "/" + command.lstrip("/")
        if mention_bot:
            head += "@" + str(self.bot_user["username"])
        text = f"{head} {args}" if args else head
        entities = [{"type": "bot_command", "offset": 0, "length": len(head)}]
        with self._lock:
            message = self._new_message(chat_id, self._user(user_id), chat_type, text=text, entities=entities)
            return self._update(message=message)

    def make_callback(
        self, chat_id: int, user_id: int, message_id: int, data: str, chat_type: str | None = None
    ) -> JSONDict:
        """A ``callback_query`` for a button press on message ``message_id`` (known or synthesised)."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                message = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": self._chat(chat_id, chat_type),
                    "from": self.bot_user,
                    "text": "",
                }
                self._remember_message(message)
            query = {
                "id": str(4_000_000_000_000_000_000 + next(self._ids)),
                "from": self._user(user_id),
                "message": dict(message),
                "chat_instance": str(abs(chat_id) * 1_000 + 7),
                "data": data,
            }
            return self._update(callback_query=query)

    def make_photo(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """A message with a ``photo`` (three sizes, as Telegram sends)."""
        sizes = []
        for width, height, size in ((90, 67, 1_523), (320, 240, 19_870), (1280, 960, 141_112)):
            file_id, unique_id = self._file_ids("AgACAgQAAxkBAAI")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "file_size": size,
                    "width": width,
                    "height": height,
                }
            )
        return self._media_update(chat_id, user_id, chat_type, caption, photo=sizes)

    def make_document(
        self,
        chat_id: int,
        user_id: int,
        chat_type: str = "private",
        caption: str | None = None,
        *,
        file_name: str = "IMG_0001.jpg",
        mime_type: str = "image/jpeg",
    ) -> JSONDict:
        """A message with a ``document``."""
        file_id, unique_id = self._file_ids("BQACAgQAAxkBAAI")
        document = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 245_760,
        }
        return self._media_update(chat_id, user_id, chat_type, caption, document=document)

    def make_video(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """A message with a ``video`` (with thumbnail)."""
        file_id, unique_id = self._file_ids("BAACAgQAAxkBAAI")
        thumb_id, thumb_unique = self._file_ids("AAMCBAADGQEAAi")
        video = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "width": 1280,
            "height": 720,
            "duration": 12,
            "mime_type": "video/mp4",
            "file_size": 2_621_440,
            "thumbnail": {"file_id": thumb_id, "file_unique_id": thumb_unique, "file_size": 9_000,
                          "width": 320, "height": 180},
        }  # fmt: skip
        return self._media_update(chat_id, user_id, chat_type, caption, video=video)

    def make_voice(self, chat_id: int, user_id: int, chat_type: str = "private") -> JSONDict:
        """A message with a ``voice`` note."""
        file_id, unique_id = self._file_ids("AwACAgQAAxkBAAI")
        voice = {"file_id": file_id, "file_unique_id": unique_id, "duration": 3, "mime_type": "audio/ogg",
                 "file_size": 12_288}  # fmt: skip
        return self._media_update(chat_id, user_id, chat_type, None, voice=voice)

    def make_sticker(self, chat_id: int, user_id: int, chat_type: str = "private") -> JSONDict:
        """A message with a ``sticker``."""
        file_id, unique_id = self._file_ids("CAACAgIAAxkBAAI")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{GRINNING FACE}",
            "set_name": "TestStickers",
            "file_size": 22_528,
        }
        return self._media_update(chat_id, user_id, chat_type, None, sticker=sticker)

    def make_animation(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """A GIF message: like Telegram, it carries both ``animation`` and ``document``."""
        file_id, unique_id = self._file_ids("CgACAgQAAxkBAAI")
        common = {"file_id": file_id, "file_unique_id": unique_id, "file_name": "animation.mp4",
                  "mime_type": "video/mp4", "file_size": 524_288}  # fmt: skip
        animation = {**common, "width": 480, "height": 270, "duration": 4}
        return self._media_update(chat_id, user_id, chat_type, caption, animation=animation, document=dict(common))

    def push_text(self, chat_id: int, user_id: int, text: str, chat_type: str = "private") -> JSONDict:
        """Queue :meth:`make_text`."""
        return self.push_raw(self.make_text(chat_id, user_id, text, chat_type))

    def push_command(
        self,
        chat_id: int,
        user_id: int,
        command: str,
        args: str = "",
        chat_type: str = "private",
        *,
        mention_bot: bool = False,
    ) -> JSONDict:
        """Queue :meth:`make_command`."""
        return self.push_raw(self.make_command(chat_id, user_id, command, args, chat_type, mention_bot=mention_bot))

    def push_callback(
        self, chat_id: int, user_id: int, message_id: int, data: str, chat_type: str | None = None
    ) -> JSONDict:
        """Queue :meth:`make_callback`."""
        return self.push_raw(self.make_callback(chat_id, user_id, message_id, data, chat_type))

    def push_photo(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """Queue :meth:`make_photo`."""
        return self.push_raw(self.make_photo(chat_id, user_id, chat_type, caption))

    def push_document(
        self,
        chat_id: int,
        user_id: int,
        chat_type: str = "private",
        caption: str | None = None,
        *,
        file_name: str = "IMG_0001.jpg",
        mime_type: str = "image/jpeg",
    ) -> JSONDict:
        """Queue :meth:`make_document`."""
        return self.push_raw(
            self.make_document(chat_id, user_id, chat_type, caption, file_name=file_name, mime_type=mime_type)
        )

    def push_video(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """Queue :meth:`make_video`."""
        return self.push_raw(self.make_video(chat_id, user_id, chat_type, caption))

    def push_voice(self, chat_id: int, user_id: int, chat_type: str = "private") -> JSONDict:
        """Queue :meth:`make_voice`."""
        return self.push_raw(self.make_voice(chat_id, user_id, chat_type))

    def push_sticker(self, chat_id: int, user_id: int, chat_type: str = "private") -> JSONDict:
        """Queue :meth:`make_sticker`."""
        return self.push_raw(self.make_sticker(chat_id, user_id, chat_type))

    def push_animation(
        self, chat_id: int, user_id: int, chat_type: str = "private", caption: str | None = None
    ) -> JSONDict:
        """Queue :meth:`make_animation`."""
        return self.push_raw(self.make_animation(chat_id, user_id, chat_type, caption))

    def _update(self, **payload: JSONDict) -> JSONDict:
        update_id = self._next_update_id
        self._next_update_id += 1
        return {"update_id": update_id, **payload}

    def _media_update(
        self, chat_id: int, user_id: int, chat_type: str, caption: str | None, **media: object
    ) -> JSONDict:
        content: JSONDict = dict(media)
        if caption is not None:
            content["caption"] = caption
        with self._lock:
            message = self._new_message(chat_id, self._user(user_id), chat_type, **content)
            return self._update(message=message)

    def _file_ids(self, prefix: str) -> tuple[str, str]:
        number = next(self._ids)
        return f"{prefix}{number:06d}Zx9QmFakeFileId", f"AQAD{number:06d}Fk"

    @staticmethod
    def _user(user_id: int) -> JSONDict:
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}", "language_code": "en"}

    def _chat(self, chat_id: ChatKey, chat_type: str | None = None) -> JSONDict:
        """The chat object for ``chat_id``; checks that ids fit the type (groups are negative)."""
        known = self._chats.get(chat_id)
        if known is not None and (chat_type is None or known["type"] == chat_type):
            return known
        if chat_type is None:
            if isinstance(chat_id, int) and chat_id < 0:
                chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            else:
                chat_type = "private"
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        if isinstance(chat_id, int) and (chat_id > 0) != (chat_type == "private"):
            raise ValueError(f"chat id {chat_id} does not fit a {chat_type} chat (groups have negative ids)")
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User {chat_id}"
        else:
            chat["title"] = f"Test {chat_type} {chat_id}"
        self._chats[chat_id] = chat
        return chat

    def _new_message(self, chat_id: ChatKey, sender: JSONDict, chat_type: str | None, **content: object) -> JSONDict:
        chat = self._chat(chat_id, chat_type)
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **content,
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def _remember_message(self, message: JSONDict) -> None:
        chat = message.get("chat")
        message_id = message.get("message_id")
        if not isinstance(chat, dict) or not isinstance(message_id, int):
            return
        chat_id = _chat_key(chat.get("id"))
        if chat_id is None:
            return
        self._chats.setdefault(chat_id, chat)
        self._messages.setdefault((chat_id, message_id), message)
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)

    # ------------------------------------------------------------------ Bot API methods
    # Each runs with self._lock held and returns the "result" or raises _ApiError.

    def _api_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = _Webhook(url, params.get("secret_token"), params.get("allowed_updates"))
        return True

    def _api_delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = _Webhook()
        return True

    def _api_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": sum(1 for e in self._queue if not self._is_confirmed(e)),
        }
        if self._webhook.allowed_updates is not None:
            info["allowed_updates"] = self._webhook.allowed_updates
        return info

    def _drop_pending(self) -> None:
        self._queue.clear()
        self._confirmed_below = self._next_update_id

    def _api_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = _chat_key(params.get("chat_id"))
        if chat_id is None:
            raise _bad_request("chat_id is empty")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        if "parse_mode" not in params and len(text.encode("utf-16-le")) // 2 > _MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = _inline_markup(params.get("reply_markup"))
        try:
            content: JSONDict = {"text": text}
            if markup is not None:
                content["reply_markup"] = markup
            message = self._new_message(chat_id, self.bot_user, None, **content)
        except ValueError as exc:
            raise _bad_request("chat not found") from exc
        self._sent.setdefault(chat_id, []).append(dict(message))
        return message

    def _editable(self, params: JSONDict) -> tuple[tuple[ChatKey, int], JSONDict]:
        chat_id = _chat_key(params.get("chat_id"))
        message_id = params.get("message_id")
        if chat_id is None or not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return (chat_id, message_id), message

    def _apply_edit(self, key: tuple[ChatKey, int], old: JSONDict, text: object, markup: JSONDict | None) -> JSONDict:
        if text == old.get("text") and markup == old.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        edited = {**old, "text": text, "edit_date": int(time.time())}
        if markup is None:
            edited.pop("reply_markup", None)  # Telegram drops the keyboard when none is sent
        else:
            edited["reply_markup"] = markup
        self._messages[key] = edited
        return edited

    def _api_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        key, old = self._editable(params)
        return self._apply_edit(key, old, text, _inline_markup(params.get("reply_markup")))

    def _api_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        key, old = self._editable(params)
        return self._apply_edit(key, old, old.get("text"), _inline_markup(params.get("reply_markup")))

    def _delete_one(self, chat_id: ChatKey, message_id: int) -> None:
        if message_id in self._undeletable.get(chat_id, ()) or message_id in self._undeletable.get(None, ()):
            raise _bad_request("message can't be deleted")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise _bad_request("message to delete not found")
        self._deleted.setdefault(chat_id, set()).add(message_id)

    def _api_delete_message(self, params: JSONDict) -> bool:
        chat_id = _chat_key(params.get("chat_id"))
        message_id = params.get("message_id")
        if chat_id is None or not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        self._delete_one(chat_id, message_id)
        return True

    def _api_delete_messages(self, params: JSONDict) -> bool:
        chat_id = _chat_key(params.get("chat_id"))
        message_ids = params.get("message_ids")
        if chat_id is None or not isinstance(message_ids, list):
            raise _bad_request("message identifiers are not specified")
        for message_id in message_ids:
            with contextlib.suppress(_ApiError):  # Telegram skips messages it can't delete
                self._delete_one(chat_id, message_id)
        return True

    @staticmethod
    def _commands_key(scope: object, language_code: object) -> str:
        return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)

    def _api_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        self._commands[self._commands_key(params.get("scope"), params.get("language_code"))] = commands
        return True

    def _api_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return list(self._commands.get(self._commands_key(params.get("scope"), params.get("language_code")), []))

    def _api_delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _api_set_description(self, kind: str, params: JSONDict) -> bool:
        text = params.get(kind) or ""
        if not isinstance(text, str) or len(text) > _MAX_DESCRIPTION[kind]:
            raise _bad_request(f"{kind.upper()}_INVALID")
        self._descriptions[(kind, str(params.get("language_code") or ""))] = text
        return True

    def _api_get_description(self, kind: str, params: JSONDict) -> JSONDict:
        return {kind: self._descriptions.get((kind, str(params.get("language_code") or "")), "")}

    def _api_get_file(self, params: JSONDict) -> JSONDict:
        # Answered so that a bot which (wrongly) downloads media gets as far as the download,
        # which is recorded too; tests assert neither happens.
        file_id = str(params.get("file_id", ""))
        return {
            "file_id": file_id,
            "file_unique_id": f"AQAD{abs(hash(file_id)) % 10**6:06d}Fk",
            "file_size": 1024,
            "file_path": f"documents/file_{next(self._ids)}.bin",
        }

    # ------------------------------------------------------------------ webhook delivery

    @staticmethod
    async def post_update_to(
        url: str,
        update: Mapping[str, Any],
        secret_token: str | None = None,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> int:
        """POST ``update`` as JSON to a webhook ``url`` the way Telegram does; return the status.

        ``secret_token`` is sent as the ``X-Telegram-Bot-Api-Secret-Token`` header.
        """
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers[SECRET_TOKEN_HEADER] = secret_token
        async with (
            ClientSession(timeout=ClientTimeout(total=timeout)) as session,
            session.post(url, data=json.dumps(update), headers=headers) as response,
        ):
            await response.read()
            return response.status


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def ptb_request(**kwargs: Any) -> HTTPXRequest:
    """A PTB ``HTTPXRequest`` that reuses one SSL context, for fast test set-up.

    Building a PTB ``Bot`` creates two httpx clients, each loading the CA bundle (~70 ms);
    pass ``request=ptb_request(), get_updates_request=ptb_request()`` to ``Bot`` (or the
    ``ApplicationBuilder`` methods of the same names) to skip that.  Extra keyword arguments
    go to ``HTTPXRequest``.
    """
    from telegram.request import HTTPXRequest  # local: the fake itself does not need PTB

    httpx_kwargs = {"verify": _ssl_context(), **kwargs.pop("httpx_kwargs", {})}
    return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)
