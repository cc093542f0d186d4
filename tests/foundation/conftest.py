from __future__ import annotations

import pytest

from bot.assistant import Assistant
from dialogs.content import Content


@pytest.fixture(scope="session")
def assistant(content: Content) -> Assistant:
    return Assistant(content, "test-secret")
