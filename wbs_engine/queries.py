"""Queues: the open cases a staff member may act on, sorted by the nearest due date, a page at a time.

Four queues (:data:`QUEUES`): ``mine`` (assigned to the actor), ``unassigned``, ``due_soon`` (the nearest
deadline within N working days, default 2) and ``overdue`` (a clock breached, or a running clock past its
due time). Each can be narrowed by unit, case type and a search text, counted (:func:`counts`) and paged
with an opaque cursor (:func:`page`). Framework-free: the web pages and the JSON API call these and render
the plain dataclasses they return, which hold no sealed value (no field values at all).

**Who sees what.** A queue lists a case when it is open (not ``final``), the actor is not recused from it
(``case_recusal``), and one of the actor's grants covers it: the grant's role is one of the roles that act in
the case's state (:func:`wbs_engine.notify.acting_roles`, the workflow's transitions from that state) and
its unit and case type (NULL: all) match the case's. In SQL this becomes a list of :class:`Branch`\\ es,
computed in Python from the grants and the registry, one per (case type, state[, unit][, workflow
versions]) the actor acts on; no role list is stored on the case rows.

**How it stays fast** (``benchmarks/bench_queries.py``; ``docs/decisions.md``). Everything is read from
partial indexes over open cases only (``WHERE final = false``) holding ``(next_due_at, id)`` after what a
queue narrows by, and every column a queue tests, so that no table row is read until the page is known:

* every queue is one ordered range per branch (:func:`_branch_terms` says which index serves which),
  merged in ``(next_due_at, id)`` order and stopped after a page: SQLite merges the index scans lazily
  (``MERGE (UNION ALL)``), PostgreSQL runs a Merge Append of ranges each cut after a page (see
  :func:`_merged`). The cost follows the page size and the number of branches, not the number of cases,
  even for an actor who acts on a small share of them (a scan in due order filtered by the grants would read
  every case it skips); only the page's rows are then read from the table, by primary key.
* a search text is one range on the ``case_term`` index (:mod:`wbs_engine.search`): the cases it matches are
  then filtered and sorted, so its cost follows the number of matches.
* ``next_due_at`` is a column of the case (kept by every writer of clock rows), so "overdue" is the range
  ``next_due_at <= now`` and "due soon" the range ``now < next_due_at <= horizon``: no join with the clocks.
* Cases with no due date come last: a second range per branch (``next_due_at IS NULL``, by ``id``), because
  SQLite sorts NULLs first and PostgreSQL last.
* Keyset pagination: the cursor is the last row's ``(next_due_at, id)``, so a later page starts where the
  previous one stopped (``next_due_at >= :d AND (next_due_at > :d OR id > :id)``) instead of skipping rows.
* Counts stop at a cap (default 100; the UI shows "100+"), so a count reads at most cap + 1 index entries
  per queue; ``cap=None`` counts exactly, at a cost that follows the number of cases counted.
* Nothing depends on statistics (nothing runs ``ANALYZE`` on SQLite): each branch is written so that one
  index serves it (:class:`_Opaque`), checked by ``tests/integration/test_queue_plans.py``.

A page is one statement, the counts of all four queues one statement (plus, for both, one small read of the
workflow versions the database knows).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

from . import notify, textsafe
from . import search as terms
from .calendar import WorkingCalendar
from .db import unit_of_work
from .errors import WbsError
from .i18n import gettext_noop as _
from .models import Case, CaseRecusal, CaseTerm, User
from .permissions import Actor
from .registry import Loaded, Registry

if TYPE_CHECKING:
    from .engine import WbsEngine

MINE, UNASSIGNED, DUE_SOON, OVERDUE = "mine", "unassigned", "due_soon", "overdue"
QUEUES = (MINE, UNASSIGNED, DUE_SOON, OVERDUE)
#: due status of a case whose nearest deadline is neither overdue nor due soon (or that has none)
OK = "ok"

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
DEFAULT_DUE_WITHIN = 2
MAX_DUE_WITHIN = 60
DEFAULT_COUNT_CAP = 100

_c = Case.__table__
_users = User.__table__
_recusals = CaseRecusal.__table__
_terms = CaseTerm.__table__


class QueueError(WbsError):
    """A queue request that cannot be answered as asked: unknown queue, a cursor from elsewhere, a page size
    or horizon out of range. Usually a hand-edited URL."""

    status, code = 422, "queue_error"


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One line of a queue: what the list shows and what a form needs (``version``). No field values, so
    nothing sealed can be in it."""

    number: str
    case_type: str
    type_label: str
    state: str
    state_label: str
    unit: str | None
    identity_mode: str
    next_due_at: datetime | None
    due_status: str  # ok | due_soon | overdue
    assigned_to: str | None  # username
    version: int


