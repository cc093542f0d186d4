"""The dialogue engine and the assistant's turn: pure, shared machines, replay, back, stale and forged buttons,
content changes, signposting topics within three choices."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant import Assistant, Defaults
from bot.session import Session
from bot.types import Inbound, Outbound
from dialogs.content import Content
from dialogs.engine import Dialogs, FlowEngine, InvalidInput

NOW = dt.datetime(2026, 11, 21, 23, 0, tzinfo=dt.UTC)


class Chat:
    """Drives the assistant like an adapter: keeps the session, presses buttons by label."""

    def __init__(self, assistant: Assistant, defaults: Defaults | None = None):
        self.a, self.session, self.defaults = assistant, None, defaults or Defaults()
        self.last: list[Outbound] = []

    def send(self, inbound: Inbound) -> list[Outbound]:
        reply = self.a.handle(self.session, inbound, NOW, self.defaults)
        self.session, self.last = reply.session, reply.replies
        return reply.replies

    def start(self, arg: str = "") -> list[Outbound]:
        return self.send(Inbound("command", command="start", arg=arg))

    def press(self, label: str) -> list[Outbound]:
        for out in reversed(self.last):
            for o in out.options:
                if o.label == label:
                    return self.send(Inbound("action", action=o.action))
        raise AssertionError(f"no button {label!r} in {[o.label for r in self.last for o in r.options]}")

    def type(self, text: str) -> list[Outbound]:
        return self.send(Inbound("text", text=text))

    def token(self, label: str) -> str:
        return next(o.action for out in self.last for o in out.options if o.label == label)


def test_one_machine_per_flow_shared_by_every_conversation(content: Content) -> None:
    dialogs = Dialogs(content)
    engine = dialogs.engine("kent")
    turns = [engine.step(engine.start().position, "no") for _ in range(200)]
    assert {t.position.node for t in turns} == {"adult_involved"}
    # however many conversations ran, the machine holds one borrowed cursor model per thread
    assert len(engine.machine.models) == 1


def test_a_turn_is_pure_and_replayable(content: Content) -> None:
    engine = FlowEngine(content.flows["kent"])
    answers = [
        ("immediate_danger", "no"),
        ("adult_involved", "no"),
        ("aggravating_factors", "yes"),
        ("age_band", "13_to_17"),
    ]
    turn = engine.replay(answers)
    assert turn.position.node == "risk_level"
    assert engine.replay(answers) == turn
    assert engine.back(turn.position).position.node == "age_band"
    with pytest.raises(InvalidInput):
        engine.step(turn.position, "yes")  # not a choice of risk_level
    with pytest.raises(InvalidInput):
        engine.replay([("adult_involved", "no")])  # not the first question



def test_path_to_reaches_every_node_by_the_shortest_answers_the_machine_accepts(content: Content) -> None:
    for flow in content.flows.values():
        engine = FlowEngine(flow)
        for node in [*(q.id for q in flow.questions), *(o.id for o in flow.outcomes)]:
            path = engine.path_to(node)
            assert path is not None, (flow.id, node)
            assert engine.replay(path).position.node == node
    kent = FlowEngine(content.flows["kent"])
    assert kent.path_to("immediate_danger") == ()
    assert kent.path_to("nowhere") is None
    # risk_level is behind a branch condition: only aggravating answers lead there
    assert dict(kent.path_to("risk_level") or ())["aggravating_factors"] in {"yes", "not_sure"}


def test_follow_answers_by_question_until_an_outcome_or_an_unanswered_question(content: Content) -> None:
    engine = FlowEngine(content.flows["kent"])
    answers = {"immediate_danger": "no", "adult_involved": "no", "aggravating_factors": "yes", "age_band": "13_to_17"}
    assert engine.follow(answers) == engine.replay(list(answers.items()))
    assert engine.follow({"adult_involved": "no"}).position.node == "immediate_danger"  # the first is unanswered
    assert engine.follow({}) == engine.start()
    with pytest.raises(InvalidInput):
        engine.follow({"immediate_danger": "perhaps"})

def test_a_signposting_topic_is_reached_in_three_choices_and_ends_with_contacts(
    content: Content, assistant: Assistant
) -> None:
    for who_label, flow_id in [("I'm a young person", "young_person"), ("I'm a parent or carer", "parent")]:
        flow = content.flows[flow_id]
        for choice in flow.questions[0].choices:
            chat = Chat(assistant)
            chat.start()
            chat.press(who_label)  # 1
            chat.press("Leeds")  # 2
            replies = chat.press(choice.label)  # 3
            outcome = replies[-1]
            assert outcome.kind == "outcome", (flow_id, choice.id)
            assert "0800 1111" in outcome.text or "ceop" in outcome.text.lower(), (flow_id, choice.id)


def test_a_practitioner_triage_by_buttons_reaches_the_outcome_and_the_record(assistant: Assistant) -> None:
    chat = Chat(assistant)
    chat.start("kent")
    chat.press("I work with children")
    for label in ["No", "No", "No", "13 to 17", "No"]:
        chat.press(label)
    outcome = chat.last[-1]
    assert outcome.kind == "outcome" and "Experimental" in outcome.text
    assert "Decision record" in [o.label for o in outcome.options]
    record = chat.press("Decision record")[-1]
    assert record.kind == "record" and "[single_agency_or_early_help]" in record.text
    assert "harm_vulnerability_or_no_consent" in record.text


def test_typed_numbers_labels_and_yes_no_answer_the_question(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="leeds"))
    chat.start()
    chat.type("2")  # immediate_danger: No
    chat.type("no")  # adult_involved
    chat.type("Yes")  # coercion_or_consent_concern
    assert chat.session is not None and chat.session.node == "refer"


def test_back_and_start_again(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="kent"))
    chat.start()
    chat.press("No")
    chat.press("No")
    chat.press("Back")
    assert chat.session is not None and chat.session.node == "adult_involved"
    chat.type("start again")
    assert chat.session.node == "immediate_danger" and chat.session.answers == []


def test_a_stale_button_gets_a_fresh_menu_and_changes_nothing(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="kent"))
    chat.start()
    stale = chat.token("Yes")  # immediate_danger: Yes
    chat.press("No")
    before = chat.session.dumps() if chat.session else ""
    replies = chat.send(Inbound("action", action=stale))
    assert "expired" in replies[0].text.lower()
    assert replies[-1].kind == "menu"
    assert chat.session is not None and chat.session.node == "adult_involved"
    assert chat.session.answers == Session.loads(before).answers


def test_a_forged_button_cannot_jump_the_flow(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="kent"))
    chat.start()
    token = chat.token("Yes")
    payload, _, sig = token.rpartition("~")
    forged = payload.replace(".0.0.", ".0.1.") + "~" + sig
    replies = chat.send(Inbound("action", action=forged))
    assert replies[0].kind == "warning"
    assert chat.session is not None and chat.session.node == "immediate_danger"


def test_saved_state_from_older_content_gets_a_polite_restart(assistant: Assistant) -> None:
    old = Session(
        who="practitioner",
        area="kent",
        flow="kent",
        node="a_question_that_was_removed",
        answers=[("immediate_danger", "no"), ("was_removed", "yes")],
        version="2025.1.0+deadbeef",
    )
    reply = assistant.handle(old, Inbound("text", text="yes"), NOW)
    assert "updated" in reply.replies[0].text
    assert reply.session is not None and reply.session.node == "immediate_danger"


def test_saved_state_from_older_content_that_still_fits_carries_on(assistant: Assistant) -> None:
    old = Session(
        who="practitioner",
        area="kent",
        flow="kent",
        node="adult_involved",
        answers=[("immediate_danger", "no")],
        version="2025.1.0+deadbeef",
    )
    reply = assistant.handle(old, Inbound("text", text="yes"), NOW)
    assert reply.session is not None and reply.session.node == "refer"


def test_crisis_words_in_the_middle_of_a_flow_come_first_and_keep_the_place(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="young_person", area="leeds"))
    chat.start()
    replies = chat.type("i wanna die")
    assert replies[0].kind == "crisis"
    assert "999" in replies[0].text and "0800 1111" in replies[0].text and "116 123" in replies[0].text
    assert replies[-1].kind == "menu"


def test_media_gets_the_imagery_warning_and_report_remove(assistant: Assistant) -> None:
    chat = Chat(assistant)
    replies = chat.send(Inbound("media", media="photo"))
    assert replies[0].kind == "warning" and "childline.org.uk/remove" in replies[0].text


def test_free_text_childline_is_answered(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="parent", area="leeds"))
    chat.start()
    assert "0800 1111" in chat.type("childline")[0].text


def test_forget_and_exit_drop_the_session(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="parent", area="leeds"))
    chat.start()
    reply = assistant.handle(chat.session, Inbound("command", command="forget"), NOW)
    assert reply.session is None and reply.event == "forget"
    reply = assistant.handle(chat.session, Inbound("command", command="exit"), NOW)
    assert reply.session is None and reply.delete_conversation


def test_saved_session_holds_only_ids_and_is_small(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="kent"))
    chat.start()
    no = chat.token("No")
    chat.type("my name is Jo Bloggs and the school is St Mary's")
    chat.send(Inbound("action", action=no))
    for label in ["No", "Yes", "13 to 17"]:
        chat.press(label)
    low = chat.token("Low or medium")
    chat.type("Jo Bloggs again, St Mary's school")  # may get a question back: the question's buttons still work
    chat.send(Inbound("action", action=low))
    assert chat.session is not None and chat.session.answers[-1:] == [("risk_level", "low_medium")]
    assert chat.session is not None
    raw = chat.session.dumps()
    assert "Jo" not in raw and "Mary" not in raw
    assert len(raw.encode()) <= 512


def test_back_before_the_first_answer_steps_out_to_where_and_who(assistant: Assistant) -> None:
    chat = Chat(assistant)
    chat.start()
    chat.press("I'm a parent or carer")
    chat.press("Kent")
    assert chat.session is not None and chat.session.flow == "parent"
    chat.press("Back")
    assert chat.session.area is None and chat.last[-1].text.endswith("Where are you?")
    chat.type("back")
    assert chat.session.who is None and chat.last[-1].text.endswith("Who are you?")


def test_text_at_an_outcome_gets_a_short_reminder_not_the_whole_outcome_again(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="young_person", area="leeds"))
    chat.start()
    chat.press("I just need to talk")
    full = chat.last[-1]
    replies = chat.type("zzzz qqqq")
    assert replies[-1].title == full.title and len(replies[-1].text) < len(full.text) / 3


def test_crisis_words_in_a_media_caption_come_before_the_imagery_warning(assistant: Assistant) -> None:
    replies = Chat(assistant).send(Inbound("media", media="photo", text="he says he'll come round and hurt me"))
    assert [r.kind for r in replies] == ["crisis", "warning"]


def test_typing_exit_is_the_quick_exit(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="young_person", area="kent"))
    chat.start()
    reply = assistant.handle(chat.session, Inbound("text", text="exit"), NOW)
    assert reply.session is None and reply.delete_conversation


def test_did_you_mean_offers_contacts_and_flow_places_as_buttons(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="parent", area="leeds"))
    chat.start()
    option = assistant._target_option("flow:parent:parent_adult_involved")
    assert option is not None
    replies = chat.send(Inbound("action", action=option.action))
    assert replies[-1].kind == "outcome" and chat.session is not None
    assert chat.session.node == "parent_adult_involved"
    contact = assistant._target_option("contact:ceop")
    assert contact is not None
    assert "ceop" in chat.send(Inbound("action", action=contact.action))[0].text.lower()


def test_non_ascii_button_values_are_refused_as_forged(assistant: Assistant) -> None:
    replies = Chat(assistant).send(Inbound("action", action="c.kent.0.0.abcd~\u00e9\u00e9\u00e9\u00e9"))
    assert replies[0].kind == "warning"


def test_an_aside_mid_question_shows_the_question_again_so_answering_carries_on(assistant: Assistant) -> None:
    chat = Chat(assistant, Defaults(who="practitioner", area="leeds"))
    chat.start()
    chat.press("No")
    replies = chat.type("EDT number")
    assert "0113 535 0600" in replies[0].text
    assert all(o.acts_here for o in replies[0].options)  # copy the number, at most: no buttons to answer with
    assert replies[-1].kind == "menu" and replies[-1].text.endswith("Is an adult (18 or over) involved?")
    chat.type("1")  # answers the question, not a button of the aside
    assert chat.session is not None and chat.session.node == "refer"
