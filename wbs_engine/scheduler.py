"""The scheduler: one idempotent :func:`sweep` over due SLA clocks, outbox delivery, the daily digest and
the audit checkpoint, wired into APScheduler by :func:`build_scheduler`.

Rules (docs/architecture.md):

* The sweep finds due clocks with an indexed query on ``case_clock.next_action_at`` (never a scan of the
  cases), in batches, oldest first.
* Each clock action is one transaction: the ``clock_action`` row (unique per clock, action and due time)
  is inserted first, then the audit event, the outbox rows, a fire through the engine if the workflow asks
  for one, and the clock row moved on to its next action. A crash leaves nothing half-done; a repeat (a
  second instance, a re-run after a crash) hits the unique constraint and does nothing.
* Every write to a case takes the case row's lock first, then its clock rows (the engine's fire and
  ``post_message``, the holiday recompute, and this sweep), so they are ordered and cannot deadlock. On
  PostgreSQL the sweep takes the case with ``FOR NO KEY UPDATE SKIP LOCKED``: a case another transaction
  holds (a user's fire, another sweeping instance) is skipped as *busy* and done by the next sweep. SQLite
  has one writer at a time (``BEGIN IMMEDIATE``).
* Outbox delivery never holds a transaction while it talks to the SMTP server: it leases a row (short
  transaction), sends, then records the result (another short transaction). See :func:`deliver_outbox`.
* Mail never carries the reporter's identity or the report's text (the templates in :mod:`notify` avoid it).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from . import audit, clocks, notify, writepath
from .calendar import WorkingCalendar
from .db import unit_of_work
from .errors import ConcurrentChange, WbsError
from .i18n import N_, Msg, lang_of, render
from .i18n import gettext_noop as _
from .models import Case, Clock, ClockAction, Outbox, RoleGrant, User

if TYPE_CHECKING:
    from .config import Settings
    from .engine import WbsEngine

log = logging.getLogger("wbs_engine.scheduler")

#: The default zone of the daily jobs; :func:`build_scheduler` uses the office's (``Settings.timezone``).
TIMEZONE = "Asia/Jakarta"
MAX_TRIES = 3  # per clock and sweep, for transient conflicts (another writer on the same case)

#: How long an outbox row taken for sending belongs to its deliverer (status ``sending``, the expiry in
#: ``next_attempt_at``). A deliverer that dies before recording the result leaves the row to be taken
#: again once this has passed. Well above what one SMTP exchange may take (20 s per socket operation).
SEND_LEASE = timedelta(minutes=5)
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

#: Test hook: called inside a clock's transaction after its action is done and before the commit.
#: Crash tests set it to kill the process at that point; production leaves it None.
_before_commit: Callable[[Session, Clock, str], None] | None = None


# --- reports -------------------------------------------------------------------------------------


class _ErrorText(Msg):
    """An error as a parameter of a report's message: rendered with the error's own ``message(lang)`` (which
    may say more than its msgid, e.g. every field of a :class:`~wbs_engine.errors.ValidationFailed`)."""

    __slots__ = ("error",)

    def __init__(self, error: WbsError):
        super().__init__(error.msg.msgid)
        self.error = error.with_traceback(None)  # the report keeps the message, not the sweep's frames

    def render(self, lang: str | None = None) -> str:
        return self.error.message(lang_of(lang))


@dataclass
class SweepItem:
    """One clock action the sweep did. ``detail`` says what, in English (the JSON report's words);
    :meth:`describe` says it in a reader's language."""

    number: str
    clock: str
    action: str  # remind:N | breach
    detail: str
    due_at: datetime | None = None
    #: ``detail`` as catalogue messages (joined with "; "); not in :meth:`SweepReport.to_dict`
    notes: tuple[Msg, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, number: str, clock: str, action: str, notes: list[Msg], due_at: datetime | None) -> SweepItem:
        item = cls(number, clock, action, "", due_at, tuple(notes))
        item.detail = item.describe("en")
        return item

    def describe(self, lang: str) -> str:
        return "; ".join(m.render(lang) for m in self.notes) if self.notes else self.detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "clock": self.clock,
            "action": self.action,
            "detail": self.detail,
            "due_at": self.due_at,
        }


