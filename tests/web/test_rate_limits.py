"""Abuse limits (webapp/ratelimit.py): each limit with low settings. The N+1-th request is 429 with a page (or
JSON) in Indonesian and English saying how long to wait, and Retry-After; another visitor (address, token) is
not affected; the limit lets the client in again after its window (the limiter's time moved, not waited for);
nothing is stored by a refused filing; no address or token is kept or logged in clear; the settings refuse bad
values in one line."""

from __future__ import annotations

import logging
import time as real_time

import limits.storage.memory
import pytest

from tests.helpers import GIFT_FORM
from tests.web.conftest import Browser, count_cases
from wbs_engine import apitokens
from wbs_engine.config import RATE_LIMIT_NAMES, ConfigError, RateLimits, Settings, parse_rate_limit
from webapp import create_app, ratelimit

COMPLAINT = {
    "identitas": "anonim",
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}
OTHER = {"REMOTE_ADDR": "10.9.8.7"}
ADDRESS = "203.0.113.77"
HERE = {"REMOTE_ADDR": ADDRESS}


class FakeTime:
    """Stands for the ``time`` module in the limiter's memory storage and in webapp.ratelimit."""

    def __init__(self) -> None:
        self.now = real_time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


@pytest.fixture
def low(make_wbs, tmp_path, fake_time):
    """An engine and app whose every limit is 2 requests (3 for sign-in) per window."""
    from tests.helpers import seed_people

    low_limits = RateLimits(
        filing="2 per 1 hour",
        tracking="2 per 10 minute",
        verify="2 per 10 minute",
        sign_in="3 per 15 minute",
        api="3 per 1 minute",
    )
    eng = make_wbs(f"sqlite:///{tmp_path / 'limits.sqlite3'}", rate_limits=low_limits)
    seed_people(eng)
    return eng, create_app(eng.settings, engine=eng)


def visitor(app, environ: dict) -> Browser:
    b = Browser(app)
    b.client.environ_base.update(environ)
    return b


def file_once(b: Browser, lang: str = "id"):
    b.get(f"/lapor/pengaduan?identitas=anonim&lang={lang}")
    return b.post(f"/lapor/pengaduan?lang={lang}", COMPLAINT)


def assert_refused(res, page: str, lang: str, window: int) -> None:
    assert res.status_code == 429
    wait = int(res.headers["Retry-After"])
    assert 0 < wait <= window
    if lang == "id":
        assert "Terlalu banyak permintaan dari sini" in page and ("menit" in page or "detik" in page)
    else:
        assert "Too many requests from here" in page and ("minutes" in page or "seconds" in page)
    assert "Traceback" not in page


def test_filing_limit_refuses_the_third_form_in_both_languages_others_unaffected_and_resets(low, fake_time):
    eng, app = low
    me = visitor(app, HERE)
    assert file_once(me).status_code == 303
    assert file_once(me).status_code == 303
    before = count_cases(eng)
    res = file_once(me)
    assert_refused(res, me.page, "id", 3600)
    assert "Tunggu 60 menit" in me.page  # the full hour: the time has not moved
    res = file_once(me, "en")
    assert_refused(res, me.page, "en", 3600)
    assert "Wait 60 minutes" in me.page
    assert count_cases(eng) == before  # a refused filing stores nothing
    # the form itself (GET) is not counted, another address may still file
    assert me.get("/lapor/pengaduan").status_code == 200
    assert file_once(visitor(app, OTHER)).status_code == 303
    fake_time.advance(30 * 60)
    assert file_once(me).status_code == 429 and "Tunggu 30 menit" in me.page
    fake_time.advance(30 * 60 + 1)
    assert file_once(me).status_code == 303  # a new window
    assert count_cases(eng) == before + 2


def look_up(app, environ: dict, code: str, lang: str = "id"):
    b = visitor(app, environ)  # a new browser each time: the same address, no session
    b.get(f"/lacak/?lang={lang}")
    return b.post(f"/lacak/?lang={lang}", {"kode": code}), b


