"""Getting replies through whatever Telegram does: re-deliveries, flood control, server errors, old and
forged buttons, refused edits, long texts, and updates of one chat arriving together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from telegram_harness import Bot, joined, methods, texts

from adapters.telegram.ordering import PerChatUpdateProcessor
from adapters.telegram.render import MAX_MESSAGE, utf16_len
from bot.action import Answer, Nav, PickArea, PickWho
from bot.session import Session
from bot.store import MemoryStore
from bot.types import Option, Outbound
from dialogs.content import Content


async def test_an_update_delivered_twice_is_answered_once(bot: Bot, content: Content) -> None:
    update = bot.tg.push_command(700, 700, "start")
    await bot.settle(update)
    bot.tg.push_duplicate(update["update_id"])
    await bot.settle(update, times=2)
    assert len(bot.tg.calls("sendMessage", chat_id=700)) == 1


async def test_a_button_press_delivered_twice_is_answered_once(bot: Bot, content: Content) -> None:
    await bot.command(701, "start")
    menu_id, buttons = bot.menu(701)
    press = bot.tg.push_callback(701, 701, menu_id, buttons[content.text("who_parent")])
    await bot.settle(press)
    bot.tg.push_duplicate(press["update_id"])
    await bot.settle(press, times=2)
    assert len(bot.tg.calls("editMessageText", chat_id=701)) == 1
    assert len(bot.tg.calls("sendMessage", chat_id=701)) == 1
    assert len(bot.tg.calls("answerCallbackQuery")) == 2  # every press is answered, even a repeat


async def test_flood_control_429_is_waited_out_and_the_reply_arrives(bot: Bot, content: Content) -> None:
    bot.tg.fail_next("sendMessage", 429, retry_after=3)
    calls = await bot.command(710, "start")
    assert [(c.method, c.status) for c in calls] == [("sendMessage", 429), ("sendMessage", 200)]
    assert content.text("ask_who") in texts(calls)[0]
    assert bot.sleeps == [3.0]  # honoured Telegram's retry_after


async def test_a_502_is_retried_with_backoff_and_the_reply_arrives(bot: Bot, content: Content) -> None:
    bot.tg.fail_next("sendMessage", 502, times=2)
    calls = await bot.command(711, "start")
    assert [c.status for c in calls if c.method == "sendMessage"] == [502, 502, 200]
    assert content.text("ask_who") in joined(calls)
    assert bot.sleeps == [0.5, 1.0]


async def test_errors_on_edits_and_button_answers_are_retried_too(bot: Bot, content: Content) -> None:
    await bot.command(712, "start")
    bot.tg.fail_next("answerCallbackQuery", 500)
    bot.tg.fail_next("editMessageText", 429, retry_after=2)
    calls = await bot.choose(712, content.text("who_parent"))
    assert [(c.method, c.status) for c in calls] == [
        ("answerCallbackQuery", 500),
        ("answerCallbackQuery", 200),
        ("editMessageText", 429),
        ("editMessageText", 200),
    ]


async def test_retries_are_bounded_and_a_dead_api_does_not_wedge_the_chat(bot: Bot, content: Content) -> None:
    bot.tg.fail_next("sendMessage", 502, times=5)
    calls = await bot.command(713, "start")
    assert [c.status for c in calls] == [502] * 5  # the turn gives up after 5 tries (the outbox takes over)
    await bot.command(713, "start")  # the next update is handled normally, queued behind the first
    await bot.delivered()
    sent = bot.tg.sent_texts(713)
    assert len(sent) == 2 and all(content.text("ask_who") in text for text in sent)


async def test_a_button_from_an_old_menu_gets_a_polite_expiry_and_a_fresh_menu(bot: Bot, content: Content) -> None:
    await bot.command(720, "start")
    old_id, old_buttons = bot.menu(720)
    await bot.choose(720, content.text("who_parent"))
    await bot.choose(720, "Leeds")
    # the "who are you" keyboard as it was before those taps (say, from a screenshot or a second device)
    calls = await bot.press(720, old_id, old_buttons[content.text("who_young_person")])
    # issue 15: the notice is the press's toast, and the pressed message shows the current screen (here it
    # already does: it is the menu those taps edited, so Telegram answers "not modified" and nothing is sent)
    assert methods(calls) == ["answerCallbackQuery"]
    assert calls[0].params["text"] == content.text("menu_expired")
    flow = content.flows["parent"]
    question = flow.question(flow.start)
    shown = bot.tg.message(720, old_id)
    assert question is not None and shown is not None and question.text in shown["text"]  # where they are
    assert [c.method for c in calls].count("sendMessage") == 0 and bot.menu(720)[0] == old_id
    assert content.text("sorry") not in joined(calls)


async def test_a_button_from_an_older_message_turns_it_into_the_current_screen(bot: Bot, content: Content) -> None:
    await bot.command(722, "start")
    old_id, old_buttons = bot.menu(722)
    await bot.command(722, "start")  # a second "who are you?" menu below the first
    await bot.choose(722, content.text("who_parent"))
    calls = await bot.press(722, old_id, old_buttons[content.text("who_young_person")])
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert calls[0].params["text"] == content.text("menu_expired")
    assert calls[1].params["message_id"] == old_id
    edited = bot.tg.message(722, old_id)
    assert edited is not None and content.text("ask_area") in edited["text"] and edited["reply_markup"]
    assert not bot.tg.calls("sendMessage", chat_id=722)[2:]  # no new message: the two starts only


async def test_a_button_on_a_message_telegram_no_longer_has_still_gets_an_answer(bot: Bot, content: Content) -> None:
    await bot.command(721, "start")
    calls = await bot.press(721, 9_999, bot.token(Nav("contacts")))
    assert methods(calls)[0] == "answerCallbackQuery"
    assert texts(calls)


async def test_forged_callback_data_changes_nothing(bot: Bot, content: Content) -> None:
    await bot.command(730, "start")
    await bot.choose(730, content.text("who_parent"))
    menu_id, _ = bot.menu(730)
    for forged in ("w.practitioner~AAAAAAAAAA", "c.parent.0.0.30d8", "x" * 64, "💥"):
        calls = await bot.press(730, menu_id, forged)
        assert methods(calls)[0] == "answerCallbackQuery"
        assert calls[0].params["text"] == content.text("forged_button")  # a toast (issue 15)
        shown = bot.tg.message(730, menu_id)  # the pressed menu shows where we were (it already did)
        assert shown is not None and content.text("ask_area") in shown["text"]
        assert content.text("forged_button") not in joined(calls) and "sendMessage" not in methods(calls)
    session = await bot.store.load(bot.adapter.service.key(bot.adapter._ref(bot.app.bot, 730, 730)))
    assert session is not None and session.who == "parent" and session.area is None


async def test_an_edit_telegram_refuses_falls_back_to_a_new_message(bot: Bot, content: Content) -> None:
    await bot.command(740, "start")
    bot.tg.fail_next("editMessageText", 400, description="Bad Request: message can't be edited")
    calls = await bot.choose(740, content.text("who_parent"))
    assert [(c.method, c.status) for c in calls] == [
        ("answerCallbackQuery", 200),
        ("editMessageText", 400),
        ("sendMessage", 200),
    ]
    assert content.text("ask_area") in texts(calls)[0]


async def test_a_not_modified_edit_also_falls_back(bot: Bot, content: Content) -> None:
    await bot.command(741, "start")
    bot.tg.fail_next("editMessageText", 400, description="Bad Request: message is not modified")
    calls = await bot.choose(741, content.text("who_young_person"))
    assert methods(calls) == ["answerCallbackQuery", "sendMessage"]
    assert bot.menu(741)[0] == bot.tg.sent_messages(741)[-1]["message_id"]  # the new message has the menu


async def test_a_long_reply_is_split_at_paragraphs_with_the_buttons_on_the_last_part(bot: Bot) -> None:
    paragraph = "Some guidance that goes on. " * 40  # about 1,100 characters
    out = Outbound("\n\n".join(f"{i}. {paragraph}" for i in range(12)), (Option("g.back~x", "Back", nav=True),))
    assert len(out.text) > 3 * MAX_MESSAGE
    since = bot.tg.mark()
    sent = await bot.adapter._send(bot.app.bot, 750, out, update_id=10**9, first=0, key=None)
    calls = [c for c in bot.tg.calls("sendMessage", chat_id=750) if c.seq >= since]
    assert sent == len(calls) == 4
    assert all(utf16_len(c.params["text"]) <= MAX_MESSAGE for c in calls)
    assert all(c.params["text"][0].isdigit() for c in calls)  # every part starts at a paragraph
    assert [("reply_markup" in c.params) for c in calls] == [False, False, False, True]
    assert "\n\n".join(c.params["text"] for c in calls) == out.text.strip()


async def test_updates_of_one_chat_arriving_together_are_handled_in_order(bot: Bot, content: Content) -> None:
    """/start, "parent", "Kent" and a topic pressed in one burst: each must see the state the last left.

    Whether a race would actually overtake here depends on the event loop, so the ordering itself is
    proven deterministically in test_telegram_parts; this checks the wiring end to end.
    """
    assert isinstance(bot.app.update_processor, PerChatUpdateProcessor)
    parent_topic = bot.token(Answer("parent", 0, 1))
    burst = [
        bot.tg.make_command(760, 760, "start"),
        bot.tg.make_callback(760, 760, 2, bot.token(PickWho("parent"))),
        bot.tg.make_callback(760, 760, 2, bot.token(PickArea("kent"))),
        bot.tg.make_callback(760, 760, 2, parent_topic),
    ]
    others = [bot.tg.make_command(761 + i, 761 + i, "start") for i in range(5)]
    bot.tg.fail_next("answerCallbackQuery", 502)  # holds up the first press: later ones must still wait
    for update in [burst[0], *others, *burst[1:]]:
        bot.tg.push_raw(update)
    for update in [*burst, *others]:
        await bot.settle(update)
    sent = joined([c for c in bot.tg.calls(chat_id=760)])
    assert content.text("menu_expired") not in sent
    outcome = content.flows["parent"].outcome("parent_child_received")
    assert outcome is not None and outcome.title in sent
    assert all(bot.tg.sent_texts(761 + i) for i in range(5))


async def test_updates_for_different_chats_run_at_the_same_time(bot: Bot, content: Content) -> None:
    """While one chat's reply is held up, another chat is answered."""
    held = asyncio.Event()
    release = asyncio.Event()
    original = bot.adapter._send_piece

    async def slow_for_chat_770(msg):  # type: ignore[no-untyped-def]
        if msg.chat_id == 770:
            held.set()
            await release.wait()
        return await original(msg)

    bot.adapter._send_piece = slow_for_chat_770  # type: ignore[method-assign]
    first = bot.tg.push_command(770, 770, "start")
    await asyncio.wait_for(held.wait(), 10)
    await bot.command(771, "start")  # answered while chat 770 is still waiting
    assert bot.tg.sent_texts(771) and not bot.tg.sent_texts(770)
    release.set()
    await bot.settle(first)
    assert bot.tg.sent_texts(770)