@dataclass
class SweepReport:
    now: datetime
    items: list[SweepItem] = field(default_factory=list)
    reminders: int = 0
    breaches: int = 0
    fired: int = 0
    fire_refused: int = 0
    duplicates: int = 0
    busy: int = 0  # due, but the case was held by another transaction: left to the next sweep
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.reminders + self.breaches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, items=[]))
        d["items"] = [item.to_dict() for item in self.items]
        d["done"] = self.done
        return d

    def summary(self, lang: str = "id") -> list[str]:
        """What the sweep did, in ``lang``: one line per clock action, then the counts and the errors."""
        lines: list[str] = []
        if not self.items and not self.errors and not self.busy:
            lines.append(render(_("Nothing due."), lang))
            if self.duplicates:
                lines.append(render(_("({n} already done by another run)"), lang, n=self.duplicates))
            return lines
        for it in self.items:
            lines.append(f"{it.number}  {it.clock:<24} {it.action:<10} {it.describe(lang)}")
        counts = Msg(
            _("{reminders}, {breaches}, {fired}, {refused}, {duplicates}, {busy}, {errors}."),
            reminders=Msg.count(N_("{n} reminder", "{n} reminders"), self.reminders),
            breaches=Msg.count(N_("{n} breach", "{n} breaches"), self.breaches),
            fired=Msg.count(N_("{n} automatic transition", "{n} automatic transitions"), self.fired),
            refused=Msg(_("{n} refused"), n=self.fire_refused),
            duplicates=Msg(_("{n} already done"), n=self.duplicates),
            busy=Msg(_("{n} busy (left to the next sweep)"), n=self.busy),
            errors=Msg.count(N_("{n} error", "{n} errors"), len(self.errors)),
        )
        lines.append(counts.render(lang))
        lines.extend(render(_("Error: {message}"), lang, message=e) for e in self.errors)
        return lines


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self, lang: str = "id") -> list[str]:
        head = render(
            _("{sent} sent, {retried} to retry, {failed} failed for good."),
            lang,
            sent=self.sent,
            retried=self.retried,
            failed=self.failed,
        )
        return [head, *self.errors]


@dataclass
class DigestReport:
    queued: int = 0
    users: list[str] = field(default_factory=list)

    def summary(self, lang: str = "id") -> list[str]:
        if not self.queued:
            return [render(_("No digest to send."), lang)]
        pair = N_("{n} digest queued: {users}", "{n} digests queued: {users}")
        return [Msg.count(pair, self.queued, users=", ".join(self.users)).render(lang)]


# --- the sweep -----------------------------------------------------------------------------------


def _is_pg(engine: WbsEngine) -> bool:
    return engine.db.dialect.name == "postgresql"


