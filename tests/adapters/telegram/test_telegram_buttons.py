"""Act in one tap on Telegram: link and copy buttons on contact cards, topics and outcomes, and a quick exit
button on every keyboard a young person sees (and only theirs)."""

from __future__ import annotations

from typing import Any

from telegram_harness import Bot, texts

from dialogs.content import Content


def keyboard(bot: Bot, chat: int, message_id: int | None = None) -> list[dict[str, Any]]:
    """The buttons of the newest bot message with a keyboard (or of ``message_id``), flattened."""
    if message_id is None:
        message_id, _ = bot.menu(chat)
    message = bot.tg.message(chat, message_id)
    assert message is not None
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


def keyboards(bot: Bot, chat: int) -> list[list[dict[str, Any]]]:
    """Every keyboard the bot sent or edited into ``chat``, as flattened buttons, in order."""
    out = []
    for call in bot.tg.calls():
        if call.chat_id == chat and call.ok and call.method in ("sendMessage", "editMessageText"):
            markup = call.params.get("reply_markup")
            if markup:
                out.append([b for row in markup["inline_keyboard"] for b in row])
    return out


async def start_as(bot: Bot, content: Content, chat: int, who: str) -> None:
    await bot.command(chat, "start")
    await bot.choose(chat, content.text(f"who_{who}"))
    await bot.choose(chat, "Kent")


async def test_a_contact_card_has_a_link_and_a_copy_button(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 700, "parent")
    calls = await bot.say(700, "childline")
    card = next(c for c in calls if c.method == "sendMessage" and "0800 1111" in str(c.params["text"]))
    buttons = [b for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
    assert {"text": content.text("link_childline"), "url": "https://www.childline.org.uk"} in buttons
    copy = next(b for b in buttons if "copy_text" in b)
    assert copy == {"text": content.text("copy_number", phone="0800 1111"), "copy_text": {"text": "0800 1111"}}


async def test_an_outcome_links_report_remove_and_ceop(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 701, "young_person")
    # Press through the young person's flow until an outcome shows; every keyboard on the way has quick exit.
    for _ in range(10):
        message_id, menu = bot.menu(701)
        choices = [label for label in menu if not label.startswith(("Back", "Start again"))]
        urls = [b.get("url") for b in keyboard(bot, 701, message_id)]
        if "https://www.childline.org.uk/remove" in urls:
            break
        await bot.press(701, message_id, menu[choices[0]])
    urls = {b["text"]: b.get("url") for b in keyboard(bot, 701)}
    assert urls[content.text("link_report_remove")] == "https://www.childline.org.uk/remove"
    assert all(content.text("nav_exit") in [b["text"] for b in kb] for kb in keyboards(bot, 701)[2:])


async def test_young_people_get_quick_exit_on_every_keyboard_and_others_do_not(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 702, "young_person")
    await bot.say(702, "childline")
    await bot.say(702, "contacts")
    shown = keyboards(bot, 702)[2:]  # after "who are you?" and "where are you?"
    assert shown and all(kb[-1]["text"] == content.text("nav_exit") for kb in shown)

    await start_as(bot, content, 703, "parent")
    await bot.say(703, "childline")
    assert all(content.text("nav_exit") not in [b["text"] for b in kb] for kb in keyboards(bot, 703))


async def test_the_quick_exit_button_does_what_exit_does(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 704, "young_person")
    await bot.say(704, "childline")
    message_id, _ = bot.menu(704)

    calls = await bot.choose(704, content.text("nav_exit"))

    assert set(range(1, message_id + 1)) <= bot.tg.deleted_message_ids(704)
    assert texts(calls) == [content.text("quick_exit")]
    assert (await bot.store.stats()).live == 0
