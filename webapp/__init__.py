"""The thin Flask shell. ``create_app(settings)`` builds the app; views only translate HTTP into engine calls
(the operations listed in the README): no workflow rule, query or permission lives here.

One blueprint per audience: ``public`` (landing page, filing forms, receipt, proof verification) and
``tracking`` (a reporter's case by tracking code), ``auth`` (staff sign-in; every route not on its public
allow-list needs a signed-in user: :mod:`webapp.auth`). Forms are Flask-WTF's CSRF-protected POSTs;
pages are Jinja templates in Bahasa Indonesia (default) or English, from the engine's one catalogue through
Flask-Babel (:mod:`webapp.i18n`). Security headers, the session and the tracking session are in
:mod:`webapp.security`.

The factory starts no scheduler: ``wbs run`` (one process, ``make run``) or ``wbs scheduler`` does, so N
gunicorn workers never mean N schedulers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from wbs_engine.config import Settings
    from wbs_engine.engine import WbsEngine


def create_app(settings: Settings | None = None, engine: WbsEngine | None = None) -> Flask:
    # imported here, not above: the `wbs` console script (webapp.cli) imports this package, and only
    # `wbs run` needs Flask and the engine (docs/decisions.md, "Loading workflows")
    from flask import Flask, jsonify
    from flask_wtf.csrf import CSRFProtect
    from sqlmodel import select

    from wbs_engine.config import Settings
    from wbs_engine.db import unit_of_work
    from wbs_engine.engine import WbsEngine
    from wbs_engine.migrate import require_migrated

    from . import (
        admin,
        api,
        audit_pages,
        auth,
        errors,
        i18n,
        identity,
        mine,
        public,
        ratelimit,
        reports,
        security,
        staff,
        statistik,
        tokens,
        tracking,
    )

    settings = settings or Settings.from_env()
    wbs = engine or WbsEngine(settings)
    require_migrated(wbs.db)  # an old schema is one clear error at start, not a failure per request
    wbs.check_keys()  # a keyring that does not belong to this database: refuse to start, write nothing
    wbs.registry.load_all()  # the app serves every type: a bad workflow file stops it at start, not a request

    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(security.config_for(settings, wbs.keyring))
    app.extensions["wbs"] = wbs
    CSRFProtect(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    ratelimit.init_app(app, settings.rate_limits)  # abuse limits, checked before the sign-in guard
    app.register_blueprint(public.bp)
    app.register_blueprint(tracking.bp)
    auth.init_app(app)  # deny by default: every other route needs a signed-in user (webapp/auth.py)
    api.init_app(app)  # /api/v1: personal tokens instead of a session; the only CSRF-exempt blueprint
    tokens.init_app(app)  # /staf/akun/token: a user's own API tokens
    staff.init_app(app)  # queues, case pages (webapp/staff.py)
    mine.init_app(app)  # an employee's own reports (webapp/mine.py)
    identity.init_app(app)  # identity on request (webapp/identity.py)
    admin.init_app(app)  # /staf/admin: the admin role only
    audit_pages.init_app(app)  # /staf/audit: the auditor's read-only pages
    reports.init_app(app)  # /staf/laporan: recaps and registers, charts, CSV/XLSX/PDF downloads
    statistik.init_app(app)  # /statistik: the public statistics (public, counts under five suppressed)
    ratelimit.apply(app, settings.rate_limits)  # the limits on their views (webapp/ratelimit.py)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        with unit_of_work(wbs.db, write=False) as s:
            s.exec(select(1)).one()  # the database answers; says nothing about what it holds
        return jsonify(status="ok")

    return app
