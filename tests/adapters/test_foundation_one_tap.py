"""Act in one tap, in the neutral replies: which contacts get a link button is content (the `link_buttons`
role), copy buttons stay few, quick exit is for young people, and the console prints links and numbers."""

from __future__ import annotations

import datetime as dt

from adapters.console import ConsoleChat, console_service, plain
from bot.assistant import Assistant, Defaults
from bot.screens import MAX_COPY
from bot.types import Inbound, Option, Outbound
from dialogs.content import Content
from dialogs.lint import load_content

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def replies(assistant: Assistant, who: str, *texts: str) -> list[Outbound]:
    session, out = None, []
    for text in texts:
        reply = assistant.handle(session, Inbound("text", text=text), NOW, Defaults(who=who, area="kent"))
        session, out = reply.session, reply.replies
    return out


def test_link_buttons_follow_the_content_role(content: Content) -> None:
    card = replies(Assistant(content, "s" * 32), "parent", "ceop")[0]
    assert Option("", content.text("link_ceop"), url="https://www.ceop.police.uk/Safety-Centre/") in card.options

    edited = load_content()
    edited.areas["national"].roles["link_buttons"] = ["samaritans"]
    card = replies(Assistant(edited, "s" * 32), "parent", "ceop")[0]
    assert not any(o.url for o in card.options)
    card = replies(Assistant(edited, "s" * 32), "parent", "samaritans")[0]
    assert [o.url for o in card.options if o.url] == ["https://www.samaritans.org"]


def test_copy_buttons_are_few_and_skip_three_digit_numbers(assistant: Assistant) -> None:
    contacts = [c for _, c in assistant.content.all_contacts() if c.phone]
    copies = [o for o in assistant.one_tap(contacts, "kent") if o.copy]
    assert 0 < len(copies) <= MAX_COPY
    assert all(o.copy not in ("999", "101") for o in copies)


def test_quick_exit_is_on_young_peoples_keyboards_only(assistant: Assistant, content: Content) -> None:
    exit_label = content.text("nav_exit")
    young = replies(assistant, "young_person", "childline", "contacts")
    assert all(o.options[-1].label == exit_label for o in young if o.options)
    parent = replies(assistant, "parent", "childline", "contacts")
    assert all(exit_label not in [x.label for x in o.options] for o in parent)


def test_the_console_prints_links_and_numbers_unnumbered(content: Content) -> None:
    chat = ConsoleChat(console_service(content), who="parent", area="kent")
    try:
        card = chat.type("childline")[0]
        text = plain(card)
        assert f"{content.text('link_childline')}: https://www.childline.org.uk" in text
        assert f"{content.text('copy_number', phone='0800 1111')}: 0800 1111" in text
        assert all(not o.acts_here for o in chat.options)  # a number picks a button that comes back to the bot
    finally:
        chat.close()
