"""Typed words in the Slack DM, through the real Bolt stack: the same understanding as the console and
Telegram, in a practitioner's terms."""

from __future__ import annotations

from test_slack_harness import Harness, block_text, labels

from dialogs.content import Content


async def test_a_live_risk_reported_in_words_gets_the_crisis_card_and_its_next_step(h: Harness) -> None:
    typed = "Y10 boy reporting sextortion, demand for 100 pounds within the hour, he is panicking"
    assert await h.dm(typed) == "crisis"
    card = await h.next_call("chat.postMessage")
    text = block_text(card.params["blocks"])
    assert "116 123" in text and "999" in text and "CEOP" in text


async def test_an_incident_description_starts_the_triage_with_suggestions(h: Harness, content: Content) -> None:
    assert await h.dm("a year 8 pupil sent a nude to another pupil in leeds, what should i do") == "incident"
    intro = await h.next_call("chat.postMessage")
    assert content.text("incident_start") in block_text(intro.params["blocks"])


async def test_not_understood_twice_hands_over_in_a_practitioners_terms(h: Harness, content: Content) -> None:
    assert await h.dm("zqxv plorb wint") == "unrecognised"
    first = await h.next_call("chat.postMessage")
    assert "DSL" in block_text(first.params["blocks"])
    await h.settle()
    assert await h.dm("wint plorb zqxv") == "handover"
    opening = content.text("handover_practitioner").split("\n")[0][:40]
    handover = await h.next_call("chat.postMessage", None)
    while opening not in block_text(handover.params["blocks"]):
        handover = await h.next_call("chat.postMessage", None)
    assert content.text("nav_triage") in labels(handover.params["blocks"])
