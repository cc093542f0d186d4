"""Helpers for the Slack adapter tests (fixtures are in conftest.py): the real Bolt app in HTTP mode
behind aiohttp on loopback, the fake
Slack Web API (benchmarks/fakes/slack_api.py) reached through its base URL, and helpers to press buttons.

Waiting is event-driven: the bot reports each finished interaction (``SlackBot.on_done``) and the fake wakes
waiters on every recorded call. Timeouts are only safety nets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from aiohttp import web

from adapters.outbox import Outbox
from adapters.slack.app import SlackBot
from adapters.slack.client import make_client
from adapters.slack.http import web_app
from benchmarks.fakes.slack_api import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_TEAM_ID,
    Call,
    FakeSlack,
    block_action_body,
    dm_channel_id,
    event_body,
    im_message_event,
    post_signed,
    slash_command_body,
)
from bot.assistant import Assistant
from bot.service import Service
from bot.store import MemoryStore, SessionStore, SQLiteStore
from dialogs.content import Content
from tests.clock import VirtualClock

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-bot-token-0123456789"
APP_TOKEN = "xapp-1-test-app-token-0123456789"
YPSI_SECRET = "test-deployment-secret-0123456789abcdef"
USER = "U0PRACTITIONER"
TEAM = DEFAULT_TEAM_ID
DM = dm_channel_id(USER)
CHANNEL = DEFAULT_CHANNEL_ID
TODAY = dt.date(2026, 11, 21)
# Monday 23 November 2026: noon is office hours, 8 pm is out of hours (London is on UTC in November).
NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC).timestamp()
EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC).timestamp()


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button or select in the blocks (actions blocks and section accessories)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "actions":
            out += block["elements"]
        elif isinstance(block.get("accessory"), dict):
            out.append(block["accessory"])
    return out


def labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in buttons(blocks) if b.get("type") == "button"]


def block_text(blocks: list[dict[str, Any]]) -> str:
    """All visible text in the blocks, one piece a line."""
    parts: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                parts.append(element["text"])
    return "\n".join(parts)


def trail(blocks: list[dict[str, Any]]) -> list[str]:
    """The "✓ question — answer" lines of a screen edited in place ([] when it has none)."""
    for block in blocks:
        if block.get("type") == "context":
            text = block["elements"][0]["text"]
            if text.startswith("✓ "):
                return text.split("\n")
    return []


class Harness:
    """One Slack user driving the bot: slash commands, button presses and DMs, signed like Slack."""

    def __init__(self, fake: FakeSlack, bot: SlackBot, url: str | None = None):
        self.fake = fake
        self.bot = bot
        self.url = url
        self.finished: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        bot.on_done = lambda kind, result: self.finished.put_nowait((kind, result))
        self._seen: dict[str, int] = {}
        self._barrier = make_client(BOT_TOKEN, fake.api_url)

    async def done(self) -> tuple[str, str]:
        """Wait until the bot has finished one interaction: (kind, result)."""
        return await asyncio.wait_for(self.finished.get(), 10)

    async def next_call(self, method: str, name: str | None = None) -> Call:
        """The next call of ``method`` not returned before (waiting for it)."""
        key = f"{method}:{name}"
        self._seen[key] = self._seen.get(key, 0) + 1
        n = self._seen[key]

        def nth(calls: list[Call]) -> Call | None:
            matching = [c for c in calls if c.method == method and (name is None or c.name == name)]
            return matching[n - 1] if len(matching) >= n else None

        return await self.fake.wait_until(nth, description=f"{method} #{n}")

    @property
    def outbox(self) -> Outbox:
        return self.bot.outbox

    async def drained(self, timeout: float = 10.0) -> None:
        """Wait until the outbox is empty (every deferred reply sent or given up, with a log line)."""
        await asyncio.wait_for(self.bot.outbox.wait_empty(), timeout)

    async def settle(self) -> None:
        """A barrier: a call of our own, recorded after whatever the bot had already sent."""
        before = len(self.fake.calls("auth.test"))
        await self._barrier.api_call("auth.test")
        await self.fake.wait_for("auth.test", count=before + 1)

    def unseen(self, method: str) -> list[Call]:
        """Calls of ``method`` not yet returned by :meth:`next_call`."""
        return self.fake.calls(method)[self._seen.get(f"{method}:None", 0) :]

    # -------------------------------------------------------------------------------- requests

    async def post(self, body: str, **kwargs: Any) -> int:
        assert self.url is not None
        status, _ = await post_signed(self.url, body, None, SIGNING_SECRET, **kwargs)
        return status

    async def command(self, text: str = "", *, channel_id: str = CHANNEL, trigger_id: str | None = None) -> str:
        body = slash_command_body(
            text=text,
            user_id=USER,
            team_id=TEAM,
            channel_id=channel_id,
            response_url=self.fake.response_url("cmd"),
            trigger_id=trigger_id,
        )
        assert await self.post(body) == 200
        kind, result = await self.done()
        assert kind == "command"
        return result

    async def press(self, message: Call, label: str) -> str:
        """Press the button labelled ``label`` on a message the bot posted or updated in the DM."""
        blocks = message.params["blocks"]
        button = next((b for b in buttons(blocks) if b.get("text", {}).get("text") == label), None)
        assert button is not None, f"no button {label!r} in {labels(blocks)}"
        body = block_action_body(
            button["action_id"],
            button.get("value"),
            user_id=USER,
            team_id=TEAM,
            channel_id=message.response["channel"],
            message_ts=message.response["ts"],
            response_url=self.fake.response_url("act"),
        )
        assert await self.post(body) == 200
        kind, result = await self.done()
        assert kind == "action"
        return result

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> str:
        assert await self.post(event_body(event, event_id=event_id), retry_num=retry_num) == 200
        _, result = await self.done()
        return result

    async def dm(self, text: str, **kwargs: Any) -> str:
        return await self.event(im_message_event(text, user_id=USER, team_id=TEAM), **kwargs)

    async def triage(self, area: str) -> Call:
        """``/ypsi triage <area>`` and the first question it posts in the DM."""
        assert await self.command(f"triage {area}") == "start"
        return await self.next_call("chat.postMessage")

    async def answer(self, question: Call, label: str) -> Call:
        """Press an answer and return the next screen (question or outcome): the pressed message, edited in
        place, with the answer just given as the last line of its trail."""
        await self.press(question, label)
        update = await self.next_call("chat.update")
        assert update.params["channel"] == question.response["channel"]
        assert update.params["ts"] == question.response["ts"]
        assert trail(update.params["blocks"])[-1].endswith(f" — {label}")
        return update


async def home_action(h: Harness, action_id: str, value: str | None = None, selected: str | None = None) -> str:
    """A press on the App Home tab (a select when ``selected`` is given), acknowledged and handled."""
    body = block_action_body(action_id, value, user_id=USER, team_id=TEAM, container_type="view")
    if selected is not None:
        payload = json.loads(parse_qs(body)["payload"][0])
        payload["actions"][0] |= {"type": "static_select", "selected_option": {"value": selected}}
        body = urlencode({"payload": json.dumps(payload)})
    assert await h.post(body) == 200
    kind, result = await h.done()
    assert kind == "action"
    return result


def make_service(content: Content, store: SessionStore, clock: float = NOON) -> Service:
    return Service(Assistant(content, YPSI_SECRET), store, YPSI_SECRET, clock=lambda: clock)


async def serve_http(bot: SlackBot) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app(bot), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class Stack:
    """Builds (and rebuilds, for restarts) the bot over a store, served over HTTP on loopback."""

    def __init__(self, fake: FakeSlack, content: Content):
        self.fake = fake
        self.content = content
        self.runners: list[web.AppRunner] = []
        self.stores: list[SessionStore] = []
        self.slept: list[float] = []
        self.bots: list[SlackBot] = []
        self.clock = VirtualClock()  # the outbox's

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def start(
        self, *, store: SessionStore | None = None, clock: float = NOON, default_area: str = "national"
    ) -> Harness:
        store = store or MemoryStore()
        self.stores.append(store)
        bot = SlackBot(
            make_service(self.content, store, clock),
            client=make_client(BOT_TOKEN, self.fake.api_url, sleep=self._sleep),
            signing_secret=SIGNING_SECRET,
            default_area=default_area,
            outbox=Outbox(clock=self.clock, sleep=self.clock.sleep),
        )
        self.bots.append(bot)
        runner, base = await serve_http(bot)
        self.runners.append(runner)
        return Harness(self.fake, bot, base + "/slack/events")

    async def stop(self) -> None:
        for bot in self.bots:
            await bot.outbox.stop()
        self.bots.clear()
        for runner in self.runners:
            await runner.cleanup()
        for store in self.stores:
            await store.close()
        self.runners.clear()
        self.stores.clear()


def sqlite_store(path: Path) -> SQLiteStore:
    return SQLiteStore(path)
