"""The Slack app in HTTP mode: signed requests to the real Bolt app, Web API calls to the fake Slack."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from test_slack_harness import (
    BOT_TOKEN,
    CHANNEL,
    DM,
    EVENING,
    NOON,
    SIGNING_SECRET,
    TEAM,
    USER,
    YPSI_SECRET,
    Harness,
    Stack,
    block_text,
    buttons,
    home_action,
    labels,
    sqlite_store,
    trail,
)

from adapters.slack.app import typed
from adapters.slack.blocks import ACTION_AREA, ACTION_FORGET, ACTION_PICK, ACTION_TRIAGE
from adapters.slack.client import SDK_LOGGERS
from adapters.slack.delivery import Where
from benchmarks.fakes.slack_api import (
    RESPONSE_URL,
    URL_PRIVATE,
    block_action_body,
    file_share_message_event,
    im_message_event,
    post_signed,
    slash_command_body,
)
from bot.assistant import Answered, Assistant, Defaults, Reply
from bot.session import Session
from bot.types import Inbound, Outbound
from dialogs.content import Content

# The answers that reach a practitioner outcome, per area (flow), and a contact the outcome must show.
FLOWS = {
    "kent": (
        ["No", "No", "Yes", "13 to 17", "Low or medium", "No"],  # second edition: then the harm question
        "single_agency_or_early_help",
        "kent_front_door",
    ),
    "leeds": (["No", "No", "No", "No", "No", "No"], "manage_in_setting", "leeds_duty_advice"),
    "national": (["No", "Yes"], "refer", "police_101"),
}


def assert_private(h: Harness) -> None:
    """Nothing was ever posted outside the user's DM, and every answer in a channel was ephemeral."""
    for call in h.fake.calls("chat.postMessage") + h.fake.calls("chat.update"):
        assert call.response["channel"] == DM
    for call in h.fake.calls(RESPONSE_URL):
        assert call.params.get("response_type", "ephemeral") == "ephemeral"
    assert h.fake.calls("chat.postEphemeral") == []


# ------------------------------------------------------------------------------------------ slash command


async def test_slash_command_alone_shows_a_private_menu(h: Harness, content: Content) -> None:
    assert await h.command("") == "menu"

    hook = await h.next_call(RESPONSE_URL, "cmd")
    assert hook.params["response_type"] == "ephemeral"
    shown = labels(hook.params["blocks"])
    assert shown[:4] == ["Start a triage", "Contacts", "Help", "Urgent help"]
    practitioner_topics = [t.title for t in content.topics.values() if "practitioner" in t.who]
    # issue 15: a long topic list is one select, not a wall of buttons
    [pick] = [b for b in buttons(hook.params["blocks"]) if b["action_id"] == ACTION_PICK]
    assert pick["type"] == "static_select" and len(shown) == 4
    assert practitioner_topics and [o["text"]["text"] for o in pick["options"]] == [t[:75] for t in practitioner_topics]
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []


async def test_menu_topic_button_answers_ephemerally_in_the_channel(h: Harness, content: Content) -> None:
    await h.command("")
    menu = await h.next_call(RESPONSE_URL, "cmd")
    topic = next(t for t in content.topics.values() if "practitioner" in t.who)
    [pick] = [b for b in buttons(menu.params["blocks"]) if b["action_id"] == ACTION_PICK]
    option = next(o for o in pick["options"] if o["text"]["text"] == topic.title[:75])

    body = block_action_body(
        pick["action_id"],
        user_id=USER,
        team_id=TEAM,
        channel_id=CHANNEL,
        is_ephemeral=True,
        response_url=h.fake.response_url("menu"),
        action_type="static_select",
    )
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["actions"][0]["selected_option"] = option
    body = urlencode({"payload": json.dumps(payload)})
    assert await h.post(body) == 200
    assert await h.done() == ("action", "topic")

    answer = await h.next_call(RESPONSE_URL, "menu")
    assert answer.params["response_type"] == "ephemeral"
    assert topic.title in block_text(answer.params["blocks"])
    assert_private(h)


