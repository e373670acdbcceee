"""One filing, one case: the token a filing form carries, so that a form sent twice (a double click, a reload,
a browser resending after a timeout) files one case, not two.

**Design.** :func:`issue` gives the form a token when it is shown; ``create_case(..., idempotency_token=)``
*claims* it in the same transaction as the new case. A token is::

    base64url( random (16 bytes) | expiry (8 bytes, Unix seconds, big-endian) | case type (UTF-8) )
    "." base64url( HMAC-SHA256(k, that body) )      k = HMAC-SHA256(the keyring's receipt key, "wbs-filing-token/1")

* **Nothing is stored when a form is shown.** The token is signed, not stored, until it is used: showing the
  public form writes nothing (no row a bot could fill the table with, no write transaction per page view
  on SQLite), and an unknown, altered or foreign token is refused by its signature.
* **A used token is a row** (``filing_token``): the SHA-256 of its random part (unique), the case type, the
  case it filed and its expiry. Claiming is ``INSERT … ON CONFLICT DO NOTHING``: of two submissions with the
  same token, on PostgreSQL the second waits on the first's unique-index entry and then finds it taken; on
  SQLite writers are serialised anyway. A claim rolled back with its case (invalid data, say) leaves the
  token usable, so the reporter can correct the form and send it again.
* **A second use** raises :class:`AlreadyFiled` with the case number, never the tracking code: that is shown
  once, after the first filing committed, and is stored only as a keyed digest.
* Tokens expire after :data:`TOKEN_TTL` (24 hours: time to write a long report). Rows of expired tokens can
  be deleted (:func:`purge`): an expired token is refused before the table is consulted.
* The hash is over the decoded random part, not the token's text, so no second spelling of the same token
  (base64 is lenient) can file a second case.

The CLI (``wbs case new``) and staff tools need no token: it is optional.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from .crypto import Keyring
from .db import of_dialect, prepared, upsert_insert
from .errors import WbsError
from .i18n import gettext_noop as _
from .models import Case, FilingToken

TOKEN_TTL = timedelta(hours=24)
_CONTEXT = b"wbs-filing-token/1"
_NONCE = 16
_EXPIRY = 8
#: longer than any token this module issues (a case type is at most 40 characters)
_MAX_TOKEN = 300

_tokens = FilingToken.__table__
_cases = Case.__table__


class FilingTokenInvalid(WbsError):
    """The form's token is unknown, altered, for another type of report, or expired."""

    status, code = 422, "filing_token_invalid"


class AlreadyFiled(WbsError):
    """The form was already filed as case ``number`` (the tracking code is not repeated)."""

    status, code = 409, "already_filed"

    def __init__(self, number: str | None):
        self.number = number
        if number is None:  # cannot happen: a claim is always settled in its case's transaction
            super().__init__(_("This report is being filed; do not send it again."))
            return
        super().__init__(
            _(
                "This report was already received as case {number} and was not filed twice. Its tracking code was "
                "shown once when the report was received and cannot be shown again; use the code you kept."
            ),
            number=number,
        )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(keyring: Keyring, body: bytes) -> bytes:
    key = hmac.new(keyring.receipt, _CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def issue(keyring: Keyring, case_type: str, now: datetime) -> str:
    """A new token for a filing form of ``case_type``, valid for :data:`TOKEN_TTL` from ``now``."""
    expires = int((now + TOKEN_TTL).timestamp())
    body = secrets.token_bytes(_NONCE) + expires.to_bytes(_EXPIRY, "big") + case_type.encode()
    return f"{_b64(body)}.{_b64(_mac(keyring, body))}"


def _unknown() -> FilingTokenInvalid:
    return FilingTokenInvalid(_("This report form is not recognised; reload the form page and send it again."))


def claim(session: Session, keyring: Keyring, token: str, case_type: str, now: datetime) -> int:
    """Claim ``token`` for a new case of ``case_type`` inside the caller's (the filing's) transaction; returns
    the claim's id for :func:`settle`. Raises :class:`FilingTokenInvalid` or :class:`AlreadyFiled`."""
    if not isinstance(token, str) or not 0 < len(token.strip()) <= _MAX_TOKEN:
        raise _unknown()
    body_text, dot, mac_text = token.strip().partition(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (binascii.Error, ValueError):
        raise _unknown() from None
    if not dot or len(body) <= _NONCE + _EXPIRY or not hmac.compare_digest(mac, _mac(keyring, body)):
        raise _unknown()
    nonce = body[:_NONCE]
    expires = datetime.fromtimestamp(int.from_bytes(body[_NONCE : _NONCE + _EXPIRY], "big"), UTC)
    if body[_NONCE + _EXPIRY :] != case_type.encode():
        raise _unknown()
    if expires <= now:
        raise FilingTokenInvalid(
            _(
                "This report form has expired (it is valid for 24 hours); reload the form page and send it again. "
                "If you already received a tracking code for it, your report was received."
            )
        )
    digest = hashlib.sha256(_CONTEXT + b":" + nonce).hexdigest()
    row = prepared(of_dialect(session, _CLAIM)).first(
        session, {"token_hash": digest, "case_type": case_type, "used_at": now, "expires_at": expires}
    )
    if row is not None:
        return row.id
    number = session.connection().execute(
        sa.select(_cases.c.number)
        .select_from(_tokens.outerjoin(_cases, _cases.c.id == _tokens.c.case_id))
        .where(_tokens.c.token_hash == digest)
    ).scalar()
    raise AlreadyFiled(number)


def settle(session: Session, claim_id: int, case_id: int) -> None:
    """Record which case the claimed token filed (same transaction as the case)."""
    prepared(_SETTLE).run(session, {"b_id": claim_id, "case_id": case_id})


def _claim_stmt(dialect: str) -> sa.sql.ClauseElement:
    return (
        upsert_insert(dialect)(_tokens)
        .values({c: sa.bindparam(c) for c in ("token_hash", "case_type", "used_at", "expires_at")})
        .on_conflict_do_nothing(index_elements=["token_hash"])
        .returning(_tokens.c.id)
    )


#: the statements of every filing, built once (run on the DB-API cursor: :class:`wbs_engine.db.Prepared`)
_CLAIM = {d: _claim_stmt(d) for d in ("postgresql", "sqlite")}
_SETTLE = sa.update(_tokens).where(_tokens.c.id == sa.bindparam("b_id")).values(case_id=sa.bindparam("case_id"))


def purge(session: Session, now: datetime) -> int:
    """Delete the rows of tokens that have expired (they are refused by their expiry anyway)."""
    return session.connection().execute(sa.delete(_tokens).where(_tokens.c.expires_at <= now)).rowcount
