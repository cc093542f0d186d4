"""The Telegram adapter's parts on their own: rendering, retry, per-chat ordering, quick-exit memory,
settings checks, and the webhook server (in-process; the real process is in test_telegram_process)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram_harness import SECRET, TOKEN, joined

from adapters.telegram.app import RecentMessages, TelegramAdapter, build_application
from adapters.telegram.ordering import PerChatUpdateProcessor
from adapters.telegram.render import MAX_MESSAGE, keyboard, render, split_text, utf16_len
from adapters.telegram.retry import RetryPolicy, with_retry
from adapters.telegram.run import defaults_for, webhook_secret
from adapters.telegram.serve import running
from adapters.telegram.webhook import HEALTH_PATH, SECRET_HEADER, WebhookConfig
from benchmarks.fakes.telegram_api import FakeTelegram, ptb_request
from bot.action import Answer
from bot.assistant import Assistant
from bot.service import Service
from bot.settings import Settings, SettingsError
from bot.store import MemoryStore
from bot.types import Option, Outbound
from dialogs.content import Content

# ------------------------------------------------------------------------------------------ render


def test_short_text_is_one_piece_with_a_bold_title_and_the_keyboard() -> None:
    out = Outbound("Body text.", (Option("a~1", "One"), Option("g~2", "Back", nav=True)), title="Title 👋")
    [piece] = render(out)
    assert piece.text == "Title 👋\n\nBody text."
    assert piece.entities[0].type == "bold" and piece.entities[0].length == utf16_len("Title 👋") == 8
    assert piece.markup is not None


def test_split_never_exceeds_the_limit_counting_utf16_and_keeps_every_word() -> None:
    text = "\n\n".join(("😀 word " * 300).strip() for _ in range(5))
    parts = split_text(text)
    assert len(parts) > 1 and all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_split_cuts_an_endless_word_without_breaking_a_surrogate_pair() -> None:
    parts = split_text("😀" * 3000)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000


def test_split_prefers_paragraphs_then_lines() -> None:
    para = "x" * 3000
    assert split_text(f"{para}\n\n{para}") == [para, para]
    assert split_text(f"{para}\n{para}") == [para, para]
    assert split_text("   \n\n  ") == []


def test_keyboard_puts_choices_one_per_row_and_navigation_two_per_row() -> None:
    options = (Option("c1", "A"), Option("c2", "B"), *(Option(f"n{i}", f"N{i}", nav=True) for i in range(3)))
    markup = keyboard(options)
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["A"], ["B"], ["N0", "N1"], ["N2"]]
    assert keyboard(()) is None


def test_every_button_token_the_assistant_makes_fits_telegram(content: Content) -> None:
    assistant = Assistant(content, SECRET)
    for flow in content.flows.values():
        for qi, q in enumerate(flow.questions):
            for ci in range(len(q.choices)):
                token = assistant.button(Answer(flow.id, qi, ci))
                assert 1 <= len(token.encode()) <= 64


# ------------------------------------------------------------------------------------------- retry


def _flaky(*errors: Exception) -> tuple[Callable[[], Any], list[int]]:
    calls = [0]
    queue = list(errors)

    async def call() -> str:
        calls[0] += 1
        if queue:
            raise queue.pop(0)
        return "ok"

    return call, calls


async def test_retry_honours_retry_after_and_backs_off_on_network_errors() -> None:
    delays: list[float] = []

    async def sleep(d: float) -> None:
        delays.append(d)

    call, calls = _flaky(RetryAfter(7), NetworkError("Bad Gateway"), TimedOut())
    assert await with_retry(call, RetryPolicy(sleep=sleep), "sendMessage") == "ok"
    assert delays == [7.0, 1.0, 2.0] and calls[0] == 4  # backoff doubles with each attempt


@pytest.mark.parametrize("error", [BadRequest("Message is too long"), Forbidden("blocked")])
async def test_retry_never_repeats_requests_telegram_refused(error: Exception) -> None:
    call, calls = _flaky(error)
    with pytest.raises(type(error)):
        await with_retry(call, RetryPolicy(sleep=lambda d: asyncio.sleep(0)), "sendMessage")
    assert calls[0] == 1


async def test_retry_gives_up_after_its_attempts_and_on_very_long_flood_waits() -> None:
    call, calls = _flaky(*[NetworkError("x")] * 10)
    with pytest.raises(NetworkError):
        await with_retry(call, RetryPolicy(attempts=3, sleep=lambda d: asyncio.sleep(0)), "m")
    assert calls[0] == 3
    call, calls = _flaky(RetryAfter(3600))
    with pytest.raises(RetryAfter):
        await with_retry(call, RetryPolicy(sleep=lambda d: asyncio.sleep(0)), "m")
    assert calls[0] == 1


# ---------------------------------------------------------------------------------------- ordering


def _update(update_id: int, chat: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "U"},
                "text": "x",
            },
        },
        None,
    )


async def test_processor_runs_one_chats_updates_in_order_and_other_chats_alongside() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    gate = asyncio.Event()
    b1_done = asyncio.Event()

    async def work(name: str, wait: bool = False) -> None:
        log.append(f"{name} start")
        if wait:
            await gate.wait()
        log.append(f"{name} end")
        if name == "b1":
            b1_done.set()

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 10), work("a1", wait=True))),
        asyncio.create_task(processor.process_update(_update(2, 10), work("a2"))),
        asyncio.create_task(processor.process_update(_update(3, 20), work("b1"))),
    ]
    await asyncio.wait_for(b1_done.wait(), 5)  # chat 20 finishes while chat 10's first update is held
    assert log == ["a1 start", "b1 start", "b1 end"]
    assert processor.busy_chats == 1
    gate.set()
    await asyncio.gather(*tasks)
    assert log[3:] == ["a1 end", "a2 start", "a2 end"]
    assert processor.busy_chats == 0


async def test_processor_survives_a_failing_update() -> None:
    processor = PerChatUpdateProcessor(4)

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> str:
        return "done"

    first = asyncio.create_task(processor.process_update(_update(1, 5), boom()))
    second = asyncio.create_task(processor.process_update(_update(2, 5), fine()))
    with pytest.raises(RuntimeError):
        await first
    await second
    assert processor.busy_chats == 0


# ------------------------------------------------------------------------------ quick-exit memory


def test_recent_messages_are_bounded_per_chat_and_in_chats() -> None:
    recent = RecentMessages(chats=3, per_chat=4)
    for chat in "abcd":
        recent.add(chat, *range(10))
    assert len(recent) == 3 and recent.get("a") == []  # the least recently active chat went first
    assert recent.get("d") == [6, 7, 8, 9]
    recent.add("b", 99)
    recent.add("e", 1)
    assert recent.get("b") == [7, 8, 9, 99] and recent.get("c") == []
    assert recent.pop("b") == [7, 8, 9, 99] and recent.pop("b") == []


# --------------------------------------------------------------------------------------- settings


def test_webhook_mode_needs_a_well_formed_secret() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET is not set"):
        webhook_secret(Settings(telegram_webhook_secret=None))
    with pytest.raises(SettingsError, match="only use letters"):
        webhook_secret(Settings(telegram_webhook_secret=SecretStr("has spaces!")))
    assert webhook_secret(Settings(telegram_webhook_secret=SecretStr("ok_Secret-1"))) == "ok_Secret-1"


def test_default_area_is_used_only_when_set(content: Content) -> None:
    assert defaults_for(Settings(), content).area is None
    assert defaults_for(Settings(ypsi_default_area="Kent"), content).area == "kent"
    with pytest.raises(SettingsError, match="YPSI_DEFAULT_AREA"):
        defaults_for(Settings(ypsi_default_area="narnia"), content)


# ------------------------------------------------------------------------------- webhook server


class _BrokenStore(MemoryStore):
    async def health(self) -> bool:
        raise OSError("disk gone")


@pytest.mark.parametrize("store_ok", [True, False])
async def test_webhook_accepts_only_the_secret_and_reports_health(
    tg: FakeTelegram, content: Content, store_ok: bool
) -> None:
    store = MemoryStore() if store_ok else _BrokenStore()
    adapter = TelegramAdapter(Service(Assistant(content, SECRET), store, SECRET))
    app = build_application(TOKEN, adapter, base_url=tg.base_url, polling=False, request=ptb_request())
    config = WebhookConfig("https://bot.example.org/tg/hook", "right-secret", "127.0.0.1", 0)
    async with running(app, store, webhook=config) as server, ClientSession() as http:
        assert server is not None
        [set_webhook] = tg.calls("setWebhook")
        assert set_webhook.params["url"] == config.url
        assert set_webhook.params["secret_token"] == "right-secret"
        base = f"http://127.0.0.1:{server.port}"

        async with http.get(base + HEALTH_PATH) as health:
            assert health.status == (200 if store_ok else 503)
            assert (await health.json())["ok"] is store_ok
            assert await health.json() == {"ok": store_ok, "store": "memory"}  # the JSON Slack's /healthz gives

        update = tg.make_command(800, 800, "start")
        for headers in ({}, {SECRET_HEADER: "wrong-secret"}):
            assert await tg.post_update_to(base + "/tg/hook", update, headers.get(SECRET_HEADER)) == 403
        assert not tg.calls("sendMessage")
        async with http.post(base + "/tg/hook", data="not json", headers={SECRET_HEADER: "right-secret"}) as bad:
            assert bad.status == 400

        mark = tg.mark()
        assert await tg.post_update_to(base + "/tg/hook", update, "right-secret") == 200
        [sent] = await tg.wait_for("sendMessage", chat_id=800, since=mark)
        assert content.text("ask_who") in joined([sent])
        assert not tg.calls("getUpdates")
