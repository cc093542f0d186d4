"""Slack: the area stays chosen (a preference, not a conversation), and contacts come with link buttons."""

from __future__ import annotations

from test_slack_harness import DM, TEAM, USER, Harness, Stack, block_text, buttons, home_action

from adapters.slack.blocks import ACTION_AREA, ACTION_FORGET, ACTION_LINK
from bot.session import Preferences
from bot.store import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def home_area(h: Harness) -> str:
    await h.event({"type": "app_home_opened", "user": USER, "channel": DM, "tab": "home"})
    text = block_text((await h.next_call("views.publish")).params["view"]["blocks"])
    return next(line for line in text.split("\n") if line.startswith("Your area:"))


async def test_the_area_chosen_survives_the_session_expiring(stack: Stack) -> None:
    clock = Clock()
    store = MemoryStore(ttl=100.0, clock=clock)
    h = await stack.start(store=store, default_area="national")
    assert await home_action(h, ACTION_AREA, selected="kent") == "area"
    await h.next_call("views.publish")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))

    clock.now += 101  # the conversation is gone; the choice is not
    assert await store.load(key) is None
    assert await home_area(h) == "Your area: *Kent*"
    assert await h.command("triage") == "start"
    question = await h.next_call("chat.postMessage")
    assert "Kent" in block_text(question.params["blocks"])
    assert await store.load_preferences(key) == Preferences(area="kent")


async def test_forget_me_clears_the_remembered_area(stack: Stack) -> None:
    clock = Clock()
    store = MemoryStore(ttl=100.0, clock=clock)
    h = await stack.start(store=store, default_area="national")
    await h.triage("leeds")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    assert await store.load_preferences(key) == Preferences(area="leeds")

    assert await home_action(h, ACTION_FORGET, "forget") == "forget"
    await h.next_call("views.publish")
    assert await store.load_preferences(key) is None
    clock.now += 101
    assert await home_area(h) == "Your area: *Elsewhere in England*"


async def test_quick_exit_clears_the_remembered_area(stack: Stack) -> None:
    store = MemoryStore()
    h = await stack.start(store=store, default_area="national")
    await h.triage("leeds")
    key = h.bot.service.key(h.bot.ref(TEAM, USER))
    assert await h.command("exit") == "exit"
    assert await store.load_preferences(key) is None
    assert await home_area(h) == "Your area: *Elsewhere in England*"


# ------------------------------------------------------------------------------------------ link buttons


async def test_contacts_carry_url_buttons_and_pressing_one_is_acknowledged_without_a_reply(h: Harness) -> None:
    content = h.bot.content
    await h.dm("ceop")
    card = await h.next_call("chat.postMessage")
    links = [b for b in buttons(card.params["blocks"]) if "url" in b]
    ceop = next(b for b in links if b["url"] == "https://www.ceop.police.uk/Safety-Centre/")
    assert ceop["type"] == "button" and ceop["text"]["text"] == content.text("link_ceop") and "value" not in ceop
    assert all(b["action_id"].startswith(ACTION_LINK) for b in links)
    copy_label = content.text("copy_number", phone="0800 1111").split("0800")[0].strip()
    assert not any(copy_label in str(b.get("text")) for b in buttons(card.params["blocks"]))  # no copy on Slack
    await h.settle()
    posted = len(h.fake.calls("chat.postMessage"))

    assert await h.press(card, content.text("link_ceop")) == "ignored"

    await h.settle()
    assert len(h.fake.calls("chat.postMessage")) == posted
    assert h.fake.calls("chat.update") == [] and h.fake.calls("chat.postEphemeral") == []
