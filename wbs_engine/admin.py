"""The administrator's operations: accounts and their grants, units and their atasan, the office's days, which
roles must use a second factor, reply templates. What the admin pages (``webapp/admin.py``) call.

Every write checks that ``actor`` holds ``admin`` (:class:`~wbs_engine.errors.NotAllowed` otherwise), runs
in one transaction with its audit event on the ``system`` chain (actor: the admin's username), and is safe to
send twice (a second identical request changes nothing and writes no event). Two rules keep the office
administrable: an admin cannot deactivate their own account, and the last active holder of ``admin`` can
neither be deactivated nor lose that grant (:class:`AdminRefused`).

Events: ``user_created``, ``user_changed`` (the names of the fields changed, never their values),
``user_deactivated`` / ``user_reactivated``, ``password_reset``, ``second_factor_reset``, ``role_granted`` /
``role_revoked`` (both replayed by ``verify-audit`` against the ``role_grant`` table), ``unit_changed``,
``holiday_set`` (:func:`wbs_engine.users.set_holiday`), ``setting_changed``, ``reply_template_changed``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from . import accounts, audit, textsafe, users
from .crypto import hash_password
from .db import unit_of_work
from .engine import WbsEngine
from .errors import NotAllowed, NotFound, ValidationFailed, WbsError
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Holiday, OfficeSetting, ReplyTemplate, RoleGrant, Unit, User
from .permissions import Actor, Grant
from .roles import GRANTABLE_ROLES

#: reply templates: a title and a body of at most these many characters
TITLE_MAX = 200
BODY_MAX = 4000


class AdminRefused(WbsError):
    """A change that would leave the office without an administrator, or lock the admin out."""

    status, code = 409, "admin_refused"


@dataclass(frozen=True)
class GrantRow:
    id: int
    role: str
    unit_code: str | None
    case_type: str | None

    def __str__(self) -> str:
        return str(Grant(self.role, self.unit_code, self.case_type))


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    email: str | None
    lang: str
    active: bool
    grants: tuple[GrantRow, ...]
    second_factor: bool
    last_login_at: datetime | None

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.role for g in self.grants))


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    email: str | None
    atasan: str | None
    #: active users holding ``atasan`` for this unit or for all units (who may be its atasan)
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class TemplateRow:
    id: int
    case_type: str
    title: str
    body: str
    active: bool
    updated_by: str
    updated_at: datetime


def _require_admin(actor: Actor) -> None:
    if not any(g.role == "admin" for g in actor.grants):
        raise NotAllowed(_("Only an administrator may do this."))


def _event(s: Session, actor: Actor, kind: str, now: datetime, payload: dict) -> None:
    audit.append(s, chain=audit.SYSTEM_CHAIN, kind=kind, actor=actor.username, now=now, payload=payload)


def _user(s: Session, username: str, *, lock: bool = False) -> User:
    name = username.strip().lower() if isinstance(username, str) else ""
    stmt = select(User).where(User.username == name)
    user = s.exec(stmt.with_for_update() if lock else stmt).first() if textsafe.storable(name) else None
    if user is None:
        raise NotFound(_("Unknown or inactive user '{user}'."), user=textsafe.line(name))
    return user


def _row(s: Session, user: User) -> UserRow:
    grants = s.exec(select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.id)).all()
    return UserRow(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        lang=user.lang,
        active=user.active,
        grants=tuple(GrantRow(g.id, g.role, g.unit_code, g.case_type) for g in grants),
        second_factor=user.totp_secret_enc is not None,
        last_login_at=user.last_login_at,
    )


def _active_admins(s: Session) -> set[int]:
    """Ids of the active users holding ``admin`` (their grant rows locked: two admins removing each other
    at once are serialised)."""
    rows = s.exec(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == "admin", User.active.is_(True))
        .with_for_update(of=RoleGrant)
    ).all()
    return set(rows)


# --- users -----------------------------------------------------------------------------------------------------


def list_users(engine: WbsEngine, actor: Actor) -> list[UserRow]:
    """Every account, by username: name, active, grants, second factor yes/no, last sign-in."""
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        return [_row(s, u) for u in s.exec(select(User).order_by(User.username)).all()]


def get_user(engine: WbsEngine, actor: Actor, username: str) -> UserRow:
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        return _row(s, _user(s, username))


def _check_profile(full_name: str, email: str | None, lang: str) -> tuple[str, str | None]:
    full_name = (full_name or "").strip()
    email = (email or "").strip() or None
    errors: dict[str, Msg] = {}
    if not textsafe.storable(full_name) or len(full_name) > 200:
        errors["full_name"] = Msg(_("at most {max} characters"), max=200)
    if email is not None and (len(email) > 200 or "@" not in email or any(c.isspace() for c in email)):
        errors["email"] = Msg(_("an e-mail address like nama@kantor.go.id"))
    if lang not in ("id", "en"):
        errors["lang"] = Msg(_("choose id or en"))
    if errors:
        raise ValidationFailed(errors)
    return full_name, email


def _check_grant(engine: WbsEngine, s: Session, role: str, unit_code: str | None, case_type: str | None) -> Grant:
    unit_code = (unit_code or "").strip() or None
    case_type = (case_type or "").strip() or None
    if role not in GRANTABLE_ROLES:
        raise ValidationFailed({"role": Msg(_("choose a role from the list"))})
    if unit_code and s.exec(select(Unit).where(Unit.code == unit_code)).first() is None:
        raise ValidationFailed({"unit": Msg(_("unknown unit '{unit}'"), unit=textsafe.line(unit_code))})
    if case_type and (not textsafe.storable(case_type) or not engine.registry.knows(case_type)):
        raise ValidationFailed(
            {"case_type": Msg(_("unknown case type '{case_type}'"), case_type=textsafe.line(case_type))}
        )
    return Grant(role, unit_code, case_type)


def create_user(
    engine: WbsEngine,
    actor: Actor,
    username: str,
    *,
    full_name: str = "",
    email: str | None = None,
    lang: str = "id",
    password: str | None = None,
    grants: list[tuple[str, str | None, str | None]] = (),  # type: ignore[assignment]
) -> str | None:
    """A new account (with its first grants, each ``(role, unit or None, case type or None)``). Returns the
    generated password (shown once) when none was given. ``ValidationFailed`` when the name is taken."""
    _require_admin(actor)
    username = users.check_username(username)
    full_name, email = _check_profile(full_name, email, lang)
    if password:
        if len(password) < accounts.MIN_PASSWORD:
            raise ValidationFailed({"password": Msg(_("at least {min} characters"), min=accounts.MIN_PASSWORD)})
        if len(password) > 200 or not textsafe.storable(password):
            raise ValidationFailed({"password": Msg(_("at most {max} characters"), max=200)})
    generated = None if password else secrets.token_urlsafe(12)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        if s.exec(select(User).where(User.username == username)).first() is not None:
            raise ValidationFailed({"username": Msg(_("An account named '{user}' already exists."), user=username)})
        checked = list(dict.fromkeys(_check_grant(engine, s, *g) for g in grants))
        user = User(
            username=username,
            full_name=full_name,
            email=email,
            lang=lang,
            created_at=now,
            password_hash=hash_password(password or generated),
        )
        s.add(user)
        s.flush()
        _event(s, actor, "user_created", now, {"user": username})
        for g in checked:
            s.add(RoleGrant(user_id=user.id, role=g.role, unit_code=g.unit_code, case_type=g.case_type))
        if checked:
            _event(s, actor, "role_granted", now, {"user": username, "grants": [str(g) for g in checked]})
    engine.invalidate_directory()
    return generated


def update_user(
    engine: WbsEngine, actor: Actor, username: str, *, full_name: str, email: str | None, lang: str
) -> list[str]:
    """Change name, e-mail and language; returns the fields that changed (event ``user_changed`` with their
    names only when any did)."""
    _require_admin(actor)
    full_name, email = _check_profile(full_name, email, lang)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _user(s, username, lock=True)
        changed = [
            name
            for name, old, new in (
                ("full_name", user.full_name, full_name),
                ("email", user.email, email),
                ("lang", user.lang, lang),
            )
            if old != new
        ]
        if changed:
            user.full_name, user.email, user.lang = full_name, email, lang
            s.add(user)
            _event(s, actor, "user_changed", now, {"user": user.username, "fields": changed})
    engine.invalidate_directory()
    return changed


def set_active(engine: WbsEngine, actor: Actor, username: str, active: bool) -> bool:
    """Deactivate (every open session of the account ends at once; grants and everything else stay) or
    reactivate an account. Returns whether anything changed. :class:`AdminRefused` for the admin's own
    account and for the last active admin."""
    _require_admin(actor)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _user(s, username, lock=True)
        if user.active == active:
            return False
        if not active:
            if user.username == actor.username:
                raise AdminRefused(_("You cannot deactivate your own account."))
            if _active_admins(s) == {user.id}:
                raise AdminRefused(
                    _("This is the last active administrator; give another account the admin role first.")
                )
        user.active = active
        s.add(user)
        ended = accounts.end_user_sessions(s, user, now, "deactivated") if not active else 0
        kind = "user_reactivated" if active else "user_deactivated"
        _event(s, actor, kind, now, {"user": user.username, **({} if active else {"sessions_ended": ended})})
    engine.invalidate_directory()
    return True


def reset_password(engine: WbsEngine, actor: Actor, username: str) -> str:
    """A new generated password (shown once to the admin); the user's sessions end. Event ``password_reset``."""
    _require_admin(actor)
    password = secrets.token_urlsafe(12)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _user(s, username, lock=True)
        user.password_hash = hash_password(password)
        s.add(user)
        ended = accounts.end_user_sessions(s, user, now, "password_reset")
        _event(s, actor, "password_reset", now, {"user": user.username, "sessions_ended": ended})
    return password


