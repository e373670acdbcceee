"""Staff sign-in and sessions, outside any web framework: the web layer (``webapp/auth.py``) only carries the
session id in a signed cookie and asks this module who it belongs to.

* **A session is a row** (``staff_session``): the cookie holds a random id, the row its SHA-256. Sign-out, the
  idle limit (:data:`IDLE_MINUTES`) and deactivating an account end the row, so a copied cookie dies with it.
* **One failure**: a wrong user name, a wrong password, an inactive account all give the same ``None``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from . import audit, textsafe
from .crypto import verify_password
from .db import unit_of_work
from .engine import WbsEngine
from .models import StaffSession, User
from .permissions import Actor, load_actor

#: a staff session ends after this many minutes without a request
IDLE_MINUTES = 30
#: how often (seconds) a session's ``last_seen_at`` is written: not on every request
TOUCH_EVERY = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A live session: its user (as an :class:`Actor` with their grants) and whether the second factor is
    still to be given."""

    actor: Actor
    full_name: str
    pending_second_factor: bool


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


def open_session(engine: WbsEngine, user: User, *, pending_second_factor: bool = False) -> str:
    """A new session for ``user``; returns the random id the cookie carries (shown nowhere else)."""
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
            audit.append(s, chain=audit.SYSTEM_CHAIN, kind="signed_in", actor=user.username, now=now, payload={})
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
            info = SessionInfo(actor=actor, full_name=user.full_name, pending_second_factor=row.pending_second_factor)
            touch = (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY
    if stale is not None:
        _end(engine, stale, now, "idle" if idle else "inactive")
        return None
    if touch:
        with unit_of_work(engine.db) as s:
            row = s.get(StaffSession, row.id)
            if row is not None and row.ended_at is None:
                row.last_seen_at = now
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
