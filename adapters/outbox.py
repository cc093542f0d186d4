"""Replies that could not be delivered yet: kept in memory and retried in the background, in order per chat.

One implementation for every adapter (Telegram, Slack). A reply whose send still fails after the in-turn
retries (a longer outage, or a rate limit asking to wait long) goes here instead of being dropped. A chat
with anything waiting here gets its later replies queued behind, so they never overtake. The background
task tries each chat's oldest reply when it is due, backing off per chat (or waiting as long as the
platform asks); a success sends that chat's next one at once.

It is small and bounded: at most ``per_chat`` replies for one chat and ``capacity`` in all, for at most
``max_age`` seconds. Anything dropped is logged (with a count, never its text or chat). It is held in
memory only, so a restart loses what is waiting (logged at stop); the clock and the sleep are injectable,
so tests run through hours of back-off without waiting.

A chat is keyed by whatever the adapter uses (Telegram's int chat id, Slack's hashed conversation key).
Log events are named ``<platform>_outbox_<what>`` (``telegram_outbox_dropped``...); the adapter that
binds its sender sets the platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.logs import log

Sleep = Callable[[float], Awaitable[None]]
Outcome = Literal["sent", "drop", "retry"]
ChatKey = int | str


@dataclass
class Pending:
    """One message waiting to be sent. ``payload`` is the adapter's (what to send, where, for whom)."""

    chat_id: ChatKey
    payload: Any
    crisis: bool = False
    since: float = 0.0
    #: Set when the chat was discarded (quick exit, forget): a send already in flight can undo itself.
    cancelled: bool = False


@dataclass
class _Chat:
    items: deque[Pending] = field(default_factory=deque)
    attempts: int = 0
    due: float = 0.0


@dataclass(frozen=True)
class OutboxPolicy:
    capacity: int = 1000
    per_chat: int = 20
    max_age: float = 6 * 3600.0
    base_delay: float = 2.0
    max_delay: float = 300.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.base_delay * 2 ** max(attempts - 1, 0), self.max_delay))


#: Tries one message once: ``("sent"|"drop", None)`` or ``("retry", seconds to wait or None)``.
Sender = Callable[[Pending], Awaitable[tuple[Outcome, float | None]]]


