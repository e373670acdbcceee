"""Shared set-up for the attack scripts: a fresh throwaway instance (SQLite unless WBS_DATABASE_URL is set),
units, staff accounts, and helpers to print HELD / BROKEN with evidence.

Run every script from the worktree root:  PYTHONPATH=$PWD /work/main/.venv/bin/python attack9/NN_name.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from wbs_engine.config import Settings
from wbs_engine.engine import WbsEngine
from wbs_engine.permissions import Grant
from wbs_engine.provision import init_database
from wbs_engine.users import create_or_update_user, ensure_unit

RESULTS: list[tuple[str, bool, str]] = []


def fresh(name: str, extra_env: dict[str, str] | None = None) -> WbsEngine:
    base = Path(tempfile.mkdtemp(prefix=f"atk9-{name}-"))
    env = {"WBS_INSTANCE_DIR": str(base / "instance"), "WBS_SQLITE_SYNCHRONOUS": "NORMAL"}
    if os.environ.get("ATK9_PG"):  # e.g. 127.0.0.1:55439 — a throwaway server; one new database per run
        import secrets

        import psycopg

        host, port = os.environ["ATK9_PG"].split(":")
        dbname = f"atk9_{name}_{secrets.token_hex(4)}"
        with psycopg.connect(host=host, port=int(port), user="wbs", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["WBS_DATABASE_URL"] = f"postgresql+psycopg://wbs@{host}:{port}/{dbname}"
    env.update(extra_env or {})
    (base / "instance").mkdir()
    settings = Settings.from_env(env)
    init_database(settings)
    eng = WbsEngine(settings)
    for code, label in (("PUSAT", "Pusat"), ("LAYANAN", "Layanan"), ("UMUM", "Umum")):
        ensure_unit(eng, code, label)
    return eng


def user(eng: WbsEngine, username: str, *grants: str) -> None:
    gs = []
    for g in grants:
        parts = g.split(":")
        role = parts[0]
        unit = parts[1] if len(parts) > 1 and parts[1] not in ("", "*") else None
        ctype = parts[2] if len(parts) > 2 and parts[2] not in ("", "*") else None
        gs.append(Grant(role, unit, ctype))
    create_or_update_user(eng, username, gs, password="x" * 12)


def check(label: str, held: bool, evidence: str = "") -> None:
    RESULTS.append((label, held, evidence))
    print(("HELD   " if held else "BROKEN ") + label + (f"\n       {evidence}" if evidence else ""))


def done() -> None:
    broken = [r for r in RESULTS if not r[1]]
    print(f"-- {len(RESULTS) - len(broken)} held, {len(broken)} broken")
    sys.exit(0)
