"""The scheduler: one idempotent :func:`sweep` over due SLA clocks, outbox delivery, the daily digest and
the audit checkpoint, wired into APScheduler by :func:`build_scheduler`.

Rules (ARCHITECTURE.md):

* The sweep finds due clocks with an indexed query on ``case_clock.next_action_at`` (never a scan of the
  cases), in batches, oldest first.
* Each clock action is one transaction: the ``clock_action`` row (unique per clock, action and due time)
  is inserted first, then the audit event, the outbox rows, a fire through the engine if the workflow asks
  for one, and the clock row moved on to its next action. A crash leaves nothing half-done; a repeat (a
  second instance, a re-run after a crash) hits the unique constraint and does nothing.
* On PostgreSQL several instances split the work with ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite has one
  writer at a time (``BEGIN IMMEDIATE``).
* Mail never carries the reporter's identity or the report's text (the templates in :mod:`notify` avoid it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from . import audit, clocks, notify
from .calendar import WorkingCalendar
from .db import unit_of_work
from .errors import ConcurrentChange, WbsError
from .models import Case, Clock, ClockAction, Outbox, RoleGrant, User

if TYPE_CHECKING:
    from .engine import WbsEngine

log = logging.getLogger("wbs_engine.scheduler")

#: The default zone of the daily jobs; :func:`build_scheduler` uses the office's (``Settings.timezone``).
TIMEZONE = "Asia/Jakarta"
MAX_TRIES = 3  # per clock and sweep, for transient conflicts (another writer on the same case)

#: Test hook: called inside a clock's transaction after its action is done and before the commit.
#: Crash tests set it to kill the process at that point; production leaves it None.
_before_commit: Callable[[Session, Clock, str], None] | None = None


# --- reports -------------------------------------------------------------------------------------


@dataclass
class SweepItem:
    number: str
    clock: str
    action: str  # remind:N | breach
    detail: str
    due_at: datetime | None = None


@dataclass
class SweepReport:
    now: datetime
    items: list[SweepItem] = field(default_factory=list)
    reminders: int = 0
    breaches: int = 0
    fired: int = 0
    fire_refused: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.reminders + self.breaches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["done"] = self.done
        return d

    def summary(self, lang: str = "id") -> list[str]:
        en = lang == "en"
        lines: list[str] = []
        if not self.items and not self.errors:
            lines.append("Nothing due." if en else "Tidak ada yang jatuh tempo.")
            if self.duplicates:
                lines.append(
                    f"({self.duplicates} already done by another run)"
                    if en
                    else f"({self.duplicates} sudah dikerjakan proses lain)"
                )
            return lines
        for it in self.items:
            lines.append(f"{it.number}  {it.clock:<24} {it.action:<10} {it.detail}")
        if en:
            lines.append(
                f"{self.reminders} reminder(s), {self.breaches} breach(es), {self.fired} automatic "
                f"transition(s), {self.fire_refused} refused, {self.duplicates} already done, "
                f"{len(self.errors)} error(s)."
            )
        else:
            lines.append(
                f"{self.reminders} pengingat, {self.breaches} pelanggaran batas waktu, {self.fired} "
                f"transisi otomatis, {self.fire_refused} ditolak, {self.duplicates} sudah dikerjakan, "
                f"{len(self.errors)} galat."
            )
        lines.extend(("Error: " if en else "Galat: ") + e for e in self.errors)
        return lines


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self, lang: str = "id") -> list[str]:
        if lang == "en":
            head = f"{self.sent} sent, {self.retried} to retry, {self.failed} failed for good."
        else:
            head = f"{self.sent} terkirim, {self.retried} dicoba lagi nanti, {self.failed} gagal permanen."
        return [head, *self.errors]


@dataclass
class DigestReport:
    queued: int = 0
    users: list[str] = field(default_factory=list)

    def summary(self, lang: str = "id") -> list[str]:
        if not self.queued:
            return ["No digest to send." if lang == "en" else "Tidak ada ringkasan untuk dikirim."]
        who = ", ".join(self.users)
        return [
            f"{self.queued} digest(s) queued: {who}" if lang == "en" else f"{self.queued} ringkasan diantrekan: {who}"
        ]


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
            elif outcome in ("busy", "error"):
                exclude.add(clock_id)
    return report


def _claim(engine: WbsEngine, s: Session, clock_id: int, now: datetime) -> Clock | None:
    stmt = select(Clock).where(Clock.id == clock_id, Clock.status == clocks.RUNNING, Clock.next_action_at <= now)
    if _is_pg(engine):
        stmt = stmt.with_for_update(skip_locked=True)
    return s.exec(stmt).first()


def _sweep_one(engine: WbsEngine, clock_id: int, now: datetime, cal: WorkingCalendar, report: SweepReport) -> str:
    """One clock action in one transaction. Returns done | busy | duplicate | retry | error."""
    item: SweepItem | None = None
    counts: dict[str, int] = {}
    claimed: tuple[str, datetime] | None = None
    try:
        with unit_of_work(engine.db) as s:
            row = _claim(engine, s, clock_id, now)
            if row is None:
                return "busy"  # locked by another instance, or already moved on
            action, due = row.next_action or "breach", row.next_action_at
            claimed = (action, due)
            s.add(ClockAction(clock_id=row.id, action=action, due_at=due, done_at=now))
            s.flush()  # the unique (clock, action, due time) turns a repeat into an IntegrityError here
            item, counts = _act(engine, s, row, action, now, cal)
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
        row = _claim(engine, s, clock_id, now)
        if row is None or (row.next_action, row.next_action_at) != claimed:
            return True
        case = s.get(Case, row.case_id)
        spec = engine.workflow(s, case).definition.clocks.get(row.name) if case else None
        _advance(engine, row, claimed[0], spec, now, cal)
        s.add(row)
        return True


def _advance(engine: WbsEngine, row: Clock, action: str, spec, now: datetime, cal: WorkingCalendar) -> None:
    from .engine import _row_to_state, _state_to_row

    st = _row_to_state(row)
    if action.startswith("remind:") and spec is not None:
        st = clocks.mark_reminded(spec, st, int(action.split(":", 1)[1]), cal)
    else:
        st = clocks.mark_breached(st, now)
    _state_to_row(st, row)


def _act(
    engine: WbsEngine, s: Session, row: Clock, action: str, now: datetime, cal: WorkingCalendar
) -> tuple[SweepItem, dict[str, int]]:
    from .engine import Actor

    case = s.get(Case, row.case_id)
    if case is None:
        raise WbsError(f"clock {row.id}: case {row.case_id} is gone", f"clock {row.id}: case {row.case_id} is gone")
    defn = engine.workflow(s, case).definition
    spec = defn.clocks.get(row.name)
    if spec is None:
        raise WbsError(f"jam '{row.name}' tidak ada di alur {defn.ident}", f"clock '{row.name}' not in {defn.ident}")
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
        s.add(row)
        s.flush()
        who = ", ".join(sorted(u.username for u in users)) or "-"
        return SweepItem(case.number, row.name, action, f"due {due_date}; to {who}", row.due_at), {"reminders": 1}

    # breach: mark the clock first, so a fire that closes the case stops the (breached) clock afterwards
    counts = {"breaches": 1}
    _advance(engine, row, "breach", spec, now, cal)
    s.add(row)
    s.flush()
    payload: dict[str, Any] = {"clock": row.name, "due_date": due_date}
    details = [f"due {due_date}"]
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
        details.append("escalated to " + (", ".join(payload["escalated_to"]) or "-"))
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
            details.append(f"fired {trigger} → {fired.to_state}")
        except ConcurrentChange:
            raise
        except WbsError as exc:
            # the savepoint rolled the fire back; `case` itself was not touched (fire_in works on a copy)
            payload["fired"] = False
            payload["refused"] = exc.message("id")
            counts["fire_refused"] = 1
            details.append(f"{trigger} refused: {exc.message('en')}")
    audit.append(s, chain=case.number, case_id=case.id, kind="clock_breached", actor="system", now=now, payload=payload)
    return SweepItem(case.number, row.name, "breach", "; ".join(details), row.due_at), counts


# --- outbox delivery -----------------------------------------------------------------------------


def deliver_outbox(engine: WbsEngine, mailer: Any, *, limit: int = 100) -> DeliveryReport:
    """Send pending outbox rows due now; one transaction per row (claimed with SKIP LOCKED on PG)."""
    now = engine.now()
    report = DeliveryReport()
    with unit_of_work(engine.db, write=False) as s:
        ids = list(
            s.exec(
                select(Outbox.id)
                .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(limit)
            ).all()
        )
    for oid in ids:
        with unit_of_work(engine.db) as s:
            stmt = select(Outbox).where(Outbox.id == oid, Outbox.status == "pending", Outbox.next_attempt_at <= now)
            if _is_pg(engine):
                stmt = stmt.with_for_update(skip_locked=True)
            row = s.exec(stmt).first()
            if row is None:
                continue
            try:
                recipient = row.recipient
                if recipient.startswith(notify.VAULT_PREFIX):
                    recipient = engine.vault.decrypt(recipient.removeprefix(notify.VAULT_PREFIX))
                mailer.send(recipient, row.subject, row.body, row.lang)
            except Exception as exc:  # SMTP down, refused address, bad key …: retry with backoff
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                nxt = notify.next_attempt(now, row.attempts)
                if nxt is None:
                    row.status = "failed"
                    report.failed += 1
                else:
                    row.next_attempt_at = nxt
                    report.retried += 1
                report.errors.append(f"outbox {row.id} ({row.kind}): {row.last_error}")
            else:
                row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1
                report.sent += 1
            s.add(row)
    return report


# --- daily digest --------------------------------------------------------------------------------


def daily_digest(engine: WbsEngine, *, horizon_days: int = 2) -> DigestReport:
    """Queue one digest per active user with e-mail: the open cases they can act on whose clocks are due
    within ``horizon_days`` working days, or overdue. Idempotent per user and day."""
    from .engine import Grant

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
                if user.username in (case.recused or []):
                    continue
                if not any(g.role in acting and g.covers(case) for g in grants.get(user.id, [])):
                    continue
                spec = defn.clocks.get(clk.name)
                label = spec.label.get(user.lang) if spec else clk.name
                overdue = clk.status == clocks.BREACHED or (clk.due_at is not None and clk.due_at <= now)
                flag = (" — OVERDUE" if user.lang == "en" else " — TERLAMBAT") if overdue else ""
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
                kind="digest",
                recipient=user.email,
                lang=user.lang,
                now=now,
                case_id=None,
                dedupe_key=f"digest:{user.id}:{date_key}",
                name=user.full_name or user.username,
                count=len(lines),
                lines="\n".join(line for _, line in lines),
                link=f"{engine.settings.base_url}/kelola",
            ):
                continue  # already queued today
            report.queued += 1
            report.users.append(user.username)
    return report


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
        cp = audit.checkpoint(s, engine.now())
    log.info("audit checkpoint: %s", "nothing moved" if cp is None else f"{cp.id} sealed {len(cp.heads)} chains")


def build_scheduler(engine: WbsEngine, *, blocking: bool, mailer: Any = None):
    """An APScheduler 3.x scheduler (not started): sweep every minute, outbox every 30 s (with a mailer),
    digest daily at 07:00 and audit checkpoint daily at 23:30, both in the office's zone (WBS_TIMEZONE)."""
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
        name="SLA sweep (every minute)",
        **common,
    )
    if mailer is not None:
        sched.add_job(
            _guarded("deliver", lambda: deliver_outbox(engine, mailer)),
            IntervalTrigger(seconds=30),
            id="deliver",
            name="outbox delivery (every 30 s)",
            **common,
        )
    sched.add_job(
        _guarded("digest", lambda: daily_digest(engine)),
        CronTrigger(hour=7, minute=0, timezone=zone),
        id="digest",
        name=f"daily digest (07:00 {zone_label})",
        **common,
    )
    sched.add_job(
        _guarded("checkpoint", lambda: checkpoint_job(engine)),
        CronTrigger(hour=23, minute=30, timezone=zone),
        id="checkpoint",
        name=f"audit checkpoint (23:30 {zone_label})",
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
]
