"""What a turn is given besides the message (:class:`Defaults`), what it works on (:class:`Ctx`) and what
it gives back (:class:`Reply`).

A :class:`Reply` says, as data, everything an adapter needs to deliver it: the replies, whether the
conversation was forgotten or is to be deleted, which question a button answered, whether the first reply
explains the pressed question, whether it is the help, whether the pressed button was stale. ``event`` is
a label for logs and metrics only: adapters never branch on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from bot.session import Session
from bot.types import Outbound


@dataclass(frozen=True)
class Answered:
    """The question a button answered in this turn, and the answer: platforms that edit the pressed question
    in place show "✓ question — answer". ``first``: it was the flow's first question (the flow's ``title``
    and ``intro`` were shown above it)."""

    question: str
    answer: str
    first: bool = False
    title: str = ""
    intro: str = ""


@dataclass
class Reply:
    """What a turn produced. ``session`` is ``None`` when the user asked to be forgotten (or left)."""

    session: Session | None
    replies: list[Outbound]
    event: str  # a label for logs and metrics: never user text, never branched on by adapters
    delete_conversation: bool = False  # quick exit: adapters delete what they can of this chat
    forgotten: bool = False  # "Forget me": adapters forget what they hold about this conversation
    answered: Answered | None = None  # a button answered a question (see Answered)
    explains: bool = False  # the first reply explains the question whose "What does this mean?" was pressed
    help: bool = False  # the reply is the help (a platform may put its own usage first)
    stale: bool = False  # the pressed button was from an old menu or not one we made: a notice, then the screen

    @property
    def crisis(self) -> bool:
        """Whether the replies include the crisis card."""
        return any(o.kind == "crisis" for o in self.replies)


@dataclass
class Defaults:
    """What a platform or command line already knows: who is asking, and where."""

    who: str | None = None
    area: str | None = None
    fixed_who: bool = False  # Slack: always a practitioner
    remember_area: bool = False  # Slack: the area chosen is a preference kept beyond the session (the service)


@dataclass
class Ctx:
    """One turn's working state: the session it changes, the time, the defaults and the replies so far."""

    s: Session
    now: dt.datetime
    defaults: Defaults
    out: list[Outbound] = field(default_factory=list)
    area: str | None = None  # an area named in this message: used for this answer only
    ending: Literal["forget", "exit"] | None = None  # the conversation ends with this turn
    answered: Answered | None = None
    explains: bool = False
    help: bool = False
    stale: bool = False

    def reply(self, event: str) -> Reply:
        """The reply this turn has built: without the session when the conversation ends."""
        session = None if self.ending else self.s
        return Reply(session, self.out, event, delete_conversation=self.ending == "exit",
                     forgotten=self.ending == "forget", answered=self.answered, explains=self.explains,
                     help=self.help, stale=self.stale)
