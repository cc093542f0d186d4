"""Hostile and broken input, through the service as an adapter drives it (Service + Assistant + MemoryStore).

Whatever arrives — text at and beyond the platforms' limits, control characters, right-to-left text, zalgo,
emoji, buttons the bot never issued or that were tampered with, replayed or out-of-order buttons — the bot
answers, never raises, and stays in a valid state: a node of its flow that its saved answers replay to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.assistant import WHO, Assistant, Defaults
from bot.service import Handled, Service
from bot.session import Session
from bot.store import MemoryStore
from bot.types import ConversationRef, Inbound, Outbound
from dialogs.content import Content
from dialogs.lint import load_content

NOW = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC).timestamp()
SERVICE_SECRET = "hostile-test-service-secret"
TODAY = dt.date(2026, 11, 21)
TELEGRAM_LIMIT = 4096
SLACK_LIMIT = 40_000

# One conversation per flow, started the way each platform starts it.
FLOWS: dict[str, Defaults] = {
    "young_person": Defaults(who="young_person", area="leeds"),
    "parent": Defaults(who="parent", area="kent"),
    "kent": Defaults(who="practitioner", area="kent", fixed_who=True),
    "ukcis": Defaults(who="practitioner", area="leeds", fixed_who=True),
}
COMMANDS = ["start", "help", "contacts", "urgent", "restart", "back", "triage", "menu", "forget", "exit", "nonsense"]


def assert_valid(content: Content, assistant: Assistant, session: Session | None) -> None:
    """The saved state names real content, and its answers replay to its node."""
    if session is None:
        return
    assert session.who in (None, *WHO)
    assert session.area is None or session.area in content.areas
    if session.flow is None:
        assert session.node is None and session.answers == []
        return
    assert session.flow in content.flows
    engine = assistant.dialogs.engine(session.flow)
    flow = content.flows[session.flow]
    assert session.node is not None and (flow.question(session.node) or flow.outcome(session.node)) is not None
    assert engine.replay(session.answers).position.node == session.node


def state(session: Session | None) -> tuple[object, ...]:
    if session is None:
        return (None,)
    return (session.who, session.area, session.flow, session.node, tuple(session.answers))


def assert_no_jump(before: Session, after: Session | None) -> None:
    """A refused button changes nothing; at most it shows the first question of a flow not yet begun."""
    assert after is not None
    if before.flow is None:
        assert state(after)[:2] == state(before)[:2] and after.answers == []
    else:
        assert state(after) == state(before)


@dataclass
class Conversation:
    """One user's chat through the service, checking every turn."""

    content: Content
    assistant: Assistant
    defaults: Defaults
    store: MemoryStore = field(default_factory=lambda: MemoryStore(clock=lambda: NOW))
    ref: ConversationRef = ConversationRef("test", "workspace", "chat", "user")
    options: list[str] = field(default_factory=list)  # tokens on the latest menu
    labels: list[str] = field(default_factory=list)  # and their labels
    seen: list[str] = field(default_factory=list)  # every token ever shown

    def __post_init__(self) -> None:
        self.service = Service(self.assistant, self.store, SERVICE_SECRET, clock=lambda: NOW)

    async def session(self) -> Session | None:
        return await self.store.load(self.service.key(self.ref))

    async def send(self, inbound: Inbound) -> Handled:
        handled = await self.service.handle(self.ref, inbound, defaults=self.defaults)
        assert handled.reply is not None and not handled.duplicate
        assert handled.reply.event != "error", "the assistant raised (the service turned it into an apology)"
        assert handled.reply.replies, "every turn gets at least one reply"
        assert all(isinstance(r, Outbound) and (r.text or r.options) for r in handled.reply.replies)
        saved = await self.session()
        assert_valid(self.content, self.assistant, saved)
        if handled.reply.session is not None:
            assert state(saved) == state(handled.reply.session)
        menus = [r for r in handled.reply.replies if r.options]
        if menus:
            self.options = [o.action for o in menus[-1].options]
            self.labels = [o.label for o in menus[-1].options]
        for r in handled.reply.replies:
            self.seen += [o.action for o in r.options]
        return handled

    async def start(self) -> Handled:
        return await self.send(Inbound("command", command="start"))

    def choice_token(self, label: str | None = None) -> str:
        """A flow choice on the current menu (not a navigation button): the first, or the one labelled."""
        pairs = zip(self.options, self.labels, strict=True)
        return next(t for t, lbl in pairs if t.startswith("c.") and label in (None, lbl))


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _zalgo(text: str) -> str:
    return "".join(ch + "".join(chr(0x300 + (i * 7 + k) % 0x6F) for k in range(25)) for i, ch in enumerate(text))


