"""Typed words on Telegram, through the real PTB stack: the same understanding as the console and Slack."""

from __future__ import annotations

from telegram_harness import Bot, joined

from dialogs.content import Content


async def test_words_of_danger_before_anything_else_get_the_crisis_card(bot: Bot) -> None:
    calls = await bot.say(801, "honestly i just feel like dying")
    text = joined(calls)
    assert "116 123" in text and "85258" in text and "0800 1111" in text and "999" in text


async def test_sextortion_gets_its_next_step_in_the_same_message(bot: Bot) -> None:
    await bot.command(802, "start")
    calls = await bot.say(802, "someone says they will share my nudes unless i pay them by tonight")
    sent = [c for c in calls if c.method == "sendMessage"]
    card = sent[0].params["text"]
    assert "116 123" in card and "CEOP" in card and "Don" in card and "pay" in card


async def test_the_first_message_is_understood_and_the_assumption_said(bot: Bot, content: Content) -> None:
    calls = await bot.say(803, "my daughter sent a nude to a boy and now it's being shared at school")
    text = joined(calls)
    assert content.text("assumed_parent") in text
    assert content.text("nav_change_who") in text


async def test_not_understood_twice_hands_over_to_a_person(bot: Bot, content: Content) -> None:
    await bot.command(804, "start")
    await bot.choose(804, content.text("who_young_person"))
    calls = await bot.say(804, "zqxv plorb wint")
    assert "0800 1111" in joined(calls)
    assert any(content.text("nav_talk_now") in str(c.params.get("reply_markup", "")) for c in calls)
    second = joined(await bot.say(804, "wint plorb zqxv"))
    assert "childline.org.uk" in second and "1-2-1" in second
