"""Regenerate the flow diagrams in README.md from the machines themselves.

Each diagram sits between ``<!-- flow:ID -->`` and ``<!-- /flow:ID -->``. Run ``python -m tools.diagrams``
after changing a flow; a test fails while the README is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.engine import Dialogs
from dialogs.lint import load_content

README = Path(__file__).resolve().parent.parent / "README.md"
# An empty block (just the two markers) is filled too.
_BLOCK = re.compile(r"(<!-- flow:(?P<id>[a-z0-9_]+) -->\n)(?:.*?\n)?(<!-- /flow:(?P=id) -->)", re.S)


def render_readme(text: str) -> str:
    dialogs = Dialogs(load_content())

    def block(m: re.Match[str]) -> str:
        return f"{m.group(1)}```mermaid\n{dialogs.engine(m.group('id')).mermaid().strip()}\n```\n{m.group(3)}"

    return _BLOCK.sub(block, text)


if __name__ == "__main__":
    README.write_text(render_readme(README.read_text()))
    print(f"updated {README}")
