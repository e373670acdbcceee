"""The audit trail: hash-chained events, signed checkpoints, heads kept outside, and verification.

**How it works** (the byte-level formats are in ``docs/audit-format.md``, precise enough for an auditor's own
tool in any language):

* Every event belongs to a *chain* (a case number, or ``system`` for administrative events) and stores the
  hash of the previous event of its chain and its own SHA-256 over the RFC 8785 (JCS) canonical JSON of
  everything it says. Sealed values inside an event are ciphertext under the case's key: the hash covers the
  ciphertext, so verifying needs no key and destroying a case's key (retention) keeps the chain verifiable.
* ``audit_head`` keeps the last event of each chain.
* Every few minutes (``WBS_CHECKPOINT_MINUTES``, default 10) a **checkpoint** seals the heads that moved and
  the case-number counters, commits to the previous checkpoint, and is **signed** with the office's Ed25519
  key, which lives in the keyring outside the database.
* The latest signed head is meant to leave the server: ``wbs audit-head`` prints it as one line, the daily
  digest mails it to the auditors, and ``wbs verify-audit --against FILE`` checks the database against heads
  kept earlier.

**What this protects against.** Anyone who can write to the database but does not hold the signing key (a
database administrator, someone with a stolen backup, an attacker in the database server): editing,
deleting, inserting, reordering or back-dating an event, or storing its time in another text form for the
same instant (on SQLite, which compares times as text); deleting a chain's last events and moving its head
back; deleting a whole case; rewriting a whole history and recomputing every hash and checkpoint (the
signatures no longer verify); editing a case row so that it disagrees with its trail (state, version, plain
fields, names of sealed fields, unit, assignment, recusals), or its clocks, messages, attachments or survey
response (a rating added, removed or changed); deleting a case whose number an earlier
checkpoint counted (numbers must run without gaps). With heads kept outside, also: restoring an older copy of
the database, or truncating the trail, even by someone holding the signing key.

**What it does not protect against.** (1) Changes made after the last checkpoint by someone who can write to
the database: until the next checkpoint seals them (at most ``WBS_CHECKPOINT_MINUTES``), the newest events and
the newest cases can be altered or removed consistently. The reporter's signed proof of filing
(:mod:`wbs_engine.receipts`) narrows this for filings. (2) Someone holding both the signing key and the
database can rewrite history and sign new checkpoints; only a head kept outside *before* the rewrite exposes
it, so only changes between two heads kept outside go unseen. (3) Nothing here stops the deletion of the whole
database: backups and kept heads are the remedy. (4) Sealed values are checked against the trail only with
``--deep`` (it needs the keys).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from .crypto import CryptoError, Keyring, public_key_from_b64, public_key_id, verify_signature
from .db import connection, prepared
from .errors import ConcurrentChange, Joined
from .fields import MAX_SAFE_INTEGER
from .i18n import N_, Msg
from .i18n import gettext_noop as _
from .models import (
    Attachment,
    AuditCheckpoint,
    AuditHead,
    Case,
    CaseCounter,
    CaseEvent,
    CaseRecusal,
    Clock,
    Holiday,
    Message,
    RoleGrant,
    SurveyResponse,
    User,
)

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"
CHECKPOINT_FORMAT = 1
HEAD_PREFIX = "wbs-audit-head/1"
SIGNING_CONTEXT = b"wbs-checkpoint/1:"


class CanonicalError(ValueError):
    """A value that has no canonical JSON form (NaN, infinity, a non-JSON type)."""


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise CanonicalError("naive datetime in an audit event")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


class _Slow(Exception):
    """A value the fast path of :func:`canonical` does not take (the RFC 8785 encoder decides)."""


#: integers as RFC 8785 writes them (beyond, the ``rfc8785`` package refuses them: IEEE doubles); the input
#: checks of :mod:`wbs_engine.fields` refuse larger numbers with the same bound
_SAFE_INT = MAX_SAFE_INTEGER


def _fast_norm(value: Any) -> Any:  # noqa: C901 - one dispatch on the exact type, the hot path of every event
    """``_norm(value)``, where the standard library's C JSON encoder writes the very bytes RFC 8785 does;
    raises ``_Slow`` otherwise. Where the two agree (the differential test
    tests/unit/test_canonical.py): strings (both escape only ``"``, ``\\`` and U+0000-U+001F, with the same
    short forms and lowercase ``\\u00xx``; a lone surrogate fails the UTF-8 encoding, which sends the value to
    the slow path), keys whose code points are below U+D800 (sorted by code point as by UTF-16 code unit),
    integers within +-(2**53 - 1), floats that ``repr`` writes without an exponent (1e-4 <= |x| < 1e16; whole
    ones as integers, as ECMAScript writes them), ``true``/``false``/``null``. Anything else, including
    subclasses of these types, takes the slow path."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        raise _Slow
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                k = str(k)
            if not k.isascii() and max(k) >= "\ud800":
                raise _Slow
            t = type(v)  # the common scalars without a call (the same tests as above)
            if t is str or t is bool or v is None or (t is int and -_SAFE_INT <= v <= _SAFE_INT):
                out[k] = v
            else:
                out[k] = _fast_norm(v)
        return out
    if t is list or t is tuple:
        return [
            v if (t := type(v)) is str or t is bool or v is None or (t is int and -_SAFE_INT <= v <= _SAFE_INT)
            else _fast_norm(v)
            for v in value
        ]
    if t is datetime and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if t is float:
        if value.is_integer():
            if -1e16 < value < 1e16:
                return int(value)
        elif 1e-4 <= abs(value) < 1e16:
            return value
        raise _Slow
    if t is date:
        return value.isoformat()
    raise _Slow


_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"))
if json.encoder.c_make_encoder is not None:  # what _JSON.encode runs, made once rather than on every call; no
    # check for cycles: _fast_norm's copy has none (a cyclic value exceeds its recursion and goes the slow way)
    _ENCODE = json.encoder.c_make_encoder(
        None, _JSON.default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )

    def _dumps(value: Any) -> str:
        return "".join(_ENCODE(value, 0))
else:  # pragma: no cover - a Python without the C accelerator
    _dumps = _JSON.encode