def reset_second_factor(engine: WbsEngine, actor: Actor, username: str) -> int:
    """Remove the user's second factor (:func:`wbs_engine.users.reset_second_factor`)."""
    _require_admin(actor)
    return users.reset_second_factor(engine, username, actor=actor.username)


def add_grant(
    engine: WbsEngine, actor: Actor, username: str, role: str, unit_code: str | None, case_type: str | None
) -> bool:
    """Grant ``role`` for one unit and one case type (None: all). False when the user already holds exactly
    that grant (nothing written). Event ``role_granted``."""
    _require_admin(actor)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _user(s, username, lock=True)
        g = _check_grant(engine, s, role, unit_code, case_type)
        same = s.exec(
            select(RoleGrant).where(
                RoleGrant.user_id == user.id,
                RoleGrant.role == g.role,
                RoleGrant.unit_code.is_(None) if g.unit_code is None else RoleGrant.unit_code == g.unit_code,
                RoleGrant.case_type.is_(None) if g.case_type is None else RoleGrant.case_type == g.case_type,
            )
        ).first()
        if same is not None:
            return False
        s.add(RoleGrant(user_id=user.id, role=g.role, unit_code=g.unit_code, case_type=g.case_type))
        _event(s, actor, "role_granted", now, {"user": user.username, "grants": [str(g)]})
    engine.invalidate_directory()
    return True


