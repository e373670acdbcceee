"""Filing with many active conflict-of-interest declarations, on SQLite (NORMAL).

Every filing checks the new case against every active declaration (``interests.on_case_filed``), and a
declaration stays active once decided with a conflict, so an office gathers them year after year. The figure is
the CPU time of one ``create_case`` (a complaint naming none of the declared names) with ``--declarations`` active
declarations from as many employees, against the same with none, in the same run. No target was set; before the
declarations' names were remembered and pre-filtered (issue 13), 200 declarations cost ~190 ms per filing
against ~1.2 ms with none.

    .venv/bin/python benchmarks/bench_interests.py [--declarations 200] [--filings 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_engine import COMPLAINT  # noqa: E402

from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.provision import init_database  # noqa: E402
from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant  # noqa: E402

DECLARATION = {
    "jalur": "deklarasi_mandiri",
    "jenis": "potensial",
    "sumber": "keuangan",
    "nama_pejabat": "Pegawai",
    "kegiatan": "Pengadaan alat tulis kantor",
    "uraian": "Saudara kandung saya adalah direktur salah satu penyedia yang ikut pengadaan ini.",
}


def office(tmp: Path, declarations: int) -> WbsEngine:
    t = [datetime(2026, 3, 2, 2, 0, tzinfo=UTC)]

    def clock():
        t[0] += timedelta(seconds=1)
        return t[0]

    s = Settings(instance_dir=tmp, database_url=f"sqlite:///{tmp / 'wbs.sqlite3'}", sqlite_synchronous="NORMAL")
    init_database(s)
    eng = WbsEngine(s, clock=clock)
    ensure_unit(eng, "PUSAT", "Pusat")
    for i in range(declarations):
        create_or_update_user(eng, f"peg{i}", [parse_grant("pegawai"), parse_grant("pengelola")])
        eng.create_case(
            "benturan_kepentingan",
            {**DECLARATION, "pihak_terkait": f"PT Rekanan Nomor{i}, Saudara Ke{i}"},
            identity_mode="terbuka",
            filed_by=eng.load_actor(f"peg{i}"),
        )
    return eng


def cpu_per_filing(eng: WbsEngine, filings: int) -> float:
    for _ in range(3):  # warm-up
        eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    times = []
    for _ in range(filings):
        start = time.process_time()
        eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=200, help="active declarations (one employee each)")
    ap.add_argument("--filings", type=int, default=40, help="timed filings of each office (median)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wbs-bench-interests-") as a, tempfile.TemporaryDirectory() as b:
        none = office(Path(a), 0)
        many = office(Path(b), args.declarations)
        base = cpu_per_filing(none, args.filings)
        loaded = cpu_per_filing(many, args.filings)
        none.db.dispose()
        many.db.dispose()
    print(
        f"CPU per filing, median of {args.filings}: no declaration {base * 1000:.2f} ms; "
        f"{args.declarations:,} active declarations {loaded * 1000:.2f} ms; ratio {loaded / base:.1f}"
    )


if __name__ == "__main__":
    main()
