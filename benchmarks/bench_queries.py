"""Latency of the queue queries (``wbs_engine.queries``) among 10,000 and 1,000,000 cases, on SQLite and on
PostgreSQL: p95 of each query at both sizes and the ratio p95(1M) / p95(10k). Target: ratio <= 2, i.e. the
cost of a page, a count or a search follows what it returns, not the size of the database.

The databases are built by the script itself, with raw inserts (SQLite: ``sqlite3.executemany``;
PostgreSQL: ``COPY``) into the schema the migrations create: 75 % open cases spread over every open state of
the five workflows and ten units, a quarter closed; half assigned to one of 53 users; nearest due dates from
30 days ago to 60 days ahead (10 % without one, so due soon ≈ 3 %, overdue ≈ 30 %); plain data and search
terms (``wbs_engine.search``, the write path's own rules); a few recusals. No clock rows and no audit trail:
the queues read neither. PostgreSQL runs as a private server in a temporary directory (as the tests start
it: as the ``postgres`` user when run as root), analysed after the load as autovacuum would; SQLite is not
analysed (nothing in the product runs ANALYZE, so the plans must not depend on statistics).

Each query is timed end to end as the web layer will call it (``queries.page`` / ``queries.counts``: a read
transaction, the workflow versions, the statement), ``--runs`` times after a warm-up. Measured for three
actors: ``pengelola`` (every unit and type: a broad queue), ``petugas`` (one unit: a narrow one) and
``atasan``.

    .venv/bin/python benchmarks/bench_queries.py [--small 10000] [--big 1000000] [--runs 40]
        [--db sqlite,postgres] [--cache DIR]

``--cache DIR`` keeps the built databases (and the PostgreSQL data directory) in DIR for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import shlex
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from wbs_engine import queries, search  # noqa: E402
from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.db import unit_of_work  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.models import RoleGrant, Unit, User  # noqa: E402
from wbs_engine.provision import init_database  # noqa: E402

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wed 4 Mar 2026 09:00 WIB
BUILD = "bench-queries/5"  # bump when the generated data changes (invalidates --cache)
UNITS = ["PUSAT", "LAYANAN", "UMUM", "KEUANGAN", "SDM", "HUKUM", "TI", "PERENCANAAN", "HUMAS", "ARSIP"]
STAFF = [f"staf{i:02d}" for i in range(1, 51)]
ACTORS = {"pengelola": "pengelola", "petugas": "unit:LAYANAN", "atasan": "atasan"}
TYPE_WEIGHTS = {"pengaduan": 40, "wbs": 20, "gratifikasi": 20, "benturan_kepentingan": 10, "identifikasi_bk": 10}
KATEGORI = ["ringan", "normatif", "tidak_berkadar_pengawasan", "berkadar_pengawasan"]
ACTOR_RECUSALS = 20  # per actor, at every size: a person's recusals do not grow with the database
CHUNK = 50_000


# --- data ----------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the generator needs from the workflows and the database it fills."""

    states: dict[str, list[tuple[str, str, bool]]]  # type → [(state, phase, final)]
    versions: dict[str, int]
    prefixes: dict[str, str]
    identity: dict[str, list[str]]
    user_ids: list[int]
    actor_ids: dict[str, int]


