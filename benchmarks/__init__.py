"""Benchmarks for ypsi-bot: `python -m benchmarks.run` (see benchmarks/README.md). Never run by pytest."""