def _due_query(now: datetime, exclude: set[int], limit: int):
    stmt = (
        select(Clock.id)
        .where(Clock.next_action_at <= now, Clock.status == clocks.RUNNING)
        .order_by(Clock.next_action_at, Clock.id)
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(Clock.id.not_in(sorted(exclude)))
    return stmt


def sweep(engine: WbsEngine, *, limit: int = 500) -> SweepReport:
    """Do every clock action due now (the engine's clock) exactly once; safe to run again and from several
    processes."""
    now = engine.now()
    report = SweepReport(now=now)
    with unit_of_work(engine.db, write=False) as s:
        cal = engine.calendar(s)
    exclude: set[int] = set()  # clocks another instance holds, or that failed in this sweep
    tries: dict[int, int] = {}
    while True:
        with unit_of_work(engine.db, write=False) as s:
            ids = list(s.exec(_due_query(now, exclude, limit)).all())
        if not ids:
            break
        for clock_id in ids:
            outcome = _sweep_one(engine, clock_id, now, cal, report)
            if outcome == "retry":
                tries[clock_id] = tries.get(clock_id, 0) + 1
                if tries[clock_id] >= MAX_TRIES:
                    exclude.add(clock_id)
                    report.errors.append(f"clock {clock_id}: gave up after {MAX_TRIES} conflicting attempts")
            elif outcome == "busy":
                exclude.add(clock_id)
                report.busy += 1
            elif outcome in ("gone", "error"):
                exclude.add(clock_id)
    return report


def _claim(engine: WbsEngine, s: Session, clock_id: int, now: datetime) -> tuple[Case, Clock] | str:
    """Take the clock's case, then the clock if it is still due: ``(case, clock)``, or ``"busy"`` (another
    transaction holds the case; PostgreSQL, SKIP LOCKED) or ``"gone"`` (no longer due: done meanwhile,
    stopped, paused or moved by a fire).

    The case row is locked first, as every writer of a case does (the engine's fire reads it ``FOR NO KEY
    UPDATE`` before its clocks); the clock is read again after that, so what the sweep acts on is what the
    last committed fire left."""
    pg = _is_pg(engine)
    case_id = s.exec(select(Clock.case_id).where(Clock.id == clock_id)).first()
    if case_id is None:
        return "gone"
    case_stmt = select(Case).where(Case.id == case_id)
    if pg:
        case_stmt = case_stmt.with_for_update(key_share=True, skip_locked=True)
    case = s.exec(case_stmt).first()
    if case is None:
        return "busy"
    stmt = select(Clock).where(Clock.id == clock_id, Clock.status == clocks.RUNNING, Clock.next_action_at <= now)
    if pg:
        stmt = stmt.with_for_update(key_share=True)
    row = s.exec(stmt).first()
    return "gone" if row is None else (case, row)


def _sweep_one(engine: WbsEngine, clock_id: int, now: datetime, cal: WorkingCalendar, report: SweepReport) -> str:
    """One clock action in one transaction. Returns done | busy | gone | duplicate | retry | error."""
    item: SweepItem | None = None
    counts: dict[str, int] = {}
    claimed: tuple[str, datetime] | None = None
    try:
        with unit_of_work(engine.db) as s:
            got = _claim(engine, s, clock_id, now)
            if isinstance(got, str):
                return got
            case, row = got
            action, due = row.next_action or "breach", row.next_action_at
            claimed = (action, due)
            s.add(ClockAction(clock_id=row.id, action=action, due_at=due, done_at=now))
            s.flush()  # the unique (clock, action, due time) turns a repeat into an IntegrityError here
            item, counts = _act(engine, s, case, row, action, now, cal)
            if _before_commit is not None:
                _before_commit(s, row, action)
    except IntegrityError as exc:
        if claimed is None or not _skip_done(engine, clock_id, claimed, now, cal):
            log.info("clock %s: integrity conflict, will retry: %s", clock_id, exc)
            return "retry"  # e.g. an outbox dedupe race; the action itself was not recorded
        report.duplicates += 1
        return "duplicate"
    except (ConcurrentChange, OperationalError) as exc:
        log.info("clock %s: conflict, will retry: %s", clock_id, exc)
        return "retry"
    except Exception as exc:  # one broken case must not stop the sweep for every other case
        log.exception("clock %s: sweep failed", clock_id)
        report.errors.append(f"clock {clock_id}: {exc}")
        return "error"
    if item is not None:
        report.items.append(item)
    for k, v in counts.items():
        setattr(report, k, getattr(report, k) + v)
    return "done"


def _skip_done(
    engine: WbsEngine, clock_id: int, claimed: tuple[str, datetime], now: datetime, cal: WorkingCalendar
) -> bool:
    """True when the action is already recorded. If the clock still points at it (a clock re-armed onto
    the same due time), move it on without doing the action again, so the sweep cannot loop on it."""
    with unit_of_work(engine.db) as s:
        done = s.exec(
            select(ClockAction.id).where(
                ClockAction.clock_id == clock_id, ClockAction.action == claimed[0], ClockAction.due_at == claimed[1]
            )
        ).first()
        if done is None:
            return False
        got = _claim(engine, s, clock_id, now)
        if isinstance(got, str) or (got[1].next_action, got[1].next_action_at) != claimed:
            return True
        case, row = got
        spec = engine.workflow(s, case).definition.clocks.get(row.name)
        _advance(engine, row, claimed[0], spec, now, cal)
        _write_clock(s, row)
        return True


def _advance(engine: WbsEngine, row: Clock, action: str, spec, now: datetime, cal: WorkingCalendar) -> None:
    st = clocks.from_row(row)
    if action.startswith("remind:") and spec is not None:
        st = clocks.mark_reminded(spec, st, int(action.split(":", 1)[1]), cal)
    else:
        st = clocks.mark_breached(st, now)
    for column, value in clocks.row_values(st).items():
        setattr(row, column, value)


def _write_clock(s: Session, row: Clock) -> None:
    """Write the clock row now, and the case's ``next_due_at`` from its clocks (the queues read it)."""
    s.add(row)
    s.flush()
    writepath.refresh_next_due(s, row.case_id)


def _act(
    engine: WbsEngine, s: Session, case: Case, row: Clock, action: str, now: datetime, cal: WorkingCalendar
) -> tuple[SweepItem, dict[str, int]]:
    from .permissions import Actor

    defn = engine.workflow(s, case).definition
    spec = defn.clocks.get(row.name)
    if spec is None:
        raise WbsError(_("clock '{clock}' not in {workflow}"), clock=row.name, workflow=defn.ident)
    due_date = row.due_date.isoformat() if row.due_date else "-"

    if action.startswith("remind:"):
        users = notify.notify_staff(
            s,
            engine,
            defn,
            case,
            notify.acting_roles(defn, case.state),
            kind="reminder",
            now=now,
            dedupe=f"remind:{row.id}:{action}:{row.next_action_at.isoformat()}",
            clock=lambda u: spec.label.get(u.lang),
            due_date=due_date,
        )
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="clock_reminder",
            actor="system",
            now=now,
            payload={
                "clock": row.name,
                "action": action,
                "due_date": due_date,
                "notified": sorted(u.username for u in users),
            },
        )
        _advance(engine, row, action, spec, now, cal)
        _write_clock(s, row)
        who = ", ".join(sorted(u.username for u in users)) or "-"
        note = Msg(_("due {date}; to {users}"), date=due_date, users=who)
        return SweepItem.of(case.number, row.name, action, [note], row.due_at), {"reminders": 1}

    # breach: mark the clock first, so a fire that closes the case stops the (breached) clock afterwards
    counts = {"breaches": 1}
    _advance(engine, row, "breach", spec, now, cal)
    _write_clock(s, row)
    payload: dict[str, Any] = {"clock": row.name, "due_date": due_date}
    details = [Msg(_("due {date}"), date=due_date)]
    if spec.on_breach.escalate_to:
        users = notify.notify_staff(
            s,
            engine,
            defn,
            case,
            set(spec.on_breach.escalate_to),
            kind="breach",
            now=now,
            dedupe=f"breach:{row.id}:{row.due_at.isoformat() if row.due_at else '-'}",
            clock=lambda u: spec.label.get(u.lang),
            due_date=due_date,
        )
        payload["escalate_roles"] = list(spec.on_breach.escalate_to)
        payload["escalated_to"] = sorted(u.username for u in users)
        details.append(Msg(_("escalated to {users}"), users=", ".join(payload["escalated_to"]) or "-"))
    if spec.on_breach.fire:
        trigger = spec.on_breach.fire
        payload["fire"] = trigger
        try:
            with s.begin_nested():
                fired = engine.fire_in(
                    s,
                    case,
                    trigger,
                    Actor.system(),
                    {},
                    reason=f"Batas waktu '{spec.label.id}' terlewati ({due_date})",
                    expected_version=None,
                    now=now,
                )
            payload["fired"] = True
            counts["fired"] = 1
            details.append(Msg(_("fired {trigger} → {state}"), trigger=trigger, state=fired.to_state))
        except ConcurrentChange:
            raise
        except WbsError as exc:
            # the savepoint rolled the fire back; `case` itself was not touched (fire_in works on a copy)
            payload["fired"] = False
            payload["refused"] = exc.message("id")
            counts["fire_refused"] = 1
            details.append(Msg(_("{trigger} refused: {reason}"), trigger=trigger, reason=_ErrorText(exc)))
    audit.append(s, chain=case.number, case_id=case.id, kind="clock_breached", actor="system", now=now, payload=payload)
    return SweepItem.of(case.number, row.name, "breach", details, row.due_at), counts


