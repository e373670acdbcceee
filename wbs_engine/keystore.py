"""The database side of the keyring: which keys a database belongs to, checked before anything is written.

The database stores each key's fingerprint (table ``office_key``), never a key. A process started with a
keyring whose fingerprints do not match (the wrong ``WBS_KEYRING`` or ``WBS_INSTANCE_DIR``) is refused
with one line naming the setting to fix, so a database can never end up under two keys.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from .crypto import SEALED_PREFIX, CryptoError, Keyring
from .i18n import N_, Msg
from .i18n import gettext_noop as _
from .models import Case, OfficeKey, Outbox

_keys = OfficeKey.__table__


def registered(session: Session) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for purpose, fp in session.connection().execute(sa.select(_keys.c.purpose, _keys.c.fingerprint)):
        out.setdefault(purpose, set()).add(fp)
    return out


def register(session: Session, keyring: Keyring, now: datetime) -> list[str]:
    """Record the fingerprints of ``keyring`` that the database does not know yet; returns the new ones."""
    have = registered(session)
    added = []
    for purpose, fps in keyring.fingerprints().items():
        for fp in fps:
            if fp not in have.get(purpose, set()):
                session.connection().execute(sa.insert(_keys).values(purpose=purpose, fingerprint=fp, created_at=now))
                added.append(f"{purpose}:{fp}")
    return added


def register_one(session: Session, purpose: str, fingerprint: str, now: datetime) -> None:
    session.connection().execute(sa.insert(_keys).values(purpose=purpose, fingerprint=fingerprint, created_at=now))


def _where(keyring: Keyring) -> str | Msg:
    """How the messages name the keyring: its path ("the keyring {path}"), or "given" for one never saved."""
    return str(keyring.path) if keyring.path else Msg(_("given"))


def check(session: Session, keyring: Keyring) -> None:
    """Refuse a keyring that does not belong to this database (see the module docstring)."""
    have = registered(session)
    if not have:
        raise CryptoError(
            _("this database has no keys registered yet: run `wbs init-db` (it creates or registers the keyring)")
        )
    mine = keyring.fingerprints()
    if mine["encryption"][0] not in have.get("encryption", set()):
        raise CryptoError(
            _(
                "the keyring {path} does not belong to this database (its encryption key {key} is not one of "
                "{known}): set WBS_KEYRING (or WBS_INSTANCE_DIR) to the keyring that `wbs init-db` made for this "
                "database"
            ),
            path=_where(keyring),
            key=mine["encryption"][0],
            known=", ".join(sorted(have.get("encryption", ()))),
        )
    missing = have.get("encryption", set()) - set(mine["encryption"])
    if missing:
        raise CryptoError(
            Msg.count(
                N_(
                    "the keyring {path} lacks encryption key {keys} that this database lists: restore the keyring "
                    "from its backup (if nobody rotated keys, the office_key table was edited)",
                    "the keyring {path} lacks encryption keys {keys} that this database lists: restore the keyring "
                    "from its backup (if nobody rotated keys, the office_key table was edited)",
                ),
                len(missing),
                path=_where(keyring),
                keys=", ".join(sorted(missing)),
            )
        )
    for purpose in ("receipt", "signing"):
        if mine[purpose][0] not in have.get(purpose, set()):
            raise CryptoError(
                _(
                    "the keyring {path} has a {purpose} key ({key}) that this database does not know ({known}): set "
                    "WBS_KEYRING (or WBS_INSTANCE_DIR) to the keyring that `wbs init-db` made for this database"
                ),
                path=_where(keyring),
                purpose=purpose,
                key=mine[purpose][0],
                known=", ".join(sorted(have.get(purpose, ()))) or "-",
            )
        if len(have.get(purpose, ())) > 1:
            others = sorted(have[purpose] - set(mine[purpose]))
            raise CryptoError(
                Msg.count(
                    N_(
                        "this database lists {purpose} key {keys} besides the keyring's {key}; only one is ever made, "
                        "so the office_key table was edited: remove the extra row",
                        "this database lists {purpose} keys {keys} besides the keyring's {key}; only one is ever made, "
                        "so the office_key table was edited: remove the extra rows",
                    ),
                    len(others),
                    purpose=purpose,
                    keys=", ".join(others),
                    key=mine[purpose][0],
                )
            )


def unregistered_rotation(session: Session, keyring: Keyring) -> list[str]:
    """Encryption keys at the front of ``keyring`` that the database does not list yet, when everything else
    matches: a ``wbs rotate-key`` that saved the keyring but died before registering the new key. ``wbs
    init-db`` registers them (nothing was wrapped with an unregistered key, and every key the database uses
    is still in the keyring)."""
    have = registered(session)
    mine = keyring.fingerprints()
    if not have or not set(have.get("encryption", ())) <= set(mine["encryption"]):
        return []
    if any(set(mine[p]) != have.get(p, set()) for p in ("receipt", "signing")):
        return []
    return [fp for fp in mine["encryption"] if fp not in have.get("encryption", set())]


def holds_data(session: Session) -> bool:
    """Whether the database holds anything sealed or signed: then no new keyring may ever be made for it."""
    from .models import AuditCheckpoint, CaseEvent

    conn = session.connection()
    for table in (Case.__table__, CaseEvent.__table__, AuditCheckpoint.__table__):
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
            return True
    return False


def rewrap_all(session: Session, keyring: Keyring) -> int:
    """Wrap every case's data key, and every reporter address waiting in the outbox, with the newest office
    key (after a rotation). The data keys themselves, so every sealed value and the audit trail, stay as they
    are. Returns the number of case keys re-wrapped."""
    conn = session.connection()
    cases, outbox = Case.__table__, Outbox.__table__
    n = 0
    for case_id, wrapped in conn.execute(
        sa.select(cases.c.id, cases.c.data_key).where(cases.c.data_key.is_not(None))
    ).all():
        conn.execute(sa.update(cases).where(cases.c.id == case_id).values(data_key=keyring.rewrap(wrapped)))
        n += 1
    for row_id, recipient in conn.execute(
        sa.select(outbox.c.id, outbox.c.recipient).where(outbox.c.recipient.startswith(SEALED_PREFIX))
    ).all():
        token = keyring.rewrap(recipient.removeprefix(SEALED_PREFIX))
        conn.execute(sa.update(outbox).where(outbox.c.id == row_id).values(recipient=SEALED_PREFIX + token))
    return n
