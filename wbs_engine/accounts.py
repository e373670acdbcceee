"""Staff sign-in and sessions, outside any web framework: the web layer (``webapp/auth.py``) only carries the
session id in a signed cookie and asks this module who it belongs to.

* **A session is a row** (``staff_session``): the cookie holds a random id, the row its SHA-256. Sign-out, the
  idle limit (:data:`IDLE_MINUTES`) and deactivating an account end the row, so a copied cookie dies with it.
* **One failure**: a wrong user name, a wrong password, an inactive account all give the same ``None``;
  a wrong, replayed or used-up second-factor code gives the same ``False``.
* **Second factor (TOTP, RFC 6238)**: the secret is sealed with the office key (``User.totp_secret_enc``);
  a code is accepted one step either side of now (``valid_window=1``) and a time step never twice
  (``User.totp_last_step``, checked and moved under the user row's lock); ten recovery codes, kept as SHA-256
  digests, each works once. Which roles must use it is an office setting (:data:`TOTP_ROLES_KEY`, default
  :data:`DEFAULT_TOTP_ROLES`); anyone may enrol. A session opened after the password of a user who has, or
  must have, a second factor is *pending*: it may only finish signing in (give a code, or enrol), and the
  full session that follows is a new row (a new id): ``signed_in`` is written then, not before.
* **Audit** (system chain): ``signed_in`` (payload ``factor``: ``totp``/``recovery`` when one was given),
  ``signed_out``, ``sign_in_failed`` (``user`` only when such an account exists: nothing a person typed
  otherwise; ``step`` ``password`` or ``code``), ``sign_in_locked``, ``totp_enrolled``,
  ``recovery_codes_renewed``, ``password_changed``. Never a password, a code or an address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from sqlmodel import Session, select

from . import audit, textsafe
from .crypto import hash_password, verify_password
from .db import unit_of_work
from .engine import WbsEngine
from .errors import ValidationFailed
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import ApiToken, OfficeSetting, RoleGrant, StaffSession, User
from .permissions import Actor, load_actor

#: a staff session ends after this many minutes without a request
IDLE_MINUTES = 30
#: how often (seconds) a session's ``last_seen_at`` is written: not on every request
TOUCH_EVERY = 60
#: the office setting naming the roles that must use a second factor (a JSON list of roles)
TOTP_ROLES_KEY = "totp_roles"
#: when the admin has not chosen: the roles that can change every account (admin) or read every sealed
#: report and identity the workflows open to them (auditor). Handlers are encouraged, not forced, until the
#: admin says so: an office switching on the staff web must not lock out every handler on the first day.
DEFAULT_TOTP_ROLES = ("admin", "auditor")
#: TOTP: 30-second steps, 6 digits, one step either side accepted
TOTP_INTERVAL = 30
TOTP_WINDOW = 1
#: recovery codes made at enrolment (and on renewal)
RECOVERY_CODES = 10
#: new passwords (own change, admin's) are at least this long
MIN_PASSWORD = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A live session: its user (as an :class:`Actor` with their grants) and whether the second factor is
    still to be given."""

    actor: Actor
    full_name: str
    pending_second_factor: bool
    #: the user has a second factor (a pending session asks for a code; otherwise it must enrol first)
    totp_enrolled: bool = False


