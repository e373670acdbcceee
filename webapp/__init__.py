"""The thin Flask shell. ``create_app(settings)`` builds the app; views only translate HTTP into engine calls.

This first version serves the public landing page (case types and their time limits) and a JSON health
check; the public form, the queues and the auditor views come with the web issue.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from sqlmodel import func, select

from wbs_engine.config import Settings
from wbs_engine.db import unit_of_work
from wbs_engine.engine import WbsEngine
from wbs_engine.models import Case


def create_app(settings: Settings | None = None, engine: WbsEngine | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    wbs = engine or WbsEngine(settings)
    app.extensions["wbs"] = wbs
    if settings.scheduler == "embedded":
        # one process only (make run, a single-office install); several web nodes use `wbs scheduler` instead
        from wbs_engine.scheduler import build_scheduler

        sched = build_scheduler(wbs, blocking=False)
        sched.start()
        app.extensions["wbs_scheduler"] = sched

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with unit_of_work(wbs.db, write=False) as s:
            counts = dict(s.exec(select(Case.case_type, func.count()).group_by(Case.case_type)).all())
        types = [(wbs.registry.latest(k).definition, counts.get(k, 0)) for k in wbs.registry.keys]
        return render_template("index.html", types=types)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        with unit_of_work(wbs.db, write=False) as s:
            n = s.exec(select(func.count()).select_from(Case)).one()
        return jsonify(status="ok", cases=n)

    return app
