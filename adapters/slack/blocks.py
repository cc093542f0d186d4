"""Block Kit rendering of the neutral replies, the /ypsi menu and App Home: pure functions, no I/O.

Every sentence comes from content (``content/messages.yaml`` and ``content/messages/slack.yaml``); this module
only arranges it within Slack's limits (3,000 characters a section, 75 a button label, 50 blocks a
message, 100 a Home view).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from adapters.text import split_text
from bot.action import Nav
from bot.areas import area_label, area_order
from bot.assistant import Assistant
from bot.contacts import order_by_open, status_text
from bot.reply import Answered
from bot.session import Session
from bot.types import Option, Outbound
from dialogs.content import Content
from dialogs.schema import Contact

Block = dict[str, Any]

# Action ids. Buttons carrying an assistant token are "ypsi_opt_<n>" (unique within a message).
ACTION_OPTION = "ypsi_opt_"
# Link buttons ("ypsi_link_<n>"): Slack opens the page and still sends a press, which is acknowledged and ignored.
ACTION_LINK = "ypsi_link_"
ACTION_TRIAGE = "ypsi_triage"
ACTION_AREA = "ypsi_area"
ACTION_FORGET = "ypsi_forget"
# A select whose chosen option carries an assistant token (the /ypsi menu's topics).
ACTION_PICK = "ypsi_pick"
# Opens the triage in a modal (App Home); see adapters/slack/modal.py.
ACTION_MODAL = "ypsi_modal"
# More choices than this (topics) are offered in a select rather than as a row of buttons.
MAX_BUTTON_LIST = 5
MAX_SELECT_OPTIONS = 100

MAX_SECTION = 3000
MAX_LABEL = 75
MAX_HEADER = 150
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_FALLBACK = 3000
_WRAPPED = re.compile(r"(?<=\S)\n(?=[a-z(])")

# The contacts App Home lists: the area's `key_contacts` role in content (national by default).
HOME_CONTACTS = ("role:key_contacts",)


@dataclass(frozen=True)
class SlackMessage:
    """A message as Slack takes it: ``text`` is the notification fallback, ``blocks`` what is shown."""

    text: str
    blocks: list[Block]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn and plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain(text: str, limit: int = MAX_LABEL) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


@functools.lru_cache(maxsize=1024)  # the same content texts, rendered again on every screen
def unwrap(text: str) -> str:
    """Join lines that content wrapped mid-sentence (the next line starts in lower case): Slack would
    otherwise show every line break. Lists, contact lines and new sentences keep theirs."""
    return _WRAPPED.sub(" ", text)


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context(mrkdwn: str) -> Block:
    """Secondary text (sources, disclaimers, hours): smaller and grey, under what it qualifies."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(mrkdwn, MAX_SECTION)}]}


