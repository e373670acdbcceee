"""Export bundles: one case's or one period's audit trail in a single file that verifies offline.

**What a bundle is.** A zip file (format ``wbs-bundle/1``) with five members:

* ``events.jsonl``: the exported events, one per line, each the RFC 8785 (JCS) JSON of exactly what its hash
  covers (``docs/audit-format.md``: ``case_id``, ``chain``, ``seq``, ``kind``, ``trigger``, ``from``, ``to``,
  ``actor``, ``role``, ``at``, ``payload``, ``prev``) plus ``hash``, grouped by chain in ``seq`` order. Payloads
  are as stored: sealed values are Fernet ciphertext, so the bundle holds no plaintext the trail does not.
* ``checkpoints.jsonl``: the signed checkpoints, from the first that seals an exported event up to the newest
  at export time (``format``, ``seq``, ``at``, ``heads``, ``counters``, ``prev``, ``hash``, ``signature``,
  ``key_id``), so that the chain of checkpoints itself verifies.
* ``keys.json``: the office's public signing key and the retired ones the keyring lists.
* ``manifest.json``: the format, when and by whom it was exported, what was asked (``scope``), each exported
  chain's range (``first``/``last`` seq, ``count``, ``in_scope_last``: the last event inside the period; the
  events after it run up to the head a checkpoint sealed, so that the exported ones are provably sealed), and
  the SHA-256 of every other member.
* ``manifest.sig``: Ed25519 over ``"wbs-bundle/1:" + hex(SHA-256(manifest.json))`` with the office key (the
  same key as the checkpoints, its own context), so that no byte of the bundle can change unnoticed.

Before exporting, the export seals what moved (a checkpoint, as ``wbs audit-head --seal`` does), and each
exported chain ends at a head a checkpoint sealed. An export is the event ``bundle_exported`` on the
``system`` chain (scope, number of events, SHA-256 of the manifest), written when the file is complete. Only
``auditor`` and ``admin`` may export, and only the cases their grants cover (a period export without a type
includes the ``system`` chain only for a grant on every unit and type).

**Verifying** (:func:`verify_bundle`) needs nothing but the file: no database, no keyring, no settings, no
network (this module imports the database layer only inside the export functions). It checks the manifest's
signature and hashes, every event's hash and its link to the event before it (from ``#1``, or, for a period
that starts mid-chain, from the first exported event's ``prev`` on, said in a note), each checkpoint's hash,
link, time and signature, and that each chain's last exported event is a head a verified checkpoint sealed (a
head *beyond* the exported events proves nothing about them, so the export always includes the events up to
the sealed head). A public key the auditor kept can be pinned (``keys``); otherwise the report says the key
came from the bundle itself and gives its fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .crypto import CryptoError, public_key_from_b64, public_key_id, verify_signature
from .errors import NotAllowed, NotFound, WbsError
from .i18n import Msg
from .i18n import gettext_noop as _

FORMAT = "wbs-bundle/1"
GENESIS = "0" * 64
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
EVENTS = "events.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
KEYS = "keys.json"
#: the members the manifest lists with their SHA-256 (itself and its signature are not listed)
HASHED = (EVENTS, CHECKPOINTS, KEYS)
MANIFEST_CONTEXT = b"wbs-bundle/1:"
CHECKPOINT_CONTEXT = b"wbs-checkpoint/1:"
EXPORT_ROLES = ("auditor", "admin")
#: the fields an event line holds: what the hash covers, and the hash
EVENT_KEYS = frozenset(
    {"case_id", "chain", "seq", "kind", "trigger", "from", "to", "actor", "role", "at", "payload", "prev", "hash"}
)
CHECKPOINT_KEYS = frozenset({"format", "seq", "at", "heads", "counters", "prev", "hash", "signature", "key_id"})
#: limits for reading a bundle nobody vouches for (members read whole; event lines are streamed)
MAX_SMALL_MEMBER = 64 * 1024 * 1024
MAX_LINE = 16 * 1024 * 1024
MAX_PROBLEMS = 50


def _jcs(obj: Any) -> bytes:
    return rfc8785.dumps(obj)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(data: bytes | str) -> Any:
    return json.loads(data, parse_constant=_reject_constant)


# --- the report ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleProblem:
    """One thing verification found: a stable ``code`` and a catalogue message."""

    code: str
    msg: Msg

    def message(self, lang: str = "id") -> str:
        return self.msg.render(lang)

    def __str__(self) -> str:
        return self.message()


@dataclass
class BundleReport:
    """What :func:`verify_bundle` found. ``ok`` when there is no problem; ``notes`` say what the check rests on
    (where the key came from, chains that start mid-chain)."""

    problems: list[BundleProblem] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    scope: dict = field(default_factory=dict)
    exported_at: str | None = None
    exported_by: str | None = None
    events: int = 0
    chains: int = 0
    checkpoints: int = 0
    key_id: str | None = None
    #: ``bundle`` (the key came from the bundle itself) or ``pinned`` (a key the auditor kept)
    key_source: str = "bundle"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def problem(self, code: str, msgid: str, /, **params: Any) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(BundleProblem(code, Msg(msgid, **params)))

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        return {
            "verified": self.ok,
            "scope": self.scope,
            "exported_at": self.exported_at,
            "exported_by": self.exported_by,
            "events": self.events,
            "chains": self.chains,
            "checkpoints": self.checkpoints,
            "key_id": self.key_id,
            "key_source": self.key_source,
            "notes": [n.render(lang) for n in self.notes],
            "problems": [{"code": p.code, "message": p.message(lang)} for p in self.problems],
        }


# --- verifying -----------------------------------------------------------------------------------------------


def read_public_key(text: str) -> Ed25519PublicKey:
    """A public key the auditor kept: a line printed by ``wbs audit-key`` or ``wbs audit-head`` (its
    ``key=``), a PEM public key, or the raw 32-byte key in base64url. Raises :class:`CryptoError`."""
    from cryptography.hazmat.primitives import serialization

    text = text.strip()
    if "-----BEGIN PUBLIC KEY-----" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            key = None
        if not isinstance(key, Ed25519PublicKey):
            raise CryptoError(_("the key given is not an Ed25519 public key"))
        return key
    for token in text.split():
        if token.startswith("key="):
            text = token.removeprefix("key=")
            break
    try:
        return public_key_from_b64(text)
    except (CryptoError, ValueError):
        raise CryptoError(_("the key given is not an Ed25519 public key")) from None


class _Unreadable(Exception):
    def __init__(self, msgid: str, **params: Any):
        self.msgid, self.params = msgid, params


def _member(zf: zipfile.ZipFile, name: str, limit: int = MAX_SMALL_MEMBER) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise _Unreadable(_("member {name} is larger than a bundle's member may be"), name=name)
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _Unreadable(_("member {name} is larger than a bundle's member may be"), name=name)
    return data


def _signed(key: Ed25519PublicKey | None, message: bytes, signature: Any) -> bool:
    """The Ed25519 signature, written in its one canonical base64url spelling (86 characters, no padding: the
    last character's spare bits zero), verifies over ``message``. Another spelling of the same bytes is
    refused, so that no byte of a bundle can change unnoticed."""
    if key is None or not isinstance(signature, str) or len(signature) != 86:
        return False
    try:
        raw = base64.urlsafe_b64decode(signature + "==")
    except ValueError:
        return False
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != signature:
        return False
    return verify_signature(key, message, signature)


def _is_hex64(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


@dataclass
class _Chain:
    first: int
    last: int
    last_hash: str
    last_at: datetime | None
    count: int = 1
    broken: bool = False
    #: seq → hash of the exported events a checkpoint names
    named: dict = field(default_factory=dict)


def verify_bundle(path: str | os.PathLike, *, keys: list[Ed25519PublicKey] | None = None) -> BundleReport:
    """Check a bundle with nothing but the file (see the module docstring). ``keys``: public keys the auditor
    kept; every signature must then be by one of them. Never raises for a bad file: every problem is in the
    report, with a code."""
    rep = BundleReport()
    try:
        _verify(Path(path), rep, keys)
    except _Unreadable as exc:
        rep.problem("bundle_unreadable", exc.msgid, **exc.params)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # a damaged zip: a member whose CRC fails, a compression this reader lacks, an encrypted member
        rep.problem("bundle_unreadable", _("the bundle is not a readable zip file ({reason})"), reason=str(exc)[:200])
    except OSError as exc:
        rep.problem("bundle_unreadable", _("the bundle cannot be read ({reason})"), reason=exc.strerror or str(exc))
    return rep


def _verify(path: Path, rep: BundleReport, pinned: list[Ed25519PublicKey] | None) -> None:  # noqa: C901
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if len(names) != len(set(names)):
            rep.problem("member_unexpected", _("the bundle holds two members of the same name"))
            return
        for name in (MANIFEST, SIGNATURE, *HASHED):
            if name not in names:
                rep.problem("member_missing", _("the bundle has no member {name}"), name=name)
        for name in sorted(set(names) - {MANIFEST, SIGNATURE, *HASHED}):
            rep.problem("member_unexpected", _("the bundle holds a member it should not: {name}"), name=name[:200])
        if rep.problems:
            return
        raw_manifest = _member(zf, MANIFEST)
        raw_signature = _member(zf, SIGNATURE, 1024).decode("ascii", "replace")
        signature = raw_signature.removesuffix("\n")
        try:
            manifest = _loads(raw_manifest)
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise ValueError("not a wbs-bundle/1 manifest")
            files = manifest["files"]
            chains_declared = manifest["chains"]
            if not isinstance(files, dict) or not isinstance(chains_declared, dict):
                raise ValueError("files and chains must be objects")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            rep.problem("manifest_unreadable", _("the manifest is not readable ({reason})"), reason=str(exc)[:200])
            return
        rep.scope = manifest.get("scope") if isinstance(manifest.get("scope"), dict) else {}
        rep.exported_at = str(manifest.get("exported_at"))
        rep.exported_by = str(manifest.get("exported_by"))

        # the keys: bundled, and pinned when the auditor gave theirs
        raw_keys = _member(zf, KEYS)
        bundled: dict[str, Ed25519PublicKey] = {}
        signing_id: str | None = None
        try:
            kd = _loads(raw_keys)
            for i, text in enumerate([kd["signing"], *kd.get("retired", [])]):
                k = public_key_from_b64(str(text))
                bundled[public_key_id(k)] = k
                if i == 0:
                    signing_id = public_key_id(k)
        except (ValueError, KeyError, TypeError, CryptoError, RecursionError):
            rep.problem("key_unreadable", _("the bundle's public keys are not readable"))
        if pinned:
            trusted = {public_key_id(k): k for k in pinned}
            rep.key_source = "pinned"
            rep.key_id = next(iter(trusted))
            if signing_id is not None and signing_id not in trusted:
                rep.problem(
                    "key_mismatch",
                    _("the bundle's key {bundled} is not the key you gave ({given})"),
                    bundled=signing_id,
                    given=", ".join(trusted),
                )
        else:
            trusted = bundled
            rep.key_id = signing_id
            if signing_id is not None:
                rep.notes.append(
                    Msg(
                        _(
                            "the public key came from the bundle itself (fingerprint {key_id}); compare it with the "
                            "key you kept, or give it with --key"
                        ),
                        key_id=signing_id,
                    )
                )

        # the manifest's signature, then every member's hash
        mkey = trusted.get(signing_id) if signing_id is not None else None
        if mkey is None and pinned:
            mkey = pinned[0]
        if not _signed(mkey, MANIFEST_CONTEXT + _sha(raw_manifest).encode(), signature):
            rep.problem("manifest_signature", _("the manifest's signature does not verify with the office key"))
        if files.get(KEYS) != _sha(raw_keys):
            rep.problem("file_altered", _("member {name} is not the one the manifest lists (altered)"), name=KEYS)
        for name in sorted(set(files) - set(HASHED)):
            rep.problem("manifest_unreadable", _("the manifest lists a member it should not: {name}"), name=name[:200])

        # checkpoints first (small), so that the event pass knows which heads to remember
        raw_cps = _member(zf, CHECKPOINTS)
        if files.get(CHECKPOINTS) != _sha(raw_cps):
            rep.problem(
                "file_altered", _("member {name} is not the one the manifest lists (altered)"), name=CHECKPOINTS
            )
        sealed = _check_checkpoints(raw_cps, rep, trusted)

        # events, streamed. Only as many as the signed manifest declares (plus one, to notice an extra), and not
        # past the problem cap: a small file that inflates to gigabytes of lines must not keep the check busy
        counts = [c.get("count") for c in chains_declared.values() if isinstance(c, dict)]
        declared = sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool) and c > 0)
        if "manifest_signature" in rep.codes:
            rep.notes.append(Msg(_("the events were not read: the manifest they are checked against is not genuine")))
            return
        chains: dict[str, _Chain] = {}
        digest = hashlib.sha256()
        with zf.open(EVENTS) as fh:
            n = 0
            while True:
                line = fh.readline(MAX_LINE + 1)
                if not line:
                    break
                digest.update(line)
                n += 1
                if len(line) > MAX_LINE:
                    raise _Unreadable(_("line {n} of {name} is far too long"), n=n, name=EVENTS)
                if n > declared or len(rep.problems) >= MAX_PROBLEMS:
                    rep.problem(
                        "scope_mismatch",
                        _("{name} holds more than the {count} events the manifest declares; the rest was not read"),
                        name=EVENTS,
                        count=declared,
                    )
                    digest.update(b"\0")  # whatever was not read cannot match the manifest's hash
                    break
                _check_event(line, n, rep, chains, sealed)
        if files.get(EVENTS) != digest.hexdigest():
            rep.problem("file_altered", _("member {name} is not the one the manifest lists (altered)"), name=EVENTS)
        rep.chains = len(chains)

        # each chain: as the manifest declares it, and sealed at its end
        for name in sorted(set(chains_declared) - set(chains)):
            rep.problem("scope_mismatch", _("chain {chain}: the manifest lists it but it has no event"), chain=name)
        for name, ch in chains.items():
            want = chains_declared.get(name)
            if not isinstance(want, dict) or (want.get("first"), want.get("last"), want.get("count")) != (
                ch.first,
                ch.last,
                ch.count,
            ):
                rep.problem(
                    "scope_mismatch",
                    _("chain {chain}: its events (#{first} to #{last}, {count}) are not what the manifest lists"),
                    chain=name,
                    first=ch.first,
                    last=ch.last,
                    count=ch.count,
                )
            if ch.first != 1:
                if rep.scope.get("kind") == "case":
                    rep.problem(
                        "event_missing",
                        _("chain {chain}: a case export must start at #1 but starts at #{seq}"),
                        chain=name,
                        seq=ch.first,
                    )
                else:
                    rep.notes.append(
                        Msg(
                            _(
                                "chain {chain} starts mid-chain at #{seq}: its events are checked from that event's "
                                "link to the one before it on, not from #1"
                            ),
                            chain=name,
                            seq=ch.first,
                        )
                    )
            if ch.broken:
                continue
            sealed_at = max((s for s in ch.named if ch.named[s]), default=None)
            if sealed_at is None or sealed_at < ch.last:
                rep.problem(
                    "chain_unsealed",
                    _("chain {chain}: its last exported event #{seq} is not sealed by a checkpoint in the bundle"),
                    chain=name,
                    seq=ch.last,
                )


def _check_checkpoints(raw: bytes, rep: BundleReport, trusted: dict[str, Ed25519PublicKey]) -> dict:
    """Check the checkpoints; return chain → {seq: hash} of the heads named by checkpoints that verify."""
    sealed: dict[str, dict[int, str]] = {}
    prev_seq: int | None = None
    prev_hash: str | None = None
    prev_at: datetime | None = None
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            cp = _loads(line)
            if not isinstance(cp, dict) or set(cp) != CHECKPOINT_KEYS:
                raise ValueError("not a checkpoint")
            if not (_is_int(cp["seq"]) and _is_hex64(cp["hash"]) and _is_hex64(cp["prev"])):
                raise ValueError("seq, hash or prev malformed")
            if not isinstance(cp["heads"], dict) or not isinstance(cp["counters"], dict):
                raise ValueError("heads or counters malformed")
            at = _time(cp["at"])
            if at is None:
                raise ValueError("at is not a time")
            body = {k: cp[k] for k in ("format", "seq", "at", "heads", "counters", "prev")}
            recomputed = _sha(_jcs(body))
        except (ValueError, TypeError, RecursionError, rfc8785.CanonicalizationError) as exc:
            rep.problem(
                "checkpoint_unreadable",
                _("line {n} of {name} is not a readable checkpoint ({reason})"),
                n=n,
                name=CHECKPOINTS,
                reason=str(exc)[:200],
            )
            prev_seq = prev_hash = prev_at = None
            continue
        rep.checkpoints += 1
        seq = cp["seq"]
        ok = True
        if recomputed != cp["hash"] or cp["format"] != 1:
            rep.problem(
                "checkpoint_altered", _("checkpoint #{seq}: its content does not match its hash (altered)"), seq=seq
            )
            ok = False
        if prev_seq is None and n == 1:
            if seq == 1 and cp["prev"] != GENESIS:
                rep.problem("checkpoint_unlinked", _("checkpoint #{seq}: does not follow the one before it"), seq=seq)
        elif prev_seq is not None:
            if seq != prev_seq + 1:
                rep.problem(
                    "checkpoint_missing",
                    _("checkpoint #{seq}: expected #{expected}; checkpoints were removed or reordered"),
                    seq=seq,
                    expected=prev_seq + 1,
                )
                ok = False
            elif cp["prev"] != prev_hash:
                rep.problem("checkpoint_unlinked", _("checkpoint #{seq}: does not follow the one before it"), seq=seq)
                ok = False
            if prev_at is not None and at < prev_at:
                rep.problem(
                    "checkpoint_time_backwards", _("checkpoint #{seq}: its time is before the previous one's"), seq=seq
                )
        key = trusted.get(cp["key_id"]) if isinstance(cp["key_id"], str) else None
        if not _signed(key, CHECKPOINT_CONTEXT + cp["hash"].encode(), cp["signature"]):
            rep.problem(
                "checkpoint_signature",
                _("checkpoint #{seq}: its signature does not verify with the office key"),
                seq=seq,
            )
            ok = False
        if ok:
            for chain, pair in cp["heads"].items():
                if isinstance(pair, list) and len(pair) == 2 and _is_int(pair[0]) and isinstance(pair[1], str):
                    sealed.setdefault(chain, {})[pair[0]] = pair[1]
        prev_seq, prev_hash, prev_at = seq, cp["hash"], at
    if rep.checkpoints == 0 and not any(p.code == "checkpoint_unreadable" for p in rep.problems):
        rep.problem("checkpoint_missing", _("the bundle holds no signed checkpoint"))
    return sealed


def _check_event(line: bytes, n: int, rep: BundleReport, chains: dict[str, _Chain], sealed: dict) -> None:
    try:
        ev = _loads(line)
        if not isinstance(ev, dict) or set(ev) != EVENT_KEYS:
            raise ValueError("not an event")
        if not (isinstance(ev["chain"], str) and _is_int(ev["seq"]) and _is_hex64(ev["prev"])):
            raise ValueError("chain, seq or prev malformed")
        if not isinstance(ev["payload"], dict):
            raise ValueError("payload is not an object")
        at = _time(ev["at"])
        if at is None:
            raise ValueError("at is not a time")
        body = {k: v for k, v in ev.items() if k != "hash"}
        recomputed = _sha(_jcs(body))
    except (ValueError, TypeError, RecursionError, rfc8785.CanonicalizationError) as exc:
        rep.problem(
            "event_unreadable",
            _("line {n} of {name} is not a readable event ({reason})"),
            n=n,
            name=EVENTS,
            reason=str(exc)[:200],
        )
        return
    rep.events += 1
    name, seq = ev["chain"], ev["seq"]
    label = Msg(_("{chain} #{seq} ({kind})"), chain=name, seq=seq, kind=str(ev["kind"]))
    ch = chains.get(name)
    if ch is None:
        ch = chains[name] = _Chain(seq, seq, ev["hash"], at)
        if seq == 1 and ev["prev"] != GENESIS:
            rep.problem("event_unlinked", _("event {event}: the first event does not start its chain"), event=label)
            ch.broken = True
    else:
        ch.count += 1
        if ch.broken:
            ch.last = seq
            return
        if seq != ch.last + 1:
            rep.problem(
                "event_missing",
                _("event {event}: expected #{expected}; an event is missing or was reordered"),
                event=label,
                expected=ch.last + 1,
            )
            ch.broken = True
        elif ev["prev"] != ch.last_hash:
            rep.problem("event_unlinked", _("event {event}: does not follow the event before it"), event=label)
            ch.broken = True
        elif ch.last_at is not None and at < ch.last_at:
            rep.problem("time_backwards", _("event {event}: its time is before the previous event's"), event=label)
        ch.last, ch.last_hash, ch.last_at = seq, ev["hash"], at
    if recomputed != ev["hash"]:
        rep.problem("event_edited", _("event {event}: its content does not match its hash (altered)"), event=label)
        ch.broken = True
        return
    named = sealed.get(name, {}).get(seq)
    if named is not None:
        if named != ev["hash"]:
            rep.problem(
                "sealed_event_changed",
                _("event {event}: a signed checkpoint sealed another version of it"),
                event=label,
            )
            ch.broken = True
        else:
            ch.named[seq] = True


# --- exporting -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleInfo:
    """What an export wrote: the file, what it covers, and the manifest's SHA-256 (also in the trail)."""

    path: Path
    scope: dict
    events: int
    chains: int
    checkpoints: int
    manifest_sha256: str


def _require_exporter(actor: Any) -> list[Any]:
    grants = [g for g in getattr(actor, "grants", ()) if g.role in EXPORT_ROLES]
    if getattr(actor, "kind", "user") != "user" or not grants:
        raise NotAllowed(_("Only an auditor or an administrator may export audit bundles."))
    return grants


def export_case(engine: Any, number: str, actor: Any, out_path: str | os.PathLike) -> BundleInfo:
    """Export case ``number``'s whole chain (``#1`` up to the head the newest checkpoint sealed) as a bundle at
    ``out_path``. ``actor``: an :class:`~wbs_engine.permissions.Actor` holding ``auditor`` or ``admin`` for the
    case's unit and type (:class:`NotAllowed` without either role; :class:`NotFound` for a case it does not
    cover, as for one that does not exist)."""
    from .db import unit_of_work

    grants = _require_exporter(actor)
    _seal(engine)
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        if not any(g.covers(case) for g in grants) or actor.is_recused(case):
            # not covered, or kept off it (a recusal): the answer for a case that does not exist
            raise NotFound(_("Case {number} not found."), number=number)
        scope = {"kind": "case", "number": case.number}
        ranges = {case.number: (1, None)}
        return _export(engine, s, actor, scope, ranges, out_path)


def export_period(
    engine: Any,
    date_from: date,
    date_to: date,
    actor: Any,
    out_path: str | os.PathLike,
    case_type: str | None = None,
) -> BundleInfo:
    """Export every event of the period ``date_from`` … ``date_to`` (whole days in the office's zone) of the
    cases the actor's ``auditor``/``admin`` grants cover (of ``case_type`` only, when given; the ``system``
    chain too when no type is given and a grant covers every unit and type). Each chain runs from its first
    event in the period up to the first head a checkpoint sealed at or after its last event in the period."""
    import sqlalchemy as sa

    from .db import unit_of_work
    from .models import Case, CaseEvent

    grants = _require_exporter(actor)
    if date_to < date_from:
        raise WbsError(
            _("The period ends ({to}) before it starts ({start})."), code="invalid_period", to=date_to, start=date_from
        )
    zone = engine.settings.zone
    start = datetime.combine(date_from, time(), zone).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), zone).astimezone(UTC)
    if case_type is not None and not engine.registry.knows(case_type):
        raise NotFound(_("Unknown case type '{type}'."), type=case_type)
    _seal(engine)
    ev, cases = CaseEvent.__table__, Case.__table__
    with unit_of_work(engine.db, write=False) as s:
        conn = s.connection()
        rows = conn.execute(
            sa.select(ev.c.chain, ev.c.case_id, sa.func.min(ev.c.seq), sa.func.max(ev.c.seq))
            .where(ev.c.occurred_at >= start, ev.c.occurred_at < end)
            .group_by(ev.c.chain, ev.c.case_id)
        ).all()
        case_rows = {
            r.id: r
            for r in conn.execute(
                sa.select(cases.c.id, cases.c.number, cases.c.unit_code, cases.c.case_type).where(
                    cases.c.id.in_({r[1] for r in rows if r[1] is not None})
                )
            )
        }
        everything = any(g.unit_code is None and g.case_type is None for g in grants)
        ranges: dict[str, tuple[int, int | None]] = {}
        for chain, case_id, lo, hi in rows:
            if case_id is None:
                if chain != "system" or case_type is not None or not everything:
                    continue
            else:
                case = case_rows.get(case_id)
                if case is None or case.number != chain or (case_type is not None and case.case_type != case_type):
                    continue
                if not any(g.covers(case) for g in grants):
                    continue
            old = ranges.get(chain)
            ranges[chain] = (lo, hi) if old is None else (min(lo, old[0]), max(hi, old[1] or hi))
        if not ranges:
            raise NotFound(_("No event in that period that you may export."))
        scope = {"kind": "period", "from": date_from.isoformat(), "to": date_to.isoformat(), "type": case_type}
        return _export(engine, s, actor, scope, ranges, out_path)


