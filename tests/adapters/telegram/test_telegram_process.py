"""The real ``ypsi-bot telegram`` process against the fake Bot API: polling, kill -9 and restart in the
middle of a dialogue, webhook mode with its secret and health check, and start-up refusals.

The fake runs in a thread of the test process; the bot is ``python -m adapters telegram`` (the ``ypsi-bot``
entry point) with ``TELEGRAM_BASE_URL`` pointing at the fake. Waiting is on the fake's recorded calls
and on the bot's log lines, never on the clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram_harness import PROXY_VARIABLES, TOKEN

from benchmarks.fakes.telegram_api import Call, FakeTelegram
from dialogs.content import Content

ROOT = Path(__file__).resolve().parents[3]
CHAT = 918273645501  # distinctive, so a leak into the logs would be found
WAIT = 20.0  # safety net for a slow machine; never a speed assertion


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    tg = FakeTelegram.run_in_thread()
    try:
        yield tg
    finally:
        tg.stop()


def bot_env(tmp_path: Path, tg: FakeTelegram | None = None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_VARIABLES and not k.startswith(("TELEGRAM_", "SLACK_", "YPSI_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        XDG_STATE_HOME=str(tmp_path / "state"),
        YPSI_STORE=f"sqlite://{tmp_path / 'state.db'}",
        YPSI_SECRET="process-test-secret-0123456789abcdef",
        TELEGRAM_BOT_TOKEN=TOKEN,
        PTB_TIMEDELTA="true",
    )
    if tg is not None:
        env.update(tg.env)
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


class BotProcess:
    """``python -m adapters telegram`` with its stderr (JSON log lines) read by a thread."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters", "telegram", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_log(self, event: str) -> dict[str, Any]:
        """The first JSON log line with this event (blocks on the pipe, not on a timer)."""
        for line in self.lines:
            if f'"event":"{event}"' in line:
                return dict(json.loads(line))
        while True:
            line = self._queue.get(timeout=WAIT)
            if line is None:
                raise AssertionError(f"bot exited before logging {event}: {''.join(self.lines)[-2000:]}")
            if f'"event":"{event}"' in line:
                return dict(json.loads(line))

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)
        self._reader.join(WAIT)

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(WAIT)
        self._reader.join(WAIT)
        return code

    @property
    def log(self) -> str:
        return "".join(self.lines)


def _menu(tg: FakeTelegram, chat: int) -> tuple[int, dict[str, str]]:
    sent = tg.sent_messages(chat)
    for message_id in range(int(sent[-1]["message_id"]), 0, -1):
        message = tg.message(chat, message_id)
        if message and message.get("reply_markup"):
            rows = message["reply_markup"]["inline_keyboard"]
            return message_id, {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}
    raise AssertionError("no menu")


def _press(tg: FakeTelegram, label: str) -> tuple[int, int]:
    """Tap a button on the newest menu; the call-log mark before it, and the update id."""
    message_id, buttons = _menu(tg, CHAT)
    mark = tg.mark()
    update = tg.push_callback(CHAT, CHAT, message_id, buttons[label])
    return mark, int(update["update_id"])


def _text(call: Call) -> str:
    return str(call.params.get("text", ""))


def test_polling_survives_kill_9_in_the_middle_of_a_dialogue(
    fake: FakeTelegram, tmp_path: Path, content: Content
) -> None:
    env = bot_env(tmp_path, fake)
    bot = BotProcess(env, tmp_path)
    try:
        fake.wait_for_sync("getUpdates", timeout=WAIT)
        assert [c["command"] for c in fake.commands({"type": "all_private_chats"})][:2] == ["start", "help"]
        fake.push_command(CHAT, CHAT, "start")
        [menu] = fake.wait_for_sync("sendMessage", chat_id=CHAT, timeout=WAIT)
        assert content.text("ask_who") in _text(menu)

        mark, parent_press = _press(fake, content.text("who_parent"))
        [edit] = fake.wait_for_sync("editMessageText", chat_id=CHAT, since=mark, timeout=WAIT)
        assert content.text("ask_area") in _text(edit)
        bot.kill9()
    finally:
        if bot.proc.poll() is None:
            bot.kill9()
    assert bot.proc.returncode == -signal.SIGKILL

    mark, _ = _press(fake, "Kent")  # pressed while the bot is down
    bot = BotProcess(env, tmp_path)
    try:
        [edit] = fake.wait_for_sync("editMessageText", chat_id=CHAT, since=mark, timeout=WAIT)
        flow = content.flows["parent"]
        question = flow.question(flow.start)
        assert question is not None and question.text in _text(edit)  # the dialogue went on

        fake.push_duplicate(parent_press)  # Telegram delivering the pre-kill press again
        mark, _ = _press(fake, question.choices[2].label)
        [edit] = fake.wait_for_sync("editMessageText", chat_id=CHAT, since=mark, timeout=WAIT)
        outcome = flow.outcome(question.choices[2].branches()[0].to)
        assert outcome is not None and _text(edit).startswith(outcome.title)
        # the re-delivered "parent" press was recognised from the store, not answered as a stale button
        assert not any(content.text("menu_expired") in _text(c) for c in fake.calls(chat_id=CHAT))
    finally:
        code = bot.stop()
    assert code == 0
    for secret in (TOKEN, TOKEN.split(":")[1], str(CHAT), content.text("who_parent")):
        assert secret not in bot.log