# --- outbox delivery -----------------------------------------------------------------------------


def deliver_outbox(engine: WbsEngine, mailer: Any, *, limit: int = 100) -> DeliveryReport:
    """Send the outbox rows due now (the engine's clock), oldest first, each in three steps so that no
    database transaction is open while the SMTP server is talked to (on SQLite a write transaction locks
    the whole database, and ``Mailer.send`` may take 20 s per socket operation):

    1. **lease** (short write transaction): the row, ``pending`` and due, becomes ``sending`` with the
       lease's expiry (``SEND_LEASE`` from now) in ``next_attempt_at``, and the attempt is counted. On
       PostgreSQL the row is read with ``SKIP LOCKED``, so several deliverers never lease the same row;
    2. **send**, with no transaction open;
    3. **record** (short write transaction): ``sent``; or, on an error, back to ``pending`` with the next
       backoff time (``notify.BACKOFF``), or ``failed`` after the last one. Only the lease's holder records:
       the attempt number is its token, so a deliverer whose lease ran out (and whose row another delivery
       took) changes nothing.

    A ``sending`` row whose lease has run out is due again: its deliverer died between sending and
    recording (or hung past the lease). Delivery is therefore **at least once**: a crash between the SMTP
    server accepting a message and the record sends that message at most once more, by the first delivery
    after the lease ran out, never sooner. A row whose last allowed attempt (``len(BACKOFF) + 1``) never
    came back is marked ``failed`` instead of being taken again.
    """
    report = DeliveryReport()
    with unit_of_work(engine.db, write=False) as s:
        ids = list(
            s.exec(
                select(Outbox.id)
                .where(_deliverable(engine.now()))
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            ).all()
        )
    for oid in ids:
        lease = _lease(engine, oid, report)
        if lease is None:
            continue  # taken by another deliverer, or no longer due
        recipient = None
        try:
            recipient = lease.recipient
            if recipient.startswith(notify.VAULT_PREFIX):
                recipient = engine.keyring.open_office(recipient.removeprefix(notify.VAULT_PREFIX))
            mailer.send(recipient, lease.subject, lease.body, lease.lang)
        except Exception as exc:  # SMTP down, refused address, bad key …: retry with backoff
            _record(engine, lease, notify.describe_failure(exc, recipient), report)
        else:
            _record(engine, lease, None, report)
    return report