def revoke_grant(engine: WbsEngine, actor: Actor, username: str, grant_id: int) -> bool:
    """Remove one grant of ``username``. False when it is already gone (a second click). Event
    ``role_revoked``; :class:`AdminRefused` for the last active admin's last admin grant."""
    _require_admin(actor)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _user(s, username, lock=True)
        row = s.exec(select(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.user_id == user.id)).first()
        if row is None:
            return False
        if row.role == "admin" and user.active:
            admins = _active_admins(s)
            others = s.exec(
                select(RoleGrant.id).where(
                    RoleGrant.user_id == user.id, RoleGrant.role == "admin", RoleGrant.id != row.id
                )
            ).first()
            if admins == {user.id} and others is None:
                raise AdminRefused(
                    _("This is the last administrator grant; give another account the admin role first.")
                )
        g = Grant(row.role, row.unit_code, row.case_type)
        s.delete(row)
        _event(s, actor, "role_revoked", now, {"user": user.username, "grants": [str(g)]})
    engine.invalidate_directory()
    return True


# --- units -----------------------------------------------------------------------------------------------------


def _candidates(s: Session, code: str) -> tuple[str, ...]:
    rows = s.exec(
        select(User.username)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == "atasan",
            User.active.is_(True),
            (RoleGrant.unit_code.is_(None)) | (RoleGrant.unit_code == code),
        )
        .order_by(User.username)
    ).all()
    return tuple(dict.fromkeys(rows))


def list_units(engine: WbsEngine, actor: Actor) -> list[UnitRow]:
    """The units with their atasan and who may be it."""
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        names = {u.id: u.username for u in s.exec(select(User)).all()}
        return [
            UnitRow(u.code, u.name, u.email, names.get(u.atasan_user_id), _candidates(s, u.code))
            for u in s.exec(select(Unit).order_by(Unit.code)).all()
        ]


def _unit(s: Session, code: str) -> Unit:
    unit = s.exec(select(Unit).where(Unit.code == code).with_for_update()).first() if textsafe.storable(code) else None
    if unit is None:
        raise NotFound(_("Unknown unit '{unit}'."), unit=textsafe.line(code))
    return unit


