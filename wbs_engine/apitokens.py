"""Personal tokens for the JSON API (``/api/v1``), outside any web framework.

* **Shown once, stored hashed**: a token is ``wbs_`` and 40 URL-safe random characters (240 bits); the
  ``api_token`` row keeps its SHA-256 and its first 12 characters (:data:`PREFIX_LEN`, to tell tokens apart in
  a list), never the token. It is returned by :func:`create_token` and nowhere else.
* **Scoped like the user's grants**: a token has no grants of its own. :func:`actor_for_token` loads the
  user's grants as they are at each request, so a grant revoked, a unit changed or an account deactivated
  takes effect for every token of that user at once. A token never reaches more than its user could in the
  web pages (every engine operation checks role × unit × case type itself).
* **Ends**: when revoked (by its user, or by an admin for anyone), when expired (``days``, default 90), when
  its user is deactivated. Unknown, revoked, expired and inactive all give the same ``None``.
* **Audit**: ``api_token_created`` and ``api_token_revoked`` on the system chain (the token's id, its user,
  name, prefix and expiry; never the token or its digest). Using a token is not an event (the engine records
  what it reads and changes); ``last_used_at`` is written at most once a minute (:data:`TOUCH_EVERY`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import func, select

from . import audit, textsafe
from .db import unit_of_work
from .engine import WbsEngine
from .errors import NotAllowed, NotFound, ValidationFailed, WbsError
from .i18n import gettext_noop as _
from .models import ApiToken, RoleGrant, User
from .permissions import Actor, load_actor

#: every token starts with this (a secret scanner can recognise a leaked one)
TOKEN_PREFIX = "wbs_"
#: random characters after the prefix (token_urlsafe(30) gives 40)
TOKEN_CHARS = 40
#: characters of the token kept in clear to tell tokens apart (``wbs_`` and 8 random ones)
PREFIX_LEN = 12
#: the shape of a token; anything else is refused before the database is asked
TOKEN_RE = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{{TOKEN_CHARS}}}$")
DEFAULT_DAYS = 90
MAX_DAYS = 3650
#: live tokens one user may hold at once (a script that makes tokens in a loop stops here)
MAX_ACTIVE = 20
NAME_MAX = 100
#: how often (seconds) a token's ``last_used_at`` is written: not on every request
TOUCH_EVERY = 60
#: who acts when a token is made or revoked from the server's console (``wbs token``), as in users.py
CONSOLE = "admin"


class TooManyTokens(WbsError):
    """The user already holds :data:`MAX_ACTIVE` live tokens."""

    status, code = 409, "too_many_tokens"


@dataclass(frozen=True)
class TokenInfo:
    """One token as its user (or an admin) may know it: never the token itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    #: active | expired | revoked
    status: str

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "status": self.status,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _status(row: ApiToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def _info(row: ApiToken, now: datetime) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        status=_status(row, now),
    )


def _user(s, username: str) -> User:
    user = (
        s.exec(select(User).where(User.username == username.strip().lower())).first()
        if isinstance(username, str) and textsafe.storable(username)
        else None
    )
    if user is None or not user.active:
        raise NotFound(_("Unknown or inactive user '{user}'."), user=textsafe.line(username))
    return user


def _is_admin(s, actor: Actor) -> bool:
    """Holds ``admin`` now (read from the database, not from the actor's possibly older grants)."""
    if actor.user_id is None:
        return False
    held = s.exec(select(RoleGrant.id).where(RoleGrant.user_id == actor.user_id, RoleGrant.role == "admin")).first()
    return held is not None


def _check_name(name: object) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise ValidationFailed({"name": _("give the token a name (what uses it)")})
    if len(text) > NAME_MAX:
        raise ValidationFailed({"name": _("at most 100 characters")})
    if not textsafe.storable(text) or text != textsafe.line(text):
        raise ValidationFailed({"name": _("one line of text, without control characters")})
    return text


def _check_days(days: object) -> int | None:
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed({"days": _("a whole number of days from 1 to 3650")})
    return days