def test_webhook_mode_checks_the_secret_and_serves_healthz(
    fake: FakeTelegram, tmp_path: Path, content: Content
) -> None:
    env = bot_env(tmp_path, fake, TELEGRAM_WEBHOOK_SECRET="s3cret-Token_ok")
    bot = BotProcess(env, tmp_path, "--webhook-url", "https://bot.example.org/tg/hook", "--port", "0")
    try:
        port = bot.wait_for_log("telegram_webhook_listening")["port"]
        [hook] = fake.wait_for_sync("setWebhook", timeout=WAIT)
        assert hook.params["url"] == "https://bot.example.org/tg/hook"
        assert hook.params["secret_token"] == "s3cret-Token_ok"
        bot.wait_for_log("telegram_started")
        url = f"http://127.0.0.1:{port}/tg/hook"

        update = fake.make_command(CHAT, CHAT, "start")
        assert asyncio.run(fake.post_update_to(url, update)) == 403
        assert asyncio.run(fake.post_update_to(url, update, "not-the-secret")) == 403
        mark = fake.mark()
        assert asyncio.run(fake.post_update_to(url, update, "s3cret-Token_ok")) == 200
        [sent] = fake.wait_for_sync("sendMessage", chat_id=CHAT, since=mark, timeout=WAIT)
        assert content.text("ask_who") in _text(sent)
        assert len(fake.calls("sendMessage", chat_id=CHAT)) == 1  # the refused posts did nothing

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=WAIT) as response:
            assert response.status == 200
            assert json.loads(response.read())["ok"] is True
        assert not fake.calls("getUpdates")
    finally:
        code = bot.stop()
    assert code == 0
    assert "s3cret-Token_ok" not in bot.log and TOKEN not in bot.log


@pytest.mark.parametrize(
    ("env", "args", "sentence"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, [], "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, [], "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        ({}, ["--webhook-url", "https://bot.example.org/hook"], "TELEGRAM_WEBHOOK_SECRET is not set"),
        ({"TELEGRAM_WEBHOOK_SECRET": "x"}, ["--webhook-url", "http://plain"], "--webhook-url must be"),
    ],
    ids=["missing-token", "malformed-token", "webhook-without-secret", "webhook-not-https"],
)
def test_bad_settings_stop_the_start_with_one_sentence(
    tmp_path: Path, env: dict[str, str], args: list[str], sentence: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters", "telegram", *args],
        cwd=tmp_path,
        env=bot_env(tmp_path, TELEGRAM_BASE_URL="http://127.0.0.1:9/bot", **env),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_token_telegram_rejects_stops_the_start_with_one_sentence(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.fail_next("getMe", 401, description="Unauthorized")
    result = subprocess.run(
        [sys.executable, "-m", "adapters", "telegram"],
        cwd=tmp_path,
        env=bot_env(tmp_path, fake),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert "Telegram did not accept TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


def test_a_poison_update_is_skipped_by_the_process_and_never_logged(
    fake: FakeTelegram, tmp_path: Path, content: Content
) -> None:
    """Issue 11: an update PTB cannot parse stalled every chat and put its text in the log at CRITICAL."""
    words, name = "zebra-marmalade confession", "Quintessa"
    env = bot_env(tmp_path, fake, YPSI_LOG_LEVEL="DEBUG")
    bot = BotProcess(env, tmp_path)
    try:
        fake.wait_for_sync("getUpdates", timeout=WAIT)
        message = {"message_id": 1, "chat": {"id": CHAT + 1, "type": "private", "first_name": name},
                   "from": {"id": CHAT + 1, "is_bot": False, "first_name": name}, "text": words}  # no date
        poison = fake.push_raw({"message": message})
        mark = fake.mark()
        fake.push_command(CHAT, CHAT, "start")
        [menu] = fake.wait_for_sync("sendMessage", chat_id=CHAT, since=mark, timeout=WAIT)
        assert content.text("ask_who") in _text(menu)
        skipped = bot.wait_for_log("telegram_update_skipped")
        assert skipped["update_id"] == poison["update_id"] and skipped["type"] == "message"
        polls = [c for c in fake.calls("getUpdates") if c.seq >= mark]
        assert sum(1 for c in polls if int(c.params.get("offset", 0)) <= poison["update_id"]) <= 1
    finally:
        code = bot.stop()
    assert code == 0
    for secret in (words, "zebra", name, str(CHAT + 1), str(CHAT)):
        assert secret not in bot.log
