"""Part 4: memory. RSS with 100,000 stored conversations, and bytes per conversation in the store.

Each store is measured in a fresh child process (``python -m benchmarks.memory CHILD-ARGS``), so that one
measurement's garbage cannot inflate the next: RSS is read from /proc/self/status after content, assistant
and store are ready (baseline), and again after N conversations are stored.

The stored sessions are real ones: one conversation of each kind is run through ``Service.handle`` with
platform event ids (as the Telegram adapter passes update ids), and N copies of those sessions are saved
under N distinct conversation keys (the copies differ in their keys and timestamps, as real ones would).
Kinds: a finished Kent triage (6 turns), a finished signposting conversation (4 turns) and a long
conversation that has filled the de-duplication window (32 event ids): the worst case.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, ROOT, Section, child_env, fmt_int

TARGET_BYTES = 512
RSS_FIELDS = ("VmRSS", "VmHWM")


def _rss_kib() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in RSS_FIELDS:
            out[name] = int(value.split()[0])
    return out


async def _sessions(service: Any, engine: Any) -> dict[str, Any]:
    """Real sessions after whole conversations through the service, with Telegram-like event ids."""
    from bot.assistant import Defaults
    from bot.types import ConversationRef, Inbound

    triage, signpost = engine.build_scripts(service.assistant)
    out: dict[str, Any] = {}
    update_id = 512_000_000  # Telegram update ids are 9-10 digit integers
    for name, inputs in (("triage", triage.variants[0]), ("signposting", signpost.variants[0])):
        ref = ConversationRef("telegram", "7000000001", f"10{len(out)}", f"10{len(out)}")
        for inbound in inputs:
            update_id += 1
            await service.handle(ref, inbound, event_id=str(update_id), defaults=Defaults())
        out[name] = await service.store.load(service.key(ref))
    long_ref = ConversationRef("telegram", "7000000001", "999", "999")
    for inbound in triage.variants[0]:
        update_id += 1
        await service.handle(long_ref, inbound, event_id=str(update_id), defaults=Defaults())
    for _ in range(40):  # a finished triage, then turns that keep its answers until the window is full
        update_id += 1
        await service.handle(long_ref, Inbound("command", command="help"), event_id=str(update_id))
    out["worst case: finished triage + 32 Telegram update ids"] = await service.store.load(service.key(long_ref))
    # Slack's ids are longer: "act:" + 16 hex digits (a hash of the trigger id), as adapters/slack/app.py makes them.
    slack_ref = ConversationRef("slack", "T0FAKETEAM", "", "U0FAKEUSER")
    for i, inbound in enumerate(triage.variants[0]):
        await service.handle(slack_ref, inbound, event_id=f"act:{i:016x}", defaults=Defaults(who="practitioner"))
    for i in range(40):
        await service.handle(slack_ref, Inbound("command", command="help"), event_id=f"cmd:{i + 99:016x}")
    out["worst case: finished triage + 32 Slack event ids"] = await service.store.load(service.key(slack_ref))
    await service.store.forget(service.key(slack_ref))
    return out


async def _child(store_kind: str, n: int, folder: str) -> dict[str, Any]:
    from benchmarks import engine
    from bot.assistant import Assistant
    from bot.service import Service
    from bot.session import Session
    from bot.store import MemoryStore, SQLiteStore, conversation_key
    from bot.types import ConversationRef
    from dialogs.lint import load_content

    assistant = Assistant(load_content(), engine.SECRET)
    path = Path(folder) / "state.db"
    store: Any = SQLiteStore(path) if store_kind == "sqlite" else MemoryStore()
    service = Service(assistant, store, engine.SECRET)
    samples = await _sessions(service, engine)
    sizes = {k: len(s.dumps().encode()) for k, s in samples.items()}
    await store.forget(service.key(ConversationRef("telegram", "7000000001", "999", "999")))
    for i in (0, 1):
        await store.forget(service.key(ConversationRef("telegram", "7000000001", f"10{i}", f"10{i}")))
    gc.collect()
    base = _rss_kib()
    mix = [samples["triage"], samples["signposting"]]
    keys = [conversation_key(ConversationRef("telegram", "7000000001", str(i), str(i)), engine.SECRET)
            for i in range(n)]
    if store_kind == "sqlite":
        store._db.execute("BEGIN")
    dict_sessions: dict[str, Session] = {}
    for i, key in enumerate(keys):
        session = mix[i % 2]
        session.updated += 0.001  # each copy is its own serialised string, as real sessions are
        if store_kind == "dict":  # the engine benchmark's memory mode: live Session objects in a dict
            dict_sessions[key] = Session.loads(session.dumps())
        else:
            await store.save(key, session)
    if store_kind == "sqlite":
        store._db.execute("COMMIT")
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    gc.collect()
    after = _rss_kib()
    live = (await store.stats()).live if store_kind != "dict" else len(dict_sessions)
    result: dict[str, Any] = {
        "store": store_kind,
        "n": n,
        "live": live,
        "rss_base_kib": base["VmRSS"],
        "rss_after_kib": after["VmRSS"],
        "hwm_kib": after["VmHWM"],
        "session_bytes": sizes,
    }
    if store_kind == "sqlite":
        files = [p for p in Path(folder).iterdir() if p.name.startswith("state.db")]
        result["file_bytes"] = sum(p.stat().st_size for p in files)
        result["data_bytes"] = store._db.execute("SELECT SUM(LENGTH(data)) FROM sessions").fetchone()[0]
    await store.close()
    return result


def measure(store_kind: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ypsi-bench-mem-") as tmp:
        proc = subprocess.run(
            [PYTHON, "-m", "benchmarks.memory", "--child", store_kind, str(n), tmp],
            cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600, check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed ({store_kind}): {proc.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def run(quick: bool = False, n: int | None = None, progress: Any = print) -> Section:
    n = n or (10_000 if quick else 100_000)
    section = Section("4. Memory")
    results = {kind: measure(kind, n) for kind in ("memory", "sqlite", "dict")}
    for kind, r in results.items():
        progress(f"  memory {kind:6s}: RSS {r['rss_base_kib'] / 1024:.1f} → {r['rss_after_kib'] / 1024:.1f} MiB "
                 f"with {r['live']:,} conversations")
    sizes: dict[str, int] = results["memory"]["session_bytes"]
    for kind, label in sizes.items():
        section.add(f"serialised session, {kind}", f"{label} B", f"≤ {TARGET_BYTES} B", label <= TARGET_BYTES,
                    "compact JSON as stored (Session.dumps)")
    names = {
        "memory": "MemoryStore (serialised JSON in a dict)",
        "sqlite": "SQLiteStore",
        "dict": "Session objects in a dict (engine's memory mode)",
    }
    for kind, r in results.items():
        delta = (r["rss_after_kib"] - r["rss_base_kib"]) * 1024
        section.add(
            f"RSS with {r['live']:,} conversations, {names[kind]}",
            f"{r['rss_after_kib'] / 1024:.1f} MiB",
            "",
            None,
            f"baseline {r['rss_base_kib'] / 1024:.1f} MiB; +{delta / r['live']:,.0f} B per conversation in RAM",
        )
    sq = results["sqlite"]
    per = sq["file_bytes"] / sq["live"]
    section.add(
        f"SQLite file size ÷ {sq['live']:,} conversations",
        f"{per:,.0f} B",
        f"≤ {TARGET_BYTES} B",
        per <= TARGET_BYTES,
        f"file {fmt_int(sq['file_bytes'] / 1024)} KiB after checkpoint; data column "
        f"{sq['data_bytes'] / sq['live']:,.0f} B/row, the rest is key, expiry and B-tree pages",
    )
    section.notes.append(
        "Stored sessions alternate a finished Kent triage and a finished signposting conversation, each with the "
        "event ids of its turns; each store measured in a fresh process (RSS from /proc/self/status)."
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        kind, count, where = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        out = asyncio.run(_child(kind, count, where))
        print(json.dumps(out))
        sys.stdout.flush()
        os._exit(0)
    sec = run(quick="--quick" in sys.argv)
    for row in sec.rows:
        print(row)