@dataclass(frozen=True)
class _Lease:
    """An outbox row taken for sending: what to send, and the attempt number that identifies the lease."""

    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    lang: str
    attempt: int


def _deliverable(now: datetime):
    """Rows to send: pending and due, or leased with the lease run out."""
    return Outbox.status.in_((PENDING, SENDING)) & (Outbox.next_attempt_at <= now)


def _lease(engine: WbsEngine, oid: int, report: DeliveryReport) -> _Lease | None:
    now = engine.now()
    with unit_of_work(engine.db) as s:
        stmt = select(Outbox).where(Outbox.id == oid, _deliverable(now))
        if _is_pg(engine):
            stmt = stmt.with_for_update(skip_locked=True)
        row = s.exec(stmt).first()
        if row is None:
            return None
        if row.status == SENDING and row.attempts > len(notify.BACKOFF):
            # every attempt used and the last one never came back (a message that kills its deliverer
            # must not be retried every few minutes for ever): as after the last failed attempt
            row.status, row.last_error = FAILED, f"lease ran out after attempt {row.attempts} (deliverer died)"
            s.add(row)
            report.failed += 1
            report.errors.append(f"outbox {row.id} ({row.kind}): {row.last_error}")
            return None
        expected = notify.seal_of(
            engine.keyring,
            kind=row.kind,
            case_id=row.case_id,
            recipient=row.recipient,
            lang=row.lang,
            subject=row.subject,
            body=row.body,
            dedupe_key=row.dedupe_key,
        )
        if not row.seal or not hmac.compare_digest(row.seal, expected):
            # written or altered by someone without the keyring (e.g. a database writer reusing a reporter's
            # sealed address for their own text): never sent
            row.status, row.last_error = FAILED, "outbox row without the office's seal (forged or altered): not sent"
            s.add(row)
            report.failed += 1
            report.errors.append(f"outbox {row.id} ({row.kind}): {row.last_error}")
            log.warning("outbox %s: %s", row.id, row.last_error)
            return None
        row.status, row.next_attempt_at, row.attempts = SENDING, now + SEND_LEASE, row.attempts + 1
        s.add(row)
        return _Lease(row.id, row.kind, row.recipient, row.subject, row.body, row.lang, row.attempts)


