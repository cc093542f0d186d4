"""Fixtures for the Telegram adapter: a fake Bot API and the real PTB Application running against it.

``bot`` runs the adapter in-process (long polling against :class:`FakeTelegram`), with a retry policy
whose sleep only records the delay, and an outbox on a :class:`VirtualClock` (its back-off passes at
once). Every update is marked done by a last-group handler, so a test waits
for "this update has been handled" instead of sleeping or guessing how many replies to expect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from adapters.outbox import Outbox
from adapters.telegram.app import TelegramAdapter, TelegramApp, build_application
from adapters.telegram.retry import RetryPolicy, Timeouts
from adapters.telegram.serve import running
from benchmarks.fakes.telegram_api import Call, FakeTelegram, ptb_request
from bot.action import Action
from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.store import MemoryStore, SessionStore
from dialogs.content import Content
from tests.clock import VirtualClock

TOKEN = "7000000001:AAFakeTokenForTestsOnly_abcdefghijkl"
SECRET = "telegram-test-secret"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
TODAY = dt.date(2026, 11, 21)


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as run_telegram sets it: no deprecation warnings


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@dataclass
class Bot:
    """The running adapter, and helpers that speak in taps and words rather than Bot API calls."""

    tg: FakeTelegram
    app: TelegramApp
    adapter: TelegramAdapter
    store: SessionStore
    sleeps: list[float]
    clock: VirtualClock = field(default_factory=VirtualClock)
    done: Counter[int] = field(default_factory=Counter)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # --------------------------------------------------------------------------- waiting

    async def mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._changed:
            self.done[update.update_id] += 1
            self._changed.notify_all()

    async def settle(self, update: dict[str, Any], times: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``update`` has been handled ``times`` times (all its replies sent)."""
        update_id = int(update["update_id"])
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.done[update_id] >= times), timeout)

    async def turn(self, push: Callable[[], dict[str, Any]], chat: int) -> list[Call]:
        """Push an update, wait for it to be handled, return the calls it made to ``chat``."""
        since = self.tg.mark()
        update = push()
        await self.settle(update)
        # answerCallbackQuery names no chat; tests drive one chat at a time, so it belongs to this turn
        return [c for c in self.tg.calls()[since:] if c.chat_id == chat or c.method == "answerCallbackQuery"]

    async def delivered(self, timeout: float = 10.0) -> None:
        """Wait until the outbox is empty (every deferred reply sent or given up, with a log line)."""
        await asyncio.wait_for(self.adapter.outbox.wait_empty(), timeout)

    # ------------------------------------------------------------------------ user actions

    async def command(self, chat: int, name: str, args: str = "", user: int | None = None) -> list[Call]:
        return await self.turn(lambda: self.tg.push_command(chat, user or chat, name, args), chat)

    async def say(self, chat: int, text: str) -> list[Call]:
        return await self.turn(lambda: self.tg.push_text(chat, chat, text), chat)

    async def press(self, chat: int, message_id: int, data: str) -> list[Call]:
        return await self.turn(lambda: self.tg.push_callback(chat, chat, message_id, data), chat)

    async def choose(self, chat: int, label: str) -> list[Call]:
        """Tap the button labelled ``label`` on the newest menu in ``chat``."""
        message_id, buttons = self.menu(chat)
        assert label in buttons, f"{label!r} not in {list(buttons)}"
        return await self.press(chat, message_id, buttons[label])

    # -------------------------------------------------------------------------- reading

    def menu(self, chat: int) -> tuple[int, dict[str, str]]:
        """The newest bot message in ``chat`` that still has buttons: its id and label → callback_data."""
        sent = self.tg.sent_messages(chat)
        assert sent, "the bot has sent nothing to this chat"
        for message_id in range(int(sent[-1]["message_id"]), 0, -1):
            message = self.tg.message(chat, message_id)
            if message and message.get("reply_markup") and message["from"]["id"] == self.tg.bot_user["id"]:
                rows = message["reply_markup"]["inline_keyboard"]
                return message_id, {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}
        raise AssertionError("no menu in this chat")

    def token(self, action: Action) -> str:
        """A button token as this deployment signs it (to press buttons before they are shown)."""
        return self.adapter.service.assistant.button(action)


def texts(calls: list[Call]) -> list[str]:
    """Texts the bot sent or edited in, in order."""
    return [str(c.params["text"]) for c in calls if c.ok and c.method in ("sendMessage", "editMessageText")]


def joined(calls: list[Call]) -> str:
    return "\n\n".join(texts(calls))


def methods(calls: list[Call]) -> list[str]:
    return [c.method for c in calls if c.ok]


@pytest.fixture
def make_bot(tg: FakeTelegram, content: Content) -> Callable[..., Any]:
    """Start the adapter with options; use as ``async with make_bot() as bot``."""
    import contextlib

    @contextlib.asynccontextmanager
    async def start(
        defaults: Defaults | None = None,
        store: SessionStore | None = None,
        timeouts: Timeouts | None = None,
        request: Any = None,
        limiter: Any = None,
        max_connections: int = 32,
    ) -> AsyncIterator[Bot]:
        store = store or MemoryStore()
        sleeps: list[float] = []
        clock = VirtualClock()

        async def record_sleep(delay: float) -> None:
            sleeps.append(delay)
            await asyncio.sleep(0)  # yield only: the delay is asserted, never waited

        retry = RetryPolicy(sleep=record_sleep)
        outbox = Outbox(clock=clock, sleep=clock.sleep)
        service = Service(Assistant(content, SECRET), store, SECRET, limiter=limiter)
        adapter = TelegramAdapter(service, retry=retry, outbox=outbox)
        if defaults is not None:
            adapter.defaults = defaults
        if timeouts is not None:
            adapter.timeouts = timeouts
        app = build_application(
            TOKEN,
            adapter,
            base_url=tg.base_url,
            request=request or ptb_request(connection_pool_size=32),
            get_updates_request=ptb_request(),
            max_connections=max_connections,
        )
        harness = Bot(tg, app, adapter, store, sleeps, clock)
        app.add_handler(TypeHandler(Update, harness.mark_done), group=99)
        async with running(app, store, retry=retry):
            yield harness

    return start


@pytest.fixture
async def bot(make_bot: Callable[..., Any]) -> AsyncIterator[Bot]:
    async with make_bot() as harness:
        yield harness
