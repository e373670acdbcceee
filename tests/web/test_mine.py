"""An employee's own reports (webapp/mine.py): filing from the account, following it, answering the UPG's
question; never more than the reporter's view."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import GIFT_FORM
from tests.web.conftest import Browser, count_cases
from tests.web.test_staff import sign_in
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case

GIFT = GIFT_FORM


@pytest.fixture
def pegawai(app):
    return sign_in(Browser(app), "pegawai")


def file_gift(b):
    b.get("/staf/laporan-saya/baru/gratifikasi")
    res = b.post("/staf/laporan-saya/baru/gratifikasi", GIFT)
    assert res.status_code == 303, b.errors()
    return res.headers["Location"].split("/staf/laporan-saya/")[1].split("?")[0]


def test_employee_files_follows_and_answers(web_engine, app, pegawai):
    pegawai.get("/staf/laporan-saya/")
    assert "Pelaporan Gratifikasi" in pegawai.page
    assert "/staf/laporan-saya/baru/wbs" in pegawai.page  # WBS: filed_by pegawai too
    assert "/staf/laporan-saya/baru/identifikasi_bk" not in pegawai.page  # pengelola and atasan only
    n = file_gift(pegawai)
    pegawai.get("/staf/laporan-saya/")
    assert n in pegawai.page
    pegawai.get("/staf/")  # the home page lists it too
    assert n in pegawai.page
    # the UPG reviews, writes a confidential finding and an internal note, and asks for completion
    upg = sign_in(Browser(app), "upg")
    actor = web_engine.load_actor("upg")
    web_engine.fire(n, "mulai_telaah", actor)
    web_engine.post_message(n, actor, "CATATAN-UPG: pemberi adalah rekanan aktif.", internal=True)
    web_engine.fire(n, "minta_kelengkapan", actor, {"kekurangan": "Mohon lampirkan foto jam tangan dan kuitansi."})
    upg.get(f"/staf/perkara/{n}")
    assert "CATATAN-UPG" in upg.page
    pegawai.get(f"/staf/laporan-saya/{n}")
    assert "Mohon lampirkan foto jam tangan dan kuitansi." in pegawai.page  # the question, meant for them
    assert "CATATAN-UPG" not in pegawai.page and "upg ·" not in pegawai.page  # no note, no staff name
    assert "/staf/antrian" not in pegawai.page  # no queue in their menu
    assert "Kirim kelengkapan" in pegawai.page
    res = pegawai.post(f"/staf/laporan-saya/{n}/aksi/lengkapi", {"kelengkapan": "x"})
    assert res.status_code == 422 and pegawai.errors().get("kelengkapan")
    pegawai.get(f"/staf/laporan-saya/{n}")
    res = pegawai.post(
        f"/staf/laporan-saya/{n}/aksi/lengkapi", {"kelengkapan": "Foto dan kuitansi saya kirim lewat pesan."}
    )
    assert res.status_code == 303
    with unit_of_work(web_engine.db, write=False) as s:
        assert s.exec(sa.select(Case.state).where(Case.number == n)).scalar_one() == "telaah_upg"
    pegawai.get(f"/staf/laporan-saya/{n}")
    assert pegawai.post(f"/staf/laporan-saya/{n}/pesan", {"pesan": "Kuitansi menyusul besok."}).status_code == 303
    upg.get(f"/staf/perkara/{n}")
    assert "Kuitansi menyusul besok." in upg.page


def test_employee_cannot_open_the_staff_page_of_their_report(web_engine, pegawai):
    n = file_gift(pegawai)
    res = pegawai.get(f"/staf/perkara/{n}")
    assert res.status_code == 403 and "Wati" not in pegawai.page and "PT Contoh" not in pegawai.page
    # nor the queue's content
    res = pegawai.get("/staf/antrian")
    assert n not in pegawai.page


def test_someone_elses_report_is_not_found(web_engine, app, pegawai):
    n = file_gift(pegawai)
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(
        web_engine, "pegawai2", [parse_grant("pegawai")], email="p2@kantor.test", password="rahasia-demo-123"
    )
    other = sign_in(Browser(app), "pegawai2")
    res = other.get(f"/staf/laporan-saya/{n}")
    assert res.status_code == 404 and "Wati" not in other.page
    res_missing = other.get("/staf/laporan-saya/GRT-2026-999999")
    assert res_missing.status_code == 404

    # the same words whether the case exists or not (apart from the number)
    def words(page: str) -> str:  # the case number and the CSRF token (it holds the second it was made) set aside
        return re.sub(r'name="csrf-token" content="[^"]*"|value="[^"]*"', "", re.sub(r"GRT-\d+-\d+", "N", page))

    missing_page = other.page
    other.get(f"/staf/laporan-saya/{n}")
    assert words(missing_page) == words(other.page)
    assert other.post(f"/staf/laporan-saya/{n}/pesan", {"pesan": "Halo dari orang lain"}).status_code in (400, 404)


def test_bad_filing_is_shown_again_and_files_nothing(web_engine, pegawai):
    before = count_cases(web_engine)
    pegawai.get("/staf/laporan-saya/baru/gratifikasi")
    res = pegawai.post("/staf/laporan-saya/baru/gratifikasi", {**GIFT, "kronologi": "pendek"})
    assert res.status_code == 422 and pegawai.errors().get("kronologi")
    assert "PT Contoh" in pegawai.page  # what they typed is kept
    assert count_cases(web_engine) == before
    # a type their roles do not file
    assert pegawai.get("/staf/laporan-saya/baru/identifikasi_bk").status_code == 404


def test_an_anonymous_report_from_the_account_is_not_linked(web_engine, pegawai):
    pegawai.get("/staf/laporan-saya/baru/wbs?identitas=anonim")
    assert 'name="identitas" value="anonim"' in pegawai.page
    res = pegawai.post(
        "/staf/laporan-saya/baru/wbs",
        {
            "identitas": "anonim",
            "nama": "Nama Asli",
            "kategori": "korupsi",
            "siapa": "Kepala Seksi Y",
            "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin yang diterbitkan kantor.",
        },
    )
    assert res.status_code == 303 and res.headers["Location"].endswith("/tanda-terima")
    pegawai.get("/tanda-terima")
    code = re.search(r'class="code"[^>]*>([^<]+)<', pegawai.page) or re.search(
        r"([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3,})", pegawai.page
    )
    assert code is not None  # the tracking code, shown once
    with unit_of_work(web_engine.db, write=False) as s:
        case = s.exec(sa.select(Case).where(Case.case_type == "wbs")).scalars().one()
    assert case.filed_by_user_id is None and case.identity_mode == "anonim"
    pegawai.get("/staf/laporan-saya/")
    assert case.number not in pegawai.page
