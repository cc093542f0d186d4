"""Updates of one chat in the order they arrived, one at a time; different chats at the same time.

PTB with ``concurrent_updates`` starts every update as its own task, so two quick button presses in one
chat could overtake each other. The store's per-conversation lock stops them interleaving but not from
swapping places; this processor chains each chat's updates so the second waits for the first.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

ChatKey = int


def chat_key(update: object) -> ChatKey | None:
    """The chat an update belongs to (the presser's chat for a button), or ``None``."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """A chat's updates run strictly in arrival order; other chats' updates run concurrently."""

    __slots__ = ("_tails",)

    def __init__(self, max_concurrent_updates: int = 256):
        super().__init__(max_concurrent_updates)
        self._tails: dict[ChatKey, asyncio.Future[None]] = {}

    @property
    def busy_chats(self) -> int:
        """How many chats have an update running or waiting (for tests and metrics)."""
        return len(self._tails)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine  # set before any await, so arrival order is the chain order
        started = False
        try:
            if previous is not None:
                await asyncio.wait({previous})  # never cancels ``previous``, unlike awaiting it
            started = True
            await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: never ran
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the application waits for running updates itself."""
