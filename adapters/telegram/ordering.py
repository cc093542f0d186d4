"""Updates of one chat in the order they arrived, one at a time; different chats at the same time.

PTB with ``concurrent_updates`` starts every update as its own task, so two quick button presses in one
chat could overtake each other. The store's per-conversation lock stops them interleaving but not from
swapping places; this processor chains each chat's updates so the second waits for the first.

Fairness: PTB's processor takes one of its ``max_concurrent_updates`` slots *before* the per-chat wait,
so 256 queued updates of one flooding chat would hold every slot while waiting for each other, and no
other chat would be answered. Here an update waits for its chat's turn first and takes a slot only to
run. One chat's backlog is also bounded: beyond ``max_chat_backlog`` waiting updates, new ones from that
chat are dropped (logged as a count, nothing identifying) unless ``keep`` says otherwise, which the
adapter uses to let words of danger through whatever the backlog.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logs import log

ChatKey = int
#: Updates of one chat that may wait behind the one running; more are dropped (unless ``keep``).
MAX_CHAT_BACKLOG = 50
_UNBOUNDED = 1 << 30


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
    """A chat's updates run strictly in arrival order; other chats' updates run concurrently.

    PTB's own slot semaphore (taken before :meth:`do_process_update`, in a method we may not override) is
    made unbounded; ``max_running`` slots of our own are taken only once an update's turn has come.
    """

    __slots__ = ("_backlog", "_slots", "_tails", "dropped", "keep", "max_chat_backlog", "max_running")

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        max_chat_backlog: int = MAX_CHAT_BACKLOG,
        keep: Callable[[object], bool] | None = None,
    ):
        super().__init__(_UNBOUNDED)
        self.max_running = max_concurrent_updates
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._tails: dict[ChatKey, asyncio.Future[None]] = {}
        self._backlog: dict[ChatKey, int] = {}
        self.max_chat_backlog = max_chat_backlog
        self.keep = keep
        self.dropped = 0

    @property
    def busy_chats(self) -> int:
        """How many chats have an update running or waiting (for tests and metrics)."""
        return len(self._tails)

    def backlog(self, key: ChatKey) -> int:
        """Updates of chat ``key`` running or waiting."""
        return self._backlog.get(key, 0)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        if self._backlog.get(key, 0) > self.max_chat_backlog and not (self.keep and self.keep(update)):
            self.dropped += 1
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            log("telegram_chat_backlog_full", dropped=self.dropped, limit=self.max_chat_backlog)
            return
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine  # set before any await, so arrival order is the chain order
        self._backlog[key] = self._backlog.get(key, 0) + 1
        started = False
        try:
            if previous is not None:
                await asyncio.wait({previous})  # never cancels ``previous``, unlike awaiting it
            async with self._slots:  # a slot only to run: waiting chats hold none
                started = True
                await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: never ran
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]
            left = self._backlog.get(key, 1) - 1
            if left > 0:
                self._backlog[key] = left
            else:
                self._backlog.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the application waits for running updates itself."""
