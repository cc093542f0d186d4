"""Each piece of logic the platforms share lives in one place (issue 14): the text splitter, the stop on a
signal, the area list, and the check of YPSI_DEFAULT_AREA."""

from __future__ import annotations

import asyncio
import io
import os
import signal
from pathlib import Path

import pytest

from adapters.signals import stop_on_signals
from adapters.slack.blocks import Renderer, chunks
from adapters.telegram.render import split_text, utf16_len
from bot.areas import area_label, area_order
from bot.assistant import Assistant
from dialogs.content import Content
from tests.inprocess import ypsi


def test_both_platforms_split_long_text_the_same_way_each_by_its_own_measure() -> None:
    words = " ".join(f"word{i}" for i in range(1200))  # one paragraph, no line breaks, ~9,000 characters
    slack, telegram = chunks(words, 3000), split_text(words, 3000)
    assert slack == telegram  # plain ASCII: characters and UTF-16 units agree
    assert all(len(p) <= 3000 for p in slack) and " ".join(slack) == words  # cut between words, none lost
    emoji = "😀 " * 1000
    assert all(len(p) <= 1200 for p in chunks(emoji, 1200)) and len(chunks(emoji, 1200)) == 2
    assert all(utf16_len(p) <= 1200 for p in split_text(emoji, 1200)) and len(split_text(emoji, 1200)) == 3


async def test_sigterm_sets_the_stop_event() -> None:
    stop = stop_on_signals()
    loop = asyncio.get_running_loop()
    try:
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)  # the loop's handler is in place
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 10)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def test_one_area_list_for_the_assistant_and_slack(content: Content) -> None:
    default = content.meta.default_area
    assert area_order(content)[-1] == default and sorted(area_order(content)) == sorted(content.areas)
    assert area_label(content, default) == content.text("area_elsewhere")
    render = Renderer(content, Assistant(content, "s" * 32), "/ypsi")
    assert render.area_order() == area_order(content)
    assert [render.area_label(a) for a in area_order(content)] == [area_label(content, a) for a in area_order(content)]


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["telegram"], {"TELEGRAM_BOT_TOKEN": "123456789:AAexampleexampleexampleexampleexample1",
                        "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}),
        (["slack", "--http", "--port", "0"], {"SLACK_BOT_TOKEN": "xoxb-test-bot-token-0123456789",
                                              "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789",
                                              "SLACK_API_URL": "http://127.0.0.1:9/api/"}),
    ],
    ids=["telegram", "slack"],
)
def test_both_platforms_refuse_an_unknown_default_area_in_the_same_sentence(
    argv: list[str], env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    captured_logs: io.StringIO,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "SLACK_", "YPSI_")):
            monkeypatch.delenv(name)
    for name, value in {**env, "YPSI_STORE": "memory://", "YPSI_SECRET": "x" * 40,
                        "YPSI_DEFAULT_AREA": "Narnia"}.items():
        monkeypatch.setenv(name, value)
    ran = ypsi(*argv, check=False)
    assert ran.returncode == 2
    assert ran.stderr == "ypsi-bot: YPSI_DEFAULT_AREA must be one of kent, leeds, national, not 'narnia'.\n"
