"""Self-test of the fake Telegram Bot API server, driven by the real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession, FormData, web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from benchmarks.fakes.telegram_api import FILE_DOWNLOAD, SECRET_TOKEN_HEADER, FakeTelegram, ptb_request

TOKEN = "123456:TEST-TOKEN"
CHAT = 4242
GROUP = -1001234567890
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    real_bot = Bot(
        TOKEN,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        request=ptb_request(),
        get_updates_request=ptb_request(),
    )
    async with real_bot:
        yield real_bot


async def test_get_me_answers_the_fake_bot_and_records_the_token(tg: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "ypsi_test_bot"
    assert tg.base_url.startswith("http://127.0.0.1:") and tg.base_url.endswith("/bot")
    [call] = tg.calls("getMe")
    assert call.token == TOKEN and call.ok


async def test_send_message_is_recorded_with_decoded_params(tg: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(CHAT, "first", reply_markup=KEYBOARD)
    second = await bot.send_message(CHAT, "42")

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.reply_markup == KEYBOARD and first.from_user is not None
    assert first.from_user.id == tg.bot_user["id"] and first.chat.type == "private"
    call_one, call_two = tg.calls("sendMessage", chat_id=CHAT)
    assert call_one.params["chat_id"] == CHAT
    assert call_one.params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    assert call_two.params["text"] == "42"  # string parameters are never JSON-decoded
    assert tg.sent_texts(CHAT) == ["first", "42"]


async def test_message_ids_are_per_chat_and_shared_with_pushed_messages(tg: FakeTelegram, bot: Bot) -> None:
    pushed = tg.push_text(CHAT, CHAT, "hello")
    reply = await bot.send_message(CHAT, "hi")
    other = await bot.send_message(CHAT + 1, "hi")
    assert (pushed["message"]["message_id"], reply.message_id, other.message_id) == (1, 2, 1)


async def test_send_message_enforces_telegram_limits(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(CHAT, "q", reply_markup=too_long_data)


async def test_polling_application_echoes_text_and_never_fetches_media(tg: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        await update.effective_chat.send_message(f"echo: {update.effective_message.text}")

    async def refuse_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message("no media, please")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .request(ptb_request())
        .get_updates_request(ptb_request())
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(~filters.TEXT, refuse_media))
    await app.initialize()
    await app.updater.start_polling(poll_interval=0, timeout=5)  # type: ignore[union-attr]
    await app.start()
    try:
        tg.push_text(CHAT, CHAT, "hello")
        replies = await tg.wait_for("sendMessage", chat_id=CHAT)
        assert replies[0].params["text"] == "echo: hello"
        last = tg.push_photo(CHAT, CHAT, caption="look")
        await tg.wait_for("sendMessage", 2, chat_id=CHAT)
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()

    assert tg.sent_texts(CHAT) == ["echo: hello", "no media, please"]
    assert not tg.calls("getFile") and not tg.calls(FILE_DOWNLOAD)
    assert [c.method for c in tg.calls()[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    # PTB's last getUpdates confirms everything it received
    assert tg.calls("getUpdates")[-1].params["offset"] == last["update_id"] + 1
    assert tg.pending_updates() == 0


async def test_long_poll_waits_until_an_update_is_pushed(tg: FakeTelegram, bot: Bot) -> None:
    mark = tg.mark()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for("getUpdates", since=mark)  # the request is now parked inside the fake
    assert not poll.done()
    pushed = tg.push_text(CHAT, CHAT, "wake up")
    updates = await poll
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    assert updates[0].effective_message is not None and updates[0].effective_message.text == "wake up"


async def test_get_updates_honours_timeout_zero_limit_and_offset(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()
    ids = [tg.push_text(CHAT, CHAT, f"m{i}")["update_id"] for i in range(3)]

    assert [u.update_id for u in await bot.get_updates(timeout=0, limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], timeout=0)] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=0, timeout=0)] == ids[1:]  # ids[0] is gone
    assert await bot.get_updates(offset=ids[-1] + 1, timeout=0) == ()
    assert tg.pending_updates() == 0


async def test_push_duplicate_redelivers_the_same_update_id(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.push_text(CHAT, CHAT, "once")
    [got] = await bot.get_updates(timeout=0)
    offset = got.update_id + 1
    assert await bot.get_updates(offset=offset, timeout=0) == ()

    tg.push_duplicate(first["update_id"])
    [dup] = await bot.get_updates(offset=offset, timeout=0)
    assert dup.update_id == first["update_id"] and dup.effective_message is not None
    assert dup.effective_message.text == "once"

    later = tg.push_text(CHAT, CHAT, "twice")
    # PTB now confirms with the duplicate's id + 1: confirmed updates must not come back
    assert [u.update_id for u in await bot.get_updates(offset=dup.update_id + 1, timeout=0)] == [later["update_id"]]
    with pytest.raises(ValueError, match="no update"):
        tg.push_duplicate(999_999)


async def test_command_in_a_supergroup_parses_with_its_entity(tg: FakeTelegram, bot: Bot) -> None:
    update = Update.de_json(tg.make_command(GROUP, 77, "start", "area", "supergroup", mention_bot=True), bot)
    message = update.effective_message
    assert message is not None and message.chat.type == "supergroup" and message.chat.id == GROUP
    assert message.text == "/start@ypsi_test_bot area"
    assert message.parse_entities() == {message.entities[0]: "/start@ypsi_test_bot"}
    assert message.entities[0].type == "bot_command"
    with pytest.raises(ValueError, match="negative"):
        tg.make_text(5, 5, "hi", chat_type="group")


async def test_media_builders_produce_messages_ptb_recognises(tg: FakeTelegram, bot: Bot) -> None:
    def message_of(update: dict[str, Any]) -> Any:
        parsed = Update.de_json(update, bot).effective_message
        assert parsed is not None and parsed.effective_attachment
        return parsed

    assert message_of(tg.make_photo(CHAT, CHAT, caption="c")).photo[-1].file_unique_id
    assert message_of(tg.make_document(CHAT, CHAT)).document.mime_type == "image/jpeg"
    assert message_of(tg.make_video(CHAT, CHAT)).video.thumbnail is not None
    assert message_of(tg.make_voice(CHAT, CHAT)).voice.mime_type == "audio/ogg"
    assert message_of(tg.make_sticker(GROUP, 8, "supergroup")).sticker.emoji
    gif = message_of(tg.make_animation(CHAT, CHAT))
    assert gif.animation.file_id == gif.document.file_id  # as Telegram sends GIFs
    update_ids = [tg.push_voice(CHAT, CHAT)["update_id"], tg.push_sticker(CHAT, CHAT)["update_id"]]
    assert update_ids[1] == update_ids[0] + 1


async def test_callback_query_carries_the_message_with_its_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Safe?", reply_markup=KEYBOARD)
    update = Update.de_json(tg.make_callback(CHAT, CHAT, sent.message_id, "yes"), bot)
    query = update.callback_query
    assert query is not None and query.data == "yes" and query.from_user.id == CHAT
    assert query.message is not None and query.message.message_id == sent.message_id
    assert isinstance(query.message, type(sent)) and query.message.reply_markup == KEYBOARD
    assert await query.answer() is True
    assert tg.calls("answerCallbackQuery")[0].params["callback_query_id"] == query.id


async def test_edits_return_the_edited_message_and_reject_no_op_edits(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "v1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("v2", chat_id=CHAT, message_id=sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(edited, type(sent))
    assert (edited.text, edited.reply_markup, edited.message_id) == ("v2", KEYBOARD, sent.message_id)
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("v2", chat_id=CHAT, message_id=sent.message_id, reply_markup=KEYBOARD)

    stripped = await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(stripped, type(sent)) and stripped.reply_markup is None
    current = tg.message(CHAT, sent.message_id)
    assert current is not None and current["text"] == "v2" and "reply_markup" not in current
    assert tg.sent_texts(CHAT) == ["v1"]  # sent_messages keeps messages as first sent
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)


async def test_delete_message_and_configured_failures(tg: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(CHAT, "a")
    second = await bot.send_message(CHAT, "b")
    tg.make_undeletable(second.message_id, chat_id=CHAT)

    assert await bot.delete_message(CHAT, first.message_id) is True
    with pytest.raises(BadRequest, match="(?i)message can't be deleted"):
        await bot.delete_message(CHAT, second.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(CHAT, first.message_id)
    assert tg.deleted_message_ids(CHAT) == {first.message_id}
    assert [c.status for c in tg.calls("deleteMessage")] == [200, 400, 400]
    assert tg.message(CHAT, first.message_id) is None and tg.message(CHAT, second.message_id) is not None


async def test_injected_429_surfaces_as_retry_after_once(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter, match=r"Retry in (3 seconds|0:00:03)"):
        await bot.send_message(CHAT, "flood")
    await bot.send_message(CHAT, "fine")
    assert [c.status for c in tg.calls("sendMessage")] == [429, 200]
    assert tg.sent_texts(CHAT) == ["fine"]


async def test_injected_502_is_an_html_page_and_a_network_error(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(CHAT, "x")
        assert not isinstance(raised.value, BadRequest)
    assert (await bot.send_message(CHAT, "y")).text == "y"

    tg.fail_next("*", 502)
    async with ClientSession() as session, session.post(f"{tg.base_url}{TOKEN}/getMe") as response:
        assert response.status == 502 and response.content_type == "text/html"
        assert "502 Bad Gateway" in await response.text()


async def test_get_file_and_file_downloads_are_recorded(tg: FakeTelegram, bot: Bot) -> None:
    file = await bot.get_file("AgACAgQAAxkBAAI000001")
    assert tg.calls("getFile")[0].params["file_id"] == "AgACAgQAAxkBAAI000001"
    assert file.file_path is not None and file.file_path.startswith(tg.base_file_url)
    # The tripwire: a download attempt is answered 404 and recorded.
    async with ClientSession() as session, session.get(file.file_path) as response:
        assert response.status == 404
    assert len(tg.calls(FILE_DOWNLOAD)) == 1


async def test_json_multipart_get_and_unknown_methods_are_accepted(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}{TOKEN}"
    form = FormData()
    form.add_field("chat_id", str(CHAT))
    form.add_field("document", b"%PDF", filename="a.pdf", content_type="application/pdf")
    async with ClientSession() as session:
        async with session.post(f"{url}/sendMessage", json={"chat_id": CHAT, "text": "j"}) as response:
            assert (await response.json())["result"]["text"] == "j"
        async with session.post(f"{url}/sendDocument", data=form) as response:
            assert await response.json() == {"ok": True, "result": True}
        async with session.get(f"{url}/sendmessage", params={"chat_id": str(CHAT), "text": "g"}) as response:
            assert (await response.json())["result"]["message_id"] == 2
        async with session.post(f"{url}/frobnicate", data={"x": "[1, 2]"}) as response:
            assert await response.json() == {"ok": True, "result": True}

    assert tg.sent_texts(CHAT) == ["j", "g"]  # method names are case-insensitive
    assert tg.calls("sendDocument")[0].params == {
        "chat_id": CHAT,
        "document": {"filename": "a.pdf", "content_type": "application/pdf"},
    }
    assert tg.calls("frobnicate")[0].params == {"x": [1, 2]}


async def test_commands_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin"), ("exit", "Leave quickly")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "exit"]
    assert tg.commands()[1] == {"command": "exit", "description": "Leave quickly"}
    assert await bot.send_chat_action(CHAT, "typing") is True


async def test_webhook_blocks_polling_and_post_update_to_sends_the_secret(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://bot.example/telegram", secret_token="s3cret")
    assert tg.webhook_url == "https://bot.example/telegram"
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert tg.webhook_url == ""

    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_TOKEN_HEADER)
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret" else 403)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        update = tg.make_text(CHAT, CHAT, "via webhook")
        assert await FakeTelegram.post_update_to(url, update, secret_token="s3cret") == 200
        assert await FakeTelegram.post_update_to(url, update) == 403
    finally:
        await runner.cleanup()
    assert received == [("s3cret", update), (None, update)]
    assert tg.pending_updates() == 0  # make_* does not queue


async def test_wait_for_respects_since_predicates_and_fails_with_a_summary(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(CHAT, "old")
    mark = tg.mark()
    with pytest.raises(TimeoutError, match="sendMessage"):
        await tg.wait_for("sendMessage", since=mark, timeout=0)

    waiting = asyncio.create_task(tg.wait_for(lambda c: c.params.get("text") == "new", since=mark))
    await bot.send_message(CHAT + 1, "other")
    await bot.send_message(CHAT, "new")
    [call] = await waiting
    assert call.chat_id == CHAT and call.seq > mark


def _post(base_url: str, method: str, params: dict[str, Any]) -> Any:
    """A plain HTTP client, like a separately running bot process would use."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"{base_url}{TOKEN}/{method}", data=urlencode(params).encode())
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def test_threaded_fake_serves_other_threads_and_wakes_long_polls() -> None:
    with FakeTelegram.run_in_thread() as tg:
        assert tg.env["TELEGRAM_BASE_URL"] == tg.base_url
        polled: list[Any] = []
        mark = tg.mark()
        poller = threading.Thread(target=lambda: polled.append(_post(tg.base_url, "getUpdates", {"timeout": 5})))
        poller.start()
        tg.wait_for_sync("getUpdates", since=mark)  # the poll is parked in the fake
        pushed = tg.push_text(CHAT, CHAT, "from the test thread")
        poller.join()
        assert [u["update_id"] for u in polled[0]] == [pushed["update_id"]]

        sender = threading.Thread(target=_post, args=(tg.base_url, "sendMessage", {"chat_id": CHAT, "text": "r"}))
        sender.start()
        [call] = tg.wait_for_sync("sendMessage", chat_id=CHAT)
        sender.join()
        assert call.params == {"chat_id": CHAT, "text": "r"}
        with pytest.raises(TimeoutError):
            tg.wait_for_sync("sendMessage", 2, timeout=0)
