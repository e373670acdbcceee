"""The two WSGI apps ``bench_intake.py`` runs under gunicorn (``gunicorn 'intake_apps:real()'``).

``real()``: the product's app (``webapp.create_app`` with the ``WBS_*`` settings of the environment).
``bare()``: a Flask app whose one endpoint takes the same form and inserts one row with plain ``sqlite3``
(WAL, the same ``WBS_SQLITE_SYNCHRONOUS``) into ``$BENCH_BARE_DB``, then answers 303 like the real form.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def real():  # type: ignore[no-untyped-def]
    from webapp import create_app

    return create_app()


def bare():  # type: ignore[no-untyped-def]
    from flask import Flask, redirect, request

    app = Flask(__name__)
    path = os.environ["BENCH_BARE_DB"]
    sync = os.environ.get("WBS_SQLITE_SYNCHRONOUS", "FULL")
    local = threading.local()

    def db() -> sqlite3.Connection:
        con = getattr(local, "con", None)
        if con is None:
            con = sqlite3.connect(path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(f"PRAGMA synchronous={sync}")
            local.con = con
        return con

    @app.post("/lapor/<case_type>")
    def file(case_type: str):  # type: ignore[no-untyped-def]
        f = request.form
        db().execute(
            "INSERT INTO submission (case_type, layanan, kategori, uraian) VALUES (?, ?, ?, ?)",
            (case_type, f.get("layanan", ""), f.get("kategori", ""), f.get("uraian", "")),
        )
        return redirect("/tanda-terima", code=303)

    return app


def create_bare_db(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE IF NOT EXISTS submission (id INTEGER PRIMARY KEY, case_type TEXT, layanan TEXT,"
        " kategori TEXT, uraian TEXT)"
    )
    con.commit()
    con.close()