async def test_menu_start_triage_goes_to_the_dm_with_a_pointer_in_the_channel(h: Harness) -> None:
    await h.command("")
    menu = await h.next_call(RESPONSE_URL, "cmd")
    [start] = [b for b in buttons(menu.params["blocks"]) if b["action_id"] == ACTION_TRIAGE]

    body = block_action_body(
        start["action_id"],
        start["value"],
        user_id=USER,
        team_id=TEAM,
        channel_id=CHANNEL,
        is_ephemeral=True,
        response_url=h.fake.response_url("menu"),
    )
    assert await h.post(body) == 200
    assert await h.done() == ("action", "start")

    question = await h.next_call("chat.postMessage")
    assert "Is any child in immediate danger right now?" in block_text(question.params["blocks"])
    note = await h.next_call(RESPONSE_URL, "menu")
    assert f"slack://channel?team={TEAM}&id={DM}" in json.dumps(note.params["blocks"])
    assert_private(h)


async def test_help_lists_the_subcommands_ephemerally(h: Harness) -> None:
    assert await h.command("help") == "help"

    hook = await h.next_call(RESPONSE_URL, "cmd")
    text = block_text(hook.params["blocks"])
    assert "/ypsi triage [kent|leeds|national]" in text
    assert "/ypsi contacts [words]" in text
    assert "back, start again, contacts, urgent" in text  # the assistant's own help follows
    assert hook.params["response_type"] == "ephemeral"


async def test_contacts_query_out_of_hours_leeds_answers_ephemerally(h: Harness) -> None:
    assert await h.command("contacts out of hours leeds") == "contacts"

    hook = await h.next_call(RESPONSE_URL, "cmd")
    text = block_text(hook.params["blocks"])
    assert hook.params["response_type"] == "ephemeral"
    # Monday noon (the harness clock): offices are open, so the daytime service leads and the Emergency Duty
    # Team follows (issue 13: "out of hours" lists the service open now first).
    assert text.index("Duty and Advice Team") < text.index("Children's Emergency Duty Team (Leeds)")
    assert "0113 376 0336" in text and "0113 535 0600" in text
    await h.settle()
    assert h.fake.calls("chat.postMessage") == [] and h.fake.calls("conversations.open") == []


# ---------------------------------------------------------------------------------------------- triage


@pytest.mark.parametrize("area", sorted(FLOWS))
async def test_full_triage_reaches_the_outcome_and_dms_the_record(h: Harness, content: Content, area: str) -> None:
    answers, outcome_id, contact_id = FLOWS[area]
    contact = content.contacts_for(area)[contact_id].name
    flow = content.flows[content.areas[area].practitioner_flow]
    outcome = flow.outcome(outcome_id)
    assert outcome is not None

    message = await h.triage(area)
    note = await h.next_call(RESPONSE_URL, "cmd")
    assert "direct messages" in block_text(note.params["blocks"])
    assert flow.title in block_text(message.params["blocks"])
    for label in answers:
        message = await h.answer(message, label)

    shown = block_text(message.params["blocks"])
    assert message.params["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": outcome.title, "emoji": True},
    }
    assert contact in shown
    assert "open now" in shown or "closed now" in shown
    assert "Based on:" in shown
    assert "Decision record" in labels(message.params["blocks"])

    assert await h.press(message, "Decision record") == "record"
    record = await h.next_call("chat.postMessage")
    record_text = block_text(record.params["blocks"])
    assert f"[{outcome_id}]" in record_text and "```" in record_text
    assert f"({area})" in record_text
    assert_private(h)


