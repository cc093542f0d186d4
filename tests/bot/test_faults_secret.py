"""The secret is never empty or weak.

Before: a first start on a full disk left a 0-byte ``secret``, and the next start ran with "" as the HMAC
key (stored keys linkable to platform ids, buttons forgeable). After: an empty or short secret file or
YPSI_SECRET stops the start with one sentence, and the file is written whole or not at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_store_support import REPO

from bot.settings import MIN_SECRET, Settings, SettingsError

TOKEN = "123456789:AAexampleexampleexampleexampleexample1"  # well-formed; never sent anywhere


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real ``ypsi-bot telegram`` start, which reads the secret before it contacts Telegram."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YPSI_", "TELEGRAM_", "SLACK_"))}
    base |= {"PYTHONPATH": str(REPO), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
             "YPSI_STORE": f"sqlite://{tmp_path / 'state' / 'state.db'}"}
    return subprocess.run([sys.executable, "-m", "adapters", "telegram"], capture_output=True, text=True,
                          env=base | env, cwd=tmp_path, timeout=60)


def _one_sentence(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("content", ["", "\n", "short-secret"], ids=["empty", "newline", "short"])
def test_an_empty_or_short_secret_file_stops_the_start(tmp_path: Path, content: str) -> None:
    secret = tmp_path / "state" / "secret"  # beside the configured store
    secret.parent.mkdir()
    secret.write_text(content)
    line = _one_sentence(_start(tmp_path))
    assert str(secret) in line and "too short" in line
    assert secret.read_text() == content  # left for the operator to look at


def test_a_short_ypsi_secret_stops_the_start(tmp_path: Path) -> None:
    line = _one_sentence(_start(tmp_path, YPSI_SECRET="x" * (MIN_SECRET - 1)))
    assert "YPSI_SECRET is too short" in line
    assert "x" * 8 not in line  # the secret itself is never printed


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: str) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("YPSI_SECRET", "YPSI_SECRET_FILE", "YPSI_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("YPSI_STORE", store)
    return Settings()


def test_the_secret_file_is_made_whole_private_and_beside_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = _settings(monkeypatch, tmp_path, f"sqlite://{tmp_path / 'deploy' / 'state.db'}")
    made = settings.secret()
    path = tmp_path / "deploy" / "secret"
    assert path.read_text() == made and len(made) >= MIN_SECRET
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]  # no temp file left behind
    assert settings.secret() == made  # kept, not made again


def test_a_full_disk_while_making_the_secret_leaves_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = _settings(monkeypatch, tmp_path, f"sqlite://{tmp_path / 'deploy' / 'state.db'}")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SettingsError, match="cannot make or read the secret file"):
        settings.secret()
    assert list((tmp_path / "deploy").iterdir()) == []  # neither an empty secret nor a temp file
    monkeypatch.undo()
    settings = _settings(monkeypatch, tmp_path, f"sqlite://{tmp_path / 'deploy' / 'state.db'}")
    assert len(settings.secret()) >= MIN_SECRET  # the next start makes a whole one
