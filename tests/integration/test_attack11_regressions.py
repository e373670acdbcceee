"""The breaks the attacker's review of the staff web found (scripts on branch ``attack11``), replayed: each
test does what the attack did and asserts what each audience now sees. SQLite and PostgreSQL where the
database matters."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlmodel import select

from tests.helpers import COMPLAINT, seed_people
from tests.web.conftest import Browser, sign_in
from wbs_engine import apitokens, assignment, crypto, users
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, ValidationFailed
from wbs_engine.models import CaseEvent
from wbs_engine.users import create_or_update_user, parse_grant
from webapp import create_app

WBS_REPORT = {
    "kategori": "gratifikasi_suap",
    "apa": "Kepala seksi menerima uang dari rekanan proyek jalan desa agar pemenang lelang diatur.",
    "siapa": "Kepala seksi sarana",
    "nama": "Rudi Hartono Wibisono",
}


@pytest.fixture
def office(wbs):
    seed_people(wbs)
    create_or_update_user(wbs, "admin", [parse_grant("admin")], password="rahasia-demo-123")
    return wbs


def _events(eng, kind: str) -> list:
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id)).all()


def test_02_the_assign_list_does_not_single_out_the_reporter(office):
    """An investigator who also holds `pegawai` files a rahasia WBS report from their account. The WBS
    pengelola (who may not see who reported) gets the same list on that case as on any other, and firing the
    registration with the reporter's name gets the answer any unassignable name gets."""
    eng = office
    create_or_update_user(eng, "investigator", [parse_grant("pegawai")])
    theirs = eng.create_case("wbs", WBS_REPORT, identity_mode="rahasia", filed_by=eng.load_actor("investigator"))
    other = eng.create_case("wbs", WBS_REPORT, identity_mode="rahasia")
    pengelola = eng.load_actor("pengelola")

    def names(number):
        return [c.username for c in assignment.assignable_users(eng, number, pengelola)]

    assert names(theirs.number) == names(other.number) and "investigator" in names(theirs.number)
    choices = [assignment.user_choices(eng, c.number, pengelola) for c in (theirs, other)]
    assert choices[0] == choices[1]
    answers = []
    for who in ("investigator", "pegawai"):  # the reporter; someone who handles no WBS case
        with pytest.raises(ValidationFailed) as err:
            eng.fire(theirs.number, "mulai_verifikasi", pengelola, {"petugas": who})
        answers.append(err.value.field_errors("en")["petugas"].replace(who, "X"))
    assert answers[0] == answers[1]
    # the atasan, who may read the case's recusals and its reporter, is told why
    listed = {c.username: c for c in assignment.assignable_users(eng, theirs.number, eng.load_actor("atasan"))}
    assert listed["investigator"].offered is False and listed["investigator"].why_not is not None


def test_04_a_declaration_cannot_confirm_a_hidden_reporter(office):
    """telaah reads the WBS report but not who wrote it; declaring the suspected reporter's name must not take
    the case away (which would confirm the guess). A name in what telaah may read still does."""
    eng = office
    case = eng.create_case("wbs", WBS_REPORT, identity_mode="rahasia")
    telaah = eng.load_actor("telaah")
    create_or_update_user(eng, "telaah", [parse_grant("pegawai")])
    declaration = {
        "jalur": "deklarasi_mandiri",
        "jenis": "potensial",
        "sumber": "keluarga",
        "nama_pejabat": "Tono",
        "kegiatan": "Telaah laporan WBS",
        "uraian": "Saya menduga pelapor adalah kerabat saya sendiri dan ingin memastikannya.",
        "pihak_terkait": "Rudi Hartono Wibisono",
    }
    eng.create_case("benturan_kepentingan", declaration, identity_mode="terbuka", filed_by=eng.load_actor("telaah"))
    from wbs_engine.views import case_view

    assert case_view(eng, case.number, eng.load_actor("telaah"))["number"] == case.number  # still theirs
    eng.create_case(
        "benturan_kepentingan",
        {**declaration, "pihak_terkait": "Kepala seksi sarana"},
        identity_mode="terbuka",
        filed_by=telaah,
    )
    with pytest.raises(NotAllowed):  # what they may read names their declared party: kept off
        case_view(eng, case.number, eng.load_actor("telaah"))