HOSTILE_TEXTS = {
    "telegram limit": "x" * TELEGRAM_LIMIT,
    "beyond telegram": "hello " * (TELEGRAM_LIMIT // 6 + 10),
    "slack limit": ("word " * SLACK_LIMIT)[:SLACK_LIMIT],
    "beyond slack": "a" * (SLACK_LIMIT + 1),
    "far beyond": "ab\n" * 100_000,
    "nuls": "\x00" * TELEGRAM_LIMIT,
    "controls": "".join(chr(i) for i in range(32)) * 100 + "\x7f\x85\u2028\u2029",
    "right to left": "أحتاج مساعدة \u202e שלום עולם \u202c \u200f مرحبا",
    "direction overrides": "\u202e\u202d\u202a\u202b\u2066\u2067\u2068\u2069" * 500,
    "zalgo": _zalgo("help me please"),
    "emoji": "👨‍👩‍👧‍👦🏳️‍🌈🙂" * 2000,
    "lone surrogates": "\ud800\udfff\ud83d" * 100,
    "non characters": "\ufffe\uffff\U0010ffff" * 100,
    "zero width": "\u200b\u200c\u200d\ufeff" * 5000,
    "only spaces": " " * SLACK_LIMIT,
    "format strings": "{who} {0} %s %d {area!r} {{}} ${HOME}",
    "markup": "<script>alert(1)</script> *bold* _it_ `code` <@U123> <!channel> [x](javascript:alert(1))",
    "sql": "'; DROP TABLE sessions; --",
    "huge number": "9" * 500,
    "digits look-alike": "²³¹ ٣ ๓ 𝟑",
}


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("name", HOSTILE_TEXTS)
def test_strange_text_gets_a_reply_and_changes_nothing(
    content: Content, assistant: Assistant, flow: str, name: str
) -> None:
    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS[flow])
        await chat.start()
        before = state(await chat.session())
        await chat.send(Inbound("text", text=HOSTILE_TEXTS[name]))
        assert state(await chat.session()) == before
        # and as a command argument, a command name and a button value
        await chat.send(Inbound("command", command="contacts", arg=HOSTILE_TEXTS[name]))
        await chat.send(Inbound("command", command=HOSTILE_TEXTS[name][:5000], arg=HOSTILE_TEXTS[name]))
        await chat.send(Inbound("action", action=HOSTILE_TEXTS[name]))
        assert state(await chat.session()) == before

    run(go())


def test_crisis_words_at_the_end_of_a_slack_sized_message_are_seen(content: Content, assistant: Assistant) -> None:
    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS["kent"])
        await chat.start()
        text = ("lorem ipsum " * SLACK_LIMIT)[: SLACK_LIMIT - 40] + " the pupil wants to kill herself"
        assert len(text) <= SLACK_LIMIT
        handled = await chat.send(Inbound("text", text=text))
        assert handled.reply is not None and handled.reply.replies[0].kind == "crisis"

    run(go())


# ----------------------------------------------------------------------------------------- buttons


