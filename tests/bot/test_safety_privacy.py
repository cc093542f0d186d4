"""Privacy: whole conversations, logged at DEBUG, leave no typed text, raw id or secret in the logs or the
store (PRIVACY.md says what is kept; this checks it)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from adapters.console import console_service, run_console
from bot.action import Nav
from bot.assistant import Assistant, Defaults
from bot.service import Service
from bot.store import MemoryStore, SessionStore, SQLiteStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content

ASSISTANT_SECRET = "privacy-assistant-secret-Xk71qQ"
SERVICE_SECRET = "privacy-service-secret-Zq93wW"
RAW_IDS = ["T0RAWTEAM771", "C0RAWCHAT552", "U0RAWUSER313", "D0RAWDM9041", "774411223"]

# What people might type: names, places, numbers, crisis words, slang, hostile text.
TYPED = [
    "my name is Jessica Okonkwo-Barnes and I go to St Wilfrid's Academy",
    "my daughter Amelia sent a photo to Tyler",
    "he's outside my house at 14 Acacia Avenue",
    "wot do i do my nudes got leaked by Brandon",
    "my phone number is 07700 900123 call me",
    "someone called Kieran is blackmailing me for £50",
    "EDT number",
    "what counts as aggravated",
    "childline",
    "forget me",
    "Zalgo h̴e̵l̶p̷ Xylophonic",
    "\u202eQuixotically reversed\u202c",
]
# Words from TYPED that cannot appear in any log line by chance (content ids are all lower-case words).
DISTINCTIVE = ["Jessica", "Okonkwo", "Wilfrid", "Amelia", "Tyler", "Acacia", "Brandon", "07700", "900123",
               "Kieran", "Xylophonic", "Quixotically"]  # fmt: skip



async def _conversation(service: Service, ref: ConversationRef, defaults: Defaults, n: int) -> None:
    """Start, press buttons, type everything in TYPED, send media with a caption, replay an event, forget."""
    handled = await service.handle(ref, Inbound("command", command="start", arg="leeds"), defaults=defaults)
    for step in range(8):  # press the first button of each menu, as a user feeling their way would
        assert handled.reply is not None
        buttons = [o.action for r in handled.reply.replies for o in r.options if not o.nav]
        if not buttons:
            break
        handled = await service.handle(ref, Inbound("action", action=buttons[0]), event_id=f"ev{n}-{step}",
                                       defaults=defaults)
    for i, text in enumerate(TYPED[:-3] if n % 2 else TYPED):
        await service.handle(ref, Inbound("text", text=text), event_id=f"tx{n}-{i}", defaults=defaults)
        await service.handle(ref, Inbound("command", command="contacts", arg=text), defaults=defaults)
    await service.handle(ref, Inbound("media", media="photo", text=TYPED[0]), defaults=defaults)
    await service.handle(ref, Inbound("action", action=f"c.kent.0.0.Jessica~{TYPED[3][:10]}"), defaults=defaults)
    await service.handle(ref, Inbound("text", text=TYPED[1]), event_id=f"dup{n}", defaults=defaults)
    again = await service.handle(ref, Inbound("text", text=TYPED[1]), event_id=f"dup{n}", defaults=defaults)
    assert again.duplicate
    await service.handle(ref, Inbound("command", command="record"), defaults=defaults)
    await service.forget(ref)


def _assert_clean(text: str, keys: list[str], tokens: list[str]) -> None:
    assert text.strip(), "nothing was captured: the test would prove nothing"
    for typed in TYPED:
        assert typed not in text
    for word in DISTINCTIVE:
        assert word.lower() not in text.lower(), word
    for raw in RAW_IDS:
        assert raw not in text, raw
    for secret in (ASSISTANT_SECRET, SERVICE_SECRET):
        assert secret not in text
    for key in keys:
        assert key not in text, "a full conversation key (only a 12-character prefix may be logged)"
    for token in tokens:
        assert token.rpartition("~")[2] not in text, "a button signature"


async def test_service_conversations_log_no_text_ids_or_secrets(
    content: Content, captured_logs: io.StringIO, tmp_path: Path
) -> None:
    assistant = Assistant(content, ASSISTANT_SECRET)
    stores: list[SessionStore] = [MemoryStore(), SQLiteStore(tmp_path / "state.db")]
    refs = [
        (ConversationRef("telegram", "774411223", "774411223", "U0RAWUSER313"), Defaults()),
        (ConversationRef("slack", "T0RAWTEAM771", "D0RAWDM9041", "U0RAWUSER313"),
         Defaults(who="practitioner", area="kent", fixed_who=True)),
        (ConversationRef("telegram", "774411223", "C0RAWCHAT552", "U0RAWUSER313"), Defaults(who="parent")),
        (ConversationRef("telegram", "774411223", "C0RAWCHAT552", "D0RAWDM9041"), Defaults(who="young_person")),
    ]
    keys: list[str] = []
    for store in stores:
        service = Service(assistant, store, SERVICE_SECRET)
        for n, (ref, defaults) in enumerate(refs):
            keys.append(service.key(ref))
            await _conversation(service, ref, defaults, n)
        await store.close()
    logs = captured_logs.getvalue()
    assert '"event":"turn"' in logs and '"event":"duplicate"' in logs and '"event":"forget"' in logs
    for line in logs.splitlines():  # only our JSON lines, each with a hashed prefix at most
        for conv in re.findall(r'"conv":"([^"]*)"', line):
            assert len(conv) == 12 and any(k.startswith(conv) for k in keys)
    _assert_clean(logs, keys, [assistant.button(Nav("restart"))])
    # The SQLite file holds none of it either (the sessions were forgotten; check the bytes anyway).
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file()).decode("latin-1")
    _assert_clean(raw + logs, keys, [])


async def test_a_failing_turn_logs_the_error_type_only(
    content: Content, captured_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    assistant = Assistant(content, ASSISTANT_SECRET)
    service = Service(assistant, MemoryStore(), SERVICE_SECRET)
    ref = ConversationRef("telegram", "774411223", "C0RAWCHAT552", "U0RAWUSER313")

    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError(f"could not handle {TYPED[0]} from U0RAWUSER313 with {ASSISTANT_SECRET}")

    await service.handle(ref, Inbound("command", command="start"))
    monkeypatch.setattr(assistant, "handle", explode)
    handled = await service.handle(ref, Inbound("text", text=TYPED[0]))
    assert handled.reply is not None and handled.reply.event == "error"
    logs = captured_logs.getvalue()
    assert '"event":"turn_failed"' in logs and '"error":"ValueError"' in logs
    _assert_clean(logs, [service.key(ref)], [])


def test_a_console_conversation_logs_no_typed_text(content: Content, captured_logs: io.StringIO) -> None:
    lines = ["1", "1", *TYPED[:-3], "2", "1", "back", "contacts", "exit"]
    out = io.StringIO()
    assert run_console(console_service(content), stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out) == 0
    assert "Childline" in out.getvalue(), "the conversation really ran"
    logs = captured_logs.getvalue()
    assert '"platform":"console"' in logs
    _assert_clean(logs, [], [])
