"""The command line as a user runs it: scripted console chat, triage, flow, version, help. One test starts
the real process (``python -m adapters``); the rest call ``main(argv)`` in this process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inprocess import ypsi

ROOT = Path(__file__).resolve().parents[2]


def ypsi_process(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )


def test_console_chat_scripted_parent_in_leeds() -> None:
    """The one real process: ``python -m adapters chat`` with its stdin a pipe."""
    run = ypsi_process("chat", stdin="2\n2\n1\n")  # parent or carer → Leeds → my child sent an image
    out = run.stdout
    assert "Who are you?" in out and "Where are you?" in out
    assert "0800 1111" in out and "childline.org.uk/remove" in out.lower()
    assert "\x1b[" not in out  # plain text when stdin is not a terminal


def test_console_chat_scripted_practitioner_triage_with_free_text_and_back() -> None:
    script = "\n".join(["no", "out of hours number", "back", "no", "yes"]) + "\n"
    run = ypsi("chat", "--area", "leeds", "--as", "practitioner", stdin=script)
    out = run.stdout
    assert "0113 535 0600" in out  # the out-of-hours question was answered mid-flow
    assert "Refer" in out and "Decision record" in out


def test_console_chat_crisis_words_first() -> None:
    run = ypsi("chat", "--as", "young-person", "--area", "kent", stdin="someone is outside my house\n")
    after = run.stdout.split("Get help now", 1)
    assert len(after) == 2 and "999" in after[1]


def test_console_chat_exit_ends_the_chat() -> None:
    run = ypsi("chat", stdin="/exit\n1\n")
    assert run.stdout.rstrip().endswith("Goodbye.")


def test_triage_json_outcome_and_missing_answers() -> None:
    done = json.loads(
        ypsi(
            "triage", "--area", "leeds", "--answer", "immediate_danger=no", "--answer", "adult_involved=yes", "--json"
        ).stdout
    )
    assert done["outcome"] == "refer" and done["next_question"] is None
    assert done["path"] == ["immediate_danger", "adult_involved"] and "ypsi-bot decision record" in done["record"]
    pending = json.loads(ypsi("triage", "--area", "kent", "--json").stdout)
    assert pending["outcome"] is None and pending["next_question"]["id"] == "immediate_danger"
    assert pending["next_question"]["options"] == ["yes", "no"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--area", "york"], "unknown area 'york'; one of: kent, leeds, national"),
        (["--area", "kent", "--answer", "bogus=yes"], "unknown question 'bogus'"),
        (
            ["--area", "kent", "--answer", "age_band=14"],
            "unknown value '14' for age_band; one of: 12_or_under, 13_to_17",
        ),
    ],
)
def test_triage_rejects_unknown_area_question_or_value(args: list[str], says: str) -> None:
    run = ypsi("triage", *args, check=False)
    assert run.returncode == 2 and says in run.stderr and run.stderr.count("\n") == 1


def test_flow_json_and_version_and_help() -> None:
    flow = json.loads(ypsi("flow", "--area", "kent", "--format", "json").stdout)
    assert flow["initial"] == "immediate_danger" and "risk_level" in flow["questions"]
    assert any(t.get("conditions") == ["aggravating_factors=yes"] for t in flow["transitions"])
    assert ypsi("--version").stdout.startswith("ypsi-bot ")
    for cmd in ["chat", "triage", "contacts", "flow", "telegram", "slack"]:
        assert "usage: ypsi-bot " + cmd in ypsi(cmd, "--help").stdout
    assert "usage: ypsi-bot content check" in ypsi("content", "check", "--help").stdout


def test_triage_command_can_use_the_ukcis_questions_in_kent(capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.cli import main

    args = ["triage", "--area", "kent", "--flow", "ukcis", "--answer", "immediate_danger=no",
            "--answer", "adult_involved=unknown", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flow"] == "ukcis" and out["outcome"] == "refer"
    assert "(ukcis)" in out["record"] and "Kent (kent)" in out["record"]