def _bad_tokens(assistant: Assistant, chat: Conversation, session: Session) -> dict[str, str]:
    """Buttons the bot did not issue for this state, built from what a client could see or guess."""
    sign = assistant.signer.sign
    valid = chat.choice_token()
    payload, _, sig = valid.rpartition("~")
    kind, flow, q, c, ver = payload.split(".")
    other_flow = next(f for f in ("kent", "ukcis", "young_person", "parent") if f != flow)
    other_q = str((int(q) + 1) % max(2, len(assistant.content.flows[flow].questions)))
    return {
        "never issued": "c.kent.0.0.abcd~AAAAAAAAAA",
        "plain words": "start again",
        "forged signature": f"{payload}~{'B' if sig[0] != 'B' else 'C'}{sig[1:]}",
        "tampered payload": f"{kind}.{flow}.{q}.{int(c) + 1}.{ver}~{sig}",
        "other deployment": "~".join([payload, "x" * len(sig)]),
        "signed, other flow": sign("c", other_flow, "0", "0", ver),
        "signed, other question": sign("c", flow, other_q, "0", ver),
        "signed, old version": sign("c", flow, q, "0", "zzzz"),
        "signed, no such choice": sign("c", flow, q, "99", ver),
        "signed, junk numbers": sign("c", flow, "x", "-1", ver),
        "signed, too few parts": sign("c", flow),
        "signed, unknown kind": sign("zz", "a"),
        "signed, unknown topic": sign("t", "no_such_topic"),
        "signed, who again": sign("w", "parent"),
        "signed, area again": sign("a", "leeds"),
        "signed, unknown global": sign("g", "launch"),
        "signed, record at a question": sign("g", "record"),
        "truncated by one": valid[:-1],
        "truncated by half": valid[: len(valid) // 2],
        "signature cut off": payload,
        "empty": "",
        "10 KB": "A" * 10_240,
        "10 KB after a valid token": valid + "x" * 10_240,
        "10 KB before a valid token": "x" * 10_240 + valid,
    }


@pytest.mark.parametrize("flow", FLOWS)
def test_bad_buttons_get_a_clear_reply_and_no_state_jump(content: Content, assistant: Assistant, flow: str) -> None:
    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS[flow])
        await chat.start()
        session = await chat.session()
        assert session is not None
        clear = {content.text("forged_button"), content.text("menu_expired")}
        for name, token in _bad_tokens(assistant, chat, session).items():
            before = state(await chat.session())
            handled = await chat.send(Inbound("action", action=token))
            assert handled.reply is not None
            assert handled.reply.replies[0].text in clear, name
            assert handled.reply.event in ("forged_action", "expired_action"), name
            assert state(await chat.session()) == before, name
            assert handled.reply.replies[-1].options, f"{name}: the current step is shown again"

    run(go())


@pytest.mark.parametrize("flow", FLOWS)
def test_an_old_questions_button_after_moving_on_has_expired(
    content: Content, assistant: Assistant, flow: str
) -> None:
    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS[flow])
        await chat.start()
        first = chat.choice_token()
        await chat.send(Inbound("action", action=first))
        moved_on = state(await chat.session())
        assert moved_on[4], "the answer was recorded"
        for _ in range(2):  # a double tap, then a replay much later
            handled = await chat.send(Inbound("action", action=first))
            assert handled.reply is not None and handled.reply.event == "expired_action"
            assert handled.reply.replies[0].text == content.text("menu_expired")
            assert state(await chat.session()) == moved_on

    run(go())


def test_a_button_from_further_on_is_refused_out_of_order(content: Content, assistant: Assistant) -> None:
    async def go() -> None:
        ahead = Conversation(content, assistant, FLOWS["kent"], ref=ConversationRef("test", "w", "c", "ahead"))
        await ahead.start()
        await ahead.send(Inbound("action", action=ahead.choice_token("No")))  # immediate danger? no
        future = ahead.choice_token()  # a button of the second question
        behind = Conversation(content, assistant, FLOWS["kent"], ref=ConversationRef("test", "w", "c", "behind"))
        await behind.start()
        before = state(await behind.session())
        handled = await behind.send(Inbound("action", action=future))
        assert handled.reply is not None and handled.reply.event == "expired_action"
        assert state(await behind.session()) == before

    run(go())


