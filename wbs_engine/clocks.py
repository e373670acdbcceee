"""SLA clocks as pure functions: start, pause, resume, stop, extend, and the next action due.

No I/O and no reading of the clock: the engine passes ``now``, the calendar and the case data, and copies
the resulting :class:`ClockState` into the ``case_clock`` row. Rules (docs/domain.md):

* A working-day limit counts from the *effective date* of the start event: the Jakarta date if that is a
  working day before office close, else the next working day; day 1 is the working day after it.
  A clock started ``from_field`` (e.g. the date a gift was received) counts from that date.
* The deadline has passed at the end of the due date (local midnight).
* A paused clock keeps the working days that were left and gets them back on resuming.
* Reminders fall at office opening, N working (or calendar) days before the due date.
* A missed deadline stays on record: ``breached_at`` is the first breach, kept through an extension and a
  second breach, and a clock that was ever breached ends ``late``.
* A day the admin makes a day off (or a working day) moves the due date of a running working-day clock
  whose window holds it by one working day (:func:`on_calendar_change`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from .calendar import WorkingCalendar
from .definition import ClockSpec, Duration, Label, WorkflowDef

RUNNING, PAUSED, STOPPED, BREACHED = "running", "paused", "stopped", "breached"
OPEN_STATUSES = (RUNNING, PAUSED, BREACHED)


@dataclass(frozen=True)
class ClockState:
    name: str
    status: str
    limit_days: int
    limit_unit: str
    counted_from: date
    started_at: datetime
    due_date: date | None
    due_at: datetime | None
    paused_at: datetime | None = None
    remaining_days: int | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    extensions: int = 0
    reminders_done: tuple[int, ...] = field(default_factory=tuple)
    next_action: str | None = None
    next_action_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def outcome(self) -> str | None:
        """For a stopped clock: ``on_time`` or ``late`` (stopped after its deadline); else None."""
        if self.status != STOPPED or self.stopped_at is None or self.due_at is None:
            return None
        return "on_time" if self.stopped_at < self.due_at and self.breached_at is None else "late"

    @property
    def started_late(self) -> bool:
        """The limit had already passed when the clock started: possible only for a clock counted from a
        date field (e.g. a gift reported to the UPG more than 30 HK after it was received)."""
        return self.due_at is not None and self.due_at <= self.started_at


def late_notices(specs: dict[str, ClockSpec], states: list[ClockState]) -> list[tuple[str, Label]]:
    """The ``late_notice`` texts of the clocks that started late, as (clock name, text)."""
    return [
        (st.name, spec.late_notice)
        for st in states
        if (spec := specs.get(st.name)) is not None and spec.late_notice is not None and st.started_late
    ]


def filing_notices(defn: WorkflowDef, data: dict, now: datetime, cal: WorkingCalendar) -> list[tuple[str, Label]]:
    """The late notices a case filed now with ``data`` would get: the filing form shows them before the
    reporter sends it (the clocks that start on the initial state, counted from a date in ``data``)."""
    started = [
        start(spec, name, now, cal, data)
        for name, spec in defn.clocks.items()
        if spec.late_notice is not None and defn.initial in spec.starts.on_enter
    ]
    return late_notices(defn.clocks, started)


#: the ``case_clock`` columns that hold a clock's state (every field of :class:`ClockState` but its name)
STATE_COLUMNS = tuple(f.name for f in fields(ClockState) if f.name != "name")


def from_row(row: Any) -> ClockState:
    """A clock's state from a ``Clock`` row or a Core row of ``case_clock``."""
    values = {c: getattr(row, c) for c in STATE_COLUMNS}
    values["reminders_done"] = tuple(row.reminders_done or ())
    return ClockState(name=row.name, **values)


def row_values(st: ClockState) -> dict[str, Any]:
    """The column values to write for ``st`` (the inverse of :func:`from_row`)."""
    values = {c: getattr(st, c) for c in STATE_COLUMNS}
    values["reminders_done"] = list(st.reminders_done)
    return values