def generate(n: int, plan: Plan, day_end) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Rows of case_file (as tuples), case_term and case_recusal, deterministic for ``n``."""
    rng = random.Random(n)
    types = list(TYPE_WEIGHTS)
    weights = [TYPE_WEIGHTS[t] for t in types]
    counters = dict.fromkeys(types, 0)
    cases, terms, recusals = [], [], []
    created = NOW - timedelta(days=120)
    today = NOW.date()
    for i in range(1, n + 1):
        t = rng.choices(types, weights)[0]
        counters[t] += 1
        number = f"{plan.prefixes[t]}-2026-{counters[t]:06d}"
        final = rng.random() < 0.25
        pool = [s for s in plan.states[t] if s[2] == final]
        state, phase, _ = rng.choice(pool)
        unit = rng.choice(UNITS)
        assigned = rng.choice(plan.user_ids) if rng.random() < 0.5 else None
        due = None
        if not final and rng.random() < 0.9:
            due = day_end(today + timedelta(days=rng.randint(-30, 60)))
        data = {"kategori": rng.choice(KATEGORI)}
        if rng.random() < 0.1:
            data["nomor_surat"] = f"ND-{i:07d}/WBS/2026"
        cases.append(
            (
                i,
                number,
                t,
                plan.versions[t],
                state,
                phase,
                final,
                unit,
                assigned,
                rng.choice(plan.identity[t]),
                json.dumps(data),
                "[]",
                created,
                created,
                created if final else None,
                1,
                due,
            )
        )
        terms.extend((r["case_id"], r["term"]) for r in search.rows(i, number, data))
        if rng.random() < 0.001:
            recusals.append((i, rng.choice(plan.user_ids), created))
    # each actor is recused from a fixed number of open cases, whatever the size
    open_ids = [c[0] for c in cases if not c[6]]
    for actor_id in plan.actor_ids.values():
        for case_id in random.Random(actor_id).sample(open_ids, ACTOR_RECUSALS):
            recusals.append((case_id, actor_id, created))
    seen, unique = set(), []
    for r in recusals:
        if (r[0], r[1]) not in seen:
            seen.add((r[0], r[1]))
            unique.append(r)
    return cases, terms, unique


CASE_COLUMNS = (
    "id, number, case_type, workflow_version, state, phase, final, unit_code, assigned_user_id, identity_mode, "
    "data, sealed_fields, created_at, updated_at, closed_at, version, next_due_at"
)


def _ts(dt: datetime | None) -> str | None:
    """How the UTCDateTime column stores a datetime on SQLite."""
    return None if dt is None else dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- building ------------------------------------------------------------------------------------


def prepare(url: str, instance: Path) -> tuple[WbsEngine, Plan]:
    """Migrated schema, keyring, units, users with grants, workflow versions registered."""
    settings = Settings(instance_dir=instance, database_url=url)
    init_database(settings, now=NOW)
    eng = WbsEngine(settings, clock=lambda: NOW)
    with unit_of_work(eng.db) as s:
        for code in UNITS:
            s.add(Unit(code=code, name=f"Unit {code}"))
        ids = []
        for name in [*STAFF, *ACTORS]:
            u = User(username=name, full_name=name, email=f"{name}@kantor.test", created_at=NOW)
            s.add(u)
            s.flush()
            ids.append(u.id)
            grant = ACTORS.get(name, "pegawai").split(":")
            s.add(RoleGrant(user_id=u.id, role=grant[0], unit_code=grant[1] if len(grant) > 1 else None))
        actor_ids = dict(zip(ACTORS, ids[len(STAFF) :], strict=True))
        for key in eng.registry.keys:
            eng.registry.ensure_registered(s, eng.registry.latest(key), NOW)
    defs = {k: eng.registry.latest(k).definition for k in eng.registry.keys}
    plan = Plan(
        states={k: [(n, st.phase, st.final) for n, st in d.states.items()] for k, d in defs.items()},
        versions={k: d.version for k, d in defs.items()},
        prefixes={k: d.number_prefix for k, d in defs.items()},
        identity={k: list(d.identity) for k, d in defs.items()},
        user_ids=ids,
        actor_ids=actor_ids,
    )
    return eng, plan


def build_sqlite(path: Path, instance: Path, n: int) -> tuple[WbsEngine, float]:
    t0 = time.perf_counter()
    eng, plan = prepare(f"sqlite:///{path}", instance)
    cal = _calendar(eng)
    eng.db.dispose()
    cases, terms, recusals = generate(n, plan, cal.day_end_utc)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    marks = ", ".join("?" * len(CASE_COLUMNS.split(",")))
    # the secondary indexes are built once, after the load (sorted), rather than row by row
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('case_file', 'case_term') "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f"DROP INDEX {name}")
    for lo in range(0, len(cases), CHUNK):
        rows = [
            (*c[:6], int(c[6]), *c[7:12], _ts(c[12]), _ts(c[13]), _ts(c[14]), c[15], _ts(c[16]))
            for c in cases[lo : lo + CHUNK]
        ]
        con.executemany(f"INSERT INTO case_file ({CASE_COLUMNS}) VALUES ({marks})", rows)
        con.commit()
    for lo in range(0, len(terms), CHUNK * 4):
        con.executemany("INSERT INTO case_term (case_id, term) VALUES (?, ?)", terms[lo : lo + CHUNK * 4])
        con.commit()
    for _, sql in indexes:
        con.execute(sql)
    con.executemany(
        "INSERT INTO case_recusal (case_id, user_id, created_at) VALUES (?, ?, ?)",
        [(c, u, _ts(at)) for c, u, at in recusals],
    )
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a fresh database, not a 1 GB write-ahead log
    con.close()
    return eng, time.perf_counter() - t0


def build_postgres(url: str, conninfo: str, instance: Path, n: int) -> tuple[WbsEngine, float]:
    import psycopg

    t0 = time.perf_counter()
    eng, plan = prepare(url, instance)
    cal = _calendar(eng)
    eng.db.dispose()
    cases, terms, recusals = generate(n, plan, cal.day_end_utc)
    with psycopg.connect(conninfo) as con:
        with con.cursor() as cur:
            # the secondary indexes (not the constraints) are built once, after the load
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('case_file', 'case_term') AND "
                "indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            with cur.copy(f"COPY case_file ({CASE_COLUMNS}) FROM STDIN") as cp:
                for c in cases:
                    cp.write_row(c)
            with cur.copy("COPY case_term (case_id, term) FROM STDIN") as cp:
                for r in terms:
                    cp.write_row(r)
            for _, sql in indexes:
                cur.execute(sql)
            with cur.copy("COPY case_recusal (case_id, user_id, created_at) FROM STDIN") as cp:
                for r in recusals:
                    cp.write_row(r)
        con.commit()
        con.autocommit = True
        con.execute("VACUUM ANALYZE")
    return eng, time.perf_counter() - t0


def _calendar(eng: WbsEngine):
    with unit_of_work(eng.db, write=False) as s:
        return eng.calendar(s)


# --- a private PostgreSQL server -----------------------------------------------------------------


class PgServer:
    """initdb + pg_ctl in ``datadir`` (as ``postgres`` when run as root; PostgreSQL refuses root)."""

    def __init__(self, datadir: Path):
        roots = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
        if not roots:
            raise SystemExit(
                "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
            )
        self.bindir = roots[-1].parent
        self.datadir = datadir
        self.kwargs: dict = {}
        self.port = 0
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self.kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            os.chown(datadir, pw.pw_uid, pw.pw_gid)

    def _run(self, *cmd: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        proc = subprocess.run(cmd, cwd=self.datadir, env=env, capture_output=True, text=True, **self.kwargs)
        if proc.returncode != 0:
            raise RuntimeError(f"$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}")

    def start(self) -> None:
        if not (self.datadir / "PG_VERSION").exists():
            self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "wbs", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        opts = (
            f"-p {self.port} -k {shlex.quote(str(self.datadir))} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c max_wal_size=4GB "
            "-c maintenance_work_mem=512MB"
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", opts, "-w", "-t", "120", "-l",
                  str(self.datadir / "log"), "start")  # fmt: skip

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def conninfo(self, db: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=wbs dbname={db}"

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://wbs@127.0.0.1:{self.port}/{db}"

    def ensure_db(self, db: str) -> bool:
        """Create ``db`` if missing; True when it was created."""
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as con:
            if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                return False
            con.execute(f'CREATE DATABASE "{db}"')
            return True

    def drop_db(self, db: str) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@contextmanager
def postgres(root: Path):
    datadir = root / "pgdata"
    datadir.mkdir(parents=True, exist_ok=True)
    server = PgServer(datadir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Query:
    name: str
    actor: str
    run: object  # callable(engine) -> object
    statement: object  # callable(engine) -> (sql text) for the plan


def _scope(eng: WbsEngine, actor, **kw):
    with unit_of_work(eng.db, write=False) as s:
        return queries.scope(s, eng.registry, actor, now=eng.now(), calendar=eng.calendar(s), **kw)


def later_cursor(eng: WbsEngine, actor, queue: str, pages: int, **kw) -> str | None:
    """The cursor of the ``pages``-th page (or of the last one that has a next page)."""
    cursor, last = None, None
    for _ in range(pages):
        p = queries.page(eng, actor, queue, cursor=cursor, **kw)
        if p.next_cursor is None:
            break
        last = cursor = p.next_cursor
    return last


def later_page(eng: WbsEngine, actor, queue: str, pages: int, **kw) -> queries.Page:
    return queries.page(eng, actor, queue, cursor=later_cursor(eng, actor, queue, pages, **kw), **kw)


def _page(actor, queue: str, **kw) -> Query:
    """A page query: the call that is timed, and its statement (for the plan)."""
    return Query(
        f"{queue} {'later' if kw.get('cursor') else 'p1'}" if "search" not in kw else "",
        actor.username,
        lambda e: queries.page(e, actor, queue, **kw),
        lambda e: queries.page_statement(
            _scope(e, actor, search=kw.get("search")),
            queue,
            cursor=queries.decode_cursor(kw["cursor"], queue) if kw.get("cursor") else None,
        ),
    )


def _counts(actor, **kw) -> Query:
    scope_kw = {"search": kw["search"]} if "search" in kw else {}
    cap = {"cap": kw["cap"]} if "cap" in kw else {}
    return Query(
        "counts",
        actor.username,
        lambda e: queries.counts(e, actor, **kw),
        lambda e: queries.counts_statement(_scope(e, actor, **scope_kw), **cap),
    )


def _named(q: Query, name: str) -> Query:
    q.name = name
    return q


def make_queries(eng: WbsEngine, n: int) -> list[Query]:
    actors = {name: eng.load_actor(name) for name in ACTORS}
    pel = actors["pengelola"]
    # a search by a whole case number and by a plain document number, each of one case in pengelola's
    # unassigned queue (chosen once, by a broad search: every document number starts with "ND-")
    number = later_page(eng, pel, "unassigned", 5).items[0].number
    with_doc = later_page(eng, pel, "unassigned", 5, search="nd-").items[0].number
    with eng.db.connect() as c:
        doc = c.execute(sa.text("SELECT data FROM case_file WHERE number = :n"), {"n": with_doc}).scalar()
    doc = (json.loads(doc) if isinstance(doc, str) else doc)["nomor_surat"]
    out = []
    for actor in actors.values():
        for q in queries.QUEUES:
            out.append(_page(actor, q))
            cursor = later_cursor(eng, actor, q, 10)
            if cursor is not None:
                out.append(_page(actor, q, cursor=cursor))
        out.append(_counts(actor))
    out.append(_named(_page(pel, "unassigned", search=number), "search number"))
    out.append(_named(_page(pel, "unassigned", search=doc[:10]), "search doc"))
    out.append(_named(_counts(pel, search=number), "counts search"))
    # for information (no target): exact counts and a word a quarter of the cases hold follow the data
    out.append(_named(_counts(pel, cap=None), "counts exact*"))
    out.append(_named(_page(pel, "unassigned", search="normatif"), "search broad*"))
    return out


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(engines: dict[int, WbsEngine], qs: dict[int, list[Query]], runs: int) -> dict[int, dict]:
    """p95 per query and size. The sizes take turns run by run, so that both see the same load on a shared
    machine (the ratio compares them, not two moments)."""
    keyed = {n: {(q.actor, q.name): q for q in lst} for n, lst in qs.items()}
    sizes = sorted(engines)
    keys = [k for k in keyed[sizes[0]] if all(k in keyed[n] for n in sizes)]
    times: dict[int, dict] = {n: {k: [] for k in keys} for n in sizes}
    sizes_of: dict[int, dict] = {n: {} for n in sizes}
    for k in keys:
        for n in sizes:
            for _ in range(3):
                sizes_of[n][k] = _returned(keyed[n][k].run(engines[n]))
        for _ in range(runs):
            for n in sizes:
                t0 = time.perf_counter()
                keyed[n][k].run(engines[n])
                times[n][k].append(time.perf_counter() - t0)
    return {
        n: {k: (p95(v) * 1000, statistics.median(v) * 1000, sizes_of[n][k]) for k, v in times[n].items()} for n in sizes
    }


def _returned(result) -> str:
    """What a query gave: the rows of a page, or the four counts."""
    if isinstance(result, queries.Page):
        return str(len(result.items))
    return "/".join(str(c) for c in result.values())


def plan_text(eng: WbsEngine, stmt) -> str:
    if stmt is None:
        return "(no statement: the actor acts on nothing here)"
    sql = stmt.literal(eng.db)
    with eng.db.connect() as c:
        if eng.db.dialect.name == "sqlite":
            rows = [r[-1] for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            # one line per distinct step: a union repeats the same range once per branch
            seen: dict[str, int] = {}
            for r in rows:
                seen[r] = seen.get(r, 0) + 1
            return "\n".join(f"  {r}" + (f"   (×{k})" if k > 1 else "") for r, k in seen.items())
        rows = [r[0] for r in c.exec_driver_sql("EXPLAIN " + sql)]
        seen = {}
        for r in rows:
            key = r.strip().split("  (cost")[0]
            seen[key] = seen.get(key, 0) + 1
        return "\n".join(f"  {r}" + (f"   (×{k})" if k > 1 else "") for r, k in seen.items())


def built_database(kind: str, n: int, root: Path, server) -> tuple[str, Path]:
    """The database of ``n`` cases for ``kind`` (``sqlite`` or ``postgres`` on ``server``) in ``root``: reused
    when a previous run built it with this generator (``BUILD``), else built now. Returns its URL and instance
    folder (also used by ``bench_queue.py``)."""
    instance = root / f"{kind}-{n}-instance"
    marker = root / f"{kind}-{n}.built"
    cached = marker.exists() and marker.read_text() == BUILD
    if kind == "sqlite":
        path = root / f"queries-{n}.sqlite3"
        if not cached:
            for p in (path, instance, Path(f"{path}-wal"), Path(f"{path}-shm")):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            eng, took = build_sqlite(path, instance, n)
            eng.db.dispose()
            marker.write_text(BUILD)
            print(f"sqlite: built {n:,} cases in {took:.0f} s", flush=True)
        return f"sqlite:///{path}", instance
    db = f"queries_{n}"
    if not cached:
        server.drop_db(db)
        shutil.rmtree(instance, ignore_errors=True)
        server.ensure_db(db)
        eng, took = build_postgres(server.url(db), server.conninfo(db), instance, n)
        eng.db.dispose()
        marker.write_text(BUILD)
        print(f"postgres: built {n:,} cases in {took:.0f} s", flush=True)
    return server.url(db), instance


def bench_db(kind: str, sizes: list[int], root: Path, runs: int, show_plans: bool) -> dict:
    server_ctx = postgres(root) if kind == "postgres" else None
    server = server_ctx.__enter__() if server_ctx else None
    engines: dict[int, WbsEngine] = {}
    try:
        for n in sizes:
            url, instance = built_database(kind, n, root, server)
            engines[n] = WbsEngine(Settings(instance_dir=instance, database_url=url), clock=lambda: NOW)
        qs = {n: make_queries(eng, n) for n, eng in engines.items()}
        results = measure(engines, qs, runs)
        if show_plans:
            big = max(sizes)
            print(f"\n=== {kind}: plans at {big:,} cases ===")
            for q in qs[big]:
                if q.actor == "pengelola" or q.name.endswith("p1"):
                    print(f"-- {q.actor}: {q.name}")
                    print(plan_text(engines[big], q.statement(engines[big])))
    finally:
        for eng in engines.values():
            eng.db.dispose()
        if server_ctx:
            server_ctx.__exit__(None, None, None)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=40, help="timed runs per query (after 3 warm-up runs)")
    ap.add_argument("--db", default="sqlite,postgres")
    ap.add_argument("--cache", type=Path, help="keep the built databases here between runs")
    ap.add_argument("--no-plans", action="store_true")
    args = ap.parse_args()
    sizes = [args.small, args.big]
    tmp = None
    if args.cache:
        root = args.cache
        root.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="wbs-bench-queries-", dir="/tmp")
        root = Path(tmp)
        os.chmod(root, 0o755)  # the postgres user must reach its data directory
    try:
        table = []
        for kind in args.db.split(","):
            res = bench_db(kind, sizes, root, args.runs, not args.no_plans)
            for key in res[args.small]:
                (small, small50, rows_small), (big, big50, rows_big) = res[args.small][key], res[args.big][key]
                table.append((key[1], key[0], kind, small, big, big / small, small50, big50, rows_small, rows_big))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\np95 latency (ms) of each queue query over {args.runs} runs (p50 after it); target ratio <= 2 "
        "(* = no target, see the docstring)"
    )
    print(
        f"{'query':<16} {'actor':<10} {'db':<9} {args.small:>9,} {args.big:>11,} {'ratio':>6}   "
        f"{'p50 ratio':<24} returned (small | big)"
    )
    missed = 0
    for name, actor, kind, small, big, ratio, small50, big50, rows_small, rows_big in table:
        flag = "" if ratio <= 2 or name.endswith("*") else "  MISSED"
        missed += bool(flag)
        p50 = f"{small50:.2f} / {big50:.2f} = {big50 / small50:.2f}"
        print(
            f"{name:<16} {actor:<10} {kind:<9} {small:>9.2f} {big:>11.2f} {ratio:>6.2f}   {p50:<24} "
            f"{rows_small} | {rows_big}{flag}"
        )
    print(f"\n{missed} p95 ratio(s) above 2 (outside the * rows)")


if __name__ == "__main__":
    main()
