"""The office's keys, envelope encryption of sealed values, keyed receipt-code digests, signatures, passwords.

**Where the keys live.** All secrets sit in one *keyring* file outside the database and the repository
(``instance/keyring.json``, mode 0600, or the path in ``WBS_KEYRING``). It holds:

* the office **encryption keys** (Fernet, newest first): they never encrypt a report directly, they *wrap*
  each case's own data key (envelope encryption). ``wbs rotate-key`` puts a new one in front; older ones stay
  so that what they wrapped can still be opened;
* the **receipt key**: tracking codes are stored as HMAC-SHA256 under it, so a stolen database alone cannot be
  searched offline for codes;
* the **signing key** (Ed25519): it signs audit checkpoints and proofs of filing; its public half is what
  auditors keep. No command replaces it (``wbs rotate-key`` rotates the encryption key only). Should an office
  ever replace it by hand, the old *public* half goes into the keyring's ``retired_signing`` list (base64url,
  as ``wbs audit-key`` prints it): :meth:`Keyring.verification_keys` then still knows it, so the proofs of
  filing it signed keep verifying. It lives in the keyring file, not the database, so that whoever can write
  the database cannot add a key of their own.

**Keys cannot fork.** Only ``wbs init-db`` (and ``wbs rotate-key``) create keys; the database records the
fingerprint of each (table ``office_key``); :func:`check_keyring` refuses a keyring that does not belong to
the database with one line naming the setting to fix, before anything is written.

**A data key per case.** Every sealed value of a case (identity, free text, reasons, messages, in the case row
and in its audit events) is encrypted with that case's own Fernet key, stored wrapped in ``case_file.data_key``.
Destroying that one column destroys the case's content everywhere, while the audit chain (which hashes the
ciphertext) still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .i18n import Msg
from .i18n import gettext_noop as _

KEYRING_FORMAT = 1
#: a keyring is well under a kilobyte; anything far larger is not one (and must not be read whole)
MAX_KEYRING_BYTES = 64 * 1024
#: marks a value in the outbox sealed with the office key (a reporter's address), opened only to send
SEALED_PREFIX = "vault:"
#: HKDF ``info`` prefix of an attached file's key (followed by the file's 16-byte id)
FILE_KEY_CONTEXT = b"wbs-attachment/1:"

# No 0/O, 1/I/L, U: a code read out over the phone or copied by hand stays unambiguous.
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE_GROUPS = 4
_GROUP_LEN = 4  # 16 symbols of 30 = ~78 bits


class CryptoError(Exception):
    """A key is missing, malformed or does not belong here, or data cannot be decrypted.

    Like :class:`~wbs_engine.config.ConfigError` it carries a catalogue message and its parameters
    (``CryptoError(_("… {path} …"), path=path)``; :meth:`message` renders it in the reader's language), and it
    is not a :class:`~wbs_engine.errors.WbsError`: a keyring that does not fit is a broken installation, not a
    user's mistake in a request."""

    def __init__(self, msgid: str | Msg, /, **params: Any):
        self.msg = msgid if isinstance(msgid, Msg) else Msg(msgid, **params)
        self.params = {**self.msg.params, **params}
        super().__init__(self.msg.msgid)

    def __str__(self) -> str:
        return self.message()

    def message(self, lang: str = "id") -> str:
        """The message in ``lang`` (``id`` or ``en``; anything else is ``id``)."""
        return self.msg.render(lang)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(purpose: str, material: bytes) -> str:
    """A short public name for a key (never the key): 16 hex digits of SHA-256 over purpose and key."""
    return hashlib.sha256(f"wbs-key:{purpose}:".encode() + material).hexdigest()[:16]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False).encode()


class CaseKey:
    """Encrypts and decrypts the JSON values of one case with its own data key."""

    __slots__ = ("_fernet", "_raw")

    def __init__(self, raw_key: bytes):
        self._fernet = Fernet(raw_key)
        self._raw = raw_key

    def file_key(self, file_id: bytes) -> Fernet:
        """The key of one attached file, derived from this case key (HKDF-SHA256, ``info`` = a fixed context and
        the file's id; see ``docs/decisions.md``, Files). A chunk of one file never opens with another file's
        key, and destroying the case key destroys every file key with it (crypto-shredding)."""
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=FILE_KEY_CONTEXT + file_id).derive(
            base64.urlsafe_b64decode(self._raw)
        )
        return Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(_dumps(value)).decode()

    def open(self, token: str | None) -> Any:
        if not token:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CryptoError(_("sealed data does not open with this case's key (altered or moved)")) from exc


