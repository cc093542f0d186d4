"""Cross-checks over loaded content: the graph lint and the reference checks, and the checked load.

:mod:`dialogs.load` checks each file on its own; this module checks them against each other. Each problem
names the file and the place, so that a reviewer who has never seen the code can fix it.
:func:`check_content` reports every problem (``ypsi-bot content check``); :func:`load_content` is how
the bot loads content: it refuses content with any error.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from dialogs.content import Content
from dialogs.load import ContentError, Problem, load_bank_holidays, read_content
from dialogs.schema import PLATFORMS, Flow

RESERVED_CHOICE_IDS = {"trigger", "state", "may_trigger"}
RECHECK_AFTER_MONTHS = 6  # contacts change: each is re-checked at least this often (a warning, not an error)
_TARGET = re.compile(r"^(contact|topic|flow|command):([a-z0-9_]+)(?::([a-z0-9_]+))?$")
COMMANDS_FILE = "content/commands.yaml"
MENU_TEXT = (3, 256)  # Telegram's limits on a command's description


def load_content(root: Path | None = None, *, lint: bool = True, today: dt.date | None = None) -> Content:
    """Load and validate a content directory; raise :class:`ContentError` listing every error found."""
    content, problems = check_content(root, today=today) if lint else read_content(root)
    errors = [p for p in problems if not p.warning]
    if errors or content is None:
        raise ContentError(errors or problems)
    return content


def check_content(root: Path | None = None, *, today: dt.date | None = None) -> tuple[Content | None, list[Problem]]:
    """Load a content directory and lint it; return the content (if it loaded) and every problem."""
    content, problems = read_content(root)
    if content is not None:
        problems.extend(lint_content(content, today=today))
    try:
        table = load_bank_holidays(root)
    except ContentError as exc:
        problems.extend(exc.problems)
    else:
        year = (today or dt.date.today()).year
        if not (table.covers(year) and table.covers(year + 1)):
            problems.append(Problem("content/bank_holidays.yaml", "last_year", f"does not cover {year} and "
                                    f"{year + 1}: run `python -m tools.bank_holidays`", warning=True))
    return content, problems


def lint_content(content: Content, *, today: dt.date | None = None) -> list[Problem]:
    """Every cross-reference and graph problem in ``content`` (errors and warnings)."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    problems += _lint_contacts(content, today)
    for flow in content.flows.values():
        problems += _lint_flow(content, flow)
    problems += _lint_areas(content)
    problems += _lint_topics_and_intents(content)
    problems += _lint_commands(content)
    return problems


def _lint_contacts(content: Content, today: dt.date) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, str] = {}
    for area, c in content.all_contacts():
        f = content.files.get(f"area:{area}", f"content/areas/{area}.yaml")
        place = f"contacts[{c.id}]"
        if c.id in seen:
            out.append(Problem(f, place, f"contact id also used in {seen[c.id]}"))
        seen[c.id] = f
        if not (c.phone or c.url or c.text_to):
            out.append(Problem(f, place, "a contact needs a phone, a text number or a url"))
        if c.checked > today:
            out.append(Problem(f, place, f"checked date {c.checked} is in the future"))
        elif c.checked < _months_before(today, RECHECK_AFTER_MONTHS):
            out.append(Problem(f, place, f"not re-checked within {RECHECK_AFTER_MONTHS} months (last checked "
                                         f"{c.checked}): check it again", warning=True))
        if not c.checked_how.strip():
            out.append(Problem(f, f"{place}.checked_how", "say what was checked and how (page read, call made)",
                               warning=True))
        if not c.hours.always and not c.hours.weekly:
            out.append(Problem(f, f"{place}.hours", "give weekly hours or always: true"))
        if not c.hours.text.strip():
            out.append(Problem(f, f"{place}.hours.text", "say the opening hours in words, as users will read them"))
    return out


def _months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day where that day does not exist)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


