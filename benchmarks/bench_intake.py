"""Public intake under gunicorn: complaints filed per second through the real form endpoint (``POST
/lapor/pengaduan``: CSRF, filing token, validation, sealing, the case, its clocks, its audit event, the
receipt in the session) against a bare Flask endpoint that inserts the same form as one row with plain
``sqlite3``. Both run under gunicorn with the same workers and threads, on SQLite in WAL mode at the same
``synchronous`` (NORMAL by default: CPU against CPU), and are loaded by the same client threads. Target
(issue 13): ratio >= 0.5.

Each real submission needs the form's own CSRF and filing tokens: the clients fetch them first (``GET
/lapor/pengaduan``, not timed), then every client sends its POSTs as fast as answers come. Only answers
``303`` count; anything else stops the run. The gunicorn settings are ``deploy/gunicorn.conf.py``'s when it
exists (``-c``), with the workers, threads, bind and access log given on the command line for both servers.

    .venv/bin/python benchmarks/bench_intake.py [--submissions 600] [--clients 8] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from intake_apps import create_bare_db  # noqa: E402

COMPLAINT = {
    "identitas": "anonim",
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FILING = re.compile(r'name="token" value="([^"]+)"')
DEADLINE = 120  # seconds any one step may take before the run is abandoned


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn running ``app`` (an ``intake_apps`` factory) on a free port; stopped with its process group."""

    def __init__(self, app: str, env: dict[str, str], workers: int, threads: int, log: Path):
        self.port = free_port()
        cmd = [sys.executable, "-m", "gunicorn"]
        conf = REPO / "deploy" / "gunicorn.conf.py"
        if conf.exists():
            cmd += ["-c", str(conf)]
        cmd += [
            "--chdir", str(HERE), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread", "--access-logfile", "/dev/null",
            "--error-logfile", str(log), "--timeout", "60", f"intake_apps:{app}()",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.log = log

    def wait_ready(self, path: str) -> None:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                con.request("GET", path)
                con.getresponse().read()
                con.close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within {DEADLINE} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


def _cookies(res: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in res.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def fetch_forms(port: int, n: int) -> list[tuple[str, str]]:
    """``n`` ready-to-send real submissions: (cookie header, urlencoded body), each with its own tokens."""
    out = []
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    for _ in range(n):
        jar: dict[str, str] = {}
        con.request("GET", "/lapor/pengaduan?identitas=anonim")
        res = con.getresponse()
        page = res.read().decode()
        if res.status != 200:
            raise SystemExit(f"GET /lapor/pengaduan answered {res.status}")
        _cookies(res, jar)
        body = dict(COMPLAINT, csrf_token=CSRF.search(page).group(1), token=FILING.search(page).group(1))
        out.append(("; ".join(f"{k}={v}" for k, v in jar.items()), urllib.parse.urlencode(body)))
    con.close()
    return out


def blast(port: int, requests: list[tuple[str, str]], clients: int) -> float:
    """Send every request (POST /lapor/pengaduan) from ``clients`` threads; seconds until the last answer."""
    errors: list[str] = []
    chunks = [requests[i::clients] for i in range(clients)]
    go = threading.Barrier(clients + 1)

    def client(chunk: list[tuple[str, str]]) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
        try:
            go.wait(timeout=DEADLINE)
            for cookie, body in chunk:
                headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
                con.request("POST", "/lapor/pengaduan", body=body, headers=headers)
                res = con.getresponse()
                res.read()
                if res.status != 303:
                    errors.append(f"POST answered {res.status}")
                    return
        except Exception as exc:  # noqa: BLE001 - reported below, the run is void
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            con.close()

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in chunks]
    for t in threads:
        t.start()
    go.wait(timeout=DEADLINE)
    start = time.perf_counter()
    for t in threads:
        t.join(timeout=DEADLINE * 5)
    took = time.perf_counter() - start
    if errors or any(t.is_alive() for t in threads):
        raise SystemExit(f"the run failed: {errors[:3] or 'a client did not finish'}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=600, help="timed submissions to each server")
    ap.add_argument("--clients", type=int, default=8, help="client threads sending at once")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (both servers)")
    ap.add_argument("--sync", default="NORMAL", choices=("NORMAL", "FULL"), help="SQLite synchronous (both)")
    args = ap.parse_args()
    # SIGTERM (a test's timeout, Ctrl-C's cousin) unwinds through the finally blocks that stop gunicorn
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from wbs_engine.config import Settings
    from wbs_engine.provision import init_database

    with tempfile.TemporaryDirectory(prefix="wbs-bench-intake-") as d:
        tmp = Path(d)
        instance = tmp / "instance"
        url = f"sqlite:///{instance / 'wbs.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WBS_")}
        env |= {
            "WBS_INSTANCE_DIR": str(instance),
            "WBS_DATABASE_URL": url,
            "WBS_SQLITE_SYNCHRONOUS": args.sync,
            # one client address sends every submission: the abuse limit would refuse all but the first 20
            "WBS_RATE_LIMIT_FILING": "off",
            "BENCH_BARE_DB": str(tmp / "bare.sqlite3"),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        }
        instance.mkdir()
        init_database(Settings(instance_dir=instance, database_url=url, sqlite_synchronous=args.sync))
        create_bare_db(tmp / "bare.sqlite3")
        warm = 20
        results = {}
        for name in ("real", "bare"):
            server = Server(name, env, args.workers, args.threads, tmp / f"{name}.log")
            try:
                if name == "real":
                    server.wait_ready("/lapor/pengaduan")
                    forms = fetch_forms(server.port, args.submissions + warm * args.clients)
                else:
                    server.wait_ready("/")
                    forms = [("", body) for _cookie, body in fetch_forms_like(args.submissions + warm * args.clients)]
                blast(server.port, forms[: warm * args.clients], args.clients)  # warm-up: every worker's imports
                results[name] = blast(server.port, forms[warm * args.clients :], args.clients)
            finally:
                server.stop()
        filed = _count(instance / "wbs.sqlite3", "SELECT count(*) FROM case_file")
        bare_rows = _count(tmp / "bare.sqlite3", "SELECT count(*) FROM submission")
    n = args.submissions + warm * args.clients
    if filed != n or bare_rows != n:
        raise SystemExit(f"expected {n} rows each, found {filed} cases and {bare_rows} bare rows")
    real_rate, bare_rate = args.submissions / results["real"], args.submissions / results["bare"]
    ratio = real_rate / bare_rate
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), {args.clients} client threads, "
        f"SQLite WAL synchronous={args.sync}, {args.submissions} timed submissions each"
    )
    print(f"{'endpoint':<38} {'submissions/s':>14}")
    print(f"{'real form (POST /lapor/pengaduan)':<38} {real_rate:>14,.1f}")
    print(f"{'bare Flask, one sqlite3 insert':<38} {bare_rate:>14,.1f}")
    verdict = "met" if ratio >= 0.5 else f"NOT met (missed by {0.5 / ratio:.1f}x)"
    print(f"ratio real / bare = {ratio:.3f}; target >= 0.5: {verdict}")


def fetch_forms_like(n: int) -> list[tuple[str, str]]:
    """The bare endpoint's requests: the same form fields (and the size of the tokens), no cookie."""
    body = dict(COMPLAINT, csrf_token="x" * 91, token="y" * 70)
    return [("", urllib.parse.urlencode(body)) for _ in range(n)]


def _count(path: Path, sql: str) -> int:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


if __name__ == "__main__":
    main()
