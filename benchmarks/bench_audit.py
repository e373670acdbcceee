"""Audit verification throughput (``verify-audit``: the whole trail, checkpoints and case rows) against raw
``hashlib`` SHA-256 over the same bytes, on SQLite. Target (issue 13): ratio >= 0.5.

The trail is made through the engine: ``--cases`` complaints, each driven through 3 fires, then one signed
checkpoint. The figure is verified bytes per second: the sum of every event's canonical bytes (what its
hash covers) divided by the time of ``audit.verify`` as ``wbs verify-audit`` calls it (same transaction,
keyring, workflows). The baselines, timed in the same run over the same bytes:

- raw: ``hashlib.sha256(b).hexdigest()`` for each event's bytes, already in memory (the issue's baseline);
- chain: the least a chain check must do, read each event row with bare ``sqlite3``, rebuild its canonical
  bytes (``audit.canonical``) and compare the hash; shown to say where the time goes.

    .venv/bin/python benchmarks/bench_audit.py [--cases 300] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_engine import COMPLAINT, PATH  # noqa: E402

from wbs_engine import audit  # noqa: E402
from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.db import unit_of_work  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.provision import init_database  # noqa: E402
from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant  # noqa: E402


def build(tmp: Path, cases: int) -> tuple[WbsEngine, Path]:
    t = [datetime(2026, 3, 2, 2, 0, tzinfo=UTC)]

    def clock():
        t[0] += timedelta(seconds=1)
        return t[0]

    path = tmp / "audit.sqlite3"
    s = Settings(instance_dir=tmp, database_url=f"sqlite:///{path}", sqlite_synchronous="NORMAL")
    init_database(s)
    eng = WbsEngine(s, clock=clock)
    ensure_unit(eng, "PUSAT", "Pusat")
    create_or_update_user(eng, "pengelola", [parse_grant("pengelola")], password="benchmark-pass-1")
    actor = eng.load_actor("pengelola")
    for _ in range(cases):
        number = eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia").number
        for trigger, _who, data in PATH:
            eng.fire(number, trigger, actor, data)
    with unit_of_work(eng.db) as session:
        audit.checkpoint(session, eng.now(), eng.keyring)
    return eng, path


def event_bytes(path: Path) -> list[tuple[bytes, str]]:
    """Every event's canonical bytes and stored hash, read with bare sqlite3 (not timed)."""
    out = []
    for row in _rows(path):
        out.append((audit.canonical(_body(row)), row["hash"]))
    return out


def _rows(path: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT * FROM case_event ORDER BY id").fetchall()
    db.close()
    return rows


def _body(row: sqlite3.Row) -> dict:
    return {
        "case_id": row["case_id"],
        "chain": row["chain"],
        "seq": row["seq"],
        "kind": row["kind"],
        "trigger": row["trigger"],
        "from": row["from_state"],
        "to": row["to_state"],
        "actor": row["actor"],
        "role": row["actor_role"],
        "at": datetime.fromisoformat(row["occurred_at"]).replace(tzinfo=UTC),
        "payload": json.loads(row["payload"]) if row["payload"] else {},
        "prev": row["prev_hash"],
    }


def time_verify(eng: WbsEngine) -> tuple[float, int]:
    start = time.perf_counter()
    with unit_of_work(eng.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in eng.registry.versions(s)}
        res = audit.verify(s, keyring=eng.keyring, workflows=workflows, now=eng.now())
    took = time.perf_counter() - start
    assert res.ok, [p.code for p in res.problems]
    return took, res.events


def time_raw(data: list[tuple[bytes, str]]) -> float:
    sha = hashlib.sha256
    start = time.perf_counter()
    for b, h in data:
        if sha(b).hexdigest() != h:
            raise AssertionError("hash mismatch")
    return time.perf_counter() - start


def time_chain(path: Path) -> float:
    start = time.perf_counter()
    for row in _rows(path):
        if hashlib.sha256(audit.canonical(_body(row))).hexdigest() != row["hash"]:
            raise AssertionError("hash mismatch")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300, help="cases in the trail (4 events each, and the set-up's own)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each (median)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wbs-bench-audit-") as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        eng, path = build(tmp, args.cases)
        built = time.perf_counter() - t0
        data = event_bytes(path)
        total = sum(len(b) for b, _ in data)
        time_verify(eng)  # warm-up: workflow loading, statement caches
        verify_s, raw_s, chain_s = [], [], []
        for _ in range(args.runs):  # taking turns, so load on the shared machine falls on all three
            took, events = time_verify(eng)
            verify_s.append(took)
            raw_s.append(time_raw(data))
            chain_s.append(time_chain(path))
        eng.db.dispose()
    assert events == len(data)
    v, r, c = (statistics.median(x) for x in (verify_s, raw_s, chain_s))
    print(
        f"trail: {events:,} events of {args.cases:,} cases, {total:,} canonical bytes ({total / events:.0f} per "
        f"event); built in {built:.1f} s; median of {args.runs} runs"
    )
    print(f"{'':<34} {'events/s':>12} {'MB/s':>9} {'ratio':>8}")
    for name, secs in (("verify-audit (audit.verify)", v), ("chain only (sqlite3 + canonical)", c),
                       ("raw hashlib SHA-256", r)):
        print(f"{name:<34} {events / secs:>12,.0f} {total / secs / 1e6:>9.2f} {r / secs:>8.4f}")
    ratio = r / v
    verdict = "met" if ratio >= 0.5 else f"NOT met (missed by {0.5 / ratio:,.0f}x)"
    print(f"ratio verify / raw hashlib = {ratio:.4f}; target >= 0.5: {verdict}")
    print(f"ratio verify / chain only  = {c / v:.3f}")


if __name__ == "__main__":
    main()