async def test_answered_question_is_updated_in_place_with_the_choice(h: Harness) -> None:
    first = await h.triage("leeds")

    await h.press(first, "No")

    second = await h.next_call("chat.update")
    assert second.params["channel"] == DM and second.params["ts"] == first.response["ts"]
    assert trail(second.params["blocks"]) == ["✓ Is any child in immediate danger right now? — No"]
    assert "Is an adult (18 or over) involved?" in block_text(second.params["blocks"])
    assert labels(second.params["blocks"])[:2] == ["Yes", "No"]
    await h.settle()
    assert h.unseen("chat.postMessage") == []  # nothing posted: the question itself became the next one


async def test_each_answer_costs_one_web_api_call_and_the_trail_grows(h: Harness) -> None:
    answers, outcome_id, _ = FLOWS["kent"]
    message = await h.triage("kent")
    await h.settle()

    for n, label in enumerate(answers, start=1):
        before = len(h.fake.calls())
        message = await h.answer(message, label)
        await h.settle()
        made = [c.method for c in h.fake.calls()[before:] if c.method != "auth.test"]
        assert made == ["chat.update"], (label, made)  # one call a press: the pressed message edited in place
        assert len(trail(message.params["blocks"])) == n

    outcome = h.bot.content.flows["kent"].outcome(outcome_id)
    assert outcome is not None and message.params["blocks"][0]["text"]["text"] == outcome.title
    assert len(h.fake.calls("chat.postMessage")) == 1  # the first question, nothing else
    assert_private(h)


async def test_a_crisis_card_from_a_press_is_a_new_message_before_the_edit(h: Harness) -> None:
    first = await h.triage("kent")
    await h.settle()
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    session = await h.bot.service.store.load(key)
    assert isinstance(session, Session)
    card = h.bot.assistant.crisis_card(Inbound("command", command="urgent"), h.bot.now())
    assert card is not None and card.kind == "crisis"
    question = Outbound("Is an adult involved?", kind="menu", title="Triage")
    reply = Reply(session, [question, card], "answer", answered=Answered("Danger?", "No"))
    where = Where(h.bot.app.client, TEAM, USER, dm=DM, pressed_ts=first.response["ts"], key=key)
    before = len(h.fake.calls())

    await h.bot._deliver(reply, where)

    made = [c for c in h.fake.calls()[before:] if c.method != "auth.test"]
    assert [c.method for c in made] == ["chat.postMessage", "chat.update"]
    assert "999" in block_text(made[0].params["blocks"]) and made[0].params["channel"] == DM
    assert made[1].params["ts"] == first.response["ts"]
    assert "Is an adult involved?" in block_text(made[1].params["blocks"])


@pytest.mark.parametrize("kind", ["command", "press"])
async def test_commands_and_presses_are_answered_before_bolt_and_the_turn_run(h: Harness, kind: str) -> None:
    first = await h.triage("leeds")
    await h.next_call(RESPONSE_URL, "cmd")
    opened = asyncio.Event()

    async def held(next: Callable[[], Awaitable[None]]) -> None:  # Bolt's dispatch stops here until opened
        await opened.wait()
        await next()

    h.bot.app.middleware(held)
    no = next(b for b in buttons(first.params["blocks"]) if b["text"]["text"] == "No")
    body = (
        slash_command_body(text="contacts childline", user_id=USER, team_id=TEAM, channel_id=CHANNEL,
                           response_url=h.fake.response_url("cmd"))
        if kind == "command"
        else block_action_body(no["action_id"], no["value"], user_id=USER, team_id=TEAM, channel_id=DM,
                               message_ts=first.response["ts"], response_url=h.fake.response_url("act"))
    )

    before = len(h.fake.calls())

    assert await asyncio.wait_for(h.post(body), 10) == 200  # answered while Bolt has not even matched it

    await h.settle()
    assert h.finished.empty() and {c.method for c in h.fake.calls()[before:]} == {"auth.test"}
    opened.set()
    assert await h.done() == ({"command": ("command", "contacts"), "press": ("action", "answer")}[kind])
    if kind == "press":
        assert "Is an adult (18 or over) involved?" in block_text((await h.next_call("chat.update")).params["blocks"])
    else:
        assert "0800 1111" in block_text((await h.next_call(RESPONSE_URL, "cmd")).params["blocks"])


