"""Fixtures for the Telegram tests; the helpers live in telegram_harness.py (a unique module name, so that
`from telegram_harness import ...` cannot pick up another folder's conftest)."""

from telegram_harness import bot, content, make_bot, no_proxy, ptb_timedelta, tg  # noqa: F401
