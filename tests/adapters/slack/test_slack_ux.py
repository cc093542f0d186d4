"""Issue 15, Slack part 1: global shortcuts, the triage in a modal, Block Kit hygiene and the Messages tab's
welcome. Every request goes through the real Bolt stack in HTTP mode, signed, against the fake Slack."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from test_slack_harness import DM, EVENING, NOON, TEAM, USER, Harness, Stack, block_text, buttons, labels, trail

from adapters.slack.blocks import ACTION_FORGET, ACTION_MODAL, Renderer
from adapters.slack.modal import CALLBACK_ASIDE, CALLBACK_TRIAGE
from adapters.slack.shortcuts import ACTION_OOH_AREA, CALLBACK_OUT_OF_HOURS, CALLBACK_START_TRIAGE
from benchmarks.fakes.slack_api import Call, block_action_body, global_shortcut_body, view_submission_body
from bot.assistant import Assistant, Defaults
from bot.session import Preferences
from bot.store import MemoryStore
from bot.types import Inbound
from dialogs.content import Content

# A path through each area's triage (labels pressed) and the outcome it reaches (as in test_slack_http.py).
KENT = ["No", "No", "Yes", "13 to 17", "Low or medium", "No"]
NATIONAL = ["No", "Yes"]


async def shortcut(h: Harness, callback_id: str, trigger_id: str | None = None) -> str:
    assert await h.post(global_shortcut_body(callback_id, user_id=USER, team_id=TEAM, trigger_id=trigger_id)) == 200
    kind, result = await h.done()
    assert kind == "shortcut"
    return result


async def press_in(h: Harness, view: dict[str, Any], label: str) -> str:
    """Press the button labelled ``label`` in a modal, as Slack sends it (the view as it is on screen)."""
    button = next((b for b in buttons(view["blocks"]) if b.get("text", {}).get("text") == label), None)
    assert button is not None, f"no button {label!r} in {labels(view['blocks'])}"
    body = block_action_body(
        button["action_id"], button.get("value"), user_id=USER, team_id=TEAM, container_type="view", view=view
    )
    assert await h.post(body) == 200
    kind, result = await h.done()
    assert kind == "action"
    return result


def shown(h: Harness, call: Call) -> dict[str, Any]:
    """The modal a views.open / push / update drew, as the person sees it now."""
    view = h.fake.view(str(call.response["view"]["id"]))
    assert view is not None
    return view


async def modal_triage(h: Harness, path: list[str]) -> dict[str, Any]:
    """"Start a triage" from the shortcut, answered in the modal; the outcome's view."""
    assert await shortcut(h, CALLBACK_START_TRIAGE) == "start"
    view = shown(h, await h.next_call("views.open"))
    assert view["callback_id"] == CALLBACK_TRIAGE
    for label in path:
        await press_in(h, view, label)
        update = await h.next_call("views.update")
        assert update.params["view_id"] == view["id"] and update.params["hash"] == view["hash"]
        view = shown(h, update)
    return view


# ---------------------------------------------------------------------------------------- shortcuts


async def test_out_of_hours_shortcut_shows_the_areas_number_open_now(stack: Stack) -> None:
    h = await stack.start(clock=EVENING, default_area="leeds")

    assert await shortcut(h, CALLBACK_OUT_OF_HOURS, trigger_id="1.2.trigger-ooh") == "out_of_hours"

    opened = await h.next_call("views.open")
    assert opened.params["trigger_id"] == "1.2.trigger-ooh"
    view = opened.params["view"]
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    text = block_text(view["blocks"])
    assert "Out of hours: Leeds" in text
    assert "*Children's Emergency Duty Team (Leeds)*: 0113 535 0600" in text
    assert "(open now)" in text and "999" in text
    hours = [b for b in view["blocks"] if b["type"] == "context"]
    assert any("Evenings, nights, weekends" in e["text"] for b in hours for e in b["elements"])  # hours: secondary
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []  # a window: nothing left behind


async def test_out_of_hours_uses_the_remembered_area_and_the_select_shows_another(stack: Stack) -> None:
    h = await stack.start(clock=NOON, default_area="national")
    await h.triage("kent")  # Kent is remembered
    await shortcut(h, CALLBACK_OUT_OF_HOURS)
    view = shown(h, await h.next_call("views.open"))
    text = block_text(view["blocks"])
    assert "03000 41 91 91" in text and "closed now" in text  # Monday noon: the day line instead
    assert "03000 41 11 11" in text

    select = next(b for b in buttons(view["blocks"]) if b["action_id"] == ACTION_OOH_AREA)
    body = block_action_body(ACTION_OOH_AREA, user_id=USER, team_id=TEAM, container_type="view", view=view,
                             action_type="static_select")
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["actions"][0]["selected_option"] = next(o for o in select["options"] if o["value"] == "leeds")
    assert await h.post(urlencode({"payload": json.dumps(payload)})) == 200
    assert await h.done() == ("action", "out_of_hours_area")

    update = await h.next_call("views.update")
    assert update.params["view_id"] == view["id"]
    assert "0113 535 0600" in block_text(update.params["view"]["blocks"])
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    assert await h.bot.service.store.load_preferences(key) == Preferences(area="kent")  # for that window only


