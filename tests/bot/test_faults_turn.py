"""A failed turn changes nothing.

Before: ``Assistant.handle`` changed the loaded session in place; when rendering then failed, the person got
"sorry" but the half-advanced session was saved and the event marked seen, so the platform's redelivery was
dropped (the safety tests replaced ``assistant.handle`` wholesale and never saw it). Here the fault is real and
inside the assistant: rendering an outcome (or a question) raises.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from adapters.console import ConsoleChat, console_service
from bot import render
from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.store import MemoryStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content

REF = ConversationRef("telegram", "7000000001", "555000333", "555000333")
SECRET = "fault-suite-secret-0123456789abcdef"
KENT = Defaults(who="practitioner", area="kent")


def _broken(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError("rendering failed")


async def test_a_turn_that_fails_while_rendering_saves_nothing_and_marks_nothing_seen(
    content: Content, assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    service = Service(assistant, store, SECRET)
    handled = await service.handle(REF, Inbound("command", command="start"), event_id="0", defaults=KENT)
    monkeypatch.setattr(render, "outcome", _broken)  # the outcome screen cannot be drawn
    n = 0
    while True:  # answer "2" (no; 13 to 17; ...) until the turn that reaches an outcome fails
        n += 1
        before = await store.load(handled.key)
        handled = await service.handle(REF, Inbound("text", text="2"), event_id=str(n), defaults=KENT)
        assert handled.reply is not None
        if handled.fault == "turn":
            break
        assert n < 10, "no outcome reached"
    assert handled.reply.event == "error"
    assert [r.text for r in handled.reply.replies] == [content.text("sorry")]
    after = await store.load(handled.key)
    assert after == before and after is not None and after.seen == before.seen  # not half-advanced
    assert content.flows["kent"].question(after.node or "") is not None  # still at the last question
    monkeypatch.undo()
    again = await service.handle(REF, Inbound("text", text="2"), event_id=str(n), defaults=KENT)
    assert not again.duplicate and again.reply is not None  # the redelivery is handled, not dropped
    assert again.reply.event == "outcome"


async def test_a_crisis_turn_that_fails_still_gets_the_crisis_card(
    content: Content, assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    service = Service(assistant, store, SECRET)
    await service.handle(REF, Inbound("command", command="start"), event_id="0", defaults=KENT)
    monkeypatch.setattr(render, "question", _broken)  # the question shown after the card cannot be drawn
    handled = await service.handle(REF, Inbound("text", text="i want to end my life"), event_id="1", defaults=KENT)
    assert handled.fault == "turn" and handled.reply is not None
    assert [r.kind for r in handled.reply.replies] == ["crisis"]
    assert "999" in handled.reply.replies[0].text and "0800 1111" in handled.reply.replies[0].text


def test_the_console_chat_after_a_failed_turn_carries_on_where_it_was(
    content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = ConsoleChat(console_service(content), who="parent", area="leeds")
    try:
        first = chat.send(Inbound("command", command="start"))
        assert first and first[-1].options
        monkeypatch.setattr(render, "outcome", _broken)
        replies = chat.type("1")  # the first topic: an outcome that cannot be drawn
        assert [r.text for r in replies] == [content.text("sorry")]
        monkeypatch.undo()
        replies = chat.type("1")  # the same menu still answers: nothing moved on
        assert replies and replies[0].kind == "outcome"
    finally:
        chat.close()


def test_a_session_copy_shares_no_list_with_the_original() -> None:
    from dataclasses import fields

    from bot.session import Session

    original = Session(answers=[("q", "a")], seen=["abcdef"], seen_at=[1.0])
    copy = original.copy()
    assert copy == original
    for f in fields(Session):
        value = getattr(original, f.name)
        if isinstance(value, list):
            assert getattr(copy, f.name) is not value, f.name
