"""Readability: what young people read scores Flesch-Kincaid grade 7 or lower, what parents and carers read
grade 9 or lower (textstat). Scored per unit a person reads at once: each question with its buttons, each
outcome (title, text and notes), intros, footers, topics, and the messages the bot says to everyone."""

from __future__ import annotations

import re

import pytest
import textstat

from dialogs.content import Content
from dialogs.schema import Flow

YOUNG_PERSON_GRADE = 7.0
PARENT_GRADE = 9.0
MIN_WORDS = 10  # a message shorter than this is scored with the others, not alone (FK is noise on 2 words)

# Messages anyone may see, young people included (keys missing from the content are skipped).
FOR_EVERYONE = [
    "welcome", "ask_who", "who_young_person", "who_parent", "who_practitioner", "ask_area", "area_elsewhere",
    "help", "didnt_catch", "did_you_mean", "menu_expired", "forged_button", "unknown_command", "content_changed",
    "forgotten", "quick_exit", "crisis_title", "crisis", "crisis_after", "media_title", "media_warning",
    "contacts_heading", "no_contacts_found", "sorry", "group_refusal", "too_long", "at_outcome", "nav_back",
    "nav_restart", "nav_contacts", "nav_urgent", "nav_help", "nav_explain", "nav_continue", "store_down",
    "session_reset", "rate_limited",
]  # fmt: skip
_MARKER = re.compile(r"^(?:[-*•]|\d+\.)\s+")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def sentences(*parts: str) -> str:
    """Text as a reader meets it: each part, list item or paragraph a sentence of its own; lines that only
    wrap a sentence (YAML block text) joined back to it."""
    items: list[str] = []
    for part in parts:
        items.append("")
        for raw in part.splitlines():
            line = raw.strip()
            if not line:
                items.append("")
                continue
            marker = _MARKER.match(line)
            line = _PLACEHOLDER.sub("here", line[marker.end() :] if marker else line)
            if marker or not items[-1] or items[-1][-1] in ".!?:":
                items.append(line)
            else:
                items[-1] += " " + line
    return " ".join(i if i[-1] in ".!?:" else f"{i}." for i in items if i)


def grade(*parts: str) -> float:
    return float(textstat.flesch_kincaid_grade(sentences(*parts)))


def flow_units(flow: Flow) -> dict[str, str]:
    """Each thing read at once in a signposting flow → its text, as sentences."""
    units = {"intro": sentences(flow.intro), "footer": sentences(flow.footer)}
    for q in flow.questions:
        units[f"question {q.id}"] = sentences(q.text, *(c.label for c in q.choices))
    for o in flow.outcomes:
        units[f"outcome {o.id}"] = sentences(o.title, o.text, *(n.text for n in o.notes))
    return {k: v for k, v in units.items() if v}


def units_for(content: Content, who: str) -> dict[str, str]:
    units = {f"{who} flow, {k}": v for k, v in flow_units(content.flows[who]).items()}
    for t in content.topics.values():
        if who in t.who and (who == "young_person" or "young_person" not in t.who):
            units[f"topic {t.id}"] = sentences(t.title, t.text)
    if who == "young_person":
        keys = [k for k in FOR_EVERYONE if k in content.messages]
        keys += sorted(k for k in content.messages if k.startswith("telegram_"))
        short = []
        for key in keys:
            text = content.messages[key]
            if textstat.lexicon_count(text) >= MIN_WORDS:
                units[f"message {key}"] = sentences(text)
            else:
                short.append(text)
        units["short messages, together"] = sentences(*short)
    return units


@pytest.mark.parametrize(("who", "limit"), [("young_person", YOUNG_PERSON_GRADE), ("parent", PARENT_GRADE)])
def test_reading_level(content: Content, who: str, limit: float, capsys: pytest.CaptureFixture[str]) -> None:
    units = units_for(content, who)
    assert len(units) >= 5
    grades = {name: round(float(textstat.flesch_kincaid_grade(text)), 1) for name, text in units.items()}
    too_hard = {name: g for name, g in grades.items() if g > limit}
    with capsys.disabled():
        print(f"\n[readability {who}, limit {limit}] highest {max(grades.values())}; " + ", ".join(
            f"{name}: {g}" for name, g in sorted(grades.items(), key=lambda kv: -kv[1])
        ))
    assert too_hard == {}, f"above Flesch-Kincaid grade {limit}: {too_hard}"


def test_the_scorer_is_not_fooled_by_wrapped_lines() -> None:
    wrapped = "Many young people are pushed\n  or tricked into sending one, so try not to blame them."
    assert sentences(wrapped).count(".") == 1
    listed = "- Do not pay them\n- Keep the messages"
    assert sentences(listed) == "Do not pay them. Keep the messages."
    # A long academic sentence scores far above the limit; short plain ones far below.
    assert grade("Practitioners should consider the multifaceted safeguarding implications of disseminated "
                 "imagery, notwithstanding organisational considerations.") > PARENT_GRADE
    assert grade("Tell an adult you trust. Do not send it on.") < YOUNG_PERSON_GRADE
