"""The Telegram baseline: a minimal python-telegram-bot echo bot with the same Application setup as ypsi-bot
(long polling, concurrent updates, no job queue), so that the end-to-end benchmark can say how close ypsi-bot
gets to what PTB itself can do on this machine.

It makes the same Bot API calls per update as ypsi-bot does for a triage: a message is answered with one
sendMessage; a button press with answerCallbackQuery, then editMessageText of the pressed message.

Run: ``TELEGRAM_BOT_TOKEN=... TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot python benchmarks/echo_telegram.py``
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None:
        await context.bot.send_message(message.chat_id, f"echo: {message.text or ''}")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.message is not None:
        await context.bot.edit_message_text(
            f"echo: {query.data}", chat_id=query.message.chat.id, message_id=query.message.message_id
        )


def main() -> None:
    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ.get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot"))
        .concurrent_updates(256)  # ypsi-bot: PerChatUpdateProcessor(256), PTB's concurrent updates per chat
        .job_queue(None)
        # ypsi-bot's client timeouts (adapters/telegram/retry.py SEND_TIMEOUTS): with PTB's defaults (pool 1 s,
        # read 5 s) a busy machine made the echo drop replies, and the run waited for them in vain
        .connect_timeout(10.0)
        .read_timeout(30.0)
        .write_timeout(30.0)
        .pool_timeout(10.0)
        .build()
    )
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.ALL, on_message))
    app.run_polling(allowed_updates=["message", "callback_query"], timeout=30)


if __name__ == "__main__":
    main()
