"""Content, second edition (issue 12): the topics people ask for, in each audience's voice, and the voice and
accuracy fixes (CEOP for young people, no blame, the law's narrow exceptions, Kent out of hours, assumed
hours, how contacts were checked)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.render import contact_lines
from bot.routing import Router
from dialogs.content import Content

SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 22, 0, tzinfo=dt.UTC)
NEW_TOPICS = {
    "sextortion_parents": "parent",
    "police_and_the_law_parents": "parent",
    "fake_images": "young_person",
    "fake_images_parents": "parent",
    "ai_images": "practitioner",
    "when_a_child_tells_you": "practitioner",
    "viewing_imagery": "practitioner",
    "deleting_imagery": "practitioner",
    "telling_parents": "practitioner",
    "police_involvement": "practitioner",
    "school_device": "practitioner",
    "found_on_phone": "parent",
    "under_13_and_send": "practitioner",
    "older_partner": "practitioner",
    "outside_england": "young_person",
}


@pytest.mark.parametrize(("topic_id", "who"), sorted(NEW_TOPICS.items()))
def test_each_new_topic_is_for_its_audience_sourced_and_reachable(content: Content, topic_id: str, who: str) -> None:
    t = content.topics[topic_id]
    assert who in t.who
    assert t.cites and all(c in content.sources for c in t.cites)
    assert t.contacts
    assert any(it.target == f"topic:{topic_id}" and who in it.who for it in content.intents)


def test_practitioner_law_and_police_topics_are_not_offered_to_parents(content: Content) -> None:
    router = Router(content)
    for text in ("is it illegal", "will my son get a criminal record", "outcome 21"):
        route = router.route(text, "parent")
        assert route is not None and route.target == "topic:police_and_the_law_parents", text
    parents = content.topics["police_and_the_law_parents"].text
    assert "not in trouble for being in a picture" in parents and "unlikely" in parents


def test_sextortion_for_parents_says_stay_with_your_child_tonight(content: Content) -> None:
    text = content.topics["sextortion_parents"].text.lower()
    for words in ("stay with your child tonight", "don't pay", "don't delete the chat or the account yet",
                  "ceop", "report remove"):
        assert words in text
    yp = content.flows["young_person"].outcome("yp_pressure_or_threats").text.lower()  # type: ignore[union-attr]
    assert "do not pay" in yp and "do not delete your account yet" in yp and "boys" in yp


def test_am_i_in_trouble_is_honest_and_calm(content: Content) -> None:
    text = content.topics["am_i_in_trouble"].text
    assert "victim" in text and "not your fault" in text.lower()
    assert "Nobody can promise" in text
    assert "Probably not" not in text  # no reassurance the law cannot back


def test_young_peoples_ceop_text_says_police_a_person_reads_it_and_not_anonymous(content: Content) -> None:
    flow = content.flows["young_person"]
    for oid in ("yp_pressure_or_threats", "yp_adult_asked", "yp_received"):
        text = flow.outcome(oid).text  # type: ignore[union-attr]
        assert "CEOP is part of the police" in text, oid
        assert "A real person reads" in text and "not anonymous" in text, oid


def test_no_conditional_blame_for_parents(content: Content) -> None:
    text = content.flows["parent"].outcome("parent_child_sent").text  # type: ignore[union-attr]
    assert "try not to blame" not in text.lower() and "It is not their fault." in text


def test_the_law_states_the_narrow_exceptions_and_ai_images(content: Content) -> None:
    text = content.topics["the_law"].text
    assert "consent is no defence" not in text.lower()
    assert "s1A" in text and "s160A" in text and "16 or 17" in text
    assert "AI-generated" in text
    assert "check current law" in text.lower()


def test_kent_parents_see_the_out_of_hours_line_when_the_front_door_is_closed(content: Content) -> None:
    contacts = content.resolve_contacts(["role:public_line"], "kent")
    text = contact_lines(content, contacts, SATURDAY_NIGHT, detail=False)
    assert "03000 41 91 91" in text


def test_assumed_hours_show_their_caveat_to_everyone(content: Content) -> None:
    for area, cid in (("leeds", "leeds_contact_centre"), ("kent", "kent_front_door")):
        contact = content.contacts_for(area)[cid]
        assert not contact.hours.confirmed
        for detail in (False, True):
            assert "hours not confirmed" in contact_lines(content, [contact], SATURDAY_NIGHT, detail=detail)


def test_outside_england_signposts_wales_and_scotland_not_the_english_flow(content: Content) -> None:
    text = content.topics["outside_england"].text
    assert "Wales" in text and "Hwb" in text and "Scotland" in text
    assert "don't use the England questions" in text
    assert "hwb_sharing_nudes" in content.topics["outside_england"].cites
