"""The append-only, hash-chained audit trail.

Each event stores the hash of the previous event of its chain (a case number, or ``system`` for staff
log-ins and exports) and its own SHA-256 over a canonical JSON form of everything it says. The head of
each chain is kept in ``audit_head``; checkpoints seal moved heads and are chained themselves. So editing,
deleting, inserting or reordering any row is found by :func:`verify`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from .errors import ConcurrentChange
from .models import AuditCheckpoint, AuditHead, CaseEvent

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, times as UTC ISO strings: the form every hash is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


def event_hash(ev: Any) -> str:
    """SHA-256 over the canonical JSON of what an event says (a ``CaseEvent`` row or the values appended)."""
    body = {
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
    return hashlib.sha256(canonical(body)).hexdigest()


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
    the head, plus the unique (chain, seq)); case chains are already serialised by the case's version.
    """
    conn = session.connection()
    head = conn.execute(_HEAD_FOR_UPDATE if conn.dialect.name == "postgresql" else _HEAD, {"chain": chain}).first()
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
    conn.execute(_INSERT_EVENT, values)
    if head is None:
        conn.execute(_INSERT_HEAD, {"chain": chain, "seq": seq, "hash": ev.hash, "sealed_seq": 0})
    elif conn.execute(_MOVE_HEAD, {"b_chain": chain, "b_seq": head.seq, "seq": seq, "hash": ev.hash}).rowcount != 1:
        raise ConcurrentChange(chain)
    return ev


_heads = AuditHead.__table__
_events = CaseEvent.__table__
_HEAD = sa.select(_heads.c.seq, _heads.c.hash).where(_heads.c.chain == sa.bindparam("chain"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_INSERT_EVENT = sa.insert(_events)
_INSERT_HEAD = sa.insert(_heads)
_MOVE_HEAD = (
    sa.update(_heads)
    .where(_heads.c.chain == sa.bindparam("b_chain"), _heads.c.seq == sa.bindparam("b_seq"))
    .values(seq=sa.bindparam("seq"), hash=sa.bindparam("hash"))
)


def checkpoint(session: Session, now: datetime) -> AuditCheckpoint | None:
    """Seal the chain heads that moved since the last checkpoint; None when nothing moved."""
    moved = session.exec(select(AuditHead).where(AuditHead.seq > AuditHead.sealed_seq)).all()
    if not moved:
        return None
    last = session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    heads = {h.chain: [h.seq, h.hash] for h in moved}
    cp = AuditCheckpoint(created_at=now, heads=heads, prev_hash=last.hash if last else GENESIS, hash="")
    cp.hash = checkpoint_hash(cp)
    session.add(cp)
    for h in moved:
        session.execute(
            sa.update(AuditHead)
            .where(AuditHead.chain == h.chain)
            .values(sealed_seq=h.seq)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return cp


def checkpoint_hash(cp: AuditCheckpoint) -> str:
    return hashlib.sha256(canonical({"at": cp.created_at, "heads": cp.heads, "prev": cp.prev_hash})).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    events: int
    chains: int
    checkpoints: int
    problem: str | None = None
    event_id: int | None = None


def _events(session: Session, batch: int = 5000) -> Iterator[CaseEvent]:
    """All events in (chain, seq) order, streamed in keyset pages."""
    last: tuple[str, int] = ("", 0)
    while True:
        rows = session.exec(
            select(CaseEvent)
            .where(sa.tuple_(CaseEvent.chain, CaseEvent.seq) > sa.tuple_(*last))
            .order_by(CaseEvent.chain, CaseEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = (rows[-1].chain, rows[-1].seq)
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Check every chain, every head and every checkpoint; stop at the first problem."""
    heads = {h.chain: (h.seq, h.hash) for h in session.exec(select(AuditHead)).all()}
    seen_heads: dict[str, tuple[int, str]] = {}
    count = 0
    chain: str | None = None
    prev_hash = GENESIS
    expect_seq = 1

    def fail(msg: str, ev: CaseEvent | None = None) -> VerifyResult:
        return VerifyResult(False, count, len(seen_heads), 0, msg, ev.id if ev else None)

    for ev in _events(session):
        if ev.chain != chain:
            chain, prev_hash, expect_seq = ev.chain, GENESIS, 1
        label = f"event id {ev.id} ({ev.chain} #{ev.seq}, {ev.kind})"
        if ev.seq != expect_seq:
            return fail(f"{label}: expected #{expect_seq} of {ev.chain}; an event is missing or was renumbered", ev)
        if ev.prev_hash != prev_hash:
            return fail(
                f"{label}: does not follow the event before it (an event was removed, inserted or reordered)", ev
            )
        if event_hash(ev) != ev.hash:
            return fail(f"{label}: its content does not match its hash (the row was edited)", ev)
        prev_hash, expect_seq = ev.hash, expect_seq + 1
        seen_heads[ev.chain] = (ev.seq, ev.hash)
        count += 1
    for ch, (seq, h) in heads.items():
        got = seen_heads.get(ch)
        if got is None:
            return fail(f"chain {ch}: its head says {seq} events but none are left (events deleted)")
        if got != (seq, h):
            return fail(
                f"chain {ch}: the last event is #{got[0]} but the head records #{seq} "
                "(events deleted from the end, or the head was edited)"
            )
    for ch in seen_heads:
        if ch not in heads:
            return fail(f"chain {ch}: events without a head (the head row was deleted)")
    # checkpoints: chained, and every head they sealed still exists with the same hash
    prev = GENESIS
    cps = 0
    for cp in session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all():
        if cp.prev_hash != prev or checkpoint_hash(cp) != cp.hash:
            return fail(f"checkpoint {cp.id} of {cp.created_at:%Y-%m-%d %H:%M}: altered or out of order")
        for ch, (seq, h) in cp.heads.items():
            ev = session.exec(select(CaseEvent).where(CaseEvent.chain == ch, CaseEvent.seq == seq)).first()
            if ev is None or ev.hash != h:
                return fail(
                    f"checkpoint {cp.id} sealed {ch} #{seq}, which is gone or changed "
                    "(a whole case's trail was deleted or rewritten)"
                )
        prev = cp.hash
        cps += 1
    return VerifyResult(True, count, len(seen_heads), cps)
