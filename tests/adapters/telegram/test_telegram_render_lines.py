"""No hard-wrap artefacts in what Telegram shows: a line that begins with a number and a full stop is a list
item ("1.", or the item after the one before), never the end of a wrapped sentence ("call⏎101. Don't pay.").

Property tests over everything the bot renders (random conversations through every flow, topic and contact,
at random times, rendered as Telegram messages), over the content's text blocks as loaded, and over long
texts cut into messages; one end-to-end check through the real PTB stack.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram_harness import Bot, joined

from adapters.telegram.render import render, split_text
from bot.assistant import Assistant, Defaults, Reply
from bot.session import Session
from bot.types import Inbound, Outbound
from dialogs.content import Content
from dialogs.engine import FlowEngine
from dialogs.lint import load_content

NUMBERED = re.compile(r"^\s*(\d+)\.(\s|$)")
TODAY = dt.date(2026, 11, 21)
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)


def misnumbered(text: str) -> list[str]:
    """Lines that begin with "N." but are not a list item (not 1., nor the number after the last item)."""
    bad, last = [], 0
    for line in text.split("\n"):
        if not line.strip():
            last = 0
            continue
        numbered = NUMBERED.match(line)
        if numbered:
            number = int(numbered[1])
            if number not in (1, last + 1):
                bad.append(line)
            else:
                last = number
    return bad


@functools.cache
def _shared() -> tuple[Content, Assistant]:
    content = load_content(today=TODAY)
    return content, Assistant(content, "render-lines-secret")


def shown(outs: Iterable[Outbound]) -> list[str]:
    """Each Telegram message the replies become."""
    return [piece.text for out in outs for piece in render(out)]


WORDS = ["childline", "ceop", "report remove", "out of hours", "police", "contacts", "help", "nspcc",
         "my daughter sent a photo", "someone is threatening to share a picture", "is it illegal",
         "fake pictures", "what should the school do", "samaritans", "social services", "brook"]
WHO_AREA = st.tuples(st.sampled_from(["young_person", "parent", "practitioner"]),
                     st.sampled_from(["kent", "leeds", "national"]))


@PROPERTY
@given(who_area=WHO_AREA, hours=st.integers(0, 24 * 14), steps=st.lists(
    st.one_of(st.integers(0, 40), st.sampled_from(WORDS)), max_size=10))
def test_no_rendered_line_starts_with_a_number_unless_it_is_a_list_item(
    who_area: tuple[str, str], hours: int, steps: list[int | str]
) -> None:
    content, assistant = _shared()
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC) + dt.timedelta(hours=hours)
    defaults = Defaults(who=who_area[0], area=who_area[1])
    reply: Reply = assistant.handle(None, Inbound("command", command="start"), now, defaults)
    seen = shown(reply.replies)
    for step in steps:
        session = reply.session or Session(created=now.timestamp())
        actions = [o.action for out in reply.replies for o in out.options if o.action]
        if isinstance(step, int) and actions:
            inbound = Inbound("action", action=actions[step % len(actions)])
        else:
            inbound = Inbound("text", text=str(step))
        reply = assistant.handle(session, inbound, now, defaults)
        seen += shown(reply.replies)
    for text in seen:
        assert misnumbered(text) == [], text


def test_every_text_block_in_the_content_reads_without_false_list_items() -> None:
    content, assistant = _shared()
    now = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)
    blocks = [t.text for t in content.topics.values()]
    for flow in content.flows.values():
        blocks += [flow.intro, flow.footer, *(q.text for q in flow.questions), *(q.help for q in flow.questions)]
        blocks += [o.text for o in flow.outcomes] + [n.text for o in flow.outcomes for n in o.notes]
    for area in content.areas.values():
        blocks += list(area.notes.values())
    blocks += list(content.messages.values())
    contacts = [c for _, c in content.all_contacts()]
    blocks += shown(assistant.handle(None, Inbound("command", command="contacts", arg=c.name), now).replies[0]
                    for c in contacts)
    for block in blocks:
        assert misnumbered(block) == [], block


@PROPERTY
@given(words=st.lists(st.sampled_from(["call", "the", "police", "on", "101.", "999.", "Don't", "pay.", "7.",
                                       "and", "then", "\n1.", "\n2."]), min_size=60, max_size=400),
       limit=st.integers(40, 400))
def test_texts_cut_into_messages_never_start_a_message_with_a_stray_number(words: list[str], limit: int) -> None:
    text = " ".join(words)
    for part in split_text(text, limit)[1:]:
        token = part.split("\n")[0].split(" ")[0]
        if NUMBERED.match(token):
            assert "\n" + token in text, (token, part)  # only a list item that began a line in the text


async def test_the_parents_advice_reads_call_101_on_one_line(bot: Bot, content: Content) -> None:
    """End to end: the outcome with "call⏎101. Don't pay." in its YAML arrives with it on one line."""
    flow = content.flows["parent"]
    outcome = next(o for o in flow.outcomes if "call 101. Don't pay." in o.text)
    path = FlowEngine(flow).path_to(outcome.id)
    assert path is not None
    await bot.command(850, "start", "parent_kent")
    for question_id, choice_id in path:
        question = flow.question(question_id)
        assert question is not None
        await bot.choose(850, next(c.label for c in question.choices if c.id == choice_id))
    text = joined([c for c in bot.tg.calls(chat_id=850) if c.method in ("sendMessage", "editMessageText")])
    assert outcome.title in text and "call 101. Don't pay." in text
    assert not any(line.lstrip().startswith("101.") for line in text.split("\n"))
