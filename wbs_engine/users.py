"""Staff accounts, role grants and office holidays: the administrative writes outside a case's workflow
(and, for holidays, the due dates of the running clocks they move)."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlmodel import Session, select

from . import audit, clocks, textsafe, writepath
from .accounts import end_user_sessions
from .calendar import WorkingCalendar, check_supported
from .crypto import hash_password
from .db import unit_of_work
from .engine import WbsEngine
from .errors import NotFound, ValidationFailed
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Case, Clock, Holiday, RoleGrant, Unit, User
from .permissions import Grant
from .roles import GRANTABLE_ROLES, PSEUDO_ROLES

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

#: Names the audit trail records as the actor of something no user did, so no account may carry them:
#: ``pelapor`` (the holder of a receipt code) and ``system`` (the scheduler) are the pseudo-roles' actor
#: names, ``seed-demo`` writes the demo accounts. ``admin`` (this module's default actor for console
#: writes) stays allowed: it is the usual name of the administrator's own account (the demo has one) and
#: refusing it would lock existing accounts out of ``create-user``.
RESERVED_USERNAMES = frozenset({*PSEUDO_ROLES, "seed-demo"})


def parse_grant(text: str) -> Grant:
    """``ROLE[:UNIT[:TYPE]]``; ``*`` or empty means all units / all case types."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) > 3 or not parts[0]:
        raise ValidationFailed({"role": Msg(_("'{text}' must look like ROLE[:UNIT[:TYPE]]"), text=text)})
    role = parts[0]
    if role not in GRANTABLE_ROLES:
        raise ValidationFailed(
            {"role": Msg(_("unknown role '{role}' (choose: {choices})"), role=role, choices=", ".join(GRANTABLE_ROLES))}
        )
    unit = parts[1] if len(parts) > 1 and parts[1] not in ("", "*") else None
    ctype = parts[2] if len(parts) > 2 and parts[2] not in ("", "*") else None
    return Grant(role, unit, ctype)


def create_or_update_user(
    engine: WbsEngine,
    username: str,
    grants: list[Grant],
    *,
    full_name: str = "",
    email: str | None = None,
    lang: str | None = None,
    password: str | None = None,
    reset_password: bool = False,
    actor: str = "admin",
) -> str | None:
    """Create the user (or add grants to an existing one). Returns a generated password if one was made.

    For an existing user only what is given changes: ``full_name``, ``email`` and ``lang`` (the language of
    their e-mails) stay as they are when left out, so adding a grant never resets them. A new user's
    ``lang`` defaults to ``id``."""
    username = check_username(username)
    check_lengths(full_name=(full_name, 200), email=(email, 200))
    if lang is not None and lang not in ("id", "en"):
        raise ValidationFailed({"lang": Msg(_("choose id or en"))})
    if password is not None and len(password) < 10:
        raise ValidationFailed({"password": Msg(_("at least {min} characters"), min=10)})
    now = engine.now()
    generated = None
    with unit_of_work(engine.db) as s:
        units = {u.code for u in s.exec(select(Unit)).all()}
        for g in grants:
            if g.unit_code and g.unit_code not in units:
                raise ValidationFailed({"role": Msg(_("unknown unit '{unit}'"), unit=g.unit_code)})
            if g.case_type and not engine.registry.knows(g.case_type):
                raise ValidationFailed({"role": Msg(_("unknown case type '{case_type}'"), case_type=g.case_type)})
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None or reset_password or password:
            if password is None:
                generated = password = secrets.token_urlsafe(12)
        if user is None:
            user = User(username=username, full_name=full_name, email=email, lang=lang or "id", created_at=now)
        if full_name:
            user.full_name = full_name
        if email:
            user.email = email
        if lang is not None:
            user.lang = lang
        if password:
            user.password_hash = hash_password(password)
        s.add(user)
        s.flush()
        have = {
            (g.role, g.unit_code, g.case_type) for g in s.exec(select(RoleGrant).where(RoleGrant.user_id == user.id))
        }
        added = []
        for g in grants:
            if (g.role, g.unit_code, g.case_type) not in have:
                s.add(RoleGrant(user_id=user.id, role=g.role, unit_code=g.unit_code, case_type=g.case_type))
                added.append(str(g))
        if added:
            audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="role_granted",
                actor=actor,
                now=now,
                payload={"user": username, "grants": added},
            )
    engine.invalidate_directory()
    return generated


