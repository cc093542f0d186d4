"""Thin translators between platforms and the neutral ``bot.types``: Telegram, Slack, console."""
