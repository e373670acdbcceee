"""Sign-in with a second factor, throttling and the account page: each promise attacked."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlmodel import select

from tests.web.conftest import Browser, sign_in
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent, OfficeSetting, User
from wbs_engine.users import create_or_update_user, parse_grant
from webapp.auth import is_public

PW = "rahasia-demo-123"
FAIL = re.compile(r'id="err-(?:masuk|kode)">([^<]+)<')


def events(engine, kind):
    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id)).all()


@pytest.fixture
def admin_user(web_engine):
    create_or_update_user(web_engine, "admin", [parse_grant("admin")], password=PW)
    return "admin"


def enrol(browser, clock, username="pengelola"):
    """A handler (not required) enrols from the account page; returns (secret, recovery codes)."""
    assert sign_in(browser, username, clock=clock).status_code == 303
    browser.get("/staf/akun/faktor-kedua")
    secret = re.search(r'id="totp-key">([^<]+)<', browser.page).group(1).replace(" ", "")
    res = browser.post("/staf/akun/faktor-kedua", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert res.status_code == 200 and res.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", browser.page)
    assert len(codes) == 10
    sign_out(browser)
    return secret, codes


def sign_out(browser):
    browser.get("/staf/akun")  # a page with the form's CSRF token
    browser.post("/staf/keluar")


def password_step(browser, username="pengelola"):
    browser.get("/staf/masuk")
    return browser.post("/staf/masuk", {"username": username, "password": PW})


def code_step(browser, code):
    browser.get("/staf/faktor-kedua")
    return browser.post("/staf/faktor-kedua", {"code": code})


def test_enrolled_user_needs_the_code_and_each_code_works_once(browser, web_engine, clock):
    secret, codes = enrol(browser, clock)
    assert events(web_engine, "totp_enrolled")[-1].payload == {"user": "pengelola", "renewed": False}
    clock.advance(seconds=60)
    res = password_step(browser)
    assert res.headers["Location"].endswith("/staf/faktor-kedua")
    assert browser.get("/staf/").status_code == 303  # pending: no staff page yet
    signed_in_before = len(events(web_engine, "signed_in"))
    pending_cookie = browser.client.get_cookie("wbs_session").value

    answers = []
    res = code_step(browser, "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "111111")
    answers.append((res.status_code, FAIL.search(browser.page).group(1)))
    good = pyotp.TOTP(secret).at(clock.now)
    res = code_step(browser, good)
    assert res.status_code == 303
    assert len(events(web_engine, "signed_in")) == signed_in_before + 1
    assert events(web_engine, "signed_in")[-1].payload == {"factor": "totp"}
    assert browser.client.get_cookie("wbs_session").value != pending_cookie  # a new session after the code
    assert browser.get("/staf/").status_code == 200
    sign_out(browser)

    # the same code (same time step) again: refused, even though it is still "current"
    password_step(browser)
    res = code_step(browser, good)
    answers.append((res.status_code, FAIL.search(browser.page).group(1)))
    # a recovery code works once
    res = code_step(browser, codes[0].upper())
    assert res.status_code == 303
    assert events(web_engine, "signed_in")[-1].payload == {"factor": "recovery"}
    sign_out(browser)
    password_step(browser)
    res = code_step(browser, codes[0])
    assert res.status_code == 401, (res.status_code, res.headers, browser.page[-3000:])
    answers.append((res.status_code, FAIL.search(browser.page).group(1)))
    assert {a for a in answers} == {answers[0]}  # one status, one message for every kind of failure
    assert answers[0][0] == 401
    failed = events(web_engine, "sign_in_failed")
    assert [e.payload for e in failed] == [{"step": "code", "user": "pengelola"}] * 3
    # the old pending cookie is dead
    other = browser.app.test_client()
    other.set_cookie("wbs_session", pending_cookie)
    assert other.get("/staf/").status_code == 303


def test_required_role_reaches_nothing_before_enrolling(app, web_engine, admin_user, clock):
    browser = Browser(app)
    res = password_step(browser, "admin")
    assert res.headers["Location"].endswith("/staf/akun/faktor-kedua")
    assert events(web_engine, "signed_in") == []
    # walk every route with the pending session: only the enrolment, the code page and sign-out answer
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/staf/akun").get_data(as_text=True) or "")
    browser.get("/staf/akun/faktor-kedua")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.page).group(1)
    allowed = {"auth.enrol", "auth.enrol_post", "auth.second_factor", "auth.second_factor_post", "auth.sign_out"}
    reached = []
    for rule in app.url_map.iter_rules():
        if is_public(app, rule.endpoint) or rule.endpoint in allowed or rule.endpoint.startswith("api."):
            continue
        url = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            res = browser.client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            if not (res.status_code == 303 and res.headers["Location"].endswith("/staf/akun/faktor-kedua")):
                reached.append((rule.endpoint, method, res.status_code))
    assert reached == []
    # the code page sends a user without a second factor to enrolment
    assert browser.get("/staf/faktor-kedua").headers["Location"].endswith("/staf/akun/faktor-kedua")
    res = sign_in(Browser(app), "admin", clock=clock)
    assert res.status_code == 200 and "recovery" not in res.headers.get("Location", "")
    assert [e.actor for e in events(web_engine, "signed_in")] == ["admin"]


def test_wrong_enrolment_code_reshows_the_form(app, admin_user):
    browser = Browser(app)
    password_step(browser, "admin")
    browser.get("/staf/akun/faktor-kedua")
    key = re.search(r'id="totp-key">([^<]+)<', browser.page).group(1)
    res = browser.post("/staf/akun/faktor-kedua", {"code": "12345x"})
    assert res.status_code == 422
    assert 'id="err-code"' in browser.page
    assert re.search(r'id="totp-key">([^<]+)<', browser.page).group(1) == key  # the same secret to retry


def test_totp_roles_setting_decides(app, web_engine):
    browser = Browser(app)
    assert password_step(browser, "pengelola").headers["Location"].endswith("/staf/")
    with unit_of_work(web_engine.db) as s:
        s.add(OfficeSetting(key="totp_roles", value=["pengelola"], updated_by="t", updated_at=web_engine.now()))
    browser = Browser(app)
    assert password_step(browser, "pengelola").headers["Location"].endswith("/staf/akun/faktor-kedua")
    browser = Browser(app)
    assert password_step(browser, "auditor").headers["Location"].endswith("/staf/")  # default no longer applies


def test_throttle_per_account(app, web_engine):
    browser = Browser(app)
    for _ in range(5):
        browser.get("/staf/masuk")
        assert browser.post("/staf/masuk", {"username": "pengelola", "password": "salah-salah-1"}).status_code == 401
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": "pengelola", "password": PW})
    assert res.status_code == 429
    locked = FAIL.search(browser.page).group(1)
    # an unknown account: the same lock, the same words
    for _ in range(5):
        browser.get("/staf/masuk")
        browser.post("/staf/masuk", {"username": "tidak-ada", "password": "salah-salah-1"})
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": "tidak-ada", "password": "x"})
    assert res.status_code == 429 and FAIL.search(browser.page).group(1) == locked
    # another account is not affected
    browser.get("/staf/masuk")
    assert browser.post("/staf/masuk", {"username": "petugas", "password": PW}).status_code == 303
    failed = events(web_engine, "sign_in_failed")
    assert len(failed) == 10
    assert [e.payload for e in failed[:5]] == [{"step": "password", "user": "pengelola"}] * 5
    assert [e.payload for e in failed[5:]] == [{"step": "password"}] * 5  # nothing a person typed
    assert {e.actor for e in failed[5:]} == {"system"}
    locks = events(web_engine, "sign_in_locked")
    assert [e.payload for e in locks] == [{"scope": "account", "user": "pengelola"}, {"scope": "account"}]
    # nothing stored holds the password typed or the address
    with unit_of_work(web_engine.db, write=False) as s:
        dump = " ".join(str(e.payload) + e.actor for e in s.exec(select(CaseEvent)).all())
    assert "salah-salah-1" not in dump and "127.0.0.1" not in dump and "tidak-ada" not in dump


def test_throttle_per_address(app, web_engine):
    browser = Browser(app)
    for i in range(20):
        browser.get("/staf/masuk")
        assert browser.post("/staf/masuk", {"username": f"orang{i}", "password": "x"}).status_code == 401
    browser.get("/staf/masuk")
    assert browser.post("/staf/masuk", {"username": "pengelola", "password": PW}).status_code == 429
    assert [e.payload for e in events(web_engine, "sign_in_locked")] == [{"scope": "address"}]
    other = Browser(app)
    other.client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    other.get("/staf/masuk")
    assert other.post("/staf/masuk", {"username": "pengelola", "password": PW}).status_code == 303


def test_no_address_anywhere_in_the_database(app, web_engine, tmp_path):
    browser = Browser(app)
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    for pw in ("salah-1-salah", PW):
        browser.get("/staf/masuk")
        browser.post("/staf/masuk", {"username": "pengelola", "password": pw})
    raw = (tmp_path / "web.sqlite3").read_bytes()
    assert b"203.0.113.77" not in raw and b"salah-1-salah" not in raw


def test_idle_session_says_it_ended(browser, clock):
    assert sign_in(browser, "pengelola").status_code == 303
    clock.advance(minutes=31)
    res = browser.get("/staf/")
    assert res.status_code == 303
    browser.get(res.headers["Location"])
    assert 'role="status"' in browser.page


def test_change_password_ends_other_sessions(app, web_engine):
    one, two = Browser(app), Browser(app)
    sign_in(one, "pengelola")
    sign_in(two, "pengelola")
    one.get("/staf/akun")
    res = one.post("/staf/akun/sandi", {"current": "salah", "new": "baru-sekali-123", "repeat": "baru-sekali-123"})
    assert res.status_code == 422 and 'id="err-current"' in one.page
    res = one.post("/staf/akun/sandi", {"current": PW, "new": "pendek", "repeat": "pendek"})
    assert res.status_code == 422 and 'id="err-new"' in one.page
    res = one.post("/staf/akun/sandi", {"current": PW, "new": "baru-sekali-123", "repeat": "baru-sekali-124"})
    assert res.status_code == 422 and 'id="err-repeat"' in one.page
    res = one.post("/staf/akun/sandi", {"current": PW, "new": "baru-sekali-123", "repeat": "baru-sekali-123"})
    assert res.status_code == 200
    assert one.get("/staf/").status_code == 200  # this session stays
    assert two.get("/staf/").status_code == 303  # the other one ended
    ev = events(web_engine, "password_changed")[-1]
    assert ev.payload == {"user": "pengelola", "sessions_ended": 1}
    assert "baru-sekali-123" not in str(ev.payload)
    assert sign_in(Browser(app), "pengelola", "baru-sekali-123").status_code == 303


def test_reenrol_and_new_recovery_codes_need_a_current_code(browser, web_engine, clock):
    secret, _codes = enrol(browser, clock)
    clock.advance(seconds=30)
    password_step(browser)
    code_step(browser, pyotp.TOTP(secret).at(clock.now))
    clock.advance(seconds=30)
    browser.get("/staf/akun")
    res = browser.post("/staf/akun/kode-pemulihan", {"code": "000000"})
    assert res.status_code == 422
    res = browser.post("/staf/akun/kode-pemulihan", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert res.status_code == 200 and len(re.findall(r"<li>[a-z0-9]{5}-[a-z0-9]{5}</li>", browser.page)) == 10
    assert events(web_engine, "recovery_codes_renewed")[-1].payload == {"user": "pengelola"}
    clock.advance(seconds=30)
    browser.get("/staf/akun/faktor-kedua")
    new = re.search(r'id="totp-key">([^<]+)<', browser.page).group(1).replace(" ", "")
    res = browser.post("/staf/akun/faktor-kedua", {"code": pyotp.TOTP(new).at(clock.now), "current_code": "123456"})
    assert res.status_code == 422 and 'id="err-current_code"' in browser.page
    res = browser.post(
        "/staf/akun/faktor-kedua",
        {"code": pyotp.TOTP(new).at(clock.now), "current_code": pyotp.TOTP(secret).at(clock.now)},
    )
    assert res.status_code == 200
    assert events(web_engine, "totp_enrolled")[-1].payload == {"user": "pengelola", "renewed": True}
    with unit_of_work(web_engine.db, write=False) as s:
        user = s.exec(select(User).where(User.username == "pengelola")).one()
        assert new not in (user.totp_secret_enc or "")  # sealed, never in clear
        assert web_engine.keyring.open_office(user.totp_secret_enc) == new


def test_events_are_on_the_system_chain(browser, web_engine, clock):
    enrol(browser, clock)
    for kind in ("signed_in", "signed_out", "totp_enrolled"):
        assert {e.chain for e in events(web_engine, kind)} == {audit.SYSTEM_CHAIN}
