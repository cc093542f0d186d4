"""The language layer (bot/language.py) and what the assistant does with a reading: crisis kinds and their
next steps, negation, never a dead end, understood from the first message, incident descriptions, and the
figures on the development set (phrases the models were not trained on)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.evaluate import Evaluator, is_crisis_reply
from bot.assistant import Assistant, Defaults, Reply
from bot.classifier import CrisisModel, LinearModel
from bot.language import KINDS, Language
from bot.routing import Route
from bot.session import Session
from bot.types import Inbound
from dialogs.content import Content
from tools.train_language import digest, phrase_files

NOW = dt.datetime(2026, 11, 23, 22, 40, tzinfo=dt.UTC)  # a Monday night


@pytest.fixture(scope="module")
def language(content: Content) -> Language:
    return Language(content)


def say(assistant: Assistant, text: str, session: Session | None = None, who: str | None = None,
        area: str | None = None) -> Reply:
    return assistant.handle(session, Inbound("text", text=text), NOW, Defaults(who=who, area=area))


def text_of(reply: Reply) -> str:
    return "\n".join(r.text for r in reply.replies)


# ------------------------------------------------------------------------------------ the models


def test_the_shipped_models_were_trained_on_the_shipped_phrases(content: Content) -> None:
    """Editing a phrase file without retraining (python -m tools.train_language) fails here."""
    assert content.root is not None
    folder = content.root / "language"
    train, dev = phrase_files(folder / "phrases")
    expected = digest([*train, dev])
    crisis = CrisisModel.load(folder, "model")
    gate = LinearModel.load(folder, "gate")
    intents = LinearModel.load(folder, "intents")
    assert crisis.digest == expected and gate.digest == expected and intents.digest == expected
    assert list(gate.classes) == ["none", "crisis"]
    assert list(crisis.classes) == ["none", *KINDS]
    assert set(intents.classes) - {"none"} <= {i.id for i in content.intents}


def test_every_kind_of_crisis_has_its_next_step(content: Content) -> None:
    assert content.language is not None
    assert set(content.language.crisis_kinds) == set(KINDS)


def test_scores_are_explainable(language: Language) -> None:
    assert language.model is not None
    norm = language.fold("ive given all my things away and written letters for everyone")
    top = language.model.explain(norm, "indirect_suicidal")
    assert top and all(f.split(":", 1)[0] in {"w", "b", "n", "c", "x"} for f, _ in top)


# --------------------------------------------------------------------------------------- crisis


@pytest.mark.parametrize(
    ("who", "typed", "kind"),
    [
        ("young_person", "honestly i just feel like dying", None),
        ("young_person", "ive given all my things away", None),
        ("young_person", "gonna unalive myself tonight", None),
        ("young_person", "did sh again last night", None),
        ("parent", "my 13 year old didnt come home last night and isnt answering her phone", "missing_unsafe"),
        ("parent", "my brother has a knife and is threatening us", "violence"),
        ("young_person", "he says he will post my nudes in an hour if i dont pay him 200 quid", "sextortion"),
        ("young_person", "a man i met online is picking me up from school today", "sexual_abuse_now"),
        ("young_person", "i took a whole packet of paracetamol", "overdose"),
        ("young_person", "im not safe", None),
    ],
)
def test_words_of_danger_get_the_crisis_card_first(
    assistant: Assistant, language: Language, who: str, typed: str, kind: str | None
) -> None:
    reply = say(assistant, typed, who=who, area="kent")
    assert reply.event == "crisis"
    assert reply.replies[0].kind == "crisis"
    assert is_crisis_reply(reply.replies[0].text)  # 999, Childline, Samaritans, Shout in the card itself
    if kind is not None:
        assert language.read(typed, who).crisis == kind


def test_each_kind_of_crisis_says_what_to_do_next(assistant: Assistant, content: Content) -> None:
    card = say(assistant, "someone says they will share my nudes unless i pay them by tonight",
               who="young_person", area="national").replies[0].text
    assert "Don't pay" in card and "CEOP" in card and "Report Remove" in card
    parents = say(assistant, "a man says he'll post my son's pics unless he pays £300 by tonight",
                  who="parent", area="national").replies[0].text
    assert "Stay with your child tonight" in parents and "CEOP" in parents  # said to the parent
    first = say(assistant, "my daughter is 14 and someone online is threatening to share her photo unless she pays"
                ).replies[0].text
    assert "Stay with your child tonight" in first  # a parent by their words, before "who are you?"
    card = say(assistant, "a grown man from snapchat is meeting my daughter tonight she's left already",
               who="parent", area="national").replies[0].text
    assert "999" in card and "CEOP" in card
    card = say(assistant, "she swallowed a load of her mums tablets", who="parent", area="national").replies[0].text
    assert "999 now" in card


@pytest.mark.parametrize(
    ("typed", "certain"),
    [
        ("the year 11s keep airdropping my pic. i want to kill myself, i mean it", True),
        ("got the rope ready", True),
        ("i dont want to kill myself, i just want it gone", False),
        # A negation in an earlier sentence does not deny the statement; one just before it does.
        ("my tutor says theyre dealing with it but theyre not. i just want to die", True),
        ("can report remove get it down? if that pic doesnt go im going to kill myself", True),
        ("its not like i want to die, i just want it gone", False),
        ("doesnt mean i want to kill myself", False),
        ("everyone has seen it since he sent i want to kill myself", True),  # "sent" is not a negation
        ("suicidal. proper suicidal. dont know who else to tell", True),
        ("feeling so suicidal tonight", True),
        ("suicidal thoughts policy for staff?", False),
        ("i swear im gonna die if anyone sees it lol", False),
        ('everyone says "im gonna kill myself" as a joke in my year', False),
        ("i want to die of embarrassment", False),
    ],
)
def test_a_first_person_statement_of_intent_is_a_crisis_whatever_else(
    language: Language, typed: str, certain: bool
) -> None:
    assert language.crisis.is_certain(typed) is certain
    if certain:
        assert language.read(typed, "young_person").crisis is not None


@pytest.mark.parametrize("typed", ["i was just raped", "someone sexually assaulted me on the bus",
                                   "ran away from home"])
def test_a_disclosure_of_assault_or_running_away_gets_the_card(assistant: Assistant, typed: str) -> None:
    assert say(assistant, typed).replies[0].kind == "crisis"


def test_an_incident_names_the_dsl_before_the_first_question(assistant: Assistant) -> None:
    reply = say(assistant, "Year 9 pupil sent a nude to another pupil, what do I do?")
    assert "DSL" in text_of(reply)


def test_two_words_the_model_is_sure_of_are_enough_but_one_is_not(language: Language) -> None:
    assert language.read("being attacked", "young_person").crisis == "violence"
    assert language.read("ok thanks", "young_person").crisis is None
    assert language.read("more", "young_person").crisis is None  # "send more" is sextortion; "more" alone is not


def test_crisis_words_before_anything_else_is_known(assistant: Assistant) -> None:
    reply = say(assistant, "someone says they will share my nudes unless i pay them")
    assert reply.replies[0].kind == "crisis"


@pytest.mark.parametrize(
    "typed",
    [
        "im not suicidal, i just want the picture gone",
        "i'm dying of embarrassment",
        "my mum will literally kill me if she finds out",
        "what counts as immediate danger in the guidance?",
    ],
)
def test_near_misses_do_not_get_the_crisis_card(assistant: Assistant, typed: str) -> None:
    reply = say(assistant, typed, who="young_person" if "guidance" not in typed else "practitioner", area="kent")
    assert reply.event != "crisis" and not any(r.kind == "crisis" for r in reply.replies)


def test_negation_still_reaches_what_was_asked(assistant: Assistant) -> None:
    reply = say(assistant, "im not suicidal, i just want the picture gone", who="young_person", area="kent")
    assert "Report Remove" in text_of(reply)


# ------------------------------------------------------------------------------ never a dead end


@pytest.mark.parametrize(("who", "line"), [("young_person", "0800 1111"), ("parent", "0808 800 5000"),
                                           (None, "0800 1111")])
def test_not_understood_still_gives_a_person_to_talk_to(
    assistant: Assistant, content: Content, who: str | None, line: str
) -> None:
    first = say(assistant, "zqxv plorb wint", who=who, area="national" if who else None)
    assert first.event == "unrecognised"
    assert line in first.replies[0].text and "999" in first.replies[0].text
    assert content.text("nav_talk_now") in [o.label for o in first.replies[0].options]
    second = say(assistant, "wint plorb zqxv", first.session, who=who, area="national" if who else None)
    assert second.event == "handover"
    assert second.replies[-1].text != first.replies[-1].text  # not the same menu again
    assert line in text_of(second)
    third = say(assistant, "childline", second.session, who=who, area="national" if who else None)
    assert third.event == "contact" and third.session is not None and third.session.misses == 0


def test_practitioners_not_understood_get_their_own_ways_on(assistant: Assistant, content: Content) -> None:
    first = say(assistant, "zqxv plorb wint", who="practitioner", area="leeds")
    assert "DSL" in first.replies[0].text
    second = say(assistant, "wint plorb zqxv", first.session, who="practitioner", area="leeds")
    assert second.event == "handover" and "DSL" in second.replies[0].text
    assert content.text("nav_triage") in [o.label for o in second.replies[0].options]


def test_words_not_understood_are_asked_again_briefly_not_with_the_whole_screen(
    assistant: Assistant, content: Content
) -> None:
    started = assistant.handle(None, Inbound("command", command="start"), NOW, Defaults("practitioner", "kent"))
    reply = say(assistant, "zqxv plorb wint", started.session, who="practitioner", area="kent")
    flow = content.flows["kent"]
    assert reply.event == "unrecognised" and reply.replies[-1].text.endswith(flow.question(flow.start).text)
    assert flow.intro not in text_of(reply)  # the long introduction was shown once already


def test_words_about_the_subject_that_match_nothing_get_a_question_back_not_the_fallback(
    assistant: Assistant, content: Content
) -> None:
    started = assistant.handle(None, Inbound("command", command="start"), NOW, Defaults("practitioner", "kent"))
    reply = say(assistant, "what if telling dad would put the pupil at risk?", started.session,
                who="practitioner", area="kent")
    assert reply.event == "unsure"
    assert reply.replies[-1].text == content.text("did_you_mean") and len(reply.replies[-1].options) > 3
    again = assistant.handle(None, Inbound("command", command="start"), NOW, Defaults("practitioner", "kent"))
    plain = say(assistant, "the weather is nice today", again.session, who="practitioner", area="kent")
    assert plain.event == "unrecognised"  # nothing the bot helps with: nothing to suggest
    assert plain.replies[-1].text != content.text("did_you_mean")


def test_a_likely_answer_is_given_as_a_guess_and_said_to_be_one(
    assistant: Assistant, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    language = assistant.language
    typed = "can i just wipe my daughter's phone and be done with it"
    real = language.read(typed, "parent", "kent")
    # Which messages fall short of sure depends on the trained model: the reading is fixed here, the reply is tested.
    hunch = Route("parent_seeing_deleting", "topic:seeing_and_deleting", 40.0)
    monkeypatch.setattr(language, "read", lambda *a, **k: replace(real, route=None, guess=hunch, maybe=()))
    reply = say(assistant, typed, who="parent", area="kent")
    assert reply.event == "guess" and reply.replies[0].text == content.text("guess_intro")
    assert reply.replies[1].title == content.topics["seeing_and_deleting"].title
    assert reply.session is not None and reply.session.misses == 0


@pytest.mark.parametrize("typed", ["'; DROP TABLE sessions; --", "please delete the sessions table thing",
                                   "my son"])
def test_a_guess_is_never_a_command_nor_made_from_two_words(assistant: Assistant, typed: str) -> None:
    reading = assistant.language.read(typed, "parent", "kent")
    assert reading.guess is None or not reading.guess.target.startswith("command:")
    if len(typed.split()) < 4:
        assert reading.guess is None


@pytest.mark.parametrize(("who", "line"), [("young_person", "0800 1111"), ("parent", "0808 800 5000"),
                                           ("practitioner", "")])
def test_thanks_gets_a_kind_word_and_keeps_the_place(assistant: Assistant, who: str, line: str) -> None:
    first = say(assistant, "no", who=who, area="kent") if who == "practitioner" else None
    reply = say(assistant, "ok thanks", first.session if first else None, who=who, area="kent")
    assert reply.event == "thanks" and "welcome" in reply.replies[0].text and line in reply.replies[0].text
    if first is not None:
        assert reply.session is not None and first.session is not None
        assert reply.session.answers == first.session.answers  # nothing lost


def test_talk_to_someone_now_is_one_tap(assistant: Assistant) -> None:
    first = say(assistant, "zqxv plorb wint", who="young_person", area="kent")
    talk = first.replies[0].options[0]
    reply = assistant.handle(first.session, Inbound("action", action=talk.action), NOW, Defaults())
    assert reply.replies[0].kind == "crisis"


# ----------------------------------------------------------------- understood from the first message


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("my daughter sent a photo to a boy in her class and now it's everywhere", "parent"),
        ("a pupil in year 9 has shared a nude of another pupil", "practitioner"),
        ("i sent a nude to my boyfriend and now i regret it", "young_person"),
        ("can i get arrested for this", "young_person"),  # not the parents' page on the law
    ],
)
def test_who_is_asking_is_inferred_said_and_changeable(
    assistant: Assistant, content: Content, typed: str, who: str
) -> None:
    reply = say(assistant, typed)
    assert reply.session is not None and reply.session.who == who
    assert reply.replies[0].text == content.text(f"assumed_{who}")
    change = reply.replies[0].options[0]
    assert change.label == content.text("nav_change_who")
    again = assistant.handle(reply.session, Inbound("action", action=change.action), NOW, Defaults())
    assert again.session is not None and again.session.who is None  # one tap back to "who are you?"


@pytest.mark.parametrize(
    ("typed", "who", "area", "expected"),
    [
        ("sunday morning in gravesend, who can i ring for advice about a nude my daughter sent", "parent", None,
         "03000 41 91 91"),  # Kent's out-of-hours line: a town, and a Sunday
        ("Living in Whitstable. Does Kent have a line for parents about this kind of thing?", "parent", None,
         "03000 41 11 11"),
        ("Friday 5pm, Dover. Who takes referrals now?", "practitioner", "kent", "03000 41 91 91"),
        ("is there anyone local i can talk to", "young_person", "leeds", "0800 1111"),
        ("idk who to talk to", None, None, "0800 1111"),  # not yet known who: Childline
        ("Grandmother in Folkestone, found pictures on his tablet. Which council number do I ring?", "parent", None,
         "03000 41 11 11"),
    ],
)
def test_who_do_i_ring_gets_the_local_contact(
    assistant: Assistant, typed: str, who: str, area: str | None, expected: str
) -> None:
    assert expected in text_of(say(assistant, typed, who=who, area=area))


@pytest.mark.parametrize(
    "typed",
    [
        "she deleted it all before I could stop her, is that a problem?",
        "my son deleted everything before i could do anything, is that a problem",
        "if i factory reset my phone is the pic gone for good",
    ],
)
def test_command_words_in_a_longer_message_are_not_commands(assistant: Assistant, typed: str) -> None:
    reply = say(assistant, typed, who="parent" if "she" in typed or "son" in typed else "young_person",
                area="kent")
    assert reply.event not in {"forget", "restart", "exit"} and reply.session is not None


def test_a_greeting_with_a_question_answers_the_question(assistant: Assistant) -> None:
    reply = say(assistant, "hi im 14 from Folkestone a guy who works at the shop near me asked me for a pic")
    assert "CEOP" in text_of(reply)


def test_an_area_named_in_the_message_is_used(assistant: Assistant) -> None:
    reply = say(assistant, "EDT number for leeds", who="practitioner")
    assert "0113 535 0600" in text_of(reply)
    reply = say(assistant, "out of hours number maidstone", who="practitioner")
    assert "03000 41 91 91" in text_of(reply)


# -------------------------------------------------------------------------- incident descriptions


def test_an_incident_description_starts_the_triage_with_suggestions_to_confirm(
    assistant: Assistant, content: Content
) -> None:
    reply = say(assistant, "a year 8 pupil sent a nude to another pupil and a 24 year old man has been "
                "threatening her, what should i do", who="practitioner", area="kent")
    assert reply.event == "incident"
    s = reply.session
    assert s is not None and s.flow == "kent" and s.answers == []  # nothing decided for them
    assert dict(s.hints) == {"age_band": "13_to_17", "adult_involved": "yes", "aggravating_factors": "yes"}
    intro = reply.replies[0].text
    assert "13" in intro and content.text("fact_adult") in intro and content.text("fact_coercion") in intro
    # the first question is asked as usual; a question with a suggestion shows it
    yes_no = assistant.handle(s, Inbound("text", text="no"), NOW, Defaults(who="practitioner", area="kent"))
    assert yes_no.session is not None and yes_no.session.node == "adult_involved"
    assert content.text("suggested_answer", answer="Yes") in yes_no.replies[-1].text


def test_a_first_question_does_not_start_a_triage_unless_the_words_say_a_practitioner_asks(
    assistant: Assistant
) -> None:
    asked = say(assistant, "is it illegal to send nudes")  # could be anyone: answered, not triaged
    assert asked.event != "incident" and asked.session is not None and asked.session.flow is None
    described = say(assistant, "DSL here, a year 9 pupil has sent a nude to another pupil")
    assert described.event == "incident"


def test_a_restart_forgets_the_suggestions(assistant: Assistant) -> None:
    reply = say(assistant, "a year 10 student shared a picture of a girl in her year", who="practitioner",
                area="kent")
    assert reply.session is not None and reply.session.hints
    again = assistant.handle(reply.session, Inbound("command", command="restart"), NOW, Defaults())
    assert again.session is not None and again.session.hints == []


# --------------------------------------------------------------------------- measured, not tuned


def test_the_development_set_figures_hold(content: Content) -> None:
    """The dev set is never trained on. Floors a little under today's figures (crisis 94%, near-miss false
    positives 5.6%, routing 90%, 4 dead ends of 1,061; the set holds six writers' sets, four of them
    deliberately hard), so a change that makes understanding worse fails here."""
    assert content.root is not None
    data = json.loads((content.root / "language" / "phrases" / "dev.json").read_text(encoding="utf-8"))
    report = Evaluator(content).score(data)
    assert report.crisis.hits / report.crisis.total >= 0.92
    assert report.near_miss.hits / report.near_miss.total <= 0.06
    assert report.routing.hits / report.routing.total >= 0.87
    assert report.dead_ends <= 0.01 * report.routing.total


def test_eval_command_scores_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.cli import main

    f = tmp_path / "phrases.json"
    f.write_text(json.dumps({
        "crisis": [{"text": "i want to kill myself", "as": "young-person", "area": "kent",
                    "category": "direct_suicidal"}],
        "near_miss": [{"text": "this homework is killing me", "as": "young-person", "area": "kent"}],
        "routing": [{"text": "childline number", "as": None, "area": "national", "expect_any": ["0800 1111"]}],
    }))
    assert main(["eval", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["crisis_recall"] == {"hits": 1, "total": 1}
    assert out["near_miss_false_positives"] == {"hits": 0, "total": 1}
    assert out["routing"] == {"hits": 1, "total": 1} and out["dead_ends"] == 0


def test_the_crisis_card_acts_in_one_tap(assistant: Assistant) -> None:
    card = say(assistant, "i want to kill myself", who="young_person", area="kent").replies[0]
    assert card.kind == "crisis"
    assert any(o.url.startswith("https://www.childline.org.uk") for o in card.options)
    assert any(o.copy == "0800 1111" for o in card.options)


def test_an_online_contact_of_unknown_age_is_suggested_as_unknown(assistant: Assistant, content: Content) -> None:
    reply = say(assistant, "a year 9 girl sent a nude to a lad she met on insta who says hes 16 but we think hes "
                "older, she's now being asked for money", who="practitioner", area="kent")
    s = reply.session
    assert s is not None and s.answers == []
    assert dict(s.hints) == {"age_band": "13_to_17", "adult_involved": "unknown", "aggravating_factors": "yes"}
    assert content.text("fact_adult_unknown") in reply.replies[0].text


def test_a_message_is_read_for_danger_once_a_turn_and_remembered_only_by_hash(content: Content) -> None:
    language = Language(content)
    typed = "he says he will post my pics at 9 unless i pay"
    first = language.crisis_kind(typed, "young_person")
    assert language.crisis_kind(typed, "young_person") == first and first[0] == "sextortion"
    assert language.crisis_kind(typed, None)[0] == "sextortion"  # who is part of what is remembered
    assert all(isinstance(k, bytes) and len(k) == 16 for k in language._recent)
    assert not any(typed.encode() in k for k in language._recent)
    for n in range(100):  # bounded
        language.crisis_kind(f"message {n}", None)
    assert len(language._recent) <= 64


@pytest.mark.parametrize(
    ("typed", "event"),
    [
        ("get me out of here quick mum is coming", "exit"),
        ("can you forget everything i just said", "forget"),
        ("start over please i picked the wrong one", "restart"),
    ],
)
def test_a_command_in_a_sentence_still_works(assistant: Assistant, typed: str, event: str) -> None:
    assert say(assistant, typed, who="young_person", area="kent").event == event


def test_typed_back_and_restart_say_what_happened(assistant: Assistant, content: Content) -> None:
    start = say(assistant, "/start")
    again = say(assistant, "start again", session=start.session, who="parent", area="kent")
    assert again.replies[0].text == content.text("restarting")
    back = say(assistant, "go back", session=again.session, who="parent", area="kent")
    assert back.replies[0].text == content.text("back_at_start")