@dataclass
class Keyring:
    """The office's secrets; see the module docstring. Build with :meth:`generate` or :meth:`load`."""

    encryption: list[str]
    receipt: bytes
    signing: Ed25519PrivateKey
    path: Path | None = None
    #: public halves (base64url, raw 32 bytes) of signing keys this office used before: they still verify
    #: what they signed (proofs of filing); they never sign
    retired_signing: list[str] = field(default_factory=list)
    _office: MultiFernet | None = field(default=None, repr=False)
    #: unwrapped case keys by their wrapped form (:meth:`case_key`), least recently used first
    _unwrapped: OrderedDict[str, CaseKey] = field(default_factory=OrderedDict, init=False, repr=False, compare=False)
    _unwrapped_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    # -- creation and storage -------------------------------------------------------------------
    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            encryption=[Fernet.generate_key().decode()],
            receipt=secrets.token_bytes(32),
            signing=Ed25519PrivateKey.generate(),
        )

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file; every problem is a :class:`CryptoError` naming the file."""
        try:
            if path.is_file() and path.stat().st_size > MAX_KEYRING_BYTES:
                raise CryptoError(_("the keyring {path} is far larger than a keyring; check WBS_KEYRING"), path=path)
            with path.open("rb") as fh:
                data = fh.read(MAX_KEYRING_BYTES + 1)
            if len(data) > MAX_KEYRING_BYTES:
                raise CryptoError(_("the keyring {path} is far larger than a keyring; check WBS_KEYRING"), path=path)
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict):
                raise CryptoError(
                    _("the keyring {path} is not a keyring (a JSON object); restore it from its backup"), path=path
                )
        except CryptoError:
            raise
        except RecursionError:
            raise CryptoError(_("the keyring {path} is not a keyring (nested too deeply)"), path=path) from None
        except FileNotFoundError:
            raise CryptoError(
                _(
                    "no keyring at {path}: run `wbs init-db` once to create it, or set WBS_KEYRING / "
                    "WBS_INSTANCE_DIR to where this office's keyring is"
                ),
                path=path,
            ) from None
        except (OSError, ValueError) as exc:
            raise CryptoError(_("the keyring {path} cannot be read: {reason}"), path=path, reason=str(exc)) from None
        try:
            if raw.get("format") != KEYRING_FORMAT:
                raise ValueError(f"unknown format {raw.get('format')!r}")
            enc = [str(k) for k in raw["encryption"]]
            for k in enc:
                Fernet(k)
            if not enc:
                raise ValueError("no encryption key")
            receipt = _unb64(raw["receipt"])
            if len(receipt) < 32:
                raise ValueError("receipt key too short")
            signing = Ed25519PrivateKey.from_private_bytes(_unb64(raw["signing"]))
            retired = raw.get("retired_signing", [])
            if not isinstance(retired, list) or not all(isinstance(k, str) for k in retired):
                raise ValueError("retired_signing is not a list of public keys")
            for k in retired:
                Ed25519PublicKey.from_public_bytes(_unb64(k))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CryptoError(
                _("the keyring {path} is damaged ({reason}); restore it from your backup"), path=path, reason=str(exc)
            ) from None
        return cls(encryption=enc, receipt=receipt, signing=signing, path=path, retired_signing=list(retired))

    def to_json(self) -> str:
        seed = self.signing.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        body = {
            "format": KEYRING_FORMAT,
            "note": "wbs-engine keyring: keep it secret, back it up apart from the database, never commit it",
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "encryption": self.encryption,
            "receipt": _b64(self.receipt),
            "signing": _b64(seed),
        }
        if self.retired_signing:
            body["retired_signing"] = list(self.retired_signing)
        return json.dumps(body, indent=2) + "\n"

    def save(self, path: Path, *, replace: bool = False) -> None:
        """Write the keyring with mode 0600. A new file is created exclusively (never overwritten by
        accident); ``replace`` swaps an existing one atomically (rotation)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.to_json()
        if not replace:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            tmp = path.with_name(path.name + ".new")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        self.path = path

    # -- fingerprints ---------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, list[str]]:
        return {
            "encryption": [fingerprint("encryption", k.encode()) for k in self.encryption],
            "receipt": [fingerprint("receipt", self.receipt)],
            "signing": [self.key_id],
        }

    def add_encryption_key(self) -> str:
        """Put a new office encryption key in front (rotation); returns its fingerprint."""
        self.encryption.insert(0, Fernet.generate_key().decode())
        self._office = None
        with self._unwrapped_lock:
            self._unwrapped.clear()
        return self.fingerprints()["encryption"][0]

    # -- envelope encryption --------------------------------------------------------------------
    @property
    def office(self) -> MultiFernet:
        if self._office is None:
            self._office = MultiFernet([Fernet(k) for k in self.encryption])
        return self._office

    def new_case_key(self) -> tuple[CaseKey, str]:
        """A fresh data key for a new case: the key object and its wrapped form to store."""
        raw = Fernet.generate_key()
        return CaseKey(raw), self.office.encrypt(raw).decode()

    #: unwrapped case keys kept in memory (:meth:`case_key`)
    UNWRAPPED_CACHE = 512

    def case_key(self, wrapped: str | None) -> CaseKey:
        """The data key a case row holds (``data_key``, as read in the caller's transaction), unwrapped.

        Unwrapping costs a Fernet decryption (~0.2 ms), so the last :attr:`UNWRAPPED_CACHE` keys are kept,
        keyed by the wrapped value itself, never by a case's id or number: the caller always passes what it
        has just read from the row, so a destroyed case (``data_key`` NULL, :mod:`wbs_engine.retention`)
        opens in no process, whatever this cache holds. The process holds the office key anyway."""
        if not wrapped:
            raise CryptoError(_("this case has no data key (its content was destroyed)"))
        with self._unwrapped_lock:
            key = self._unwrapped.get(wrapped)
            if key is not None:
                self._unwrapped.move_to_end(wrapped)
                return key
        try:
            key = CaseKey(self.office.decrypt(wrapped.encode()))
        except InvalidToken as exc:
            raise CryptoError(_("a case data key does not open with this keyring")) from exc
        with self._unwrapped_lock:
            self._unwrapped[wrapped] = key
            while len(self._unwrapped) > self.UNWRAPPED_CACHE:
                self._unwrapped.popitem(last=False)
        return key

    def rewrap(self, wrapped: str) -> str:
        """The same data key, wrapped by the newest office key (after ``wbs rotate-key``)."""
        return self.office.rotate(wrapped.encode()).decode()

    def seal_office(self, value: Any) -> str:
        """For short-lived secrets not tied to one case's content (a reporter's address in the outbox)."""
        return self.office.encrypt(_dumps(value)).decode()

    def open_office(self, token: str) -> Any:
        try:
            return json.loads(self.office.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CryptoError(_("data sealed with the office key does not open with this keyring")) from exc

    # -- keyed digests ---------------------------------------------------------------------------
    def mac(self, purpose: str, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` for one ``purpose`` (domain-separated), under the keyring's receipt key:
        what only this office can compute (the outbox's seals)."""
        return hmac.new(self.receipt, f"wbs-mac/{purpose}\0".encode() + data, hashlib.sha256).hexdigest()

    def receipt_digest(self, code: str) -> str:
        return hmac.new(self.receipt, normalise_receipt_code(code).encode(), hashlib.sha256).hexdigest()

    # -- signatures -----------------------------------------------------------------------------
    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    @property
    def public_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return _b64(self.public_raw)

    @property
    def key_id(self) -> str:
        return fingerprint("signing", self.public_raw)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, message: bytes) -> str:
        return _b64(self.signing.sign(message))

    def verification_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every public key that verifies this office's signatures, by key id: the signing key's, and those of
        the signing keys it used before (``retired_signing``)."""
        keys = {public_key_id(k): k for k in (public_key_from_b64(t) for t in self.retired_signing)}
        keys[self.key_id] = self.public_key
        return keys


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(text))
    except (ValueError, TypeError) as exc:
        raise CryptoError(_("not an Ed25519 public key: {start}…"), start=text[:20]) from exc


def verify_signature(public: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        public.verify(_unb64(signature_b64), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def public_key_id(public: Ed25519PublicKey) -> str:
    return fingerprint("signing", public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


# -- receipt codes ----------------------------------------------------------------------------------


def new_receipt_code() -> str:
    """A tracking code such as ``K7QM-2XHD-9PTA-RRW4``: shown once to the reporter, stored only as a keyed
    digest (:meth:`Keyring.receipt_digest`)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_GROUPS * _GROUP_LEN))
    return "-".join(chars[i : i + _GROUP_LEN] for i in range(0, len(chars), _GROUP_LEN))


def normalise_receipt_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


# -- passwords --------------------------------------------------------------------------------------


_PASSWORD_HASHER: Any = None


def _hasher() -> Any:  # argon2.PasswordHasher
    """argon2 with its recommended parameters, imported by the commands that handle a password only
    (every command imports this module)."""
    global _PASSWORD_HASHER
    if _PASSWORD_HASHER is None:
        from argon2 import PasswordHasher

        _PASSWORD_HASHER = PasswordHasher()
    return _PASSWORD_HASHER


def use_password_hasher(hasher: Any) -> Any:
    """Replace the password hasher (tests use argon2's cheapest parameters); None goes back to the default.
    Returns the one replaced."""
    global _PASSWORD_HASHER
    previous, _PASSWORD_HASHER = _PASSWORD_HASHER, hasher
    return previous


def hash_password(password: str) -> str:
    return _hasher().hash(password)


_DUMMY_HASHES: dict[int, str] = {}


def verify_password(stored: str | None, password: str) -> bool:
    """Does ``password`` match ``stored``? Without a stored hash (an unknown or password-less account) the
    same argon2 work is done against a dummy hash, so that the time taken does not tell whether an account
    exists."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if not stored:
        dummy = _DUMMY_HASHES.get(id(hasher))
        if dummy is None:
            dummy = _DUMMY_HASHES[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
        try:
            hasher.verify(dummy, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
