"""ypsi-bot: a safeguarding assistant for incidents of youth-produced sexual imagery."""

__version__ = "0.1.0"
