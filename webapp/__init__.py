"""The thin Flask shell. ``create_app(settings)`` builds the app; views only translate HTTP into engine calls.

This first version serves the public landing page (case types and their time limits) and a JSON health
check; the public form, the queues and the auditor views come with the web issue.

Pages are in Bahasa Indonesia, or in English with ``?lang=en``: their texts are ``{% trans %}`` messages of
the engine's one catalogue (``wbs_engine/translations``, :mod:`wbs_engine.i18n`), read through Jinja's i18n
extension; workflow labels come from the workflow files.
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
    from flask import Flask, has_request_context, jsonify, render_template, request
    from sqlmodel import select

    from wbs_engine.config import Settings
    from wbs_engine.db import unit_of_work
    from wbs_engine.engine import WbsEngine
    from wbs_engine.i18n import DEFAULT_LOCALE, lang_of, translations

    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_dir))

    def page_lang() -> str:
        """The language of this request's page: ``?lang=en`` for English, else Bahasa Indonesia."""
        return lang_of(request.args.get("lang")) if has_request_context() else DEFAULT_LOCALE

    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda msgid: translations(page_lang()).gettext(msgid),
        ngettext=lambda singular, plural, n: translations(page_lang()).ngettext(singular, plural, n),
        newstyle=True,
    )
    wbs = engine or WbsEngine(settings)
    wbs.check_keys()  # a keyring that does not belong to this database: refuse to start, write nothing
    wbs.registry.load_all()  # the app serves every type: a bad workflow file stops it at start, not a request
    app.extensions["wbs"] = wbs
    if settings.scheduler == "embedded":
        # one process only (make run, a single-office install); several web nodes use `wbs scheduler` instead
        from wbs_engine.scheduler import build_scheduler

        sched = build_scheduler(wbs, blocking=False)
        sched.start()
        app.extensions["wbs_scheduler"] = sched

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        # no case counts here: how active a channel is (WBS above all) is itself sensitive; counts come with
        # the public statistics page, with small numbers suppressed
        types = [wbs.registry.latest(k).definition for k in wbs.registry.keys]
        return render_template("index.html", types=types, lang=page_lang())

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        with unit_of_work(wbs.db, write=False) as s:
            s.exec(select(1)).one()  # the database answers; says nothing about what it holds
        return jsonify(status="ok")

    return app
