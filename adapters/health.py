"""``GET /healthz``, the same on every platform that serves HTTP (Telegram's webhook, Slack's HTTP mode)."""

from __future__ import annotations

from aiohttp import web

from bot.store import SessionStore

HEALTH_PATH = "/healthz"


async def health_response(store: SessionStore, *, running: bool = True) -> web.Response:
    """200 ``{"ok": true, "store": <backend>}`` while the store answers and the bot runs; else 503 with
    ``"ok": false``. Nothing else: no counts, no ids."""
    ok = running and await store.healthy()
    return web.json_response({"ok": ok, "store": store.backend}, status=200 if ok else 503)
