"""Time of one SLA sweep over K due clocks, among a small and a large number of open cases (SQLite file).

The sweep must find due clocks through the ``case_clock.next_action_at`` index, so its time should follow
the number of *due* clocks, not the number of open cases. Target: ratio (large / small) <= 2.

The open cases are bulk-inserted with plain sqlite3 executemany (creating 1,000,000 cases through the engine
would take hours): every case has one running ``verifikasi`` clock whose next action is far in the future,
except K cases whose ``remind:1`` is due now. Then ``sweep(engine)`` runs at a fixed time (no outbox delivery).

    .venv/bin/python benchmarks/bench_sweep.py [--due 1000] [--small 10000] [--big 1000000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.db import unit_of_work  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.provision import init_database  # noqa: E402
from wbs_engine.scheduler import _due_query, sweep  # noqa: E402
from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant  # noqa: E402

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wed 4 Mar 2026 09:00 WIB
CHUNK = 50_000


def _ts(dt: datetime) -> str:
    """How SQLAlchemy's SQLite DateTime stores a (UTC, naive) datetime."""
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(tmp: Path, total: int, due: int) -> tuple[WbsEngine, float]:
    t0 = time.perf_counter()
    path = tmp / f"sweep_{total}.sqlite3"
    s = Settings(instance_dir=tmp, database_url=f"sqlite:///{path}")
    init_database(s)
    eng = WbsEngine(s, clock=lambda: NOW)
    ensure_unit(eng, "PUSAT", "Pusat")
    create_or_update_user(
        eng, "pengelola", [parse_grant("pengelola")], email="pengelola@kantor.test", password="rahasia-demo-123"
    )
    create_or_update_user(
        eng, "atasan", [parse_grant("atasan")], email="atasan@kantor.test", password="rahasia-demo-123"
    )
    with unit_of_work(eng.db) as ses:
        eng.registry.ensure_registered(ses, eng.registry.latest("pengaduan"), NOW)
        cal = eng.calendar(ses)
    defn = eng.registry.latest("pengaduan").definition
    eng.db.dispose()

    started = NOW - timedelta(days=2)
    due_day = date(2026, 3, 5)
    due_at = cal.day_end_utc(due_day)
    remind_at = cal.day_start_utc(cal.subtract_working_days(due_day, 1))
    assert remind_at <= NOW, remind_at
    far_day = date(2031, 1, 2)
    far_at = cal.day_end_utc(far_day)
    v = defn.version

    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    case_sql = (
        "INSERT INTO case_file (id, number, case_type, workflow_version, state, phase, final, unit_code, "
        "identity_mode, data, created_at, updated_at, version) "
        "VALUES (?, ?, 'pengaduan', ?, 'diterima', 'intake', 0, 'PUSAT', 'anonim', ?, ?, ?, 1)"
    )
    clock_sql = (
        "INSERT INTO case_clock (id, case_id, name, status, limit_days, limit_unit, counted_from, "
        "started_at, due_date, due_at, extensions, reminders_done, next_action, next_action_at) "
        "VALUES (?, ?, 'verifikasi', 'running', 3, 'working', ?, ?, ?, ?, 0, '[]', ?, ?)"
    )
    data = json.dumps({"layanan": "Layanan uji", "kategori": "normatif"})
    st = _ts(started)
    # the K due cases are spread evenly through the table (not all at its end)
    step = max(total // due, 1)
    for lo in range(1, total + 1, CHUNK):
        hi = min(lo + CHUNK, total + 1)
        cases, clocks_ = [], []
        for i in range(lo, hi):
            cases.append((i, f"PGD-2026-{i:07d}", v, data, st, st))
            is_due = (i - 1) % step == 0 and (i - 1) // step < due
            if is_due:
                clocks_.append((i, i, "2026-03-02", st, due_day.isoformat(), _ts(due_at), "remind:1", _ts(remind_at)))
            else:
                clocks_.append((i, i, "2026-03-02", st, far_day.isoformat(), _ts(far_at), "breach", _ts(far_at)))
        con.executemany(case_sql, cases)
        con.executemany(clock_sql, clocks_)
        con.commit()
    con.execute("INSERT OR REPLACE INTO case_counter (key, last) VALUES ('PGD-2026', ?)", (total,))
    con.commit()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a fresh database, not a 1 GB write-ahead log
    con.close()
    return eng, time.perf_counter() - t0


def plan(eng: WbsEngine) -> str:
    stmt = _due_query(NOW, set(), 500)
    sql = str(stmt.compile(eng.db, compile_kwargs={"literal_binds": True}))
    with eng.db.connect() as c:
        return "; ".join(r[-1] for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def run(tmp: Path, total: int, due: int) -> dict:
    eng, built = build(tmp, total, due)
    t0 = time.perf_counter()
    eng = eng.with_clock(lambda: NOW)
    rep = sweep(eng)
    took = time.perf_counter() - t0
    assert rep.reminders == due and not rep.errors, (rep.reminders, rep.errors[:3])
    again = sweep(eng)
    assert again.done == 0
    p = plan(eng)
    eng.db.dispose()
    return {"cases": total, "due": due, "build_s": built, "sweep_s": took, "per_clock_ms": took / due * 1000, "plan": p}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--due", type=int, default=1000, help="K: due clocks (default 1000)")
    ap.add_argument("--small", type=int, default=10_000, help="open cases in the small database")
    ap.add_argument("--big", type=int, default=1_000_000, help="open cases in the large database")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wbs-bench-sweep-") as d:
        tmp = Path(d)
        results = [run(tmp, args.small, args.due), run(tmp, args.big, args.due)]
    print()
    print(f"{'open cases':>12} {'due clocks':>11} {'build (s)':>10} {'sweep (s)':>10} {'ms / clock':>11}")
    for r in results:
        print(
            f"{r['cases']:>12,} {r['due']:>11,} {r['build_s']:>10.1f} {r['sweep_s']:>10.2f} {r['per_clock_ms']:>11.2f}"
        )
    ratio = results[1]["sweep_s"] / results[0]["sweep_s"]
    print(f"\nratio sweep(large) / sweep(small) = {ratio:.2f}  (target <= 2: {'OK' if ratio <= 2 else 'MISSED'})")
    print(f"due-clock query plan: {results[1]['plan']}")


if __name__ == "__main__":
    main()
