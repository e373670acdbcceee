"""The workflow linter: rules the schema cannot express (references, reachability, dead ends, clocks,
privacy markers), with the file, the line and a plain explanation for every problem.

The engine trusts only a definition that passed :func:`lint_file` / :func:`lint_text`. Guards and effects a
file may name are the functions registered in :mod:`wbs_engine.hooks`.

The explanations are catalogue messages for the office's workflow authors, with the names from the file
(states, roles, triggers) as their parameters: a :class:`~wbs_engine.definition.LintIssue` is printed in
Indonesian (``str``), or in another language with ``render(lang)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .definition import (
    FREE_TEXT_TYPES,
    IDENTITY_HOURS,
    MAX_SURVEY_ELEMENTS,
    OFFICE_POLICY_MARK,
    SURVEY_COMMENT_FIELD,
    UNVERIFIED_MARK,
    DefinitionError,
    LintIssue,
    WorkflowDef,
    line_for,
    parse_document,
    yaml_path,
)
from .hooks import EFFECTS, GUARDS
from .i18n import Msg
from .i18n import gettext_noop as _
from .roles import ROLES

# ---------------------------------------------------------------------------------------------------
# Semantic checks


def check(defn: WorkflowDef, filename: str = "<workflow>", lines: Mapping[tuple, int] | None = None) -> list[LintIssue]:
    """Rules the schema cannot express: references, reachability, dead ends, clocks.

    ``lines`` is looked at only for a problem found (a :class:`~wbs_engine.definition.LineMap` is worked
    out then)."""
    lines = {} if lines is None else lines
    issues: list[LintIssue] = []

    def add(path: tuple, msgid: str, /, **params: Any) -> None:
        issues.append(LintIssue(filename, line_for(lines, path), yaml_path(path), Msg(msgid, **params)))

    states = defn.states
    known_fields = {f.name for f in (*defn.intake, *defn.fields)}
    if len(known_fields) != len(defn.intake) + len(defn.fields):
        seen: set[str] = set()
        for i, f in enumerate((*defn.intake, *defn.fields)):
            if f.name in seen:
                sect, idx = ("intake", i) if i < len(defn.intake) else ("fields", i - len(defn.intake))
                add((sect, idx, "name"), _("field '{field}' is defined twice"), field=f.name)
            seen.add(f.name)

    if defn.initial not in states:
        add(
            ("initial",),
            _("unknown state '{state}' (states are: {states})"),
            state=defn.initial,
            states=", ".join(states),
        )

    for r in defn.filed_by:
        if r != "public" and r not in ROLES:
            add(
                ("filed_by",),
                _("unknown role '{role}' (use 'public' or one of: {roles})"),
                role=r,
                roles=", ".join(ROLES),
            )

    seen_pairs: dict[tuple[str, str], int] = {}
    for i, t in enumerate(defn.transitions):
        base = ("transitions", i)
        for j, s in enumerate(t.source):
            if s not in states:
                add(
                    (*base, "source", j),
                    _("transition '{trigger}': unknown state '{state}'"),
                    trigger=t.trigger,
                    state=s,
                )
            key = (t.trigger, s)
            if key in seen_pairs:
                add(
                    (*base, "trigger"),
                    _(
                        "duplicate trigger '{trigger}' from state '{state}' (also transition #{other}); "
                        "a trigger must lead to one place"
                    ),
                    trigger=t.trigger,
                    state=s,
                    other=seen_pairs[key] + 1,
                )
            seen_pairs[key] = i
        if t.dest not in states:
            add((*base, "dest"), _("transition '{trigger}': unknown state '{state}'"), trigger=t.trigger, state=t.dest)
        for j, r in enumerate(t.roles):
            if r not in ROLES:
                add(
                    (*base, "roles", j),
                    _("transition '{trigger}': unknown role '{role}' (known roles: {roles})"),
                    trigger=t.trigger,
                    role=r,
                    roles=", ".join(ROLES),
                )
        for j, g in enumerate(t.guards):
            if g not in GUARDS:
                add(
                    (*base, "guards", j),
                    _("transition '{trigger}': unknown guard '{guard}' (known guards: {guards})"),
                    trigger=t.trigger,
                    guard=g,
                    guards=", ".join(sorted(GUARDS)),
                )
        for j, e in enumerate(t.effects):
            if e not in EFFECTS:
                add(
                    (*base, "effects", j),
                    _("transition '{trigger}': unknown effect '{effect}' (known effects: {effects})"),
                    trigger=t.trigger,
                    effect=e,
                    effects=", ".join(sorted(EFFECTS)),
                )
        for sect in ("requires", "optional"):
            for j, f in enumerate(getattr(t, sect)):
                if f not in known_fields:
                    add(
                        (*base, sect, j),
                        _("transition '{trigger}': field '{field}' is not defined under 'fields' or 'intake'"),
                        trigger=t.trigger,
                        field=f,
                    )
        if t.extends and t.extends.clock not in defn.clocks:
            add(
                (*base, "extends", "clock"),
                _("transition '{trigger}' extends unknown clock '{clock}'"),
                trigger=t.trigger,
                clock=t.extends.clock,
            )

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
            add(
                ("states", name),
                _("state '{state}' is unreachable: no transition leads to it from '{initial}'"),
                state=name,
                initial=defn.initial,
            )
        if st.final and any(name in t.source for t in defn.transitions):
            add(("states", name), _("final state '{state}' has a way out; a final state ends the case"), state=name)
        if not st.final and not outs:
            add(
                ("states", name),
                _("state '{state}' is not final but has no way out; add a transition from it or mark it 'final: true'"),
                state=name,
            )
    if not defn.final_states:
        add(("states",), _("no state is marked 'final: true'; a case could never close"))

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
                    add(path, _("clock '{clock}': unknown state '{state}'"), clock=name, state=s)
        if c.starts.from_field and c.starts.from_field not in known_fields:
            add(
                (*base, "starts", "from_field"),
                _("clock '{clock}': field '{field}' is not defined"),
                clock=name,
                field=c.starts.from_field,
            )
        if c.limit_by and c.limit_by.field not in known_fields:
            add(
                (*base, "limit_by", "field"),
                _("clock '{clock}': field '{field}' is not defined"),
                clock=name,
                field=c.limit_by.field,
            )
        for j, r in enumerate(c.on_breach.escalate_to):
            if r not in ROLES:
                add(
                    (*base, "on_breach", "escalate_to", j),
                    _("clock '{clock}': unknown role '{role}'"),
                    clock=name,
                    role=r,
                )
        if c.on_breach.fire:
            if c.on_breach.fire not in triggers:
                add(
                    (*base, "on_breach", "fire"),
                    _("clock '{clock}': unknown trigger '{trigger}'"),
                    clock=name,
                    trigger=c.on_breach.fire,
                )
            elif not any(t.trigger == c.on_breach.fire and "system" in t.roles for t in defn.transitions):
                add(
                    (*base, "on_breach", "fire"),
                    _(
                        "clock '{clock}' fires '{trigger}' on breach, "
                        "but that transition does not allow the role 'system'"
                    ),
                    clock=name,
                    trigger=c.on_breach.fire,
                )
        # the markers are read by machines (README table, landing page): only their exact form counts
        rest = c.source.replace(UNVERIFIED_MARK, "").replace(OFFICE_POLICY_MARK, "").casefold()
        for words, mark in (("belum terverifikasi", UNVERIFIED_MARK), ("kebijakan kantor", OFFICE_POLICY_MARK)):
            if words in rest:
                add(
                    (*base, "source"),
                    _(
                        "clock '{clock}': write '{words}' in the source exactly as the marker '{mark}' "
                        "(lowercase, in parentheses), so that it is recognised"
                    ),
                    clock=name,
                    words=words,
                    mark=mark,
                )
        if c.late_notice and not c.starts.from_field:
            add(
                (*base, "late_notice"),
                _(
                    "clock '{clock}' has a late_notice but no starts.from_field: a clock counted from the event "
                    "itself is never late when it starts"
                ),
                clock=name,
            )
        if not c.stops.on_enter and not c.stops.on_exit:
            add((*base, "stops"), _("clock '{clock}' can never stop: it names no stop state"), clock=name)
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
                    _("clock '{clock}' can never stop: from its start state '{state}' no stop state can be reached"),
                    clock=name,
                    state=s,
                )
    for sect in ("intake", "fields"):
        for j, f in enumerate(getattr(defn, sect)):
            where = (sect, j)
            if f.plain and (f.identity or f.contact or f.confidential):
                add(
                    (*where, "plain"),
                    _("field '{field}' is marked plain but also identity/contact/confidential; choose one"),
                    field=f.name,
                )
            if f.contact and f.type not in ("email", "phone"):
                add(
                    (*where, "contact"),
                    _("field '{field}': a contact field must be of type email or phone"),
                    field=f.name,
                )
            if f.plain and f.type not in FREE_TEXT_TYPES:
                add(
                    (*where, "plain"),
                    _(
                        "field '{field}': 'plain' only applies to free text (text, textarea, email, phone); "
                        "a {type} is plain already"
                    ),
                    field=f.name,
                    type=f.type,
                )
    for sect in ("identity", "confidential_fields"):
        for j, r in enumerate(getattr(defn.visibility, sect)):
            if r not in ROLES:
                add(("visibility", sect, j), _("visibility: unknown role '{role}'"), role=r)
    if len(defn.identity) != len(set(defn.identity)):
        add(("identity",), _("an identity option is listed twice"))
    _check_identity_on_request(defn, add)
    _check_interests(defn, add)
    kinds = defn.attachments.allowed_types or []
    if len(kinds) != len(set(kinds)):
        add(("attachments", "allowed_types"), _("a file type is listed twice"))
    if defn.attachments.max_count == 0:
        for i, t in enumerate(defn.transitions):
            if "has_attachment" in t.guards:
                add(
                    ("transitions", i, "guards"),
                    _(
                        "transition '{trigger}' needs an attachment (guard has_attachment), but "
                        "attachments.max_count is 0: it could never be taken"
                    ),
                    trigger=t.trigger,
                )
    if defn.survey is not None:
        elements = defn.survey.elements
        if len(elements) > MAX_SURVEY_ELEMENTS:
            add(
                ("survey", "elements"),
                _("the survey asks {count} elements; at most {max} (a short survey gets answered)"),
                count=len(elements),
                max=MAX_SURVEY_ELEMENTS,
            )
        seen_keys: set[str] = set()
        for j, e in enumerate(elements):
            if e.key in seen_keys:
                add(("survey", "elements", j, "key"), _("survey element '{key}' is listed twice"), key=e.key)
            seen_keys.add(e.key)
            if e.key == SURVEY_COMMENT_FIELD:
                add(
                    ("survey", "elements", j, "key"),
                    _("survey element key '{key}' is reserved for the comment; choose another"),
                    key=e.key,
                )
    return issues


def _check_identity_on_request(defn: WorkflowDef, add: Any) -> None:
    """``visibility.identity_on_request``: approvers the workflow names, a duration of 1..720 hours, and a
    type that takes *rahasia* reports (the only mode a request can open)."""
    spec = defn.visibility.identity_on_request
    if spec is None:
        return
    where = ("visibility", "identity_on_request")
    vis = defn.visibility
    named = {r for t in defn.transitions for r in t.roles} | set(vis.identity) | set(vis.confidential_fields)
    for j, r in enumerate(spec.approvers):
        if r in ("pelapor", "system") or r not in ROLES:
            add((*where, "approvers", j), _("identity_on_request: '{role}' cannot approve a request"), role=r)
        elif r not in named:
            add(
                (*where, "approvers", j),
                _(
                    "identity_on_request: approver '{role}' is not a role of this workflow (name it in a "
                    "transition or in visibility)"
                ),
                role=r,
            )
    low, high = IDENTITY_HOURS
    if not low <= spec.hours <= high:
        add(
            (*where, "hours"),
            _("identity_on_request: hours must be between {low} and {high} (30 days), not {hours}"),
            low=low,
            high=high,
            hours=spec.hours,
        )
    if "rahasia" not in defn.identity:
        add(
            where,
            _("identity_on_request: this type takes no rahasia reports, so there is no identity to ask for"),
        )


def _check_interests(defn: WorkflowDef, add: Any) -> None:
    """``interests``: a free-text field, plain select fields in ``when`` with one of their options, states
    that exist."""
    spec = defn.interests
    if spec is None:
        return
    f = defn.field(spec.field)
    if f is None:
        add(("interests", "field"), _("interests: unknown field '{field}'"), field=spec.field)
    elif f.type not in FREE_TEXT_TYPES:
        add(("interests", "field"), _("interests: field '{field}' must be free text"), field=spec.field)
    for name, value in spec.when.items():
        w = defn.field(name)
        if w is None or w.type != "select" or w.sealed:
            add(("interests", "when", name), _("interests: '{field}' must be a plain select field"), field=name)
        elif value not in {o.value for o in w.options}:
            add(
                ("interests", "when", name),
                _("interests: '{value}' is not an option of '{field}'"),
                value=value,
                field=name,
            )
    for j, st in enumerate(spec.active_states):
        if st not in defn.states:
            add(("interests", "active_states", j), _("interests: unknown state '{state}'"), state=st)


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
            too_large = Msg(_("larger than {kib} KiB: not a workflow"), kib=MAX_WORKFLOW_BYTES // 1024)
            return None, [LintIssue(str(path), None, "", too_large)]
        return data.decode("utf-8"), []
    except OSError as exc:
        unreadable = Msg(_("cannot read the file: {reason}"), reason=exc.strerror or str(exc))
        return None, [LintIssue(str(path), None, "", unreadable)]
    except UnicodeDecodeError:
        return None, [LintIssue(str(path), None, "", Msg(_("the file is not UTF-8 text")))]


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