def check_username(username: str) -> str:
    """The username normalised (trimmed, lowercase), or ``ValidationFailed`` (characters, length, reserved)."""
    username = username.strip().lower() if isinstance(username, str) else ""
    if not (2 <= len(username) <= 64) or not set(username) <= USERNAME_CHARS:
        raise ValidationFailed({"username": Msg(_("2–64 lowercase letters, digits, dots, dashes or underscores"))})
    if username in RESERVED_USERNAMES:
        raise ValidationFailed(
            {
                "username": Msg(
                    _(
                        "'{username}' is what the audit trail records for an actor that is not a user "
                        "({reserved}); choose another name"
                    ),
                    username=username,
                    reserved=", ".join(sorted(RESERVED_USERNAMES)),
                )
            }
        )
    return username


def check_lengths(**values: tuple[str | None, int]) -> None:
    """Text longer than its column: a clear message here, not a database error (PostgreSQL refuses it)."""
    errors = {k: Msg(_("at most {max} characters"), max=n) for k, (v, n) in values.items() if v and len(v) > n}
    if errors:
        raise ValidationFailed(errors)


def ensure_unit(engine: WbsEngine, code: str, name: str, email: str | None = None) -> None:
    check_lengths(name=(name, 200), email=(email, 200), code=(code, 32))
    with unit_of_work(engine.db) as s:
        if s.exec(select(Unit).where(Unit.code == code)).first() is None:
            s.add(Unit(code=code, name=name, email=email))


def set_holiday(engine: WbsEngine, day: date, kind: str, name: str, actor: str = "admin") -> int:
    """Make ``day`` a day off for this office (``closed``) or a working day (``open``: an office day off
    taken back, or work on a national holiday / cuti bersama), and move the running clocks it concerns.
    Returns how many clocks moved.

    One transaction: the ``holiday`` row, then, if the day really changed between working and not, every
    running working-day clock whose window holds the day (``counted_from < day <= due_date``) gets the
    due date :func:`clocks.on_calendar_change` gives on the new calendar, its reminders rescheduled, and a
    ``clock_recomputed`` event on its case's chain (actor: the admin); last, ``holiday_set`` on the system
    chain. Each affected case is locked first (case row, then its clocks, in case order), as every writer
    of a case does, so a concurrent fire or sweep waits for the new due dates or comes after them.

    The calendar before the change is read fresh from the database (not the engine's cached copy), and
    the one after it is derived from it; the engine's cache is dropped once the change is committed.
    Another process keeps its cached calendar for up to ``WbsEngine.CACHE_TTL`` seconds.
    """
    if not name.strip():
        raise ValidationFailed({"name": Msg(_("is required"))})
    check_lengths(name=(name.strip(), 200))
    check_supported(day)  # outside the calendar's range a row could never count
    if kind not in ("closed", "open"):
        raise ValidationFailed({"kind": Msg(_("choose 'closed' (day off) or 'open'"))})
    now = engine.now()
    try:
        with unit_of_work(engine.db) as s:
            engine.invalidate_calendar()
            before = engine.calendar(s)
            row = s.exec(select(Holiday).where(Holiday.day == day)).first()
            if row is None:
                row = Holiday(day=day, kind=kind, name=name.strip(), created_by=actor, created_at=now)
            row.kind, row.name = kind, name.strip()
            s.add(row)
            after = _with_day(before, day, kind, name.strip())
            moved = 0
            if before.is_working_day(day) != after.is_working_day(day):
                moved = _move_clocks(engine, s, day, before, after, actor, now)
            audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="holiday_set",
                actor=actor,
                now=now,
                payload={"day": day, "kind": kind, "name": name.strip(), "clocks_moved": moved},
            )
    finally:
        engine.invalidate_calendar()
    return moved


