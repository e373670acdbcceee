"""The staff's pages (webapp/staff.py): queues, the case page and what is done on it, per role: what each
audience sees and what it cannot do."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import assignment, queries
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case

PASSWORD = "rahasia-demo-123"

WBS_REPORT = {
    "nama": "Budi Santoso",
    "email": "budi@contoh.id",
    "uraian": "RAHASIA-WBS: pejabat pengadaan menerima uang dari penyedia jasa kebersihan gedung.",
}


def sign_in(browser, username):
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": username, "password": PASSWORD})
    assert res.status_code == 303, browser.page
    return browser


@pytest.fixture
def as_user(app):
    from tests.web.conftest import Browser

    def make(username):
        return sign_in(Browser(app), username)

    return make


def complaint(eng, unit="LAYANAN", **data):
    return eng.create_case("pengaduan", {**COMPLAINT, **data}, unit_code=unit)


def version(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(sa.select(Case.version).where(Case.number == number)).scalar_one()


def state(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(sa.select(Case.state).where(Case.number == number)).scalar_one()


def numbers_on(page):
    return set(re.findall(r'class="number" href="/staf/perkara/([A-Z0-9-]+)"', page))


# --- queues ---------------------------------------------------------------------------------------------------


def test_queue_lists_what_the_engine_lists_for_that_user_only(web_engine, as_user):
    layanan = [complaint(web_engine, "LAYANAN").number for _ in range(3)]
    umum = complaint(web_engine, "UMUM").number
    pel = web_engine.load_actor("pengelola")
    for n in [*layanan, umum]:
        web_engine.fire(n, "mulai_verifikasi", pel)
        web_engine.fire(
            n,
            "disposisi",
            pel,
            {
                "unit_tujuan": web_engine and ("UMUM" if n == umum else "LAYANAN"),
                "instruksi": "Mohon ditindaklanjuti segera.",
            },
        )
    b = as_user("petugas")
    res = b.get("/staf/antrian?antrian=unassigned")
    assert res.status_code == 200
    expected = {i.number for i in queries.page(web_engine, web_engine.load_actor("petugas"), "unassigned").items}
    assert numbers_on(b.page) == expected == set(layanan)
    assert umum not in b.page  # another unit's case never shows
    # a unit filter the user does not hold is refused, not widened
    res = b.get("/staf/antrian?antrian=unassigned&unit=UMUM")
    assert res.status_code == 422 and umum not in b.page


def test_queue_search_pages_and_marks(web_engine, as_user):
    made = [complaint(web_engine, layanan=f"Layanan nomor {i}").number for i in range(30)]
    b = as_user("pengelola")
    b.get("/staf/antrian?antrian=unassigned")
    first = numbers_on(b.page)
    assert len(first) == 25
    nxt = re.search(r'href="([^"]+)" rel="next"', b.page).group(1).replace("&amp;", "&")
    b.get(nxt)
    second = numbers_on(b.page)
    assert len(second) == 5 and not first & second and first | second == set(made)
    prev = re.search(r'href="([^"]+)" rel="prev"', b.page).group(1).replace("&amp;", "&")
    b.get(prev)
    assert numbers_on(b.page) == first
    # search by number
    b.get(f"/staf/antrian?antrian=unassigned&cari={made[7]}")
    assert numbers_on(b.page) == {made[7]}
    b.get("/staf/antrian?antrian=unassigned&cari=tidakadasamasekali")
    assert numbers_on(b.page) == set() and "cocok" in b.page
    # a hand-edited cursor: a message, no 500
    res = b.get("/staf/antrian?antrian=unassigned&c=rusak")
    assert res.status_code == 422
    # marks: text, not colour alone
    b.get("/staf/antrian?antrian=mine")
    assert "Antrean ini kosong." in b.page or "kosong" in b.page


def test_overdue_mark_is_text(web_engine, as_user, clock):
    n = complaint(web_engine).number
    clock.advance(days=40)
    b = as_user("pengelola")
    b.get("/staf/antrian?antrian=overdue")
    assert n in numbers_on(b.page)
    assert '<span class="tag overdue">Lewat batas waktu</span>' in b.page


# --- the case page --------------------------------------------------------------------------------------------

WBS_TIP = {
    "nama": "Budi Santoso",
    "kategori": "korupsi",
    "siapa": "Kepala Seksi Y",
    "apa": "RAHASIA-WBS: Kepala Seksi Y meminta uang pelicin untuk setiap izin yang diterbitkan kantor.",
}


def test_case_page_shows_each_role_what_it_may_see(web_engine, as_user):
    n = web_engine.create_case("wbs", WBS_TIP, identity_mode="rahasia").number
    # the pengelola (front desk of WBS) works on it but reads neither the text nor who reported
    b = as_user("pengelola")
    res = b.get(f"/staf/perkara/{n}")
    assert res.status_code == 200
    assert "RAHASIA-WBS" not in b.page and "Budi Santoso" not in b.page
    assert "rahasia: bukan untuk peran Anda" in b.page
    # the atasan reads the text and the identity of a rahasia report
    b = as_user("atasan")
    b.get(f"/staf/perkara/{n}")
    assert "RAHASIA-WBS" in b.page and "Budi Santoso" in b.page
    # a unit officer has nothing to do with it: the engine's refusal, never the case
    b = as_user("petugas")
    res = b.get(f"/staf/perkara/{n}")
    assert res.status_code == 403 and "RAHASIA-WBS" not in b.page and "Kepala Seksi" not in b.page
    # a complaint of another unit: refused as well; of their unit (after disposisi): shown
    other = complaint(web_engine, "UMUM").number
    pel = web_engine.load_actor("pengelola")
    web_engine.fire(other, "mulai_verifikasi", pel)
    web_engine.fire(other, "disposisi", pel, {"unit_tujuan": "UMUM", "instruksi": "Mohon ditindaklanjuti segera."})
    assert b.get(f"/staf/perkara/{other}").status_code == 403
    assert as_user("petugas.umum").get(f"/staf/perkara/{other}").status_code == 200


def test_recused_official_gets_the_words_of_anyone_without_access(web_engine, as_user):
    from wbs_engine.models import CaseRecusal, User

    n = complaint(web_engine).number
    with unit_of_work(web_engine.db) as s:
        case_id = s.exec(sa.select(Case.id).where(Case.number == n)).scalar_one()
        uid = s.exec(sa.select(User.id).where(User.username == "atasan")).scalar_one()
        s.add(CaseRecusal(case_id=case_id, user_id=uid, created_at=web_engine.now()))
    b = as_user("atasan")
    res = b.get(f"/staf/perkara/{n}")
    assert res.status_code == 403 and f"atasan tidak berwenang melihat perkara {n}." in b.page
    outsider = as_user("petugas.umum")
    outsider.get(f"/staf/perkara/{n}")
    assert f"petugas.umum tidak berwenang melihat perkara {n}." in outsider.page
    # the pengelola may read recusals: the assign form lists the atasan as kept off, and refuses them
    p = as_user("pengelola")
    p.get(f"/staf/perkara/{n}")
    assert "dijauhkan dari perkara ini: benturan kepentingan" in p.page
    res = p.post(
        f"/staf/perkara/{n}/petugas", {"op": "assign", "petugas": "atasan", "expected_version": version(web_engine, n)}
    )
    assert res.status_code == 422 and "benturan kepentingan" in p.page


def test_disposisi_through_the_page_reaches_the_unit_queue(web_engine, as_user):
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    res = b.post(f"/staf/perkara/{n}/aksi/mulai_verifikasi", {"expected_version": version(web_engine, n)})
    assert res.status_code == 303
    b.get(f"/staf/perkara/{n}")
    assert 'name="unit_tujuan"' in b.page and '<option value="UMUM">' in b.page  # a select of units
    res = b.post(
        f"/staf/perkara/{n}/aksi/disposisi",
        {"expected_version": version(web_engine, n), "unit_tujuan": "UMUM", "instruksi": " "},
    )
    assert res.status_code == 422 and b.errors().get("instruksi")  # missing: shown again with what was chosen
    assert '<option value="UMUM" selected>' in b.page and state(web_engine, n) == "verifikasi"
    res = b.post(
        f"/staf/perkara/{n}/aksi/disposisi",
        {
            "expected_version": version(web_engine, n),
            "unit_tujuan": "UMUM",
            "instruksi": "Mohon ditindaklanjuti dalam minggu ini.",
        },
    )
    assert res.status_code == 303 and state(web_engine, n) == "disposisi"
    unit = as_user("petugas.umum")
    unit.get("/staf/antrian?antrian=unassigned")
    assert n in numbers_on(unit.page)
    other = as_user("petugas")
    other.get("/staf/antrian?antrian=unassigned")
    assert n not in numbers_on(other.page)


def test_stale_version_says_reload_and_changes_nothing(web_engine, as_user):
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    seen = version(web_engine, n)
    web_engine.post_message(n, web_engine.load_actor("pengelola"), "Laporan Anda sedang kami periksa.")
    res = b.post(f"/staf/perkara/{n}/aksi/mulai_verifikasi", {"expected_version": seen})
    assert res.status_code == 409 and "diubah oleh orang lain" in b.page
    assert state(web_engine, n) == "diterima"
    res = b.post(f"/staf/perkara/{n}/petugas", {"op": "claim", "expected_version": seen})
    assert res.status_code == 409 and "diubah oleh orang lain" in b.page
    with unit_of_work(web_engine.db, write=False) as s:
        assert s.exec(sa.select(Case.assigned_user_id).where(Case.number == n)).scalar_one() is None


def test_claim_and_release_through_the_page(web_engine, as_user):
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    assert "Tangani perkara ini" in b.page
    assert (
        b.post(f"/staf/perkara/{n}/petugas", {"op": "claim", "expected_version": version(web_engine, n)}).status_code
        == 303
    )
    b.get("/staf/antrian?antrian=mine")
    assert n in numbers_on(b.page)
    b.get(f"/staf/perkara/{n}")
    res = b.post(f"/staf/perkara/{n}/petugas", {"op": "release", "expected_version": version(web_engine, n)})
    assert res.status_code == 303
    b.get("/staf/antrian?antrian=mine")
    assert n not in numbers_on(b.page)


def test_a_note_never_reaches_the_reporter(web_engine, as_user, app):
    from tests.web.conftest import Browser

    created = complaint(web_engine)
    n = created.number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    assert (
        b.post(f"/staf/perkara/{n}/catatan", {"catatan": "CATATAN-INTERNAL: cek rekening terlapor."}).status_code == 303
    )
    b.get(f"/staf/perkara/{n}")
    assert b.post(f"/staf/perkara/{n}/pesan", {"pesan": "Mohon kirimkan bukti kuitansi."}).status_code == 303
    b.get(f"/staf/perkara/{n}")
    assert "CATATAN-INTERNAL" in b.page and "Mohon kirimkan bukti kuitansi." in b.page
    notes = b.page.index("Catatan internal")
    assert b.page.index("Mohon kirimkan bukti kuitansi.") < notes < b.page.index("CATATAN-INTERNAL")
    reporter = Browser(app)
    reporter.get("/lacak/")
    reporter.post("/lacak/", {"kode": created.receipt_code})
    reporter.get("/lacak/perkara")
    assert "Mohon kirimkan bukti kuitansi." in reporter.page
    assert "CATATAN-INTERNAL" not in reporter.page
    # bad input: shown again with what was typed, 422
    res = b.post(f"/staf/perkara/{n}/catatan", {"catatan": "x"})
    assert res.status_code == 422 and b.errors().get("catatan")


def test_reply_template_fills_the_message(web_engine, as_user):
    from wbs_engine.models import ReplyTemplate

    with unit_of_work(web_engine.db) as s:
        s.add(
            ReplyTemplate(
                case_type="pengaduan",
                title="Terima kasih",
                body="Terima kasih atas laporan Anda.",
                updated_by="admin",
                updated_at=web_engine.now(),
            )
        )
        s.add(
            ReplyTemplate(
                case_type="wbs", title="WBS saja", body="Teks WBS.", updated_by="admin", updated_at=web_engine.now()
            )
        )
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    assert "Terima kasih</a>" in b.page and "WBS saja" not in b.page
    tid = re.search(r"templat=(\d+)", b.page).group(1)
    b.get(f"/staf/perkara/{n}?templat={tid}")
    assert ">Terima kasih atas laporan Anda.</textarea>" in b.page


def test_assignable_users_on_the_page_match_the_engine(web_engine, as_user):
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    for c in assignment.assignable_users(web_engine, n, web_engine.load_actor("pengelola")):
        assert f'<option value="{c.username}"' in b.page
    assert '<option value="auditor"' not in b.page


def test_attach_and_download_through_the_page(web_engine, as_user):
    n = complaint(web_engine).number
    b = as_user("pengelola")
    b.get(f"/staf/perkara/{n}")
    import io

    res = b.post(
        f"/staf/perkara/{n}/lampiran",
        {"lampiran": (io.BytesIO(b"Berita acara klarifikasi.\n"), "ba.txt")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 303
    b.get(f"/staf/perkara/{n}")
    link = re.search(rf'href="(/staf/perkara/{n}/lampiran/\d+)">ba.txt<', b.page).group(1)
    res = b.client.get(link)
    assert res.status_code == 200 and res.data == b"Berita acara klarifikasi.\n"
    # nothing chosen: a message, 422
    b.get(f"/staf/perkara/{n}")
    assert b.post(f"/staf/perkara/{n}/lampiran", {}).status_code == 422
    # another unit's officer: refused, the file not served
    assert as_user("petugas.umum").client.get(link).status_code in (403, 404)


def test_note_shows_its_staff_author(web_engine, as_user):
    n = web_engine.create_case("wbs", WBS_TIP, identity_mode="rahasia").number
    web_engine.post_message(n, web_engine.load_actor("atasan"), "Catatan dari atasan untuk tim telaah.", internal=True)
    b = as_user("telaah")
    b.get(f"/staf/perkara/{n}")
    assert re.search(r'<li class="note"><p class="meta">atasan ·', b.page)


def test_an_auditor_finds_a_case_by_number_and_reads_it_but_a_bad_number_is_explained(web_engine, app, clock):
    from tests.web.conftest import Browser, sign_in

    created = web_engine.create_case("pengaduan", COMPLAINT_FOR_FIND, identity_mode="rahasia")
    auditor = Browser(app)
    sign_in(auditor, "auditor", clock=clock)  # the auditor role uses a second factor by default
    res = auditor.get(f"/staf/cari?nomor={created.number.lower()}")
    assert res.status_code == 303 and res.headers["Location"].endswith(f"/staf/perkara/{created.number}")
    assert auditor.get(res.headers["Location"]).status_code == 200
    assert "legalisir" in auditor.page  # the auditor reads the report (pengaduan visibility)
    assert "Ambil perkara ini" not in auditor.page and "aksi-" not in auditor.page  # and acts on nothing
    res = auditor.get("/staf/cari?nomor=%3Cscript%3E")
    assert res.status_code == 422 and "PGD-2026-000001" in auditor.page and "<script>" not in auditor.page


COMPLAINT_FOR_FIND = {
    "nama": "Siti Aminah",
    "email": "siti@contoh.id",
    "layanan": "Layanan legalisir ijazah",
    "kategori": "normatif",
    "uraian": "Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
}
