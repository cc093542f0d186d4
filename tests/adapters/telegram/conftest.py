"""Fixtures for the Telegram tests; the helpers live in telegram_harness.py (a unique module name, so that
`from telegram_harness import ...` cannot pick up another folder's conftest)."""

from telegram_harness import bot, make_bot, ptb_timedelta, tg  # noqa: F401
