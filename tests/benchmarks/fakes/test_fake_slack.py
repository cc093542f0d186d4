"""Self-test of the fake Slack, driven by the real slack-bolt / slack-sdk stack.

Each test runs Bolt (HTTP mode behind its aiohttp adapter, or Socket Mode through
``AsyncSocketModeHandler``) or slack-sdk clients against :class:`FakeSlack` on loopback, so a
change in the fake's wire format that the real libraries would reject shows up here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from benchmarks.fakes.slack_api import (
    RESPONSE_URL,
    SOCKET_ACK,
    SOCKET_CONNECT,
    URL_PRIVATE,
    FakeSlack,
    app_home_opened_event,
    block_action_body,
    dm_channel_id,
    event_body,
    file_share_message_event,
    im_message_event,
    post_signed,
    sign,
    signed_headers,
    slash_command_body,
    url_verification_body,
)

SECRET = "fake-signing-secret"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-1-fake-app-token"
USER = "U0ALICE"
HOME_VIEW: dict[str, Any] = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome"}}],
}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


def build_app(slack: FakeSlack, retry_handlers: list[AsyncRetryHandler] | None = None) -> AsyncApp:
    """A small Bolt app exercising the calls our Slack adapter makes."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=retry_handlers)
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/ypsi")
    async def ypsi(
        ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await respond(text=f"got {command['text']}", response_type="ephemeral")
        await client.chat_postEphemeral(
            channel=command["channel_id"], user=command["user_id"], text="private"
        )

    @app.action("choose")
    async def choose(ack: AsyncAck, respond: AsyncRespond, body: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"chose {body['actions'][0]['value']}", replace_original=True)

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view=HOME_VIEW)

    @app.event("message")
    async def message(event: dict[str, Any], say: AsyncSay, request: AsyncBoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num", ["-"])[0]
        if event.get("subtype") == "file_share":
            # Only look at metadata; never fetch the file.
            names = ",".join(f["name"] for f in event["files"])
            await say(text=f"files {names} retry={retry}")
        else:
            await say(text=f"echo {event['text']} retry={retry}")

    return app


async def serve_http(app: AsyncApp) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


@pytest.fixture
async def bolt_url(slack: FakeSlack) -> AsyncIterator[str]:
    runner, url = await serve_http(build_app(slack))
    yield url
    await runner.cleanup()


# -- HTTP mode ------------------------------------------------------------------------------------


async def test_signed_slash_command_is_acked_and_its_calls_recorded(slack: FakeSlack, bolt_url: str) -> None:
    body = slash_command_body(
        text="help", user_id=USER, channel_id="C0ROOM", response_url=slack.response_url("cmd")
    )

    status, text = await post_signed(bolt_url, body, None, SECRET)

    assert (status, text) == (200, "")
    [hook] = await slack.wait_for(RESPONSE_URL)
    assert hook.name == "cmd"
    assert hook.params["text"] == "got help"
    assert hook.params["response_type"] == "ephemeral"
    [ephemeral] = await slack.wait_for("chat.postEphemeral")
    # Bolt's per-request client adds the team_id of the request.
    assert ephemeral.params == {
        "channel": "C0ROOM",
        "user": USER,
        "text": "private",
        "team_id": slack.team_id,
    }
    assert ephemeral.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert ephemeral.token == BOT_TOKEN
    assert ephemeral.response["message_ts"]
    # Bolt's single-team authorization calls auth.test once, before the listener runs.
    assert slack.methods()[0] == "auth.test"
    assert slack.calls("files.info") == []


@pytest.mark.parametrize(
    ("secret", "timestamp"),
    [("not-the-secret", None), (SECRET, 1_000_000_000)],
    ids=["wrong-secret", "stale-timestamp"],
)
async def test_unverifiable_request_is_rejected_with_401(
    slack: FakeSlack, bolt_url: str, secret: str, timestamp: int | None
) -> None:
    body = slash_command_body(response_url=slack.response_url("cmd"))

    status, _ = await post_signed(bolt_url, body, None, secret, timestamp=timestamp)

    assert status == 401
    assert slack.calls() == []  # rejected before authorization, so not even auth.test


async def test_url_verification_answers_the_challenge(bolt_url: str) -> None:
    status, text = await post_signed(bolt_url, url_verification_body("c-123"), None, SECRET)

    assert status == 200
    assert json.loads(text) == {"challenge": "c-123"}


async def test_block_action_payload_reaches_the_action_listener(slack: FakeSlack, bolt_url: str) -> None:
    body = block_action_body("choose", "yes", user_id=USER, response_url=slack.response_url("msg"))

    status, _ = await post_signed(bolt_url, body, None, SECRET)

    assert status == 200
    [hook] = await slack.wait_for(RESPONSE_URL)
    assert (hook.name, hook.params["text"], hook.params["replace_original"]) == ("msg", "chose yes", True)


async def test_app_home_opened_publishes_a_decoded_view(slack: FakeSlack, bolt_url: str) -> None:
    status, _ = await post_signed(bolt_url, event_body(app_home_opened_event(USER)), None, SECRET)

    assert status == 200
    [publish] = await slack.wait_for("views.publish")
    assert publish.params == {"user_id": USER, "view": HOME_VIEW, "team_id": slack.team_id}
    assert publish.response["view"]["type"] == "home"


async def test_dm_event_with_retry_headers_reaches_the_listener(slack: FakeSlack, bolt_url: str) -> None:
    body = event_body(im_message_event("hello", user_id=USER))

    status, _ = await post_signed(bolt_url, body, None, SECRET, retry_num=1)

    assert status == 200
    [post] = await slack.wait_for("chat.postMessage")
    assert post.params["channel"] == dm_channel_id(USER)
    assert post.params["text"] == "echo hello retry=1"
    assert post.response["channel"] == dm_channel_id(USER)
    assert post.response["message"]["text"] == "echo hello retry=1"


async def test_file_share_event_carries_a_recorded_url_private(slack: FakeSlack, bolt_url: str) -> None:
    event = file_share_message_event(user_id=USER, url_private=slack.file_url("nude.jpg"), file_name="x.jpg")

    status, _ = await post_signed(bolt_url, event_body(event), None, SECRET)

    assert status == 200
    [post] = await slack.wait_for("chat.postMessage")
    assert post.params["text"] == "files x.jpg retry=-"
    assert slack.calls(URL_PRIVATE) == []
    assert slack.calls("files.info") == []


async def test_rate_limited_call_is_retried_after_retry_after(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retry handler sleeps Retry-After + random(); record the delay instead of waiting it.
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=record_sleep))
    monkeypatch.setattr(builtin_async_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    runner, url = await serve_http(build_app(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler()]))
    slack.fail_next("chat.postEphemeral", status=429, retry_after=3)
    try:
        status, _ = await post_signed(
            url, slash_command_body(response_url=slack.response_url()), None, SECRET
        )
        assert status == 200
        first, second = await slack.wait_for("chat.postEphemeral", count=2)
    finally:
        await runner.cleanup()

    assert (first.status, first.response) == (429, {"ok": False, "error": "ratelimited"})
    assert (second.status, second.response["ok"]) == (200, True)
    assert slept == [3.0]