class _StoreDown(MemoryStore):
    async def load(self, key: str) -> Session | None:
        raise ConnectionError("store unreachable")


async def test_a_failing_store_gets_an_apology_not_silence(make_bot: Callable[..., Any], content: Content) -> None:
    async with make_bot(store=_StoreDown()) as bot:
        calls = await bot.command(780, "start")
        assert texts(calls) == [content.text("store_down")]  # the service's reply when its store fails
        calls = await bot.turn(lambda: bot.tg.push_callback(780, 780, 1, bot.token(PickWho("parent"))), 780)
        assert methods(calls) == ["answerCallbackQuery", "sendMessage"]


async def test_a_stale_button_on_a_message_telegram_will_not_edit_gets_one_new_message(
    bot: Bot, content: Content
) -> None:
    await bot.command(723, "start")
    old_id, old_buttons = bot.menu(723)
    await bot.command(723, "start")
    await bot.choose(723, content.text("who_parent"))
    bot.tg.fail_next("editMessageText", 400, description="Bad Request: message can't be edited")
    calls = await bot.press(723, old_id, old_buttons[content.text("who_young_person")])
    assert [(c.method, c.status) for c in calls] == [
        ("answerCallbackQuery", 200),
        ("editMessageText", 400),
        ("sendMessage", 200),
    ]
    assert calls[0].params["text"] == content.text("menu_expired")
    assert texts(calls) == [bot.tg.sent_texts(723)[-1]] and content.text("ask_area") in texts(calls)[0]
