"""The app manifest creates an app that can do what the adapter does, and no more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[3] / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_subscribes_to_what_the_adapter_listens_for() -> None:
    m = manifest()

    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/ypsi"]
    # app_uninstalled and tokens_revoked: when a workspace removes the app, its people's data is deleted.
    assert sorted(m["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened", "app_uninstalled", "message.im", "tokens_revoked"]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True
    home = m["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]


def test_manifest_asks_for_the_fewest_scopes_and_none_that_read_files_or_channels() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])

    assert scopes == {"commands", "chat:write", "im:write", "im:history"}
    assert not scopes & {"files:read", "channels:history", "groups:history", "users:read"}


def test_manifest_texts_fit_slacks_limits() -> None:
    info = manifest()["display_information"]

    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert len(info["name"]) <= 35


def test_manifest_declares_the_global_shortcuts_the_adapter_handles() -> None:
    from adapters.slack.shortcuts import CALLBACK_OUT_OF_HOURS, CALLBACK_START_TRIAGE

    shortcuts = manifest()["features"]["shortcuts"]

    assert {s["callback_id"]: s["type"] for s in shortcuts} == {
        CALLBACK_OUT_OF_HOURS: "global",
        CALLBACK_START_TRIAGE: "global",
    }
    assert all(len(s["name"]) <= 24 and len(s["description"]) <= 80 for s in shortcuts)
