"""The web app factory: health check, refusing a foreign keyring, and no scheduler in the factory."""

import pytest

from webapp import create_app


def test_health_check_says_nothing_about_what_the_database_holds(app):
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}


def test_the_factory_starts_no_scheduler_even_when_embedded_is_set(make_wbs, tmp_path):
    import threading

    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    before = {t.name for t in threading.enumerate()}
    app = create_app(eng.settings.with_(scheduler="embedded"), engine=eng)
    assert "wbs_scheduler" not in app.extensions
    assert {t.name for t in threading.enumerate()} == before


def test_wbs_run_starts_the_embedded_scheduler_once_and_serves_without_addresses(make_wbs, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from flask import Flask

    from wbs_engine import scheduler
    from webapp import security
    from webapp.cli import cli  # `run` is the web layer's command

    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    started, served = [], []

    class FakeScheduler:
        def start(self):
            started.append(True)

    monkeypatch.setattr(scheduler, "build_scheduler", lambda engine, blocking: FakeScheduler())
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.append(kw))
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": eng.settings.database_url,
           "WBS_SCHEDULER": "embedded"}
    res = CliRunner().invoke(cli, ["run", "--port", "5999"], env=env)
    assert res.exit_code == 0, res.output
    assert started == [True] and served[0]["request_handler"] is security.QuietRequestHandler
    res = CliRunner().invoke(cli, ["run"], env={**env, "WBS_SCHEDULER": "off"})
    assert res.exit_code == 0 and started == [True]


def test_the_app_refuses_to_start_with_a_keyring_that_is_not_the_databases(make_wbs, tmp_path):
    from wbs_engine.crypto import CryptoError, Keyring
    from wbs_engine.engine import WbsEngine

    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    stranger = WbsEngine(eng.settings, db=eng.db, keyring=Keyring.generate())
    with pytest.raises(CryptoError, match="bukan milik basis data ini"):
        create_app(eng.settings, engine=stranger)
