"""Hostile input on Slack: huge messages, forged button values, payloads with missing fields, bodies that
are not what they claim. Each gets a clear reply or a clean HTTP answer, never an unhandled exception."""

from __future__ import annotations

import json

import pytest
from test_slack_harness import CHANNEL, SIGNING_SECRET, TEAM, USER, Harness, block_text, buttons

from benchmarks.fakes.slack_api import block_action_body, event_body, im_message_event, post_signed, slash_command_body


async def test_a_dm_beyond_slacks_40000_character_limit_is_answered(h: Harness) -> None:
    text = ("please help " * 3500)[:40_001]
    assert await h.dm(text) not in {"ignored", "error"}
    reply = await h.next_call("chat.postMessage")
    assert block_text(reply.params["blocks"])


async def test_control_characters_and_right_to_left_text_are_answered(h: Harness) -> None:
    assert await h.dm("\x00\x07\u202e\u200f مرحبا 👋🏽\x1b[31m") == "unrecognised"
    assert "didn't catch" in block_text((await h.next_call("chat.postMessage")).params["blocks"])


async def test_a_forged_answer_value_cannot_jump_the_triage(h: Harness) -> None:
    question = await h.triage("kent")
    yes = next(b for b in buttons(question.params["blocks"]) if b.get("text", {}).get("text") == "Yes")
    payload, _, _sig = yes["value"].rpartition("~")
    forged = block_action_body(
        yes["action_id"],
        payload + "~AAAAAAAAAA",
        user_id=USER,
        team_id=TEAM,
        channel_id=question.response["channel"],
        message_ts=question.response["ts"],
        response_url=h.fake.response_url("act"),
    )
    assert await h.post(forged) == 200
    assert (await h.done())[1] == "forged_action"
    warning = await h.next_call("chat.postMessage")
    assert "didn't recognise that button" in block_text(warning.params["blocks"])
    # still at the first question: pressing the real "No" moves on normally
    assert await h.press(question, "No") == "answer"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "channel_type": "im", "text": "no user here"},
        {"type": "message", "channel_type": "im", "user": USER},
        {"type": "app_home_opened", "tab": "home"},
        {"type": "message"},
    ],
    ids=["no-user", "no-text", "home-without-user", "bare"],
)
async def test_events_with_missing_fields_get_200_and_no_reply(h: Harness, event: dict[str, str]) -> None:
    assert await h.post(event_body(event)) == 200
    await h.done()
    await h.settle()
    assert h.fake.calls("chat.postMessage") == [] and h.fake.calls("views.publish") == []


async def test_a_slash_command_without_a_user_is_acknowledged_and_ignored(h: Harness) -> None:
    body = slash_command_body(text="triage leeds", user_id="", team_id=TEAM, channel_id=CHANNEL,
                              response_url=h.fake.response_url("cmd"))
    assert await h.post(body) == 200
    await h.done()
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (json.dumps({"type": "event_callback"}), "application/json"),
        ("", "application/json"),
    ],
    ids=["broken-json", "broken-payload", "event-callback-without-event", "empty"],
)
async def test_signed_bodies_that_are_not_what_they_claim_get_a_clean_answer(
    h: Harness, body: str, content_type: str
) -> None:
    assert h.url is not None
    status, _ = await post_signed(h.url, body, content_type, SIGNING_SECRET)
    assert status in {200, 400, 404}
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []


async def test_dm_text_is_still_handled_after_hostile_requests(h: Harness) -> None:
    assert h.url is not None
    await post_signed(h.url, "{not json", "application/json", SIGNING_SECRET)
    assert await h.event(im_message_event("childline", user_id=USER, team_id=TEAM)) == "contact"
    assert "0800 1111" in block_text((await h.next_call("chat.postMessage")).params["blocks"])


async def test_a_dm_event_without_a_channel_is_answered_in_the_users_dm(h: Harness) -> None:
    event = {"type": "message", "channel_type": "im", "user": USER, "text": "childline"}
    assert await h.event(event) == "contact"
    reply = await h.next_call("chat.postMessage")
    assert reply.params["channel"] and "0800 1111" in block_text(reply.params["blocks"])
