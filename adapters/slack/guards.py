"""What the Slack app remembers in memory between interactions, by hashed key and ids only: redeliveries
(:class:`SeenIds`), each person's in-flight limit and notices (:class:`UserLimit`), and the bot's own messages
in each DM, for quick exit (:class:`PostedMessages`)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SeenIds:
    """Interactions handled in the last ``window`` seconds, by hashed id: a redelivery inside the window is
    answered once, even when the conversation (and the ids it remembers) was forgotten in between. Keyed on
    time; ``size`` only bounds memory."""

    def __init__(self, window: float = 900.0, size: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.size = size
        self.clock = clock
        self._ids: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = self.clock()
        while self._ids and (len(self._ids) >= self.size or next(iter(self._ids.values())) < now - self.window):
            self._ids.popitem(last=False)
        if event_id in self._ids:
            return False
        self._ids[event_id] = now
        return True

    def __len__(self) -> int:
        return len(self._ids)


class UserLimit:
    """At most ``in_flight`` interactions per person at a time (one running, the rest waiting for the
    conversation's lock); notices at most once per ``window`` seconds. Hashed keys and counts only."""

    def __init__(
        self, in_flight: int = 4, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ):
        self.in_flight = in_flight
        self.window = window
        self.clock = clock
        self.size = size
        self._busy: dict[str, int] = {}
        self._noticed: OrderedDict[tuple[str, str], float] = OrderedDict()

    def enter(self, key: str) -> bool:
        n = self._busy.get(key, 0)
        if n >= self.in_flight:
            return False
        self._busy[key] = n + 1
        return True

    def leave(self, key: str) -> None:
        n = self._busy.get(key, 0) - 1
        if n > 0:
            self._busy[key] = n
        else:
            self._busy.pop(key, None)

    def busy(self, key: str) -> int:
        return self._busy.get(key, 0)

    def noticed(self, key: str, what: str) -> bool:
        """Whether ``what`` was said to this person within the window."""
        at = self._noticed.get((key, what))
        return at is not None and at > self.clock() - self.window

    def note(self, key: str, what: str) -> None:
        self._noticed.pop((key, what), None)
        self._noticed[(key, what)] = self.clock()
        while len(self._noticed) > self.size:
            self._noticed.popitem(last=False)

    def once(self, key: str, what: str) -> bool:
        """True (and noted) the first time in the window."""
        if self.noticed(key, what):
            return False
        self.note(key, what)
        return True

    def forget(self, key: str) -> None:
        for what in ("busy", "crisis"):
            self._noticed.pop((key, what), None)


class PostedMessages:
    """The bot's own messages in each DM, for quick exit: channel and message ts only, never text; at most
    ``per_dm`` for each of at most ``dms`` conversations (the least recently active are dropped first).
    Lost on restart, by design."""

    def __init__(self, dms: int = 10_000, per_dm: int = 200):
        self.dms = dms
        self.per_dm = per_dm
        self._posted: OrderedDict[str, tuple[str, deque[str]]] = OrderedDict()

    def add(self, key: str, channel: str, ts: str) -> None:
        entry = self._posted.get(key)
        if entry is None or entry[0] != channel:
            entry = self._posted[key] = (channel, deque(maxlen=self.per_dm))
            while len(self._posted) > self.dms:
                self._posted.popitem(last=False)
        self._posted.move_to_end(key)
        entry[1].append(ts)

    def pop(self, key: str) -> tuple[str | None, list[str]]:
        channel, ts = self._posted.pop(key, (None, deque()))
        return channel, list(ts)

    def get(self, key: str) -> list[str]:
        return list(self._posted.get(key, ("", deque()))[1])

    def __len__(self) -> int:
        return len(self._posted)



class DmChannels:
    """Each person's DM channel id with the bot, by hashed conversation key (never a user id), so that a reply
    needs no ``conversations.open`` once the DM is known. Bounded (least recently used goes first); an id
    Slack no longer knows (``channel_not_found``) is forgotten with :meth:`forget`."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._ids: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        channel = self._ids.get(key) if key else None
        if channel is not None:
            self._ids.move_to_end(key)
        return channel

    def put(self, key: str, channel: str) -> None:
        if not key or not channel:
            return
        self._ids[key] = channel
        self._ids.move_to_end(key)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def forget(self, key: str, channel: str | None = None) -> None:
        """Forget a person's DM id (only if it is still ``channel``, when given)."""
        if channel is None or self._ids.get(key) == channel:
            self._ids.pop(key, None)

    def __len__(self) -> int:
        return len(self._ids)
