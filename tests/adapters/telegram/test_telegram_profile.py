"""The bot's profile, set in code at start-up: the description someone sees in an empty chat, the short
description, and command menus scoped so that groups never see /exit or /forget."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from telegram_harness import Bot

from adapters.telegram.profile import DESCRIPTION_MAX, SHORT_DESCRIPTION_MAX, group_commands, private_commands
from dialogs.content import Content

PRIVATE = {"type": "all_private_chats"}
GROUPS = {"type": "all_group_chats"}
PROFILE_WRITES = ("setMyDescription", "setMyShortDescription", "setMyCommands", "deleteMyCommands")


def test_the_descriptions_fit_telegram_and_say_what_matters(content: Content) -> None:
    description = content.text("telegram_description")
    short = content.text("telegram_short_description")
    assert 0 < len(description) <= DESCRIPTION_MAX and 0 < len(short) <= SHORT_DESCRIPTION_MAX
    for text in (description, short):
        assert "0800 1111" in text and "999" in text and "Childline" in text
        assert "never ask for pictures" in text


async def test_the_profile_is_set_from_content_at_start_up(bot: Bot, content: Content) -> None:
    assert bot.tg.description("description") == content.text("telegram_description")
    assert bot.tg.description("short_description") == content.text("telegram_short_description")


async def test_private_chats_get_every_command_with_its_description(bot: Bot, content: Content) -> None:
    registered = bot.tg.commands(PRIVATE)
    assert [c["command"] for c in registered] == list(private_commands(content))
    assert [c["command"] for c in registered] == ["start", "help", "contacts", "urgent", "exit", "forget"]
    for command in registered:  # the descriptions are content/commands.yaml's Telegram menu texts
        assert command["description"] == content.commands[command["command"]].menu["telegram"]


async def test_groups_get_only_the_private_chat_link_command(bot: Bot, content: Content) -> None:
    registered = bot.tg.commands(GROUPS)
    assert [c["command"] for c in registered] == list(group_commands(content)) == ["start"]
    assert registered[0]["description"] == content.text("telegram_cmd_group_start")
    assert bot.tg.commands() == []  # nothing in the default scope, which groups would otherwise fall back to
    # and in a group, /start is answered with the private link alone
    calls = await bot.turn(lambda: bot.tg.push_command(-100777, 77, "start", chat_type="supergroup"), -100777)
    [sent] = [c for c in calls if c.method == "sendMessage"]
    assert sent.params["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=private")


async def test_a_menu_an_older_version_left_in_the_default_scope_is_removed(
    make_bot: Callable[..., Any], content: Content
) -> None:
    async with make_bot() as bot:
        pass
    bot.tg._commands[bot.tg._commands_key(None, "")] = [{"command": "forget", "description": "Forget"}]  # noqa: SLF001
    async with make_bot() as bot:
        assert bot.tg.commands() == []
        assert len(bot.tg.calls("deleteMyCommands")) == 1


async def test_a_restart_reads_the_profile_and_changes_nothing(make_bot: Callable[..., Any]) -> None:
    async with make_bot() as first:
        assert {c.method for c in first.tg.calls() if c.method in PROFILE_WRITES} == {
            "setMyDescription", "setMyShortDescription", "setMyCommands"
        }
    since = first.tg.mark()
    async with make_bot() as again:
        calls = again.tg.calls()[since:]
        assert not [c.method for c in calls if c.method in PROFILE_WRITES]
        reads = sorted(c.method for c in calls if c.method.startswith("getMy"))
        assert reads == ["getMyCommands"] * 3 + ["getMyDescription", "getMyShortDescription"]


async def test_a_changed_description_is_written_again(make_bot: Callable[..., Any], content: Content) -> None:
    async with make_bot() as bot:
        pass
    bot.tg._descriptions[("description", "")] = "an old description"  # noqa: SLF001
    since = bot.tg.mark()
    async with make_bot() as bot:
        writes = [c for c in bot.tg.calls()[since:] if c.method in PROFILE_WRITES]
        assert [c.method for c in writes] == ["setMyDescription"]
        assert bot.tg.description() == content.text("telegram_description")


async def test_a_profile_telegram_refuses_is_logged_and_the_bot_still_answers(
    tg: Any, make_bot: Callable[..., Any], content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tg.fail_next("setMyDescription", 400, description="Bad Request: DESCRIPTION_INVALID")
    tg.fail_next("getMyCommands", 403, description="Forbidden: nope")
    async with make_bot() as bot:
        failed = [r for r in caplog.records if r.getMessage() == "telegram_profile_failed"]
        assert sorted(r.fields["part"] for r in failed) in (
            ["commands_all_group_chats", "description"],
            ["commands_all_private_chats", "description"],
            ["commands_default", "description"],
        )
        assert bot.tg.description("short_description") == content.text("telegram_short_description")
        calls = await bot.command(780, "start")
        assert content.text("ask_who") in calls[-1].params["text"]
