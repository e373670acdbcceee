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

Compiled modules are written and reused (``PYTHONPYCACHEPREFIX`` in the temporary directory), as in any
installation, even where the environment sets ``PYTHONDONTWRITEBYTECODE``: without them the project's
own modules, and not the libraries' (installed with theirs), would be compiled on every run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

#: what each command cannot start without, whatever the engine does: the import statements of the
#: third-party libraries it uses, as its code writes them. Every command that opens the database needs
#: SQLAlchemy (through sqlmodel, whose models are pydantic's), the SQLite driver, the keyring the engine
#: checks against the database before anything (cryptography) and click; then what the command itself
#: uses: the holiday calendar for working days, the YAML parser and the schema (pydantic) for a workflow,
#: the state machine of a case (transitions). A library's own work on first use (pydantic looking for its
#: plugins when it builds the first validator, the ORM configuring its mappers) counts against the command.
COMMON = [
    "import click",
    "from sqlmodel import Field, Session, SQLModel, select",
    "import sqlalchemy.dialects.sqlite, sqlite3",
    "from cryptography.fernet import Fernet, MultiFernet",
    "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey",
]
SCHEMA = [
    "import yaml",
    "from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator",
]
#: the Indonesian calendar of the ``holidays`` package: ``import holidays`` alone loads no country, and the
#: package's only way to Indonesia (``country_holidays("ID")``, or importing the class) runs
#: ``holidays/countries/__init__.py``, which imports every country it knows
INDONESIA = "from holidays.countries import Indonesia"
BASELINES: dict[str, str] = {
    "workdays": "; ".join([*COMMON, INDONESIA]),
    "case show": "; ".join([*COMMON, "import holidays", *SCHEMA, "from transitions import Machine"]),
    "lint": "; ".join(["import click", *SCHEMA]),
    "help": "import click",
}


def run(cmd: list[str], env: dict[str, str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return res


def cpu_of_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """One run in a fresh process: (wall seconds, CPU seconds of the process)."""
    c0, t0 = cpu_of_children(), time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, cpu = time.perf_counter() - t0, cpu_of_children() - c0
    if res.returncode not in ok:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")
    return wall, cpu


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
            # compiled modules kept as an installation keeps them (the project's too, not only the
            # libraries'), in the temporary directory rather than beside the sources
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
        }
        for name in [k for k in env if k in ("WBS_DATABASE_URL", "WBS_KEYRING", "PYTHONDONTWRITEBYTECODE")]:
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
        for name, (cmd, ok) in commands.items():  # warm the file cache and write the .pyc files
            timed([py, "-c", BASELINES[name]], env, repo)
            timed(cmd, env, repo, ok)
        runs: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            # each run times a baseline right before its command: on a shared machine both see the same load
            for name, (cmd, ok) in commands.items():
                runs[name].append((timed([py, "-c", BASELINES[name]], env, repo), timed(cmd, env, repo, ok)))
    print(f"wbs start-up, {args.runs} runs each, seconds (checkout: {repo})")
    print(
        f"{'':34} {'---- wall time (median, min) ----':^38}   {'CPU time (median)':^24}\n"
        f"{'command':<34} {'command':>15} {'imports only':>15} {'ratio':>6}   "
        f"{'command':>7} {'imports':>8} {'ratio':>6}"
    )
    for name, pairs in runs.items():
        shown = " ".join(commands[name][0][3:]) or name
        base = [b[0] for b, _ in pairs]
        got = [g[0] for _, g in pairs]
        base_cpu = statistics.median(b[1] for b, _ in pairs)
        got_cpu = statistics.median(g[1] for _, g in pairs)
        m, b = statistics.median(got), statistics.median(base)
        print(
            f"wbs {shown:<30} {m:7.3f} {min(got):7.3f} {b:7.3f} {min(base):7.3f} {m / b:6.2f}   "
            f"{got_cpu:7.3f} {base_cpu:8.3f} {got_cpu / base_cpu:6.2f}"
        )
    print("ratio: the command's median over the median of importing its libraries (target: <= 1.30)")
    print("imports only (the baseline of each command):")
    for name, code in BASELINES.items():
        print(f"  {name}: {code}")


if __name__ == "__main__":
    main()