@dataclass(frozen=True)
class Page:
    queue: str
    items: tuple[QueueItem, ...]
    #: give it back to get the next page; None on the last page
    next_cursor: str | None


@dataclass(frozen=True)
class QueueCount:
    queue: str
    count: int
    #: True when there are more than ``count`` (the cap): show "100+"
    capped: bool = False

    def __str__(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


# --- what an actor may act on --------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Branch:
    """The open cases of one type in one state that the actor acts on: in one unit (or any: None), of some
    workflow versions (or any: None, when the state's acting roles are the same in every version)."""

    case_type: str
    state: str
    unit_code: str | None = None
    versions: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Scope:
    """Everything a queue statement needs about one request: the actor's branches (already narrowed by the
    unit and case type filters), the user to leave recused cases out for, the times that split ``due_soon``
    from ``overdue``, and the search prefix (None: no search)."""

    user_id: int | None
    branches: tuple[Branch, ...]
    now: datetime
    horizon: datetime
    prefix: str | None = None
    #: a search text without a letter or digit: it matches nothing
    matches_nothing: bool = False
    #: the database the statements are for (``sqlite`` | ``postgresql``): their shape differs a little
    dialect: str = "sqlite"

    @property
    def empty(self) -> bool:
        return not self.branches or self.user_id is None or self.matches_nothing


_ACTING: dict[tuple[str, int, str], dict[str, frozenset[str]]] = {}


def acting_roles_by_state(loaded: Loaded) -> dict[str, frozenset[str]]:
    """State → staff roles that act in it, for every open state of one workflow version (cached)."""
    d = loaded.definition
    ident = (d.key, d.version, loaded.sha256)
    found = _ACTING.get(ident)
    if found is None:
        found = {name: frozenset(notify.acting_roles(d, name)) for name, st in d.states.items() if not st.final}
        _ACTING[ident] = found
    return found


def branches_for(
    actor: Actor, versions: list[Loaded], *, unit: str | None = None, case_type: str | None = None
) -> tuple[Branch, ...]:
    """The branches of ``actor``'s queues: for each grant, the (type, state) pairs of each workflow version
    where its role acts, in its unit. ``unit`` / ``case_type`` narrow them (the queue's filters)."""
    if actor.kind != "user":
        return ()  # the reporter and the scheduler have no queue
    table: dict[str, dict[int, dict[str, frozenset[str]]]] = {}
    for ld in versions:
        table.setdefault(ld.definition.key, {})[ld.definition.version] = acting_roles_by_state(ld)
    wanted: dict[tuple[str, str, str | None], set[int]] = {}
    for g in actor.grants:
        if unit is not None and g.unit_code not in (None, unit):
            continue
        where = unit if unit is not None else g.unit_code
        for key, by_version in table.items():
            if g.case_type not in (None, key) or case_type not in (None, key):
                continue
            for version, states in by_version.items():
                for state, roles in states.items():
                    if g.role in roles:
                        wanted.setdefault((key, state, where), set()).add(version)
    # a branch for every unit covers the same branch in one unit, for the versions it has
    for key, state, where in [k for k in wanted if k[2] is not None]:
        everywhere = wanted.get((key, state, None))
        if everywhere is not None:
            wanted[(key, state, where)] -= everywhere
            if not wanted[(key, state, where)]:
                del wanted[(key, state, where)]
    out = []
    for (key, state, where), vers in wanted.items():
        having = {v for v, states in table[key].items() if state in states}
        out.append(Branch(key, state, where, None if vers >= having else tuple(sorted(vers))))
    return tuple(sorted(out, key=lambda b: (b.case_type, b.state, b.unit_code or "", b.versions or ())))


def horizon_of(now: datetime, calendar: WorkingCalendar, due_within: int) -> datetime:
    """The end of the ``due_within``-th working day after today (office time): "due soon" ends there (the
    digest's rule)."""
    today = calendar.local(now).date()
    return calendar.day_end_utc(calendar.add_working_days(today, due_within))


def scope(
    session: Session,
    registry: Registry,
    actor: Actor,
    *,
    now: datetime,
    calendar: WorkingCalendar,
    unit: str | None = None,
    case_type: str | None = None,
    search: str | None = None,
    due_within: int = DEFAULT_DUE_WITHIN,
) -> Scope:
    """The :class:`Scope` of one request (one small query: the workflow versions the database knows)."""
    if not isinstance(due_within, int) or not 0 <= due_within <= MAX_DUE_WITHIN:
        raise QueueError(_("'Due soon' must be 0–{max} working days."), max=MAX_DUE_WITHIN)
    if any(v is not None and not (isinstance(v, str) and textsafe.storable(v)) for v in (search, unit, case_type)):
        raise QueueError(_("The search or a filter contains a character that cannot be searched; remove it."))
    text = (search or "").strip()
    prefix = terms.prefix_of(text) if text else None
    branches = branches_for(actor, registry.versions(session), unit=unit or None, case_type=case_type or None)
    return Scope(
        user_id=actor.user_id if actor.kind == "user" else None,
        branches=branches,
        now=now,
        horizon=horizon_of(now, calendar, due_within),
        prefix=prefix,
        matches_nothing=bool(text) and prefix is None,
        dialect=session.get_bind().dialect.name,
    )


def due_status(next_due_at: datetime | None, now: datetime, horizon: datetime) -> str:
    if next_due_at is None:
        return OK
    if next_due_at <= now:
        return OVERDUE
    return DUE_SOON if next_due_at <= horizon else OK


# --- cursors -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    queue: str
    next_due_at: datetime | None
    id: int


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.queue, cursor.next_due_at.isoformat() if cursor.next_due_at else None, cursor.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, queue: str) -> Cursor:
    """The cursor a page gave, for the same queue; anything else is refused (not guessed at): also an id no row
    can have (a database integer is 64 bits) and a time that is not a UTC instant the database can hold."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        q, due, ident = json.loads(raw)
        at = datetime.fromisoformat(due) if due is not None else None
        if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**63:
            raise ValueError("bad cursor")
        if at is not None:
            if at.tzinfo is None:
                raise ValueError("bad cursor")
            at = at.astimezone(UTC)  # OverflowError beyond year 1 or 9999 in UTC
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise QueueError(_("Invalid page marker; reload the queue from its first page.")) from None
    if q != queue:
        raise QueueError(_("This page marker belongs to another queue; reload the queue from its first page."))
    return Cursor(q, at, ident)


# --- statements ----------------------------------------------------------------------------------
#
# Built once per shape (the actor's branches, the queue, where the cursor points, the page size, whether a
# search is given) with named parameters for what changes between requests (now, horizon, user, cursor,
# search prefix), and kept (:func:`functools.lru_cache`): building a union of a few dozen ranges costs
# SQLAlchemy far more than running it.


@dataclass(frozen=True)
class Statement:
    """An executable statement and the values of its named parameters."""

    sql: Any
    params: dict[str, Any]

    def literal(self, bind: Any) -> str:
        """The SQL with the values written in (for ``EXPLAIN`` in tests and benchmarks)."""
        return str(self.sql.params(self.params).compile(bind, compile_kwargs={"literal_binds": True}))


_NOW = sa.bindparam("now", type_=_c.c.next_due_at.type)
_HORIZON = sa.bindparam("horizon", type_=_c.c.next_due_at.type)
_USER = sa.bindparam("user_id", type_=sa.Integer())
_AFTER_DUE = sa.bindparam("after_due", type_=_c.c.next_due_at.type)
_AFTER_ID = sa.bindparam("after_id", type_=sa.Integer())
_TERM_LO = sa.bindparam("term_lo", type_=sa.String())
_TERM_HI = sa.bindparam("term_hi", type_=sa.String())

_ITEM_COLUMNS = (
    _c.c.id,
    _c.c.number,
    _c.c.case_type,
    _c.c.workflow_version,
    _c.c.state,
    _c.c.unit_code,
    _c.c.identity_mode,
    _c.c.next_due_at,
    _c.c.assigned_user_id,
    _c.c.version,
)


def _check_queue(queue: str) -> None:
    if queue not in QUEUES:
        raise QueueError(_("Unknown queue '{queue}' (choose: {choices})."), queue=queue, choices=", ".join(QUEUES))


def _open(cols: Any = _c.c) -> Any:
    # literally ``final = 0`` / ``final = false``: SQLite uses a partial index only if the query's own terms
    # imply the index's WHERE, which a bound parameter would not
    return cols.final == sa.false()


class _Opaque:
    """The case columns wrapped so that no index can serve a condition on them (``coalesce(x, x)``), which
    then stays a filter. Without statistics SQLite picks among indexes by counting equalities: a search
    must be driven by the term index alone (not walk every unassigned case because ``assigned_user_id IS
    NULL`` looked narrow), and a branch in one unit of ``mine`` by the assignee's index, not the unit's."""

    def __getattr__(self, name: str) -> Any:
        col = _c.c[name]
        return sa.func.coalesce(col, col, type_=col.type)


def _branch_terms(b: Branch, queue: str) -> list[Any]:
    """One branch of one queue, written so that exactly one index can serve it: its equalities are a
    prefix of that index, a condition that must not compete for another index is :class:`_Opaque`, and what
    stays a filter is read from the same index (no table lookup):

    * ``mine``: ``ix_case_open_assigned (assigned_user_id, case_type, state | next_due_at, id, unit_code)``;
    * ``unassigned``: ``ix_case_open_state (case_type, state | next_due_at, id, assigned_user_id)`` (or the
      assigned index with ``IS NULL``: either reads only index entries); in one unit ``ix_case_open_unit
      (unit_code, case_type, state | next_due_at, id, assigned_user_id)``;
    * ``due_soon``, ``overdue``: ``ix_case_open_state``; in one unit ``ix_case_open_unit``, both with the
      range on ``next_due_at``.

    A branch limited to some workflow versions (only when a state's acting roles changed between versions)
    also reads ``workflow_version`` from the table and skips the cases of the other versions."""
    opaque = _Opaque()
    out = [_open(), _not_recused(), _c.c.case_type == b.case_type, _c.c.state == b.state]
    if b.versions is not None:
        out.append(_c.c.workflow_version.in_(b.versions))
    unit = b.unit_code
    if queue == MINE:
        out.append(_c.c.assigned_user_id == _USER)
        if unit is not None:
            out.append(opaque.unit_code == unit)
    elif queue == UNASSIGNED:
        if unit is not None:
            out += [_c.c.unit_code == unit, opaque.assigned_user_id.is_(None)]
        else:
            out.append(_c.c.assigned_user_id.is_(None))
    else:
        if unit is not None:
            out.append(_c.c.unit_code == unit)
        out += _queue_terms(queue)
    return out


def _granted(branches: tuple[Branch, ...], cols: Any = _c.c) -> Any:
    """The branches as one predicate, for a search (driven by the term index): an OR over (type, unit,
    versions) of ``state IN (…)``."""
    groups: dict[tuple[str, str | None, tuple[int, ...] | None], list[str]] = {}
    for b in branches:
        groups.setdefault((b.case_type, b.unit_code, b.versions), []).append(b.state)
    parts = []
    for (key, where, versions), states in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        terms_ = [cols.case_type == key, cols.state.in_(sorted(states))]
        if where is not None:
            terms_.append(cols.unit_code == where)
        if versions is not None:
            terms_.append(cols.workflow_version.in_(versions))
        parts.append(sa.and_(*terms_))
    return sa.or_(*parts)


def _not_recused() -> Any:
    """A probe of ``uq_case_recusal (case_id, user_id)`` per row read (SQLite), or an anti-join with the
    actor's few recusals (PostgreSQL): either way the cost follows the rows a page reads."""
    return ~sa.exists().where(_recusals.c.case_id == _c.c.id, _recusals.c.user_id == _USER)


def _matching(bounded: bool) -> Any:
    found = sa.select(_terms.c.case_id).where(_terms.c.term >= _TERM_LO)
    if bounded:
        found = found.where(_terms.c.term < _TERM_HI)
    return _c.c.id.in_(found)


def _queue_terms(queue: str, cols: Any = _c.c) -> list[Any]:
    if queue == MINE:
        return [cols.assigned_user_id == _USER]
    if queue == UNASSIGNED:
        return [cols.assigned_user_id.is_(None)]
    if queue == DUE_SOON:
        return [cols.next_due_at > _NOW, cols.next_due_at <= _HORIZON]
    return [cols.next_due_at <= _NOW]


def _drivers(branches: tuple[Branch, ...], queue: str, search: str | None) -> list[list[Any]]:
    """The WHERE terms of each index range the queue is read from (see the module docstring). ``search``:
    None, ``"bounded"`` or ``"open"`` (a prefix with no successor)."""
    if search is not None:
        cols = _Opaque()
        return [
            [
                _matching(search == "bounded"),
                _open(cols),
                *_queue_terms(queue, cols),
                _not_recused(),
                _granted(branches, cols),
            ]
        ]
    return [_branch_terms(b, queue) for b in branches]


def _member(stmt: Any) -> Any:
    """A union member with its own ORDER BY / LIMIT (SQLite allows those only in a subquery)."""
    sub = stmt.subquery()
    return sa.select(*sub.c)


def _ordered(stmt: Any, n: int) -> Any:
    cols = stmt.selected_columns
    return stmt.order_by(cols.next_due_at, cols.id).limit(n)


def _merged(selects: list[Any], n: int, dialect: str) -> Any:
    """``selects`` (each one index range in ``(next_due_at, id)`` order) as one stream in that order, cut
    after ``n`` rows.

    SQLite merges the ranges lazily (MERGE (UNION ALL) of index scans), so that they read about ``n`` rows
    between them; cutting each range itself would make it sort each one first. PostgreSQL plans the union as
    a merge (Merge Append) only when each range is cut after ``n`` rows itself; without that it turns the
    recusal probe into a hash anti-join and reads every range to its end. Both read at most ``n`` rows per
    branch, whatever the size of the database. (Cases without a due date are ordered by ``(next_due_at, id)``
    too: all NULL, so by id, and PostgreSQL sees that the index gives that order.)"""
    if len(selects) == 1:
        return _ordered(selects[0], n)
    if dialect == "postgresql":
        selects = [_member(_ordered(stmt, n)) for stmt in selects]
    return _ordered(sa.union_all(*selects), n)


def _sort_key(cols: Any) -> list[Any]:
    return [cols.next_due_at.is_(None), cols.next_due_at, cols.id]


@functools.lru_cache(maxsize=512)
def _page_sql(branches: tuple[Branch, ...], queue: str, cursor: str, n: int, search: str | None, dialect: str) -> Any:
    """``cursor``: ``none`` | ``dated`` (the last row had a due date) | ``nulls`` (it had none)."""
    with_null = queue in (MINE, UNASSIGNED)  # due_soon / overdue only hold cases with a due date
    if search is not None:
        # driven by the term index: the matches are filtered and sorted, no index order to keep
        (where,) = _drivers(branches, queue, search)
        cols = _Opaque()
        if cursor == "nulls":
            where.append(sa.and_(cols.next_due_at.is_(None), cols.id > _AFTER_ID))
        elif cursor == "dated":
            where.append(
                sa.or_(
                    cols.next_due_at > _AFTER_DUE,
                    sa.and_(cols.next_due_at == _AFTER_DUE, cols.id > _AFTER_ID),
                    cols.next_due_at.is_(None),
                )
            )
        keys = sa.select(_c.c.next_due_at, _c.c.id).where(*where)
    else:
        # one ordered range per branch, merged: every branch reads its index in (next_due_at, id) order and the
        # merge (SQLite: MERGE (UNION ALL); PostgreSQL: Merge Append) stops after a page, so the ranges read
        # about a page between them. Cases with a due date first; then, apart (NULLs sort first on SQLite and
        # last on PostgreSQL), those without one by id.
        drivers = _drivers(branches, queue, None)
        parts = []
        if cursor != "nulls":
            dated = []
            for where in drivers:
                terms_ = [*where, _c.c.next_due_at.is_not(None)]
                if cursor == "dated":
                    terms_ += [
                        _c.c.next_due_at >= _AFTER_DUE,
                        sa.or_(_c.c.next_due_at > _AFTER_DUE, _c.c.id > _AFTER_ID),
                    ]
                dated.append(sa.select(_c.c.next_due_at, _c.c.id).where(*terms_))
            parts.append(_merged(dated, n, dialect))
        if with_null:
            undated = []
            for where in drivers:
                terms_ = [*where, _c.c.next_due_at.is_(None)]
                if cursor == "nulls":
                    terms_.append(_c.c.id > _AFTER_ID)
                undated.append(sa.select(_c.c.next_due_at, _c.c.id).where(*terms_))
            parts.append(_merged(undated, n, dialect))
        if not parts or not drivers:
            return None
        keys = parts[0] if len(parts) == 1 else sa.union_all(*(_member(p) for p in parts))
    keys = keys.subquery("k")
    top = sa.select(keys.c.next_due_at, keys.c.id).order_by(*_sort_key(keys.c)).limit(n).subquery("top")
    u = _users.alias("u")
    return (
        sa.select(*_ITEM_COLUMNS, u.c.username.label("assigned_to"))
        .select_from(top.join(_c, _c.c.id == top.c.id).outerjoin(u, u.c.id == _c.c.assigned_user_id))
        .order_by(*_sort_key(top.c))
    )


def _params(sc: Scope) -> dict[str, Any]:
    params: dict[str, Any] = {"now": sc.now, "horizon": sc.horizon, "user_id": sc.user_id}
    if sc.prefix is not None:
        params["term_lo"] = sc.prefix
        params["term_hi"] = terms.successor(sc.prefix)
    return params


def _search_mode(sc: Scope) -> str | None:
    if sc.prefix is None:
        return None
    return "bounded" if terms.successor(sc.prefix) is not None else "open"


def page_statement(
    sc: Scope, queue: str, *, cursor: Cursor | None = None, limit: int = DEFAULT_LIMIT
) -> Statement | None:
    """The one statement of a page (``limit + 1`` rows: the extra one says whether a next page exists), or
    None when the scope can match nothing."""
    _check_queue(queue)
    if sc.empty:
        return None
    kind = "none" if cursor is None else ("nulls" if cursor.next_due_at is None else "dated")
    sql = _page_sql(sc.branches, queue, kind, limit + 1, _search_mode(sc), sc.dialect)
    if sql is None:
        return None
    params = _params(sc)
    if cursor is not None:
        params.update(after_due=cursor.next_due_at, after_id=cursor.id)
    return Statement(sql, params)


@functools.lru_cache(maxsize=256)
def _counts_sql(branches: tuple[Branch, ...], cap: int | None, search: str | None) -> Any:
    cols = []
    for queue in QUEUES:
        members = [sa.select(_c.c.id).where(*where) for where in _drivers(branches, queue, search)]
        if cap is not None:
            members = [_member(m.limit(cap + 1)) for m in members]
            union = members[0] if len(members) == 1 else _member(sa.union_all(*members).limit(cap + 1))
        else:
            union = members[0] if len(members) == 1 else sa.union_all(*members)
        counted = sa.select(sa.func.count()).select_from(union.subquery())
        cols.append(counted.scalar_subquery().label(queue))
    return sa.select(*cols)


def counts_statement(sc: Scope, *, cap: int | None = DEFAULT_COUNT_CAP) -> Statement | None:
    """One statement counting all four queues (a column each), each count stopped at ``cap + 1`` rows."""
    if sc.empty:
        return None
    return Statement(_counts_sql(sc.branches, cap, _search_mode(sc)), _params(sc))


# --- running them --------------------------------------------------------------------------------


def page_in(
    session: Session,
    registry: Registry,
    sc: Scope,
    queue: str,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    lang: str = "id",
) -> Page:
    """One page of ``queue`` in the caller's transaction."""
    _check_queue(queue)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueueError(_("The page size must be between 1 and {max}."), max=MAX_LIMIT)
    at = decode_cursor(cursor, queue) if cursor else None
    stmt = page_statement(sc, queue, cursor=at, limit=limit)
    if stmt is None:
        return Page(queue, (), None)
    rows = session.connection().execute(stmt.sql, stmt.params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for r in rows:
        defn = registry.get(session, r.case_type, r.workflow_version).definition
        items.append(
            QueueItem(
                number=r.number,
                case_type=r.case_type,
                type_label=defn.label.get(lang),
                state=r.state,
                state_label=defn.states[r.state].label.get(lang),
                unit=r.unit_code,
                identity_mode=r.identity_mode,
                next_due_at=r.next_due_at,
                due_status=due_status(r.next_due_at, sc.now, sc.horizon),
                assigned_to=r.assigned_to,
                version=r.version,
            )
        )
    last = rows[-1] if rows else None
    nxt = encode_cursor(Cursor(queue, last.next_due_at, last.id)) if more and last is not None else None
    return Page(queue, tuple(items), nxt)


def counts_in(session: Session, sc: Scope, *, cap: int | None = DEFAULT_COUNT_CAP) -> dict[str, QueueCount]:
    """The size of every queue (each at most ``cap``, flagged when there are more), in one statement."""
    if cap is not None and (not isinstance(cap, int) or cap < 1):
        raise QueueError(_("The count cap must be 1 or more."))
    stmt = counts_statement(sc, cap=cap)
    if stmt is None:
        return {q: QueueCount(q, 0) for q in QUEUES}
    row = session.connection().execute(stmt.sql, stmt.params).one()
    out = {}
    for q in QUEUES:
        n = int(row._mapping[q])
        out[q] = QueueCount(q, cap, True) if cap is not None and n > cap else QueueCount(q, n)
    return out


def page(
    engine: WbsEngine,
    actor: Actor,
    queue: str,
    *,
    unit: str | None = None,
    case_type: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    due_within: int = DEFAULT_DUE_WITHIN,
    lang: str = "id",
) -> Page:
    """One page of ``queue`` for ``actor`` at the engine's time, in the office's calendar."""
    _check_queue(queue)
    with unit_of_work(engine.db, write=False) as s:
        sc = scope(
            s,
            engine.registry,
            actor,
            now=engine.now(),
            calendar=engine.calendar(s),
            unit=unit,
            case_type=case_type,
            search=search,
            due_within=due_within,
        )
        return page_in(s, engine.registry, sc, queue, cursor=cursor, limit=limit, lang=lang)


def counts(
    engine: WbsEngine,
    actor: Actor,
    *,
    unit: str | None = None,
    case_type: str | None = None,
    search: str | None = None,
    due_within: int = DEFAULT_DUE_WITHIN,
    cap: int | None = DEFAULT_COUNT_CAP,
) -> dict[str, QueueCount]:
    """How many cases each queue holds for ``actor`` (same filters as :func:`page`)."""
    with unit_of_work(engine.db, write=False) as s:
        sc = scope(
            s,
            engine.registry,
            actor,
            now=engine.now(),
            calendar=engine.calendar(s),
            unit=unit,
            case_type=case_type,
            search=search,
            due_within=due_within,
        )
        return counts_in(s, sc, cap=cap)


__all__ = [
    "QUEUES",
    "MINE",
    "UNASSIGNED",
    "DUE_SOON",
    "OVERDUE",
    "QueueItem",
    "Page",
    "QueueCount",
    "QueueError",
    "Branch",
    "Scope",
    "Cursor",
    "Statement",
    "page",
    "counts",
    "page_in",
    "counts_in",
    "scope",
    "branches_for",
    "page_statement",
    "counts_statement",
    "due_status",
    "encode_cursor",
    "decode_cursor",
]
