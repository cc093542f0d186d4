"""Regenerate the diagrams in README.md: the flows from the machines themselves, and the import diagram from
the code (:mod:`tools.imports`).

Each flow sits between ``<!-- flow:ID -->`` and ``<!-- /flow:ID -->``, the import diagram between
``<!-- imports -->`` and ``<!-- /imports -->``. Run ``python -m tools.diagrams`` after changing a flow or an
import between packages; a test fails while the README is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.engine import Dialogs
from dialogs.lint import load_content
from tools.imports import mermaid, project_imports

README = Path(__file__).resolve().parent.parent / "README.md"
# An empty block (just the two markers) is filled too.
_BLOCK = re.compile(r"(<!-- flow:(?P<id>[a-z0-9_]+) -->\n)(?:.*?\n)?(<!-- /flow:(?P=id) -->)", re.S)
_IMPORTS = re.compile(r"(<!-- imports -->\n)(?:.*?\n)?(<!-- /imports -->)", re.S)


def render_readme(text: str) -> str:
    dialogs = Dialogs(load_content())

    def block(m: re.Match[str]) -> str:
        return f"{m.group(1)}```mermaid\n{dialogs.engine(m.group('id')).mermaid().strip()}\n```\n{m.group(3)}"

    text = _BLOCK.sub(block, text)
    diagram = mermaid(project_imports())
    return _IMPORTS.sub(lambda m: f"{m.group(1)}```mermaid\n{diagram}\n```\n{m.group(2)}", text)


if __name__ == "__main__":
    README.write_text(render_readme(README.read_text()))
    print(f"updated {README}")
