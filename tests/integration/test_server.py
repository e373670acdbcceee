"""The production server: gunicorn with the repository's config (deploy/gunicorn.conf.py) serves
``webapp.wsgi:app``; a report filed through the real form gets its receipt, and the access log holds no
address, no query string and no tracking code (webapp/serverlog.py)."""

from __future__ import annotations

import socket

import pytest

from tests.helpers import seed_people
from tests.integration.served import CONFIG, Gunicorn, engine_env, file_report
from wbs_engine.tracking import tracking_view


def test_gunicorn_serves_a_filing_and_its_access_log_names_no_one(make_wbs, db_url, tmp_path):
    eng = make_wbs(db_url)
    seed_people(eng, [])
    server = Gunicorn(engine_env(eng, tmp_path), tmp_path)
    try:
        server.start()
        import requests

        http = requests.Session()
        number, code = file_report(server.url, http)
        # a tracking code typed where it does not belong: in a query string and in a path
        requests.get(f"{server.url}/verifikasi?s={code}", timeout=30)
        requests.get(f"{server.url}/lacak/{code}", timeout=30)
        requests.get(f"{server.url}/?kode={code}", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30)
        http.post(f"{server.url}/tanda-terima/selesai", timeout=30)
        # a request gunicorn cannot parse, quoting the code: gunicorn would log "Invalid request from ip=..."
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            raw.sendall(f"GET /?kode={code} HTTP/1.1 x\r\n\r\n".encode())
            raw.recv(4096)
        assert server.stop() == 0, server.errors()
    finally:
        server.close()
    view = tracking_view(eng, code)
    assert view["number"] == number
    log = server.access_log.read_text()
    lines = log.splitlines()
    assert any('"POST /lapor/pengaduan" 303' in line for line in lines), log
    assert any('"GET /tanda-terima" 200' in line for line in lines), log
    assert any('"GET /verifikasi" 200' in line for line in lines), log
    assert code not in log and code.replace("-", "") not in log
    assert "127.0.0.1" not in log and "203.0.113.9" not in log
    assert "?" not in log and "python-requests" not in log  # no query, no user agent
    errors = server.errors()
    assert "Invalid request" in errors and "ip=" not in errors, errors
    assert code not in errors and "203.0.113.9" not in errors


def test_the_config_logs_no_address_in_its_format():
    text = CONFIG.read_text()
    from webapp.serverlog import ACCESS_LOG_FORMAT

    for atom in ("%(h)s", "%(r)s", "%(q)s", "%(f)s", "%(a)s", "}i)s", "}e)s"):
        assert atom not in ACCESS_LOG_FORMAT
    assert 'logger_class = "webapp.serverlog.PrivateLogger"' in text
    assert 'wsgi_app = "webapp.wsgi:app"' in text


def test_a_bad_setting_stops_gunicorn_at_start_with_one_line(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    server = Gunicorn(engine_env(eng, tmp_path, WBS_PROXY_COUNT="many"), tmp_path)
    try:
        with pytest.raises(AssertionError, match="gunicorn exited"):
            server.start()
    finally:
        server.close()
    errors = server.errors()
    assert "wbs: WBS_PROXY_COUNT harus" in errors or "wbs: WBS_PROXY_COUNT must" in errors, errors
    assert "Traceback" not in errors


def test_proxy_count_puts_proxyfix_in_front_for_that_many_proxies(make_wbs, tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from webapp.wsgi import build

    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    env = engine_env(eng, tmp_path)
    assert not isinstance(build(env).wsgi_app, ProxyFix)  # default: no proxy trusted
    app = build({**env, "WBS_PROXY_COUNT": "1"})
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 1 and app.wsgi_app.x_proto == 1
    seen = {}

    def inner(environ, start_response):  # what the app behind ProxyFix is given
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("204 No Content", [])
        return [b""]

    app.wsgi_app.app = inner
    app.test_client().get("/", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "198.51.100.7", "scheme": "https"}
