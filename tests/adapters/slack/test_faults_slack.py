"""On Slack, with the store down, "I want to kill myself" in a DM still gets the crisis card.

Before: ``_guarded`` only logged the store's exception and the person got nothing at all. Through the real
Bolt app in HTTP mode on loopback and the fake Slack Web API (benchmarks/fakes/)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from test_slack_harness import TODAY, Stack, block_text

from benchmarks.fakes.slack_api import FakeSlack
from bot.store import MemoryStore
from dialogs.content import Content
from dialogs.lint import load_content
from tests.faults_support import FaultyStore, crisis_numbers


@pytest.fixture(scope="module")
def slack_content() -> Content:
    return load_content(today=TODAY)


@pytest.fixture
async def stack(slack_content: Content) -> AsyncIterator[Stack]:
    async with FakeSlack() as fake:
        s = Stack(fake, slack_content)
        yield s
        await s.stop()


async def test_slack_dm_crisis_with_the_store_down(stack: Stack, slack_content: Content) -> None:
    store = FaultyStore(MemoryStore())
    store.failing = {"lock", "load", "save", "forget"}
    h = await stack.start(store=store)
    result = await h.dm("I want to kill myself")
    assert result == "crisis"
    posted = await h.next_call("chat.postMessage")
    text = block_text(posted.params["blocks"]) + posted.params["text"]
    for number in crisis_numbers(slack_content):
        assert number in text, number


async def test_slack_dm_other_text_with_the_store_down(stack: Stack, slack_content: Content) -> None:
    store = FaultyStore(MemoryStore())
    h = await stack.start(store=store)
    assert h.url is not None
    health = h.url.replace("/slack/events", "/healthz")
    async with aiohttp.ClientSession() as client:
        async with client.get(health) as response:
            assert response.status == 200
        store.failing = {"save"}  # say the disk filled up
        assert await h.dm("what is the EDT number") == "store"
        posted = await h.next_call("chat.postMessage")
        assert "0800 1111" in posted.params["text"] and "999" in posted.params["text"]
        async with client.get(health) as response:  # the fault a probe cannot see is reported
            assert response.status == 503 and (await response.json())["ok"] is False
