"""Start-up time of ``wbs`` commands, against importing the third-party libraries each command needs.

Every figure is a fresh process (what a person typing a command waits for), run several times; the table
shows the median and the minimum. The baseline of a command is ``python -c "import ..."`` of the
third-party libraries that command cannot do without (below, ``BASELINES``): the part of its start-up the
project cannot remove. Target (the start-up issue): every command within 1.3x of its baseline (median).

    .venv/bin/python benchmarks/bench_startup.py [--runs 9] [--repo PATH]

``--repo`` times another checkout (e.g. the commit before a change, unpacked with ``git archive``) with
this virtualenv's libraries: the commands run as ``python -c 'from webapp.cli import main; main()'`` with
that checkout first on ``sys.path``, which is what the ``wbs`` console script does. A fresh SQLite instance
(``init-db``, ``seed-demo``) is set up in a temporary directory first; its set-up is not timed.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

#: the libraries each command must import, whatever the engine does: the database (SQLAlchemy through
#: sqlmodel, whose models are pydantic, and the SQLite driver), the keyring the engine checks against the
#: database before anything (cryptography), the command line (click), and what the command itself uses:
#: the holiday calendar for working days, the YAML parser for a workflow, the state machine for a case.
COMMON = ["click", "sqlmodel", "sqlalchemy.dialects.sqlite", "sqlite3", "pydantic.main", "cryptography.fernet"]
BASELINES: dict[str, list[str]] = {
    "workdays": [*COMMON, "holidays"],
    "case show": [*COMMON, "holidays", "yaml", "transitions"],
    "lint": ["click", "pydantic.main", "yaml"],
    "help": ["click"],
}


def run(cmd: list[str], env: dict[str, str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return res


def timed(cmd: list[str], env: dict[str, str], cwd: Path, runs: int, ok: tuple[int, ...] = (0,)) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        out.append(time.perf_counter() - t0)
        if res.returncode not in ok:
            raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--repo", type=Path, default=HERE, help="the checkout to time (default: this one)")
    args = ap.parse_args()
    repo = args.repo.resolve()
    py = sys.executable
    wbs = [py, "-c", "import sys; sys.argv[0] = 'wbs'; from webapp.cli import main; main()"]
    with tempfile.TemporaryDirectory(prefix="wbs-bench-startup-") as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(repo),
            "WBS_INSTANCE_DIR": str(Path(tmp) / "instance"),
            "WBS_WORKFLOWS_DIR": str(repo / "workflows"),
            "WBS_SCHEDULER": "off",
        }
        for name in [k for k in env if k in ("WBS_DATABASE_URL", "WBS_KEYRING")]:
            del env[name]  # the temporary instance, never one from the environment
        run([*wbs, "init-db"], env, repo)
        run([*wbs, "seed-demo"], env, repo)
        with sqlite3.connect(Path(tmp) / "instance" / "wbs.sqlite3") as con:
            number = con.execute("SELECT number FROM case_file ORDER BY id LIMIT 1").fetchone()[0]
        commands = {
            "workdays": ([*wbs, "workdays", "add", "2026-03-13", "3"], (0,)),
            "case show": ([*wbs, "case", "show", number], (0,)),
            "lint": ([*wbs, "lint"], (0,)),
            "help": ([*wbs, "--help"], (0,)),
        }
        for cmd, ok in commands.values():  # warm the file cache and the .pyc files
            timed(cmd, env, repo, 1, ok)
        rows = []
        for name, (cmd, ok) in commands.items():
            base = timed([py, "-c", "import " + ", ".join(BASELINES[name])], env, repo, args.runs)
            got = timed(cmd, env, repo, args.runs, ok)
            rows.append((name, base, got))
    print(f"wbs start-up, {args.runs} runs each, seconds (checkout: {repo})")
    print(f"{'command':<38} {'median':>7} {'min':>7}   {'import-only median':>18} {'min':>7}   ratio (median, min)")
    for name, base, got in rows:
        shown = " ".join(commands[name][0][3:]) or name
        m, b = statistics.median(got), statistics.median(base)
        print(
            f"wbs {shown:<34} {m:7.3f} {min(got):7.3f}   {b:18.3f} {min(base):7.3f}   "
            f"{m / b:5.2f}  {min(got) / min(base):5.2f}"
        )
    print("baselines: " + "; ".join(f"{k}: import {', '.join(v)}" for k, v in BASELINES.items()))
    print("target: ratio <= 1.30")


if __name__ == "__main__":
    main()
