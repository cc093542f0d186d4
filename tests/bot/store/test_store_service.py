"""The store as the service uses it: state saved before any reply, saved state from older content, and
``ypsi-bot store stats``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from test_store_support import SECRET, StoreFactory

from adapters.cli import main
from bot.assistant import Assistant
from bot.service import Service
from bot.session import Session
from bot.store import MemoryStore, SQLiteStore
from bot.store.redis import RedisStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content
from tests.clock import FakeClock

REF = ConversationRef("slack", "T0TEAM0001", "D0CHAN0001", "U0USER0001")


def old_session(content: Content, node: str, answers: list[tuple[str, str]]) -> Session:
    return Session(who="practitioner", area="kent", flow="kent", node=node, answers=answers,
                   version="2025.01.0+deadbeef", created=1_800_000_000.0, updated=1_800_000_000.0)


async def test_state_from_older_content_whose_step_is_gone_restarts_politely(
    make_store: StoreFactory, assistant: Assistant, content: Content
) -> None:
    store = make_store()
    service = Service(assistant, store, SECRET)
    key = service.key(REF)
    await store.save(key, old_session(content, "a_question_that_was_removed", [("immediate_danger", "no")]))
    stale_button = assistant.signer.sign("c", "kent", "2", "0", "dead")  # a menu from the old content
    handled = await service.handle(REF, Inbound("action", action=stale_button), event_id="Ev1")
    assert handled.reply is not None
    texts = [r.text for r in handled.reply.replies]
    assert texts[0] == content.text("content_changed")
    saved = await store.load(key)
    assert saved is not None
    assert saved.version == content.version
    assert (saved.who, saved.area) == ("practitioner", "kent")  # who and where are kept
    assert (saved.flow, saved.node, saved.answers) == ("kent", content.flows["kent"].start, [])


async def test_state_from_older_content_whose_step_still_exists_carries_on(
    make_store: StoreFactory, assistant: Assistant, content: Content
) -> None:
    store = make_store()
    service = Service(assistant, store, SECRET)
    key = service.key(REF)
    await store.save(key, old_session(content, "adult_involved", [("immediate_danger", "no")]))
    handled = await service.handle(REF, Inbound("text", text="no"), event_id="Ev1")
    assert handled.reply is not None
    assert content.text("content_changed") not in [r.text for r in handled.reply.replies]
    saved = await store.load(key)
    assert saved is not None and saved.version == content.version
    assert saved.answers == [("immediate_danger", "no"), ("adult_involved", "no")]


class GatedSave(MemoryStore):
    """A store whose save waits for the test, and can fail."""

    def __init__(self) -> None:
        super().__init__()
        self.saving = asyncio.Event()
        self.may_save = asyncio.Event()
        self.fail = False

    async def save(self, key: str, session: Session) -> None:
        self.saving.set()
        await self.may_save.wait()
        if self.fail:
            raise OSError("disk full")
        await super().save(key, session)


async def test_no_reply_is_handed_out_before_the_state_is_saved(assistant: Assistant) -> None:
    store = GatedSave()
    service = Service(assistant, store, SECRET)
    turn = asyncio.create_task(service.handle(REF, Inbound("command", command="start"), event_id="Ev1"))
    await store.saving.wait()
    assert not turn.done()  # the replies wait for the write
    store.may_save.set()
    handled = await turn
    assert handled.reply is not None and await store.load(handled.key) is not None


async def test_a_failed_save_says_so_and_keeps_the_previous_turn(assistant: Assistant, content: Content) -> None:
    store = GatedSave()
    store.may_save.set()
    service = Service(assistant, store, SECRET)
    first = await service.handle(REF, Inbound("command", command="start"), event_id="Ev1")
    before = await store.load(first.key)
    store.fail = True
    failed = await service.handle(REF, Inbound("command", command="triage"), event_id="Ev2")
    assert failed.fault == "store" and failed.reply is not None  # handle() does not raise: every adapter replies
    assert [r.text for r in failed.reply.replies] == [content.text("store_down")]
    assert await store.load(first.key) == before
    store.fail = False
    again = await service.handle(REF, Inbound("command", command="triage"), event_id="Ev2")
    assert not again.duplicate and again.reply is not None and again.fault is None  # the retry is handled as new


# --------------------------------------------------------------------------------- ypsi-bot store stats


def _stats_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
               url: str) -> dict[str, object]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("YPSI_STORE", url)
    monkeypatch.setenv("YPSI_SESSION_TTL", "3600")
    assert main(["store", "stats"]) == 0
    out = capsys.readouterr().out
    result: dict[str, object] = json.loads(out)
    return result


IDENTIFYING = ("practitioner", "kent", "leeds", "immediate_danger", "Ev1", "T0TEAM")


def _sessions(now: float) -> list[tuple[str, Session, float]]:
    """(key, session, save time): two live sessions, 600 s and 60 s old, and one that has expired."""
    live_a = Session(who="practitioner", area="kent", flow="kent", node="adult_involved",
                     answers=[("immediate_danger", "no")], created=now - 600, seen=["Ev1"])
    live_b = Session(who="parent", area="leeds", created=now - 60)
    expired = Session(who="young_person", area="kent", created=now - 9000)
    return [("a" * 32, live_a, now), ("b" * 32, live_b, now), ("c" * 32, expired, now - 7200)]


def _check(result: dict[str, object], backend: str) -> None:
    assert set(result) == {"backend", "live_sessions", "oldest_age_seconds", "median_age_seconds", "healthy"}
    assert result["backend"] == backend and result["live_sessions"] == 2 and result["healthy"] is True
    oldest, median = result["oldest_age_seconds"], result["median_age_seconds"]
    assert isinstance(oldest, int) and isinstance(median, int)
    assert 600 <= oldest < 900 and 330 <= median < 630  # ages only (the run itself takes a moment)
    text = json.dumps(result)
    for word in (*IDENTIFYING, "a" * 12, "b" * 12):
        assert word not in text  # nothing identifying, no keys, no answers


def test_store_stats_cli_sqlite(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    now = time.time()
    for key, session, at in _sessions(now):
        store = SQLiteStore(db, 3600.0, FakeClock(at))
        asyncio.run(store.save(key, session))
        asyncio.run(store.close())
    _check(_stats_cli(monkeypatch, capsys, tmp_path, f"sqlite://{db}"), "sqlite")


def test_store_stats_cli_redis(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                               tmp_path: Path, redis_url: str) -> None:
    now = time.time()

    async def fill() -> None:
        for key, session, at in _sessions(now):
            store = RedisStore(redis_url, 3600.0, FakeClock(at))
            await store.save(key, session)
            await store.close()

    asyncio.run(fill())
    _check(_stats_cli(monkeypatch, capsys, tmp_path, redis_url), "redis")
