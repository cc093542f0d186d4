"""A fake Slack for tests: Web API, ``response_url`` hooks, Socket Mode and signed requests.

The fake is an aiohttp server bound to ``127.0.0.1`` on an ephemeral port. It is meant to be
driven by the *real* slack-bolt / slack-sdk stack, so request and response shapes follow what
slack-sdk 3.47 sends and reads:

* Web API calls arrive at ``{api_url}{method}`` (``api_url`` ends in ``/api/``) as POST (or GET
  for ``users.info``/``files.info``) with the token in ``Authorization: Bearer ...``; arguments come
  in the query string (``params=``), a form-encoded body (``data=``) or a JSON body (``json=``).
* ``respond()`` posts JSON to the payload's ``response_url``; :meth:`FakeSlack.response_url`
  gives URLs on the fake so those posts are recorded too.
* Socket Mode clients call ``apps.connections.open`` with the app-level token (``xapp-...``) and
  connect to the returned ``ws://`` URL; the fake greets them with ``hello`` and lets tests push
  envelopes and collect the acks.

Every request is recorded as a :class:`Call`. Waiting is event-driven (an ``asyncio.Condition``
on the fake's own loop); timeouts are only a safety net. The fake works both in the test's
event loop (``async with FakeSlack() as slack:``) and in a background thread
(:meth:`FakeSlack.run_in_thread`) for tests that run the bot as a separate process.

Module-level builders produce Slack-shaped request bodies (slash commands, block actions,
Events API callbacks) and sign them like Slack does, for Bolt's HTTP mode; the same dict
payloads feed the Socket Mode envelopes.

The fake never serves media: ``files.info`` is answered with an error and recorded, and
:meth:`FakeSlack.file_url` gives ``url_private`` values whose fetches are recorded and refused,
so tests can assert that nothing tried to download user media.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "CONTENT_TYPE_FORM",
    "CONTENT_TYPE_JSON",
    "DEFAULT_APP_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_TEAM_DOMAIN",
    "DEFAULT_TEAM_ID",
    "DEFAULT_USER_ID",
    "RESPONSE_URL",
    "SOCKET_ACK",
    "SOCKET_CONNECT",
    "UNSET_RESPONSE_URL",
    "URL_PRIVATE",
    "Call",
    "FakeSlack",
    "FakeSlackThread",
    "app_home_opened_event",
    "block_action_body",
    "block_action_payload",
    "dm_channel_id",
    "event_body",
    "event_callback_payload",
    "file_share_message_event",
    "global_shortcut_body",
    "global_shortcut_payload",
    "im_message_event",
    "post_signed",
    "sign",
    "signed_headers",
    "slash_command_body",
    "slash_command_payload",
    "url_verification_body",
    "view_submission_body",
    "view_submission_payload",
]

T = TypeVar("T")

CONTENT_TYPE_FORM = "application/x-www-form-urlencoded"
CONTENT_TYPE_JSON = "application/json"

DEFAULT_TEAM_ID = "T0FAKETEAM"
DEFAULT_TEAM_DOMAIN = "fake-team"
DEFAULT_APP_ID = "A0FAKEAPP"
DEFAULT_BOT_USER_ID = "U0FAKEBOT"
DEFAULT_BOT_ID = "B0FAKEBOT"
DEFAULT_USER_ID = "U0FAKEUSER"
DEFAULT_CHANNEL_ID = "C0FAKECHAN"

# Pseudo-method names under which non-Web-API traffic is recorded.
RESPONSE_URL = "response_url"
"""POSTs to a :meth:`FakeSlack.response_url` URL (``Call.name`` is the hook's name)."""
URL_PRIVATE = "url_private"
"""Any request to a :meth:`FakeSlack.file_url` URL, i.e. an attempt to download user media."""
SOCKET_CONNECT = "socket_connect"
"""A Socket Mode WebSocket connection (params: ``ticket``)."""
SOCKET_ACK = "socket_ack"
"""A message a Socket Mode client sent back (an ack: ``{"envelope_id", "payload"?}``)."""

UNSET_RESPONSE_URL = "http://127.0.0.1:9/response-url-not-set"
"""Default ``response_url`` in payload builders: loopback discard port, so a test that forgot
to pass ``fake.response_url(...)`` fails fast instead of reaching the internet."""

# Values that slack-sdk sends JSON-encoded when it uses a form body (and that callers may
# pre-encode even in a JSON body); decoded so tests can assert on structures.
_JSON_PARAMS = frozenset({"blocks", "view", "attachments", "metadata"})

# Methods that must be called with an app-level token, everything else with a bot/user token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


# --------------------------------------------------------------------------------------------
# Recorded calls and injected faults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``) or a pseudo-method
    (:data:`RESPONSE_URL`, :data:`URL_PRIVATE`, :data:`SOCKET_CONNECT`, :data:`SOCKET_ACK`).
    ``params`` merges query string and body (form or JSON), with ``blocks``/``view``/...
    JSON-decoded when they arrived as strings. ``headers`` is case-insensitive.
    """

    method: str
    params: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=lambda: CIMultiDictProxy(CIMultiDict()), repr=False)
    name: str | None = None
    """The hook name for :data:`RESPONSE_URL`, the file name for :data:`URL_PRIVATE`."""
    status: int = 200
    """HTTP status the fake answered with (429 for an injected rate limit...)."""
    response: Any = field(default=None, repr=False)
    """The body the fake answered with (a dict for Web API calls)."""

    @property
    def token(self) -> str | None:
        """The token used: ``Authorization: Bearer`` header, else a ``token`` parameter."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :]
        token = self.params.get("token")
        return token if isinstance(token, str) else None


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int | None
    remaining: int


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


def dm_channel_id(user_id: str) -> str:
    """The DM channel id the fake assigns to ``user_id`` (``U123`` -> ``D123``)."""
    return "D" + (user_id[1:] if user_id[:1] in ("U", "W") else user_id)


class FakeSlack:
    """Fake Slack Web API + ``response_url`` hooks + Socket Mode endpoint.

    Usage::

        async with FakeSlack() as slack:
            client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
            app = AsyncApp(client=client, signing_secret=SECRET)
            ...
            [call] = await slack.wait_for("chat.postEphemeral")
            assert call.params["user"] == "U123"

    All ``async`` helpers may be awaited from any event loop; when the fake runs in another
    thread they are forwarded to its loop. Plain methods (``calls``, ``fail_next``...) are
    thread-safe.
    """

    def __init__(
        self,
        *,
        team_id: str = DEFAULT_TEAM_ID,
        team_domain: str = DEFAULT_TEAM_DOMAIN,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        bot_id: str = DEFAULT_BOT_ID,
        app_id: str = DEFAULT_APP_ID,
        host: str = "127.0.0.1",
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.host = host
        self.port: int = 0

        self._lock = threading.Lock()  # guards the state below against other threads
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._tickets: set[str] = set()
        # What the bot has posted and not deleted, per channel: ts -> the message (chat.postMessage,
        # chat.update and chat.delete keep it up to date), so tests can see what a person would still see.
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        # Modals opened (views.open, views.push) and not closed: view id -> the view as last set, with its hash.
        # views.update of a closed view is ``not_found``; with a ``hash`` that is not the latest, ``hash_conflict``.
        self._views: dict[str, dict[str, Any]] = {}
        self._closed_views: set[str] = set()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)

        # Created in start(), bound to the loop the server runs on.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to an ephemeral port on :attr:`host` and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeSlack already started")
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/hooks/{name}", self._handle_response_url)
        app.router.add_route("*", "/files-pri/{name}", self._handle_file)
        app.router.add_get("/link/", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close Socket Mode connections and the server."""
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"fake slack stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @classmethod
    def run_in_thread(cls, *, start_timeout: float = 10.0, **kwargs: Any) -> FakeSlackThread:
        """Start a fake in a background thread with its own event loop.

        For tests that run the bot as a separate process. ``kwargs`` go to :class:`FakeSlack`.
        Stop it with ``.stop()`` (or use it as a ``with`` block).
        """
        return FakeSlackThread(cls(**kwargs), start_timeout=start_timeout)

    # -- URLs ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running fake."""
        if not self.port:
            raise RuntimeError("FakeSlack is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Web API base URL for ``AsyncWebClient(base_url=...)``; ends in ``/api/``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "default") -> str:
        """A ``response_url`` on the fake; POSTs to it are recorded as :data:`RESPONSE_URL`."""
        return f"{self.base_url}/hooks/{quote(name, safe='')}"

    def file_url(self, name: str = "photo.jpg") -> str:
        """A ``url_private`` on the fake; any fetch is recorded as :data:`URL_PRIVATE` and
        answered 403, so tests can assert media was never downloaded."""
        return f"{self.base_url}/files-pri/{quote(name, safe='')}"

    # -- configuration -------------------------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Override what ``users.info`` returns for ``user_id`` (merged over the default)."""
        with self._lock:
            self._users[user_id] = fields

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (FIFO with earlier injections).

        * default / ``status=429``: HTTP 429, ``Retry-After: {retry_after}``, body
          ``{"ok": false, "error": "ratelimited"}``. Note slack-sdk's
          ``AsyncRateLimitErrorRetryHandler`` reads only the header's first character, so
          keep ``retry_after`` to one digit.
        * ``error="channel_not_found"`` (no status): HTTP 200 ``{"ok": false, "error": ...}``.
        * any other status (500, 503...): that status with ``{"ok": false, "error": ...}``.

        ``method`` may also be :data:`RESPONSE_URL` (applies to every hook).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is None:
            status = 200 if error is not None else 429
        if status == 429:
            fault = _Fault(429, error or "ratelimited", retry_after, times)
        else:
            fault = _Fault(status, error or "fatal_error", None, times)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    # -- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls, oldest first; only ``method``'s if given."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def methods(self) -> list[str]:
        """Methods of all recorded calls, in order (handy in assertion messages)."""
        with self._lock:
            return [c.method for c in self._calls]

    def response_url_calls(self, name: str | None = None) -> list[Call]:
        """POSTs to response URLs, only those to hook ``name`` if given."""
        return [c for c in self.calls(RESPONSE_URL) if name is None or c.name == name]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The bot's messages still visible in ``channel`` (posted, maybe updated, not deleted), oldest first."""
        with self._lock:
            return [dict(m) for _, m in sorted(self._messages.get(channel, {}).items())]

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The modal ``view_id`` as the person sees it now (``None`` once closed, or never opened)."""
        with self._lock:
            view = self._views.get(view_id)
            return dict(view) if view is not None else None

    def close_view(self, view_id: str) -> None:
        """The person closed the modal (or Slack dropped it): later ``views.update`` calls get ``not_found``."""
        with self._lock:
            self._views.pop(view_id, None)
            self._closed_views.add(view_id)

    def clear_calls(self) -> None:
        """Forget recorded calls (injected faults stay)."""
        with self._lock:
            self._calls.clear()

    async def wait_until(
        self,
        predicate: Callable[[list[Call]], T | None],
        *,
        timeout: float = 10.0,
        description: str = "condition",
    ) -> T:
        """Wait until ``predicate(all calls)`` returns something other than ``None``/``False``.

        Woken on every recorded call; ``timeout`` is a safety net that raises ``TimeoutError``.
        """
        return await self._on_own_loop(self._wait_until(predicate, timeout, description))

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""

        def enough(calls: list[Call]) -> list[Call] | None:
            matching = [c for c in calls if c.method == method]
            return matching if len(matching) >= count else None

        return await self.wait_until(enough, timeout=timeout, description=f"{count}x {method}")

    def wait_for_sync(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Blocking :meth:`wait_for` for code outside the fake's loop (threads, sync tests)."""
        return self.run_sync(self.wait_for(method, count, timeout), timeout=timeout + 5)

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run one of the fake's coroutines from a thread other than the fake's loop thread."""
        loop = self._require_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("run_sync would deadlock: called from the fake's own loop; await it")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    # -- Socket Mode -------------------------------------------------------------------------

    async def wait_socket_connected(self, timeout: float = 10.0) -> None:
        """Wait until a Socket Mode client is connected (and has been sent ``hello``)."""
        await self._on_own_loop(self._wait_socket(timeout))

    async def socket_send(self, message: dict[str, Any], timeout: float = 10.0) -> None:
        """Send a raw JSON message to the newest Socket Mode connection (waiting for one)."""
        await self._on_own_loop(self._socket_send(message, timeout))

    async def socket_send_envelope(
        self,
        envelope_type: Literal["slash_commands", "interactive", "events_api"],
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Send a request envelope like Slack does; return its ``envelope_id``.

        ``accepts_response_payload`` defaults to Slack's: true for commands and interactions.
        ``events_api`` envelopes carry ``retry_attempt``/``retry_reason`` (0 and "" on a first
        delivery, as on Slack); Bolt exposes them as ``x-slack-retry-num``/``-reason`` headers.
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type != "events_api"
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            message["retry_attempt"] = retry_attempt if retry_attempt is not None else 0
            message["retry_reason"] = retry_reason if retry_reason is not None else ""
        await self.socket_send(message)
        return envelope_id

    async def socket_send_slash_command(self, **payload_fields: Any) -> str:
        """Send a ``slash_commands`` envelope; fields as :func:`slash_command_payload`."""
        payload_fields.setdefault("team_id", self.team_id)
        payload_fields.setdefault("api_app_id", self.app_id)
        return await self.socket_send_envelope("slash_commands", slash_command_payload(**payload_fields))

    async def socket_send_block_action(self, **payload_fields: Any) -> str:
        """Send an ``interactive`` envelope; fields as :func:`block_action_payload`."""
        payload_fields.setdefault("team_id", self.team_id)
        payload_fields.setdefault("api_app_id", self.app_id)
        payload_fields.setdefault("bot_user_id", self.bot_user_id)
        return await self.socket_send_envelope("interactive", block_action_payload(**payload_fields))

    async def socket_send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> str:
        """Send an ``events_api`` envelope wrapping ``event`` in an ``event_callback``."""
        payload = event_callback_payload(
            event,
            event_id=event_id,
            team_id=self.team_id,
            api_app_id=self.app_id,
            bot_user_id=self.bot_user_id,
        )
        return await self.socket_send_envelope(
            "events_api", payload, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    async def socket_send_disconnect(self, reason: str = "warning") -> None:
        """Ask the client to reconnect, like Slack before rotating a connection."""
        await self.socket_send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})

    async def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the client's ack of ``envelope_id``; return it (``{"envelope_id", "payload"?}``)."""

        def acked(calls: list[Call]) -> dict[str, Any] | None:
            for c in calls:
                if c.method == SOCKET_ACK and c.params.get("envelope_id") == envelope_id:
                    return c.params
            return None

        return await self.wait_until(acked, timeout=timeout, description=f"ack of envelope {envelope_id}")

    # -- internals: loop plumbing --------------------------------------------------------------

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._changed is None:
            raise RuntimeError("FakeSlack is not started")
        return self._loop

    async def _on_own_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._require_loop()
        if asyncio.get_running_loop() is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    async def _wait_until(
        self, predicate: Callable[[list[Call]], T | None], timeout: float, description: str
    ) -> T:
        assert self._changed is not None
        result: T | None = None

        def ready() -> bool:
            nonlocal result
            result = predicate(self.calls())
            return result is not None and result is not False

        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"FakeSlack: timed out after {timeout}s waiting for {description}; "
                f"calls so far: {self.methods()}"
            ) from None
        assert result is not None
        return result

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)
        await self._notify()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    @staticmethod
    def _fault_body(fault: _Fault) -> tuple[dict[str, Any], dict[str, str] | None]:
        body = {"ok": False, "error": fault.error}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return body, headers

    async def _answer_then_record(
        self, request: web.Request, response: web.Response, call: Call
    ) -> web.StreamResponse:
        # Answer first, so that whoever wakes up on the recorded call can rely on the client
        # having its response (e.g. a test checking what the bot did with a returned ts).
        await response.prepare(request)
        await response.write_eof()
        await self._record(call)
        return response

    # -- internals: HTTP handlers --------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _decode_params(request)
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        fault = self._take_fault(method)
        if fault is not None:
            body, fault_headers = self._fault_body(fault)
            response = web.json_response(body, status=fault.status, headers=fault_headers)
            call = Call(method, params, headers, status=fault.status, response=body)
            return await self._answer_then_record(request, response, call)
        if method == "oauth.v2.access":  # the app's client id and secret, not a token
            body = self._oauth_access(params, headers)
        else:
            body = self._auth_error(method, Call(method, params, headers).token) or self._answer(method, params)
        call = Call(method, params, headers, response=body)
        return await self._answer_then_record(request, web.json_response(body), call)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        params = await _decode_params(request)
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        fault = self._take_fault(RESPONSE_URL)
        if fault is not None:
            body, fault_headers = self._fault_body(fault)
            response = web.json_response(body, status=fault.status, headers=fault_headers)
            call = Call(RESPONSE_URL, params, headers, name=name, status=fault.status, response=body)
            return await self._answer_then_record(request, response, call)
        call = Call(RESPONSE_URL, params, headers, name=name, response="ok")
        return await self._answer_then_record(request, web.Response(text="ok"), call)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        response = web.Response(status=403, text="fake slack never serves user media")
        call = Call(URL_PRIVATE, dict(request.query), headers, name=name, status=403)
        return await self._answer_then_record(request, response, call)

    def _oauth_access(self, params: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """OAuth v2: a code ``fake-code-<team id>`` (as Slack's redirect would bring) for that workspace's
        bot token ``xoxb-<team id>-installed``. The client's credentials come as HTTP basic auth."""
        if not str(headers.get("Authorization", "")).startswith("Basic ") and not params.get("client_secret"):
            return {"ok": False, "error": "invalid_client_id"}
        code = str(params.get("code", ""))
        if not code.startswith("fake-code-"):
            return {"ok": False, "error": "invalid_code"}
        team = code.removeprefix("fake-code-")
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": "U0INSTALLER"},
            "scope": "commands,chat:write,im:write,im:history",
            "token_type": "bot",
            "access_token": f"xoxb-{team}-installed",
            "bot_user_id": self.bot_user_id,
            "team": {"id": team, "name": f"School {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    @staticmethod
    def _auth_error(method: str, token: str | None) -> dict[str, Any] | None:
        """Slack's answer to a missing or wrong kind of token, else ``None``."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        wants_app_token = method in _APP_TOKEN_METHODS
        if wants_app_token != token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return None

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts_counter):06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0FAKE{next(self._id_counter):05d}"

    def _channel_for(self, channel: Any) -> str:
        channel = str(channel or DEFAULT_CHANNEL_ID)
        # Posting to a user id goes to the DM with that user, as on Slack.
        return dm_channel_id(channel) if channel[:1] in ("U", "W") else channel

    def _bot_message(self, params: Mapping[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                message[key] = params[key]
        return message

    def _view(self, params: Mapping[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        view_id = params.get("view_id") or self._next_id("V")
        return {
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "state": {"values": {}},
            "blocks": [],
            **view,
        }

    def _answer(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The success body for ``method`` (shapes as documented for the real Web API)."""
        if method == "auth.test":
            return {
                "ok": True,
                "url": f"https://{self.team_domain}.slack.com/",
                "team": "Fake Team",
                "user": "ypsi-bot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            channel = self._channel_for(params.get("channel"))
            message = self._bot_message(params, ts)
            with self._lock:
                self._messages.setdefault(channel, {})[ts] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            ts = str(params.get("ts", self._next_ts()))
            channel = self._channel_for(params.get("channel"))
            with self._lock:
                if ts in self._messages.get(channel, {}):
                    self._messages[channel][ts] = self._bot_message(params, ts)
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "text": params.get("text", ""),
                "message": self._bot_message(params, ts),
            }
        if method == "chat.delete":
            # As on Slack with a bot token: the bot's own messages only; one already gone is not found.
            channel = self._channel_for(params.get("channel"))
            ts = str(params.get("ts", ""))
            with self._lock:
                found = self._messages.get(channel, {}).pop(ts, None)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "views.update":
            view_id = str(params.get("view_id") or "")
            with self._lock:
                known = self._views.get(view_id)
                if view_id in self._closed_views:
                    return {"ok": False, "error": "not_found"}
                if known is not None and params.get("hash") and params["hash"] != known["hash"]:
                    return {"ok": False, "error": "hash_conflict"}
            view = self._view(params)
            if known is not None:
                with self._lock:
                    self._views[view_id] = view
            return {"ok": True, "view": view}
        if method in ("views.open", "views.push"):
            if not params.get("trigger_id"):
                return {"ok": False, "error": "invalid_arguments"}
            view = self._view(params)
            with self._lock:
                self._views[view["id"]] = view
            return {"ok": True, "view": view}
        if method == "views.publish":
            return {"ok": True, "view": self._view(params)}
        if method == "conversations.open":
            users = [u for u in str(params.get("users", "")).split(",") if u]
            if not users and params.get("channel"):
                return {"ok": True, "channel": {"id": params["channel"]}}
            if len(users) != 1:
                return {"ok": True, "channel": {"id": self._next_id("G")}}
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": dm_channel_id(users[0])},
            }
        if method == "users.info":
            user_id = str(params.get("user", DEFAULT_USER_ID))
            with self._lock:
                override = dict(self._users.get(user_id, {}))
            user = {
                "id": user_id,
                "team_id": self.team_id,
                "name": user_id.lower(),
                "real_name": f"User {user_id}",
                "deleted": False,
                "is_bot": False,
                "tz": "Europe/London",
                "locale": "en-GB",
                "profile": {"display_name": user_id.lower(), "real_name": f"User {user_id}"},
                **override,
            }
            return {"ok": True, "user": user}
        if method == "files.info":
            # Never hand out file details: the bot must not touch user media.
            return {"ok": False, "error": "file_not_found"}
        if method == "apps.connections.open":
            ticket = uuid.uuid4().hex
            with self._lock:
                self._tickets.add(ticket)
            return {
                "ok": True,
                "url": f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}",
            }
        return {"ok": True}

    # -- internals: Socket Mode ------------------------------------------------------------------

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            known = ticket in self._tickets
        if not known:
            return web.Response(status=403, text="unknown ticket")
        ws = web.WebSocketResponse(autoping=True)  # answers the client's pings with pongs
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        self._sockets.append(ws)
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        await self._record(Call(SOCKET_CONNECT, {"ticket": ticket}, headers))
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = {"raw": msg.data}
                await self._record(Call(SOCKET_ACK, data if isinstance(data, dict) else {"raw": data}))
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    async def _wait_socket(self, timeout: float) -> web.WebSocketResponse:
        assert self._changed is not None

        def live() -> bool:
            return any(not ws.closed for ws in self._sockets)

        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(live), timeout)
        except TimeoutError:
            raise TimeoutError(f"FakeSlack: no Socket Mode client connected within {timeout}s") from None
        return [ws for ws in self._sockets if not ws.closed][-1]

    async def _socket_send(self, message: dict[str, Any], timeout: float) -> None:
        ws = await self._wait_socket(timeout)
        await ws.send_json(message)


