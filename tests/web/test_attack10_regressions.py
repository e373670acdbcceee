"""The public web's breaks found by the attacker's review (branch attack10, attack10/NN_*.py), each replayed
the way the script did it, with what must hold now."""

from __future__ import annotations

import base64
import http.client
import io
import logging
import re
import socket
import threading
import zlib

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import Browser, count_cases
from tests.web.test_public import COMPLAINT, RECEIPT, file_complaint
from webapp import security


@pytest.fixture
def quiet_server(app):
    """The app behind `wbs run`'s request handler, on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=security.QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


class Client:
    """A tiny HTTP client from a chosen loopback address, keeping one cookie and the page's CSRF token."""

    def __init__(self, port: int, source: str):
        self.port, self.source, self.cookie, self.csrf = port, source, None, None

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, source_address=(self.source, 0), timeout=10)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode({**form, "csrf_token": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        page = res.read().decode("utf-8", "replace")
        if cookie := res.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        if m := re.search(r'name="csrf_token" value="([^"]+)"', page):
            self.csrf = m.group(1)
        conn.close()
        return res.status, page


def test_05_wrong_codes_from_one_client_do_not_lock_out_another(quiet_server, web_engine, app):
    _number, code = file_complaint(Browser(app))
    guesser, reporter = Client(quiet_server, "127.0.0.201"), Client(quiet_server, "127.0.0.202")
    guesser.request("GET", "/lacak/")
    for _ in range(security.THROTTLE_TRIES + 2):
        guesser.request("POST", "/lacak/", {"kode": "AAAA-BBBB-CCCC-DDDD"})
    assert guesser.request("POST", "/lacak/", {"kode": code})[0] == 429  # the guesser waits, even with a code
    reporter.request("GET", "/lacak/")
    assert reporter.request("POST", "/lacak/", {"kode": code})[0] == 303


def test_04_simultaneous_guesses_are_counted_before_they_are_checked(app, web_engine):
    browser = Browser(app)
    browser.get("/lacak/")
    form = {**browser.hidden(), "kode": "AAAA-BBBB-CCCC-DDDD"}
    cookie = browser.client.get_cookie("wbs_session").value
    looked_up = []
    original = web_engine.reporter

    def counting(session, code):
        looked_up.append(code)
        return original(session, code)

    web_engine.reporter = counting  # type: ignore[method-assign]
    statuses = []

    def guess():
        c = app.test_client()
        c.set_cookie("wbs_session", cookie)
        statuses.append(c.post("/lacak/", data=form).status_code)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(looked_up) == security.THROTTLE_TRIES and statuses.count(429) == 30 - security.THROTTLE_TRIES


def test_16_leave_also_removes_the_receipt(browser, web_engine):
    _number, code = file_complaint(browser)
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    browser.get("/lacak/perkara")
    browser.post("/lacak/keluar")
    assert browser.get("/tanda-terima").status_code == 404 and code not in browser.page


def test_the_receipt_cookie_says_nothing_in_the_clear(browser, web_engine):
    number, code = file_complaint(browser)
    value = browser.client.get_cookie("wbs_session").value
    payload = value.split(".")[1] if not value.startswith(".") else value.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    text = zlib.decompress(raw).decode() if value.startswith(".") else raw.decode()
    assert number not in text and code not in text and "pengaduan" not in text


def test_01_the_access_log_holds_no_address_or_query_even_for_a_bad_request(quiet_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    for raw in (
        b"GET /lacak/?kode=WKQQ-RAHASIA HTTP/9.9\r\n\r\n",  # a request line the server refuses
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # TLS spoken to the plain port
    ):
        with socket.create_connection(("127.0.0.1", quiet_server), source_address=("127.0.0.93", 0)) as s:
            s.settimeout(5)
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.93" not in logged and "RAHASIA" not in logged and "kode=" not in logged


def test_08b_a_form_stays_valid_for_a_day_and_the_tracking_cookie_ends_with_the_browser(app, browser, web_engine):
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() >= app.config["WTF_CSRF_TIME_LIMIT"]
    _number, code = file_complaint(Browser(app))
    browser.get("/lacak/")
    res = browser.post("/lacak/", {"kode": code})
    assert "Expires=" not in res.headers["Set-Cookie"]  # a browser-session cookie, not written to last


def test_12_the_language_switch_never_leaves_the_site(browser):
    res = browser.get("/%5Cevil.example/lacak")
    assert res.status_code == 404
    links = re.findall(r'href="([^"]+)" hreflang=', browser.page)
    assert links == ["/?lang=en"]
    browser.get("/lacak/?lang=id")
    assert re.findall(r'href="([^"]+)" hreflang=', browser.page) == ["/lacak/?lang=en"]


def test_10_a_huge_attachment_id_is_not_found_not_a_crash(browser, web_engine):
    _number, code = file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    for path in ("/lacak/lampiran/99999999999999999999999", "/lacak/lampiran/9223372036854775808"):
        assert browser.get(path).status_code == 404


def test_11c_the_web_form_needs_its_filing_token(browser, web_engine):
    browser.get("/lapor/pengaduan?identitas=anonim")
    form = {"csrf_token": browser.hidden()["csrf_token"], "identitas": "anonim", **COMPLAINT}
    res = browser.post("/lapor/pengaduan", form, keep_hidden=False)
    assert res.status_code == 422 and "Formulir tidak lengkap" in browser.page
    assert COMPLAINT["uraian"] in browser.page and count_cases(web_engine) == 0
    assert browser.hidden()["token"]  # a fresh token: sent again, it files the case
    assert browser.post("/lapor/pengaduan", {"identitas": "anonim", **COMPLAINT}).status_code == 303


def test_17_a_link_that_chooses_the_open_mode_says_so(browser):
    page = browser.get("/lapor/wbs?identitas=terbuka").get_data(as_text=True)
    assert "Anda melapor secara: Terbuka." in page and "Bila Anda tidak memilihnya sendiri" in page
    assert "Anda melapor secara" not in browser.get("/lapor/wbs").get_data(as_text=True)


def test_a_form_sent_back_with_what_was_typed_is_not_cached(browser):
    browser.get("/lapor/pengaduan?identitas=anonim")
    res = browser.post("/lapor/pengaduan", {"identitas": "anonim", "uraian": "pendek"})
    assert res.status_code == 422 and res.headers["Cache-Control"] == "no-store"


def test_uploads_are_held_in_memory_not_in_temporary_files(browser, web_engine, monkeypatch):
    import tempfile

    made = []
    real = tempfile.SpooledTemporaryFile

    def spy(*a, **kw):
        made.append(kw)
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", spy)
    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    browser.get("/lapor/pengaduan?identitas=anonim")
    big = b"%PDF-1.4\n" + b"0" * 900_000 + b"\n%%EOF\n"
    data = {"identitas": "anonim", **COMPLAINT, "lampiran": (io.BytesIO(big), "besar.pdf")}
    browser.post("/lapor/pengaduan", data, content_type="multipart/form-data")
    assert made == []
    assert RECEIPT  # the module's pattern is shared with test_public
