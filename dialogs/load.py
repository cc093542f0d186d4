"""The loader: read the YAML in ``content/``, validate each file with its model (:mod:`dialogs.schema`) and
build the :class:`~dialogs.content.Content` object.

Problems are collected as :class:`Problem` objects naming the file and the place, never raised one at a
time. This module checks each file on its own; :mod:`dialogs.lint` checks the files against each other
(and is where the bot's ``load_content`` lives: content is never used unchecked).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from dialogs.content import Content
from dialogs.schema import (
    COMMAND_NAME,
    AreaPack,
    BankHolidays,
    Command,
    Flow,
    Language,
    MessagesFile,
    Meta,
    RoutingFile,
    Safety,
    SourcesFile,
    TopicsFile,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """A content problem: where it is, and what is wrong, in words a reviewer can act on."""

    file: str
    place: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.file}: {self.place}: {kind}: {self.message}"


class ContentError(Exception):
    """Raised when content cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ------------------------------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads yes/no/on/off as booleans; in content they are answer ids, so only true/false are."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# The same loader over libyaml's parser (about 10x faster; start-up is mostly YAML). A file it rejects is read
# again with the pure-Python loader, whose error messages quote the offending line.
_FastLoader: type[Any] = _Loader
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        pass

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _CLoader


def parse_yaml(text: str) -> Any:
    """Content YAML as data (``yes`` and ``no`` stay text); raises :class:`yaml.YAMLError`."""
    try:
        return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - same result, the clearer error message


def default_content_dir() -> Path:
    """The content shipped with the package (``content/`` beside ``bot/``)."""
    return Path(__file__).resolve().parent.parent / "content"


_BULLET = re.compile(r"^\s*[-*•]\s")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s")
_BREAK_AFTER = (".", ":", "!", "?")


def list_number(line: str, last: int) -> int | None:
    """The number of the list item ``line`` starts, or ``None``. A number counts only as ``1.`` or the
    item after ``last`` (the previous item's number): "call⏎101. Don't pay." wraps a sentence, and joins."""
    numbered = _NUMBERED.match(line)
    if numbered is None:
        return None
    number = int(numbered[1])
    return number if number in (1, last + 1) else None


def unwrap(text: str) -> str:
    """Undo the hard line wrapping of YAML block text, so that a phone reflows it.

    A line joins the one before unless it starts a list item (a bullet, or the next number of a numbered
    list), or the line before ends a sentence (a deliberate break) and this one starts in upper case at the
    margin. Blank lines stay paragraph breaks.
    """
    if "\n" not in text:
        return text
    out: list[str] = []
    last = 0  # the number of the last numbered item in this paragraph
    for line in text.split("\n"):
        stripped = line.strip()
        prev = out[-1] if out else ""
        number = list_number(line, last)
        item = number is not None or bool(_BULLET.match(line))
        joins = (
            prev.strip() != ""
            and stripped != ""
            and not item
            and (not prev.rstrip().endswith(_BREAK_AFTER) or stripped[0].islower() or line[:1].isspace())
        )
        if not stripped:
            last = 0
        elif number is not None:
            last = number
        if joins:
            out[-1] = prev.rstrip() + " " + stripped
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def _unwrap_all(data: Any) -> Any:
    """Unwrap every text in flows, topics and area packs (prose written as wrapped YAML blocks); messages
    keep their line breaks, which are deliberate."""
    if isinstance(data, str):
        return unwrap(data)
    if isinstance(data, list):
        return [_unwrap_all(x) for x in data]
    if isinstance(data, dict):
        return {k: _unwrap_all(v) for k, v in data.items()}
    return data


