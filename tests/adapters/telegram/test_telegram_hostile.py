"""Hostile or odd updates on Telegram: each gets a sensible answer (or none), never an unhandled error."""

from __future__ import annotations

from typing import Any

from telegram_harness import Bot


def update(bot: Bot, **fields: Any) -> dict[str, Any]:
    """Queue an update of any shape the fake does not build itself (it assigns the update_id)."""
    return bot.tg.push_raw(bot.tg._update(**fields))  # noqa: SLF001


async def test_a_button_on_an_inline_message_without_a_message_is_answered(bot: Bot) -> None:
    query = {"id": "9001", "from": {"id": 501, "is_bot": False, "first_name": "A"}, "chat_instance": "1",
             "inline_message_id": "AAAA", "data": "c.kent.0.0.zzzz~AAAAAAAAAA"}
    calls = await bot.turn(lambda: update(bot, callback_query=query), 501)
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_a_button_without_data_is_answered_and_changes_nothing(bot: Bot) -> None:
    await bot.command(502, "start")
    message_id, _ = bot.menu(502)
    calls = await bot.turn(lambda: bot.tg.push_callback(502, 502, message_id, ""), 502)
    assert calls[0].method == "answerCallbackQuery"


async def test_edited_messages_and_channel_posts_are_ignored(bot: Bot) -> None:
    edited = {"message_id": 77, "date": 1, "edit_date": 2, "chat": {"id": 503, "type": "private"},
              "from": {"id": 503, "is_bot": False, "first_name": "A"}, "text": "i want to die"}
    assert await bot.turn(lambda: update(bot, edited_message=edited), 503) == []
    post = {"message_id": 78, "date": 1, "chat": {"id": -100503, "type": "channel", "title": "c"}, "text": "hi"}
    assert await bot.turn(lambda: update(bot, channel_post=post), -100503) == []


async def test_a_private_message_without_a_sender_is_ignored(bot: Bot) -> None:
    message = {"message_id": 79, "date": 1, "chat": {"id": 504, "type": "private"}, "text": "childline"}
    calls = await bot.turn(lambda: update(bot, message=message), 504)
    assert [c.method for c in calls if c.method == "sendMessage"] in ([], ["sendMessage"])


async def test_four_thousand_and_ninety_six_characters_with_control_and_rtl_text(bot: Bot) -> None:
    text = ("\u202e\x07 مرحبا 🙂 " * 400)[:4096]
    calls = await bot.turn(lambda: bot.tg.push_text(505, 505, text), 505)
    sent = [c for c in calls if c.method == "sendMessage"]
    assert sent and all(len(c.params["text"]) <= 4096 for c in sent)
