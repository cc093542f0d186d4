"""Deep links (``?start=parent_kent``): who is asking and where, straight from a poster or a council page.
Strict: anything else is the normal start, never an error. The README lists every link, ready for a QR code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from telegram_harness import Bot, joined, texts

from adapters.telegram.links import DeepLink, every_link, parse, url
from dialogs.content import Content

README = Path(__file__).resolve().parents[3] / "README.md"
PLACEHOLDER = "YOUR_BOT_USERNAME"


async def session_of(bot: Bot, chat: int) -> tuple[str | None, str | None]:
    session = await bot.store.load(bot.adapter.service.key(bot.adapter._ref(bot.app.bot, chat, chat)))
    assert session is not None
    return session.who, session.area


def first_question(content: Content, flow_id: str) -> str:
    flow = content.flows[flow_id]
    question = flow.question(flow.start)
    assert question is not None
    return question.text


@pytest.mark.parametrize(
    ("payload", "who", "area", "flow"),
    [
        ("parent_kent", "parent", "kent", "parent"),
        ("young_person_leeds", "young_person", "leeds", "young_person"),
        ("practitioner_leeds", "practitioner", "leeds", "ukcis"),
        ("practitioner_kent", "practitioner", "kent", "kent"),
        ("parent_national", "parent", "national", "parent"),
    ],
)
async def test_a_deep_link_with_who_and_where_opens_at_the_first_question(
    bot: Bot, content: Content, payload: str, who: str, area: str, flow: str
) -> None:
    calls = await bot.command(800, "start", payload)
    shown = joined(calls)
    assert content.text("welcome") in shown and first_question(content, flow) in shown
    assert content.text("ask_who") not in shown and content.text("ask_area") not in shown
    assert await session_of(bot, 800) == (who, area)
    assert content.text("sorry") not in shown


async def test_a_deep_link_with_who_alone_asks_only_where(bot: Bot, content: Content) -> None:
    calls = await bot.command(801, "start", "young_person")
    assert content.text("ask_area") in joined(calls) and content.text("ask_who") not in joined(calls)
    calls = await bot.choose(801, "Kent")
    assert first_question(content, "young_person") in joined(calls)
    assert await session_of(bot, 801) == ("young_person", "kent")


async def test_a_deep_link_starts_afresh_over_an_earlier_conversation(bot: Bot, content: Content) -> None:
    await bot.command(802, "start", "young_person_kent")
    await bot.command(802, "start", "parent_leeds")
    assert await session_of(bot, 802) == ("parent", "leeds")


@pytest.mark.parametrize(
    "payload",
    ["parent_mars", "Parent_Kent", "parent_kent_x", "parentkent", "admin", "practitioner_", "kent_parent",
     "young person", "parent__kent", "x" * 64],
)
async def test_anything_else_is_the_normal_start(bot: Bot, content: Content, payload: str) -> None:
    calls = await bot.command(803, "start", payload)
    [shown] = texts(calls)
    assert content.text("welcome") in shown and content.text("ask_who") in shown
    assert await session_of(bot, 803) == (None, None)


async def test_an_area_alone_and_the_group_link_still_start_as_before(bot: Bot, content: Content) -> None:
    await bot.command(804, "start", "kent")
    assert await session_of(bot, 804) == (None, "kent")
    calls = await bot.command(805, "start", "private")
    assert content.text("ask_who") in joined(calls)


def test_the_parser_is_strict(content: Content) -> None:
    areas = content.areas
    assert parse("parent_kent", areas) == DeepLink("parent", "kent")
    assert parse("young_person", areas) == DeepLink("young_person")
    for payload in ("", "parent kent", "parent_kent\n", "päärent", "parent-kent", "x" * 65, "young"):
        assert parse(payload, areas) is None
    for link in every_link(areas):
        assert parse(link.payload, areas) == link


def test_the_readme_lists_every_deep_link_ready_for_a_qr_code(content: Content) -> None:
    readme = README.read_text(encoding="utf-8")
    listed = set(re.findall(rf"https://t\.me/{PLACEHOLDER}\?start=([a-z_]+)", readme))
    assert listed == {link.payload for link in every_link(content.areas)}
    assert url(PLACEHOLDER, DeepLink("parent", "kent")) in readme
