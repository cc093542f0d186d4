"""Typed button actions: one token format (bot.action), and a Reply that says as data what adapters need."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.action import Answer, Buttons, Expired, JumpTo, Nav, PickArea, PickWho, ShowContact, ShowTopic
from bot.assistant import Assistant, Defaults, Reply
from bot.tokens import MAX_TOKEN
from bot.types import Inbound
from dialogs.content import Content

AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
PRACTITIONER = Defaults("practitioner", "kent", True)


@pytest.fixture
def buttons(content: Content) -> Buttons:
    return Buttons("test-secret", content.version)


@pytest.mark.parametrize("action", [
    PickWho("parent"), PickArea("leeds"), ShowTopic("first_steps"), ShowContact("childline"),
    JumpTo("parent", "some_outcome"), Nav("urgent"),
])
def test_an_action_survives_its_token(buttons: Buttons, action: object) -> None:
    token = buttons.encode(action)  # type: ignore[arg-type]
    assert len(token.encode()) <= MAX_TOKEN
    assert buttons.decode(token) == action


def test_an_answer_carries_the_content_version_it_was_shown_under(buttons: Buttons) -> None:
    decoded = buttons.decode(buttons.encode(Answer("kent", 2, 1)))
    assert isinstance(decoded, Answer) and (decoded.flow, decoded.question, decoded.choice) == ("kent", 2, 1)
    assert buttons.current(decoded)
    older = Buttons("test-secret", "2025.1.1+0000dead").decode(Buttons("test-secret", "x+dead").encode(
        Answer("kent", 2, 1)))
    assert isinstance(older, Answer) and not buttons.current(older)


def test_a_token_of_another_secret_is_forged_and_a_signed_oddity_expired(buttons: Buttons) -> None:
    assert buttons.decode(Buttons("other-secret", "v").encode(Nav("urgent"))) is None
    assert buttons.decode("g.urgent~") is None
    assert buttons.decode("é" * 20) is None
    assert buttons.decode(buttons.signer.sign("c", "kent", "x", "1", buttons.version)) == Expired()
    assert buttons.decode(buttons.signer.sign("zz", "a")) == Expired()
    with pytest.raises(ValueError):
        buttons.encode(Expired())


def first_question(assistant: Assistant) -> Reply:
    return assistant.handle(None, Inbound("command", command="triage"), AT, PRACTITIONER)


def press(assistant: Assistant, reply: Reply, label: str) -> Reply:
    option = next(o for o in reply.replies[-1].options if o.label == label)
    return assistant.handle(reply.session, Inbound("action", action=option.action), AT, PRACTITIONER)


def test_reply_says_which_question_a_button_answered(assistant: Assistant, content: Content) -> None:
    started = first_question(assistant)
    flow = content.flows["kent"]
    answered = press(assistant, started, "No").answered
    assert answered is not None and answered.first and answered.answer == "No"
    assert answered.question == flow.question(flow.start).text  # type: ignore[union-attr]
    assert first_question(assistant).answered is None


def test_reply_says_when_it_explains_is_help_is_forgotten_or_a_crisis(assistant: Assistant) -> None:
    started = first_question(assistant)
    explained = press(assistant, started, assistant.content.text("nav_explain"))
    assert explained.explains and explained.event == "explain"
    helped = assistant.handle(started.session, Inbound("command", command="help"), AT, PRACTITIONER)
    assert helped.help and not helped.explains
    forgotten = assistant.handle(started.session, Inbound("command", command="forget"), AT, PRACTITIONER)
    assert forgotten.forgotten and forgotten.session is None and not forgotten.delete_conversation
    urgent = press(assistant, started, assistant.content.text("nav_urgent"))
    assert urgent.crisis and not started.crisis


def test_reply_says_when_the_pressed_button_was_stale_or_forged(assistant: Assistant, content: Content) -> None:
    started = first_question(assistant)
    answered = press(assistant, started, "No")
    assert not started.stale and not answered.stale
    option = next(o for o in started.replies[-1].options if o.label == "No")
    again = assistant.handle(answered.session, Inbound("action", action=option.action), AT, PRACTITIONER)
    assert again.stale and again.replies[0].text == content.text("menu_expired")  # the old menu, pressed again
    forged = assistant.handle(answered.session, Inbound("action", action="made-up"), AT, PRACTITIONER)
    assert forged.stale and forged.replies[0].text == content.text("forged_button")
    assert assistant.expired(AT, PRACTITIONER).stale
