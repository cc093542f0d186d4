from __future__ import annotations

import datetime as dt

import pytest

from bot.assistant import Assistant
from dialogs.content import Content

# A fixed "today" for lint, so the stale-contact warning does not depend on when tests run.
from dialogs.lint import load_content

# A fixed "today" for lint, so the stale-contact warning does not depend on when tests run.
TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(today=TODAY)


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, "test-secret")
