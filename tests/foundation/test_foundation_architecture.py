"""Imports point one way: bot/ and dialogs/ never import a platform SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