def limit_for(spec: ClockSpec, data: dict) -> Duration:
    if spec.limit_by:
        chosen = spec.limit_by.values.get(str(data.get(spec.limit_by.field, "")))
        if chosen is not None:
            return chosen
    return spec.limit


def _due_date(cal: WorkingCalendar, start: date, days: int, unit: str) -> date:
    return cal.add_working_days(start, days) if unit == "working" else start + timedelta(days=days)


def _reminder_at(cal: WorkingCalendar, due: date, before: int, unit: str) -> datetime:
    day = cal.subtract_working_days(due, before) if unit == "working" else due - timedelta(days=before)
    return cal.day_start_utc(day)


def schedule(spec: ClockSpec, st: ClockState, cal: WorkingCalendar) -> ClockState:
    """Set ``next_action``/``next_action_at``: the earliest reminder not yet done, else the breach."""
    if st.status != RUNNING or st.due_date is None or st.due_at is None:
        return replace(st, next_action=None, next_action_at=None)
    pending: list[tuple[datetime, str]] = []
    for rem in spec.remind:
        b = rem.before.days
        if b not in st.reminders_done:
            at = min(_reminder_at(cal, st.due_date, b, rem.before.unit), st.due_at)
            pending.append((at, f"remind:{b}"))
    pending.append((st.due_at, "breach"))
    at, action = min(pending)
    return replace(st, next_action=action, next_action_at=at)


def start(spec: ClockSpec, name: str, now: datetime, cal: WorkingCalendar, data: dict) -> ClockState:
    limit = limit_for(spec, data)
    from_value = data.get(spec.starts.from_field) if spec.starts.from_field else None
    if from_value:
        counted = date.fromisoformat(str(from_value)[:10])
    elif limit.unit == "working":
        counted = cal.effective_date(now, after_hours_rule=spec.after_hours_next_day)
    else:
        counted = cal.local(now).date()
    due = _due_date(cal, counted, limit.days, limit.unit)
    st = ClockState(
        name=name,
        status=RUNNING,
        limit_days=limit.days,
        limit_unit=limit.unit,
        counted_from=counted,
        started_at=now,
        due_date=due,
        due_at=cal.day_end_utc(due),
    )
    return schedule(spec, st, cal)


def pause(spec: ClockSpec, st: ClockState, now: datetime, cal: WorkingCalendar) -> ClockState:
    if st.status != RUNNING or st.due_date is None:
        return st
    today = cal.local(now).date()
    if st.limit_unit == "working":
        left = cal.working_days_between(
            cal.effective_date(now, after_hours_rule=spec.after_hours_next_day), st.due_date
        )
    else:
        left = (st.due_date - today).days
    return replace(st, status=PAUSED, paused_at=now, remaining_days=max(left, 0), next_action=None, next_action_at=None)


def resume(spec: ClockSpec, st: ClockState, now: datetime, cal: WorkingCalendar) -> ClockState:
    if st.status != PAUSED:
        return st
    left = st.remaining_days or 0
    if st.limit_unit == "working":
        base = cal.effective_date(now, after_hours_rule=spec.after_hours_next_day)
    else:
        base = cal.local(now).date()
    due = _due_date(cal, base, left, st.limit_unit)
    st = replace(
        st,
        status=RUNNING,
        paused_at=None,
        remaining_days=None,
        due_date=due,
        due_at=cal.day_end_utc(due),
        reminders_done=tuple(b for b in st.reminders_done if b > left),
    )
    return schedule(spec, st, cal)


def stop(st: ClockState, now: datetime) -> ClockState:
    if not st.is_open:
        return st
    return replace(st, status=STOPPED, stopped_at=now, next_action=None, next_action_at=None)