async def test_a_shortcut_whose_modal_cannot_open_answers_in_the_dm(stack: Stack) -> None:
    h = await stack.start(clock=EVENING, default_area="kent")
    h.fake.fail_next("views.open", error="expired_trigger_id")

    assert await shortcut(h, CALLBACK_OUT_OF_HOURS) == "out_of_hours_dm"

    dm = await h.next_call("chat.postMessage")
    assert dm.response["channel"] == DM
    assert "03000 41 91 91" in block_text(dm.params["blocks"])

    h.fake.fail_next("views.open", error="expired_trigger_id")
    assert await shortcut(h, CALLBACK_START_TRIAGE) == "start"
    question = await h.next_call("chat.postMessage")  # the triage carries on in the DM
    assert question.response["channel"] == DM
    assert "Is any child in immediate danger right now?" in block_text(question.params["blocks"])
    assert labels(question.params["blocks"])[:2] == ["Yes", "No"]


# ------------------------------------------------------------------------------------------- the modal


@pytest.mark.parametrize(("area", "path"), [("kent", KENT), ("national", NATIONAL)])
async def test_the_modal_and_the_dm_reach_the_same_outcome(stack: Stack, area: str, path: list[str]) -> None:
    via_dm = await stack.start(default_area=area)
    message = await via_dm.triage(area)
    for label in path:
        message = await via_dm.answer(message, label)
    dm_outcome = [b for b in message.params["blocks"] if not trail([b])]  # (the modal shows no trail)
    assert trail(message.params["blocks"]) != []

    stack.fake.clear_calls()
    via_modal = await stack.start(default_area=area)  # a fresh store: nothing carried over
    view = await modal_triage(via_modal, path)

    assert view["callback_id"] == CALLBACK_TRIAGE
    assert block_text(view["blocks"]) == block_text(dm_outcome)
    assert labels(view["blocks"]) == labels(dm_outcome)
    assert view["submit"]["text"] == "Send to my DMs"
    key = via_modal.bot.service.key(via_modal.bot.ref(TEAM, USER))
    saved = await via_modal.bot.service.store.load(key)
    assert saved is not None and saved.node is not None and len(saved.answers) == len(path)
    await via_modal.settle()
    assert via_modal.fake.calls("chat.postMessage") == []  # nothing in any channel or DM
    # One Web API call a step, as in the DM (where the question is edited in place into the next one).
    assert sorted(set(via_modal.fake.methods()) - {"auth.test"}) == ["views.open", "views.update"]
    assert len(via_modal.fake.calls("views.update")) == len(path)


async def test_send_to_my_dms_puts_the_outcome_in_the_dm_with_the_record_button(h: Harness) -> None:
    view = await modal_triage(h, NATIONAL)

    assert await h.post(view_submission_body(view, user_id=USER, team_id=TEAM)) == 200
    assert await h.done() == ("modal", "resume")

    outcome = await h.next_call("chat.postMessage")
    assert outcome.response["channel"] == DM
    assert block_text(outcome.params["blocks"]) == block_text(view["blocks"])
    assert await h.press(outcome, "Decision record") == "record"
    record = await h.next_call("chat.postMessage")
    assert "```" in block_text(record.params["blocks"])


async def test_the_modal_and_the_dm_are_one_conversation(h: Harness) -> None:
    await shortcut(h, CALLBACK_START_TRIAGE)
    view = shown(h, await h.next_call("views.open"))
    await press_in(h, view, "No")
    await h.next_call("views.update")

    assert await h.dm("yes") == "outcome"  # the second question, answered in the DM
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    saved = await h.bot.service.store.load(key)
    assert saved is not None and len(saved.answers) == 2


async def test_asides_are_pushed_over_the_question_and_urgent_help_is_drawn_there(h: Harness) -> None:
    await shortcut(h, CALLBACK_START_TRIAGE)
    question = shown(h, await h.next_call("views.open"))

    assert await press_in(h, question, "Contacts") == "contacts"
    pushed = await h.next_call("views.push")
    aside = shown(h, pushed)
    assert aside["callback_id"] == CALLBACK_ASIDE and aside["close"]["text"] == "Back"
    assert h.fake.view(question["id"]) == question  # the question is still beneath, unchanged

    assert await press_in(h, aside, "Urgent help") == "urgent"
    update = await h.next_call("views.update")
    assert update.params["view_id"] == aside["id"]  # no deeper stack
    assert "999" in block_text(update.params["view"]["blocks"])
    await h.settle()
    assert len(h.fake.calls("views.push")) == 1


