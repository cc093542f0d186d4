"""``ypsi-bot slack`` as a real process: start-up, /healthz, a kill -9 in the middle of a triage and a restart
that carries on; and the one-sentence refusals when tokens are missing or refused."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_slack_harness import BOT_TOKEN, DM, SIGNING_SECRET, TEAM, USER, YPSI_SECRET, block_text, buttons

from adapters.cli import main
from benchmarks.fakes.slack_api import Call, FakeSlack, block_action_body, post_signed, slash_command_body

REPO = Path(__file__).resolve().parents[3]


def bot_env(tmp_path: Path, fake_api_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy") and not k.startswith(("SLACK_", "YPSI_", "TELEGRAM_"))
    }
    env |= {
        "PYTHONPATH": str(REPO),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_api_url,
        "YPSI_STORE": f"sqlite://{tmp_path / 'state.db'}",
        "YPSI_SECRET": YPSI_SECRET,
        "YPSI_LOG_LEVEL": "INFO",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    return env


class BotProcess:
    """``python -m adapters slack --http --port 0`` (the ``ypsi-bot`` entry point), its port read from its log."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.port = 0
        self.log: list[str] = []

    @classmethod
    async def start(cls, tmp_path: Path, fake: FakeSlack) -> BotProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters", "slack", "--http", "--port", "0", "--listen", "127.0.0.1",
            cwd=tmp_path, env=bot_env(tmp_path, fake.api_url),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        bot = cls(proc)
        await asyncio.wait_for(bot._read_until("slack_listening"), 30)
        return bot

    async def _read_until(self, event: str) -> dict[str, Any]:
        assert self.proc.stderr is not None
        while True:
            line = (await self.proc.stderr.readline()).decode()
            if not line:
                raise AssertionError("the bot exited before logging " + event + ":\n" + "".join(self.log))
            self.log.append(line)
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("event") == event:
                self.port = int(record.get("port", self.port))
                return record

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self._read_until("slack_stopped"), 30)
        assert self.proc.stderr is not None
        self.log += [line.decode() for line in (await self.proc.stderr.read()).splitlines(keepends=True)]
        return await asyncio.wait_for(self.proc.wait(), 30)


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        if bot.proc.returncode is None:
            await bot.kill9()


async def press(bot: BotProcess, fake: FakeSlack, message: Call, label: str) -> None:
    button = next(b for b in buttons(message.params["blocks"]) if b["text"]["text"] == label)
    body = block_action_body(
        button["action_id"],
        button["value"],
        user_id=USER,
        team_id=TEAM,
        channel_id=message.response["channel"],
        message_ts=message.response["ts"],
        response_url=fake.response_url("act"),
    )
    status, _ = await post_signed(bot.url + "/slack/events", body, None, SIGNING_SECRET)
    assert status == 200


async def test_kill_9_in_the_middle_of_a_triage_and_restart_carries_on(
    slack: FakeSlack, tmp_path: Path, processes: list[BotProcess]
) -> None:
    first = await BotProcess.start(tmp_path, slack)
    processes.append(first)
    async with aiohttp.ClientSession() as http, http.get(first.url + "/healthz") as health:
        assert (health.status, await health.json()) == (200, {"ok": True, "store": "sqlite"})

    body = slash_command_body(text="triage leeds", user_id=USER, team_id=TEAM, response_url=slack.response_url())
    status, text = await post_signed(first.url + "/slack/events", body, None, SIGNING_SECRET)
    assert (status, text) == (200, "")
    [question] = await slack.wait_for("chat.postMessage")
    await press(first, slack, question, "No")
    [second] = await slack.wait_for("chat.update")  # the pressed question, edited into the next one
    assert second.params["ts"] == question.response["ts"]
    assert "Is an adult (18 or over) involved?" in block_text(second.params["blocks"])

    await first.kill9()
    restarted = await BotProcess.start(tmp_path, slack)
    processes.append(restarted)
    await press(restarted, slack, second, "No")

    third = (await slack.wait_for("chat.update", count=2))[1]
    assert "✓ Is an adult (18 or over) involved? — No" in block_text(third.params["blocks"])
    assert third.response["channel"] == DM and third.params["ts"] == question.response["ts"]
    assert "coerced, blackmailed or groomed" in block_text(third.params["blocks"])
    assert len(slack.calls("chat.postMessage")) == 1  # the first question only: every answer edited it

    assert await restarted.stop() == 0
    logs = "".join(first.log + restarted.log)
    assert '"event":"turn"' in logs
    for secret in (USER, TEAM, DM, BOT_TOKEN, SIGNING_SECRET, YPSI_SECRET):
        assert secret not in logs


@pytest.mark.parametrize(
    ("env", "args", "sentence"),
    [
        ({}, ["slack"], "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, ["slack"], "SLACK_APP_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, ["slack", "--http"], "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xapp-wrong-kind"}, ["slack"], "SLACK_BOT_TOKEN does not look like a bot token"),
        (
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN},
            ["slack"],
            "SLACK_APP_TOKEN does not look like an app-level",
        ),
    ],
    ids=["no-bot-token", "no-app-token", "no-signing-secret", "bot-token-of-wrong-kind", "app-token-of-wrong-kind"],
)
def test_missing_tokens_stop_the_start_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    env: dict[str, str],
    args: list[str],
    sentence: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert main(args) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"ypsi-bot: {sentence}")
    assert err.count("\n") == 1 and err.rstrip().endswith(".")
    assert BOT_TOKEN not in err


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``run_slack`` sets up logging for the process; put the test session's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_refused_bot_token_stops_the_start_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, keep_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)
    with FakeSlack.run_in_thread() as fake:
        fake.fail_next("auth.test", error="invalid_auth")
        for name, value in bot_env(tmp_path, fake.api_url).items():
            if name.startswith(("SLACK_", "YPSI_", "XDG_")):
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("YPSI_STORE", "memory://")

        assert main(["slack", "--http", "--port", "0"]) == 2

    err = capsys.readouterr().err
    assert "ypsi-bot: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in err
    assert BOT_TOKEN not in err
