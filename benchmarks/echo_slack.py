"""The Slack baseline: a minimal Bolt app (AsyncApp + its aiohttp adapter) that acknowledges every slash
command and button press and then posts one chat.postMessage, as Bolt's own examples do.

Same Bolt setup as ypsi-bot's HTTP mode: AsyncApp with an AsyncWebClient on SLACK_API_URL, a signing secret,
``process_before_response=False`` (ack first, listener after), aiohttp without an access log.

Run: ``SLACK_BOT_TOKEN=xoxb-... SLACK_SIGNING_SECRET=... SLACK_API_URL=http://127.0.0.1:P/api/
python benchmarks/echo_slack.py PORT``
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> web.Application:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=False)

    @app.command(re.compile(r"^/"))
    async def on_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text=f"echo: {command.get('text', '')}")

    @app.action(re.compile(r"^ypsi_"))
    async def on_action(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=body["channel"]["id"], text="echo: button")

    web_app = app.web_app(path="/slack/events")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app.router.add_get("/healthz", healthz)
    return web_app


if __name__ == "__main__":
    web.run_app(build(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