def _check_unit_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": Msg(_("is required"))})
    if len(name) > 200 or not textsafe.storable(name):
        raise ValidationFailed({"name": Msg(_("at most {max} characters"), max=200)})
    return name


def add_unit(engine: WbsEngine, actor: Actor, code: str, name: str) -> bool:
    """A new unit (code: letters, digits and ``_``, at most 32, stored in capitals). False when a unit with
    this code and name exists already (a second click); ``ValidationFailed`` when the code is taken."""
    _require_admin(actor)
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not code.replace("_", "").isalnum() or not code.isascii():
        raise ValidationFailed({"code": Msg(_("use letters, digits and _ (at most 32)"))})
    name = _check_unit_name(name)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        have = s.exec(select(Unit).where(Unit.code == code)).first()
        if have is not None:
            if have.name == name:
                return False
            raise ValidationFailed({"code": Msg(_("A unit with code {unit} already exists."), unit=code)})
        s.add(Unit(code=code, name=name))
        _event(s, actor, "unit_changed", now, {"unit": code, "change": "added", "name": name})
    return True


def rename_unit(engine: WbsEngine, actor: Actor, code: str, name: str) -> bool:
    _require_admin(actor)
    name = _check_unit_name(name)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        unit = _unit(s, code)
        if unit.name == name:
            return False
        unit.name = name
        s.add(unit)
        _event(s, actor, "unit_changed", now, {"unit": unit.code, "change": "renamed", "name": name})
    return True


def set_unit_atasan(engine: WbsEngine, actor: Actor, code: str, username: str | None) -> bool:
    """The unit's atasan: an active user holding ``atasan`` for this unit or for all units; None or empty
    clears it. Event ``unit_changed``."""
    _require_admin(actor)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        unit = _unit(s, code)
        user_id = None
        if username:
            if username not in _candidates(s, unit.code):
                raise ValidationFailed(
                    {"atasan": Msg(_("Choose a user who holds the atasan role for this unit or for all units."))}
                )
            user_id = _user(s, username).id
        if unit.atasan_user_id == user_id:
            return False
        unit.atasan_user_id = user_id
        s.add(unit)
        _event(s, actor, "unit_changed", now, {"unit": unit.code, "change": "atasan", "atasan": username or None})
    engine.invalidate_directory()
    return True


# --- the office's days -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRow:
    day: date
    name: str
    #: ``closed`` (a day off) or ``open`` (a working day) set by the office; None: national (holidays package)
    kind: str | None


def office_days(engine: WbsEngine, actor: Actor) -> list[DayRow]:
    """The office's own decisions (table ``holiday``), newest first."""
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        return [DayRow(h.day, h.name, h.kind) for h in s.exec(select(Holiday).order_by(Holiday.day.desc())).all()]


def upcoming_holidays(engine: WbsEngine, actor: Actor, today: date, count: int = 12) -> list[DayRow]:
    """The next weekday holidays as this office counts them (national holidays, cuti bersama, the office's
    days off), for context; ``kind`` ``closed`` marks the office's own."""
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        cal = engine.calendar(s)
        own = {h.day for h in s.exec(select(Holiday).where(Holiday.kind == "closed")).all()}
    out: list[DayRow] = []
    for year in (today.year, today.year + 1):
        out += [DayRow(d, n, "closed" if d in own else None) for d, n in cal.holidays_in_year(year) if d >= today]
    return out[:count]


def set_office_day(engine: WbsEngine, actor: Actor, day: date, kind: str, name: str) -> int:
    """Make ``day`` a day off (``closed``) or a working day (``open``); returns how many running clocks moved
    (:func:`wbs_engine.users.set_holiday`, which writes ``holiday_set`` and each ``clock_recomputed``)."""
    _require_admin(actor)
    return users.set_holiday(engine, day, kind, name, actor=actor.username)


def today(engine: WbsEngine) -> date:
    """Today in the office's time zone."""
    return engine.now().astimezone(engine.settings.zone).date()


# --- the second factor per role ------------------------------------------------------------------------------


