"""The service every adapter calls: lock the conversation, drop duplicates, load, run the turn, save, reply.

State is written before the replies are handed back, so a crash loses at most the turn in flight, and a
platform's re-delivery of that turn is then handled as new; a re-delivery of a turn that was saved is
recognised by its event id and answered with nothing.

Faults never cost anyone a reply, least of all the crisis card:

* whether the message is a crisis is worked out first, before the store is touched;
* the turn runs on a copy of the saved session, so a turn that fails saves nothing and marks nothing seen;
* if the store fails (lock, load, save or forget: Redis down, disk full, read-only, locked), the person
  gets the crisis card if it was a crisis, else a short "something went wrong on our side" with 999 and
  Childline; ``handle`` does not raise, so every adapter has something to send;
* a record that cannot be read is dropped, and the person starts again with an apology;
* each conversation has a rate limit (a token bucket in memory); a crisis message is never limited away.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from logging import WARNING
from typing import Any, Literal

from bot.assistant import Assistant, Defaults, Reply
from bot.logs import log, log_error, now_ms
from bot.ratelimit import RateLimiter
from bot.session import CorruptSession, Preferences, Session
from bot.store import SessionStore, conversation_key, workspace_prefix
from bot.types import ConversationRef, Inbound, Outbound

Fault = Literal["store", "turn", "rate_limited"]
CRISIS_STORE_WAIT = 2.0  # seconds


@dataclass
class Handled:
    """A turn's replies, or ``duplicate`` when the event had been handled already.

    ``reply`` is ``None`` for a duplicate, and for a message refused by the rate limit after the person was
    told once to slow down. ``fault`` says why a reply was made without a normal turn (nothing was saved
    then); its ``reply.session`` is an unsaved placeholder, never ``None`` (which means "forgotten").
    """

    reply: Reply | None
    key: str
    duplicate: bool = False
    fault: Fault | None = None


class Service:
    def __init__(
        self,
        assistant: Assistant,
        store: SessionStore,
        secret: str,
        clock: Callable[[], float] = time.time,
        limiter: RateLimiter | None = None,
    ):
        """``limiter``: the per-conversation rate limit (``Settings.rate_limiter()``); ``None``, no limit."""
        self.assistant = assistant
        self.store = store
        self.secret = secret
        self.clock = clock
        self.limiter = limiter
        # How long a crisis turn waits for the store before the card is given without it (seconds).
        self.crisis_store_wait = CRISIS_STORE_WAIT
        self.late_turns: set[asyncio.Future[Handled]] = set()  # crisis turns still waiting for a slow store

    def key(self, ref: ConversationRef) -> str:
        return conversation_key(ref, self.secret)

    async def healthy(self) -> bool:
        """What ``/healthz`` reports: the store answers, and its last real operation did not fail (lately)."""
        return await self.store.healthy()

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
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        card = self._crisis_card(inbound, now, ref, key)
        turn = self._turn(ref, key, inbound, now, card, event_id, defaults)
        try:
            if card is None:
                handled = await turn
            else:
                handled = await self._crisis_turn(turn, ref, key, card)
        except Exception as exc:  # only the store's operations can raise out of _turn
            self._store_failed(exc, ref, key)
            handled = self._fallback(key, card, "store", "store_down")
        if handled.reply is not None:
            fields: dict[str, Any] = {"fault": handled.fault} if handled.fault else {}
            log(
                "turn",
                platform=ref.platform,
                conv=key[:12],
                kind=inbound.kind,
                result=handled.reply.event,
                replies=len(handled.reply.replies),
                ms=round(now_ms() - started, 2),
                **fields,
            )
        return handled

    async def _crisis_turn(
        self, turn: Coroutine[Any, Any, Handled], ref: ConversationRef, key: str, card: Outbound
    ) -> Handled:
        """A crisis turn waits for the store at most ``crisis_store_wait`` seconds: a store that hangs (a
        network partition, a stopped Redis that does not refuse) cannot hold the card back for its timeouts.
        A turn still running then carries on in the background, and saves if the store comes back."""
        task = asyncio.ensure_future(turn)
        done, _ = await asyncio.wait({task}, timeout=self.crisis_store_wait)
        if done:
            return task.result()
        self.store.note_fault()
        log("store_slow", WARNING, platform=ref.platform, conv=key[:12], backend=self.store.backend)
        self.late_turns.add(task)
        task.add_done_callback(lambda t: self._late_turn_done(t, ref, key))
        return self._fallback(key, card, "store", "store_down")

    def _late_turn_done(self, task: asyncio.Future[Handled], ref: ConversationRef, key: str) -> None:
        self.late_turns.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._store_failed(task.exception(), ref, key)

    def _store_failed(self, exc: BaseException | None, ref: ConversationRef, key: str) -> None:
        self.store.note_fault()
        if exc is not None:
            log_error("store_failed", exc, platform=ref.platform, conv=key[:12], backend=self.store.backend)

    def _crisis_card(self, inbound: Inbound, now: dt.datetime, ref: ConversationRef, key: str) -> Outbound | None:
        try:
            return self.assistant.crisis_card(inbound, now)
        except Exception as exc:  # the turn looks for crisis words again; this only backs up a broken store
            log_error("crisis_card_failed", exc, platform=ref.platform, conv=key[:12])
            return None

    def _fallback(
        self, key: str, card: Outbound | None, fault: Fault, message: str, session: Session | None = None
    ) -> Handled:
        """A reply made without a turn: the crisis card if it was a crisis, else ``message``. Its session is
        the saved one, unchanged, or (when the store could not give it) an empty placeholder."""
        replies = [card] if card is not None else [self.assistant.text(message)]
        event = "crisis" if card is not None else fault
        return Handled(Reply(session or Session(), replies, event), key, fault=fault)

    async def _turn(
        self,
        ref: ConversationRef,
        key: str,
        inbound: Inbound,
        now: dt.datetime,
        card: Outbound | None,
        event_id: str | None,
        defaults: Defaults | None,
    ) -> Handled:
        async with self.store.lock(key):
            notice: str | None = None
            try:
                session = await self.store.load(key)
            except CorruptSession:
                log("session_unreadable", WARNING, platform=ref.platform, conv=key[:12], backend=self.store.backend)
                await self.store.forget(key)
                session, notice = None, "session_reset"
            if event_id is not None and session is not None and session.has_seen(event_id, now.timestamp()):
                self.store.note_ok()
                log("duplicate", platform=ref.platform, conv=key[:12])
                return Handled(None, key, duplicate=True)
            preferred = await self._preferences(key, ref, defaults)
            if preferred is not None and preferred.area is not None:
                assert defaults is not None
                defaults = replace(defaults, area=preferred.area)
            limit = self.limiter.take(key) if self.limiter is not None else "ok"
            if limit != "ok":
                self.store.note_ok()
                log("rate_limited", WARNING, platform=ref.platform, conv=key[:12], told=limit == "tell")
                if card is None and limit == "quiet":
                    return Handled(None, key, fault="rate_limited")
                return self._fallback(key, card, "rate_limited", "rate_limited", session)
            if session is None and self.assistant.needs_session(inbound):
                # A button from a conversation that is no longer kept: say so, never restart silently.
                reply = self.assistant.expired(now, defaults, notice or "menu_expired")
                notice = None
            else:
                try:
                    # On a copy: the assistant changes the session in place, and a failed turn changes nothing.
                    reply = self.assistant.handle(session.copy() if session else None, inbound, now, defaults)
                except Exception as exc:  # never crash an adapter: say sorry (or give the crisis card)
                    log_error("turn_failed", exc, platform=ref.platform, conv=key[:12], kind=inbound.kind)
                    self.store.note_ok()
                    handled = self._fallback(key, card, "turn", "sorry", session)
                    assert handled.reply is not None
                    handled.reply.event = "error"
                    return handled
            if notice is not None:
                reply.replies.insert(0, self.assistant.text(notice))
            if reply.session is None:
                await self.store.forget(key)
            else:
                if event_id is not None:
                    reply.session.mark_seen(event_id, now.timestamp())
                await self.store.save(key, reply.session)
                await self._remember_area(key, session, reply.session, preferred, defaults)
            self.store.note_ok()
        return Handled(reply, key)

    async def _preferences(
        self, key: str, ref: ConversationRef, defaults: Defaults | None
    ) -> Preferences | None:
        """The person's saved preferences, where the platform keeps them (``Defaults.remember_area``); an
        unreadable record counts as none (the next choice overwrites it)."""
        if defaults is None or not defaults.remember_area:
            return None
        try:
            preferred = await self.store.load_preferences(key)
        except CorruptSession:
            log("preferences_unreadable", WARNING, platform=ref.platform, conv=key[:12], backend=self.store.backend)
            return None
        if preferred is not None and preferred.area is not None and preferred.area not in self.assistant.content.areas:
            return replace(preferred, area=None)  # an area no longer in the content
        return preferred

    async def _remember_area(
        self,
        key: str,
        before: Session | None,
        after: Session,
        preferred: Preferences | None,
        defaults: Defaults | None,
    ) -> None:
        """Keep the area as a preference when it was chosen this turn, and renew it when a new conversation
        starts with it (at most once a session), so that it lasts a year after it was last used."""
        if defaults is None or not defaults.remember_area or after.area is None:
            return
        chosen = after.area != (before.area if before is not None else defaults.area)
        renewed = before is None and preferred is not None and preferred.area is not None
        if chosen or renewed:
            await self.store.save_preferences(key, replace(preferred or Preferences(), area=after.area))

    async def peek(self, ref: ConversationRef) -> Session | None:
        """The saved session, read without a turn (e.g. Slack's App Home, for the area); ``None`` when there is
        none, it cannot be read, or the store fails. Never raises for the store."""
        key = self.key(ref)
        try:
            return await self.store.load(key)
        except CorruptSession:
            return None  # dropped by the conversation's next turn
        except Exception as exc:
            self._store_failed(exc, ref, key)
            return None

    async def remembered_area(self, ref: ConversationRef) -> str | None:
        """The area the person chose: their conversation's, or else their saved preference (which outlives
        the conversation); ``None`` when neither is known or the store fails. Never raises for the store."""
        session = await self.peek(ref)
        if session is not None and session.area is not None:
            return session.area
        key = self.key(ref)
        try:
            preferred = await self.store.load_preferences(key)
        except CorruptSession:
            return None
        except Exception as exc:
            self._store_failed(exc, ref, key)
            return None
        return preferred.area if preferred is not None else None

    async def forget_workspace(self, platform: str, workspace: str) -> int:
        """Forget every conversation and preference of a workspace (a Slack app uninstalled from it)."""
        prefix = workspace_prefix(platform, workspace, self.secret)
        gone = await self.store.forget_prefix(prefix)
        log("forget_workspace", platform=platform, workspace=prefix, forgotten=gone)
        return gone

    async def first_welcome(self, ref: ConversationRef) -> bool:
        """True once per person (until "Forget me" or the preferences' time-to-live): the first time, the flag
        is kept in their preferences (hashed key, no personal data). ``False`` when the store fails or the
        record cannot be read: a welcome is never worth a second one."""
        key = self.key(ref)
        try:
            async with self.store.lock(key):
                preferred = await self.store.load_preferences(key)
                if preferred is not None and preferred.welcomed:
                    return False
                await self.store.save_preferences(key, replace(preferred or Preferences(), welcomed=True))
        except CorruptSession:
            return False
        except Exception as exc:
            self._store_failed(exc, ref, key)
            return False
        return True

    async def forget(self, ref: ConversationRef) -> None:
        key = self.key(ref)
        async with self.store.lock(key):
            await self.store.forget(key)
        log("forget", platform=ref.platform, conv=key[:12])