async def test_what_does_this_mean_back_and_start_again(h: Harness, content: Content) -> None:
    first = await h.triage("kent")
    second = await h.answer(first, "No")

    assert await h.press(second, "What does this mean?") == "explain"
    explained = await h.next_call("chat.update")
    help_text = content.flows["kent"].question("adult_involved").help  # type: ignore[union-attr]
    assert help_text.split("\n")[0][:60] in block_text(explained.params["blocks"])
    again = await h.next_call("chat.postMessage")
    assert "Is an adult (18 or over) involved in any way?" in block_text(again.params["blocks"])

    assert await h.press(again, "Back") == "back"
    back = await h.next_call("chat.update")
    assert back.params["ts"] == again.response["ts"]
    assert "Is any child in immediate danger right now?" in block_text(back.params["blocks"])

    third = await h.answer(back, "No")
    fourth = await h.answer(third, "No")
    assert "anything beyond making or sending" in block_text(fourth.params["blocks"])
    assert await h.press(fourth, "Start again") == "restart"
    restarted = await h.next_call("chat.update")
    assert "Is any child in immediate danger right now?" in block_text(restarted.params["blocks"])
    assert_private(h)


async def test_stale_button_gets_a_fresh_menu_not_a_jump(h: Harness) -> None:
    first = await h.triage("leeds")
    await h.answer(first, "No")

    assert await h.press(first, "Yes") == "expired_action"  # the first question again, already answered

    expired = await h.next_call("chat.postMessage")
    assert "expired" in block_text(expired.params["blocks"])


# --------------------------------------------------------------------------------------------- App Home


def state_line(text: str, name: str) -> str:
    """The hours line under a contact's name on App Home."""
    lines = text.split("\n")
    return lines[next(i for i, line in enumerate(lines) if name in line) + 1]


async def test_app_home_shows_area_contacts_open_now_imagery_and_forget(stack: Stack) -> None:
    h = await stack.start(clock=NOON, default_area="leeds")
    assert await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"}) == "published"

    publish = await h.next_call("views.publish")
    assert publish.params["user_id"] == USER
    view = publish.params["view"]
    text = block_text(view["blocks"])
    assert "Your area: *Leeds*" in text
    assert "*Duty and Advice Team, Children's Social Work Service (Leeds Front Door)*" in text
    assert state_line(text, "Emergency Duty Team (Leeds)").endswith("(closed now)")  # Monday noon
    assert state_line(text, "Duty and Advice Team").endswith("(open now)")
    assert "nobody views, copies, prints, forwards, saves or asks for the imagery" in text
    ids = [b.get("action_id") for b in buttons(view["blocks"])]
    assert ACTION_TRIAGE in ids and ACTION_FORGET in ids and ACTION_AREA in ids


async def test_app_home_out_of_hours_puts_open_services_first(stack: Stack) -> None:
    h = await stack.start(clock=EVENING, default_area="leeds")
    await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"})

    text = block_text((await h.next_call("views.publish")).params["view"]["blocks"])
    assert state_line(text, "Emergency Duty Team (Leeds)").endswith("(open now)")  # Monday 8 pm
    assert state_line(text, "Duty and Advice Team").endswith("(closed now)")
    assert text.index("Emergency Duty Team (Leeds)") < text.index("Duty and Advice Team")


