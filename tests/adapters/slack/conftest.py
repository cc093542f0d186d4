"""Fixtures for the Slack adapter tests; the helpers they use are in test_slack_harness.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from test_slack_harness import Harness, Stack

from benchmarks.fakes.slack_api import FakeSlack
from dialogs.content import Content


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def stack(slack: FakeSlack, content: Content) -> AsyncIterator[Stack]:
    s = Stack(slack, content)
    yield s
    await s.stop()


@pytest.fixture
async def h(stack: Stack) -> Harness:
    return await stack.start()