def test_a_redelivered_event_is_answered_once(content: Content, assistant: Assistant) -> None:
    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS["ukcis"])
        await chat.start()
        token = chat.choice_token()
        press = Inbound("action", action=token)
        first = await chat.service.handle(chat.ref, press, event_id="e1", defaults=chat.defaults)
        after = state(await chat.session())
        again = await chat.service.handle(chat.ref, press, event_id="e1", defaults=chat.defaults)
        assert first.reply is not None and again.duplicate and again.reply is None
        assert state(await chat.session()) == after

    run(go())


# ------------------------------------------------------------------------------- property-based


@functools.cache
def _shared() -> tuple[Content, Assistant]:
    """Content and assistant for the property test (not fixtures: hypothesis would print them)."""
    content = load_content(today=TODAY)
    return content, Assistant(content, "hostile-property-secret")


_step = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=200)),
    st.tuples(st.just("words"), st.sampled_from(
        ["back", "start again", "contacts", "urgent", "help", "1", "2", "3", "9", "yes", "no", "childline",
         "out of hours", "my daughter sent a photo", "someone is blackmailing me", "what counts as aggravated",
         "i want to die", "EDT number", "forget me", "0", "-1"]
    )),
    st.tuples(st.just("current"), st.integers(0, 30)),
    st.tuples(st.just("stale"), st.integers(0, 10_000)),
    st.tuples(st.just("garbage"), st.text(max_size=80)),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.text(max_size=30)),
    st.tuples(st.just("media"), st.sampled_from(["photo", "video", "document", "sticker", ""])),
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: reproducible in CI
    database=None,  # no .hypothesis directory in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(flow=st.sampled_from([*FLOWS, "open"]), steps=st.lists(_step, min_size=1, max_size=12))
def test_random_text_and_buttons_never_break_a_conversation(flow: str, steps: list[tuple[object, ...]]) -> None:
    """Random typing and random presses (current, stale and garbage buttons) in every flow: the bot always
    answers and always stays in a valid state; a stale choice button never moves the conversation."""
    content, assistant = _shared()

    async def go() -> None:
        chat = Conversation(content, assistant, FLOWS.get(flow, Defaults()))
        await chat.start()
        for step in steps:
            kind = step[0]
            before = await chat.session()
            if kind in ("text", "words"):
                inbound = Inbound("text", text=str(step[1]))
            elif kind == "current":
                inbound = Inbound("action", action=chat.options[int(step[1]) % len(chat.options)]) if chat.options \
                    else Inbound("text", text="")
            elif kind == "stale":
                inbound = Inbound("action", action=chat.seen[int(step[1]) % len(chat.seen)]) if chat.seen \
                    else Inbound("action", action="")
            elif kind == "garbage":
                inbound = Inbound("action", action=str(step[1]))
            elif kind == "command":
                inbound = Inbound("command", command=str(step[1]), arg=str(step[2]))
            else:
                inbound = Inbound("media", media=str(step[1]))
            stale_choice = (
                inbound.kind == "action" and inbound.action.startswith("c.") and inbound.action not in chat.options
            )
            handled = await chat.send(inbound)
            assert handled.reply is not None
            if kind == "garbage" and inbound.action not in chat.seen and before is not None:
                assert handled.reply.event == "forged_action"
                assert_no_jump(before, await chat.session())
            if stale_choice and before is not None:
                payload = inbound.action.rpartition("~")[0].split(".")
                q_index = int(payload[2])
                flow_obj = content.flows[payload[1]]
                if before.flow != payload[1] or flow_obj.questions[q_index].id != before.node:
                    assert handled.reply.event == "expired_action"
                    assert_no_jump(before, await chat.session())

    run(go())