async def test_rate_limit_without_retry_handler_surfaces_retry_after(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", retry_after=7)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0ROOM", text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "7"
    assert (await client.chat_postMessage(channel="C0ROOM", text="hi"))["ok"] is True


async def test_injected_api_error_applies_the_given_number_of_times(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", error="channel_not_found", times=2)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C0GONE", text="hi")
        assert (raised.value.response.status_code, raised.value.response["error"]) == (
            200,
            "channel_not_found",
        )
    response = await client.chat_postMessage(channel="C0GONE", text="hi")

    assert response["ok"] is True
    assert [c.status for c in slack.calls("chat.postMessage")] == [200, 200, 200]


# -- what is still visible -------------------------------------------------------------------------


async def test_chat_delete_removes_the_bots_own_message_once(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    first = await client.chat_postMessage(channel="D0ALICE", text="one")
    second = await client.chat_postMessage(channel="D0ALICE", text="two")
    await client.chat_update(channel="D0ALICE", ts=second["ts"], text="two, edited")
    assert [m["text"] for m in slack.messages("D0ALICE")] == ["one", "two, edited"]

    await client.chat_delete(channel="D0ALICE", ts=first["ts"])
    with pytest.raises(SlackApiError) as again:
        await client.chat_delete(channel="D0ALICE", ts=first["ts"])

    assert again.value.response["error"] == "message_not_found"
    assert [m["ts"] for m in slack.messages("D0ALICE")] == [second["ts"]]


# -- Web API shapes ---------------------------------------------------------------------------------


async def test_web_api_answers_and_records_every_method(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]

    opened = await client.conversations_open(users=USER)
    user = await client.users_info(user=USER)
    posted = await client.chat_postMessage(channel=opened["channel"]["id"], text="hi", blocks=blocks)
    updated = await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")
    deleted = await client.chat_delete(channel=posted["channel"], ts=posted["ts"])
    modal = await client.views_open(trigger_id="123.456", view={"type": "modal", "blocks": []})
    form_blocks = await client.api_call(
        "chat.postMessage", data={"channel": "C1", "blocks": json.dumps(blocks)}
    )
    unknown = await client.api_call("reactions.add", params={"name": "eyes"})
    with pytest.raises(SlackApiError):
        await client.files_info(file="F123")

    assert opened["channel"]["id"] == "D0ALICE"
    assert user["user"]["id"] == USER
    assert posted["message"]["blocks"] == blocks
    assert updated["ts"] == posted["ts"] and updated["text"] == "edited"
    assert deleted["ts"] == posted["ts"]
    assert modal["view"]["type"] == "modal" and modal["view"]["id"].startswith("V")
    assert slack.calls("chat.postMessage")[1].params["blocks"] == blocks  # form value JSON-decoded
    assert form_blocks["ok"] and unknown["ok"]
    assert slack.calls("reactions.add")[0].params == {"name": "eyes"}
    [files_info] = slack.calls("files.info")
    assert files_info.params == {"file": "F123"}


async def test_tokens_are_checked_like_slack(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as no_token:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    with pytest.raises(SlackApiError) as bot_token_for_socket:
        await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=BOT_TOKEN)

    assert no_token.value.response["error"] == "not_authed"
    assert bot_token_for_socket.value.response["error"] == "not_allowed_token_type"


async def test_wait_for_times_out_with_the_calls_seen(slack: FakeSlack) -> None:
    await AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url).auth_test()

    with pytest.raises(TimeoutError, match=r"chat\.postMessage.*auth\.test"):
        await slack.wait_for("chat.postMessage", timeout=0.01)


# -- Socket Mode ----------------------------------------------------------------------------------


@pytest.fixture
async def socket_handler(slack: FakeSlack) -> AsyncIterator[AsyncSocketModeHandler]:
    handler = AsyncSocketModeHandler(build_app(slack), app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    yield handler
    await handler.close_async()  # type: ignore[no-untyped-call]


async def test_socket_mode_slash_command_is_acked(
    slack: FakeSlack, socket_handler: AsyncSocketModeHandler
) -> None:
    envelope_id = await slack.socket_send_slash_command(
        text="help", user_id=USER, response_url=slack.response_url("sock")
    )

    ack = await slack.wait_ack(envelope_id)

    assert ack == {"envelope_id": envelope_id}
    [hook] = await slack.wait_for(RESPONSE_URL)
    assert (hook.name, hook.params["text"]) == ("sock", "got help")
    [opened] = slack.calls("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert opened.response["url"].startswith(f"ws://127.0.0.1:{slack.port}/link/?ticket=")
    assert len(slack.calls(SOCKET_CONNECT)) == 1


async def test_socket_mode_event_and_action_envelopes(
    slack: FakeSlack, socket_handler: AsyncSocketModeHandler
) -> None:
    event_envelope = await slack.socket_send_event(im_message_event("hi", user_id=USER), retry_attempt=2)
    action_envelope = await slack.socket_send_block_action(
        action_id="choose", value="no", response_url=slack.response_url("act")
    )

    assert await slack.wait_ack(event_envelope) == {"envelope_id": event_envelope}
    assert await slack.wait_ack(action_envelope) == {"envelope_id": action_envelope}
    [post] = await slack.wait_for("chat.postMessage")
    assert post.params["text"] == "echo hi retry=2"
    [hook] = await slack.wait_for(RESPONSE_URL)
    assert hook.params["text"] == "chose no"
    assert len(slack.calls(SOCKET_ACK)) == 2


async def test_socket_mode_client_reconnects_on_disconnect(
    slack: FakeSlack, socket_handler: AsyncSocketModeHandler
) -> None:
    await slack.wait_for(SOCKET_CONNECT)

    await slack.socket_send_disconnect()

    await slack.wait_for(SOCKET_CONNECT, count=2)
    assert len(slack.calls("apps.connections.open")) == 2
    envelope_id = await slack.socket_send_slash_command(response_url=slack.response_url())
    assert await slack.wait_ack(envelope_id) == {"envelope_id": envelope_id}


# -- Background thread --------------------------------------------------------------------------------


def test_thread_mode_serves_sync_clients() -> None:
    with FakeSlack.run_in_thread() as slack:
        response = WebClient(token=BOT_TOKEN, base_url=slack.api_url).chat_postMessage(
            channel=USER, text="hi"
        )

        [call] = slack.wait_for("chat.postMessage")

    assert response["channel"] == dm_channel_id(USER)
    assert (call.params, call.token) == ({"channel": USER, "text": "hi"}, BOT_TOKEN)


async def test_thread_mode_helpers_work_from_another_event_loop() -> None:
    with FakeSlack.run_in_thread() as slack:
        slack.fail_next("auth.test", error="invalid_auth")
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        with pytest.raises(SlackApiError):
            await client.auth_test()
        await client.auth_test()

        first, second = await slack.fake.wait_for("auth.test", count=2)

    assert (first.response["ok"], second.response["ok"]) == (False, True)


def test_signature_matches_slack_sdk_verifier() -> None:
    from slack_sdk.signature import SignatureVerifier

    body = slash_command_body(text="a b&c")
    headers = signed_headers(body, SECRET)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert sign(body, SECRET, 1) != sign(body, SECRET, 2)