def _lint_flow(content: Content, flow: Flow) -> list[Problem]:
    f = content.files.get(f"flow:{flow.id}", f"content/flows/{flow.id}.yaml")
    out: list[Problem] = []
    qids = [q.id for q in flow.questions]
    oids = [o.id for o in flow.outcomes]
    for dup in {x for x in qids + oids if (qids + oids).count(x) > 1}:
        out.append(Problem(f, dup, "id used more than once among questions and outcomes"))
    nodes = set(qids) | set(oids)
    if flow.start not in qids:
        out.append(Problem(f, "start", f"start {flow.start!r} is not a question of this flow"))

    edges: dict[str, set[str]] = {q: set() for q in qids}
    for q in flow.questions:
        if not q.choices:
            out.append(Problem(f, f"questions[{q.id}]", "dead end: a question needs choices"))
        choice_ids = [c.id for c in q.choices]
        for c in q.choices:
            place = f"questions[{q.id}].choices[{c.id}]"
            if choice_ids.count(c.id) > 1:
                out.append(Problem(f, place, "choice id used twice in one question"))
            if c.id in RESERVED_CHOICE_IDS:
                out.append(Problem(f, place, f"{c.id!r} is reserved by the engine; pick another id"))
            if not c.label.strip():
                out.append(Problem(f, place, "choice without a label"))
            branches = c.branches()
            if branches and branches[-1].when:
                out.append(Problem(f, place, "the last branch needs no 'when', so every path goes somewhere"))
            for b in branches:
                if b.to not in nodes:
                    out.append(Problem(f, place, f"dangling transition to unknown id {b.to!r}"))
                else:
                    edges[q.id].add(b.to)
                for wq, wa in b.when.items():
                    out += _check_answer(f, place, flow, wq, wa)
        for cite in q.cites:
            if cite not in content.sources:
                out.append(Problem(f, f"questions[{q.id}].cites", f"unknown source {cite!r}"))

    reachable = {flow.start}
    frontier = [flow.start]
    while frontier:
        for nxt in edges.get(frontier.pop(), ()):
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    for node in sorted(nodes - reachable):
        out.append(Problem(f, node, "unreachable from the start"))

    areas = [a for a in content.areas.values() if a.practitioner_flow == flow.id] if flow.who == "practitioner" else []
    areas = areas or list(content.areas.values())
    for o in flow.outcomes:
        place = f"outcomes[{o.id}]"
        if not o.contacts:
            out.append(Problem(f, place, "outcome without contacts"))
        for area in areas:
            visible = content.contacts_for(area.id)
            for ref in o.contacts:
                members = content.role_members(ref, area.id)
                if not members:
                    out.append(Problem(f, place, f"role {ref!r} has no contacts in area {area.id!r}"))
                for cid in members:
                    if cid not in visible:
                        out.append(Problem(f, place, f"unknown contact {cid!r} (area {area.id!r})"))
        for note in o.notes:
            for wq, wa in note.when.items():
                out += _check_answer(f, f"{place}.notes", flow, wq, wa)
        for cite in o.cites:
            if cite not in content.sources:
                out.append(Problem(f, f"{place}.cites", f"unknown source {cite!r}"))
    for i, cl in enumerate(flow.classification):
        for wq, wa in cl.when.items():
            out += _check_answer(f, f"classification[{i}]", flow, wq, wa)
    if flow.who == "practitioner" and not flow.footer.strip():
        out.append(Problem(f, "footer", "practitioner outcomes need the footer on professional judgement"))
    return out


def _check_answer(f: str, place: str, flow: Flow, qid: str, answer: str) -> list[Problem]:
    q = flow.question(qid)
    if q is None:
        return [Problem(f, place, f"condition on unknown question {qid!r}")]
    if answer not in {c.id for c in q.choices}:
        return [Problem(f, place, f"condition on unknown answer {answer!r} of {qid!r}")]
    return []


def _lint_areas(content: Content) -> list[Problem]:
    out: list[Problem] = []
    for area in content.areas.values():
        f = content.files.get(f"area:{area.id}", f"content/areas/{area.id}.yaml")
        flow = content.flows.get(area.practitioner_flow)
        if flow is None or flow.who != "practitioner":
            out.append(Problem(f, "practitioner_flow", f"{area.practitioner_flow!r} is not a practitioner flow"))
        visible = content.contacts_for(area.id)
        if area.public_line and area.public_line not in visible:
            out.append(Problem(f, "public_line", f"unknown contact {area.public_line!r}"))
        for role, members in area.roles.items():
            for cid in members:
                if cid not in visible:
                    out.append(Problem(f, f"roles.{role}", f"unknown contact {cid!r}"))
        for c in area.contacts:
            for ref in c.when_closed:
                for cid in content.role_members(ref, area.id) or [ref]:
                    if cid not in visible:
                        out.append(Problem(f, f"contacts[{c.id}].when_closed", f"unknown contact {cid!r}"))
        for oid in area.notes:
            if flow is not None and flow.outcome(oid) is None:
                out.append(Problem(f, f"notes.{oid}", f"no outcome {oid!r} in flow {flow.id!r}"))
    return out