async def _decode_params(request: web.Request) -> dict[str, Any]:
    """Query string + form/JSON body as one dict, JSON-ish values decoded."""
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if raw:
        text = raw.decode("utf-8")
        if request.content_type == CONTENT_TYPE_JSON or text.lstrip().startswith("{"):
            body = json.loads(text)
            if isinstance(body, dict):
                params.update(body)
            else:
                params["_body"] = body
        else:
            params.update(parse_qsl(text, keep_blank_values=True))
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


class FakeSlackThread:
    """A :class:`FakeSlack` serving from a daemon thread with its own event loop.

    Proxies the fake's URLs and thread-safe helpers; ``fake`` is the underlying instance
    (its ``async`` helpers can be awaited from any loop).
    """

    def __init__(self, fake: FakeSlack, *, start_timeout: float = 10.0) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="fake-slack", daemon=True)
        self._thread.start()
        if not self._ready.wait(start_timeout):
            raise TimeoutError("FakeSlack thread did not start")
        if self._error is not None:
            raise RuntimeError("FakeSlack thread failed to start") from self._error

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.fake.start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    @property
    def api_url(self) -> str:
        return self.fake.api_url

    @property
    def base_url(self) -> str:
        return self.fake.base_url

    def response_url(self, name: str = "default") -> str:
        return self.fake.response_url(name)

    def file_url(self, name: str = "photo.jpg") -> str:
        return self.fake.file_url(name)

    def calls(self, method: str | None = None) -> list[Call]:
        return self.fake.calls(method)

    def fail_next(self, method: str, **kwargs: Any) -> None:
        self.fake.fail_next(method, **kwargs)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Blocking wait (see :meth:`FakeSlack.wait_for`)."""
        return self.fake.wait_for_sync(method, count, timeout)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine (e.g. ``fake.socket_send_event(...)``) on the fake's loop; block."""
        return self.fake.run_sync(coro, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server, the loop and the thread. Idempotent."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> FakeSlackThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Signing and posting requests to Bolt's HTTP mode
# --------------------------------------------------------------------------------------------


def sign(body: str, secret: str, timestamp: int | str) -> str:
    """Slack's v0 signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str,
    secret: str,
    timestamp: int | str | None = None,
    *,
    content_type: str | None = None,
) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` / ``X-Slack-Signature`` (and ``Content-Type`` if given).

    ``timestamp`` defaults to now; Bolt rejects timestamps more than 5 minutes off.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(body, secret, ts)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


async def post_signed(
    url: str,
    body: str,
    content_type: str | None,
    secret: str,
    *,
    headers: Mapping[str, str] | None = None,
    timestamp: int | str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> tuple[int, str]:
    """POST a signed body to a running Bolt HTTP endpoint like Slack does; return (status, text).

    ``content_type=None`` picks JSON for bodies starting with ``{``, form otherwise.
    ``retry_num`` adds ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` as on Slack's redeliveries.
    ``headers`` are applied last, so they can override (e.g. forge) the signature.
    """
    if content_type is None:
        content_type = CONTENT_TYPE_JSON if body.lstrip().startswith("{") else CONTENT_TYPE_FORM
    all_headers = signed_headers(body, secret, timestamp, content_type=content_type)
    if retry_num is not None:
        all_headers["X-Slack-Retry-Num"] = str(retry_num)
        all_headers["X-Slack-Retry-Reason"] = retry_reason
    all_headers.update(headers or {})
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode("utf-8"), headers=all_headers) as resp,
    ):
        return resp.status, await resp.text()


# --------------------------------------------------------------------------------------------
# Payload builders (dicts for Socket Mode, strings for HTTP mode)
# --------------------------------------------------------------------------------------------


def _trigger_id() -> str:
    return f"{int(time.time())}.1234567890.{uuid.uuid4().hex}"


def slash_command_payload(
    command: str = "/ypsi",
    text: str = "",
    *,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = "fake.user",
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = "general",
    api_app_id: str = DEFAULT_APP_ID,
    response_url: str = UNSET_RESPONSE_URL,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """A slash command invocation as Slack sends it (all values strings)."""
    return {
        "token": "fake-verification-token",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }


def slash_command_body(command: str = "/ypsi", text: str = "", **fields: Any) -> str:
    """Form-encoded slash command body for HTTP mode; fields as :func:`slash_command_payload`."""
    return urlencode(slash_command_payload(command, text, **fields))


def block_action_payload(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_id: str = DEFAULT_CHANNEL_ID,
    message_ts: str = "1700000000.000001",
    response_url: str = UNSET_RESPONSE_URL,
    trigger_id: str | None = None,
    block_id: str = "actions",
    action_type: str = "button",
    container_type: Literal["message", "view"] = "message",
    is_ephemeral: bool = False,
    view_id: str = "V0FAKEHOME",
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
) -> dict[str, Any]:
    """A ``block_actions`` payload for one button click.

    ``container_type="message"`` (default) is a click in a message: the payload carries
    ``channel``, ``response_url`` and, unless ``is_ephemeral``, the ``message``.
    ``container_type="view"`` is a click in the App Home tab / a modal: ``view``, no
    ``response_url``. Pass ``view`` (as the fake returned it from ``views.open``...) for a click in
    that modal.
    """
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": value or action_id, "emoji": True}
    if value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "fake.user", "name": "fake.user", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "fake-verification-token",
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if container_type == "view":
        if view is not None:
            view_id = str(view["id"])
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = view or {
            "id": view_id,
            "type": "home",
            "team_id": team_id,
            "blocks": [],
            "state": {"values": {}},
        }
        return payload
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {
        "id": channel_id,
        "name": "directmessage" if channel_id.startswith("D") else "general",
    }
    payload["response_url"] = response_url
    if not is_ephemeral:
        payload["message"] = message or {
            "type": "message",
            "user": bot_user_id,
            "ts": message_ts,
            "text": "",
            "blocks": [],
        }
    return payload


def block_action_body(action_id: str, value: str | None = None, **fields: Any) -> str:
    """Form-encoded ``payload=<json>`` body for HTTP mode; fields as :func:`block_action_payload`."""
    return urlencode({"payload": json.dumps(block_action_payload(action_id, value, **fields))})


def global_shortcut_payload(
    callback_id: str,
    *,
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A global ``shortcut`` (from the composer or the search bar): no channel, no ``response_url``."""
    return {
        "type": "shortcut",
        "token": "fake-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user_id, "username": "fake.user", "team_id": team_id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or _trigger_id(),
    }


def global_shortcut_body(callback_id: str, **fields: Any) -> str:
    """Form-encoded ``payload=<json>`` body of a global shortcut; fields as :func:`global_shortcut_payload`."""
    return urlencode({"payload": json.dumps(global_shortcut_payload(callback_id, **fields))})


def view_submission_payload(
    view: dict[str, Any],
    *,
    user_id: str = DEFAULT_USER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    trigger_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
) -> dict[str, Any]:
    """A ``view_submission``: the person pressed the modal's submit button (``view`` as the fake returned it)."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user_id, "username": "fake.user", "name": "fake.user", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "fake-verification-token",
        "trigger_id": trigger_id or _trigger_id(),
        "view": {"state": {"values": {}}, **view},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission_body(view: dict[str, Any], **fields: Any) -> str:
    """Form-encoded ``payload=<json>`` body of a ``view_submission``; fields as :func:`view_submission_payload`."""
    return urlencode({"payload": json.dumps(view_submission_payload(view, **fields))})


def event_callback_payload(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
) -> dict[str, Any]:
    """An Events API ``event_callback`` wrapping ``event``."""
    return {
        "token": "fake-verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def event_body(
    event: dict[str, Any], event_id: str | None = None, team_id: str = DEFAULT_TEAM_ID, **fields: Any
) -> str:
    """JSON ``event_callback`` body for HTTP mode; fields as :func:`event_callback_payload`."""
    return json.dumps(event_callback_payload(event, event_id=event_id, team_id=team_id, **fields))


def url_verification_body(challenge: str = "fake-challenge") -> str:
    """JSON body of the ``url_verification`` handshake (Bolt answers with the challenge)."""
    return json.dumps(
        {"token": "fake-verification-token", "challenge": challenge, "type": "url_verification"}
    )


def _event_ts() -> str:
    return f"{time.time():.6f}"


def app_home_opened_event(
    user_id: str = DEFAULT_USER_ID,
    *,
    tab: Literal["home", "messages"] = "home",
    channel_id: str | None = None,
) -> dict[str, Any]:
    """``app_home_opened`` event (the user opened the app's Home or Messages tab)."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id or dm_channel_id(user_id),
        "tab": tab,
        "event_ts": _event_ts(),
    }


def im_message_event(
    text: str,
    *,
    user_id: str = DEFAULT_USER_ID,
    channel_id: str | None = None,
    ts: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
) -> dict[str, Any]:
    """``message.im``: a user's direct message to the app (``channel_type: "im"``)."""
    ts = ts or _event_ts()
    return {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "user": user_id,
        "ts": ts,
        "team": team_id,
        "channel": channel_id or dm_channel_id(user_id),
        "event_ts": ts,
        "channel_type": "im",
    }


def file_share_message_event(
    text: str = "",
    *,
    user_id: str = DEFAULT_USER_ID,
    channel_id: str | None = None,
    url_private: str = "https://files.slack.com/files-pri/T0FAKETEAM-F0FAKEFILE/photo.jpg",
    file_name: str = "photo.jpg",
    mimetype: str = "image/jpeg",
    file_id: str = "F0FAKEFILE",
    channel_type: str = "im",
    ts: str | None = None,
) -> dict[str, Any]:
    """A ``message`` with ``subtype: file_share`` carrying one file (with ``url_private``).

    Pass ``url_private=fake.file_url(...)`` so any download attempt is recorded by the fake.
    """
    ts = ts or _event_ts()
    now = int(time.time())
    file_obj = {
        "id": file_id,
        "created": now,
        "timestamp": now,
        "name": file_name,
        "title": file_name,
        "mimetype": mimetype,
        "filetype": file_name.rsplit(".", 1)[-1],
        "user": user_id,
        "mode": "hosted",
        "is_external": False,
        "is_public": False,
        "size": 12345,
        "url_private": url_private,
        "url_private_download": url_private + "?download=1",
        "permalink": f"https://{DEFAULT_TEAM_DOMAIN}.slack.com/files/{user_id}/{file_id}/{file_name}",
    }
    return {
        "type": "message",
        "subtype": "file_share",
        "text": text,
        "files": [file_obj],
        "upload": False,
        "user": user_id,
        "display_as_bot": False,
        "ts": ts,
        "channel": channel_id or dm_channel_id(user_id),
        "event_ts": ts,
        "channel_type": channel_type,
    }