async def test_app_home_area_is_chosen_once_and_remembered(stack: Stack) -> None:
    h = await stack.start(default_area="national")
    await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"})
    first = await h.next_call("views.publish")
    assert "Your area: *Elsewhere in England*" in block_text(first.params["view"]["blocks"])

    assert await home_action(h, ACTION_AREA, selected="kent") == "area"
    republished = await h.next_call("views.publish")
    assert "Your area: *Kent*" in block_text(republished.params["view"]["blocks"])
    await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"})
    reopened = await h.next_call("views.publish")
    assert "Your area: *Kent*" in block_text(reopened.params["view"]["blocks"])

    # The triage started from App Home uses that area (Kent's flow), in the DM.
    assert await home_action(h, ACTION_TRIAGE, "triage") == "start"
    question = await h.next_call("chat.postMessage")
    assert "Kent" in block_text(question.params["blocks"])
    assert question.response["channel"] == DM
    await h.settle()
    assert h.fake.calls("views.publish") == [first, republished, reopened]  # nothing else republished


async def test_forget_me_forgets_the_area(stack: Stack) -> None:
    h = await stack.start(default_area="national")
    await h.triage("leeds")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    assert (await h.bot.service.store.load(key)) is not None

    assert await home_action(h, ACTION_FORGET, "forget") == "forget"

    publish = await h.next_call("views.publish")
    text = block_text(publish.params["view"]["blocks"])
    assert "I have forgotten your area" in text and "Your area: *Elsewhere in England*" in text
    assert await h.bot.service.store.load(key) is None


async def test_messages_tab_opened_publishes_nothing(h: Harness) -> None:
    # issue 15: the first opening gets the one-time welcome (tests/adapters/slack/test_slack_ux.py); later ones nothing
    assert await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "messages"}) == "welcome"
    assert await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "messages"}) == "ignored"
    await h.settle()
    assert h.fake.calls("views.publish") == []


# ------------------------------------------------------------------------------------------------- DMs


async def test_dm_free_text_is_answered_by_the_assistant(h: Harness, content: Content) -> None:
    expected = Assistant(content, YPSI_SECRET).handle(
        None, Inbound("text", text="EDT number"), h.bot.now(), Defaults("practitioner", "national", True)
    )

    assert await h.dm("EDT number") == expected.event

    posts = [await h.next_call("chat.postMessage") for _ in expected.replies]
    for post, out in zip(posts, expected.replies, strict=True):
        assert post.params["channel"] == DM
        assert out.text.split("\n")[0][:80] in post.params["text"]


async def test_dm_forget_me_forgets_with_slack_wording(h: Harness, content: Content) -> None:
    await h.triage("kent")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))

    assert await h.dm("forget me") == "forget"

    farewell = await h.next_call("chat.postMessage")
    assert farewell.params["text"] == content.text("slack_forgotten")
    assert "/start" not in farewell.params["text"]
    assert await h.bot.service.store.load(key) is None


def test_slack_escapes_are_undone_before_the_assistant_reads_the_text() -> None:
    assert typed("D&amp;A &lt;urgent&gt; &amp;lt;") == "D&A <urgent> &lt;"


async def test_dm_crisis_words_get_emergency_signposting_first(h: Harness) -> None:
    assert await h.dm("i want to kill myself") == "crisis"

    first = await h.next_call("chat.postMessage")
    assert first.params["blocks"][0]["text"]["text"] == "Get help now"
    assert "999" in block_text(first.params["blocks"])


async def test_dm_with_a_file_is_never_downloaded_and_gets_the_imagery_warning(h: Harness) -> None:
    event = file_share_message_event(
        "here it is", user_id=USER, url_private=h.fake.file_url("pupil.jpg"), file_name="pupil.jpg"
    )

    assert await h.event(event) == "media"

    warning = await h.next_call("chat.postMessage")
    assert warning.params["blocks"][0]["text"]["text"] == "Please don't send pictures"
    assert "I have not looked at it" in block_text(warning.params["blocks"])
    await h.settle()
    assert h.fake.calls(URL_PRIVATE) == []
    assert h.fake.calls("files.info") == []
    assert set(h.fake.methods()) <= {"auth.test", "chat.postMessage"}


