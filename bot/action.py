"""What a button means, typed: the one place the button-token format lives.

Every button the assistant shows carries a signed token (:mod:`bot.tokens`) that comes back when it is
pressed. :class:`Buttons` turns an :data:`Action` into that token and a token back into an action, so no
other module knows the payload's letters, order or version stamp. A token this deployment did not sign
decodes to ``None`` (a forged or mangled button); one it signed that no longer means anything decodes to
:class:`Expired`. An :class:`Answer` carries the content version it was shown under: :meth:`Buttons.current`
says whether it is still this content's (an older menu's answer has expired).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.tokens import TokenSigner

MAX_READ = 128  # longer tokens are never ours: only this much is checked


@dataclass(frozen=True)
class PickWho:
    """"Who are you?" answered: ``young_person``, ``parent`` or ``practitioner``."""

    who: str


@dataclass(frozen=True)
class PickArea:
    """"Where are you?" answered with an area id."""

    area: str


@dataclass(frozen=True)
class Answer:
    """A choice of a flow's question, by position (question index, choice index), as shown under
    ``version`` (set when decoded; the current version is stamped when encoded)."""

    flow: str
    question: int
    choice: int
    version: str = ""


@dataclass(frozen=True)
class ShowTopic:
    topic: str


@dataclass(frozen=True)
class ShowContact:
    contact: str


@dataclass(frozen=True)
class JumpTo:
    """A place in a flow that typed words suggested ("did you mean ...?")."""

    flow: str
    node: str


@dataclass(frozen=True)
class Nav:
    """Navigation and the ways out: back, restart, contacts, urgent, help, resume, forget, exit, who, area,
    explain, record, triage."""

    name: str


@dataclass(frozen=True)
class Expired:
    """A button this deployment signed that means nothing now (an unknown kind or shape)."""


Action = PickWho | PickArea | Answer | ShowTopic | ShowContact | JumpTo | Nav | Expired
_ONE_ARG: dict[str, Callable[[str], Action]] = {"w": PickWho, "a": PickArea, "t": ShowTopic, "k": ShowContact, "g": Nav}


class Buttons:
    """Encodes actions as signed tokens and decodes them again, for one deployment's secret and content."""

    def __init__(self, secret: str, content_version: str):
        self.signer = TokenSigner(secret)
        self.version = content_version[-4:]  # an answer's stamp: a menu from other content has expired

    def encode(self, action: Action) -> str:
        if isinstance(action, PickWho):
            return self.signer.sign("w", action.who)
        if isinstance(action, PickArea):
            return self.signer.sign("a", action.area)
        if isinstance(action, Answer):
            return self.signer.sign("c", action.flow, str(action.question), str(action.choice), self.version)
        if isinstance(action, ShowTopic):
            return self.signer.sign("t", action.topic)
        if isinstance(action, ShowContact):
            return self.signer.sign("k", action.contact)
        if isinstance(action, JumpTo):
            return self.signer.sign("j", action.flow, action.node)
        if isinstance(action, Nav):
            return self.signer.sign("g", action.name)
        raise ValueError("an expired action has no token")

    def decode(self, token: str) -> Action | None:
        """The action of a token this deployment signed; ``None`` for any other text."""
        # Only short ASCII tokens are issued (hmac.compare_digest raises on non-ASCII text).
        parts = self.signer.verify(token[:MAX_READ]) if token.isascii() else None
        if parts is None:
            return None
        kind, args = parts[0], parts[1:]
        if len(args) == 1:
            one = _ONE_ARG.get(kind)
            if one is not None:
                return one(args[0])
        if kind == "c" and len(args) == 4 and args[1].isdigit() and args[2].isdigit():
            return Answer(args[0], int(args[1]), int(args[2]), args[3])
        if kind == "j" and len(args) == 2:
            return JumpTo(args[0], args[1])
        return Expired()

    def current(self, answer: Answer) -> bool:
        """Whether an answer button was shown under this content."""
        return answer.version == self.version