def extend(spec: ClockSpec, st: ClockState, by: Duration, cal: WorkingCalendar) -> ClockState:
    """Move the deadline ``by`` further (e.g. a WBS investigation extended once by 30 HK).

    A breached clock runs again towards the new deadline, with its reminders, but keeps ``breached_at``:
    the extension is granted after the fact and must not erase the missed deadline (the outcome stays
    ``late``). The sweep's once-only record is per (clock, action, due time), so the new deadline's
    reminders and breach are new actions."""
    if not st.is_open or st.due_date is None:
        return st
    if st.status == PAUSED:
        return replace(st, remaining_days=(st.remaining_days or 0) + by.days, extensions=st.extensions + 1)
    due = _due_date(cal, st.due_date, by.days, by.unit)
    st = replace(
        st,
        status=RUNNING,
        due_date=due,
        due_at=cal.day_end_utc(due),
        extensions=st.extensions + 1,
        reminders_done=(),
    )
    return schedule(spec, st, cal)


def mark_reminded(spec: ClockSpec, st: ClockState, before: int, cal: WorkingCalendar) -> ClockState:
    return schedule(spec, replace(st, reminders_done=tuple(sorted({*st.reminders_done, before}))), cal)


def mark_breached(st: ClockState, now: datetime) -> ClockState:
    """The deadline passed. ``breached_at`` keeps the earliest breach (an extended clock breached again
    still shows when it was first missed)."""
    first = now if st.breached_at is None else min(st.breached_at, now)
    return replace(st, status=BREACHED, breached_at=first, next_action=None, next_action_at=None)


def on_calendar_change(
    spec: ClockSpec, st: ClockState, day: date, before: WorkingCalendar, after: WorkingCalendar
) -> ClockState | None:
    """The clock after the admin changed whether ``day`` is a working day (``before`` → ``after``), or
    None when the change does not concern it.

    Only a *running* clock counted in working days whose window holds the day (``counted_from < day <=
    due_date``) moves, by one working day: a day lost (made a day off) gives the next working day after
    the old due date, a day gained (made a working day) the previous working day before it, both on the
    new calendar. Its reminders are scheduled again (those already sent stay sent). A paused clock needs
    nothing (it counts its remaining days on the calendar of the day it resumes); a breached or stopped
    clock stays as recorded; a calendar-day limit does not see holidays.
    """
    if st.status != RUNNING or st.limit_unit != "working" or st.due_date is None:
        return None
    working = after.is_working_day(day)
    if working == before.is_working_day(day) or not st.counted_from < day <= st.due_date:
        return None
    due = after.previous_working_day(st.due_date) if working else after.next_working_day(st.due_date)
    return schedule(spec, replace(st, due_date=due, due_at=after.day_end_utc(due)), after)


@dataclass(frozen=True)
class ClockChange:
    name: str
    action: str  # started | checked | paused | resumed | stopped | extended
    state: ClockState


def on_transition(
    specs: dict[str, ClockSpec],
    current: dict[str, ClockState],
    from_state: str | None,
    to_state: str,
    now: datetime,
    cal: WorkingCalendar,
    data: dict,
    *,
    final: bool = False,
) -> list[ClockChange]:
    """What the clocks do when a case moves ``from_state`` → ``to_state`` (None: the case is created).

    A case entering a final state stops every clock; a self-loop (``from == to``) changes nothing.
    """
    if from_state == to_state:
        return []
    changes: list[ClockChange] = []
    for name, spec in specs.items():
        st = current.get(name)
        if st is not None and st.is_open:
            if final or to_state in spec.stops.on_enter or (from_state in spec.stops.on_exit):
                changes.append(ClockChange(name, "stopped", stop(st, now)))
                continue
            if to_state in spec.pauses and st.status == RUNNING:
                changes.append(ClockChange(name, "paused", pause(spec, st, now, cal)))
            elif st.status == PAUSED and to_state not in spec.pauses:
                changes.append(ClockChange(name, "resumed", resume(spec, st, now, cal)))
            continue
        if not final and to_state in spec.starts.on_enter:
            started = start(spec, name, now, cal, data)
            if to_state in spec.stops.on_enter:
                # starts and stops on the same event: records whether that event itself was in time
                # (e.g. a gift reported to the UPG within 10 HK of the date it was received)
                changes.append(ClockChange(name, "checked", stop(started, now)))
            else:
                changes.append(ClockChange(name, "started", started))
    return changes