def _lint_topics_and_intents(content: Content) -> list[Problem]:
    out: list[Problem] = []
    everywhere = {cid for _, c in content.all_contacts() for cid in [c.id]}
    for t in content.topics.values():
        for ref in t.contacts:
            if not ref.startswith("role:") and ref not in everywhere:
                out.append(Problem("content/topics.yaml", f"topics[{t.id}]", f"unknown contact {ref!r}"))
        for cite in t.cites:
            if cite not in content.sources:
                out.append(Problem("content/topics.yaml", f"topics[{t.id}].cites", f"unknown source {cite!r}"))
    def exists(target: str) -> bool | None:
        """Whether a routing target names something that exists; ``None`` when it is not a target at all."""
        m = _TARGET.match(target)
        if not m:
            return None
        kind, ident, sub = m.groups()
        return (
            (kind == "contact" and ident in everywhere)
            or (kind == "topic" and ident in content.topics)
            or (kind == "command" and ident in content.commands)
            or (
                kind == "flow"
                and ident in content.flows
                and sub is not None
                and (content.flows[ident].question(sub) or content.flows[ident].outcome(sub)) is not None
            )
        )

    for t in content.topics.values():
        for who in t.who:
            if not any(it.target == f"topic:{t.id}" and who in it.who for it in content.intents):
                out.append(Problem("content/routing.yaml", f"topics[{t.id}]",
                                   f"no intent leads a {who} to this topic: add one with the words people use"))
    for it in content.intents:
        place = f"intents[{it.id}]"
        ok = exists(it.target)
        if ok is None:
            out.append(Problem("content/routing.yaml", place, f"bad target {it.target!r}"))
            continue
        if not ok:
            out.append(Problem("content/routing.yaml", place, f"target {it.target!r} names nothing that exists"))
        if not (it.keywords or it.examples):
            out.append(Problem("content/routing.yaml", place, "an intent needs keywords or examples"))
    hints = content.language
    for target in [t for pair in (hints.when_adult.items() if hints else []) for t in pair]:
        if not exists(target):
            out.append(Problem("content/language/hints.yaml", "when_adult", f"{target!r} names nothing that exists"))
    for kind in hints.crisis_kinds.values() if hints else []:
        for cid in kind.contacts:
            if cid not in everywhere:
                out.append(Problem("content/language/hints.yaml", "crisis_kinds", f"unknown contact {cid!r}"))
    for name, patterns in (hints.patterns() if hints else {}).items():
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(Problem("content/language/hints.yaml", f"{name}[{i}]", f"bad pattern: {exc}"))
    for cid in content.safety.contacts:
        if cid not in everywhere:
            out.append(Problem("content/safety.yaml", "contacts", f"unknown contact {cid!r}"))
    for i, pattern in enumerate(content.safety.patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            out.append(Problem("content/safety.yaml", f"patterns[{i}]", f"bad pattern: {exc}"))
    return out


def _lint_commands(content: Content) -> list[Problem]:
    """``content/commands.yaml``: each word means one command on each platform; menus and buttons have
    their words."""
    out: list[Problem] = []
    if not content.commands:
        out.append(Problem(COMMANDS_FILE, "file", "no commands: at least start, help and urgent are needed"))
    for platform in PLATFORMS:
        meaning: dict[str, str] = {}
        for name, command in content.commands.items():
            if platform not in command.platforms:
                continue
            for word in (name, *command.other_names(platform)):
                if meaning.get(word, name) != name:
                    out.append(Problem(COMMANDS_FILE, name, f"{word!r} already means {meaning[word]!r} on {platform}"))
                meaning.setdefault(word, name)
    for name, command in content.commands.items():
        for platform, text in command.menu.items():
            if platform not in command.platforms:
                out.append(Problem(COMMANDS_FILE, f"{name}.menu.{platform}", f"listed on {platform}, where it is "
                                                                              "not accepted (see platforms)"))
            if not MENU_TEXT[0] <= len(text.strip()) <= MENU_TEXT[1]:
                out.append(Problem(COMMANDS_FILE, f"{name}.menu.{platform}",
                                   "say it in {}-{} characters".format(*MENU_TEXT)))
        for platform in command.platform_aliases:
            if platform not in command.platforms:
                out.append(Problem(COMMANDS_FILE, f"{name}.platform_aliases.{platform}",
                                   f"not accepted on {platform} (see platforms)"))
        if command.button and f"nav_{name}" not in content.messages:
            out.append(Problem(COMMANDS_FILE, f"{name}.button", f"a button needs its label: add nav_{name} to "
                                                                "content/messages.yaml"))
        if not command.platforms or not command.audiences:
            out.append(Problem(COMMANDS_FILE, name, "give at least one platform and one audience"))
    return out
