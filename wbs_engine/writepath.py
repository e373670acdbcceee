"""The SQL of a case's write path: read a case with its write lock, write it back only if nobody changed it,
its clock rows, case numbers. Core statements, no ORM unit of work (this is the hot path of every fire).

Only the services (:mod:`wbs_engine.engine`) call these. Rules they keep:

* **One lock per case, taken first.** Every writer of a case (a fire, a message, the sweep, the holiday
  recompute) locks the case row before its clock rows (``FOR NO KEY UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` serialises writers anyway), so a fire cannot overwrite a breach the sweep just wrote.
* **Optimistic concurrency.** A case is written back with ``UPDATE … WHERE version = :seen``; a stale
  writer matches no row and gets :class:`ConcurrentChange`.
* **What the queues read is written with the case.** ``case_file.next_due_at`` is recomputed in SQL from the
  clock rows after every write of them (:func:`refresh_next_due`; the sweep and the holiday recompute call it
  too); recusals (``case_recusal``) and search terms (``case_term``) are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from . import clocks, search
from .db import connection, of_dialect, prepared, upsert_insert
from .errors import ConcurrentChange, NotFound
from .i18n import gettext_noop as _
from .models import Case, CaseCounter, CaseRecusal, CaseTerm, Clock, Unit

_cases = Case.__table__
_clocks = Clock.__table__
_units = Unit.__table__
_counters = CaseCounter.__table__
_recusals = CaseRecusal.__table__
_terms = CaseTerm.__table__

#: columns a fire may change (never ``data_key``, ``receipt_hash``, ``number``, ``created_at``)
MUTABLE = (
    "sealed_fields",
    "state",
    "phase",
    "final",
    "unit_code",
    "assigned_user_id",
    "data",
    "identity_enc",
    "confidential_enc",
    "updated_at",
    "closed_at",
)
COLUMNS = tuple(c.name for c in _cases.columns)

_CASE_FOR_WRITE = sa.select(_cases).where(_cases.c.number == sa.bindparam("number")).with_for_update(key_share=True)
_WRITE_CASE = (
    sa.update(_cases)
    .where(_cases.c.id == sa.bindparam("b_id"), _cases.c.version == sa.bindparam("b_version"))
    .values({c: sa.bindparam(c) for c in (*MUTABLE, "version")})
)
_BUMP_VERSION = (
    sa.update(_cases)
    .where(_cases.c.id == sa.bindparam("b_id"), _cases.c.version == sa.bindparam("b_version"))
    .values(version=sa.bindparam("version"))
)
_RECUSED_OF = sa.select(_recusals.c.user_id).where(_recusals.c.case_id == sa.bindparam("case_id"))
_INSERT_RECUSAL = sa.insert(_recusals)
_DELETE_RECUSAL = sa.delete(_recusals).where(
    _recusals.c.case_id == sa.bindparam("b_case_id"), _recusals.c.user_id == sa.bindparam("b_user_id")
)
_DELETE_TERMS = sa.delete(_terms).where(_terms.c.case_id == sa.bindparam("case_id"))
_INSERT_TERM = sa.insert(_terms)
#: statuses whose ``due_at`` is a deadline still ahead of the case (a breached clock stays overdue until it is
#: stopped or extended)
DUE_STATUSES = (clocks.RUNNING, clocks.BREACHED)
_REFRESH_NEXT_DUE = (
    sa.update(_cases)
    .where(_cases.c.id == sa.bindparam("b_case_id"))
    .values(
        next_due_at=sa.select(sa.func.min(_clocks.c.due_at))
        .where(
            _clocks.c.case_id == sa.bindparam("b_case_id"),
            # one bound value each, not an expanding IN: the statement is compiled once (db.Prepared)
            _clocks.c.status.in_([sa.bindparam(f"due_status_{i}", s) for i, s in enumerate(DUE_STATUSES)]),
        )
        .scalar_subquery()
    )
)
_CLOCKS_OF = sa.select(_clocks).where(_clocks.c.case_id == sa.bindparam("case_id"))
_INSERT_CLOCK = sa.insert(_clocks).returning(_clocks.c.id)
_UPDATE_CLOCK = (
    sa.update(_clocks)
    .where(_clocks.c.id == sa.bindparam("b_id"))
    .values({c: sa.bindparam(c) for c in clocks.STATE_COLUMNS})
)
# The write path runs these statements on the DB-API cursor (``prepared(…)``, :class:`wbs_engine.db.Prepared`:
# compiled once, the same SQL and conversions); the columns its INSERTs pass:
_TERM_KEYS = ("case_id", "term")
_CLOCK_KEYS = ("case_id", "name", *clocks.STATE_COLUMNS)


class CaseRecord(SimpleNamespace):
    """A case row as a plain value: the fire path's working copy (a SQLModel instance costs 40 µs to build
    and would be flushed by the ORM; this one is written back with one conditional UPDATE).

    ``recused`` holds the ids of the users kept off the case (``case_recusal``) as a frozenset; an effect
    replaces it, and :func:`write_case` writes the difference from ``recused_as_read``."""

    @classmethod
    def of(cls, case: Any) -> CaseRecord:
        if isinstance(case, CaseRecord):
            return case
        recused = frozenset(case.recused)  # an ORM case loads its recusals with it (one query per batch)
        return cls(**{c: getattr(case, c) for c in COLUMNS}, recused=recused, recused_as_read=recused)


def case_for_write(s: Session, number: str) -> CaseRecord:
    """The case, read with its write lock, and its recusals (one query), as a detached value."""
    row = prepared(_CASE_FOR_WRITE).first(s, {"number": number.strip().upper()})
    if row is None:
        raise NotFound(_("Case {number} not found."), number=number)
    recused = frozenset(r.user_id for r in prepared(_RECUSED_OF).all(s, {"case_id": row.id}))
    return CaseRecord(**row._asdict(), recused=recused, recused_as_read=recused)


_INSERT_CASE = sa.insert(_cases).returning(_cases.c.id)
_NEW_CASE_KEYS = tuple(c for c in COLUMNS if c != "id")


def insert_case(s: Session, case: Case) -> None:
    """Insert a new ORM ``case`` with one Core statement (every column but ``id``, as the flush would) and
    make it persistent in the session without a flush: its id set, its attributes as loaded (lazy
    relationships such as ``recusals`` load on access as for any loaded case)."""
    values = {c: getattr(case, c) for c in _NEW_CASE_KEYS}
    case.id = prepared(_INSERT_CASE, _NEW_CASE_KEYS).first(s, values).id
    make_transient_to_detached(case)
    s.add(case)


def write_case(s: Session, case: CaseRecord) -> None:
    """Write the case's mutable columns if nobody changed it since it was read; moves its version on. Then
    the recusals an effect added or removed, in the same transaction."""
    values = {c: getattr(case, c) for c in MUTABLE}
    values.update(b_id=case.id, b_version=case.version, version=case.version + 1)
    if prepared(_WRITE_CASE).run(s, values) != 1:
        raise ConcurrentChange(case.number)
    case.version += 1
    added = sorted(case.recused - case.recused_as_read)
    removed = sorted(case.recused_as_read - case.recused)
    conn = connection(s)
    if added:
        conn.execute(
            _INSERT_RECUSAL, [{"case_id": case.id, "user_id": u, "created_at": case.updated_at} for u in added]
        )
    if removed:
        conn.execute(_DELETE_RECUSAL, [{"b_case_id": case.id, "b_user_id": u} for u in removed])
    case.recused_as_read = case.recused


def write_terms(s: Session, case_id: int, number: str, plain: dict[str, Any]) -> None:
    """Replace the case's search terms (:mod:`wbs_engine.search`) by those of its number and ``plain``, its
    plain values (all of them, not only the ones that changed)."""
    prepared(_DELETE_TERMS).run(s, {"case_id": case_id})
    rows = search.rows(case_id, number, plain)
    if rows:
        prepared(_INSERT_TERM, _TERM_KEYS).many(s, rows)


def refresh_next_due(s: Session, case_id: int) -> None:
    """Recompute ``case_file.next_due_at`` from the case's clock rows, in SQL (whoever wrote the clocks, the
    value cannot disagree with them). Call it after writing clock rows, with the case locked."""
    prepared(_REFRESH_NEXT_DUE).run(s, {"b_case_id": case_id})


def bump_version(s: Session, case: Case) -> None:
    """Move an ORM case's version on (a message changes the case without a transition)."""
    res = s.connection().execute(
        _BUMP_VERSION, {"b_id": case.id, "b_version": case.version, "version": case.version + 1}
    )
    if res.rowcount != 1:
        raise ConcurrentChange(case.number)
    set_committed_value(case, "version", case.version + 1)  # the row already holds it: no second write


