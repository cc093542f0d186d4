"""Fake platform servers for tests (loopback only)."""
