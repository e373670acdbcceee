"""Setting up a database and its keyring (``wbs init-db``), and rotating the encryption key.

These are the only places where keys are created: every other command refuses to run without the keyring
that belongs to its database (:mod:`wbs_engine.keystore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import keystore
from .config import Settings
from .crypto import CryptoError, Keyring
from .db import make_engine, unit_of_work
from .i18n import gettext_noop as _
from .migrate import current, upgrade


@dataclass(frozen=True)
class InitResult:
    revision: str | None
    url: str
    keyring: Path
    created_keyring: bool
    registered: list[str]


def init_database(settings: Settings, *, now: datetime | None = None) -> InitResult:
    """Create or upgrade the schema, create the keyring if there is none, and register its fingerprints.

    A database whose keys are already registered is never given a new keyring: if the file is missing,
    that is a lost keyring (restore it), not a reason to make another one."""
    now = now or datetime.now(UTC)
    db = make_engine(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(db)
        path = settings.keyring_path
        with unit_of_work(db) as s:
            known = keystore.registered(s)
            created = False
            if path.exists():
                keyring = Keyring.load(path)
            elif known or keystore.holds_data(s):
                raise CryptoError(
                    _(
                        "this database already holds sealed data, but the keyring {path} does not exist: restore "
                        "the keyring from its backup (or set WBS_KEYRING to it); a new one could not open the "
                        "existing data and would fork the keys"
                    ),
                    path=path,
                )
            else:
                keyring = Keyring.generate()
                keyring.save(path)
                created = True
            if known:
                # a rotation that saved the keyring but died before registering the new key is completed here
                for fp in keystore.unregistered_rotation(s, keyring):
                    keystore.register_one(s, "encryption", fp, now)
                keystore.check(s, keyring)
            elif keystore.holds_data(s):
                raise CryptoError(
                    _(
                        "this database holds sealed data but lists no keys (the office_key table was emptied?): "
                        "refusing to register the keyring {path} blindly; restore office_key from a backup"
                    ),
                    path=path,
                )
            added = keystore.register(s, keyring, now)
        return InitResult(current(db), db.url.render_as_string(), path, created, added)
    finally:
        db.dispose()


def generate_keyring(path: Path) -> Keyring:
    """A new keyring file at ``path`` (never overwriting one): for an operator who prepares it apart."""
    if path.exists():
        raise CryptoError(_("{path} already exists; a keyring is never overwritten"), path=path)
    keyring = Keyring.generate()
    keyring.save(path)
    return keyring


def rotate_encryption_key(settings: Settings, *, rewrap: bool, now: datetime | None = None) -> tuple[str, int]:
    """Put a new office encryption key in front of the keyring (older ones stay, to open what they wrapped),
    register it, and with ``rewrap`` wrap every case's data key with it. Returns (new fingerprint, re-wrapped).

    Order of writes: the keyring file first (so the new key is never registered without being kept), then
    the database in one transaction. If the process dies in between, every command refuses the keyring
    until ``wbs init-db`` registers the new front key (it does so only when every key the database lists
    is still in the keyring)."""
    now = now or datetime.now(UTC)
    path = settings.keyring_path
    keyring = Keyring.load(path)
    db = make_engine(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        with unit_of_work(db, write=False) as s:
            keystore.check(s, keyring)
        fp = keyring.add_encryption_key()
        keyring.save(path, replace=True)
        with unit_of_work(db) as s:
            keystore.register(s, keyring, now)
            n = keystore.rewrap_all(s, keyring) if rewrap else 0
        return fp, n
    finally:
        db.dispose()
