"""At most ``max_connections`` Bot API calls are in the HTTP client at once (httpcore's pool bookkeeping grew
with every call in flight: half the bot's CPU at saturation); the rest wait their turn, and none is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from telegram.error import TimedOut

from adapters.telegram.intake import ScreenedBot
from benchmarks.fakes.telegram_api import FakeTelegram, ptb_request
from dialogs.content import Content

TOKEN = "7000000002:AAFakeTokenForTestsOnly_abcdefghijkl"


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until ``condition`` holds (no clock involved; the loop bound fails a stuck test)."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_a_call_beyond_the_limit_waits_for_one_to_finish_then_goes(
    make_bot: Callable[..., Any], content: Content
) -> None:
    async with make_bot(max_connections=1) as bot:
        gate: asyncio.Semaphore = bot.app.bot._in_flight  # noqa: SLF001
        release = bot.tg.hold_next("sendMessage")
        first = bot.tg.push_command(901, 901, "start")
        await bot.tg.wait_for("sendMessage", chat_id=901)  # carried out, its answer held: the one slot is taken
        second = bot.tg.push_command(902, 902, "start")
        await until(lambda: bool(gate._waiters))  # noqa: SLF001 - the second chat's reply waits at the gate
        assert not bot.tg.calls("sendMessage", chat_id=902)
        release.set()
        await bot.settle(first)
        await bot.settle(second)
        assert content.text("ask_who") in bot.tg.sent_texts(902)[0]
        assert len(bot.tg.sent_texts(901)) == 1


async def test_a_call_that_waits_too_long_at_the_gate_fails_as_a_pool_timeout(tg: FakeTelegram) -> None:
    bot = ScreenedBot(TOKEN, base_url=tg.base_url, request=ptb_request(), get_updates_request=ptb_request(),
                      max_in_flight=1, pool_timeout=0.0)
    async with bot:
        release = tg.hold_next("sendMessage")
        held = asyncio.ensure_future(bot.send_message(903, "first"))
        await tg.wait_for("sendMessage", chat_id=903)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(904, "second")
        assert not tg.calls("sendMessage", chat_id=904)  # it never reached Telegram
        updates = await bot.get_updates(timeout=0)  # getUpdates does not wait at the gate
        assert updates == ()
        release.set()
        await held
        await bot.send_message(904, "now")  # and the slot is free again
        assert tg.sent_texts(904) == ["now"]
