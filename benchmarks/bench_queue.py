"""Latency of the real queue page (``/staf/antrian``: signed in, through the whole Flask app: the session
check, the queries, the template) among 10,000 and 1,000,000 cases, on SQLite and on PostgreSQL: p95 of each
page at both sizes in one run, and the ratio p95(1M) / p95(10k). Target: ratio <= 2.

The databases are the ones ``bench_queries.py`` builds (same generator, same ``--cache`` layout, so one
cache serves both). Each signed-in user gets a real staff session (``wbs_engine.accounts.open_session``) whose
cookie the test client sends; every request goes through the deny-by-default guard, the session row check,
``queries.counts`` for the tabs and ``queries.page`` for the list, and renders the page. Pages measured, for
``pengelola`` (every unit and type), ``petugas`` (one unit) and ``atasan``: each of the four queues, a search
by a plain word, and the third page of the unassigned queue (keyset cursor followed from the page's own
"next" link).

    .venv/bin/python benchmarks/bench_queue.py [--small 10000] [--big 1000000] [--runs 30]
        [--db sqlite,postgres] [--cache DIR]
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_queries as bq  # noqa: E402
from sqlmodel import select  # noqa: E402

from wbs_engine import accounts  # noqa: E402
from wbs_engine.config import Settings  # noqa: E402
from wbs_engine.db import unit_of_work  # noqa: E402
from wbs_engine.engine import WbsEngine  # noqa: E402
from wbs_engine.models import User  # noqa: E402

QUEUE_URL = "/staf/antrian"
NEXT_LINK = re.compile(r'<a[^>]+href="([^"]+)"[^>]*rel="next"|<a[^>]+rel="next"[^>]*href="([^"]+)"')


def signed_in_client(app, eng: WbsEngine, username: str):
    """A test client carrying a real staff session of ``username``."""
    with unit_of_work(eng.db, write=False) as s:
        user = s.exec(select(User).where(User.username == username)).one()
    token = accounts.open_session(eng, user)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["staff"] = token
        sess["_user_id"] = token
        sess["_fresh"] = True
    return client


def later_url(client, url: str, pages: int) -> str:
    """The URL of page ``pages + 1`` of a queue, following the page's own "next" links."""
    for _ in range(pages):
        page = client.get(url).get_data(as_text=True)
        m = NEXT_LINK.search(page)
        if not m:
            break
        url = html.unescape(m.group(1) or m.group(2))
    return url


def pages_for(client) -> dict[str, str]:
    urls = {q: f"{QUEUE_URL}?antrian={q}" for q in ("mine", "unassigned", "due_soon", "overdue")}
    urls["search"] = f"{QUEUE_URL}?antrian=unassigned&cari=layanan"
    urls["unassigned p3"] = later_url(client, urls["unassigned"], 2)
    return urls


def measure(apps: dict[int, tuple], runs: int) -> dict[int, dict]:
    """p95/p50 per (actor, page) and size; sizes take turns run by run (same load on a shared machine)."""
    clients = {n: {a: signed_in_client(app, eng, a) for a in bq.ACTORS} for n, (app, eng) in apps.items()}
    urls = {n: {a: pages_for(c) for a, c in cs.items()} for n, cs in clients.items()}
    sizes = sorted(apps)
    times = {n: {} for n in sizes}
    for actor in bq.ACTORS:
        for name in urls[sizes[0]][actor]:
            for n in sizes:
                for _ in range(3):
                    res = clients[n][actor].get(urls[n][actor][name])
                    if res.status_code != 200:
                        raise SystemExit(f"{name} for {actor} at {n:,}: HTTP {res.status_code}")
            for _ in range(runs):
                for n in sizes:
                    t0 = time.perf_counter()
                    clients[n][actor].get(urls[n][actor][name])
                    times[n].setdefault((actor, name), []).append(time.perf_counter() - t0)
    import statistics

    return {
        n: {k: (bq.p95(v) * 1000, statistics.median(v) * 1000) for k, v in times[n].items()} for n in sizes
    }


def bench_db(kind: str, sizes: list[int], root: Path, runs: int) -> dict:
    from webapp import create_app

    server_ctx = bq.postgres(root) if kind == "postgres" else None
    server = server_ctx.__enter__() if server_ctx else None
    apps: dict[int, tuple] = {}
    try:
        for n in sizes:
            url, instance = bq.built_database(kind, n, root, server)
            settings = Settings(instance_dir=instance, database_url=url)
            eng = WbsEngine(settings, clock=lambda: bq.NOW)
            _require_no_second_factor(eng)
            apps[n] = (create_app(settings, engine=eng), eng)
        return measure(apps, runs)
    finally:
        for _app, eng in apps.values():
            eng.db.dispose()
        if server_ctx:
            server_ctx.__exit__(None, None, None)


def _require_no_second_factor(eng: WbsEngine) -> None:
    """The bench users sign in with a session opened directly: no role of theirs may demand a second factor
    (the bench measures the queue page, not enrolment)."""
    from wbs_engine.models import OfficeSetting

    with unit_of_work(eng.db) as s:
        row = s.get(OfficeSetting, "totp_roles")
        if row is None:
            row = OfficeSetting(key="totp_roles", value=[], updated_by="bench", updated_at=bq.NOW)
        row.value = []
        s.add(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30, help="timed requests per page (after 3 warm-up requests)")
    ap.add_argument("--db", default="sqlite,postgres")
    ap.add_argument("--cache", type=Path, help="keep the built databases here between runs (bench_queries's too)")
    args = ap.parse_args()
    sizes = [args.small, args.big]
    tmp = None
    if args.cache:
        root = args.cache
        root.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="wbs-bench-queue-", dir="/tmp")
        root = Path(tmp)
        os.chmod(root, 0o755)  # the postgres user must reach its data directory
    rows = []
    try:
        for kind in args.db.split(","):
            res = bench_db(kind, sizes, root, args.runs)
            for key in res[args.small]:
                (small, small50), (big, big50) = res[args.small][key], res[args.big][key]
                rows.append((key[1], key[0], kind, small, big, big / small, small50, big50))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\np95 latency (ms) of the queue page over {args.runs} requests (p50 after it); target ratio <= 2")
    print(f"{'page':<15} {'actor':<10} {'db':<9} {args.small:>9,} {args.big:>11,} {'ratio':>6}   p50 ratio")
    missed = 0
    for name, actor, kind, small, big, ratio, small50, big50 in rows:
        flag = "" if ratio <= 2 else "  MISSED"
        missed += bool(flag)
        print(
            f"{name:<15} {actor:<10} {kind:<9} {small:>9.2f} {big:>11.2f} {ratio:>6.2f}   "
            f"{small50:.2f} / {big50:.2f} = {big50 / small50:.2f}{flag}"
        )
    worst = max(r[5] for r in rows)
    print(f"\nworst p95 ratio {worst:.2f}; {missed} above 2")


if __name__ == "__main__":
    main()