def canonical(obj: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``obj``; times as UTC ISO strings with microseconds.
    NaN and infinite numbers have no JSON form and are refused.

    Values the C JSON encoder writes exactly as RFC 8785 does (nearly all: see :func:`_fast_norm`) take it;
    the rest the ``rfc8785`` package writes, as every value did before."""
    try:
        return _dumps(_fast_norm(obj)).encode("utf-8")
    except (_Slow, UnicodeEncodeError, RecursionError):
        pass
    import rfc8785  # the slow path only

    try:
        return rfc8785.dumps(_norm(obj))
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalError(str(exc)) from exc


def event_body(ev: Any) -> dict[str, Any]:
    return {
        "case_id": ev.case_id,
        "chain": ev.chain,
        "seq": ev.seq,
        "kind": ev.kind,
        "trigger": ev.trigger,
        "from": ev.from_state,
        "to": ev.to_state,
        "actor": ev.actor,
        "role": ev.actor_role,
        "at": ev.occurred_at,
        "payload": ev.payload or {},
        "prev": ev.prev_hash,
    }


def event_hash(ev: Any) -> str:
    """SHA-256 (hex) over the canonical JSON of what an event says (a row or the values appended)."""
    return hashlib.sha256(canonical(event_body(ev))).hexdigest()


# --- appending ---------------------------------------------------------------------------------------


def append(
    session: Session,
    *,
    chain: str,
    kind: str,
    actor: str,
    now: datetime,
    case_id: int | None = None,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    actor_role: str | None = None,
    payload: dict | None = None,
) -> SimpleNamespace:
    """Append one event to ``chain`` inside the caller's transaction.

    A concurrent append to the same chain makes one of the two transactions fail (conditional update of
    the head, plus the unique (chain, seq)); case chains are already serialised by the case's lock."""
    pg = connection(session).dialect.name == "postgresql"
    head = prepared(_HEAD_FOR_UPDATE if pg else _HEAD).first(session, {"chain": chain})
    seq = head.seq + 1 if head else 1
    values = {
        "case_id": case_id,
        "chain": chain,
        "seq": seq,
        "kind": kind,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "actor": actor,
        "actor_role": actor_role,
        "occurred_at": now,
        "payload": _norm(payload or {}),
        "prev_hash": head.hash if head else GENESIS,
    }
    ev = SimpleNamespace(**values)
    ev.hash = values["hash"] = event_hash(ev)
    # Core statements on the session's connection: the trail is append-only, so the ORM's identity map
    # and flush add nothing here (and this is the hot path of every fire).
    prepared(_INSERT_EVENT, tuple(values)).run(session, values)
    if head is None:
        prepared(_INSERT_HEAD, ("chain", "seq", "hash", "sealed_seq")).run(
            session, {"chain": chain, "seq": seq, "hash": ev.hash, "sealed_seq": 0}
        )
    elif prepared(_MOVE_HEAD).run(session, {"b_chain": chain, "b_seq": head.seq, "seq": seq, "hash": ev.hash}) != 1:
        raise ConcurrentChange(chain)
    return ev


_heads = AuditHead.__table__
_events = CaseEvent.__table__
_checkpoints = AuditCheckpoint.__table__
_counters = CaseCounter.__table__
_cases = Case.__table__
_attachments = Attachment.__table__
_clock_rows = Clock.__table__
_messages = Message.__table__
_recusals = CaseRecusal.__table__
_ratings = SurveyResponse.__table__
_HEAD = sa.select(_heads.c.seq, _heads.c.hash).where(_heads.c.chain == sa.bindparam("chain"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_INSERT_EVENT = sa.insert(_events)
_INSERT_HEAD = sa.insert(_heads)
_MOVE_HEAD = (
    sa.update(_heads)
    .where(_heads.c.chain == sa.bindparam("b_chain"), _heads.c.seq == sa.bindparam("b_seq"))
    .values(seq=sa.bindparam("seq"), hash=sa.bindparam("hash"))
)
#: the transaction-scoped advisory lock that serialises checkpoint writers on PostgreSQL
_CHECKPOINT_LOCK = 0x77627363  # "wbsc"


# --- reading events (robust to rows edited by hand) -----------------------------------------------------


@dataclass
class EventRow:
    """An event as stored. ``payload`` is None and ``broken`` says why (a message) when the stored JSON is not
    valid."""

    id: int
    case_id: int | None
    chain: str
    seq: int
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    actor: str
    actor_role: str | None
    occurred_at: datetime
    payload: dict | None
    prev_hash: str
    hash: str
    broken: Msg | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: ``json.loads(raw, parse_constant=_reject_constant)`` without a decoder made on every call
_PAYLOAD_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _parse_payload(raw: Any) -> tuple[dict | None, Msg | None]:
    if isinstance(raw, dict):
        return raw, None
    try:
        if type(raw) is str and not raw.startswith("\ufeff"):  # json.loads refuses a BOM with its own message
            value = _PAYLOAD_JSON.decode(raw)
        else:
            value = json.loads(raw, parse_constant=_reject_constant) if raw is not None else {}
    except (TypeError, ValueError) as exc:
        return None, Msg(_("its payload is not valid JSON ({reason})"), reason=str(exc))
    if not isinstance(value, dict):
        return None, Msg(_("its payload is not a JSON object"))
    return value, None


_EVENT_COLUMNS = (
    _events.c.id,
    _events.c.case_id,
    _events.c.chain,
    _events.c.seq,
    _events.c.kind,
    _events.c.trigger,
    _events.c.from_state,
    _events.c.to_state,
    _events.c.actor,
    _events.c.actor_role,
    _events.c.occurred_at,
    sa.cast(_events.c.payload, sa.Text).label("payload_text"),
    _events.c.prev_hash,
    _events.c.hash,
)


def _row(r: Any) -> EventRow:
    """An event from a row of ``_EVENT_COLUMNS`` (unpacked by position: one step, not fourteen lookups)."""
    id_, case_id, chain, seq, kind, trigger, from_state, to_state, actor, role, at, raw, prev_hash, hash_ = r
    payload, broken = _parse_payload(raw)
    return EventRow(
        id_,
        case_id,
        chain,
        seq,
        kind,
        trigger,
        from_state,
        to_state,
        actor,
        role,
        at,
        payload,
        prev_hash,
        hash_,
        broken,
    )


def chain_events(session: Session, chain: str) -> list[EventRow]:
    """The events of one chain in order (what the case pages read)."""
    rows = session.connection().execute(
        sa.select(*_EVENT_COLUMNS).where(_events.c.chain == chain).order_by(_events.c.seq)
    )
    return [_row(r) for r in rows]


def _bytewise(column: Any, conn: Any) -> Any:
    """Order text by code points on every database (PostgreSQL's locale collations ignore punctuation), so
    that chains and case numbers walk in the same order as Python compares them."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


#: how SQLite holds an event's time as the engine writes it (SQLAlchemy's DateTime: naive UTC, microseconds)
_D = "[0-9]"
_SQLITE_TIME = f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}.{_D * 6}"


def _mistimed(conn: Any, chain: str | None = None) -> list[Any]:
    """Events whose time SQLite holds as text in another form than the engine writes (``T`` for the space, a
    zone, no microseconds): the same instant to the hash, but SQLite compares times as text, so such a row
    sorts apart in every time filter. Only a hand edit makes one; PostgreSQL holds a typed timestamp."""
    if conn.dialect.name != "sqlite":
        return []
    at = sa.type_coerce(_events.c.occurred_at, sa.Text)  # the text as stored, not parsed
    stmt = sa.select(_events.c.id, _events.c.chain).where(
        sa.or_(sa.func.typeof(at) != "text", sa.not_(at.op("GLOB", is_comparison=True)(_SQLITE_TIME)))
    )
    if chain is not None:
        stmt = stmt.where(_events.c.chain == chain)
    return conn.execute(stmt.order_by(_events.c.id).limit(100)).all()


def _mistimed_message(event_id: int, chain: str) -> Msg:
    return Msg(
        _("event {id} of {chain}: its time is not stored as the engine writes it (edited in the database)"),
        id=event_id,
        chain=chain,
    )


def _all_events(session: Session, batch: int = 5000) -> Iterator[EventRow]:
    """All events in (chain, seq) order, streamed in keyset pages."""
    last: tuple[str, int] = ("", 0)
    conn = session.connection()
    chain = _bytewise(_events.c.chain, conn)
    while True:
        rows = conn.execute(
            sa.select(*_EVENT_COLUMNS)
            .where(sa.tuple_(chain, _events.c.seq) > sa.tuple_(sa.literal(last[0]), sa.literal(last[1])))
            .order_by(chain, _events.c.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            yield _row(r)
        last = (rows[-1].chain, rows[-1].seq)


# --- checkpoints and heads -----------------------------------------------------------------------------


def checkpoint_body(cp: Any) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "seq": cp.seq,
        "at": cp.created_at,
        "heads": cp.heads,
        "counters": cp.counters,
        "prev": cp.prev_hash,
    }


def checkpoint_hash(cp: Any) -> str:
    return hashlib.sha256(canonical(checkpoint_body(cp))).hexdigest()


def signed_message(hash_hex: str) -> bytes:
    """The bytes the office key signs for a checkpoint: a fixed context, then the hash in hex."""
    return SIGNING_CONTEXT + hash_hex.encode()


def _counters_now(session: Session) -> dict[str, int]:
    return {k: last for k, last in session.connection().execute(sa.select(_counters.c.key, _counters.c.last))}


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    row = session.connection().execute(sa.select(_checkpoints).order_by(_checkpoints.c.seq.desc()).limit(1)).first()
    return AuditCheckpoint(**row._mapping) if row is not None else None


def checkpoint(
    session: Session, now: datetime, keyring: Keyring, *, heartbeat: bool = False
) -> AuditCheckpoint | None:
    """Seal the chain heads that moved and the case counters since the last checkpoint, signed with the
    office key; None when nothing moved, unless ``heartbeat`` (the scheduler's: a signed, dated checkpoint
    every interval even on a quiet day, so that deleting the newest checkpoints shows as a gap in time,
    ``verify(max_age=…)``). Safe with several schedulers at once: writers are serialised (an advisory lock
    on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and ``prev_hash`` is unique, so two can never extend the
    same predecessor."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHECKPOINT_LOCK})
    last = latest_checkpoint(session)
    # ``!=``, not ``>``: a ``sealed_seq`` pushed past its chain (an attempt to keep a chain out of the seals)
    # is sealed again, and verify names the edit
    moved = conn.execute(
        sa.select(_heads.c.chain, _heads.c.seq, _heads.c.hash).where(_heads.c.seq != _heads.c.sealed_seq)
    ).all()
    counters = _counters_now(session)
    if not heartbeat and not moved and last is not None and counters == (last.counters or {}):
        return None
    if not heartbeat and not moved and last is None and not counters:
        return None
    if last is not None and now < last.created_at:
        now = last.created_at  # never sign a time before the previous seal (a clock stepped back)
    cp = AuditCheckpoint(
        seq=(last.seq + 1) if last else 1,
        created_at=now,
        heads={c: [s, h] for c, s, h in moved},
        counters=counters,
        prev_hash=last.hash if last else GENESIS,
        hash="",
        signature="",
        key_id=keyring.key_id,
    )
    cp.hash = checkpoint_hash(cp)
    cp.signature = keyring.sign(signed_message(cp.hash))
    cp.id = conn.execute(
        sa.insert(_checkpoints).returning(_checkpoints.c.id),
        {
            k: getattr(cp, k)
            for k in ("seq", "created_at", "heads", "counters", "prev_hash", "hash", "signature", "key_id")
        },
    ).scalar_one()
    for chain, seq, _h in moved:
        # what this checkpoint sealed (a head that moved meanwhile keeps seq > sealed_seq: sealed next time)
        conn.execute(sa.update(_heads).where(_heads.c.chain == chain).values(sealed_seq=seq))
    return cp


@dataclass(frozen=True)
class KeptHead:
    """A signed head as printed by ``wbs audit-head`` and kept outside the server."""

    seq: int
    at: str
    hash: str
    key: str  # the public key, base64url (raw 32 bytes)
    signature: str
    line: str = ""

    def signature_ok(self) -> bool:
        try:
            return verify_signature(public_key_from_b64(self.key), signed_message(self.hash), self.signature)
        except CryptoError:
            return False


def head_line(cp: AuditCheckpoint, public_b64: str) -> str:
    at = cp.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{HEAD_PREFIX} seq={cp.seq} at={at} hash={cp.hash} key={public_b64} sig={cp.signature}"


class UnreadableHead(ValueError):
    """A line of a file of kept heads starts like a head but cannot be read; :meth:`message` names it."""

    def __init__(self, n: int, reason: str):
        self.msg = Msg(_("line {n} is not a readable audit head ({reason})"), n=n, reason=reason)
        super().__init__(self.msg.msgid)

    def __str__(self) -> str:
        return self.message()

    def message(self, lang: str = "id") -> str:
        return self.msg.render(lang)


def parse_heads(text: str) -> list[KeptHead]:
    """Every head line in ``text`` (other lines are ignored, so a mail or a notes file can be given as it is).
    A line that starts like a head but cannot be read raises :class:`UnreadableHead` (a ``ValueError``)
    naming it."""
    heads = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line.startswith(HEAD_PREFIX):
            continue
        try:
            fields = dict(tok.split("=", 1) for tok in line.split()[1:])
            heads.append(
                KeptHead(int(fields["seq"]), fields["at"], fields["hash"], fields["key"], fields["sig"], line=line)
            )
        except (KeyError, ValueError) as exc:
            raise UnreadableHead(n, str(exc)) from None
    return heads


# --- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing verification found: a stable ``code`` (for programs and tests), what it is as a catalogue
    message (:meth:`message` renders it in the reader's language), and where (the chain, the event's id)."""

    code: str
    msg: Msg
    chain: str | None = None
    event_id: int | None = None

    def message(self, lang: str = "id") -> str:
        return self.msg.render(lang)

    def __str__(self) -> str:
        return self.message()


def _event_label(ev: EventRow) -> Msg:
    """How a problem names an event."""
    return Msg(_("event id {id} ({chain} #{seq}, {kind})"), id=ev.id, chain=ev.chain, seq=ev.seq, kind=ev.kind)


def _minute(moment: datetime) -> str:
    """A time to the minute, as problems show it."""
    return f"{moment:%Y-%m-%d %H:%M}"


@dataclass
class VerifyResult:
    events: int = 0
    chains: int = 0
    checkpoints: int = 0
    cases: int = 0
    kept_heads: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: the latest checkpoint seen (for printing the head)
    latest: AuditCheckpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def event_id(self) -> int | None:
        return self.problems[0].event_id if self.problems else None


class _Stop(Exception):
    pass


@dataclass
class _Replay:
    """What a case row should say, rebuilt from its trail."""

    case_type: str | None = None
    workflow_version: int | None = None
    identity: str | None = None
    state: str | None = None
    version: int | None = None
    unit: str | None = None
    unit_known: bool = False
    assigned: str | None = None
    assigned_known: bool = False
    data: dict = field(default_factory=dict)
    sealed_fields: set = field(default_factory=set)
    recused: list = field(default_factory=list)
    sealed_values: dict = field(default_factory=dict)
    sealed_blobs: list = field(default_factory=list)
    #: attachment id → what its ``attachment_added`` event recorded (file id, size, type, sealed metadata)
    attachments: dict = field(default_factory=dict)
    filed_by: str | None = None
    filed_by_known: bool = False
    receipt: str | None = None
    workflow_sha: str | None = None
    created_at: datetime | None = None
    case_ids: set = field(default_factory=set)
    #: (event id, trigger, from, to, role) of each transition, checked against the workflow
    transitions: list = field(default_factory=list)
    #: each entry into another state, with its time (to find when the case closed)
    entered: list = field(default_factory=list)
    #: message id → (to the reporter, author, digest of the sealed text, time)
    messages: dict = field(default_factory=dict)
    #: clock name → {"status", "due_date", "breached"} as the trail left it
    clocks: dict = field(default_factory=dict)
    destroyed: bool = False
    #: survey response id → what its ``rated`` event recorded (scores, sealed comment, time)
    ratings: dict = field(default_factory=dict)
    #: (event id, the state the case was in, actor, role, scores) of each ``rated`` event, checked against the
    #: workflow: after closure, once, by the reporter, the survey's elements each 1–4
    rated: list = field(default_factory=list)

    def apply(self, ev: EventRow) -> None:
        p = ev.payload or {}
        self.case_ids.add(ev.case_id)
        if ev.kind == "rated":
            self.rated.append((ev.id, self.state, ev.actor, ev.actor_role, p.get("answers")))
            self.ratings[p.get("response_id")] = _rating_record(p.get("answers"), p.get("sealed"), ev.occurred_at)
        if ev.kind == "created":
            self.case_type = p.get("type")
            self.workflow_version = p.get("workflow_version")
            self.identity = p.get("identity")
            self.created_at = ev.occurred_at
            self.workflow_sha = p.get("workflow_sha256")
            self.receipt = p.get("receipt")
            if "filed_by" in p:
                self.filed_by, self.filed_by_known = p["filed_by"], True
            if "unit" in p:
                self.unit, self.unit_known = p["unit"], True
        if ev.kind == "transition":
            self.transitions.append((ev.id, ev.trigger, ev.from_state, ev.to_state, ev.actor_role))
        if ev.to_state and ev.to_state != ev.from_state:
            self.entered.append((ev.to_state, ev.occurred_at))
        if ev.kind == "message" and "message_id" in p:
            self.messages[p["message_id"]] = (p.get("to_reporter"), ev.actor, p.get("body_sha256"), ev.occurred_at)
        for entry in p.get("clocks") or []:
            if isinstance(entry, dict) and "clock" in entry:
                c = self.clocks.setdefault(entry["clock"], {"breached": False})
                c["status"] = entry.get("status")
                if "due_date" in entry:
                    c["due_date"] = entry["due_date"]
        if ev.kind == "clock_breached" and "clock" in p:
            c = self.clocks.setdefault(p["clock"], {"breached": False})
            c["breached"] = True
            if c.get("status") == "running":  # a breach that fired a transition may have stopped it first
                c["status"] = "breached"
        if ev.kind == "clock_recomputed" and "clock" in p:
            self.clocks.setdefault(p["clock"], {"breached": False})["due_date"] = p.get("due_after")
        if ev.kind == "content_destroyed":
            self.destroyed = True
        if ev.to_state:
            self.state = ev.to_state
        if isinstance(p.get("data"), dict):
            self.data.update(p["data"])
        self.sealed_fields.update(p.get("sealed_fields") or [])
        if isinstance(p.get("unit"), dict):
            self.unit, self.unit_known = p["unit"].get("to"), True
        if "assigned_to" in p:
            self.assigned, self.assigned_known = p["assigned_to"], True
        if p.get("recused") and p["recused"] not in self.recused:
            self.recused.append(p["recused"])
        if isinstance(p.get("case_version"), int):
            self.version = p["case_version"]
        if p.get("sealed") and ev.kind in ("created", "transition"):
            self.sealed_blobs.append(p["sealed"])
        if ev.kind == "attachment_added":
            self.attachments[p.get("attachment_id")] = _attachment_record(p)


@dataclass
class _SystemReplay:
    """What the administrative tables should hold, rebuilt from the ``system`` chain: the role grants (who
    may read and act on which cases: ``role_granted`` adds, ``role_revoked`` removes) and the office's own
    days off and working days."""

    grants: set = field(default_factory=set)
    holidays: dict = field(default_factory=dict)

    def apply(self, ev: EventRow) -> None:
        p = ev.payload or {}
        if ev.kind in ("role_granted", "role_revoked"):
            for g in p.get("grants") or []:
                role, unit, ctype = (str(g).split(":") + ["*", "*"])[:3]
                grant = (p.get("user"), role, None if unit == "*" else unit, None if ctype == "*" else ctype)
                if ev.kind == "role_granted":
                    self.grants.add(grant)
                else:
                    self.grants.discard(grant)
        elif ev.kind == "holiday_set" and p.get("day"):
            self.holidays[str(p["day"])] = (p.get("kind"), p.get("name"))


def _compare_system(conn, system: _SystemReplay, report) -> None:
    users, grants, holidays = User.__table__, RoleGrant.__table__, Holiday.__table__
    have = {
        (u, r, unit, ctype)
        for u, r, unit, ctype in conn.execute(
            sa.select(users.c.username, grants.c.role, grants.c.unit_code, grants.c.case_type).join(
                users, users.c.id == grants.c.user_id
            )
        )
    }
    for g in sorted(have - system.grants, key=str)[:20]:
        report(
            "grant_unrecorded",
            Msg(
                _(
                    "role grant {role} (unit {unit}, type {type}) of {user} has no role_granted event in the trail "
                    "(added in the database)"
                ),
                role=g[1],
                unit=g[2] or "*",
                type=g[3] or "*",
                user=g[0],
            ),
        )
    for g in sorted(system.grants - have, key=str)[:20]:
        report(
            "grant_missing",
            Msg(_("role grant {role} of {user} is in the trail but not in the database"), role=g[1], user=g[0]),
        )
    days = {str(d): (k, n) for d, k, n in conn.execute(sa.select(holidays.c.day, holidays.c.kind, holidays.c.name))}
    for day in sorted(set(days) | set(system.holidays))[:400]:
        if days.get(day) != system.holidays.get(day):
            report(
                "holiday_mismatch",
                Msg(
                    _("office day {day}: the holiday table and the trail disagree (a deadline moved without a record)"),
                    day=day,
                ),
            )


def verify(
    session: Session,
    *,
    public_key: Ed25519PublicKey | None = None,
    keyring: Keyring | None = None,
    against: Iterable[KeptHead] = (),
    workflows: dict[tuple[str, int], Any] | None = None,
    deep: bool = False,
    max_problems: int = 50,
    now: datetime | None = None,
    max_age: timedelta | None = None,
) -> VerifyResult:
    """Check the whole trail and the case rows against it; collect up to ``max_problems`` problems, each
    named (see the module docstring for what is and is not detected).

    ``public_key`` (or ``keyring``) checks the checkpoints' signatures; without either only their hashes
    and links are checked. ``against``: heads kept outside, each must still be in the database, unchanged.
    ``workflows``: (case type, version) → the workflow version cases run on (anything with ``definition``
    and ``sha256``, e.g. :meth:`Registry.versions`): each case's stored workflow text must be the one its
    creation recorded, every transition must be one that workflow allows (state, trigger, role), and the
    row's ``final``/``phase`` must match its state. ``deep`` (needs ``keyring``): also open every case's
    sealed values and compare them with what its trail sealed.

    ``max_age`` (with ``now``): the newest checkpoint must be younger than this. With the scheduler sealing
    a heartbeat every ``WBS_CHECKPOINT_MINUTES``, an older newest checkpoint means checkpoints were deleted
    (or the scheduler stopped): what it sealed could have been rewritten since.

    A database it cannot read to the end (a row a writer filled with garbage) is a named problem, not a
    traceback."""
    res = VerifyResult()
    if public_key is None and keyring is not None:
        public_key = keyring.public_key

    def report(code: str, message: Msg, chain: str | None = None, event_id: int | None = None) -> None:
        res.problems.append(Problem(code, message, chain, event_id))
        if len(res.problems) >= max_problems:
            raise _Stop

    try:
        _verify(session, res, report, public_key, keyring, list(against), workflows, deep)
        if max_age is not None and now is not None:
            newest = res.latest.created_at if res.latest is not None else None
            if newest is None or now - newest > max_age:
                minutes = int(max_age.total_seconds() // 60)
                if newest is None:
                    stale = Msg.count(
                        N_(
                            "no signed checkpoint in the last {n} minute (none at all): the newest checkpoints were "
                            "deleted, or the scheduler is not running",
                            "no signed checkpoint in the last {n} minutes (none at all): the newest checkpoints were "
                            "deleted, or the scheduler is not running",
                        ),
                        minutes,
                    )
                else:
                    stale = Msg.count(
                        N_(
                            "no signed checkpoint in the last {n} minute (the newest is of {newest} UTC): the newest "
                            "checkpoints were deleted, or the scheduler is not running",
                            "no signed checkpoint in the last {n} minutes (the newest is of {newest} UTC): the newest "
                            "checkpoints were deleted, or the scheduler is not running",
                        ),
                        minutes,
                        newest=_minute(newest),
                    )
                report("checkpoint_stale", stale)
    except _Stop:
        pass
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - a damaged database must still get an answer
        try:
            report(
                "unreadable",
                Msg(
                    _("the database could not be read to the end: {error}"), error=f"{type(exc).__name__}: {exc}"[:257]
                ),
            )
        except _Stop:
            pass
    return res


#: how long before the newest checkpoint an event may still be unsealed (a transaction that began before the
#: checkpoint and committed after it); older unsealed events mean seals were removed
SEAL_SLACK = timedelta(minutes=5)
NUMBER_RE = re.compile(r"^([A-Z]{2,5})-(\d{4})-(\d{6})$")


def _verify(session, res, report, public_key, keyring, against, workflows, deep) -> None:  # noqa: C901
    conn = session.connection()
    key_id = public_key_id(public_key) if public_key is not None else None

    # 1. checkpoints: contiguous, chained, hashed, signed; remember the newest seal of each chain and counter
    sealed: dict[str, tuple[int, str, int, datetime]] = {}
    sealed_counters: dict[str, tuple[int, int]] = {}
    by_seq: dict[int, AuditCheckpoint] = {}
    prev_hash, prev_at, expect = GENESIS, None, 1
    for row in conn.execute(sa.select(_checkpoints).order_by(_checkpoints.c.seq)):
        cp = AuditCheckpoint(**row._mapping)
        by_seq[cp.seq] = cp
        res.checkpoints += 1
        res.latest = cp
        label = Msg(_("checkpoint #{seq} of {at} UTC"), seq=cp.seq, at=_minute(cp.created_at))
        if cp.seq != expect:
            report(
                "checkpoint_missing",
                Msg(
                    _("{checkpoint}: expected #{expected}; checkpoints were removed or renumbered"),
                    checkpoint=label,
                    expected=expect,
                ),
            )
        if cp.prev_hash != prev_hash:
            report(
                "checkpoint_unlinked",
                Msg(
                    _("{checkpoint}: does not follow the checkpoint before it (removed or reordered)"), checkpoint=label
                ),
            )
        try:
            recomputed = checkpoint_hash(cp)
        except CanonicalError as exc:
            recomputed = f"unhashable: {exc}"
        if recomputed != cp.hash:
            report(
                "checkpoint_altered",
                Msg(_("{checkpoint}: its content does not match its hash (the row was edited)"), checkpoint=label),
            )
        if public_key is not None:
            if cp.key_id != key_id or not verify_signature(public_key, signed_message(cp.hash), cp.signature):
                report(
                    "checkpoint_signature",
                    Msg(
                        _(
                            "{checkpoint}: its signature does not verify with the office's public key {key} (it was "
                            "made or re-sealed without the office's signing key)"
                        ),
                        checkpoint=label,
                        key=key_id,
                    ),
                )
        if prev_at is not None and cp.created_at < prev_at:
            report(
                "checkpoint_time",
                Msg(_("{checkpoint}: its time is before the previous checkpoint's"), checkpoint=label),
            )
        for chain, pair in (cp.heads or {}).items():
            try:
                seq, h = int(pair[0]), str(pair[1])
            except (TypeError, ValueError, IndexError):
                report(
                    "checkpoint_altered",
                    Msg(_("{checkpoint}: unreadable head for {chain}"), checkpoint=label, chain=chain),
                )
                continue
            if chain not in sealed or seq >= sealed[chain][0]:
                sealed[chain] = (seq, h, cp.seq, cp.created_at)
        for key, last in (cp.counters or {}).items():
            before = sealed_counters.get(key)
            if before is not None and last < before[0]:
                report(
                    "counter_rewound",
                    Msg(
                        _("{checkpoint}: the case counter {counter} went back from {before} to {after}"),
                        checkpoint=label,
                        counter=key,
                        before=before[0],
                        after=last,
                    ),
                )
            sealed_counters[key] = (max(last, before[0]) if before else last, cp.seq)
        prev_hash, prev_at, expect = cp.hash, cp.created_at, expect + 1

    # 2. heads kept outside the server
    for kept in against:
        res.kept_heads += 1
        if not kept.signature_ok():
            report(
                "kept_head_unsigned",
                Msg(_("kept head #{seq} ({at}): its own signature does not verify"), seq=kept.seq, at=kept.at),
            )
            continue
        if public_key is not None and public_key_id(public_key_from_b64(kept.key)) != key_id:
            report(
                "kept_head_other_key",
                Msg(
                    _("kept head #{seq} ({at}) was signed by another key than this office's ({key})"),
                    seq=kept.seq,
                    at=kept.at,
                    key=key_id,
                ),
            )
        cp = by_seq.get(kept.seq)
        if cp is None:
            newest = res.latest.seq if res.latest else 0
            report(
                "kept_head_missing",
                Msg(
                    _(
                        "kept head #{seq} of {at} is not in the database (newest checkpoint: #{newest}): the database "
                        "is an older copy, or the trail was truncated"
                    ),
                    seq=kept.seq,
                    at=kept.at,
                    newest=newest,
                ),
            )
        elif cp.hash != kept.hash:
            report(
                "kept_head_mismatch",
                Msg(
                    _("checkpoint #{seq} differs from the head kept on {at}: history was rewritten and re-sealed"),
                    seq=kept.seq,
                    at=kept.at,
                ),
            )

    # 3. every chain, event by event, and each case row against its replayed trail
    heads: dict[str, tuple[int, str]] = {}
    for c, s_, h, sealed_seq in conn.execute(
        sa.select(_heads.c.chain, _heads.c.seq, _heads.c.hash, _heads.c.sealed_seq)
    ):
        heads[c] = (s_, h)
        expected = sealed[c][0] if c in sealed else 0
        if sealed_seq != expected:
            report(
                "head_seal_edited",
                Msg(
                    _(
                        "chain {chain}: its head says #{sealed} was sealed, but the newest checkpoint that sealed it "
                        "says #{expected} (audit_head.sealed_seq was edited, to keep events out of the seals)"
                    ),
                    chain=c,
                    sealed=sealed_seq,
                    expected=expected,
                ),
                c,
            )
    newest_seal = res.latest.created_at if res.latest is not None else None
    usernames = {i: u for i, u in conn.execute(sa.select(User.__table__.c.id, User.__table__.c.username))}
    attachments: dict[int, list[Any]] = {}
    for row in conn.execute(sa.select(_attachments).order_by(_attachments.c.id)):
        attachments.setdefault(row.case_id, []).append(row)
    cases = _CaseStream(session)
    seen_chains: set[str] = set()

    def finish_chain(chain: str, last_seq: int, last_hash: str, replay: _Replay | None) -> None:
        head = heads.get(chain)
        if head is None:
            report(
                "head_missing",
                Msg(_("chain {chain}: events without a head (the head row was deleted)"), chain=chain),
                chain,
            )
        elif head != (last_seq, last_hash):
            report(
                "chain_truncated",
                Msg(
                    _(
                        "chain {chain}: the last event is #{last} but its head records #{head} (events deleted from "
                        "the end, or the head was edited)"
                    ),
                    chain=chain,
                    last=last_seq,
                    head=head[0],
                ),
                chain,
            )
        seal = sealed.get(chain)
        if seal is not None and seal[0] > last_seq:
            report(
                "sealed_event_gone",
                Msg(
                    _(
                        "chain {chain}: checkpoint #{checkpoint} sealed event #{sealed}, but the chain ends at #{last} "
                        "(events deleted from the end)"
                    ),
                    chain=chain,
                    checkpoint=seal[2],
                    sealed=seal[0],
                    last=last_seq,
                ),
                chain,
            )
        if chain != SYSTEM_CHAIN:
            case = cases.take(chain)
            if case is None:
                report(
                    "case_row_missing",
                    Msg(_("chain {chain}: its case row is gone (the case was deleted)"), chain=chain),
                    chain,
                )
            elif replay is not None:
                recused = {usernames.get(u, f"#{u}") for u in cases.recused.get(case.id, ())}
                _compare_case(case, replay, usernames, recused, workflows, keyring if deep else None, report)
                _compare_children(case, replay, cases.clocks.get(case.id, []), cases.messages.get(case.id, []), report)
            if case is not None and replay is not None:
                _compare_attachments(case, replay, attachments.pop(case.id, []), report)
                _compare_ratings(case, replay, cases.ratings.get(case.id, []), workflows, report)

    chain: str | None = None
    prev, expect_seq, last_at = GENESIS, 1, None
    replay: _Replay | None = None
    last_seq, last_hash = 0, GENESIS
    skip_chain = False
    system = _SystemReplay()
    for ev in _all_events(session):
        if ev.chain != chain:
            if chain is not None:
                finish_chain(chain, last_seq, last_hash, replay)
            for missing in cases.before(ev.chain):
                report("case_without_trail", _without_trail(missing), missing)
            chain, prev, expect_seq, last_at, skip_chain = ev.chain, GENESIS, 1, None, False
            replay = _Replay() if chain != SYSTEM_CHAIN else None
            seen_chains.add(chain)
        res.events += 1
        last_seq, last_hash = ev.seq, ev.hash
        if skip_chain:
            continue
        if ev.seq != expect_seq:
            report(
                "event_missing",
                Msg(
                    _("{event}: expected #{expected} of {chain}; an event is missing or was renumbered"),
                    event=_event_label(ev),
                    expected=expect_seq,
                    chain=ev.chain,
                ),
                ev.chain,
                ev.id,
            )
            skip_chain = True
            continue
        if ev.prev_hash != prev:
            report(
                "event_unlinked",
                Msg(
                    _("{event}: does not follow the event before it (an event was removed, inserted or reordered)"),
                    event=_event_label(ev),
                ),
                ev.chain,
                ev.id,
            )
            skip_chain = True
            continue
        if ev.broken:
            report("event_unreadable", _unreadable(_event_label(ev), ev.broken), ev.chain, ev.id)
            skip_chain = True
            continue
        try:
            ok = event_hash(ev) == ev.hash
        except CanonicalError:
            ok = False
        if not ok:
            report("event_edited", _edited(_event_label(ev)), ev.chain, ev.id)
            skip_chain = True
            continue
        if last_at is not None and ev.occurred_at < last_at:
            report(
                "time_backwards",
                Msg(_("{event}: its time is before the previous event's (back-dated)"), event=_event_label(ev)),
                ev.chain,
                ev.id,
            )
        seal = sealed.get(ev.chain)
        if newest_seal is not None and (seal is None or ev.seq > seal[0]) and ev.occurred_at < newest_seal - SEAL_SLACK:
            report(
                "unsealed_old_event",
                Msg(
                    _(
                        "{event}: dated {at} UTC, before the newest checkpoint, yet no checkpoint sealed it (seals "
                        "were removed, or the event was added afterwards)"
                    ),
                    event=_event_label(ev),
                    at=_minute(ev.occurred_at),
                ),
                ev.chain,
                ev.id,
            )
        if seal is not None and seal[0] == ev.seq:
            if seal[1] != ev.hash:
                report(
                    "sealed_event_changed",
                    Msg(
                        _(
                            "{event}: checkpoint #{checkpoint} sealed this event with another hash (the chain was "
                            "rewritten and its hashes recomputed)"
                        ),
                        event=_event_label(ev),
                        checkpoint=seal[2],
                    ),
                    ev.chain,
                    ev.id,
                )
                skip_chain = True
            elif ev.occurred_at > seal[3]:
                report(
                    "time_after_seal",
                    Msg(_("{event}: dated after the checkpoint that sealed it"), event=_event_label(ev)),
                    ev.chain,
                    ev.id,
                )
        if replay is not None:
            replay.apply(ev)
        elif ev.chain == SYSTEM_CHAIN:
            system.apply(ev)
        prev, expect_seq, last_at = ev.hash, ev.seq + 1, ev.occurred_at
    if chain is not None:
        finish_chain(chain, last_seq, last_hash, replay)
    for missing in cases.before(None):
        report("case_without_trail", _without_trail(missing), missing)
    res.chains = len(seen_chains)
    res.cases = cases.count
    _compare_system(conn, system, report)
    for chain_name in sorted(set(heads) - seen_chains):
        report(
            "chain_deleted",
            Msg.count(
                N_(
                    "chain {chain}: its head says {n} event but none are left",
                    "chain {chain}: its head says {n} events but none are left",
                ),
                heads[chain_name][0],
                chain=chain_name,
            ),
        )
    for chain_name, seal in sorted(sealed.items()):
        if chain_name not in seen_chains and chain_name not in heads:
            report(
                "chain_deleted",
                Msg(
                    _("chain {chain}: checkpoint #{checkpoint} sealed it, but it is gone (a whole case was deleted)"),
                    chain=chain_name,
                    checkpoint=seal[2],
                ),
                chain_name,
            )

    for event_id, chain in _mistimed(conn):
        report("event_time_edited", _mistimed_message(event_id, chain), chain, event_id)

    # 4. case numbers run without gaps, and no counter went back
    for number in cases.malformed[:20]:
        report(
            "number_malformed",
            Msg(_("case number {number} is not of the form PREFIX-YYYY-NNNNNN (a forged case)"), number=repr(number)),
        )
    counters = _counters_now(session)
    for key, (sealed_last, cp_seq) in sorted(sealed_counters.items()):
        if counters.get(key, 0) < sealed_last:
            report(
                "counter_rewound",
                Msg(
                    _("case counter {counter} is at {value} but checkpoint #{checkpoint} counted {sealed}"),
                    counter=key,
                    value=counters.get(key, 0),
                    checkpoint=cp_seq,
                    sealed=sealed_last,
                ),
            )
    for key in sorted(set(cases.numbers) - set(counters)):
        report(
            "counter_missing",
            Msg(_("cases numbered {prefix}-… exist but no counter issued them (forged cases)"), prefix=key),
        )
    for key, last in sorted(counters.items()):
        have = cases.numbers.get(key, (0, 0))
        last = max(last, sealed_counters.get(key, (0, 0))[0])
        if have == (last, last):
            continue
        present = sorted(
            int(m.group(3))
            for (n,) in conn.execute(sa.select(_cases.c.number).where(_cases.c.number.startswith(key + "-")))
            if isinstance(n, str) and (m := NUMBER_RE.match(n)) and f"{m.group(1)}-{m.group(2)}" == key
        )
        gone: list[str] = []
        expect = 1
        for i in present:  # the first gaps, never a list as long as a counter someone set to 10^9
            while expect < min(i, last + 1) and len(gone) < 20:
                gone.append(f"{key}-{expect:06d}")
                expect += 1
            if len(gone) >= 20:
                break
            expect = max(expect, i + 1)
        while expect <= last and len(gone) < 20:
            gone.append(f"{key}-{expect:06d}")
            expect += 1
        if gone:
            more = last - len(present) - len(gone)
            if more > 0:
                gap = Msg(
                    _(
                        "case numbers {numbers} and {more} more were issued but are missing (deleted cases; "
                        "destruction keeps the record)"
                    ),
                    numbers=", ".join(gone),
                    more=more,
                )
            else:
                gap = Msg(
                    _(
                        "case numbers {numbers} were issued but are missing (deleted cases; destruction keeps the "
                        "record)"
                    ),
                    numbers=", ".join(gone),
                )
            report("number_gap", gap)
        extra = [i for i in present if i > last]
        if extra:
            report(
                "counter_rewound",
                Msg(
                    _("case counter {counter} is at {value} but {number} exists"),
                    counter=key,
                    value=last,
                    number=f"{key}-{extra[0]:06d}",
                ),
            )


def _without_trail(number: str) -> Msg:
    return Msg(_("case {number}: it has no audit trail (its events were deleted)"), number=number)


def _unreadable(label: Msg, why: Msg) -> Msg:
    return Msg(_("{event}: {problem} (the row was edited)"), event=label, problem=why)


def _edited(label: Msg) -> Msg:
    return Msg(_("{event}: its content does not match its hash (the row was edited)"), event=label)


class _CaseStream:
    """Case rows in number order, walked alongside the chains (a merge join: no query per case), with their
    recusals (``case_recusal``, one query per batch)."""

    def __init__(self, session: Session, batch: int = 2000):
        self.conn = session.connection()
        self.batch = batch
        self.buffer: list[Any] = []
        self.last = ""
        self.done = False
        self.count = 0
        #: prefix-year → (how many cases, highest number)
        self.numbers: dict[str, tuple[int, int]] = {}
        #: case id → ids of its recused users, for the cases of the current batch
        self.recused: dict[int, set[int]] = {}
        #: case id → its clock rows / message rows / survey responses, for the cases of the current batch
        self.clocks: dict[int, list[Any]] = {}
        self.messages: dict[int, list[Any]] = {}
        self.ratings: dict[int, list[Any]] = {}
        #: case numbers not of the form PREFIX-YYYY-NNNNNN (they escape the gap check)
        self.malformed: list[str] = []

    def _fill(self) -> None:
        if self.buffer or self.done:
            return
        number = _bytewise(_cases.c.number, self.conn)
        rows = self.conn.execute(
            sa.select(_cases).where(number > sa.literal(self.last)).order_by(number).limit(self.batch)
        ).all()
        if not rows:
            self.done = True
            return
        self.buffer = list(rows)
        self.last = rows[-1].number
        self.recused = {}
        ids = [r.id for r in rows]
        for case_id, user_id in self.conn.execute(
            sa.select(_recusals.c.case_id, _recusals.c.user_id).where(_recusals.c.case_id.in_(ids))
        ):
            self.recused.setdefault(case_id, set()).add(user_id)
        self.clocks, self.messages = {}, {}
        for row in self.conn.execute(sa.select(_clock_rows).where(_clock_rows.c.case_id.in_(ids))):
            self.clocks.setdefault(row.case_id, []).append(row)
        for row in self.conn.execute(sa.select(_messages).where(_messages.c.case_id.in_(ids))):
            self.messages.setdefault(row.case_id, []).append(row)
        self.ratings = {}
        for row in self.conn.execute(sa.select(_ratings).where(_ratings.c.case_id.in_(ids))):
            self.ratings.setdefault(row.case_id, []).append(row)

    def _pop(self) -> Any:
        row = self.buffer.pop(0)
        self.count += 1
        m = NUMBER_RE.match(row.number) if isinstance(row.number, str) else None
        if m is None:
            self.malformed.append(str(row.number))
            return row
        key = f"{m.group(1)}-{m.group(2)}"
        count, high = self.numbers.get(key, (0, 0))
        self.numbers[key] = (count + 1, max(high, int(m.group(3))))
        return row

    def before(self, chain: str | None) -> list[str]:
        """Numbers of cases that sort before ``chain`` (None: all remaining): cases with no trail."""
        out = []
        while True:
            self._fill()
            if not self.buffer or (chain is not None and self.buffer[0].number >= chain):
                return out
            out.append(self._pop().number)

    def take(self, chain: str) -> Any:
        self.before(chain)
        self._fill()
        if self.buffer and self.buffer[0].number == chain:
            return self._pop()
        return None


def _attachment_record(p: dict) -> tuple:
    """What an attachment row must hold, as its ``attachment_added`` event (or the row) says."""
    return (p.get("file_id"), p.get("size"), p.get("type"), p.get("by_reporter"), p.get("sealed"))


def _compare_attachments(case, replay: _Replay, rows: list[Any], report) -> None:
    """The case's attachment rows against its trail: none removed, added or changed (evidence must not go
    missing unseen). The sealed name and SHA-256 are compared as ciphertext, so no key is needed."""
    n = case.number
    have = {
        r.id: _attachment_record(
            {
                "file_id": r.file_id,
                "size": r.size,
                "type": r.content_type,
                "by_reporter": bool(r.by_reporter),
                "sealed": r.meta_enc,
            }
        )
        for r in rows
    }
    _compare_rows(
        report,
        n,
        have,
        replay.attachments,
        "attachment",
        (
            _("case {number}: attachment {row} is in its trail but its row is gone"),
            _("case {number}: attachment {row} has no attachment_added event in its trail"),
            _("case {number}: attachment {row} differs from what its trail recorded"),
        ),
    )


def _rating_record(answers: Any, sealed: Any, at: Any) -> tuple:
    """What a survey response row must hold, as its ``rated`` event (or the row) says."""
    return (answers, sealed or None, at)


def _rating_problem(rated: tuple, index: int, defn: Any) -> Msg | None:
    """Why a ``rated`` event is not one the case's workflow allows (None when it is): only its reporter, only
    once, only after closure, every element of the survey with a score 1–4 and nothing else."""
    _ev_id, state, actor, role, answers = rated
    if index > 0:
        return Msg(_("the case was rated a second time"))
    if (actor, role) != ("pelapor", "pelapor"):
        return Msg(_("not rated by the reporter"))
    if defn is None:
        return None
    if state not in defn.states or not defn.states[state].final:
        return Msg(_("rated while the case was still open ({state})"), state=repr(state))
    if defn.survey is None:
        return Msg(_("its workflow version asks no survey"))
    scores_ok = isinstance(answers, dict) and all(
        not isinstance(v, bool) and isinstance(v, int) and 1 <= v <= 4 for v in answers.values()
    )
    if not scores_ok or set(answers) != set(defn.survey.keys):
        return Msg(_("its scores are not the survey's elements, each from 1 to 4"))
    return None


def _compare_ratings(case, replay: _Replay, rows: list[Any], workflows, report) -> None:
    """The case's survey responses against its trail: none added, removed or changed (the comment compared
    as ciphertext, no key needed), and every ``rated`` event one its workflow allows."""
    n = case.number
    loaded = workflows.get((case.case_type, case.workflow_version)) if workflows is not None else None
    defn = loaded.definition if loaded is not None else None
    for i, rated in enumerate(replay.rated):
        problem = _rating_problem(rated, i, defn)
        if problem is not None:
            report(
                "rating_not_allowed",
                Msg(
                    _("case {number}: event id {event_id} records a rating its workflow does not allow: {problem}"),
                    number=n,
                    event_id=rated[0],
                    problem=problem,
                ),
                n,
                rated[0],
            )
    have = {r.id: _rating_record(r.answers, r.comment_enc, r.created_at) for r in rows}
    _compare_rows(
        report,
        n,
        have,
        replay.ratings,
        "survey",
        (
            _("case {number}: survey response {row} is in its trail but its row is gone"),
            _("case {number}: survey response {row} has no rated event in its trail (added)"),
            _("case {number}: survey response {row} differs from what its trail recorded"),
        ),
    )


def _compare_rows(
    report: Callable[..., None],
    number: str,
    have: dict[Any, Any],
    recorded: dict[Any, Any],
    what: str,
    messages: tuple[str, str, str],
) -> None:
    """Rows of a case (attachments, survey responses) against what its trail recorded, by id: a row gone
    (``{what}_missing``), a row no event recorded (``{what}_unrecorded``), a row that differs
    (``{what}_mismatch``)."""
    gone, added, differs = messages
    for rid in sorted(set(recorded) - set(have), key=str):
        report(f"{what}_missing", Msg(gone, number=number, row=rid), number)
    for rid in sorted(set(have) - set(recorded), key=str):
        report(f"{what}_unrecorded", Msg(added, number=number, row=rid), number)
    for rid in sorted(set(have) & set(recorded), key=str):
        if have[rid] != recorded[rid]:
            report(f"{what}_mismatch", Msg(differs, number=number, row=rid), number)


def _compare_case(case, replay: _Replay, usernames, recused: set[str], workflows, keyring, report) -> None:  # noqa: C901
    n = case.number
    diffs: list[Msg] = []
    if replay.case_ids - {case.id}:
        others = sorted(replay.case_ids - {case.id}, key=str)
        diffs.append(
            Msg.count(
                N_(
                    "its trail's events name case id {ids}, not {id}",
                    "its trail's events name case ids {ids}, not {id}",
                ),
                len(others),
                ids=str(others),
                id=case.id,
            )
        )
    if replay.created_at is not None and replay.created_at != case.created_at:
        diffs.append(
            Msg(
                _("filed {filed} but its trail says {trail}"),
                filed=_minute(case.created_at),
                trail=_minute(replay.created_at),
            )
        )
    if replay.filed_by_known and usernames.get(case.filed_by_user_id) != replay.filed_by:
        diffs.append(Msg(_("its filer (who holds the reporter's role) differs from its trail")))
    if replay.receipt is not None and replay.receipt != case.receipt_hash:
        diffs.append(Msg(_("its tracking-code digest differs from its trail (another code now opens it)")))
    if case.data_key is None and not replay.destroyed:
        diffs.append(
            Msg(_("its data key is gone without a destruction record in its trail (its content was destroyed)"))
        )
    if replay.state != case.state:
        diffs.append(
            Msg(_("state {state} but its trail ends in {trail}"), state=repr(case.state), trail=repr(replay.state))
        )
    if replay.version is not None and replay.version != case.version:
        diffs.append(Msg(_("version {version} but its trail says {trail}"), version=case.version, trail=replay.version))
    if replay.case_type is not None and replay.case_type != case.case_type:
        diffs.append(
            Msg(_("type {type} but its trail says {trail}"), type=repr(case.case_type), trail=repr(replay.case_type))
        )
    if replay.workflow_version is not None and replay.workflow_version != case.workflow_version:
        diffs.append(
            Msg(
                _("workflow version {version} but its trail says {trail}"),
                version=case.workflow_version,
                trail=replay.workflow_version,
            )
        )
    if replay.identity is not None and replay.identity != case.identity_mode:
        diffs.append(
            Msg(
                _("identity mode {mode} but its trail says {trail}"),
                mode=repr(case.identity_mode),
                trail=repr(replay.identity),
            )
        )
    if (case.data or {}) != replay.data:
        changed = sorted(
            k for k in {*(case.data or {}), *replay.data} if (case.data or {}).get(k) != replay.data.get(k)
        )
        diffs.append(Msg(_("plain fields differ from its trail ({fields})"), fields=", ".join(changed)))
    if set(case.sealed_fields or []) != replay.sealed_fields:
        diffs.append(Msg(_("the names of its sealed fields differ from its trail")))
    if replay.unit_known and replay.unit != case.unit_code:
        diffs.append(
            Msg(_("unit {unit} but its trail says {trail}"), unit=repr(case.unit_code), trail=repr(replay.unit))
        )
    if replay.assigned_known and usernames.get(case.assigned_user_id) != replay.assigned:
        diffs.append(Msg(_("its assigned officer differs from its trail")))
    if recused != set(replay.recused):
        diffs.append(Msg(_("its recusals differ from its trail")))
    loaded = workflows.get((case.case_type, case.workflow_version)) if workflows is not None else None
    if loaded is not None:
        defn = loaded.definition
        if replay.workflow_sha is not None and replay.workflow_sha != loaded.sha256:
            diffs.append(Msg(_("the stored text of its workflow version is not the one it was filed on (edited)")))
        if case.state in defn.states:
            st = defn.states[case.state]
            if bool(case.final) != st.final:
                marked = _("marked closed in state {state}") if case.final else _("marked open in state {state}")
                diffs.append(Msg(marked, state=repr(case.state)))
            if case.phase != st.phase:
                diffs.append(
                    Msg(
                        _("phase {phase} but state {state} is in {state_phase}"),
                        phase=repr(case.phase),
                        state=repr(case.state),
                        state_phase=repr(st.phase),
                    )
                )
        for ev_id, trigger, src, dest, role in replay.transitions:
            t = defn.transition(trigger, src) if trigger else None
            ok = t is not None and (dest == (src if t.internal else t.dest)) and (role in t.roles)
            if not ok:
                report(
                    "transition_not_allowed",
                    Msg(
                        _(
                            "case {number}: event id {event_id} ({trigger}: {source} → {target} as {role}) is not a "
                            "transition its workflow allows"
                        ),
                        number=n,
                        event_id=ev_id,
                        trigger=trigger,
                        source=src,
                        target=dest,
                        role=role,
                    ),
                    n,
                    ev_id,
                )
        finals = [(st, at) for st, at in replay.entered if st in defn.states and defn.states[st].final]
        if finals and case.closed_at != finals[0][1]:
            diffs.append(Msg(_("its closing time differs from when its trail closed it")))
    if case.final and case.closed_at is None:
        diffs.append(Msg(_("closed without a closing time")))
    if keyring is not None and case.data_key:
        try:
            key = keyring.case_key(case.data_key)
            have = {**(key.open(case.identity_enc) or {}), **(key.open(case.confidential_enc) or {})}
            want: dict = {}
            for blob in replay.sealed_blobs:
                want.update((key.open(blob) or {}).get("fields", {}))
            if have != want:
                diffs.append(Msg(_("its sealed values differ from what its trail sealed")))
        except CryptoError as exc:
            diffs.append(Msg(_("its sealed values cannot be checked ({reason})"), reason=exc.msg))
    if diffs:
        report(
            "case_row_mismatch",
            Msg(
                _("case {number}: the case row disagrees with its trail: {differences}"),
                number=n,
                differences=Joined(diffs, "; "),
            ),
            n,
        )


def _compare_children(case, replay: _Replay, clocks: list[Any], messages: list[Any], report) -> None:
    """The case's clock rows and message rows against its trail: a deadline moved, a breach erased, a
    message removed, swapped or rewritten is named."""
    n = case.number
    have = {c.name: c for c in clocks}
    for name in sorted(set(replay.clocks) - set(have)):
        report(
            "clock_mismatch",
            Msg(_("case {number}: clock {clock} is in its trail but its row is gone"), number=n, clock=name),
            n,
        )
    for name, row in sorted(have.items()):
        want = replay.clocks.get(name)
        if want is None:
            report(
                "clock_mismatch",
                Msg(_("case {number}: clock {clock} has no trace in its trail"), number=n, clock=name),
                n,
            )
            continue
        problems: list[Msg] = []
        if want.get("status") is not None and row.status != want["status"]:
            problems.append(
                Msg(
                    _("status {status} but its trail says {trail}"), status=repr(row.status), trail=repr(want["status"])
                )
            )
        due = row.due_date.isoformat() if row.due_date is not None else None
        if "due_date" in want and due != want["due_date"]:
            problems.append(Msg(_("due {due} but its trail says {trail}"), due=due, trail=want["due_date"]))
        if bool(row.breached_at) != bool(want.get("breached")):
            problems.append(Msg(_("a breach was added") if row.breached_at else _("a breach was erased")))
        if problems:
            report(
                "clock_mismatch",
                Msg(
                    _("case {number}: clock {clock}: {problems}"), number=n, clock=name, problems=Joined(problems, "; ")
                ),
                n,
            )
    rows = {m.id: m for m in messages}
    for mid in sorted(set(replay.messages) - set(rows), key=str):
        report(
            "message_mismatch",
            Msg(_("case {number}: message {message} is in its trail but its row is gone"), number=n, message=mid),
            n,
        )
    for mid, m in sorted(rows.items()):
        want = replay.messages.get(mid)
        if want is None:
            report(
                "message_mismatch",
                Msg(_("case {number}: message {message} has no event in its trail (added)"), number=n, message=mid),
                n,
            )
            continue
        to_reporter, author, digest, at = want
        body = hashlib.sha256((m.body_enc or "").encode()).hexdigest()
        if (bool(m.to_reporter), m.author, m.created_at) != (bool(to_reporter), author, at) or (
            digest is not None and digest != body
        ):
            report(
                "message_mismatch",
                Msg(_("case {number}: message {message} differs from what its trail recorded"), number=n, message=mid),
                n,
            )


# --- one case ---------------------------------------------------------------------------------------------


@dataclass
class CaseCheck:
    """What :func:`verify_case` found for one case: the banner of an auditor's case page."""

    number: str
    events: int = 0
    #: the newest signed checkpoint that seals this case's chain, and the event it seals
    checkpoint: int | None = None
    checkpoint_at: datetime | None = None
    sealed_seq: int = 0
    #: events after that seal (at most ``WBS_CHECKPOINT_MINUTES`` old, unless the scheduler is down)
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_case(
    session: Session,
    number: str,
    *,
    keyring: Keyring,
    workflows: dict[tuple[str, int], Any] | None = None,
    deep: bool = False,
) -> CaseCheck:
    """Check one case: its chain event by event, its head, the newest signed checkpoint that seals it (hash
    and signature), and its case row against the trail. The whole-trail checks (every checkpoint's links,
    case-number gaps, heads kept outside) are :func:`verify`'s."""
    res = CaseCheck(number)
    conn = session.connection()

    def report(code: str, message: Msg, chain: str | None = None, event_id: int | None = None) -> None:
        res.problems.append(Problem(code, message, chain or number, event_id))

    events = chain_events(session, number)
    res.events = len(events)
    for event_id, chain in _mistimed(conn, number):
        report("event_time_edited", _mistimed_message(event_id, chain), chain, event_id)
    replay = _Replay()
    prev, last_at = GENESIS, None
    for i, ev in enumerate(events, 1):
        label = _event_label(ev)
        if ev.seq != i:
            report(
                "event_missing",
                Msg(_("{event}: expected #{expected}; an event is missing or was renumbered"), event=label, expected=i),
                event_id=ev.id,
            )
            break
        if ev.prev_hash != prev:
            report(
                "event_unlinked", Msg(_("{event}: does not follow the event before it"), event=label), event_id=ev.id
            )
            break
        if ev.broken:
            report("event_unreadable", _unreadable(label, ev.broken), event_id=ev.id)
            break
        try:
            same = event_hash(ev) == ev.hash
        except CanonicalError:
            same = False
        if not same:
            report("event_edited", _edited(label), event_id=ev.id)
            break
        if last_at is not None and ev.occurred_at < last_at:
            report(
                "time_backwards",
                Msg(_("{event}: its time is before the previous event's"), event=label),
                event_id=ev.id,
            )
        replay.apply(ev)
        prev, last_at = ev.hash, ev.occurred_at
    head = conn.execute(_HEAD, {"chain": number}).first()
    last = events[-1] if events else None
    if head is None or last is None or (head.seq, head.hash) != (last.seq, last.hash):
        report("chain_truncated", Msg(_("chain {chain}: its head does not match its last event"), chain=number))
    # the newest checkpoint that names this chain (a text search over the JSON, newest first)
    needle = json.dumps(number)
    rows = conn.execute(
        sa.select(_checkpoints)
        .where(sa.cast(_checkpoints.c.heads, sa.Text).contains(needle))
        .order_by(_checkpoints.c.seq.desc())
        .limit(1)
    ).first()
    if rows is not None:
        cp = AuditCheckpoint(**rows._mapping)
        res.checkpoint, res.checkpoint_at = cp.seq, cp.created_at
        pair = (cp.heads or {}).get(number)
        try:
            ok_hash = checkpoint_hash(cp) == cp.hash
        except CanonicalError:
            ok_hash = False
        signed = (
            ok_hash
            and cp.key_id == keyring.key_id
            and verify_signature(keyring.public_key, signed_message(cp.hash), cp.signature)
        )
        if not signed:
            report(
                "checkpoint_signature",
                Msg(_("checkpoint #{checkpoint}: its hash or signature does not verify"), checkpoint=cp.seq),
            )
        elif pair is None or not (1 <= int(pair[0]) <= len(events)) or events[int(pair[0]) - 1].hash != pair[1]:
            report(
                "sealed_event_changed",
                Msg(_("checkpoint #{checkpoint} sealed another version of this chain"), checkpoint=cp.seq),
            )
        else:
            res.sealed_seq = int(pair[0])
    res.unsealed = max(0, res.events - res.sealed_seq)
    case = conn.execute(sa.select(_cases).where(_cases.c.number == number)).first()
    if case is None:
        report("case_row_missing", Msg(_("case {number}: its case row is gone"), number=number))
    elif not res.problems:
        users = User.__table__
        usernames = dict(conn.execute(sa.select(users.c.id, users.c.username)).all())
        recused = {
            usernames.get(u, f"#{u}")
            for (u,) in conn.execute(sa.select(_recusals.c.user_id).where(_recusals.c.case_id == case.id))
        }
        _compare_case(case, replay, usernames, recused, workflows, keyring if deep else None, report)
        clock_rows = conn.execute(sa.select(_clock_rows).where(_clock_rows.c.case_id == case.id)).all()
        message_rows = conn.execute(sa.select(_messages).where(_messages.c.case_id == case.id)).all()
        _compare_children(case, replay, clock_rows, message_rows, report)
        rating_rows = conn.execute(sa.select(_ratings).where(_ratings.c.case_id == case.id)).all()
        _compare_ratings(case, replay, rating_rows, workflows, report)
    return res
