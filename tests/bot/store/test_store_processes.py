"""Real bot processes (tests/bot/store/test_store_worker.py) sharing one store: two Redis instances taking
alternate turns of one conversation, and a process killed with SIGKILL mid-dialogue, then reopened.

No sleeps: every step waits on a line the worker prints after the turn was saved.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from test_store_support import SECRET, worker_command, worker_env

from bot.assistant import Assistant
from bot.service import Service
from bot.session import Session, event_digest
from bot.store import SessionStore, conversation_key, open_store
from bot.store.redis import RedisStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content

REF = ConversationRef("telegram", "4242424242", "31337000", "31337000")  # as in the worker
KEY = conversation_key(REF, SECRET)
WATCHDOG_S = 60.0  # a hung worker is killed, so the suite fails instead of hanging


class Worker:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            worker_command(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env or worker_env(),
        )
        self._watchdog = threading.Timer(WATCHDOG_S, self.proc.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the worker ended (exit code {self.proc.poll()})"
        return line

    def turn(self, inbound: dict[str, str], event_id: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"inbound": inbound, "event_id": event_id}) + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self.line())
        return result

    def kill_after(self, turns: int) -> int:
        """SIGKILL once the worker says ``turns`` turns are saved; the last count it had reported."""
        done = -1
        while done < turns:
            done = int(self.line().split()[1])
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return done

    def close(self) -> None:
        self._watchdog.cancel()
        if self.proc.poll() is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=WATCHDOG_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for w in started:
        w.close()


def redis_session(url: str) -> Session | None:
    with redis.Redis.from_url(url) as client:
        raw = client.get(f"ypsi:s:{KEY}")
    if not isinstance(raw, bytes):
        return None
    parsed = RedisStore._parse(raw)
    assert parsed is not None
    return Session.loads(parsed[1])


# --------------------------------------------------------------------------- two instances, one Redis


PLAN = {"immediate_danger": "no", "adult_involved": "no", "aggravating_factors": "yes",
        "age_band": "13_to_17", "risk_level": "low_medium", "harm_vulnerability_or_no_consent": "no"}


def test_two_processes_take_alternate_turns_of_one_conversation(
    redis_url: str, workers: list[Worker], content: Content
) -> None:
    a, b = Worker("serve", redis_url), Worker("serve", redis_url)
    workers += [a, b]
    r = a.turn({"kind": "command", "command": "start"}, "5000")
    label = {"who": "I work with children", "area": "Kent"}
    expected: list[list[str]] = []
    for n, (me, other) in enumerate([(b, a), (a, b)] * 5):
        if r["who"] is None or r["area"] is None:
            wanted = label["who" if r["who"] is None else "area"]
            option = next(o for o in r["options"] if o["label"] == wanted)
        elif r["choices"]:
            option = [o for o in r["options"] if not o["nav"]][r["choices"].index(PLAN[r["node"]])]
            expected.append([r["node"], PLAN[r["node"]]])
        else:
            break  # an outcome
        r = me.turn({"kind": "action", "action": option["action"]}, str(5001 + n))
        assert r["event"] in ("who", "area", "answer", "outcome")
        assert r["answers"] == expected  # this process saw every answer the other one saved
        # The platform re-delivers the same update to the other instance: it is recognised.
        again = other.turn({"kind": "action", "action": option["action"]}, str(5001 + n))
        assert again == {"duplicate": True}
    assert r["event"] == "outcome"
    session = redis_session(redis_url)
    assert session is not None
    assert [list(a) for a in session.answers] == expected
    assert [q for q, _ in expected] == ["immediate_danger", "adult_involved", "aggravating_factors",
                                        "age_band", "risk_level", "harm_vulnerability_or_no_consent"]
    flow = content.flows["kent"]
    assert session.flow == "kent" and session.node is not None and flow.outcome(session.node) is not None
    assert session.seen[-1] == event_digest(str(5001 + len(expected) + 1))


# ------------------------------------------------------------------------------- kill -9, then reopen


def canonical_path(content: Content) -> tuple[list[tuple[str, str]], list[str]]:
    """The worker's walk in the national practitioner flow: always the last choice ("no")."""
    flow = content.flows[content.areas["national"].practitioner_flow]
    answers: list[tuple[str, str]] = []
    nodes = [flow.start]
    while (q := flow.question(nodes[-1])) is not None:
        choice = q.choices[-1]
        answers.append((q.id, choice.id))
        nodes.append(choice.branches()[0].to)
    return answers, nodes


def assert_consistent(session: Session | None, content: Content, last_reported: int, first_id: int) -> None:
    assert session is not None
    answers, nodes = canonical_path(content)
    n = len(session.answers)
    assert session.answers == answers[:n]  # a prefix of the one walk the worker makes
    if session.flow is None:
        assert n == 0 and session.area in (None, "national")
    else:
        assert (session.who, session.area) == ("practitioner", "national")
        assert session.node == nodes[n]
    # Every turn reported done was saved first: at most the turn in flight is lost.
    # (ids are kept as digests: find which of the worker's ids the last one is)
    last_saved = next(i for i in range(first_id, first_id + 1000) if event_digest(str(i)) == session.seen[-1])
    assert last_saved >= first_id + last_reported


async def resume(store: SessionStore, content: Content) -> None:
    """A new process carries on with the same conversation after the crash."""
    service = Service(Assistant(content, SECRET), store, SECRET)
    handled = await service.handle(REF, Inbound("command", command="start"), event_id="resumed")
    assert handled.reply is not None and handled.reply.event == "start"
    session = await store.load(KEY)
    assert session is not None and session.seen[-1] == event_digest("resumed")


async def test_sigkill_mid_dialogue_never_corrupts_sqlite(
    tmp_path: Path, workers: list[Worker], content: Content
) -> None:
    db = tmp_path / "state.db"
    first_id = 1_000_000
    for kill_at in (40, 97, 151):
        worker = Worker("loop", f"sqlite://{db}", str(first_id))
        workers.append(worker)
        reported = worker.kill_after(kill_at)
        assert worker.proc.returncode == -signal.SIGKILL
        with sqlite3.connect(db) as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        store = open_store(f"sqlite://{db}", ttl=3600.0)
        try:
            assert await store.health()
            assert_consistent(await store.load(KEY), content, reported, first_id)
        finally:
            await store.close()
        first_id += 1_000_000
    store = open_store(f"sqlite://{db}", ttl=3600.0)
    try:
        await resume(store, content)
    finally:
        await store.close()


async def test_sigkill_mid_dialogue_on_redis_leaves_a_session_and_at_most_a_leased_lock(
    redis_url: str, workers: list[Worker], content: Content
) -> None:
    env = worker_env() | {"YPSI_TEST_LOCK_LEASE": "1"}
    worker = Worker("loop", redis_url, "2000000", env=env)
    workers.append(worker)
    reported = worker.kill_after(120)
    with redis.Redis.from_url(redis_url) as client:
        assert {k.decode() for k in client.scan_iter(match="*")} <= {f"ypsi:s:{KEY}", f"ypsi:l:{KEY}"}
        lock_ttl = client.pttl(f"ypsi:l:{KEY}")
        assert lock_ttl == -2 or 0 < lock_ttl <= 1000  # gone, or freed by its lease within a second
    assert_consistent(redis_session(redis_url), content, reported, 2_000_000)
    store = RedisStore(redis_url, 3600.0, lock_wait=5.0)
    try:
        await resume(store, content)  # waits out the dead process's lease if it held the lock
    finally:
        await store.close()
