"""Slack as a platform (issue 15): installable by many workspaces (Bolt's OAuth flow against the fake Slack's
``oauth.v2.access``, installations on the same SQLite file as the conversations), uninstalling deletes that
workspace's installation and data, and serverless HTTP mode answers only once the work is done."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from test_slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    USER,
    Harness,
    make_service,
    serve_http,
)

from adapters.slack.app import SlackBot
from adapters.slack.client import make_client
from adapters.slack.install import oauth_settings, stores_for
from benchmarks.fakes.slack_api import FakeSlack, event_body, slash_command_body
from bot.store import MemoryStore, SQLiteStore
from bot.types import ConversationRef
from dialogs.content import Content

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
SCHOOL = "T0SCHOOL2"
OTHER = "T0SCHOOL3"


class Installed:
    def __init__(self, bot: SlackBot, base: str, store: SQLiteStore, h: Harness):
        self.bot, self.base, self.store, self.h = bot, base, store, h

    async def install(self, team: str) -> int:
        """The "Add to Slack" page, then Slack's redirect back with a code for ``team``."""
        async with aiohttp.ClientSession() as session:
            async with session.get(self.base + "/slack/install") as page:
                html = await page.text()
                assert page.status == 200
                # The state cookie is Secure (Slack's pages are https); the browser here sends it back itself.
                cookie = page.headers["Set-Cookie"].split(";")[0]
            state = re.search(r"state=([\w-]+)", html)
            assert state is not None, html[:300]
            url = f"{self.base}/slack/oauth_redirect?code=fake-code-{team}&state={state.group(1)}"
            async with session.get(url, headers={"Cookie": cookie}) as done:
                return done.status

    async def command(self, team: str, text: str) -> str:
        body = slash_command_body(text=text, user_id=USER, team_id=team, response_url=self.h.fake.response_url(team))
        assert await self.h.post(body) == 200
        return (await self.h.done())[1]


@pytest.fixture
async def installed(slack: FakeSlack, content: Content, tmp_path: Path) -> AsyncIterator[Installed]:
    path = tmp_path / "state.db"
    store = SQLiteStore(path)
    installations, states = stores_for(store, f"sqlite:///{path}", CLIENT_ID)
    bot = SlackBot(
        make_service(content, store),
        client=make_client(None, slack.api_url),
        signing_secret=SIGNING_SECRET,
        oauth=oauth_settings(CLIENT_ID, CLIENT_SECRET, installations, states),
    )
    runner, base = await serve_http(bot)
    try:
        yield Installed(bot, base, store, Harness(slack, bot, base + "/slack/events"))
    finally:
        await bot.outbox.stop()
        await runner.cleanup()
        await store.close()


async def test_a_workspace_installs_the_app_by_oauth_and_is_then_served_with_its_own_token(
    installed: Installed, slack: FakeSlack, tmp_path: Path
) -> None:
    assert await installed.install(SCHOOL) == 200
    [access] = slack.calls("oauth.v2.access")
    assert access.params["code"] == f"fake-code-{SCHOOL}"

    assert await installed.command(SCHOOL, "triage kent") == "start"
    question = await installed.h.next_call("chat.postMessage")
    assert question.token == f"xoxb-{SCHOOL}-installed"  # the installation's token, not a deployment-wide one
    # The installation sits in the same database file as the conversations, which still opens as ypsi-bot's.
    db = sqlite3.connect(tmp_path / "state.db")
    assert db.execute("SELECT team_id FROM slack_bots").fetchall() == [(SCHOOL,)]
    db.close()
    await SQLiteStore(tmp_path / "state.db").close()


async def test_a_workspace_that_never_installed_the_app_gets_no_answer(installed: Installed, slack: FakeSlack) -> None:
    body = slash_command_body(text="help", user_id=USER, team_id=OTHER, response_url=slack.response_url("x"))
    assert await installed.h.post(body) == 200  # Bolt tells the person the app is not installed there
    assert installed.h.finished.empty()  # no turn ran
    assert slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    "event",
    [{"type": "app_uninstalled"}, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0FAKEBOT"]}}],
)
async def test_uninstalling_deletes_the_installation_and_the_workspaces_conversations(
    installed: Installed, slack: FakeSlack, event: dict[str, object]
) -> None:
    for team in (SCHOOL, OTHER):
        assert await installed.install(team) == 200
        assert await installed.command(team, "triage kent") == "start"
    service = installed.bot.service
    assert await service.peek(ConversationRef("slack", SCHOOL, "", USER)) is not None

    assert await installed.h.post(event_body(event, team_id=SCHOOL)) == 200
    assert await installed.h.done() == ("uninstalled", "forgotten")

    assert await service.peek(ConversationRef("slack", SCHOOL, "", USER)) is None
    assert await service.peek(ConversationRef("slack", OTHER, "", USER)) is not None  # another school's stays
    store = installed.bot.app.installation_store
    assert store is not None
    assert await store.async_find_bot(enterprise_id=None, team_id=SCHOOL) is None
    assert await store.async_find_bot(enterprise_id=None, team_id=OTHER) is not None
    # Its requests are no longer answered (the cached authorization went too).
    body = slash_command_body(text="help", user_id=USER, team_id=SCHOOL, response_url=slack.response_url("y"))
    assert await installed.h.post(body) == 200
    assert installed.h.finished.empty()  # no turn ran


async def test_single_workspace_mode_forgets_the_workspace_when_the_app_is_uninstalled(
    slack: FakeSlack, content: Content
) -> None:
    memory = MemoryStore()
    bot = SlackBot(make_service(content, memory), client=make_client(BOT_TOKEN, slack.api_url),
                   signing_secret=SIGNING_SECRET)
    runner, base = await serve_http(bot)
    try:
        h = Harness(slack, bot, base + "/slack/events")
        assert await h.command("triage kent") == "start"
        assert (await memory.stats()).live == 1
        assert await h.post(event_body({"type": "app_uninstalled"})) == 200
        assert await h.done() == ("uninstalled", "forgotten")
        assert (await memory.stats()).live == 0
    finally:
        await bot.outbox.stop()
        await runner.cleanup()


async def test_serverless_mode_answers_only_once_the_work_is_done(slack: FakeSlack, content: Content) -> None:
    bot = SlackBot(make_service(content, MemoryStore()), client=make_client(BOT_TOKEN, slack.api_url),
                   signing_secret=SIGNING_SECRET, process_before_response=True)
    runner, base = await serve_http(bot)
    try:
        h = Harness(slack, bot, base + "/slack/events")
        for text in ("triage kent", "contacts childline"):
            body = slash_command_body(text=text, user_id=USER, response_url=slack.response_url("cmd"))
            assert await h.post(body) == 200
            # The HTTP response came back only after the turn had finished and its replies had been sent.
            assert h.finished.qsize() == 1
            kind, _ = h.finished.get_nowait()
            assert kind == "command"
        dm = {"type": "message", "channel_type": "im", "channel": "D" + USER[1:], "user": USER, "text": "help",
              "ts": "1700000000.000100"}
        assert await h.post(json.dumps(json.loads(event_body(dm)))) == 200
        assert h.finished.qsize() == 1
    finally:
        await bot.outbox.stop()
        await runner.cleanup()


async def test_install_pages_exist_only_with_oauth(h: Harness) -> None:
    assert h.url is not None
    async with aiohttp.ClientSession() as session, session.get(h.url.replace("/slack/events", "/slack/install")) as r:
        assert r.status in (404, 405)
