"""What keeps Telegram users safe: media never fetched and removed, no case talk in groups, quick exit,
forget, and logs that hold no text, ids or token."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from telegram_harness import TOKEN, Bot, joined, methods, texts

from adapters.telegram.app import GROUP_DEEP_LINK
from benchmarks.fakes.telegram_api import FILE_DOWNLOAD, FakeTelegram
from dialogs.content import Content

GROUP = -1001234567890


def _audio_update(tg: FakeTelegram, chat: int, kind: str) -> dict[str, Any]:
    """Builds media kinds the fake has no builder for, from a document message it already knows."""
    update = tg.make_document(chat, chat)
    attachment = update["message"].pop("document")
    if kind == "audio":
        update["message"]["audio"] = {**attachment, "duration": 30}
    else:  # video_note
        update["message"]["video_note"] = {k: attachment[k] for k in ("file_id", "file_unique_id")} | {
            "length": 240,
            "duration": 5,
        }
    return update


MEDIA: dict[str, Callable[[FakeTelegram, int], dict[str, Any]]] = {
    "photo": lambda tg, chat: tg.make_photo(chat, chat, caption="look at this"),
    "video": lambda tg, chat: tg.make_video(chat, chat),
    "document": lambda tg, chat: tg.make_document(chat, chat),
    "voice": lambda tg, chat: tg.make_voice(chat, chat),
    "sticker": lambda tg, chat: tg.make_sticker(chat, chat),
    "animation": lambda tg, chat: tg.make_animation(chat, chat),
    "audio": lambda tg, chat: _audio_update(tg, chat, "audio"),
    "video_note": lambda tg, chat: _audio_update(tg, chat, "video_note"),
}


@pytest.mark.parametrize("kind", list(MEDIA))
async def test_media_is_never_fetched_and_is_removed_with_a_warning(bot: Bot, content: Content, kind: str) -> None:
    chat = 400 + list(MEDIA).index(kind)
    await bot.command(chat, "start")
    update = MEDIA[kind](bot.tg, chat)
    message_id = update["message"]["message_id"]

    calls = await bot.turn(lambda: bot.tg.push_raw(update), chat)

    assert not bot.tg.calls("getFile") and not bot.tg.calls(FILE_DOWNLOAD)
    deletes = [c for c in calls if c.method == "deleteMessage"]
    assert [c.params["message_id"] for c in deletes] == [message_id]
    assert message_id in bot.tg.deleted_message_ids(chat)
    warning = texts(calls)[0]
    assert warning.startswith(content.text("media_title"))
    assert content.text("media_warning") in warning and content.text("telegram_media_removed") in warning


async def test_a_picture_mid_flow_keeps_the_place_and_an_undeletable_one_is_not_claimed_removed(
    bot: Bot, content: Content
) -> None:
    await bot.command(420, "start")
    await bot.choose(420, content.text("who_parent"))
    update = bot.tg.make_photo(420, 420)
    bot.tg.make_undeletable(update["message"]["message_id"], chat_id=420)
    calls = await bot.turn(lambda: bot.tg.push_raw(update), 420)
    assert content.text("media_warning") in joined(calls)
    assert content.text("telegram_media_removed") not in joined(calls)
    assert not bot.tg.calls("getFile")
    calls = await bot.choose(420, "Leeds")  # the menu from before the picture still works
    assert content.text("menu_expired") not in joined(calls)


@pytest.mark.parametrize(
    ("args", "mention"),
    [("", False), ("", True), ("my son sent a nude", False)],
    ids=["start", "start@bot", "start-with-words"],
)
async def test_in_a_group_a_command_gets_one_private_link_and_nothing_else(
    bot: Bot, content: Content, args: str, mention: bool
) -> None:
    push = lambda: bot.tg.push_command(GROUP, 501, "start", args, "supergroup", mention_bot=mention)  # noqa: E731
    calls = await bot.turn(push, GROUP)
    [sent] = [c for c in calls if c.method == "sendMessage"]
    link = f"https://t.me/{bot.tg.bot_user['username']}?start={GROUP_DEEP_LINK}"
    assert sent.params["text"] == content.text("group_refusal", link=link)
    assert sent.params["reply_markup"]["inline_keyboard"][0][0]["url"] == link
    assert "son" not in sent.params["text"]
    assert (await bot.store.stats()).live == 0  # no conversation was started or stored


async def test_in_a_group_plain_messages_and_other_bots_commands_get_no_reply(bot: Bot) -> None:
    def _other_bots_command() -> dict[str, Any]:
        update = bot.tg.make_text(GROUP, 502, "/start@some_other_bot", "supergroup")
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 21}]
        return update

    quiet = [
        lambda: bot.tg.push_text(GROUP, 502, "my daughter sent a photo, what now?", "supergroup"),
        lambda: bot.tg.push_text(GROUP, 502, "i want to die", "supergroup"),
        lambda: bot.tg.push_raw(bot.tg.make_photo(GROUP, 502, "supergroup")),
        lambda: bot.tg.push_raw(_other_bots_command()),
    ]
    for push in quiet:
        calls = await bot.turn(push, GROUP)
        assert methods(calls) == []
    assert not bot.tg.calls("getFile")
    assert (await bot.store.stats()).live == 0


async def test_in_a_group_a_mention_gets_the_link_once(bot: Bot, content: Content) -> None:
    username = bot.tg.bot_user["username"]
    update = bot.tg.make_text(-555, 503, f"@{username} can you help", "group")
    update["message"]["entities"] = [{"type": "mention", "offset": 0, "length": len(username) + 1}]
    calls = await bot.turn(lambda: bot.tg.push_raw(update), -555)
    assert methods(calls) == ["sendMessage"]
    bot.tg.push_duplicate(update["update_id"])
    await bot.settle(update, times=2)
    assert len(bot.tg.calls("sendMessage", chat_id=-555)) == 1  # a re-delivered update is not answered twice


async def test_quick_exit_deletes_the_conversation_forgets_the_user_and_leaves_one_message(
    bot: Bot, content: Content
) -> None:
    await bot.command(600, "start")
    await bot.choose(600, content.text("who_young_person"))
    await bot.choose(600, "Kent")
    await bot.say(600, "childline")
    exit_update = bot.tg.make_command(600, 600, "exit")
    exit_id = exit_update["message"]["message_id"]

    calls = await bot.turn(lambda: bot.tg.push_raw(exit_update), 600)

    deleted = bot.tg.deleted_message_ids(600)
    assert set(range(1, exit_id + 1)) <= deleted  # every message so far, the bot's and the user's
    assert [c.method for c in calls if c.ok][-1] == "sendMessage"
    assert texts(calls) == [content.text("quick_exit")]  # one neutral message stays
    assert (await bot.store.stats()).live == 0
    assert len(bot.adapter.recent) == 0


async def test_quick_exit_after_a_restart_still_clears_recent_messages(bot: Bot, content: Content) -> None:
    await bot.command(601, "start")
    await bot.choose(601, content.text("who_parent"))
    bot.adapter.recent.pop(bot.adapter.service.key(bot.adapter._ref(bot.app.bot, 601, 601)))  # as after restart
    await bot.command(601, "exit")
    assert {1, 2, 3} <= bot.tg.deleted_message_ids(601)


async def test_forget_removes_the_saved_conversation(bot: Bot, content: Content) -> None:
    await bot.command(610, "start")
    await bot.choose(610, content.text("who_parent"))
    assert (await bot.store.stats()).live == 1
    calls = await bot.command(610, "forget")
    assert texts(calls) == [content.text("forgotten")]
    assert (await bot.store.stats()).live == 0


async def test_very_long_text_and_control_characters_never_crash(bot: Bot, content: Content) -> None:
    await bot.command(620, "start")
    calls = await bot.say(620, "\x00\x07\u202e" + "a" * 5000 + "\ud83d")
    assert texts(calls) and content.text("sorry") not in joined(calls)
    calls = await bot.say(620, "\u200b\t\r")
    assert texts(calls)



async def test_logs_hold_no_typed_text_ids_or_token(
    captured_logs: io.StringIO, make_bot: Callable[..., Any], content: Content
) -> None:
    chat, user = 987654321987, 987654321987
    async with make_bot() as bot:
        bot.tg.fail_next("sendMessage", 502)  # a retry is logged too
        await bot.command(chat, "start", "kent")
        await bot.choose(chat, content.text("who_parent"))
        await bot.say(chat, "my daughter Zebedee-Quartz sent a photo to a boy")
        await bot.say(chat, "i want to die Xylophone-Marmalade")
        await bot.press(chat, 1, "forged-Pumpernickel")
        await bot.turn(lambda: bot.tg.push_photo(chat, user, caption="Caption-Gooseberry"), chat)
        await bot.turn(lambda: bot.tg.push_command(GROUP, user, "start", "Group-Tangerine", "supergroup"), GROUP)
    logs = captured_logs.getvalue()
    assert '"event":"turn"' in logs and "telegram_retry" in logs and "telegram_media" in logs
    for secret in (
        "Zebedee", "Xylophone", "Pumpernickel", "Gooseberry", "Tangerine",
        str(chat), str(GROUP), TOKEN, TOKEN.split(":")[1],
    ):  # fmt: skip
        assert secret not in logs, secret


async def test_quick_exit_falls_back_to_one_by_one_when_a_batch_delete_is_refused(
    bot: Bot, content: Content
) -> None:
    await bot.command(602, "start")
    await bot.choose(602, content.text("who_parent"))
    await bot.say(602, "contacts")
    bot.tg.fail_next("deleteMessages", 400, description="Bad Request: message can't be deleted")
    calls = await bot.command(602, "exit")
    assert [(c.method, c.status) for c in calls][0] == ("deleteMessages", 400)
    assert {1, 2, 3, 4, 5} <= bot.tg.deleted_message_ids(602)  # /start, menu, text, reply, /exit
    assert texts(calls)[-1] == content.text("quick_exit")


async def test_crisis_words_in_a_photo_caption_come_first_and_the_photo_is_still_never_fetched(
    bot: Bot, content: Content
) -> None:
    await bot.command(430, "start")
    calls = await bot.turn(lambda: bot.tg.push_photo(430, 430, caption="i want to die"), 430)
    sent = texts(calls)
    assert sent[0].startswith(content.text("crisis_title")) and "999" in sent[0]
    assert any(content.text("media_warning") in t for t in sent[1:])
    assert not bot.tg.calls("getFile") and not bot.tg.calls(FILE_DOWNLOAD)
