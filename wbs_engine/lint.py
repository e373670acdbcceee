"""The workflow linter: rules the schema cannot express (references, reachability, dead ends, clocks,
privacy markers), with the file, the line and a plain explanation for every problem.

The engine trusts only a definition that passed :func:`lint_file` / :func:`lint_text`. Guards and effects a
file may name are the functions registered in :mod:`wbs_engine.hooks`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path

from .definition import (
    FREE_TEXT_TYPES,
    OFFICE_POLICY_MARK,
    UNVERIFIED_MARK,
    DefinitionError,
    LintIssue,
    WorkflowDef,
    line_for,
    parse_document,
    yaml_path,
)
from .hooks import EFFECTS, GUARDS
from .roles import ROLES

# ---------------------------------------------------------------------------------------------------
# Semantic checks


def check(defn: WorkflowDef, filename: str = "<workflow>", lines: Mapping[tuple, int] | None = None) -> list[LintIssue]:
    """Rules the schema cannot express: references, reachability, dead ends, clocks.

    ``lines`` is looked at only for a problem found (a :class:`~wbs_engine.definition.LineMap` is worked
    out then)."""
    lines = {} if lines is None else lines
    issues: list[LintIssue] = []

    def add(path: tuple, message: str) -> None:
        issues.append(LintIssue(filename, line_for(lines, path), yaml_path(path), message))

    states = defn.states
    known_fields = {f.name for f in (*defn.intake, *defn.fields)}
    if len(known_fields) != len(defn.intake) + len(defn.fields):
        seen: set[str] = set()
        for i, f in enumerate((*defn.intake, *defn.fields)):
            if f.name in seen:
                sect, idx = ("intake", i) if i < len(defn.intake) else ("fields", i - len(defn.intake))
                add((sect, idx, "name"), f"field '{f.name}' is defined twice")
            seen.add(f.name)

    if defn.initial not in states:
        add(("initial",), f"unknown state '{defn.initial}' (states are: {', '.join(states)})")

    for r in defn.filed_by:
        if r != "public" and r not in ROLES:
            add(("filed_by",), f"unknown role '{r}' (use 'public' or one of: {', '.join(ROLES)})")

    seen_pairs: dict[tuple[str, str], int] = {}
    for i, t in enumerate(defn.transitions):
        base = ("transitions", i)
        for j, s in enumerate(t.source):
            if s not in states:
                add((*base, "source", j), f"transition '{t.trigger}': unknown state '{s}'")
            key = (t.trigger, s)
            if key in seen_pairs:
                add(
                    (*base, "trigger"),
                    f"duplicate trigger '{t.trigger}' from state '{s}' "
                    f"(also transition #{seen_pairs[key] + 1}); a trigger must lead to one place",
                )
            seen_pairs[key] = i
        if t.dest not in states:
            add((*base, "dest"), f"transition '{t.trigger}': unknown state '{t.dest}'")
        for j, r in enumerate(t.roles):
            if r not in ROLES:
                add(
                    (*base, "roles", j),
                    f"transition '{t.trigger}': unknown role '{r}' (known roles: {', '.join(ROLES)})",
                )
        for j, g in enumerate(t.guards):
            if g not in GUARDS:
                add(
                    (*base, "guards", j),
                    f"transition '{t.trigger}': unknown guard '{g}' (known guards: {', '.join(sorted(GUARDS))})",
                )
        for j, e in enumerate(t.effects):
            if e not in EFFECTS:
                add(
                    (*base, "effects", j),
                    f"transition '{t.trigger}': unknown effect '{e}' (known effects: {', '.join(sorted(EFFECTS))})",
                )
        for sect in ("requires", "optional"):
            for j, f in enumerate(getattr(t, sect)):
                if f not in known_fields:
                    add(
                        (*base, sect, j),
                        f"transition '{t.trigger}': field '{f}' is not defined under 'fields' or 'intake'",
                    )
        if t.extends and t.extends.clock not in defn.clocks:
            add((*base, "extends", "clock"), f"transition '{t.trigger}' extends unknown clock '{t.extends.clock}'")

    # reachability and dead ends
    graph: dict[str, set[str]] = {s: set() for s in states}
    for t in defn.transitions:
        for s in t.source:
            if s in graph and t.dest in states:
                graph[s].add(t.dest)
    reachable = _reach(graph, {defn.initial} if defn.initial in states else set())
    for name, st in states.items():
        outs = graph[name] - {name}
        if defn.initial in states and name not in reachable:
            add(("states", name), f"state '{name}' is unreachable: no transition leads to it from '{defn.initial}'")
        if st.final and any(name in t.source for t in defn.transitions):
            add(("states", name), f"final state '{name}' has a way out; a final state ends the case")
        if not st.final and not outs:
            add(
                ("states", name),
                f"state '{name}' is not final but has no way out; add a transition from it or mark it 'final: true'",
            )
    if not defn.final_states:
        add(("states",), "no state is marked 'final: true'; a case could never close")

    # clocks
    triggers = {t.trigger for t in defn.transitions}
    for name, c in defn.clocks.items():
        base = ("clocks", name)
        refs = [
            ("starts", "on_enter", c.starts.on_enter),
            ("stops", "on_enter", c.stops.on_enter),
            ("stops", "on_exit", c.stops.on_exit),
            ("pauses", None, c.pauses),
        ]
        for sect, sub, lst in refs:
            for j, s in enumerate(lst):
                if s not in states:
                    path = (*base, sect, sub, j) if sub else (*base, sect, j)
                    add(path, f"clock '{name}': unknown state '{s}'")
        if c.starts.from_field and c.starts.from_field not in known_fields:
            add((*base, "starts", "from_field"), f"clock '{name}': field '{c.starts.from_field}' is not defined")
        if c.limit_by and c.limit_by.field not in known_fields:
            add((*base, "limit_by", "field"), f"clock '{name}': field '{c.limit_by.field}' is not defined")
        for j, r in enumerate(c.on_breach.escalate_to):
            if r not in ROLES:
                add((*base, "on_breach", "escalate_to", j), f"clock '{name}': unknown role '{r}'")
        if c.on_breach.fire:
            if c.on_breach.fire not in triggers:
                add((*base, "on_breach", "fire"), f"clock '{name}': unknown trigger '{c.on_breach.fire}'")
            elif not any(t.trigger == c.on_breach.fire and "system" in t.roles for t in defn.transitions):
                add(
                    (*base, "on_breach", "fire"),
                    f"clock '{name}' fires '{c.on_breach.fire}' on breach, "
                    "but that transition does not allow the role 'system'",
                )
        # the markers are read by machines (README table, landing page): only their exact form counts
        rest = c.source.replace(UNVERIFIED_MARK, "").replace(OFFICE_POLICY_MARK, "").casefold()
        for words, mark in (("belum terverifikasi", UNVERIFIED_MARK), ("kebijakan kantor", OFFICE_POLICY_MARK)):
            if words in rest:
                add(
                    (*base, "source"),
                    f"clock '{name}': write '{words}' in the source exactly as the marker '{mark}' "
                    "(lowercase, in parentheses), so that it is recognised",
                )
        if c.late_notice and not c.starts.from_field:
            add(
                (*base, "late_notice"),
                f"clock '{name}' has a late_notice but no starts.from_field: a clock counted from the event "
                "itself is never late when it starts",
            )
        if not c.stops.on_enter and not c.stops.on_exit:
            add((*base, "stops"), f"clock '{name}' can never stop: it names no stop state")
            continue
        starts = [s for s in c.starts.on_enter if s in states]
        stop_enter = set(c.stops.on_enter)
        stop_exit = set(c.stops.on_exit)
        for s in starts:
            # stop reachable = a stop state reachable, or leaving an on_exit state that is reachable
            seen_from = _reach(graph, {s})
            can_stop = bool(seen_from & stop_enter) or any(x in seen_from and (graph[x] - {x}) for x in stop_exit)
            if not can_stop:
                add(
                    (*base, "stops"),
                    f"clock '{name}' can never stop: from its start state '{s}' no stop state can be reached",
                )
    for sect in ("intake", "fields"):
        for j, f in enumerate(getattr(defn, sect)):
            where = (sect, j)
            if f.plain and (f.identity or f.contact or f.confidential):
                add(
                    (*where, "plain"),
                    f"field '{f.name}' is marked plain but also identity/contact/confidential; choose one",
                )
            if f.contact and f.type not in ("email", "phone"):
                add((*where, "contact"), f"field '{f.name}': a contact field must be of type email or phone")
            if f.plain and f.type not in FREE_TEXT_TYPES:
                add(
                    (*where, "plain"),
                    f"field '{f.name}': 'plain' only applies to free text (text, textarea, email, phone); "
                    f"a {f.type} is plain already",
                )
    for sect in ("identity", "confidential_fields"):
        for j, r in enumerate(getattr(defn.visibility, sect)):
            if r not in ROLES:
                add(("visibility", sect, j), f"visibility: unknown role '{r}'")
    if len(defn.identity) != len(set(defn.identity)):
        add(("identity",), "an identity option is listed twice")
    kinds = defn.attachments.allowed_types or []
    if len(kinds) != len(set(kinds)):
        add(("attachments", "allowed_types"), "a file type is listed twice")
    if defn.attachments.max_count == 0:
        for i, t in enumerate(defn.transitions):
            if "has_attachment" in t.guards:
                add(
                    ("transitions", i, "guards"),
                    f"transition '{t.trigger}' needs an attachment (guard has_attachment), but "
                    "attachments.max_count is 0: it could never be taken",
                )
    return issues


def _reach(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    seen = set(start)
    todo = deque(start)
    while todo:
        for nxt in graph.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def lint_text(
    text: str, filename: str = "<workflow>", *, loader: type | None = None
) -> tuple[WorkflowDef | None, list[LintIssue]]:
    """The definition in ``text`` if it passes the schema and every check, else every problem found.

    ``loader``: the PyYAML loader class (default: libyaml's where present, see
    :func:`~wbs_engine.definition.yaml_loader`); the text is parsed once."""
    defn, issues, lines = parse_document(text, filename, loader=loader)
    if defn is None:
        return None, issues
    issues = check(defn, filename, lines)
    return (None if issues else defn), issues


#: the largest workflow file read (the shipped ones are under 20 KiB); a device or a huge file is refused
MAX_WORKFLOW_BYTES = 1024 * 1024


def read_text(path: str | Path) -> tuple[str | None, list[LintIssue]]:
    """The text of a workflow file, or why it cannot be read (as a lint issue)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_WORKFLOW_BYTES + 1)
        if len(data) > MAX_WORKFLOW_BYTES:
            return None, [
                LintIssue(str(path), None, "", f"larger than {MAX_WORKFLOW_BYTES // 1024} KiB: not a workflow")
            ]
        return data.decode("utf-8"), []
    except OSError as exc:
        return None, [LintIssue(str(path), None, "", f"cannot read the file: {exc.strerror or exc}")]
    except UnicodeDecodeError:
        return None, [LintIssue(str(path), None, "", "the file is not UTF-8 text")]


def lint_file(path: str | Path, *, loader: type | None = None) -> tuple[WorkflowDef | None, list[LintIssue]]:
    text, issues = read_text(path)
    if text is None:
        return None, issues
    return lint_text(text, str(path), loader=loader)


def load_workflow(path: str | Path) -> WorkflowDef:
    defn, issues = lint_file(path)
    if defn is None:
        raise DefinitionError(issues)
    return defn