_outbox = Outbox.__table__


def _record(engine: WbsEngine, lease: _Lease, error: str | None, report: DeliveryReport) -> None:
    """Record the result of a send, if the lease is still ours (conditional UPDATE)."""
    now = engine.now()
    values: dict[str, Any]
    if error is None:
        values, outcome = {"status": SENT, "sent_at": now}, "sent"
    else:
        nxt = notify.next_attempt(now, lease.attempt)
        if nxt is None:
            values, outcome = {"status": FAILED, "last_error": error}, "failed"
        else:
            values, outcome = {"status": PENDING, "next_attempt_at": nxt, "last_error": error}, "retried"
    stmt = (
        _outbox.update()
        .where(_outbox.c.id == lease.id, _outbox.c.status == SENDING, _outbox.c.attempts == lease.attempt)
        .values(**values)
    )
    with unit_of_work(engine.db) as s:
        mine = s.connection().execute(stmt).rowcount == 1
    if not mine:
        log.warning("outbox %s: lease ran out during the send; the delivery that took the row records it", lease.id)
        report.errors.append(f"outbox {lease.id} ({lease.kind}): lease ran out during the send, result not recorded")
        return
    setattr(report, outcome, getattr(report, outcome) + 1)
    if error is not None:
        report.errors.append(f"outbox {lease.id} ({lease.kind}): {error}")


# --- daily digest --------------------------------------------------------------------------------