def test_tracking_lookups_are_limited_right_codes_too(low, fake_time):
    eng, app = low
    made = eng.create_case(
        "pengaduan", {k: v for k, v in COMPLAINT.items() if k != "identitas"}, identity_mode="anonim"
    )
    assert look_up(app, HERE, made.receipt_code)[0].status_code == 303  # a right code counts here too
    assert look_up(app, HERE, "SALAH-SALAH-SALAH")[0].status_code == 404
    res, b = look_up(app, HERE, made.receipt_code, "en")
    assert_refused(res, b.page, "en", 600)  # the third look-up in the window, even with the right code
    assert "Wait 10 minutes" in b.page
    res, b = look_up(app, HERE, made.receipt_code)
    assert_refused(res, b.page, "id", 600)
    assert look_up(app, OTHER, made.receipt_code)[0].status_code == 303
    fake_time.advance(601)
    assert look_up(app, HERE, made.receipt_code)[0].status_code == 303


def test_proof_checks_are_limited_the_page_is_not(low, fake_time):
    _eng, app = low
    me = visitor(app, HERE)
    for _ in range(5):
        assert me.get("/verifikasi").status_code == 200  # the page alone is not a check
    assert me.get("/verifikasi?s=x").status_code == 200
    assert me.get("/verifikasi?s=y").status_code == 200
    res = me.get("/verifikasi?s=z")
    assert_refused(res, me.page, "id", 600)
    me.get("/verifikasi?lang=en")
    res = me.post("/verifikasi?lang=en", {})
    assert_refused(res, me.page, "en", 600)
    assert visitor(app, OTHER).get("/verifikasi?s=x").status_code == 200
    fake_time.advance(601)
    assert me.get("/verifikasi?s=x").status_code == 200


def sign_in_once(app, environ: dict, password: str = "rahasia-demo-123", lang: str = "id"):
    b = visitor(app, environ)
    b.get(f"/staf/masuk?lang={lang}")
    return b.post(f"/staf/masuk?lang={lang}", {"username": "pengelola", "password": password}), b


def test_sign_in_posts_are_limited_successes_too_and_the_failure_throttle_still_works(low, fake_time):
    _eng, app = low
    assert sign_in_once(app, HERE)[0].status_code == 303
    assert sign_in_once(app, HERE, "salah-sekali")[0].status_code == 401
    assert sign_in_once(app, HERE)[0].status_code == 303
    res, b = sign_in_once(app, HERE, lang="en")
    assert_refused(res, b.page, "en", 900)  # the right password, but the fourth sign-in from here
    assert "Wait 15 minutes" in b.page
    res, b = sign_in_once(app, HERE)
    assert_refused(res, b.page, "id", 900)
    assert sign_in_once(app, OTHER)[0].status_code == 303
    fake_time.advance(901)
    assert sign_in_once(app, HERE)[0].status_code == 303
    # the per-account failure throttle of webapp/auth.py still locks an account guessed from many addresses
    for i in range(4):  # with the one failure above (its throttle does not see the limiter's time): five
        assert sign_in_once(app, {"REMOTE_ADDR": f"10.0.0.{i}"}, "salah-sekali")[0].status_code == 401
    res, b = sign_in_once(app, {"REMOTE_ADDR": "10.0.0.99"})
    assert res.status_code == 429 and "Terlalu banyak permintaan dari sini" not in b.page