def check_password(engine: WbsEngine, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (the same None for every kind of failure)."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    username = username.strip().lower()
    if not username or len(username) > 64 or not textsafe.storable(username) or not textsafe.storable(password):
        return None
    with unit_of_work(engine.db, write=False) as s:
        user = s.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(None, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def open_session(
    engine: WbsEngine, user: User, *, pending_second_factor: bool = False, factor: str | None = None
) -> str:
    """A new session for ``user``; returns the random id the cookie carries (shown nowhere else).
    ``factor`` (``totp``/``recovery``) goes into the ``signed_in`` event of a full session."""
    token = secrets.token_urlsafe(32)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        s.add(
            StaffSession(
                token_hash=_digest(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                pending_second_factor=pending_second_factor,
            )
        )
        if not pending_second_factor:
            row = s.get(User, user.id)
            row.last_login_at = now
            s.add(row)
            audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="signed_in",
                actor=user.username,
                now=now,
                payload={"factor": factor} if factor else {},
            )
    return token


def session_info(engine: WbsEngine, token: str | None) -> SessionInfo | None:
    """Who the session ``token`` belongs to, or None (unknown, ended, idle too long, account inactive).
    Keeps the session alive (writes ``last_seen_at`` at most every :data:`TOUCH_EVERY` seconds)."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    now = engine.now()
    with unit_of_work(engine.db, write=False) as s:
        row = s.exec(select(StaffSession).where(StaffSession.token_hash == _digest(token))).first()
        if row is None or row.ended_at is not None:
            return None
        user = s.get(User, row.user_id)
        idle = now - row.last_seen_at > timedelta(minutes=IDLE_MINUTES)
        if user is None or not user.active or idle:
            stale = row.id
        else:
            stale = None
            actor = load_actor(s, user.username)
            # a full session of a user without a second factor whose roles now require one (a role granted,
            # or the office's list changed, since it opened): back to the pending step, i.e. enrolment
            demoted = (
                not row.pending_second_factor
                and user.totp_secret_enc is None
                and bool({g.role for g in actor.grants} & set(_required_roles(s)))
            )
            info = SessionInfo(
                actor=actor,
                full_name=user.full_name,
                pending_second_factor=row.pending_second_factor or demoted,
                totp_enrolled=user.totp_secret_enc is not None,
            )
            touch = demoted or (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY
    if stale is not None:
        _end(engine, stale, now, "idle" if idle else "inactive")
        return None
    if touch:
        with unit_of_work(engine.db) as s:
            row = s.get(StaffSession, row.id)
            if row is not None and row.ended_at is None:
                row.last_seen_at = now
                row.pending_second_factor = row.pending_second_factor or info.pending_second_factor
                s.add(row)
    return info


def _end(engine: WbsEngine, session_id: int, now: datetime, why: str) -> None:
    with unit_of_work(engine.db) as s:
        row = s.get(StaffSession, session_id)
        if row is None or row.ended_at is not None:
            return
        row.ended_at = now
        s.add(row)
        user = s.get(User, row.user_id)
        if not row.pending_second_factor:
            audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="signed_out",
                actor=user.username if user else "system",
                now=now,
                payload={"why": why},
            )


def close_session(engine: WbsEngine, token: str | None) -> None:
    """Sign-out: the session ends on the server (its cookie no longer works anywhere)."""
    if not isinstance(token, str) or not token:
        return
    with unit_of_work(engine.db, write=False) as s:
        row = s.exec(select(StaffSession).where(StaffSession.token_hash == _digest(token))).first()
    if row is not None:
        _end(engine, row.id, engine.now(), "sign_out")


def end_user_sessions(s: Session, user: User, now: datetime, why: str, *, keep_token: str | None = None) -> int:
    """End every open session of ``user`` (but the one whose id is ``keep_token``) in the caller's transaction:
    a ``signed_out`` event (``why``) for each full one; and revoke every live API token of theirs (an
    ``api_token_revoked`` event with ``why`` each): whatever made the sessions end (a password changed or
    reset, a second factor reset, a deactivation) may mean the account was taken, and a token made by whoever
    took it must not outlive the cookie. Returns how many sessions ended."""
    tokens = s.exec(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = now
        s.add(token)
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="api_token_revoked",
            actor="system",
            now=now,
            payload={"user": user.username, "token_id": token.id, "name": token.name, "prefix": token.prefix,
                     "why": why},
        )
    keep = _digest(keep_token) if keep_token else None
    rows = s.exec(select(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))).all()
    ended = 0
    for row in rows:
        if keep is not None and row.token_hash == keep:
            continue
        row.ended_at = now
        s.add(row)
        ended += 1
        if not row.pending_second_factor:
            audit.append(
                s, chain=audit.SYSTEM_CHAIN, kind="signed_out", actor=user.username, now=now, payload={"why": why}
            )
    return ended


# --- the second factor ---------------------------------------------------------------------------------------


def totp_roles(engine: WbsEngine) -> tuple[str, ...]:
    """The roles whose holders must use a second factor (the admin's setting, else :data:`DEFAULT_TOTP_ROLES`)."""
    with unit_of_work(engine.db, write=False) as s:
        return _required_roles(s)


def _required_roles(s: Session) -> tuple[str, ...]:
    row = s.get(OfficeSetting, TOTP_ROLES_KEY)
    if row is None or not isinstance(row.value, list):
        return DEFAULT_TOTP_ROLES
    return tuple(str(r) for r in row.value)


def second_factor_required(engine: WbsEngine, user: User) -> bool:
    """Does one of ``user``'s grants name a role that must use a second factor?"""
    required = set(totp_roles(engine))
    if not required:
        return False
    with unit_of_work(engine.db, write=False) as s:
        roles = set(s.exec(select(RoleGrant.role).where(RoleGrant.user_id == user.id)).all())
    return bool(roles & required)


def needs_second_factor(engine: WbsEngine, user: User) -> bool:
    """After the password: must this user give a code (enrolled) or enrol (required) before the session is full?"""
    return user.totp_secret_enc is not None or second_factor_required(engine, user)


def new_totp_secret() -> str:
    """A new random TOTP secret (base32, 160 bits) for an enrolment in progress."""
    return pyotp.random_base32(32)


def provisioning_uri(engine: WbsEngine, username: str, secret: str) -> str:
    """The ``otpauth://`` link an authenticator app reads from the QR code."""
    issuer = engine.settings.office_name or "wbs-engine"
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(name=username, issuer_name=issuer)


def _step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_INTERVAL


def _totp_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step ``code`` belongs to (within :data:`TOTP_WINDOW` of now and after ``after``), or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    here = _step(now)
    for step in range(here - TOTP_WINDOW, here + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * TOTP_INTERVAL), code):
            return step if after is None or step > after else None
    return None


def _recovery_digest(code: str) -> str:
    plain = "".join(ch for ch in code.lower() if ch not in " -")
    return hashlib.sha256(("wbs-recovery/1:" + plain).encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _locked_user(s: Session, username: str) -> User | None:
    """The user row, locked for this transaction (a code checked twice at once is accepted once)."""
    return s.exec(select(User).where(User.username == username).with_for_update()).first()


def verify_second_factor(engine: WbsEngine, username: str, code: str) -> str | None:
    """Check a TOTP code or a recovery code of an enrolled, active user and use it up: ``"totp"`` (its time
    step is recorded and never accepted again), ``"recovery"`` (its digest removed), or None for every kind
    of failure (no second factor, wrong, replayed, already used)."""
    if not isinstance(code, str) or not code.strip() or len(code) > 40 or not textsafe.storable(code):
        return None
    now = engine.now()
    with unit_of_work(engine.db) as s:
        user = _locked_user(s, username)
        if user is None or not user.active or user.totp_secret_enc is None:
            return None
        secret = engine.keyring.open_office(user.totp_secret_enc)
        step = _totp_step(secret, code, now, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            s.add(user)
            return "totp"
        digest = _recovery_digest(code)
        left = list(user.recovery_codes or [])
        match = next((d for d in left if hmac.compare_digest(d, digest)), None)
        if match is None:
            return None
        left.remove(match)
        user.recovery_codes = left
        s.add(user)
        return "recovery"


def _pending_row(engine: WbsEngine, token: str | None) -> tuple[StaffSession, User] | None:
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    with unit_of_work(engine.db, write=False) as s:
        row = s.exec(select(StaffSession).where(StaffSession.token_hash == _digest(token))).first()
        if row is None or row.ended_at is not None or not row.pending_second_factor:
            return None
        user = s.get(User, row.user_id)
    if user is None or not user.active or engine.now() - row.last_seen_at > timedelta(minutes=IDLE_MINUTES):
        return None
    return row, user


def promote_session(engine: WbsEngine, token: str, factor: str) -> str | None:
    """The second factor was given (``factor``: ``totp``/``recovery``) in the pending session ``token``: end
    it and open the full session (a new id; ``signed_in`` now). None when ``token`` is no pending session."""
    found = _pending_row(engine, token)
    if found is None:
        return None
    row, user = found
    with unit_of_work(engine.db) as s:
        pending = s.get(StaffSession, row.id)
        if pending is None or pending.ended_at is not None:
            return None
        pending.ended_at = engine.now()
        s.add(pending)
    return open_session(engine, user, factor=factor)


def finish_sign_in(engine: WbsEngine, token: str | None, code: str) -> str | None:
    """The second step of signing in: ``code`` (TOTP or recovery) for the pending session ``token``. Returns
    the full session's id, or None (the one failure: wrong, replayed or used code, or no pending session)."""
    found = _pending_row(engine, token)
    if found is None:
        return None
    factor = verify_second_factor(engine, found[1].username, code)
    if factor is None:
        return None
    return promote_session(engine, token, factor)


def enrol_totp(engine: WbsEngine, username: str, secret: str, code: str, *, current_code: str = "") -> list[str]:
    """Make ``secret`` the user's second factor once ``code`` (from the app that scanned it) is right; a user
    already enrolled must also give a ``current_code`` of the old one. Returns the new recovery codes (shown
    once; only their digests are kept). Event ``totp_enrolled``. ``ValidationFailed`` on ``code`` /
    ``current_code``; nothing changes then."""
    if not isinstance(secret, str) or len(secret) < 16:
        raise ValidationFailed({"code": Msg(_("The set-up expired; start again."))})
    now = engine.now()
    user = _active_user(engine, username)
    renewing = user.totp_secret_enc is not None
    if renewing and verify_second_factor(engine, username, current_code or "") != "totp":
        raise ValidationFailed({"current_code": Msg(_("This is not a current code of your authenticator app."))})
    step = _totp_step(secret, code or "", now, None)
    if step is None:
        raise ValidationFailed({"code": Msg(_("This code does not match; check the app's time and try again."))})
    codes = _new_recovery_codes()
    with unit_of_work(engine.db) as s:
        row = _locked_user(s, username)
        row.totp_secret_enc = engine.keyring.seal_office(secret)
        row.totp_enrolled_at = now
        row.totp_last_step = max(step, row.totp_last_step or 0)
        row.recovery_codes = [_recovery_digest(c) for c in codes]
        s.add(row)
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="totp_enrolled",
            actor=username,
            now=now,
            payload={"user": username, "renewed": renewing},
        )
    return codes


def renew_recovery_codes(engine: WbsEngine, username: str, code: str) -> list[str]:
    """Ten new recovery codes for an enrolled user who gives a current TOTP code (the old codes stop working).
    Event ``recovery_codes_renewed``."""
    if verify_second_factor(engine, username, code or "") != "totp":
        raise ValidationFailed({"code": Msg(_("This is not a current code of your authenticator app."))})
    codes = _new_recovery_codes()
    with unit_of_work(engine.db) as s:
        row = _locked_user(s, username)
        row.recovery_codes = [_recovery_digest(c) for c in codes]
        s.add(row)
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="recovery_codes_renewed",
            actor=username,
            now=engine.now(),
            payload={"user": username},
        )
    return codes


def _active_user(engine: WbsEngine, username: str) -> User:
    with unit_of_work(engine.db, write=False) as s:
        user = s.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise ValidationFailed({"username": Msg(_("Unknown or inactive user '{user}'."), user=textsafe.line(username))})
    return user


@dataclass(frozen=True)
class AccountView:
    """What the account page shows a user about themselves."""

    username: str
    full_name: str
    email: str | None
    lang: str
    grants: tuple[str, ...]
    totp_enrolled_at: datetime | None
    recovery_codes_left: int
    second_factor_required: bool
    last_login_at: datetime | None
    roles: tuple[str, ...] = field(default=())


def account(engine: WbsEngine, username: str) -> AccountView:
    """The signed-in user's own account: name, grants (``role:unit:type``), second factor status."""
    user = _active_user(engine, username)
    with unit_of_work(engine.db, write=False) as s:
        grants = s.exec(select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.role)).all()
    return AccountView(
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        lang=user.lang,
        grants=tuple(":".join((g.role, g.unit_code or "*", g.case_type or "*")) for g in grants),
        roles=tuple(dict.fromkeys(g.role for g in grants)),
        totp_enrolled_at=user.totp_enrolled_at if user.totp_secret_enc else None,
        recovery_codes_left=len(user.recovery_codes or []) if user.totp_secret_enc else 0,
        second_factor_required=second_factor_required(engine, user),
        last_login_at=user.last_login_at,
    )


def change_password(
    engine: WbsEngine, username: str, current: str, new: str, repeat: str, *, keep_token: str | None = None
) -> int:
    """The user changes their own password: the current one, the new one twice (at least
    :data:`MIN_PASSWORD` characters, not the current one). Ends the user's other sessions (not
    ``keep_token``'s); event ``password_changed``. Returns how many sessions ended. ``ValidationFailed`` per
    field; nothing changes then."""
    errors: dict[str, Msg] = {}
    if check_password(engine, username, current if isinstance(current, str) else "") is None:
        errors["current"] = Msg(_("This is not your current password."))
    if not isinstance(new, str) or len(new) < MIN_PASSWORD:
        errors["new"] = Msg(_("at least {min} characters"), min=MIN_PASSWORD)
    elif len(new) > 200 or not textsafe.storable(new):
        errors["new"] = Msg(_("at most {max} characters"), max=200)
    elif new == current:
        errors["new"] = Msg(_("Choose a password other than the current one."))
    elif new != repeat:
        errors["repeat"] = Msg(_("The two new passwords differ."))
    if errors:
        raise ValidationFailed(errors)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        row = _locked_user(s, username)
        row.password_hash = hash_password(new)
        s.add(row)
        ended = end_user_sessions(s, row, now, "password_changed", keep_token=keep_token)
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="password_changed",
            actor=username,
            now=now,
            payload={"user": username, "sessions_ended": ended},
        )
    return ended


