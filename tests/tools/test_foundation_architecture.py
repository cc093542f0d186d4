"""Imports point one way: adapters → bot → dialogs → content, with no cycle, nothing shipped importing tests,
and bot/ and dialogs/ never importing a platform SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools.imports import Import, back_arrows, cycles, mermaid, project_imports

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = {"telegram", "slack_bolt", "slack_sdk"}


@pytest.mark.parametrize("package", ["bot", "dialogs"])
def test_core_packages_import_no_platform_sdk(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in PLATFORM]
    assert offenders == []


def test_every_import_points_down_the_layers() -> None:
    """adapters → bot → dialogs → content; also imports inside functions and under TYPE_CHECKING."""
    assert [f"{i.source}:{i.line} imports {i.target}" for i in back_arrows(project_imports())] == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(project_imports()) == []


def test_shipped_code_never_imports_tests() -> None:
    offenders = [f"{i.source}:{i.line}" for i in project_imports() if i.target.split(".")[0] == "tests"]
    assert offenders == []


def test_the_import_checks_see_lazy_back_arrows_cycles_and_tests(tmp_path: Path) -> None:
    """The checks above catch what they are for, in a small tree with one fault of each kind."""
    files = {
        "bot/__init__.py": "",
        "bot/core.py": "def run():\n    from adapters.cli import main\n    return main\n",
        "bot/a.py": "from bot import b\n",
        "bot/b.py": "from .a import x\n",
        "adapters/__init__.py": "",
        "adapters/cli.py": "from bot.core import run\nmain = run\n",
        "benchmarks/__init__.py": "",
        "benchmarks/e2e.py": "import tests.fakes.slack_api\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    imports = project_imports(tmp_path)
    assert back_arrows(imports) == [Import("bot.core", "adapters.cli", 2)]
    assert cycles(imports) == [["adapters.cli", "bot.core"], ["bot.a", "bot.b"]]
    assert Import("benchmarks.e2e", "tests.fakes.slack_api", 1) in imports


def test_readme_shows_the_import_diagram_drawn_from_the_code() -> None:
    """The diagram is in the README's architecture section; test_readme_diagrams_are_current keeps it fresh."""
    readme = (ROOT / "README.md").read_text()
    assert f"<!-- imports -->\n```mermaid\n{mermaid(project_imports())}\n```\n<!-- /imports -->" in readme
    assert "adapters_cli --> adapters_telegram" in readme and "bot --> dialogs" in readme


def test_dialogs_imports_nothing_from_bot_or_adapters() -> None:
    for path in (ROOT / "dialogs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in {"bot", "adapters"}, path


def test_no_adapter_ever_fetches_user_files() -> None:
    """No call or string in adapter code can reach getFile, files.info or a file's private URL."""
    banned = {
        "get_file",
        "getFile",
        "files_info",
        "files.info",
        "url_private",
        "url_private_download",
        "download_to_drive",
        "download_as_bytearray",
    }
    offenders = []
    for path in (ROOT / "adapters").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = None
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.Name):
                name = node.id
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value
            if name in banned:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert offenders == []


def test_readme_diagrams_are_current() -> None:
    from tools.diagrams import render_readme

    readme = (ROOT / "README.md").read_text()
    assert render_readme(readme) == readme, "README diagrams are stale: run `python -m tools.diagrams`"