def _with_day(cal: WorkingCalendar, day: date, kind: str, name: str) -> WorkingCalendar:
    """``cal`` with the office's decision about ``day`` replaced (one ``holiday`` row per day, as the engine
    reads them: ``closed`` adds a day off, ``open`` makes the day a working day)."""
    added, removed = dict(cal.added), set(cal.removed)
    if kind == "closed":
        added[day] = name
        removed.discard(day)
    else:
        added.pop(day, None)
        removed.add(day)
    return WorkingCalendar(
        added,
        removed,
        include_cuti_bersama=cal.include_cuti_bersama,
        office_close=cal.office_close,
        office_open=cal.office_open,
        zone=cal.zone,
    )


def _move_clocks(
    engine: WbsEngine,
    s: Session,
    day: date,
    before: WorkingCalendar,
    after: WorkingCalendar,
    actor: str,
    now: datetime,
) -> int:
    def concerned(stmt):
        return stmt.where(
            Clock.status == clocks.RUNNING,
            Clock.limit_unit == "working",
            Clock.counted_from < day,
            Clock.due_date >= day,
        )

    case_ids = s.exec(concerned(select(Clock.case_id)).distinct().order_by(Clock.case_id)).all()
    moved = 0
    for case_id in case_ids:
        # the case row first, then its clocks (FOR NO KEY UPDATE on PostgreSQL; SQLite: BEGIN IMMEDIATE)
        case = s.exec(select(Case).where(Case.id == case_id).with_for_update(key_share=True)).one()
        specs = engine.workflow(s, case).definition.clocks
        rows = s.exec(
            concerned(select(Clock).where(Clock.case_id == case_id)).order_by(Clock.id).with_for_update(key_share=True)
        ).all()
        for row in rows:
            spec = specs.get(row.name)
            old = clocks.from_row(row)
            new = clocks.on_calendar_change(spec, old, day, before, after) if spec is not None else None
            if new is None:
                continue
            for column, value in clocks.row_values(new).items():
                setattr(row, column, value)
            s.add(row)
            audit.append(
                s,
                chain=case.number,
                case_id=case.id,
                kind="clock_recomputed",
                actor=actor,
                actor_role="admin",
                now=now,
                payload={
                    "clock": row.name,
                    "day": day.isoformat(),
                    "made": "working_day" if after.is_working_day(day) else "holiday",
                    "due_before": old.due_date.isoformat(),
                    "due_after": new.due_date.isoformat(),
                },
            )
            moved += 1
        s.flush()
        writepath.refresh_next_due(s, case.id)  # the queues sort and bucket cases by it
    return moved


def reset_second_factor(engine: WbsEngine, username: str, actor: str = "admin") -> int:
    """Remove a user's second factor (a lost phone): secret, recovery codes and used step go, the user's
    sessions end, and they enrol again at their next sign-in if a role requires it. Event
    ``second_factor_reset``; returns how many sessions ended. ``NotFound`` for an unknown user."""
    name = username.strip().lower() if isinstance(username, str) else ""
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = s.exec(select(User).where(User.username == name).with_for_update()).first()
        if user is None:
            raise NotFound(_("Unknown or inactive user '{user}'."), user=textsafe.line(name))
        user.totp_secret_enc = None
        user.totp_enrolled_at = None
        user.totp_last_step = None
        user.recovery_codes = []
        s.add(user)
        ended = end_user_sessions(s, user, now, "second_factor_reset")
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="second_factor_reset",
            actor=actor,
            now=now,
            payload={"user": user.username, "sessions_ended": ended},
        )
    return ended