def read_clocks(s: Session, case_id: int) -> tuple[dict[str, int], dict[str, clocks.ClockState]]:
    """The case's clock rows: their ids and states by name."""
    ids: dict[str, int] = {}
    states: dict[str, clocks.ClockState] = {}
    for r in prepared(_CLOCKS_OF).all(s, {"case_id": case_id}):
        ids[r.name] = r.id
        states[r.name] = clocks.from_row(r)
    return ids, states


def write_clocks(
    s: Session, case_id: int, changes: Iterable[clocks.ClockChange], ids: dict[str, int]
) -> list[dict[str, Any]]:
    """Write the clock rows; returns what changed, for the audit event of the same fire."""
    log = []
    for ch in changes:
        values = clocks.row_values(ch.state)
        if ch.name in ids:
            prepared(_UPDATE_CLOCK).run(s, {**values, "b_id": ids[ch.name]})
        else:
            row = {**values, "case_id": case_id, "name": ch.name}
            ids[ch.name] = prepared(_INSERT_CLOCK, _CLOCK_KEYS).first(s, row).id
        entry: dict[str, Any] = {"clock": ch.name, "action": ch.action, "status": ch.state.status}
        if ch.state.due_date:
            entry["due_date"] = ch.state.due_date.isoformat()
        if ch.state.remaining_days is not None:
            entry["remaining_days"] = ch.state.remaining_days
        log.append(entry)
    if log:
        refresh_next_due(s, case_id)
    return log


def _next_number_stmt(dialect: str) -> sa.sql.ClauseElement:
    stmt = upsert_insert(dialect)(_counters).values(key=sa.bindparam("key"), last=1)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"last": _counters.c.last + 1})
    return stmt.returning(_counters.c.last)


#: the counter's upsert, per dialect (built once: it runs in every filing)
_NEXT_NUMBER = {d: _next_number_stmt(d) for d in ("postgresql", "sqlite")}
_DEFAULT_UNIT = sa.select(_units.c.code).order_by(_units.c.id).limit(1)


def next_number(s: Session, prefix: str, now: datetime, zone: ZoneInfo) -> str:
    """``PREFIX-YEAR-NNNNNN``: the next number of the prefix in the office's year, taken in the same
    transaction as the case (a rolled-back filing leaves no gap)."""
    key = f"{prefix}-{now.astimezone(zone).year}"
    last = prepared(of_dialect(s, _NEXT_NUMBER)).first(s, {"key": key}).last
    return f"{key}-{last:06d}"


def default_unit(s: Session) -> str | None:
    row = prepared(_DEFAULT_UNIT).first(s)
    return None if row is None else row.code
