"""Retention: destroying the content of closed cases whose retention period has run, with a record.

Every workflow says how many years after closure a case is kept (``retention_years``, of the case's own
workflow version). What this module promises:

* **What is due.** :func:`due_for_destruction`: closed cases whose closing day (in the office's zone) plus
  ``retention_years`` is on or before today (office time), and whose content is still there. A closing day
  of 29 February whose anniversary year has none is due on 1 March: a case is never destroyed before its
  full period has run.
* **What destroying does.** :func:`destroy` (an administrator only, with the legal basis they give, e.g.
  "JRA Perka ANRI 22/2015"): in ONE transaction, with each case locked, the case's data key is deleted
  (``case_file.data_key`` = NULL: crypto-shredding; every value sealed with it — identity, confidential
  fields, reasons, messages, attachment names, survey comments, identity requests — can never be opened
  again), a ``content_destroyed`` event goes on each case's chain, and ONE destruction record (berita acara
  pemusnahan, ``destruction_recorded``) on the ``system`` chain names the cases, the count and the basis;
  the actor of both is the administrator. After the commit the attachments' files are deleted from disk
  (they were already unreadable: their key is derived from the deleted data key).
* **Nothing is deleted silently.** No row of ``case_file``, ``case_event``, ``message`` or ``attachment`` is
  deleted: plain fields, states, clocks, the trail and the ciphertexts stay, so ``verify-audit`` still
  passes (the trail's hashes cover ciphertext, and its replay accepts a missing key after a
  ``content_destroyed`` event). A key deleted without that event is reported by ``verify-audit``.
* **Idempotent.** A case already destroyed is never destroyed again; an apply with nothing due writes
  nothing (no record of zero cases). Files left on disk by a crash between the commit and their deletion
  are deleted by the next apply.
* **The scheduler never destroys**: it only tells the admins how many cases are due (:func:`due_count`).

Copies of the database made before the destruction still hold the wrapped keys; they expire with the
office's backup rotation (``docs/decisions.md``, Retention).
"""

from __future__ import annotations

import calendar as _calendar_module
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from . import audit, files, textsafe
from .db import unit_of_work
from .engine import WbsEngine
from .errors import NotAllowed, NotFound, ValidationFailed, WbsError
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Attachment, Case, Outbox
from .permissions import Actor

#: what :func:`destroy` takes for "every case that is due"
ALL_DUE = "all due"
#: the longest legal basis accepted, in characters
MAX_BASIS = 500
#: the most cases one destruction record names (a larger backlog: apply again)
MAX_BATCH = 5000

_cases = Case.__table__
_attachments = Attachment.__table__


class NotDue(WbsError):
    """A case named for destruction that is not closed, or whose retention period has not run yet."""

    status, code = 409, "not_due"


@dataclass(frozen=True)
class Due:
    """A closed case whose retention period has run: its number, type, closing day (office zone), the years
    its workflow version keeps it, and the day it became due."""

    number: str
    case_type: str
    unit: str | None
    closed_on: date
    retention_years: int
    due_on: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "type": self.case_type,
            "unit": self.unit,
            "closed_on": self.closed_on.isoformat(),
            "retention_years": self.retention_years,
            "due_on": self.due_on.isoformat(),
        }


@dataclass
class Record:
    """What :func:`destroy` did: the cases destroyed (none when nothing was due: then no event was written),
    by whom, on which basis, and the destruction record's place on the ``system`` chain."""

    numbers: list[str]
    by: str
    basis: str
    at: datetime | None = None
    seq: int | None = None
    hash: str | None = None
    #: attachment files deleted from disk (also leftovers of an earlier destruction)
    files_deleted: int = 0
    #: cases named that were destroyed already (nothing was done to them)
    already: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.numbers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "numbers": self.numbers,
            "count": self.count,
            "by": self.by,
            "basis": self.basis,
            "at": self.at.isoformat() if self.at else None,
            "seq": self.seq,
            "hash": self.hash,
            "files_deleted": self.files_deleted,
            "already": self.already,
        }


