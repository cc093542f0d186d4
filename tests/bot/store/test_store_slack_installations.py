"""The Slack installations kept beside the conversations when they live in Redis (issue 15): slack-sdk has
no Redis installation or OAuth state store, so ypsi-bot has small ones; and a workspace's data is forgotten
together in every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.install import stores_for
from bot.session import Session
from bot.store import MemoryStore, SessionStore, SQLiteStore, conversation_key, open_store, workspace_prefix
from bot.types import ConversationRef

SECRET = "test-secret-for-workspace-keys-0123456789"


def installation(team: str) -> Installation:
    return Installation(app_id="A0FAKEAPP", team_id=team, bot_token=f"xoxb-{team}", bot_id="B1", bot_user_id="U0BOT",
                        user_id="U0INSTALLER", bot_scopes=["commands", "chat:write"])


async def test_redis_installation_and_state_stores(redis_url: str) -> None:
    store = open_store(redis_url)
    installations, states = stores_for(store, redis_url, "1111.2222")
    try:
        await installations.async_save(installation("T1"))
        await installations.async_save(installation("T2"))
        bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == "xoxb-T1"
        found = await installations.async_find_installation(enterprise_id=None, team_id="T2")
        assert found is not None and found.bot_token == "xoxb-T2"

        await installations.async_delete_all(enterprise_id=None, team_id="T1")
        assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
        assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None
        assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is not None

        state = await states.async_issue()
        assert await states.async_consume(state) is True
        assert await states.async_consume(state) is False  # once only
        assert await states.async_consume("forged") is False
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
async def test_forget_prefix_forgets_one_workspace_only(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                                                       ) -> None:
    store: SessionStore
    if backend == "memory":
        store = MemoryStore()
    elif backend == "sqlite":
        store = SQLiteStore(tmp_path / "state.db")
    else:
        store = open_store(request.getfixturevalue("redis_url"))
    try:
        keys = {team: [conversation_key(ConversationRef("slack", team, "", f"U{i}"), SECRET) for i in range(3)]
                for team in ("T1", "T2")}
        for team_keys in keys.values():
            for key in team_keys:
                await store.save(key, Session())
        assert all(k.startswith(workspace_prefix("slack", "T1", SECRET)) for k in keys["T1"])

        assert await store.forget_prefix(workspace_prefix("slack", "T1", SECRET)) == 3

        assert [await store.load(k) for k in keys["T1"]] == [None] * 3
        assert None not in [await store.load(k) for k in keys["T2"]]
        if backend != "memory":  # a pattern character never reaches SQL's LIKE or Redis's SCAN MATCH
            with pytest.raises(ValueError):
                await store.forget_prefix("*")
    finally:
        await store.close()