def set_totp_roles(engine: WbsEngine, actor: Actor, roles: list[str]) -> bool:
    """Which roles must use a second factor (their holders enrol at their next sign-in). Event
    ``setting_changed``; False when nothing changed."""
    _require_admin(actor)
    bad = [r for r in roles if r not in GRANTABLE_ROLES]
    if bad:
        raise ValidationFailed({"roles": Msg(_("choose a role from the list"))})
    chosen = [r for r in GRANTABLE_ROLES if r in roles]
    if list(accounts.totp_roles(engine)) == chosen and _setting_exists(engine):
        return False
    now = engine.now()
    with unit_of_work(engine.db) as s:
        row = s.get(OfficeSetting, accounts.TOTP_ROLES_KEY)
        if row is None:
            row = OfficeSetting(key=accounts.TOTP_ROLES_KEY, updated_by=actor.username, updated_at=now)
        row.value, row.updated_by, row.updated_at = chosen, actor.username, now
        s.add(row)
        _event(s, actor, "setting_changed", now, {"key": accounts.TOTP_ROLES_KEY, "value": chosen})
    return True


def _setting_exists(engine: WbsEngine) -> bool:
    with unit_of_work(engine.db, write=False) as s:
        return s.get(OfficeSetting, accounts.TOTP_ROLES_KEY) is not None


# --- reply templates ---------------------------------------------------------------------------------------------


def _template_row(t: ReplyTemplate) -> TemplateRow:
    return TemplateRow(t.id, t.case_type, t.title, t.body, t.active, t.updated_by, t.updated_at)


def all_reply_templates(engine: WbsEngine, actor: Actor) -> list[TemplateRow]:
    """Every template, active or not, by case type and title (the admin's list)."""
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        rows = s.exec(select(ReplyTemplate).order_by(ReplyTemplate.case_type, ReplyTemplate.title)).all()
        return [_template_row(t) for t in rows]


def get_reply_template(engine: WbsEngine, actor: Actor, template_id: int) -> TemplateRow:
    _require_admin(actor)
    with unit_of_work(engine.db, write=False) as s:
        row = s.get(ReplyTemplate, template_id)
        if row is None:
            raise NotFound(_("Unknown reply template."))
        return _template_row(row)


def save_reply_template(
    engine: WbsEngine, actor: Actor, case_type: str, title: str, body: str, template_id: int | None = None
) -> int:
    """Add a template (``template_id`` None) or edit one; returns its id. Adding the same active text twice
    keeps one. Event ``reply_template_changed``."""
    _require_admin(actor)
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, Msg] = {}
    if not isinstance(case_type, str) or not textsafe.storable(case_type) or not engine.registry.knows(case_type):
        errors["case_type"] = Msg(_("choose a case type from the list"))
    for name, value, most in (("title", title, TITLE_MAX), ("body", body, BODY_MAX)):
        if not value:
            errors[name] = Msg(_("is required"))
        elif len(value) > most or not textsafe.storable(value):
            errors[name] = Msg(_("at most {max} characters"), max=most)
    if errors:
        raise ValidationFailed(errors)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        if template_id is None:
            same = s.exec(
                select(ReplyTemplate).where(
                    ReplyTemplate.case_type == case_type,
                    ReplyTemplate.title == title,
                    ReplyTemplate.body == body,
                    ReplyTemplate.active.is_(True),
                )
            ).first()
            if same is not None:
                return same.id
            row = ReplyTemplate(case_type=case_type, title=title, body=body, updated_by=actor.username, updated_at=now)
            change = "added"
        else:
            row = s.exec(select(ReplyTemplate).where(ReplyTemplate.id == template_id).with_for_update()).first()
            if row is None:
                raise NotFound(_("Unknown reply template."))
            if (row.case_type, row.title, row.body) == (case_type, title, body):
                return row.id
            row.case_type, row.title, row.body = case_type, title, body
            row.updated_by, row.updated_at = actor.username, now
            change = "edited"
        s.add(row)
        s.flush()
        _event(
            s, actor, "reply_template_changed", now, {"template_id": row.id, "case_type": case_type, "change": change}
        )
        return row.id


def set_reply_template_active(engine: WbsEngine, actor: Actor, template_id: int, active: bool) -> bool:
    """Deactivate (handlers no longer see it) or reactivate a template; False when already so."""
    _require_admin(actor)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        row = s.exec(select(ReplyTemplate).where(ReplyTemplate.id == template_id).with_for_update()).first()
        if row is None:
            raise NotFound(_("Unknown reply template."))
        if row.active == active:
            return False
        row.active, row.updated_by, row.updated_at = active, actor.username, now
        s.add(row)
        change = "reactivated" if active else "deactivated"
        _event(
            s,
            actor,
            "reply_template_changed",
            now,
            {"template_id": row.id, "case_type": row.case_type, "change": change},
        )
    return True