async def test_crisis_words_sent_with_a_file_come_first_and_the_file_is_never_fetched(h: Harness) -> None:
    event = file_share_message_event("i want to kill myself", user_id=USER, url_private=h.fake.file_url("y.jpg"))

    assert await h.event(event) == "crisis"

    first = await h.next_call("chat.postMessage")
    assert first.params["blocks"][0]["text"]["text"] == "Get help now"
    second = await h.next_call("chat.postMessage")
    assert second.params["blocks"][0]["text"]["text"] == "Please don't send pictures"
    await h.settle()
    assert h.fake.calls(URL_PRIVATE) == [] and h.fake.calls("files.info") == []


@pytest.mark.parametrize(
    "event",
    [
        {**im_message_event("edited", user_id=USER), "subtype": "message_changed"},
        {**im_message_event("deleted", user_id=USER), "subtype": "message_deleted"},
        {**im_message_event("from a bot", user_id=USER), "bot_id": "B0OTHER"},
        {**im_message_event("in a channel", user_id=USER), "channel_type": "channel", "channel": CHANNEL},
    ],
    ids=["changed", "deleted", "other-bot", "channel"],
)
async def test_edits_deletions_bots_and_channels_are_ignored(h: Harness, event: dict[str, str]) -> None:
    assert await h.event(event) == "ignored"
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []


async def test_events_and_actions_no_listener_matches_get_200_not_404(h: Harness) -> None:
    reaction = {"type": "reaction_added", "user": USER, "reaction": "eyes", "item": {}, "event_ts": "1.2"}
    assert await h.event(reaction) == "reaction_added"
    other = block_action_body("someone_elses_button", "x", user_id=USER, team_id=TEAM)
    assert await h.post(other) == 200
    assert (await h.done())[0] == "unhandled"


# ---------------------------------------------------------------------------------- Slack's guarantees


@pytest.mark.parametrize(
    ("secret", "timestamp"),
    [("forged-secret", None), (SIGNING_SECRET, 1_000_000_000)],
    ids=["bad-signature", "stale-timestamp"],
)
async def test_unverified_requests_are_rejected_with_401(h: Harness, secret: str, timestamp: int | None) -> None:
    assert h.url is not None
    body = slash_command_body(text="triage leeds", user_id=USER, response_url=h.fake.response_url())

    status, _ = await post_signed(h.url, body, None, secret, timestamp=timestamp)

    assert status == 401
    assert h.fake.calls() == []


async def test_redelivered_event_is_handled_once(h: Harness) -> None:
    event = im_message_event("contacts", user_id=USER, team_id=TEAM)

    assert await h.event(event, event_id="Ev0SAME") == "contacts"
    assert await h.event(event, event_id="Ev0SAME", retry_num=1) == "duplicate"

    await h.next_call("chat.postMessage")
    await h.settle()
    assert len(h.fake.calls("chat.postMessage")) == 1


async def test_repeated_slash_command_with_the_same_trigger_is_handled_once(h: Harness) -> None:
    assert await h.command("triage leeds", trigger_id="13345224609.738474920.8088930838d88f008e0") == "start"
    assert await h.command("triage leeds", trigger_id="13345224609.738474920.8088930838d88f008e0") == "duplicate"
    await h.settle()
    assert len(h.fake.calls("chat.postMessage")) == 1


async def test_rate_limited_post_is_retried_after_retry_after(h: Harness, stack: Stack) -> None:
    h.fake.fail_next("chat.postMessage", status=429, retry_after=3)

    assert await h.dm("contacts") == "contacts"

    first, second = await h.fake.wait_for("chat.postMessage", count=2)
    assert (first.status, second.status) == (429, 200)
    assert stack.slept == [3.0]