def chunks(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, at paragraph, then line, then word breaks."""
    return split_text(text, limit)


class Renderer:
    """Turns :class:`Outbound` replies and the Slack-only screens into Block Kit."""

    def __init__(self, content: Content, assistant: Assistant, command: str = "/ypsi"):
        self.content = content
        self.assistant = assistant
        self.command = command
        self._record = assistant.button(Nav("record"))
        # Destructive actions, the only buttons styled ``danger`` (urgent help is a plain button).
        self._destructive = {assistant.button(Nav(name)) for name in ("forget", "exit")}
        # Paragraphs that qualify the rest (sources, the flows' disclaimers) go in context blocks.
        self._based_on = content.text("based_on", sources="\0").split("\0")[0]
        self._footers = {unwrap(f.footer.strip()) for f in content.flows.values() if f.footer.strip()}

    def text(self, key: str, **values: str) -> str:
        return self.content.text(key, **values)

    # ----------------------------------------------------------------------------------- replies

    def blocks(self, out: Outbound) -> list[Block]:
        """One reply as blocks: a heading, its text in sections, then choices and navigation as buttons."""
        blocks: list[Block] = []
        if out.title:
            if out.kind == "menu":
                blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(out.title)}*"}]})
            else:
                blocks.append({"type": "header", "text": _plain(out.title, MAX_HEADER)})
        if out.kind == "record":
            fence = "```"
            blocks += [_section(f"{fence}{escape(c)}{fence}") for c in chunks(out.text, MAX_SECTION - 6)]
        else:
            blocks += self._body(unwrap(out.text))
        choices = [o for o in out.options if not o.nav and not o.acts_here]
        links = [o for o in out.options if o.url]  # copy buttons: Slack has none; the number is in the text
        nav = [o for o in out.options if o.nav and not o.acts_here]
        n = 0
        for block_id, group in (("ypsi_choices", choices), ("ypsi_links", links), ("ypsi_nav", nav)):
            if not group:
                continue
            buttons = []
            for o in group[:25]:
                buttons.append(self._button(o, n))
                n += 1
            blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
        return _fit(blocks, MAX_BLOCKS)

    def _secondary(self, paragraph: str) -> bool:
        return paragraph.startswith(self._based_on) or paragraph.strip() in self._footers

    def _body(self, text: str) -> list[Block]:
        """Text as sections, except sources and disclaimers, which go in context blocks."""
        blocks: list[Block] = []
        main: list[str] = []
        for para in text.split("\n\n"):
            if not self._secondary(para):
                main.append(para)
                continue
            blocks += [_section(escape(c)) for c in chunks("\n\n".join(main))]
            main = []
            blocks.append(context(escape(para)))
        blocks += [_section(escape(c)) for c in chunks("\n\n".join(main))]
        return blocks

    def _button(self, o: Option, n: int) -> Block:
        if o.url:
            return {"type": "button", "action_id": f"{ACTION_LINK}{n}", "text": _plain(o.label), "url": o.url}
        button: Block = {
            "type": "button",
            "action_id": f"{ACTION_OPTION}{n}",
            "text": _plain(o.label),
            "value": o.action,
        }
        if o.action in self._destructive:
            button["style"] = "danger"
        elif o.action == self._record:
            button["style"] = "primary"
        return button

    def message(self, out: Outbound, trail: list[str] | None = None) -> SlackMessage:
        """One reply as a message; ``trail`` (the answers so far, see :meth:`trail`) goes in a context block
        under its title, so that a question edited in place into the next one keeps what was answered."""
        blocks = self.blocks(out)
        if trail:
            at = 1 if out.title else 0
            blocks = _fit([*blocks[:at], context(escape("\n".join(trail))), *blocks[at:]], MAX_BLOCKS)
        return SlackMessage(fallback(out), blocks)

    def trail(self, session: Session | None) -> list[str]:
        """The answers given so far in the session's flow, "✓ question — answer" each: fixed choices only,
        from content (never anything typed)."""
        flow = self.content.flows.get(session.flow) if session is not None and session.flow else None
        if flow is None or session is None:
            return []
        lines = []
        for qid, choice in session.answers:
            q = flow.question(qid)
            label = next((c.label for c in q.choices if c.id == choice), None) if q is not None else None
            if q is not None and label is not None:
                lines.append(self.text("slack_answered", question=unwrap(q.text.strip()), answer=label))
        return lines

    def merged(self, outs: list[Outbound]) -> SlackMessage:
        """Several replies as one message (ephemeral answers, which cannot be edited one by one)."""
        blocks: list[Block] = []
        for i, out in enumerate(outs):
            if i:
                blocks.append({"type": "divider"})
            blocks += self.blocks(out)
        _renumber(blocks)
        return SlackMessage(_clip("\n\n".join(fallback(o) for o in outs), MAX_FALLBACK), _fit(blocks, MAX_BLOCKS))

    def answered(self, answered: Answered) -> SlackMessage:
        """What a question message becomes once answered: "✓ question — answer" (and the flow's intro, if it
        was the first question)."""
        line = self.text("slack_answered", question=answered.question, answer=answered.answer)
        blocks: list[Block] = []
        if answered.first:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(answered.title)}*"}]})
            blocks += [_section(escape(c)) for c in chunks(unwrap(answered.intro))]
        blocks.append(_section(escape(line)))
        return SlackMessage(line, blocks)

    # ------------------------------------------------------------------------------ Slack screens

    def menu(self, topic_options: list[Option], nav: list[Option]) -> SlackMessage:
        """The /ypsi menu: start a triage, contacts and help, then the guidance topics."""
        first: list[Block] = [
            {
                "type": "button",
                "action_id": ACTION_TRIAGE,
                "text": _plain(self.text("slack_menu_triage")),
                "value": "triage",
                "style": "primary",
            },
        ]
        first += [self._button(o, i) for i, o in enumerate(nav)]
        blocks: list[Block] = [
            _section(escape(self.text("slack_menu_intro"))),
            {"type": "actions", "block_id": "ypsi_menu", "elements": first},
        ]
        if len(topic_options) > MAX_BUTTON_LIST:
            blocks.append(self.select("ypsi_topics", self.text("slack_menu_topics"), topic_options))
        elif topic_options:
            blocks.append(_section(escape(self.text("slack_menu_topics"))))
            buttons = [self._button(o, len(nav) + i) for i, o in enumerate(topic_options)]
            blocks.append({"type": "actions", "block_id": "ypsi_topics", "elements": buttons})
        return SlackMessage(self.text("slack_menu_intro"), blocks)

    def select(self, block_id: str, label: str, options: list[Option]) -> Block:
        """A long list of choices as one select beside ``label``; each option's value is its token."""
        return {
            "type": "section",
            "block_id": block_id,
            "text": {"type": "mrkdwn", "text": escape(label)},
            "accessory": {
                "type": "static_select",
                "action_id": ACTION_PICK,
                "placeholder": _plain(self.text("slack_pick")),
                "options": [{"text": _plain(o.label), "value": o.action} for o in options[:MAX_SELECT_OPTIONS]],
            },
        }

    def help(self, core: list[Outbound], areas: list[str], command: str = "") -> SlackMessage:
        """/ypsi help: how to use the slash command, then the assistant's own help."""
        slash = command or self.command
        lines = []
        for entry in self.assistant.commands.menu("slack"):  # content/commands.yaml
            typed = " ".join(w for w in (slash, entry.name, entry.usage.format(areas="|".join(areas))) if w)
            lines.append(f"*{typed}* {entry.description.format(command=slash)}")
        usage = Outbound(self.text("slack_help", command=slash, commands="\n".join(lines)), kind="info")
        return self.merged([usage, *core])

    def dm_note(self, team_id: str, dm_channel: str) -> SlackMessage:
        """The ephemeral note in a channel pointing to the direct messages where the answer went."""
        link = f"<slack://channel?team={team_id}&id={dm_channel}|{escape(self.text('slack_open_dm'))}>"
        note = self.text("slack_moved_to_dm")
        return SlackMessage(note, [_section(f"{escape(note)} {link}")])

    # ------------------------------------------------------------------------------------ App Home

    def home(self, area: str, now: dt.datetime, note: str = "") -> dict[str, Any]:
        """The App Home view: area (with a picker), Start triage, key contacts open or closed now, the rule
        about imagery, and Forget me."""
        c = self.content
        pack = c.areas[area]
        area_name = self.area_label(area)
        blocks: list[Block] = [{"type": "header", "text": _plain(self.text("slack_home_title"), MAX_HEADER)}]
        if note:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]})
        blocks.append(_section(escape(self.text("slack_home_intro"))))
        options = [self._area_option(a) for a in self.area_order()]
        blocks.append(
            {
                "type": "section",
                "block_id": "ypsi_home_area",
                "text": {"type": "mrkdwn", "text": self.text("slack_home_area", area=escape(area_name))},
                "accessory": {
                    "type": "static_select",
                    "action_id": ACTION_AREA,
                    "placeholder": _plain(self.text("slack_home_area_pick")),
                    "options": options,
                    "initial_option": self._area_option(area),
                },
            }
        )
        blocks.append(
            {
                "type": "actions",
                "block_id": "ypsi_home_start",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_TRIAGE,
                        "text": _plain(self.text("slack_home_start")),
                        "value": "triage",
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "action_id": ACTION_MODAL,
                        "text": _plain(self.text("slack_home_start_modal")),
                        "value": "modal",
                    },
                ],
            }
        )
        blocks.append(context(escape(self.text("slack_home_start_hint"))))
        blocks.append({"type": "divider"})
        blocks.append(_section(escape(self.text("slack_home_contacts", area=pack.name))))
        contacts = order_by_open(c.resolve_contacts(list(HOME_CONTACTS), area), now)
        for contact in contacts[:20]:
            blocks += self.contact_blocks(contact, now)
        blocks.append({"type": "divider"})
        blocks.append({"type": "header", "text": _plain(self.text("slack_home_imagery_title"), MAX_HEADER)})
        blocks.append(_section(escape(self.text("record_imagery"))))
        blocks.append({"type": "divider"})
        blocks.append(
            {
                "type": "section",
                "block_id": "ypsi_home_forget",
                "text": {"type": "mrkdwn", "text": escape(self.text("slack_home_forget_hint"))},
                "accessory": {
                    "type": "button",
                    "action_id": ACTION_FORGET,
                    "text": _plain(self.text("slack_home_forget")),
                    "value": "forget",
                    "style": "danger",
                    "confirm": {
                        "title": _plain(self.text("slack_home_forget_confirm_title"), 100),
                        "text": _plain(self.text("slack_home_forget_confirm_text"), 300),
                        "confirm": _plain(self.text("slack_home_forget_confirm_yes"), 30),
                        "deny": _plain(self.text("slack_home_forget_confirm_no"), 30),
                        "style": "danger",
                    },
                },
            }
        )
        return {"type": "home", "blocks": _fit(blocks, MAX_HOME_BLOCKS)}

    def contact_blocks(self, contact: Contact, now: dt.datetime, *, area: str | None = None) -> list[Block]:
        """A contact: its name and how to reach it, then its hours and whether it is open now (secondary, in a
        context block). ``area`` names the out-of-hours route when it is closed."""
        reach = " · ".join(escape(x) for x in (contact.phone, contact.text_to, contact.url) if x)
        state = status_text(self.content, contact, now, area, instead=area is not None)
        return [
            _section(self.text("slack_home_contact", name=escape(contact.name), reach=reach)),
            context(self.text("slack_home_contact_hours", hours=escape(contact.hours.text), state=escape(state))),
        ]

    def area_order(self) -> list[str]:
        """Areas by name, with "elsewhere" (the default area) last, as the assistant asks."""
        return area_order(self.content)

    def area_label(self, area: str) -> str:
        return area_label(self.content, area)

    def _area_option(self, area: str) -> Block:
        return {"text": _plain(self.area_label(area)), "value": area}


def fallback(out: Outbound) -> str:
    """The plain text Slack shows in notifications and where blocks cannot be shown."""
    return _clip("\n\n".join(x for x in (out.title, out.text) if x), MAX_FALLBACK)


def _renumber(blocks: list[Block]) -> None:
    """Keep option action ids unique across merged replies."""
    n = 0
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            for prefix in (ACTION_OPTION, ACTION_LINK):
                if str(element.get("action_id", "")).startswith(prefix):
                    element["action_id"] = f"{prefix}{n}"
                    n += 1


def _fit(blocks: list[Block], limit: int) -> list[Block]:
    """Drop text sections from the end of the body (never the buttons) until the blocks fit."""
    if len(blocks) <= limit:
        return blocks
    actions = [b for b in blocks if b.get("type") == "actions"]
    others = [b for b in blocks if b.get("type") != "actions"]
    return others[: limit - len(actions)] + actions
