"""Content validation: each kind of problem is reported with the file and the place, and `content check`
exits non-zero."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dialogs.lint import check_content
from dialogs.load import default_content_dir, parse_yaml
from tests.inprocess import ypsi

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(default_content_dir(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit(path: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    data = parse_yaml(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def problems(root: Path) -> list[str]:
    _, found = check_content(root, today=TODAY)
    return [str(p) for p in found if not p.warning]


def question(data: dict, qid: str) -> dict:  # type: ignore[type-arg]
    return next(q for q in data["questions"] if q["id"] == qid)


def test_shipped_content_has_no_problems() -> None:
    content, found = check_content(today=TODAY)
    assert content is not None
    assert [str(p) for p in found] == []


def test_dangling_transition_is_named(draft: Path) -> None:
    edit(draft / "flows/kent.yaml", lambda d: question(d, "adult_involved")["choices"][0].update(next="nowhere"))
    found = problems(draft)
    assert any("flows/kent.yaml" in p and "adult_involved" in p and "nowhere" in p for p in found), found


def test_unreachable_state_is_named(draft: Path) -> None:
    def orphan(d: dict) -> None:  # type: ignore[type-arg]
        d["questions"].append({"id": "orphan", "text": "?", "choices": [{"id": "a", "label": "A", "next": "refer"}]})

    edit(draft / "flows/kent.yaml", orphan)
    assert any("orphan: error: unreachable" in p for p in problems(draft))


def test_dead_end_question_without_choices(draft: Path) -> None:
    edit(draft / "flows/ukcis.yaml", lambda d: question(d, "risk_of_harm").update(choices=[]))
    assert any("questions[risk_of_harm]" in p and "dead end" in p for p in problems(draft))


def test_outcome_without_contacts(draft: Path) -> None:
    edit(draft / "flows/ukcis.yaml", lambda d: d["outcomes"][0].update(contacts=[]))
    assert any("outcome without contacts" in p for p in problems(draft))


def test_choice_without_label(draft: Path) -> None:
    edit(draft / "flows/parent.yaml", lambda d: d["questions"][0]["choices"][0].update(label=" "))
    assert any("flows/parent.yaml" in p and "choice without a label" in p for p in problems(draft))


def test_unknown_contact_and_unknown_source(draft: Path) -> None:
    def bad(d: dict) -> None:  # type: ignore[type-arg]
        d["outcomes"][0]["contacts"].append("no_such_contact")
        d["outcomes"][0]["cites"] = ["no_such_source"]

    edit(draft / "flows/kent.yaml", bad)
    found = problems(draft)
    assert any("unknown contact 'no_such_contact'" in p for p in found)
    assert any("unknown source 'no_such_source'" in p for p in found)


def test_contact_without_source_or_checked_date(draft: Path) -> None:
    def strip(d: dict) -> None:  # type: ignore[type-arg]
        d["contacts"][0].pop("source")
        d["contacts"][1].pop("checked")

    edit(draft / "areas/leeds.yaml", strip)
    found = problems(draft)
    assert any("areas/leeds.yaml" in p and "source" in p and "Field required" in p for p in found), found
    assert any("areas/leeds.yaml" in p and "checked" in p and "Field required" in p for p in found), found


def test_unknown_question_in_a_branch_condition(draft: Path) -> None:
    def cond(d: dict) -> None:  # type: ignore[type-arg]
        d["questions"][3]["choices"][1]["next"][0]["when"] = {"not_a_question": "yes"}

    edit(draft / "flows/kent.yaml", cond)
    assert any("condition on unknown question 'not_a_question'" in p for p in problems(draft))


def test_broken_yaml_names_the_file(draft: Path) -> None:
    (draft / "topics.yaml").write_text("topics: [unclosed\n")
    assert any("topics.yaml" in p and "not valid YAML" in p for p in problems(draft))


def test_contact_not_checked_for_a_year_is_a_warning_not_an_error(draft: Path) -> None:
    edit(draft / "areas/national.yaml", lambda d: d["contacts"][0].update(checked="2024-01-01"))
    content, found = check_content(draft, today=TODAY)
    assert content is not None
    warnings = [str(p) for p in found if p.warning]
    assert any("not re-checked within 6 months" in w for w in warnings) and not problems(draft)


@pytest.mark.parametrize(("checked", "stale"), [("2026-05-20", True), ("2026-05-21", False), ("2026-09-01", False)])
def test_contact_not_rechecked_within_six_months_is_flagged(draft: Path, checked: str, stale: bool) -> None:
    # TODAY is 2026-11-21: six months back is 2026-05-21.
    edit(draft / "areas/national.yaml", lambda d: d["contacts"][0].update(checked=checked))
    _, found = check_content(draft, today=TODAY)
    flagged = [p for p in found if "not re-checked within 6 months" in str(p)]
    assert bool(flagged) == stale
    assert all(p.warning for p in flagged)


def test_every_shipped_contact_says_what_was_checked_and_how(draft: Path) -> None:
    _, found = check_content(draft, today=TODAY)
    assert not [p for p in found if "checked_how" in p.place]
    edit(draft / "areas/national.yaml", lambda d: d["contacts"][0].pop("checked_how"))
    _, found = check_content(draft, today=TODAY)
    assert any("checked_how" in p.place and p.warning for p in found)


def test_a_topic_nobody_can_reach_by_words_is_an_error(draft: Path) -> None:
    def drop(d: dict) -> None:  # type: ignore[type-arg]
        d["intents"] = [i for i in d["intents"] if i["target"] != "topic:older_partner"]

    edit(draft / "routing.yaml", drop)
    assert any("topics[older_partner]" in p and "no intent leads a practitioner" in p for p in problems(draft))


def test_content_check_command_exits_non_zero_on_a_problem(draft: Path) -> None:
    edit(draft / "flows/kent.yaml", lambda d: d.update(start="nope"))
    run = ypsi("content", "check", "--content", str(draft), check=False)
    assert run.returncode == 1
    assert "flows/kent.yaml: start" in run.stderr


def test_a_new_area_pack_needs_no_python(draft: Path) -> None:
    (draft / "areas/york.yaml").write_text(
        "id: york\nname: York\npractitioner_flow: ukcis\npublic_line: york_front_door\n"
        "roles: {social_care: [york_front_door], public_line: [york_front_door]}\n"
        "contacts:\n  - id: york_front_door\n    name: York children's front door\n"
        "    audience: [professionals, public]\n"
        "    phone: '01904 000000'\n    source: https://example.org/york\n    checked: 2026-11-01\n"
        "    hours: {weekly: {mon-fri: '09:00-17:00'}, text: Office hours}\n"
    )
    content, found = check_content(draft, today=TODAY)
    assert content is not None and not [p for p in found if not p.warning]
    from bot.triage import triage

    r = triage(content, "york", {"immediate_danger": "no", "adult_involved": "yes"}, dt.datetime(2026, 11, 23, 10))
    assert r["outcome"] == "refer"
    assert "york_front_door" in [c["id"] for c in r["contacts"]]  # type: ignore[union-attr]


def test_hard_wrapped_yaml_text_is_unwrapped_but_lists_and_deliberate_breaks_stay() -> None:
    from dialogs.load import unwrap

    text = "Many are pushed\nor tricked.\nWhat to do:\n1. Don't look.\n   Don't ask.\n- Keep the\n  messages.\n\nNext."
    expected = "Many are pushed or tricked.\nWhat to do:\n1. Don't look. Don't ask.\n- Keep the messages.\n\nNext."
    assert unwrap(text) == expected


def test_contact_hours_must_be_said_in_words(draft: Path) -> None:
    edit(draft / "areas/kent.yaml", lambda d: d["contacts"][0]["hours"].update(text=""))
    assert any("areas/kent.yaml" in p and "hours.text" in p for p in problems(draft))