async def test_server_error_is_retried(h: Harness, stack: Stack) -> None:
    h.fake.fail_next("chat.postMessage", status=503)

    assert await h.dm("contacts") == "contacts"

    first, second = await h.fake.wait_for("chat.postMessage", count=2)
    assert (first.status, second.status) == (503, 200)
    assert len(stack.slept) == 1


async def test_restart_in_the_middle_of_a_triage_carries_on(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    before = await stack.start(store=sqlite_store(path))
    first = await before.triage("leeds")
    second = await before.answer(first, "No")
    await stack.stop()

    after = await stack.start(store=sqlite_store(path))
    after._seen = dict(before._seen)
    assert await after.press(second, "No") == "answer"

    third = await after.next_call("chat.update")
    assert trail(third.params["blocks"]) == [
        "✓ Is any child in immediate danger right now? — No", "✓ Is an adult (18 or over) involved? — No",
    ]
    assert "coerced, blackmailed or groomed" in block_text(third.params["blocks"])


async def test_state_lives_in_the_store_under_a_hashed_key(h: Harness) -> None:
    await h.triage("kent")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))

    session = await h.bot.service.store.load(key)

    assert isinstance(session, Session)
    assert (session.who, session.area, session.flow, session.node) == (
        "practitioner",
        "kent",
        "kent",
        "immediate_danger",
    )
    assert USER not in key and TEAM not in key


# ------------------------------------------------------------------------------------------------ logs



async def test_logs_hold_no_typed_text_ids_or_tokens(stack: Stack, captured_logs: io.StringIO) -> None:
    h = await stack.start()
    typed = "Quokka Zebrafish 44172"
    first = await h.triage("leeds")
    await h.answer(first, "No")
    await h.dm(typed)
    await h.command(f"contacts {typed}")
    await h.event(file_share_message_event(user_id=USER, url_private=h.fake.file_url("x.jpg")))
    h.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    await h.dm("contacts")
    await h.settle()

    logs = captured_logs.getvalue()
    assert '"event":"turn"' in logs and '"event":"slack_done"' in logs
    for secret in (typed, "Quokka", USER, TEAM, DM, BOT_TOKEN, SIGNING_SECRET, YPSI_SECRET, "x.jpg"):
        assert secret not in logs, secret


# ------------------------------------------------------------------------------------- the DM, opened once


async def test_the_second_reply_to_the_same_person_opens_no_dm(h: Harness) -> None:
    await h.triage("kent")
    await h.settle()
    assert len(h.fake.calls("conversations.open")) == 1

    await h.triage("leeds")  # a second slash command in the channel: its reply goes to the DM already known
    await h.settle()
    assert len(h.fake.calls("conversations.open")) == 1
    assert [c.params["channel"] for c in h.fake.calls("chat.postMessage")] == [DM, DM]


async def test_a_dm_slack_no_longer_knows_is_opened_again(h: Harness, captured_logs: io.StringIO) -> None:
    await h.triage("kent")
    h.fake.fail_next("chat.postMessage", error="channel_not_found")

    assert await h.command("triage leeds") == "start"
    await h.settle()

    assert len(h.fake.calls("conversations.open")) == 2  # the remembered id was forgotten and the DM reopened
    statuses = [c.response.get("ok") for c in h.fake.calls("chat.postMessage")]
    assert statuses == [True, False, True]
    assert '"event":"slack_dm_reopened"' in captured_logs.getvalue()
    assert USER not in captured_logs.getvalue()


async def test_slack_sdk_formats_no_debug_line_for_a_web_api_call(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk builds its debug lines (the request, the whole response body) whenever its logger's own level is
    unset; the bot's client holds it at WARNING, so a call formats none (and so can never log a payload)."""
    formatted: list[str] = []
    for name in SDK_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "debug", lambda msg, *a, **k: formatted.append(str(msg)))

    assert await h.dm("contacts") == "contacts"
    await h.command("contacts childline")

    assert h.fake.calls("chat.postMessage") and h.fake.calls(RESPONSE_URL)
    assert formatted == []
