"""Encryption of confidential fields at rest, receipt codes, and password hashing.

The encryption key never lives in the database or the repository: it comes from ``WBS_ENCRYPTION_KEY``
or from ``instance/secret.key`` (created with mode 0600 on first use, ignored by git).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

# No 0/O, 1/I/L, U: a code read out over the phone or copied by hand stays unambiguous.
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE_GROUPS = 4
_GROUP_LEN = 4  # 16 symbols of 30 = ~78 bits


class CryptoError(Exception):
    """Data could not be decrypted (wrong key or altered ciphertext)."""


class Vault:
    """Encrypts and decrypts JSON values with one Fernet key."""

    def __init__(self, key: str | bytes):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise CryptoError("the encryption key is not a valid Fernet key (generate one with: wbs gen-key)") from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    @classmethod
    def from_settings(cls, key: str, key_file: Path, create: bool = True) -> Vault:
        if key:
            return cls(key)
        if key_file.exists():
            return cls(key_file.read_text().strip())
        if not create:
            raise CryptoError(f"no encryption key: set WBS_ENCRYPTION_KEY or create {key_file} (wbs init-db)")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        new = cls.generate_key()
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new + "\n")
        return cls(new)

    def encrypt(self, value: Any) -> str:
        raw = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return self._fernet.encrypt(raw).decode()

    def decrypt(self, token: str | None) -> Any:
        if not token:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CryptoError("confidential data cannot be decrypted with this key") from exc


def new_receipt_code() -> str:
    """A tracking code such as ``K7QM-2XHD-9PTA-RRW4``: shown once to the reporter, stored only hashed."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_GROUPS * _GROUP_LEN))
    return "-".join(chars[i : i + _GROUP_LEN] for i in range(0, len(chars), _GROUP_LEN))


def normalise_receipt_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    return hashlib.sha256(("wbs-receipt:" + normalise_receipt_code(code)).encode()).hexdigest()


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