def _seal(engine: Any) -> None:
    """Seal what moved (as ``wbs audit-head --seal``), so that the exported events end at signed heads."""
    from . import audit
    from .db import unit_of_work

    with unit_of_work(engine.db) as s:
        audit.checkpoint(s, engine.now(), engine.keyring)


def _export(engine: Any, s: Any, actor: Any, scope: dict, ranges: dict, out_path: Any) -> BundleInfo:  # noqa: C901
    import sqlalchemy as sa

    from . import audit
    from .db import unit_of_work
    from .models import AuditCheckpoint, CaseEvent

    conn = s.connection()
    cps_t, ev_t = AuditCheckpoint.__table__, CaseEvent.__table__
    # one pass over the checkpoints: for each chain, where its export ends (case: the newest sealed head; period:
    # the first sealed head at or after its last event in the period) and the first checkpoint sealing an
    # exported event
    ends: dict[str, int] = {}
    first_cp: int | None = None
    for seq, heads in conn.execute(sa.select(cps_t.c.seq, cps_t.c.heads).order_by(cps_t.c.seq)):
        for chain, pair in (heads or {}).items():
            r = ranges.get(chain)
            if r is None:
                continue
            head = int(pair[0])
            lo, hi = r
            if head >= lo and first_cp is None:
                first_cp = seq
            if hi is None:
                ends[chain] = head
            elif head >= hi and chain not in ends:
                ends[chain] = head
    if scope["kind"] == "case" and scope["number"] not in ends:
        # never sealed (no checkpoint could be made): export what there is; the verifier will say it is unsealed
        ends[scope["number"]] = (
            conn.execute(sa.select(sa.func.max(ev_t.c.seq)).where(ev_t.c.chain == scope["number"])).scalar() or 0
        )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=out_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        declared: dict[str, dict] = {}
        total = 0
        ev_digest = hashlib.sha256()
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            with zf.open(EVENTS, "w", force_zip64=True) as fh:
                for chain in sorted(ranges):
                    lo, hi = ranges[chain]
                    last = ends.get(chain, hi)
                    stmt = sa.select(*_event_columns(ev_t)).where(ev_t.c.chain == chain, ev_t.c.seq >= lo)
                    if last is not None:
                        stmt = stmt.where(ev_t.c.seq <= last)
                    count, first_seq, last_seq = 0, None, None
                    for row in conn.execute(stmt.order_by(ev_t.c.seq)):
                        line = event_line(_stored_event(row)) + b"\n"
                        fh.write(line)
                        ev_digest.update(line)
                        count += 1
                        first_seq = row.seq if first_seq is None else first_seq
                        last_seq = row.seq
                    if count:
                        declared[chain] = {"first": first_seq, "last": last_seq, "count": count, "in_scope_last": hi}
                        total += count
            cps: list[bytes] = []
            if first_cp is not None:
                for row in conn.execute(sa.select(cps_t).where(cps_t.c.seq >= first_cp).order_by(cps_t.c.seq)):
                    cps.append(checkpoint_line(AuditCheckpoint(**row._mapping)) + b"\n")
            raw_cps = b"".join(cps)
            zf.writestr(CHECKPOINTS, raw_cps)
            kr = engine.keyring
            raw_keys = _jcs({"format": 1, "signing": kr.public_b64, "retired": list(kr.retired_signing)}) + b"\n"
            zf.writestr(KEYS, raw_keys)
            manifest = {
                "format": FORMAT,
                "exported_at": audit.canonical(engine.now()).decode().strip('"'),
                "exported_by": actor.username,
                "office": engine.settings.office_name or None,
                "scope": scope,
                "key_id": kr.key_id,
                "events": total,
                "chains": declared,
                "files": {EVENTS: ev_digest.hexdigest(), CHECKPOINTS: _sha(raw_cps), KEYS: _sha(raw_keys)},
            }
            raw_manifest = _jcs(manifest) + b"\n"
            zf.writestr(MANIFEST, raw_manifest)
            manifest_sha = _sha(raw_manifest)
            zf.writestr(SIGNATURE, kr.sign(MANIFEST_CONTEXT + manifest_sha.encode()) + "\n")
        with unit_of_work(engine.db) as w:
            audit.append(
                w,
                chain=audit.SYSTEM_CHAIN,
                kind="bundle_exported",
                actor=actor.username,
                actor_role=_role_of(actor),
                now=engine.now(),
                payload={"scope": scope, "count": total, "manifest_sha256": manifest_sha},
            )
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BundleInfo(out_path, scope, total, len(declared), len(cps), manifest_sha)