class Outbox:
    def __init__(
        self,
        sender: Sender | None = None,
        *,
        policy: OutboxPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        platform: str = "",
    ):
        self.sender = sender
        self.platform = platform
        self.policy = policy or OutboxPolicy()
        self.clock = clock
        self.sleep = sleep
        self._chats: OrderedDict[ChatKey, _Chat] = OrderedDict()
        self._size = 0
        self._wake = asyncio.Event()
        self._changed: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.dropped = 0

    # --------------------------------------------------------------------------- the queue

    def __len__(self) -> int:
        return self._size

    def has(self, chat_id: ChatKey) -> bool:
        return chat_id in self._chats

    def put(self, chat_id: ChatKey, payload: Any, *, crisis: bool = False, delay: float | None = None) -> None:
        """Queue ``payload`` for ``chat_id`` behind anything already waiting there.

        ``delay``: how long to wait before the first try (Telegram's ``retry_after``); default base_delay.
        """
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            wait = self.policy.base_delay if delay is None else delay
            chat = self._chats[chat_id] = _Chat(due=now + wait)
        if len(chat.items) >= self.policy.per_chat and not self._make_room(chat):
            self._drop("chat_full")
            return
        if self._size >= self.policy.capacity:
            self._drop("full")
            if not chat.items:
                del self._chats[chat_id]
            return
        chat.items.append(Pending(chat_id, payload, crisis, now))
        self._size += 1
        self._log("queued", waiting=self._size)
        self._wake.set()

    def discard(self, chat_id: ChatKey) -> int:
        """Forget what is waiting for ``chat_id`` (quick exit, forget); returns how many."""
        chat = self._chats.pop(chat_id, None)
        count = len(chat.items) if chat else 0
        for item in chat.items if chat else ():
            item.cancelled = True
        self._size -= count
        if count:
            self._log("discarded", count=count)
            self._notify()
        return count

    def _make_room(self, chat: _Chat) -> bool:
        """A full chat queue drops its oldest non-crisis reply to make room; a crisis card is kept.

        The oldest (``items[0]``) is never dropped: it may be the one being sent right now.
        """
        for item in list(chat.items)[1:]:
            if not item.crisis:
                chat.items.remove(item)
                self._size -= 1
                self._drop("chat_full")
                return True
        return False

    def _log(self, what: str, level: int = logging.INFO, **fields: Any) -> None:
        log(f"{self.platform}_outbox_{what}" if self.platform else f"outbox_{what}", level=level, **fields)

    def _drop(self, reason: str, count: int = 1) -> None:
        self.dropped += count
        self._log("dropped", level=logging.WARNING, reason=reason, count=count, dropped=self.dropped)

    # -------------------------------------------------------------------------- the runner

    async def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            if self._size:
                self._wake.set()
            self._task = asyncio.create_task(self._run(), name=f"{self.platform or 'ypsi'}-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._size:
            self._log("unsent_at_stop", level=logging.WARNING, count=self._size)

    async def wait_empty(self) -> None:
        """Until nothing is waiting (for tests and a graceful stop)."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            await self._changed.wait_for(lambda: self._size == 0)

    def _notify(self) -> None:
        changed = self._changed
        if changed is not None:

            async def notify() -> None:
                async with changed:
                    changed.notify_all()

            asyncio.get_running_loop().create_task(notify())

    async def _run(self) -> None:
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug here must not stop every later retry, nor loop hot
                self._log("error", level=logging.ERROR, error=type(exc).__name__)
                await self.sleep(self.policy.base_delay)

    async def _step(self) -> None:
        now = self.clock()
        due = [chat_id for chat_id, chat in self._chats.items() if chat.due <= now]
        if due:
            for chat_id in due:
                await self.flush(chat_id)
            return
        self._wake.clear()
        wait = min((chat.due for chat in self._chats.values()), default=None)
        await self._wait(None if wait is None else wait - now)

    async def _wait(self, seconds: float | None) -> None:
        """Until ``seconds`` have passed or something new is queued, whichever is first."""
        woken = asyncio.ensure_future(self._wake.wait())
        if seconds is None:
            await woken
            return
        slept = asyncio.ensure_future(self.sleep(max(seconds, 0.0)))
        try:
            await asyncio.wait({woken, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (woken, slept):
                task.cancel()

    async def flush(self, chat_id: ChatKey) -> None:
        """Send what is waiting for ``chat_id``, oldest first, until one fails (then it is rescheduled)."""
        chat = self._chats.get(chat_id)
        while chat is not None and chat.items and self._chats.get(chat_id) is chat:
            item = chat.items[0]
            if self.clock() - item.since > self.policy.max_age:
                outcome: Outcome = "drop"
                self._drop("too_old")
                wait: float | None = None
            else:
                assert self.sender is not None
                try:
                    outcome, wait = await self.sender(item)
                except Exception as exc:  # a bug in the sender must not kill the outbox
                    self._log("error", level=logging.ERROR, error=type(exc).__name__)
                    outcome, wait = "retry", None
            if self._chats.get(chat_id) is not chat:
                return  # discarded while sending
            if outcome == "retry":
                chat.attempts += 1
                chat.due = self.clock() + (wait if wait is not None else self.policy.backoff(chat.attempts))
                self._log("retry", attempt=chat.attempts, delay_s=round(chat.due - self.clock(), 2))
                return
            chat.items.popleft()
            self._size -= 1
            chat.attempts = 0
            if outcome == "sent":
                self.delivered += 1
                self._log("delivered", waiting=self._size)
        if chat is not None and not chat.items and self._chats.get(chat_id) is chat:
            del self._chats[chat_id]
        self._notify()