def test_03_a_password_change_or_reset_revokes_api_tokens(office):
    eng = office
    token = apitokens.create_token(eng, "pengelola", "dibuat penyerang", by=eng.load_actor("pengelola"))
    assert apitokens.actor_for_token(eng, token) is not None
    from wbs_engine import accounts

    accounts.change_password(eng, "pengelola", "rahasia-demo-123", "sandi-baru-yang-panjang", "sandi-baru-yang-panjang")
    assert apitokens.actor_for_token(eng, token) is None
    again = apitokens.create_token(eng, "pengelola", "kedua", by=eng.load_actor("pengelola"))
    users.reset_second_factor(eng, "pengelola")
    assert apitokens.actor_for_token(eng, again) is None
    assert [e.payload["why"] for e in _events(eng, "api_token_revoked")] == ["password_changed", "second_factor_reset"]


def test_05_an_unknown_account_costs_the_same_hashing_work():
    calls = []

    class Counting:
        def hash(self, password):
            return "$dummy$"

        def verify(self, stored, password):
            calls.append(stored)
            raise __import__("argon2").exceptions.VerifyMismatchError()

    saved = crypto.use_password_hasher(Counting())
    try:
        assert crypto.verify_password(None, "tebakan") is False
        assert crypto.verify_password("", "tebakan") is False
    finally:
        crypto.use_password_hasher(saved)
    assert len(calls) == 2  # a verification was done although there was nothing to verify against


@pytest.fixture
def app_of(office):
    return create_app(office.settings, engine=office)


def test_07_a_session_must_give_a_second_factor_once_its_roles_require_one(office, app_of, clock):
    browser = Browser(app_of)
    sign_in(browser, "pegawai", clock=clock)
    assert browser.get("/staf/").status_code == 200
    users.create_or_update_user(office, "pegawai", [parse_grant("auditor")])  # now a role that needs TOTP
    res = browser.get("/staf/")
    assert res.status_code == 303 and "faktor-kedua" in res.headers["Location"]
    # enrolling finishes it
    browser.get("/staf/akun/faktor-kedua")
    secret = re.search(r'id="totp-key">([^<]+)<', browser.page).group(1).replace(" ", "")
    browser.post("/staf/akun/faktor-kedua", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert browser.get("/staf/").status_code in (200, 303)


def test_01_huge_ids_are_not_found_not_a_crash(office, app_of, clock):
    admin = Browser(app_of)
    sign_in(admin, "admin", clock=clock)
    case = office.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    huge = "1" + "0" * 20
    admin.get("/staf/admin/pengguna")
    for url in (
        f"/staf/admin/pengguna/pegawai/peran/{huge}/cabut",
        f"/staf/admin/templat/{huge}",
        f"/staf/admin/templat/{huge}/aktif",
        f"/staf/perkara/{case.number}/identitas/{huge}/putuskan",
        f"/staf/perkara/{case.number}/identitas/{huge}/tarik",
    ):
        assert admin.post(url).status_code in (404, 405), url  # no such route for such a number: never a 500


def test_06_guessing_the_current_password_on_the_account_page_is_recorded(office, app_of, clock):
    browser = Browser(app_of)
    sign_in(browser, "pengelola", clock=clock)
    statuses = []
    for i in range(6):
        browser.get("/staf/akun")
        res = browser.post("/staf/akun/sandi", {"current": f"tebakan-{i}", "new": "x" * 12, "repeat": "x" * 12})
        statuses.append(res.status_code)
    assert statuses[-1] == 429
    assert len(_events(office, "sign_in_failed")) >= 5 and _events(office, "sign_in_locked")