def _place(loc: tuple[int | str, ...], data: Any) -> str:
    """Turn a pydantic error location into a reviewer's path, naming ids where there are ids."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''}[{ident or step}]"]
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(str(step))
    return ".".join(parts) or "top level"


# ----------------------------------------------------------------------------------------------- reader


class _Reader:
    """Reads files under one content root: each file validated by its model, every problem collected, and a
    digest of everything read (so any edit changes the content version)."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.digest = hashlib.sha256()
        self.files: dict[str, str] = {}  # object kind:id → file it came from

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root.parent)) if path.is_relative_to(self.root.parent) else str(path)

    def data(self, path: Path) -> Any:
        """The file's YAML (``None``, with a problem, when it cannot be read or parsed)."""
        self.digest.update(self.rel(path).encode())
        self.digest.update(path.read_bytes() if path.exists() else b"")
        try:
            return parse_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.rel(path), "file", f"not valid YAML: {exc}"))
        except OSError as exc:
            self.problems.append(Problem(self.rel(path), "file", f"cannot read: {exc}"))
        return None

    def build(self, model: type[M], data: Any, rel: str) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                self.problems.append(Problem(rel, _place(tuple(err["loc"]), data), err["msg"]))
        return None

    def file(self, model: type[M], name: str, *, empty: Any = None, prose: bool = False) -> M | None:
        """``name`` (relative to the root) as one ``model``; an empty file reads as ``empty``."""
        path = self.root / name
        data = self.data(path)
        data = empty if data is None else data
        return self.build(model, _unwrap_all(data) if prose else data, self.rel(path))

    def each(self, model: type[AreaPack] | type[Flow], kind: str, folder: str) -> dict[str, Any]:
        """Each ``folder/<id>.yaml`` as one ``model`` whose id must be its file name."""
        out: dict[str, Any] = {}
        for path in sorted((self.root / folder).glob("*.yaml")):
            rel = self.rel(path)
            item = self.build(model, _unwrap_all(self.data(path)), rel)
            if item is None:
                continue
            if item.id != path.stem:
                message = f"{kind} id {item.id!r} must match the file name {path.stem!r}"
                self.problems.append(Problem(rel, "id", message))
            out[item.id] = item
            self.files[f"{kind}:{item.id}"] = rel
        return out

    def commands(self) -> dict[str, Command]:
        """``commands.yaml``: command name → :class:`Command`, in file order."""
        path = self.root / "commands.yaml"
        rel = self.rel(path)
        data = self.data(path)
        out: dict[str, Command] = {}
        if isinstance(data, dict):
            for name, raw in data.items():
                if not isinstance(name, str) or not re.fullmatch(COMMAND_NAME, name):
                    self.problems.append(Problem(rel, str(name), "a command name is 1-32 of a-z, 0-9, _"))
                    continue
                command = self.build(Command, raw or {}, f"{rel}: {name}")
                if command is not None:
                    out[name] = command
        elif data is not None:
            self.problems.append(Problem(rel, "file", "must map command names to their settings"))
        return out

    def messages(self) -> dict[str, str]:
        """``messages.yaml`` and ``messages/*.yaml`` as one table: a key may be defined once."""
        out: dict[str, str] = {}
        for path in [self.root / "messages.yaml", *sorted((self.root / "messages").glob("*.yaml"))]:
            table = self.file(MessagesFile, str(path.relative_to(self.root)))
            for key, text in table.root.items() if table is not None else ():
                if key in out:
                    self.problems.append(Problem(self.rel(path), key, "message key defined twice"))
                else:
                    out[key] = text
        return out


def read_content(root: Path | None = None) -> tuple[Content | None, list[Problem]]:
    """Read and validate every file of a content directory, each on its own; build the content (``None`` if
    any file has a problem). Cross-file checks are :func:`dialogs.lint.check_content`'s."""
    r = _Reader((root or default_content_dir()).resolve())
    meta = r.file(Meta, "meta.yaml")
    areas: dict[str, AreaPack] = r.each(AreaPack, "area", "areas")
    flows: dict[str, Flow] = r.each(Flow, "flow", "flows")
    topics = r.file(TopicsFile, "topics.yaml", empty={}, prose=True)
    routing = r.file(RoutingFile, "routing.yaml", empty={})
    safety = r.file(Safety, "safety.yaml")
    messages = r.messages()
    sources = r.file(SourcesFile, "sources.yaml", empty={})
    commands = r.commands()
    language = r.file(Language, "language/hints.yaml")
    if (r.root / "language" / "model.yaml").exists():  # the crisis model's weights: retraining changes the version
        r.data(r.root / "language" / "model.yaml")
    if "national" not in areas:
        r.problems.append(Problem("content/areas", "national.yaml", "the national pack is required"))
    if meta is None or safety is None or topics is None or routing is None or sources is None or r.problems:
        return None, r.problems
    return Content(
        meta=meta,
        areas=areas,
        flows=flows,
        topics={t.id: t for t in topics.topics},
        intents=routing.intents,
        safety=safety,
        messages=messages,
        sources={s.id: s for s in [*sources.sources, *(s for pack in areas.values() for s in pack.sources)]},
        version=f"{meta.version}+{r.digest.hexdigest()[:8]}",
        files=r.files,
        synonyms=routing.synonyms,
        language=language,
        root=r.root,
        commands=commands,
    ), r.problems


def load_bank_holidays(root: Path | None = None) -> BankHolidays:
    """The bank holiday table (read on its own: opening hours need it before, or without, the rest)."""
    r = _Reader((root or default_content_dir()).resolve())
    table = r.file(BankHolidays, "bank_holidays.yaml")
    if table is None:
        raise ContentError(r.problems)
    return table