def _event_columns(ev_t: Any) -> list[Any]:
    import sqlalchemy as sa

    cols = [c for c in ev_t.c if c.name not in ("id", "payload")]
    return [*cols, sa.cast(ev_t.c.payload, sa.Text).label("payload_text")]


def _stored_event(row: Any) -> Any:
    """An event row as stored; a payload that is not JSON (edited by hand) stays its text, so that the bundle
    shows the edit (its hash then fails) instead of the export failing."""
    from types import SimpleNamespace

    values = {k: v for k, v in row._mapping.items() if k != "payload_text"}
    try:
        values["payload"] = _loads(row.payload_text) if row.payload_text is not None else {}
    except (ValueError, RecursionError):
        values["payload"] = row.payload_text
    return SimpleNamespace(**values)


def _role_of(actor: Any) -> str:
    roles = {g.role for g in actor.grants}
    return "auditor" if "auditor" in roles else "admin"


def event_line(ev: Any) -> bytes:
    """One line of ``events.jsonl``: the JCS JSON of what the event's hash covers, plus ``hash``."""
    from . import audit

    body = audit.event_body(ev)
    body = json.loads(audit.canonical(body))
    body["hash"] = ev.hash
    return _jcs(body)


def checkpoint_line(cp: Any) -> bytes:
    """One line of ``checkpoints.jsonl``: what the checkpoint's hash covers, its hash, signature and key id."""
    from . import audit

    body = json.loads(audit.canonical(audit.checkpoint_body(cp)))
    body.update(hash=cp.hash, signature=cp.signature, key_id=cp.key_id)
    return _jcs(body)
