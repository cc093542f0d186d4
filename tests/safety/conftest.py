from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant import Assistant
from dialogs.content import Content
from dialogs.lint import load_content

TODAY = dt.date(2026, 11, 21)  # a fixed "today" for the content lint (stale-contact warnings)
SECRET = "safety-test-secret"


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(today=TODAY)


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, SECRET)
