"""Telegram conversations end to end (real PTB Application, fake Bot API): who, where, topic, contacts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from telegram_harness import Bot, joined, methods, texts

from bot.assistant import Defaults
from dialogs.content import Content

AREA_ORDER = ("leeds", "kent", "national")  # topics are checked across all three area packs


def who_label(content: Content, who: str) -> str:
    return content.text(f"who_{who}")


def area_label(content: Content, area: str) -> str:
    return content.text("area_elsewhere") if area == "national" else content.areas[area].name


async def start_as(bot: Bot, content: Content, chat: int, who: str, area: str) -> None:
    await bot.command(chat, "start")
    await bot.choose(chat, who_label(content, who))
    await bot.choose(chat, area_label(content, area))


def signposting_cases(content: Content) -> list[tuple[str, str, str]]:
    """(who, choice label, outcome id) for each first-menu topic of the young person and parent flows."""
    cases = []
    for flow_id in ("young_person", "parent"):
        flow = content.flows[flow_id]
        start = flow.question(flow.start)
        assert start is not None
        for choice in start.choices:
            cases.append((flow.who, choice.label, choice.branches()[0].to))
    return cases


def _case_ids() -> list[tuple[str, str, str]]:
    from dialogs.lint import load_content

    return signposting_cases(load_content())


CASES = _case_ids()


async def test_start_asks_who_then_where_then_shows_topics_in_one_edited_message(
    bot: Bot, content: Content
) -> None:
    calls = await bot.command(101, "start")
    assert methods(calls) == ["sendMessage"]
    first = texts(calls)[0]
    assert content.text("welcome") in first and content.text("ask_who") in first
    menu_id, buttons = bot.menu(101)
    assert list(buttons) == [who_label(content, w) for w in ("young_person", "parent", "practitioner")]

    calls = await bot.choose(101, who_label(content, "parent"))
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert calls[1].params["message_id"] == menu_id
    assert content.text("ask_area") in texts(calls)[0]
    assert list(bot.menu(101)[1]) == [area_label(content, a) for a in ("kent", "leeds", "national")]

    calls = await bot.choose(101, "Kent")
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    new_menu_id, buttons = bot.menu(101)
    assert new_menu_id == menu_id  # still the one message: no pile of menus
    parent = content.flows["parent"]
    start = parent.question(parent.start)
    assert start is not None
    assert [c.label for c in start.choices] == list(buttons)[: len(start.choices)]
    assert content.text("nav_urgent") in buttons
    assert len(bot.tg.sent_messages(101)) == 1


@pytest.mark.parametrize(("who", "label", "outcome_id"), CASES, ids=[f"{w}-{o}" for w, _, o in CASES])
async def test_each_topic_ends_with_its_outcome_and_the_right_contacts(
    bot: Bot, content: Content, who: str, label: str, outcome_id: str
) -> None:
    area = AREA_ORDER[[c[2] for c in CASES].index(outcome_id) % len(AREA_ORDER)]
    chat = 200 + [c[2] for c in CASES].index(outcome_id)
    await start_as(bot, content, chat, who, area)

    calls = await bot.choose(chat, label)

    assert methods(calls)[:2] == ["answerCallbackQuery", "editMessageText"]
    text = joined(calls)
    flow = content.flows["young_person" if who == "young_person" else "parent"]
    outcome = flow.outcome(outcome_id)
    assert outcome is not None
    assert text.startswith(outcome.title)
    assert calls[1].params["entities"][0]["type"] == "bold"  # the title stands out
    for contact in content.resolve_contacts(outcome.contacts, area):
        assert contact.name in text, f"{contact.id} missing for {area}"
    _, buttons = bot.menu(chat)
    assert {content.text("nav_back"), content.text("nav_restart"), content.text("nav_urgent")} <= set(buttons)


@pytest.mark.parametrize("area", ["kent", "leeds", "national"])
async def test_a_professional_reaches_the_practitioner_triage(bot: Bot, content: Content, area: str) -> None:
    await start_as(bot, content, 300, "practitioner", area)
    flow = content.flows[content.areas[area].practitioner_flow]
    question = flow.question(flow.start)
    assert question is not None
    _, buttons = bot.menu(300)
    assert question.text in bot.tg.message(300, bot.menu(300)[0])["text"]  # type: ignore[index]
    assert [c.label for c in question.choices] == list(buttons)[: len(question.choices)]


async def test_deep_link_start_kent_skips_the_where_question(bot: Bot, content: Content) -> None:
    calls = await bot.command(310, "start", "kent")
    assert content.text("ask_who") in joined(calls)
    calls = await bot.choose(310, who_label(content, "young_person"))
    flow = content.flows["young_person"]
    question = flow.question(flow.start)
    assert question is not None
    assert question.text in joined(calls) and content.text("ask_area") not in joined(calls)
    session = await bot.store.load(bot.adapter.service.key(bot.adapter._ref(bot.app.bot, 310, 310)))
    assert session is not None and session.area == "kent"


async def test_deep_link_start_leeds_also_works(bot: Bot, content: Content) -> None:
    await bot.command(311, "start", "leeds")
    await bot.choose(311, who_label(content, "parent"))
    session = await bot.store.load(bot.adapter.service.key(bot.adapter._ref(bot.app.bot, 311, 311)))
    assert session is not None and session.area == "leeds"


async def test_default_area_from_settings_skips_the_where_question(
    make_bot: Callable[..., Any], content: Content
) -> None:
    async with make_bot(defaults=Defaults(area="leeds")) as bot:
        await bot.command(312, "start")
        calls = await bot.choose(312, who_label(content, "parent"))
        assert content.text("ask_area") not in joined(calls)


async def test_commands_are_registered_with_their_descriptions(bot: Bot, content: Content) -> None:
    registered = bot.tg.commands({"type": "all_private_chats"})  # the private chats' menu (profile.py)
    assert [c["command"] for c in registered] == ["start", "help", "contacts", "urgent", "exit", "forget"]
    for command in registered:
        assert command["description"] == content.commands[command["command"]].menu["telegram"]


async def test_urgent_lists_999_childline_samaritans_and_shout(bot: Bot, content: Content) -> None:
    text = joined(await bot.command(320, "urgent"))
    for contact_id in ("police_emergency", "childline", "samaritans", "shout"):
        contact = next(c for _, c in content.all_contacts() if c.id == contact_id)
        assert contact.name in text
    assert "999" in text


async def test_help_and_contacts_commands_answer(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 321, "parent", "leeds")
    assert content.text("help").splitlines()[0] in joined(await bot.command(321, "help"))
    contacts = joined(await bot.command(321, "contacts"))
    assert content.text("contacts_for", area=content.areas["leeds"].name) in contacts


async def test_crisis_words_in_the_middle_of_a_flow_get_help_first_and_keep_the_place(
    bot: Bot, content: Content
) -> None:
    await start_as(bot, content, 330, "young_person", "kent")
    calls = await bot.say(330, "honestly i want to die")
    sent = texts(calls)
    assert sent[0].startswith(content.text("crisis_title"))
    assert "999" in sent[0] and "Childline" in sent[0] and "Samaritans" in sent[0]
    flow = content.flows["young_person"]
    question = flow.question(flow.start)
    assert question is not None and question.text in sent[-1]  # then where they were
    calls = await bot.choose(330, question.choices[0].label)
    assert any(texts(calls)) and content.text("menu_expired") not in joined(calls)


async def test_free_text_is_routed_by_the_assistant(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 340, "parent", "national")
    text = joined(await bot.say(340, "childline"))
    assert "0800 1111" in text


async def test_back_and_start_again_buttons_work(bot: Bot, content: Content) -> None:
    await start_as(bot, content, 350, "young_person", "leeds")
    flow = content.flows["young_person"]
    question = flow.question(flow.start)
    assert question is not None
    await bot.choose(350, question.choices[1].label)
    calls = await bot.choose(350, content.text("nav_back"))
    assert question.text in joined(calls)
    calls = await bot.choose(350, content.text("nav_restart"))
    assert question.text in joined(calls)
