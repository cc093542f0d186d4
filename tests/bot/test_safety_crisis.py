"""Crisis words: every labelled crisis phrase is caught, near-misses are not, however the words are typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.assistant import Assistant, Defaults
from bot.safety import CrisisDetector, normalise
from bot.session import Session
from bot.types import Inbound
from dialogs.content import Content

HERE = Path(__file__).resolve().parent
NOW = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)  # a Monday, in office hours


def _phrases(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))["phrases"]
    return items


TUNING = _phrases("crisis_phrases.yaml")
HOLDOUT = _phrases("crisis_holdout.yaml")


@pytest.fixture(scope="module")
def detector(content: Content) -> CrisisDetector:
    return CrisisDetector(content.safety)


def test_the_labelled_set_is_big_and_varied() -> None:
    everything = TUNING + HOLDOUT
    assert len(everything) >= 80
    assert {p["label"] for p in everything} == {"crisis", "safe", "either"}
    assert {p["by"] for p in everything} == {"yp", "parent", "pro"}
    assert len({p["text"] for p in everything}) == len(everything), "a phrase is listed twice"


@pytest.mark.parametrize("name", ["crisis_phrases.yaml", "crisis_holdout.yaml"])
def test_every_crisis_phrase_is_caught_and_false_positives_are_counted(
    detector: CrisisDetector, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    phrases = _phrases(name)
    crisis = [p["text"] for p in phrases if p["label"] == "crisis"]
    safe = [p["text"] for p in phrases if p["label"] == "safe"]
    either = [p["text"] for p in phrases if p["label"] == "either"]
    missed = [t for t in crisis if not detector.is_crisis(t)]
    false_positives = [(t, detector.matched(t)) for t in safe if detector.is_crisis(t)]
    shown = sum(detector.is_crisis(t) for t in either)
    with capsys.disabled():
        print(
            f"\n[crisis {name}] recall {len(crisis) - len(missed)}/{len(crisis)}, "
            f"false positives {len(false_positives)}/{len(safe)}, discussion phrases shown {shown}/{len(either)}"
        )
    assert missed == [], f"crisis phrases not caught: {missed}"
    assert false_positives == [], f"near-misses that triggered (phrase, words matched): {false_positives}"


def test_no_near_miss_in_the_content_triggers(content: Content, detector: CrisisDetector) -> None:
    assert content.safety.near_misses
    for phrase in content.safety.near_misses:
        assert not detector.is_crisis(phrase), phrase
        assert not detector.is_crisis(f"lol {phrase.upper()}!!"), phrase


def test_a_near_miss_excuses_only_its_own_words(detector: CrisisDetector) -> None:
    assert not detector.is_crisis("dying of embarrassment")
    assert detector.is_crisis("dying of embarrassment and i want to kill myself")
    assert not detector.is_crisis("nobody is in immediate danger")
    assert detector.is_crisis("nobody is in immediate danger but he is outside my house")
    assert detector.is_crisis("my mum is going to kill me, and i want to die")


@pytest.mark.parametrize(
    "typed",
    [
        "I WANT TO DIE",
        "i   want\tto\n\ndie",
        "i want to die!!!!!!",
        "i w\u200bant to d\u200die",  # zero-width characters inside words
        "\u202ei want to die\u202c",  # right-to-left override around it
        "i w̷̢̛a̶n̸t̵ t̸o̴ d̶i̵e̷",  # zalgo combining marks
        "ｉ ｗａｎｔ ｔｏ ｄｉｅ",  # full-width letters
        "i wanttt to dieeeee",
        "i w a n t t o d i e",
        "iwanttodie",
        "i want 2 die",
        "i w4nt to d1e",
        "i\x00 want to die",
        "😭😭 i want to die 😭",
        "I’m going to kill my self",
        "gonna kms",
        "i feel suicdal",  # one letter missing from a long word
        "im so sucidal",
    ],
)
def test_crisis_words_are_found_however_they_are_typed(detector: CrisisDetector, typed: str) -> None:
    assert detector.is_crisis(typed), normalise(typed)


@pytest.mark.parametrize("typed", ["", " ", "\x00\x01\x02", "🙂" * 50, "a" * 20_000, "ok", "13 to 17"])
def test_ordinary_or_empty_input_is_not_a_crisis(detector: CrisisDetector, typed: str) -> None:
    assert not detector.is_crisis(typed)


def test_no_choice_label_reads_as_a_crisis(content: Content, detector: CrisisDetector) -> None:
    """People type the labels they see; none of them may be mistaken for crisis words."""
    for flow in content.flows.values():
        for q in flow.questions:
            for choice in q.choices:
                assert not detector.is_crisis(choice.label), (flow.id, choice.label)


def test_spelling_fixes_respect_apostrophes(content: Content) -> None:
    fix = CrisisDetector(content.safety).spelling
    assert normalise("He'll hurt me", fix) == "he will hurt me"
    assert normalise("go to hell", fix) == "go to hell"
    assert normalise("I'm not safe", fix) == "i am not safe"
    assert normalise("kill my self", fix) == "kill myself"


# ------------------------------------------------------------------------------ in the conversation


def _at_first_question(assistant: Assistant, who: str) -> Session:
    reply = assistant.handle(None, Inbound("command", command="start"), NOW, Defaults(who=who, area="leeds"))
    assert reply.session is not None and reply.session.node is not None
    return reply.session


@pytest.mark.parametrize(
    ("who", "typed"),
    [
        ("young_person", "he's outside my house"),
        ("young_person", "i wanna die"),
        ("parent", "my son has taken pills"),
        ("practitioner", "a pupil has said she wants to end her life"),
    ],
)
def test_crisis_contacts_come_first_then_the_same_step(assistant: Assistant, who: str, typed: str) -> None:
    session = _at_first_question(assistant, who)
    node, answers = session.node, list(session.answers)
    reply = assistant.handle(session, Inbound("text", text=typed), NOW, Defaults(who=who, area="leeds"))
    assert reply.event == "crisis"
    first = reply.replies[0]
    assert first.kind == "crisis"
    assert "999" in first.text and "0800 1111" in first.text
    assert any(o.nav for o in first.options), "a way to carry on is offered"
    assert reply.replies[-1].kind == "menu", "the current step is shown again: crisis never blocks the flow"
    assert reply.session is not None
    assert (reply.session.node, reply.session.answers) == (node, answers)


def test_crisis_words_before_choosing_who_still_get_help(assistant: Assistant) -> None:
    reply = assistant.handle(None, Inbound("text", text="I'm not safe"), NOW)
    assert reply.replies[0].kind == "crisis"
    assert reply.session is not None and reply.session.who is None


def test_crisis_words_in_a_command_argument(assistant: Assistant) -> None:
    reply = assistant.handle(None, Inbound("command", command="contacts", arg="i want to kill myself"), NOW)
    assert reply.event == "crisis" and reply.replies[0].kind == "crisis"
