"""Socket Mode: ``adapters.slack.run.serve`` connected to the fake Slack's websocket, as ``ypsi-bot slack`` runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_slack_harness import APP_TOKEN, BOT_TOKEN, DM, TEAM, USER, YPSI_SECRET, Harness, block_text, buttons

from adapters.cli import build_service
from adapters.slack.app import SlackBot
from adapters.slack.run import serve, slack_tokens
from benchmarks.fakes.slack_api import (
    RESPONSE_URL,
    SOCKET_CONNECT,
    URL_PRIVATE,
    Call,
    FakeSlack,
    file_share_message_event,
    im_message_event,
)
from bot.settings import Settings
from dialogs.lint import load_content


class SocketUser:
    """One user talking to the bot through Socket Mode envelopes."""

    def __init__(self, fake: FakeSlack, harness: Harness):
        self.fake = fake
        self.h = harness

    async def command(self, text: str) -> str:
        envelope = await self.fake.socket_send_slash_command(
            text=text, user_id=USER, response_url=self.fake.response_url("cmd")
        )
        assert await self.fake.wait_ack(envelope) == {"envelope_id": envelope}
        kind, result = await self.h.done()
        assert kind == "command"
        return result

    async def press(self, message: Call, label: str) -> str:
        button = next(b for b in buttons(message.params["blocks"]) if b["text"]["text"] == label)
        envelope = await self.fake.socket_send_block_action(
            action_id=button["action_id"],
            value=button["value"],
            user_id=USER,
            channel_id=message.response["channel"],
            message_ts=message.response["ts"],
            response_url=self.fake.response_url("act"),
        )
        assert await self.fake.wait_ack(envelope) == {"envelope_id": envelope}
        kind, result = await self.h.done()
        assert kind == "action"
        return result

    async def event(self, event: dict[str, Any], **kwargs: Any) -> str:
        envelope = await self.fake.socket_send_event(event, **kwargs)
        assert await self.fake.wait_ack(envelope) == {"envelope_id": envelope}
        _, result = await self.h.done()
        return result


@pytest.fixture
async def user(slack: FakeSlack) -> AsyncIterator[SocketUser]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_api_url=slack.api_url,
        ypsi_store="memory://",
        ypsi_secret=YPSI_SECRET,
    )
    stop = asyncio.Event()
    started: asyncio.Queue[SlackBot] = asyncio.Queue()
    task = asyncio.create_task(
        serve(
            settings,
            slack_tokens(settings, http=False),
            build_service(settings, load_content()),
            http=False,
            stop=stop,
            ready=lambda bot, _port: started.put_nowait(bot),
        )
    )
    bot = await asyncio.wait_for(started.get(), 10)
    await slack.wait_socket_connected()
    yield SocketUser(slack, Harness(slack, bot))
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_socket_mode_connects_with_the_app_token_through_slack_api_url(
    slack: FakeSlack, user: SocketUser
) -> None:
    [opened] = slack.calls("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert len(slack.calls(SOCKET_CONNECT)) == 1
    assert slack.calls("auth.test")[0].token == BOT_TOKEN  # the start-up check of the bot token


async def test_socket_mode_menu_is_acked_and_ephemeral(slack: FakeSlack, user: SocketUser) -> None:
    assert await user.command("") == "menu"

    hook = await user.h.next_call(RESPONSE_URL, "cmd")
    assert hook.params["response_type"] == "ephemeral"
    assert "Start a triage" in [b["text"]["text"] for b in buttons(hook.params["blocks"]) if b["type"] == "button"]


async def test_socket_mode_triage_to_outcome(slack: FakeSlack, user: SocketUser) -> None:
    assert await user.command("triage national") == "start"
    question = await user.h.next_call("chat.postMessage")
    assert question.response["channel"] == DM

    for label in ("No", "Yes"):
        assert await user.press(question, label) in ("answer", "outcome")
        question = await user.h.next_call("chat.update")  # the pressed question, edited into the next screen

    assert "Refer to children's social care" in block_text(question.params["blocks"])
    assert await user.press(question, "Decision record") == "record"
    record = await user.h.next_call("chat.postMessage")
    assert "[refer]" in block_text(record.params["blocks"])


async def test_socket_mode_dm_redelivery_is_handled_once(slack: FakeSlack, user: SocketUser) -> None:
    event = im_message_event("contacts", user_id=USER, team_id=TEAM)

    assert await user.event(event, event_id="Ev0SOCKET") == "contacts"
    assert await user.event(event, event_id="Ev0SOCKET", retry_attempt=1, retry_reason="timeout") == "duplicate"

    await user.h.next_call("chat.postMessage")
    await user.h.settle()
    assert len(slack.calls("chat.postMessage")) == 1


async def test_socket_mode_file_is_refused_without_download(slack: FakeSlack, user: SocketUser) -> None:
    event = file_share_message_event(user_id=USER, url_private=slack.file_url("x.png"), mimetype="image/png")

    assert await user.event(event) == "media"

    warning = await user.h.next_call("chat.postMessage")
    assert "I have not looked at it" in block_text(warning.params["blocks"])
    await user.h.settle()
    assert slack.calls(URL_PRIVATE) == [] and slack.calls("files.info") == []


async def test_socket_mode_acks_events_no_listener_matches(slack: FakeSlack, user: SocketUser) -> None:
    event = {"type": "reaction_added", "user": USER, "reaction": "eyes", "item": {}, "event_ts": "1.2"}

    assert await user.event(event) == "reaction_added"  # acked (a 404 would leave it unacked)
