"""What a button means, typed: the one place the button-token format lives.

Every button the assistant shows carries a signed token (:mod:`bot.tokens`) that comes back when it is
pressed. :class:`Buttons` turns an :data:`Action` into that token and a token back into an action, so no
other module knows the payload's letters, order or version stamp. A token this deployment did not sign
decodes to ``None`` (a forged or mangled button); one it signed that no longer means anything decodes to
:class:`Expired`. An :class:`Answer` carries the content version it was shown under: :meth:`Buttons.current`
says whether it is still this content's (an older menu's answer has expired).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from bot.tokens import CACHE_SIZE, TokenSigner

MAX_READ = 128  # longer tokens are never ours: only this much is checked


@dataclass(frozen=True, slots=True)
class PickWho:
    """"Who are you?" answered: ``young_person``, ``parent`` or ``practitioner``."""

    who: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("w", self.who)


@dataclass(frozen=True, slots=True)
class PickArea:
    """"Where are you?" answered with an area id."""

    area: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("a", self.area)


@dataclass(frozen=True, slots=True)
class Answer:
    """A choice of a flow's question, by position (question index, choice index), as shown under
    ``version`` (set when decoded; the current version is stamped when encoded)."""

    flow: str
    question: int
    choice: int
    version: str = ""

    def payload(self, version: str) -> tuple[str, ...]:
        return ("c", self.flow, str(self.question), str(self.choice), version)


@dataclass(frozen=True, slots=True)
class ShowTopic:
    topic: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("t", self.topic)


@dataclass(frozen=True, slots=True)
class ShowContact:
    contact: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("k", self.contact)


@dataclass(frozen=True, slots=True)
class JumpTo:
    """A place in a flow that typed words suggested ("did you mean ...?")."""

    flow: str
    node: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("j", self.flow, self.node)


@dataclass(frozen=True, slots=True)
class Nav:
    """Navigation and the ways out: back, restart, contacts, urgent, help, resume, forget, exit, who, area,
    explain, record, triage."""

    name: str

    def payload(self, version: str) -> tuple[str, ...]:
        return ("g", self.name)


@dataclass(frozen=True, slots=True)
class Expired:
    """A button this deployment signed that means nothing now (an unknown kind or shape)."""

    def payload(self, version: str) -> tuple[str, ...]:
        raise ValueError("an expired action has no token")


Action = PickWho | PickArea | Answer | ShowTopic | ShowContact | JumpTo | Nav | Expired
_ONE_ARG: dict[str, Callable[[str], Action]] = {"w": PickWho, "a": PickArea, "t": ShowTopic, "k": ShowContact, "g": Nav}


class Buttons:
    """Encodes actions as signed tokens and decodes them again, for one deployment's secret and content."""

    def __init__(self, secret: str, content_version: str):
        self.signer = TokenSigner(secret)
        self.version = content_version[-4:]  # an answer's stamp: a menu from other content has expired
        # Pressed buttons come from a few hundred tokens: each is verified and parsed once (actions are frozen).
        self._decoded = functools.lru_cache(maxsize=CACHE_SIZE)(self._decode)

    def encode(self, action: Action) -> str:
        return self.signer.sign(*action.payload(self.version))

    def decode(self, token: str) -> Action | None:
        """The action of a token this deployment signed; ``None`` for any other text."""
        return self._decoded(token[:MAX_READ])

    def _decode(self, token: str) -> Action | None:
        # Only short ASCII tokens are issued (hmac.compare_digest raises on non-ASCII text).
        parts = self.signer.verify(token) if token.isascii() else None
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