def create_token(
    engine: WbsEngine, username: str, name: str, *, days: int | None = DEFAULT_DAYS, by: Actor | None = None
) -> str:
    """A new token for ``username``, valid ``days`` days (None: until revoked; the web and the CLI always
    set a limit). Returns the token: shown once, never stored.

    ``by`` is who asks: the user themself (the web page), or None for the server's console (``wbs token
    create``). Nobody else makes a token for a user, an admin neither: a token acts as its user."""
    label = _check_name(name)
    days = _check_days(days)
    now = engine.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(30)
    with unit_of_work(engine.db) as s:
        user = _user(s, username)
        if by is not None and by.user_id != user.id:
            raise NotAllowed(_("Only {user} may make a token for their own account."), user=user.username)
        live = s.exec(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .where((ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        ).one()
        if live >= MAX_ACTIVE:
            raise TooManyTokens(
                _("{user} already has {n} active tokens; revoke one first."), user=user.username, n=MAX_ACTIVE
            )
        row = ApiToken(
            user_id=user.id,
            name=label,
            token_hash=digest(token),
            prefix=token[:PREFIX_LEN],
            created_at=now,
            expires_at=now + timedelta(days=days) if days is not None else None,
        )
        s.add(row)
        s.flush()
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="api_token_created",
            actor=by.username if by is not None else CONSOLE,
            now=now,
            payload={
                "user": user.username,
                "token_id": row.id,
                "name": label,
                "prefix": row.prefix,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            },
        )
    return token


def list_tokens(engine: WbsEngine, username: str) -> list[TokenInfo]:
    """Every token of ``username`` (active, expired and revoked), the newest first. Holds no token."""
    now = engine.now()
    with unit_of_work(engine.db, write=False) as s:
        user = _user(s, username)
        rows = s.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).all()
        return [_info(r, now) for r in rows]


def revoke_token(engine: WbsEngine, username: str, token_id: int, *, by: Actor | None = None) -> TokenInfo:
    """Revoke token ``token_id`` of ``username`` (at once: the next request with it gets 401).

    ``by``: the user themself, an admin (anyone's token), or None for the console. Another user is refused
    with the same words whether the token exists or not. Revoking a revoked token changes nothing and
    writes no event."""
    now = engine.now()
    if isinstance(token_id, bool) or not isinstance(token_id, int):
        raise NotFound(_("There is no token {id} of {user}."), id=textsafe.line(token_id), user=textsafe.line(username))
    with unit_of_work(engine.db) as s:
        user = _user(s, username)
        if by is not None and by.user_id != user.id and not _is_admin(s, by):
            raise NotAllowed(_("Only {user} or an admin may revoke the tokens of {user}."), user=user.username)
        row = s.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
        if row is None or row.user_id != user.id:
            raise NotFound(_("There is no token {id} of {user}."), id=token_id, user=user.username)
        if row.revoked_at is None:
            row.revoked_at = now
            s.add(row)
            audit.append(
                s,
                chain=audit.SYSTEM_CHAIN,
                kind="api_token_revoked",
                actor=by.username if by is not None else CONSOLE,
                now=now,
                payload={"user": user.username, "token_id": row.id, "name": row.name, "prefix": row.prefix},
            )
        return _info(row, now)


def actor_for_token(engine: WbsEngine, token: object) -> Actor | None:
    """The user a token acts for, with their grants as they are now; None for a token that is malformed,
    unknown, revoked or expired, or whose user is inactive (one answer for all)."""
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    now = engine.now()
    with unit_of_work(engine.db, write=False) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
        if row is None or _status(row, now) != "active":
            return None
        user = s.get(User, row.user_id)
        if user is None or not user.active:
            return None
        actor = load_actor(s, user.username)
        touch = row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_EVERY
        row_id = row.id
    if touch:
        with unit_of_work(engine.db) as s:
            row = s.get(ApiToken, row_id)
            if row is not None:
                row.last_used_at = now
                s.add(row)
    return actor


__all__ = [
    "TokenInfo",
    "TooManyTokens",
    "actor_for_token",
    "create_token",
    "digest",
    "list_tokens",
    "revoke_token",
]