# --- failures and lock-outs ----------------------------------------------------------------------------------


def _existing(s: Session, typed: str) -> str | None:
    """The username of the account ``typed`` names, or None: a failure records nothing a person typed."""
    if not isinstance(typed, str):
        return None
    name = typed.strip().lower()
    if not name or len(name) > 64 or not textsafe.storable(name):
        return None
    return s.exec(select(User.username).where(User.username == name)).first()


def record_failure(engine: WbsEngine, typed_username: str, step: str) -> None:
    """A failed sign-in (``step``: ``password`` or ``code``): event ``sign_in_failed``, with the username only
    when such an account exists (actor ``system`` otherwise); never the password, the code or the address."""
    with unit_of_work(engine.db) as s:
        user = _existing(s, typed_username)
        payload = {"step": step, **({"user": user} if user else {})}
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="sign_in_failed",
            actor=user or "system",
            now=engine.now(),
            payload=payload,
        )


def record_lockout(engine: WbsEngine, typed_username: str | None, scope: str) -> None:
    """Sign-in refused for a while after too many failures (``scope``: ``account`` or ``address``): event
    ``sign_in_locked`` (the username only when such an account exists and the lock is the account's)."""
    with unit_of_work(engine.db) as s:
        user = _existing(s, typed_username) if scope == "account" and typed_username else None
        payload = {"scope": scope, **({"user": user} if user else {})}
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="sign_in_locked",
            actor=user or "system",
            now=engine.now(),
            payload=payload,
        )
