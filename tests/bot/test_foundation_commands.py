"""content/commands.yaml is the one command vocabulary: the assistant reads commands with it, the platforms'
menus come from it, and the content check lints it."""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.assistant import Assistant
from bot.commands import CommandTable
from bot.types import Inbound
from dialogs.content import Content
from dialogs.lint import check_content
from dialogs.load import default_content_dir

TODAY = dt.date(2026, 11, 21)
AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(default_content_dir(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit_commands(root: Path, change: dict[str, object]) -> list[str]:
    path = root / "commands.yaml"
    data = yaml.safe_load(path.read_text())
    for name, settings in change.items():
        data[name] = settings
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    _, found = check_content(root, today=TODAY)
    return [str(p) for p in found if not p.warning]


def test_every_command_in_the_table_is_one_the_assistant_carries_out(content: Content, assistant: Assistant) -> None:
    assert set(content.commands) == assistant.handles()


@pytest.mark.parametrize(("typed", "meant"), [
    ("start", "start"), ("SOS", "urgent"), ("emergency", "urgent"), ("quit", "exit"), ("menu", "restart"),
    ("triage", "triage"), ("launch", None),
])
def test_names_and_aliases_resolve_to_one_command(content: Content, typed: str, meant: str | None) -> None:
    assert CommandTable(content).resolve(typed) == meant


def test_slack_accepts_its_own_words_only(content: Content) -> None:
    table = CommandTable(content)
    assert table.resolve("start", "slack") == "triage"  # "/ypsi start" starts a triage
    assert table.resolve("start", "telegram") == "start"
    assert table.resolve("hello", "slack") is None  # read as typed text there
    assert table.resolve("sos", "slack") == "urgent"


def test_menus_list_their_commands_in_file_order_with_private_only(content: Content) -> None:
    table = CommandTable(content)
    telegram = table.menu("telegram")
    assert [e.name for e in telegram] == ["start", "help", "contacts", "urgent", "exit", "forget"]
    assert {e.name for e in telegram if e.private_only} == {"exit", "forget"}
    assert [e.name for e in table.menu("slack")] == ["triage", "help", "contacts"]


def test_an_alias_is_carried_out_as_its_command(assistant: Assistant) -> None:
    by_alias = assistant.handle(None, Inbound("command", command="Quit"), AT)
    assert by_alias.event == "exit" and by_alias.delete_conversation and by_alias.session is None
    assert assistant.crisis_card(Inbound("command", command="sos"), AT) is not None


def test_a_word_meaning_two_commands_is_a_content_error(draft: Path) -> None:
    found = edit_commands(draft, {"back": {"aliases": {"en": ["menu"]}, "button": True}})
    assert any("commands.yaml: back" in p and "'menu' already means 'restart'" in p for p in found), found


def test_a_menu_description_too_long_or_empty_is_a_content_error(draft: Path) -> None:
    found = edit_commands(draft, {"help": {"button": True, "menu": {"telegram": "x" * 300}},
                                  "forget": {"menu": {"telegram": " "}}})
    assert any("help.menu.telegram" in p and "3-256 characters" in p for p in found), found
    assert any("forget.menu.telegram" in p for p in found), found


def test_a_button_without_its_label_and_a_menu_where_not_accepted_are_content_errors(draft: Path) -> None:
    found = edit_commands(draft, {"hello": {"button": True, "platforms": ["console"], "menu": {"slack": "hi"}}})
    assert any("hello.button" in p and "nav_hello" in p for p in found), found
    assert any("hello.menu.slack" in p and "not accepted" in p for p in found), found


def test_a_routing_target_naming_no_command_is_a_content_error(draft: Path) -> None:
    path = draft / "commands.yaml"
    data = yaml.safe_load(path.read_text())
    del data["hello"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    _, found = check_content(draft, today=TODAY)
    assert any("command:hello" in str(p) for p in found if not p.warning)


def test_a_bad_command_name_is_a_content_error(draft: Path) -> None:
    found = edit_commands(draft, {"Not-A-Name": {}})
    assert any("Not-A-Name" in p for p in found), found


def test_no_module_spells_an_alias() -> None:
    """Aliases live in content/commands.yaml only (they once sat in three modules)."""
    aliases = {"emergency", "sos", "quit"}
    offenders = []
    for path in [*REPO.glob("bot/**/*.py"), *REPO.glob("adapters/**/*.py"), *REPO.glob("dialogs/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in aliases:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_slack_help_lists_the_tables_commands(content: Content) -> None:
    text = content.text("slack_help", command="/ypsi", commands="")
    assert not re.search(r"\*/ypsi \w", text), "command lines come from content/commands.yaml"
