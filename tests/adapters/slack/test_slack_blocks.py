"""Block Kit rendering: Slack's limits, buttons that carry the assistant's tokens verbatim, App Home."""

from __future__ import annotations

import datetime as dt

import pytest
from test_slack_harness import NOON, YPSI_SECRET, block_text, buttons

from adapters.slack.blocks import (
    ACTION_AREA,
    ACTION_FORGET,
    MAX_BLOCKS,
    MAX_SECTION,
    Renderer,
    chunks,
    escape,
    unwrap,
)
from bot.assistant import Assistant, Defaults, Reply
from bot.types import Inbound, Option, Outbound
from dialogs.content import Content

AT = dt.datetime.fromtimestamp(NOON, dt.UTC)


@pytest.fixture(scope="module")
def assistant(content: Content) -> Assistant:
    return Assistant(content, YPSI_SECRET)


@pytest.fixture(scope="module")
def render(content: Content, assistant: Assistant) -> Renderer:
    return Renderer(content, assistant)


def first_question(assistant: Assistant, area: str = "kent") -> Outbound:
    return triage(assistant, area).replies[-1]


def triage(assistant: Assistant, area: str = "kent") -> Reply:
    return assistant.handle(
        None, Inbound("command", command="triage", arg=area), AT, Defaults("practitioner", "national", True)
    )


def press(assistant: Assistant, token: str) -> Reply:
    """Press a button of the first question: the reply says what the button answered, if anything."""
    started = triage(assistant)
    return assistant.handle(started.session, Inbound("action", action=token), AT,
                            Defaults("practitioner", "national", True))


def test_question_buttons_carry_the_tokens_choices_before_navigation(render: Renderer, assistant: Assistant) -> None:
    out = first_question(assistant)

    blocks = render.blocks(out)

    choices, nav = [b for b in blocks if b["type"] == "actions"]
    assert choices["block_id"] == "ypsi_choices" and nav["block_id"] == "ypsi_nav"
    assert [b["value"] for b in choices["elements"] + nav["elements"]] == [
        o.action for o in out.options if not o.nav
    ] + [o.action for o in out.options if o.nav]
    ids = [b["action_id"] for b in buttons(blocks)]
    assert len(ids) == len(set(ids))
    urgent = next(b for b in nav["elements"] if b["text"]["text"] == "Urgent help")
    assert "style" not in urgent  # issue 15: urgent help is a plain button; danger is for destructive actions
    assert "Is any child in immediate danger right now?" in block_text(blocks)


def test_long_text_is_split_within_slack_limits(render: Renderer) -> None:
    paragraph = "A sentence that goes on. " * 40
    text = "\n\n".join([paragraph] * 30) + "\n\n" + "x" * 7000
    out = Outbound(text, (Option("tok", "L" * 120),), kind="info", title="T" * 200)

    blocks = render.blocks(out)

    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(s) <= MAX_SECTION for s in sections)
    assert len(blocks) <= MAX_BLOCKS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    [button] = buttons(blocks)
    assert len(button["text"]["text"]) <= 75 and button["value"] == "tok"


def test_chunks_keep_all_the_text() -> None:
    text = "\n\n".join(f"para {i} " + "y" * 900 for i in range(10))

    pieces = chunks(text, 3000)

    assert all(len(p) <= 3000 for p in pieces)
    assert "\n\n".join(pieces) == text


def test_slack_control_characters_are_escaped(render: Renderer) -> None:
    blocks = render.blocks(Outbound("<!channel> & <@U123>", kind="info"))

    assert blocks[0]["text"]["text"] == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_lines_wrapped_mid_sentence_are_joined_but_lists_are_kept() -> None:
    assert unwrap("for education settings,\nwhich the guidance") == "for education settings, which the guidance"
    assert unwrap("First sentence.\nSecond one.") == "First sentence.\nSecond one."
    assert unwrap("1. one\n2. two\n  indented") == "1. one\n2. two\n  indented"


def test_answered_question_shows_the_choice_and_keeps_the_intro_of_the_first(
    render: Renderer, assistant: Assistant, content: Content
) -> None:
    out = first_question(assistant)
    no = next(o for o in out.options if o.label == "No")
    pressed = press(assistant, no.action).answered
    assert pressed is not None

    answered = render.answered(pressed)

    assert answered is not None
    assert answered.text == "✓ Is any child in immediate danger right now? — No"
    assert content.flows["kent"].intro.split("\n")[0][:40] in block_text(answered.blocks)
    assert buttons(answered.blocks) == []


def test_only_a_genuine_choice_token_is_summarised(assistant: Assistant) -> None:
    out = first_question(assistant)
    nav = next(o for o in out.options if o.nav)
    choice = next(o for o in out.options if not o.nav)

    assert press(assistant, choice.action).answered is not None
    assert press(assistant, nav.action).answered is None
    tampered = choice.action[:-1] + ("y" if choice.action.endswith("x") else "x")  # never the same token
    assert press(assistant, tampered).answered is None
    assert press(assistant, "c.kent.99.0.abcd~forgedsig0").answered is None


def test_decision_record_is_preformatted(render: Renderer) -> None:
    blocks = render.blocks(Outbound("Area: Leeds <leeds>\nOutcome: refer", kind="record", title="record"))

    assert blocks[1]["text"]["text"] == "```Area: Leeds &lt;leeds&gt;\nOutcome: refer```"


def test_merged_replies_keep_action_ids_unique(render: Renderer, assistant: Assistant) -> None:
    out = first_question(assistant)

    merged = render.merged([out, out])

    ids = [b["action_id"] for b in buttons(merged.blocks)]
    assert len(ids) == 2 * len(out.options) and len(set(ids)) == len(ids)


def test_home_view_area_picker_contacts_imagery_and_forget(render: Renderer, content: Content) -> None:
    view = render.home("kent", AT)

    assert view["type"] == "home" and len(view["blocks"]) <= 100
    picker = next(b for b in buttons(view["blocks"]) if b["action_id"] == ACTION_AREA)
    assert picker["initial_option"]["value"] == "kent"
    assert [o["value"] for o in picker["options"]][-1] == "national"
    assert sorted(o["value"] for o in picker["options"]) == sorted(content.areas)
    text = block_text(view["blocks"])
    assert "Your area: *Kent*" in text and "Key contacts for Kent" in text
    assert "*Kent Integrated Front Door (children's social care)*: 03000 41 11 11" in text
    assert content.text("record_imagery") in text
    forget = next(b for b in buttons(view["blocks"]) if b["action_id"] == ACTION_FORGET)
    assert forget["style"] == "danger" and forget["confirm"]["title"]["text"] == "Forget me?"