def daily_digest(engine: WbsEngine, *, horizon_days: int = 2) -> DigestReport:
    """Queue one digest per active user with e-mail: the open cases they can act on whose clocks are due
    within ``horizon_days`` working days, or overdue. Idempotent per user and day."""
    from .permissions import Grant

    now = engine.now()
    report = DigestReport()
    with unit_of_work(engine.db) as s:
        cal = engine.calendar(s)
        today = cal.local(now).date()
        horizon = cal.day_end_utc(cal.add_working_days(today, horizon_days))
        rows = s.exec(
            select(Clock, Case)
            .join(Case, Case.id == Clock.case_id)
            .where(
                Clock.next_action_at <= horizon,
                Clock.status == clocks.RUNNING,
                Clock.due_at <= horizon,
                Case.final.is_(False),
            )
        ).all()  # noqa: E712
        rows += s.exec(
            select(Clock, Case)
            .join(Case, Case.id == Clock.case_id)
            .where(Clock.status == clocks.BREACHED, Case.final.is_(False))
        ).all()  # noqa: E712
        report.queued += _queue_audit_heads(engine, s, now, today.isoformat())
        report.queued += _queue_retention_due(engine, s, now, today)
        if not rows:
            return report
        users = s.exec(select(User).where(User.active == True, User.email.is_not(None))).all()  # noqa: E712
        grants: dict[int, list[Grant]] = {}
        for g in s.exec(select(RoleGrant)).all():
            grants.setdefault(g.user_id, []).append(Grant(g.role, g.unit_code, g.case_type))
        date_key = today.isoformat()
        for user in users:
            lines: list[tuple[str, str]] = []
            for clk, case in rows:
                defn = engine.workflow(s, case).definition
                acting = notify.acting_roles(defn, case.state)
                if user.id in case.recused:
                    continue
                if not any(g.role in acting and g.covers(case) for g in grants.get(user.id, [])):
                    continue
                spec = defn.clocks.get(clk.name)
                label = spec.label.get(user.lang) if spec else clk.name
                overdue = clk.status == clocks.BREACHED or (clk.due_at is not None and clk.due_at <= now)
                flag = " — " + render(_("OVERDUE"), user.lang) if overdue else ""
                due = clk.due_date.isoformat() if clk.due_date else "-"
                lines.append(
                    (
                        due,
                        f"- {case.number} ({defn.label.get(user.lang)}, "
                        f"{defn.states[case.state].label.get(user.lang)}): {label} {due}{flag}",
                    )
                )
            if not lines:
                continue
            lines.sort()
            if not notify.queue(
                s,
                keyring=engine.keyring,
                kind="digest",
                recipient=user.email,
                lang=user.lang,
                now=now,
                case_id=None,
                dedupe_key=f"digest:{user.id}:{date_key}",
                name=user.full_name or user.username,
                count=len(lines),
                lines="\n".join(line for _due, line in lines),
                link=f"{engine.settings.base_url}/staf/antrian",
            ):
                continue  # already queued today
            report.queued += 1
            report.users.append(user.username)
    return report


def _queue_audit_heads(engine: WbsEngine, s: Session, now: datetime, date_key: str) -> int:
    """Mail the latest signed audit head to every auditor, once a day: a copy kept outside the server, so
    that a rewritten or restored database is found later (``wbs verify-audit --against``)."""
    cp = audit.latest_checkpoint(s)
    if cp is None:
        return 0
    line = audit.head_line(cp, engine.keyring.public_b64)
    return _mail_role(engine, s, "auditor", "audit_head", now, date_key, seq=cp.seq, head=line)


def _queue_retention_due(engine: WbsEngine, s: Session, now: datetime, today: Any) -> int:
    """Tell every admin, once a day, how many closed cases are due for destruction (retention); nothing when
    none is. The scheduler never destroys: an admin runs ``wbs retention --apply`` with the legal basis."""
    from .retention import due_count

    count = due_count(engine, s, today)
    if not count:
        return 0
    return _mail_role(engine, s, "admin", "retention_due", now, today.isoformat(), count=count)


def _mail_role(engine: WbsEngine, s: Session, role: str, kind: str, now: datetime, day: str, **values: Any) -> int:
    """Queue mail ``kind`` once on ``day`` to every active holder of ``role`` with an address, in their language;
    returns how many were queued (the outbox's dedupe key makes a second run the same day queue none)."""
    # distinct on the ids, not on whole rows: PostgreSQL cannot compare JSON columns (recovery_codes)
    holders = select(RoleGrant.user_id).where(RoleGrant.role == role).distinct().scalar_subquery()
    users = s.exec(
        select(User)
        .where(User.id.in_(holders), User.active == True, User.email.is_not(None))  # noqa: E712
        .order_by(User.id)
    ).all()
    queued = 0
    for user in users:
        if notify.queue(
            s,
            keyring=engine.keyring,
            kind=kind,
            recipient=user.email,
            lang=user.lang,
            now=now,
            case_id=None,
            dedupe_key=f"{kind}:{user.id}:{day}",
            name=user.full_name or user.username,
            **values,
        ):
            queued += 1
    return queued


