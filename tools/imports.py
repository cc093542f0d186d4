"""The import graph of the shipped code, read with ``ast`` (every import, also those inside functions and
under ``TYPE_CHECKING``), for the architecture test and the README's import diagram.

Layers, top to bottom: ``tools`` and ``benchmarks`` (they may use anything), ``adapters``, ``bot``, ``dialogs``,
``content``. An import may point down or sideways, never up; no module may import itself through others
(a cycle); no shipped module imports ``tests``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tools", "benchmarks", "adapters", "bot", "dialogs", "content")
LAYER = {"tools": 4, "benchmarks": 4, "adapters": 3, "bot": 2, "dialogs": 1, "content": 0}
# The README diagram's boxes: a subpackage is one box; so is each top-level module of adapters (the composition
# root and the console are worth seeing apart); the rest of a package is one box under its own name.
OWN_BOXES = ("adapters.__main__", "adapters.cli", "adapters.console", "adapters.evaluate", "adapters.outbox")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "bot.service"
    target: str  # the imported module, e.g. "bot.store.base", or a top-level name outside the project
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def shipped_modules(root: Path = ROOT) -> dict[str, Path]:
    return {
        module_name(p, root): p
        for package in PACKAGES
        for p in sorted((root / package).rglob("*.py"))
        if ".venv" not in p.parts
    }


def _resolve(name: str, modules: Iterable[str]) -> str:
    """The longest known module that ``name`` starts with (``bot.store.SQLiteStore`` → ``bot.store``)."""
    known = set(modules)
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in known:
            return candidate
    return name


def imports_of(module: str, path: Path, modules: Iterable[str]) -> Iterator[Import]:
    """Every import in one file, resolved to project modules where it names one."""
    modules = list(modules)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, _resolve(alias.name, modules), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:  # `from bot.store import sqlite` imports the module bot.store.sqlite
                yield Import(module, _resolve(f"{base}.{alias.name}", modules), node.lineno)


def project_imports(root: Path = ROOT) -> list[Import]:
    """Every import between shipped modules, and every import of ``tests`` from one."""
    modules = shipped_modules(root)
    out = []
    for module, path in modules.items():
        for imp in imports_of(module, path, modules):
            top = imp.target.split(".")[0]
            if imp.target != module and (imp.target in modules or top == "tests"):
                out.append(imp)
    return out


def back_arrows(imports: Iterable[Import]) -> list[Import]:
    """Imports that run up the layers."""
    return [
        i for i in imports
        if i.target.split(".")[0] in LAYER and LAYER[i.target.split(".")[0]] > LAYER[i.source.split(".")[0]]
    ]


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """The strongly connected groups of modules (Tarjan), each sorted; a module importing itself is none."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.source, set()).add(i.target)
        graph.setdefault(i.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def box(module: str) -> str:
    """The README diagram's box for a module."""
    parts = module.split(".")
    if module in OWN_BOXES or any(module.startswith(own + ".") for own in OWN_BOXES):
        return ".".join(parts[:2])
    if len(parts) >= 2 and (ROOT / parts[0] / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def mermaid(imports: Iterable[Import]) -> str:
    """The import diagram: one box per package (see :func:`box`), an arrow where any module of one imports
    any module of another. ``tests`` are not drawn."""
    edges = sorted({(box(i.source), box(i.target)) for i in imports if box(i.source) != box(i.target)})
    nodes = sorted({n for e in edges for n in e}, key=lambda n: (-LAYER[n.split(".")[0]], n))
    lines = ["flowchart TD"]
    lines += [f"    {n.replace('.', '_')}[\"{n.replace('.', '/')}\"]" for n in nodes]
    lines += [f"    {a.replace('.', '_')} --> {b.replace('.', '_')}" for a, b in edges]
    return "\n".join(lines)