def add_years(day: date, years: int) -> date:
    """``day`` plus ``years`` calendar years; 29 February without one that year gives 1 March (never early)."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not _calendar_module.isleap(year):
        return date(year, 3, 1)
    return day.replace(year=year)


def office_today(engine: WbsEngine) -> date:
    return engine.now().astimezone(engine.settings.zone).date()


def _due_of(engine: WbsEngine, s: Session, case: Any) -> Due:
    years = engine.registry.get(s, case.case_type, case.workflow_version).definition.retention_years
    closed_on = case.closed_at.astimezone(engine.settings.zone).date()
    return Due(case.number, case.case_type, case.unit_code, closed_on, years, add_years(closed_on, years))


def _due_in(engine: WbsEngine, s: Session, today: date) -> list[Due]:
    # every retention is at least one year (definition: ge=1), and any year has at least 365 days: cases
    # closed later than that cannot be due; the exact test is per case, on its own workflow version
    latest = datetime.combine(today + timedelta(days=1), datetime.min.time(), engine.settings.zone) - timedelta(
        days=365
    )
    rows = s.exec(
        select(Case)
        .where(
            Case.final == True,  # noqa: E712
            Case.closed_at.is_not(None),
            Case.closed_at < latest,
            Case.data_key.is_not(None),
        )
        .order_by(Case.closed_at, Case.id)
    ).all()
    out = [_due_of(engine, s, c) for c in rows]
    return [d for d in out if d.due_on <= today]


def due_for_destruction(engine: WbsEngine, today: date | None = None) -> list[Due]:
    """Closed cases whose content is due for destruction on ``today`` (default: today, office time), oldest
    closure first. Reads only: what it lists stays until an administrator runs :func:`destroy`."""
    today = today or office_today(engine)
    with unit_of_work(engine.db, write=False) as s:
        return _due_in(engine, s, today)


def due_count(engine: WbsEngine, s: Session, today: date) -> int:
    """How many cases are due on ``today``, inside the caller's transaction (the admins' daily digest)."""
    return len(_due_in(engine, s, today))


def _require_admin(actor: Actor | None) -> None:
    if actor is None or actor.kind != "user" or not any(g.role == "admin" for g in actor.grants):
        raise NotAllowed(_("Only an administrator may destroy the content of cases."))


def check_basis(basis: Any) -> str:
    """The legal basis as recorded: one line, not empty, at most :data:`MAX_BASIS` characters."""
    text = " ".join(basis.split()) if isinstance(basis, str) else ""
    if not text or not textsafe.storable(text):
        raise ValidationFailed(
            {"basis": Msg(_("give the legal basis of the destruction (e.g. the retention schedule it follows)"))}
        )
    if len(text) > MAX_BASIS:
        raise ValidationFailed({"basis": Msg(_("at most {max} characters"), max=MAX_BASIS)})
    return text


def destroy(
    engine: WbsEngine, numbers: list[str] | str, actor: Actor, basis: str, *, today: date | None = None
) -> Record:
    """Destroy the content of the cases ``numbers`` (or :data:`ALL_DUE`), each of which must be due, and write
    the destruction record. Only an administrator. See the module's docstring for what it does and keeps.

    ``NotAllowed`` for anyone else, ``ValidationFailed`` for a missing basis, ``NotFound`` for an unknown
    number and ``NotDue`` for a case that is not due (nothing is destroyed then). Cases destroyed already are
    listed in :attr:`Record.already` and left as they are."""
    _require_admin(actor)
    basis = check_basis(basis)
    today = today or office_today(engine)
    now = engine.now()
    record = Record(numbers=[], by=actor.username, basis=basis)
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        if numbers == ALL_DUE:
            wanted = [d.number for d in _due_in(engine, s, today)][:MAX_BATCH]
        elif isinstance(numbers, list | tuple) and all(isinstance(n, str) for n in numbers):
            wanted = sorted({textsafe.line(n).strip().upper() for n in numbers})
            if len(wanted) > MAX_BATCH:
                raise ValidationFailed({"numbers": Msg(_("at most {max} cases at once"), max=MAX_BATCH)})
        else:
            raise ValidationFailed({"numbers": Msg(_("name the cases, or all that are due"))})
        # lock every case first, in number order (two admins at once cannot deadlock), then decide on what
        # the locked rows say: a case destroyed meanwhile is "already"
        locked = []
        for number in sorted(wanted):
            case = engine.get_case(s, number, lock=True)
            s.refresh(case)
            if case.data_key is None:
                record.already.append(case.number)
                continue
            if not case.final or case.closed_at is None:
                raise NotDue(_("Case {number} is not closed: its content is kept."), number=case.number)
            due = _due_of(engine, s, case)
            if due.due_on > today:
                raise NotDue(
                    _("Case {number} is kept until {date} ({years} years after closure)."),
                    number=case.number,
                    date=due.due_on.isoformat(),
                    years=due.retention_years,
                )
            locked.append(case)
        if locked:
            record.numbers = [c.number for c in locked]
            ev = audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="destruction_recorded",
                actor=actor.username,
                actor_role="admin",
                now=now,
                payload={"cases": record.numbers, "count": len(locked), "basis": basis},
            )
            record.at, record.seq, record.hash = now, ev.seq, ev.hash
            for case in locked:
                _destroy_one(s, case, actor, now, ev.seq)
    record.files_deleted = _delete_files(engine)
    return record


def _destroy_one(s: Session, case: Case, actor: Actor, now: datetime, record_seq: int) -> None:
    conn = s.connection()
    attachments = conn.execute(
        sa.select(sa.func.count()).select_from(_attachments).where(_attachments.c.case_id == case.id)
    ).scalar_one()
    res = conn.execute(
        sa.update(_cases)
        .where(_cases.c.id == case.id, _cases.c.version == case.version)
        .values(data_key=None, version=case.version + 1, updated_at=now)
    )
    if res.rowcount != 1:  # cannot happen under the lock; never destroy a row someone else moved
        raise NotFound(_("Case {number} not found."), number=case.number)
    # the case's mail: a reporter's address is sealed with the OFFICE key (the outbox must reach them), so the
    # case key's deletion alone would leave it readable; the rows stay (their count is history), emptied, and
    # what was still to be sent is not sent about a destroyed case
    outbox = Outbox.__table__
    conn.execute(
        sa.update(outbox)
        .where(outbox.c.case_id == case.id)
        .values(recipient="-", subject="-", body="", seal=None, last_error="content destroyed")
    )
    conn.execute(
        sa.update(outbox).where(outbox.c.case_id == case.id, outbox.c.status == "pending").values(status="failed")
    )
    audit.append(
        s,
        chain=case.number,
        case_id=case.id,
        kind="content_destroyed",
        actor=actor.username,
        actor_role="admin",
        now=now,
        # which destruction record (its seq on the system chain) and how many files went with the key
        payload={"case_version": case.version + 1, "record": record_seq, "attachments": attachments},
    )
    s.expire(case)


def _delete_files(engine: WbsEngine) -> int:
    """Delete the files of every case whose key is gone (the ones just destroyed, and any left by a crash
    after an earlier commit). Returns how many were on disk."""
    with unit_of_work(engine.db, write=False) as s:
        ids = (
            s.connection()
            .execute(
                sa.select(_attachments.c.file_id)
                .join(_cases, _cases.c.id == _attachments.c.case_id)
                .where(_cases.c.data_key.is_(None))
            )
            .scalars()
            .all()
        )
    deleted = 0
    for file_id in ids:
        try:
            path = files.storage_path(engine.settings, file_id)
        except ValueError:
            continue
        if path.exists():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def is_destroyed(case: Any) -> bool:
    """Whether ``case``'s content was destroyed (its data key is gone)."""
    return getattr(case, "data_key", None) is None


#: the sentence every view shows for a destroyed case
DESTROYED_NOTE = _(
    "The content of this case was destroyed at the end of its retention period (berita acara pemusnahan in "
    "the audit trail); its sealed fields, messages and attachments can no longer be opened."
)