async def test_a_second_press_on_a_stale_question_is_answered_calmly(h: Harness, captured_logs: io.StringIO) -> None:
    await shortcut(h, CALLBACK_START_TRIAGE)
    first = shown(h, await h.next_call("views.open"))
    await press_in(h, first, "No")
    second = shown(h, await h.next_call("views.update"))

    assert await press_in(h, first, "No") == "expired_action"  # the old screen, pressed again

    stale = await h.next_call("views.update")
    assert stale.response == {"ok": False, "error": "hash_conflict"}
    assert h.fake.view(first["id"]) == second  # the newer screen stays
    [gone] = [json.loads(line) for line in captured_logs.getvalue().splitlines() if "slack_modal_gone" in line]
    assert gone["error"] == "hash_conflict" and gone["crisis"] is False
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []


async def test_a_closed_modal_drops_the_reply_but_a_crisis_card_goes_to_the_dm(h: Harness) -> None:
    await shortcut(h, CALLBACK_START_TRIAGE)
    view = shown(h, await h.next_call("views.open"))
    h.fake.close_view(view["id"])  # closed while the press was on its way

    assert await press_in(h, view, "No") == "answer"
    assert (await h.next_call("views.update")).response["error"] == "not_found"
    await h.settle()
    assert h.fake.calls("chat.postMessage") == []

    h.fake.fail_next("views.push", error="not_found")  # (nothing to push onto)
    assert await press_in(h, view, "Urgent help") == "urgent"
    card = await h.next_call("chat.postMessage")
    assert card.response["channel"] == DM and "999" in block_text(card.params["blocks"])


async def test_app_home_offers_the_triage_in_a_window(h: Harness) -> None:
    await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"})
    home = (await h.next_call("views.publish")).params["view"]
    button = next(b for b in buttons(home["blocks"]) if b["action_id"] == ACTION_MODAL)

    body = block_action_body(ACTION_MODAL, button["value"], user_id=USER, team_id=TEAM, container_type="view",
                             trigger_id="9.9.from-home")
    assert await h.post(body) == 200
    assert await h.done() == ("action", "start")

    opened = await h.next_call("views.open")
    assert opened.params["trigger_id"] == "9.9.from-home"
    assert "Is any child in immediate danger right now?" in block_text(opened.params["view"]["blocks"])


# ------------------------------------------------------------------------------------ Block Kit hygiene


def test_danger_only_on_destructive_actions(content: Content) -> None:
    assistant = Assistant(content, "secret-for-blocks-0123456789")
    render = Renderer(content, assistant)
    at = dt.datetime.fromtimestamp(NOON, dt.UTC)
    young = assistant.handle(None, Inbound("command", command="start"), at, Defaults("young_person", "national"))
    styled = {b["text"]["text"]: b.get("style") for o in young.replies for b in buttons(render.blocks(o))}
    assert styled["Quick exit"] == "danger"
    assert {label for label, style in styled.items() if style == "danger"} == {"Quick exit"}

    practitioner = assistant.handle(
        None, Inbound("command", command="triage", arg="kent"), at, Defaults("practitioner", "kent", True)
    )
    styles = {b["text"]["text"]: b.get("style") for b in buttons(render.blocks(practitioner.replies[-1]))}
    assert styles["Urgent help"] is None
    assert "danger" not in styles.values()
    forget = next(b for b in buttons(render.home("kent", at)["blocks"]) if b["action_id"] == ACTION_FORGET)
    assert forget["style"] == "danger"


async def test_sources_and_the_disclaimer_are_context_blocks(h: Harness, content: Content) -> None:
    message = await h.triage("national")
    for label in NATIONAL:
        message = await h.answer(message, label)

    blocks = message.params["blocks"]
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert any(c.startswith("Based on:") for c in contexts)
    assert not any("Based on:" in s for s in sections)
    footer = content.flows["ukcis"].footer.split(".")[0]
    assert any(footer in c for c in contexts) and not any(footer in s for s in sections)


# ------------------------------------------------------------------------------------ Messages tab welcome


async def test_the_messages_tab_welcomes_once_and_keeps_only_a_flag(stack: Stack) -> None:
    store = MemoryStore()
    h = await stack.start(store=store)
    opened = {"type": "app_home_opened", "user": USER, "channel": DM, "tab": "messages"}

    assert await h.event(opened) == "welcome"
    welcome = await h.next_call("chat.postMessage")
    assert welcome.params["channel"] == DM
    text = block_text(welcome.params["blocks"])
    assert "never send me pictures" in text and "999" in text
    assert any(b["type"] == "context" for b in welcome.params["blocks"])
    assert labels(welcome.params["blocks"]) == ["Start a triage"]

    assert await h.event(opened) == "ignored"
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    saved = await store.load_preferences(key)
    assert saved == Preferences(welcomed=True) and saved.dumps() == '{"w":1}'
    assert USER not in key and await store.load(key) is None  # a hashed key, and no conversation started

    assert await h.press(welcome, "Start a triage") == "start"
    await h.next_call("chat.postMessage")
    await h.triage("leeds")  # choosing an area keeps the flag
    assert await store.load_preferences(key) == Preferences(area="leeds", welcomed=True)
    assert await h.event(opened) == "ignored"

    assert await h.command("forget") == "forget"  # Forget me forgets it too: welcomed again
    assert await store.load_preferences(key) is None
    assert await h.event(opened) == "welcome"