# --- APScheduler wiring --------------------------------------------------------------------------


def _guarded(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
    def job() -> None:
        try:
            result = fn()
            if result is not None and hasattr(result, "summary"):
                for line in result.summary("en"):
                    log.info("%s: %s", name, line)
        except Exception:
            log.exception("scheduled job %s failed", name)

    job.__name__ = f"wbs_{name}"
    return job


def checkpoint_job(engine: WbsEngine) -> None:
    with unit_of_work(engine.db) as s:
        cp = audit.checkpoint(s, engine.now(), engine.keyring, heartbeat=True)
    log.info("audit checkpoint: %s", "nothing moved" if cp is None else f"#{cp.seq} sealed {len(cp.heads)} chains")


#: What each scheduled job is called (by its id); the APScheduler name, in its logs, is the English text.
JOB_TITLES = {
    "sweep": _("SLA sweep (every minute)"),
    "deliver": _("outbox delivery (every 30 s)"),
    "digest": _("daily digest (07:00 {zone})"),
    "checkpoint": _("signed audit checkpoint (every {minutes} min)"),
}


def job_title(job: Any, settings: Settings, lang: str) -> str:
    """A scheduled job's title in ``lang`` (``wbs scheduler`` lists them); an unknown job by its name."""
    msgid = JOB_TITLES.get(job.id)
    if msgid is None:
        return str(job.name)
    return render(msgid, lang, zone=settings.zone_label, minutes=settings.checkpoint_minutes)


def build_scheduler(engine: WbsEngine, *, blocking: bool, mailer: Any = None):
    """An APScheduler 3.x scheduler (not started): sweep every minute, outbox every 30 s (with a mailer),
    digest daily at 07:00 in the office's zone (WBS_TIMEZONE), a signed audit checkpoint every
    ``checkpoint_minutes`` (WBS_CHECKPOINT_MINUTES, default 10)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if mailer is None and engine.settings.smtp_url:
        mailer = notify.Mailer(engine.settings.smtp_url, engine.settings.mail_from)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    zone, zone_label = engine.settings.timezone or TIMEZONE, engine.settings.zone_label
    sched = cls(timezone=zone, job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300})
    common = {"max_instances": 1, "coalesce": True, "replace_existing": True}
    sched.add_job(
        _guarded("sweep", lambda: sweep(engine)),
        IntervalTrigger(minutes=1),
        id="sweep",
        name=render(JOB_TITLES["sweep"], "en"),
        **common,
    )
    if mailer is not None:
        sched.add_job(
            _guarded("deliver", lambda: deliver_outbox(engine, mailer)),
            IntervalTrigger(seconds=30),
            id="deliver",
            name=render(JOB_TITLES["deliver"], "en"),
            **common,
        )
    sched.add_job(
        _guarded("digest", lambda: daily_digest(engine)),
        CronTrigger(hour=7, minute=0, timezone=zone),
        id="digest",
        name=render(JOB_TITLES["digest"], "en", zone=zone_label),
        **common,
    )
    minutes = engine.settings.checkpoint_minutes
    sched.add_job(
        _guarded("checkpoint", lambda: checkpoint_job(engine)),
        IntervalTrigger(minutes=minutes),
        id="checkpoint",
        name=render(JOB_TITLES["checkpoint"], "en", minutes=minutes),
        **common,
    )
    return sched


__all__ = [
    "SweepItem",
    "SweepReport",
    "DeliveryReport",
    "DigestReport",
    "sweep",
    "deliver_outbox",
    "daily_digest",
    "build_scheduler",
    "checkpoint_job",
    "job_title",
]
