"""The service every adapter calls: lock the conversation, drop duplicates, load, run the turn, save, reply.

State is written before the replies are handed back, so a crash loses at most the turn in flight, and a
platform's re-delivery of that turn is then handled as new; a re-delivery of a turn that was saved is
recognised by its event id and answered with nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant import Assistant, Defaults, Reply
from bot.logs import log, log_error, now_ms
from bot.store import SessionStore, conversation_key
from bot.types import ConversationRef, Inbound


@dataclass
class Handled:
    """A turn's replies, or ``duplicate`` when the event had been handled already."""

    reply: Reply | None
    key: str
    duplicate: bool = False


class Service:
    def __init__(
        self,
        assistant: Assistant,
        store: SessionStore,
        secret: str,
        clock: Callable[[], float] = time.time,
    ):
        self.assistant = assistant
        self.store = store
        self.secret = secret
        self.clock = clock

    def key(self, ref: ConversationRef) -> str:
        return conversation_key(ref, self.secret)

    async def handle(
        self,
        ref: ConversationRef,
        inbound: Inbound,
        *,
        event_id: str | None = None,
        defaults: Defaults | None = None,
    ) -> Handled:
        key = self.key(ref)
        started = now_ms()
        async with self.store.lock(key):
            session = await self.store.load(key)
            if event_id is not None and session is not None and session.has_seen(event_id):
                log("duplicate", platform=ref.platform, conv=key[:12])
                return Handled(None, key, duplicate=True)
            now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
            try:
                reply = self.assistant.handle(session, inbound, now, defaults)
            except Exception as exc:  # never crash an adapter: say sorry and keep the old state
                log_error("turn_failed", exc, platform=ref.platform, conv=key[:12], kind=inbound.kind)
                reply = Reply(session, [self.assistant.sorry()], "error")
                if session is None:
                    return Handled(reply, key)
            if reply.session is None:
                await self.store.forget(key)
            else:
                if event_id is not None:
                    reply.session.mark_seen(event_id)
                await self.store.save(key, reply.session)
        log(
            "turn",
            platform=ref.platform,
            conv=key[:12],
            kind=inbound.kind,
            result=reply.event,
            replies=len(reply.replies),
            ms=round(now_ms() - started, 2),
        )
        return Handled(reply, key)

    async def forget(self, ref: ConversationRef) -> None:
        key = self.key(ref)
        async with self.store.lock(key):
            await self.store.forget(key)
        log("forget", platform=ref.platform, conv=key[:12])