def test_the_api_is_limited_per_token_with_json(low, fake_time):
    eng, app = low
    one = apitokens.create_token(eng, "pengelola", "satu")
    two = apitokens.create_token(eng, "pengelola", "dua")
    client = app.test_client()
    client.environ_base.update(HERE)
    for _ in range(3):
        assert client.get("/api/v1/queues", headers={"Authorization": f"Bearer {one}"}).status_code == 200
    res = client.get("/api/v1/queues", headers={"Authorization": f"Bearer {one}"})
    assert res.status_code == 429 and res.is_json
    body = res.get_json()
    assert body["code"] == "rate_limited" and body["params"]["seconds"] == int(res.headers["Retry-After"])
    assert 0 < body["params"]["seconds"] <= 60 and "Terlalu banyak permintaan" in body["message"]
    res = client.get("/api/v1/queues?lang=en", headers={"Authorization": f"Bearer {one}"})
    assert res.status_code == 429 and "Too many requests" in res.get_json()["message"]
    # another token from the same address is not affected
    assert client.get("/api/v1/queues", headers={"Authorization": f"Bearer {two}"}).status_code == 200
    # guessing tokens is limited too (each guess is its own key; no token: the address)
    statuses = [client.get("/api/v1/queues").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    fake_time.advance(61)
    assert client.get("/api/v1/queues", headers={"Authorization": f"Bearer {one}"}).status_code == 200


def test_no_address_or_token_is_kept_or_logged(low, fake_time, caplog):
    eng, app = low
    token = apitokens.create_token(eng, "pengelola", "satu")
    caplog.set_level(logging.DEBUG)
    me = visitor(app, HERE)
    for _ in range(3):
        file_once(me)
        me.get("/verifikasi?s=x")
        app.test_client().get("/api/v1/queues", headers={"Authorization": f"Bearer {token}"}, environ_base=HERE)
    assert me.get("/verifikasi?s=x").status_code == 429
    storage = app.extensions["wbs_limiter"]._storage
    kept = " ".join(list(storage.storage) + list(storage.expirations))
    assert kept  # something is counted...
    for secret in (ADDRESS, token, token.split("_", 1)[-1]):
        assert secret not in kept  # ...but never the address or the token
    assert ADDRESS not in caplog.text and token not in caplog.text


def test_a_limit_switched_off_does_not_count(make_wbs, tmp_path, fake_time):
    eng = make_wbs(f"sqlite:///{tmp_path / 'off.sqlite3'}", rate_limits=RateLimits(filing="", verify="1/hour"))
    app = create_app(eng.settings, engine=eng)
    me = visitor(app, HERE)
    assert all(file_once(me).status_code == 303 for _ in range(25))


def test_settings_read_the_limits_and_refuse_bad_ones_in_one_line():
    got = Settings.from_env(
        {
            "WBS_RATE_LIMIT_FILING": "5/minute",
            "WBS_RATE_LIMIT_API": "off",
            "WBS_RATE_LIMIT_TRACKING": "30 per 10 minutes",
        }
    ).rate_limits
    assert got.filing == "5 per 1 minute" and got.api == "" and got.tracking == "30 per 10 minute"
    assert got.storage == "memory://" and got.verify == RateLimits().verify
    assert set(RATE_LIMIT_NAMES) <= set(vars(got))
    assert parse_rate_limit("20 per hour", "X") == "20 per 1 hour"
    for name in ("WBS_RATE_LIMIT_FILING", "WBS_RATE_LIMIT_SIGN_IN"):
        for bad in ("banyak", "0/minute", "5 per fortnight", "-1/hour", "99999999/day"):
            with pytest.raises(ConfigError) as err:
                Settings.from_env({name: bad})
            assert name in str(err.value) and "\n" not in str(err.value)
            assert "harus berbentuk seperti" in err.value.message("id") and "must look like" in err.value.message("en")
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"WBS_RATE_LIMIT_STORAGE": "/tmp/counts"})
    assert "WBS_RATE_LIMIT_STORAGE" in err.value.message("en")


GIFT = GIFT_FORM


def employee(app, username: str, environ: dict) -> Browser:
    from tests.web.conftest import sign_in

    b = visitor(app, environ)
    assert sign_in(b, username).status_code == 303
    return b


def file_gift(b: Browser, lang: str = "id"):
    b.get(f"/staf/laporan-saya/baru/gratifikasi?lang={lang}")
    return b.post(f"/staf/laporan-saya/baru/gratifikasi?lang={lang}", GIFT)


def test_an_employees_own_filing_is_limited_per_account_not_per_address(low, fake_time):
    from wbs_engine.users import create_or_update_user, parse_grant

    eng, app = low
    create_or_update_user(eng, "pegawai.dua", [parse_grant("pegawai")], password="rahasia-demo-123")
    me = employee(app, "pegawai", HERE)
    assert file_gift(me).status_code == 303
    assert file_gift(me).status_code == 303
    before = count_cases(eng)
    res = file_gift(me)
    assert_refused(res, me.page, "id", 3600)
    assert "Tunggu 60 menit" in me.page
    res = file_gift(me, "en")
    assert_refused(res, me.page, "en", 3600)
    assert count_cases(eng) == before  # a refused filing stores nothing
    # the same account from another address: still refused (the account is counted, not where it is)
    elsewhere = employee(app, "pegawai", OTHER)
    assert_refused(file_gift(elsewhere), elsewhere.page, "id", 3600)
    # another employee behind the same address files, and so does the public there (its own count)
    colleague = employee(app, "pegawai.dua", HERE)
    assert file_gift(colleague).status_code == 303
    assert file_once(visitor(app, HERE)).status_code == 303
    assert count_cases(eng) == before + 2
    # the form itself (GET) is not counted; a new window lets the account file again
    assert me.get("/staf/laporan-saya/baru/gratifikasi").status_code == 200
    fake_time.advance(3601)
    assert file_gift(me).status_code == 303
