"""A bot process for the store suite's multi-process tests (no tests in here; run as a script).

    python tests/bot/store/test_store_worker.py serve STORE_URL
        one turn per input line ({"inbound": {...}, "event_id": "..."}); one JSON line out per turn.
    python tests/bot/store/test_store_worker.py loop STORE_URL FIRST_EVENT_ID
        turns without end, always the last choice offered (start again after an outcome), printing
        "done N" after each turn has been saved; the test kills it with SIGKILL.

Both build Assistant + Service + the store from the real content, with the suite's shared secret, and
talk for one fixed conversation. YPSI_TEST_LOCK_LEASE sets the Redis lock lease (seconds).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from test_store_support import SECRET

from bot.assistant import Assistant
from bot.service import Handled, Service
from bot.store import SessionStore, open_store
from bot.store.redis import RedisStore
from bot.types import ConversationRef, Inbound
from dialogs.content import Content
from dialogs.lint import load_content

REF = ConversationRef("telegram", "4242424242", "31337000", "31337000")
MAX_TURNS = 200_000  # a loop stops by itself even if nobody kills it


def make_store(url: str) -> SessionStore:
    if url.startswith("redis://"):
        return RedisStore(url, 3600.0, lock_lease=float(os.environ.get("YPSI_TEST_LOCK_LEASE", "10")))
    return open_store(url, ttl=3600.0)


def describe(content: Content, handled: Handled) -> dict[str, Any]:
    reply = handled.reply
    if reply is None:
        return {"duplicate": True}
    options = [o for r in reply.replies for o in r.options]
    s = reply.session
    flow = content.flows.get(s.flow) if s and s.flow else None
    question = flow.question(s.node) if flow and s and s.node else None
    return {
        "duplicate": False,
        "event": reply.event,
        "who": s.who if s else None,
        "area": s.area if s else None,
        "flow": s.flow if s else None,
        "node": s.node if s else None,
        "answers": [list(a) for a in s.answers] if s else [],
        "choices": [c.id for c in question.choices] if question else [],
        "options": [{"action": o.action, "label": o.label, "nav": o.nav} for o in options],
    }


async def serve(service: Service, content: Content) -> None:
    for line in sys.stdin:
        request = json.loads(line)
        handled = await service.handle(REF, Inbound(**request["inbound"]), event_id=request["event_id"])
        print(json.dumps(describe(content, handled)), flush=True)


async def loop(service: Service, first_event_id: int) -> None:
    handled = await service.handle(REF, Inbound("command", command="start"), event_id=str(first_event_id))
    print("done 0", flush=True)
    for n in range(1, MAX_TURNS):
        assert handled.reply is not None
        choices = [o for r in handled.reply.replies for o in r.options if not o.nav]
        restart = Inbound("command", command="restart")
        inbound = Inbound("action", action=choices[-1].action) if choices else restart
        handled = await service.handle(REF, inbound, event_id=str(first_event_id + n))
        print(f"done {n}", flush=True)


async def main(argv: list[str]) -> int:
    mode, url = argv[0], argv[1]
    content = load_content()
    store = make_store(url)
    service = Service(Assistant(content, SECRET), store, SECRET)
    try:
        if mode == "serve":
            await serve(service, content)
        else:
            await loop(service, int(argv[2]))
    finally:
        await store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
