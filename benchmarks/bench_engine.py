"""Persisted fires per second on SQLite, against bare sqlite3 inserts of the same rows.

Each engine fire is one full transaction: version check, role/field checks, the transitions Machine,
the case update, a hash-chained audit event, clock changes and outbox rows, committed with WAL and
synchronous=NORMAL. The baseline writes the same rows (case update + audit event) with plain sqlite3 in
one transaction per fire, no checks. Target (issue 3): ratio >= 0.25.

    .venv/bin/python benchmarks/bench_engine.py [--cases 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.crypto import Vault  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.migrate import upgrade  # noqa: E402
from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant  # noqa: E402

COMPLAINT = {"nama": "Siti", "layanan": "Legalisir", "kategori": "normatif",
             "uraian": "Petugas meminta uang tambahan di luar tarif resmi saat legalisir ijazah."}
# a path of 5 fires per case
PATH = [("mulai_verifikasi", "pengelola", {}),
        ("minta_informasi", "pengelola", {"pesan": "Mohon sebutkan jam kejadian."}),
        ("tutup_tanpa_jawaban", "pengelola", {})]


def bench_engine(tmp: Path, cases: int) -> tuple[int, float]:
    t = [datetime(2026, 3, 2, 2, 0, tzinfo=UTC)]

    def clock():
        t[0] += timedelta(seconds=1)
        return t[0]

    s = Settings(instance_dir=tmp, database_url=f"sqlite:///{tmp / 'engine.sqlite3'}", encryption_key=Vault.generate_key())
    eng = WbsEngine(s, clock=clock)
    upgrade(eng.db)
    ensure_unit(eng, "PUSAT", "Pusat")
    create_or_update_user(eng, "pengelola", [parse_grant("pengelola")], password="benchmark-pass-1")
    actor = eng.load_actor("pengelola")
    numbers = [eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia").number for _ in range(cases)]
    fires = 0
    start = time.perf_counter()
    for n in numbers:
        for trigger, _who, data in PATH:
            eng.fire(n, trigger, actor, data)
            fires += 1
    return fires, time.perf_counter() - start


def bench_sqlite3(tmp: Path, fires: int) -> float:
    db = sqlite3.connect(tmp / "bare.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE case_file (id INTEGER PRIMARY KEY, number TEXT UNIQUE, state TEXT, version INT,"
               " updated_at TEXT)")
    db.execute("CREATE TABLE case_event (id INTEGER PRIMARY KEY, chain TEXT, seq INT, kind TEXT, trigger TEXT,"
               " from_state TEXT, to_state TEXT, actor TEXT, occurred_at TEXT, payload TEXT, prev_hash TEXT,"
               " hash TEXT, UNIQUE(chain, seq))")
    cases = fires // len(PATH)
    db.execute("BEGIN")
    for i in range(cases):
        db.execute("INSERT INTO case_file (number, state, version, updated_at) VALUES (?, 'diterima', 1, '')",
                   (f"PGD-2026-{i:06d}",))
    db.execute("COMMIT")
    start = time.perf_counter()
    prev = "0" * 64
    for i in range(cases):
        number = f"PGD-2026-{i:06d}"
        for seq, (trigger, who, data) in enumerate(PATH, start=1):
            payload = json.dumps({"data": data})
            h = hashlib.sha256((number + trigger + payload + prev).encode()).hexdigest()
            db.execute("BEGIN")
            db.execute("UPDATE case_file SET state = ?, version = version + 1, updated_at = ? WHERE number = ?",
                       (trigger, "2026-03-02T02:00:00", number))
            db.execute("INSERT INTO case_event (chain, seq, kind, trigger, from_state, to_state, actor, occurred_at,"
                       " payload, prev_hash, hash) VALUES (?, ?, 'transition', ?, 'a', 'b', ?, ?, ?, ?, ?)",
                       (number, seq, trigger, who, "2026-03-02T02:00:00", payload, prev, h))
            db.execute("COMMIT")
            prev = h
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200, help="cases to drive through 3 fires each")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fires, secs = bench_engine(tmp, args.cases)
        bare = bench_sqlite3(tmp, fires)
    eng_rate, bare_rate = fires / secs, fires / bare
    print(f"engine fires (SQLite, persisted, one transaction each): {fires} in {secs:.2f} s = {eng_rate:,.0f}/s")
    print(f"bare sqlite3 (same rows, one transaction each):        {fires} in {bare:.2f} s = {bare_rate:,.0f}/s")
    ratio = eng_rate / bare_rate
    print(f"ratio engine/bare = {ratio:.3f}  (target >= 0.25: {'met' if ratio >= 0.25 else 'NOT met'})")


if __name__ == "__main__":
    main()
