"""``python -m benchmarks.fakes slack``: serve a TimedSlack for the Slack benchmarks (see ``__init__``)."""

import asyncio
import sys

from benchmarks.fakes import _serve_slack

if sys.argv[1:] == ["slack"]:
    asyncio.run(_serve_slack())
else:
    sys.exit("usage: python -m benchmarks.fakes slack")
