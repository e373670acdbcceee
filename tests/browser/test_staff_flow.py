"""The staff web in a real headless Chromium: handlers sign in with a second factor and work cases from their
queues to closure, the reporter answering on the tracking page between their steps; an employee files a
gratifikasi that the UPG handles; axe-core on every staff page. Screenshots of sign-in, the queue, the case
page and the admin pages go to docs/screenshots with WBS_SCREENSHOTS=docs."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlmodel import select

from tests.browser.test_public_flow import DESKTOP, PHONE, axe_clean, only_own_origin, shown
from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.tracking import tracking_view

PASSWORD = "rahasia-demo-123"
WBS_REPORT = {
    "kategori": "gratifikasi_suap",
    "apa": "Kepala seksi menerima uang dari rekanan proyek jalan desa agar pemenang lelang diatur.",
    "siapa": "Kepala seksi sarana (inisial AB)",
    "dimana": "Ruang rapat lantai dua kantor",
    "kapan": "2026-02-20",
    "bagaimana": "Uang tunai dalam amplop cokelat diserahkan setelah rapat, disaksikan dua staf.",
    "nama": "Rahmat Pelapor",
    "email": "rahmat@contoh.id",
}


class Staff:
    """Sign-in through the pages, enrolling the second factor with pyotp where the user's role requires it (at
    the engine's test clock, which the live server shares)."""

    def __init__(self, browser, server: str, clock):
        self.browser, self.server, self.clock = browser, server, clock
        self.secrets: dict[str, str] = {}

    def sign_in(self, username: str, *, shot=None):
        page = self.browser.new_page()
        page.set_viewport_size(DESKTOP)
        page.goto(self.server + "/staf/masuk")
        axe_clean(page)
        if shot:
            page.screenshot(path=str(shot), full_page=True)
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        if page.url.endswith("/staf/akun/faktor-kedua"):
            axe_clean(page)
            secret = page.locator("#totp-key").inner_text().replace(" ", "")
            self.secrets[username] = secret
            page.fill("#code", pyotp.TOTP(secret).at(self.clock.now))
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
            assert page.locator("ol.recovery-codes li").count() == 10
            axe_clean(page)
            page.locator("main a.button").click()
            page.wait_for_load_state()
        elif page.url.endswith("/staf/faktor-kedua"):
            self.clock.advance(seconds=30)  # a time step already used is never accepted again
            page.fill("#code", pyotp.TOTP(self.secrets[username]).at(self.clock.now))
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
        assert "/staf/masuk" not in page.url and "faktor-kedua" not in page.url, page.url
        return page

    @staticmethod
    def sign_out(page) -> None:
        page.locator("header form[action$='/staf/keluar'] button").click()
        page.wait_for_load_state()
        assert page.url.endswith("/staf/masuk")


def fire_on_page(page, trigger: str, fields: dict[str, str] | None = None, reason: str | None = None) -> None:
    """Open the action's form on the case page, fill it and send it."""
    box = page.locator(f"details#aksi-{trigger}")
    box.locator("summary").click()
    for name, value in (fields or {}).items():
        field = box.locator(f"[name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if reason is not None:
        box.locator("[name='alasan']").fill(reason)
    box.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert not page.locator("#masalah").count(), page.locator("#masalah").inner_text()


def open_case_from_queue(page, server: str, number: str, queue: str = "unassigned") -> None:
    page.goto(f"{server}/staf/antrian?antrian={queue}")
    page.get_by_role("link", name=number).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/staf/perkara/{number}")


def reporter_page(browser, server: str, code: str):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.goto(server + "/lacak/")
    page.get_by_label("Kode pelacakan").fill(code)
    page.get_by_role("button", name="Buka laporan saya").click()
    page.wait_for_load_state()
    assert page.url.endswith("/lacak/perkara")
    return page


def require_second_factor(engine, roles: list[str]) -> None:
    from wbs_engine import admin

    admin.set_totp_roles(engine, engine.load_actor("admin"), roles)


@pytest.fixture
def staff(chromium, live_server, live_engine, clock):
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(live_engine, "admin", [parse_grant("admin")], password=PASSWORD, full_name="Admin Sistem")
    context = chromium.new_context(accept_downloads=True, locale="id-ID")
    context.requested = []  # type: ignore[attr-defined]
    context.on("request", lambda req: context.requested.append(req.url))  # type: ignore[attr-defined]
    yield Staff(context, live_server, clock)
    context.close()


def test_a_complaint_from_queue_to_rating(staff, browser, live_server, live_engine, shots):
    """A pengelola signs in with TOTP, finds a new pengaduan in the queue, takes it and asks the reporter; the
    reporter answers on the tracking page; the pengelola sends it to a unit (disposisi); the unit answers;
    the reporter confirms and rates it."""
    require_second_factor(live_engine, ["admin", "auditor", "pengelola"])
    created = live_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    number, code = created.number, created.receipt_code

    page = staff.sign_in("pengelola", shot=shots / "staff-sign-in.png")
    assert "pengelola" in staff.secrets  # the role required a second factor: enrolled on the way in
    page.goto(live_server + "/staf/antrian?antrian=unassigned")
    assert shown(page.get_by_role("link", name=number))
    axe_clean(page)
    page.screenshot(path=str(shots / "staff-queue.png"), full_page=True)
    page.get_by_role("link", name=number).click()
    page.wait_for_load_state()
    page.locator("#petugas form:has(input[value=claim]) button").click()
    page.wait_for_load_state()
    assert page.locator("dd", has_text="pengelola").count()
    fire_on_page(page, "mulai_verifikasi")
    question = "Mohon sebutkan tanggal dan nama loket tempat kejadian."
    fire_on_page(page, "minta_informasi", {"pesan": question})
    assert "Menunggu" in page.locator(".state").inner_text() or "menunggu" in page.locator(".state").inner_text()
    staff.sign_out(page)

    reporter = reporter_page(browser, live_server, code)
    assert shown(reporter.get_by_text(question).first)
    reporter.locator("form[action$='/aksi/beri_informasi'] textarea").first.fill("Tanggal 3 Maret, loket 2 legalisir.")
    reporter.locator("form[action$='/aksi/beri_informasi'] button").click()
    reporter.wait_for_load_state()
    assert shown(reporter.get_by_text("Terima kasih; kantor sudah menerimanya."))

    page = staff.sign_in("pengelola")  # enrolled now: the code step
    open_case_from_queue(page, live_server, number, queue="mine")
    fire_on_page(page, "disposisi", {"unit_tujuan": "LAYANAN", "instruksi": "Mohon klarifikasi petugas loket 2."})
    axe_clean(page)
    page.screenshot(path=str(shots / "staff-case.png"), full_page=True)
    staff.sign_out(page)

    page = staff.sign_in("petugas")  # the LAYANAN unit's officer: no second factor required for the role
    open_case_from_queue(page, live_server, number, queue="unassigned")
    fire_on_page(page, "terima_disposisi")
    fire_on_page(
        page,
        "jawab",
        {"jawaban": "Petugas loket 2 sudah ditegur dan biaya tambahan dikembalikan kepada Anda."},
    )
    staff.sign_out(page)

    reporter.reload()
    assert shown(reporter.get_by_text("biaya tambahan dikembalikan").first)
    reporter.locator("form[action$='/aksi/konfirmasi'] button").click()
    reporter.wait_for_load_state()
    for radio in reporter.locator("form[action$='/survei'] fieldset").all():
        radio.locator("input[value='4']").check()
    reporter.locator("form[action$='/survei'] button[type=submit]").click()
    reporter.wait_for_load_state()
    assert tracking_view(live_engine, code)["final"]
    with unit_of_work(live_engine.db, write=False) as s:
        from wbs_engine.models import SurveyResponse

        assert live_engine.get_case(s, number).state == "selesai"
        assert len(s.exec(select(SurveyResponse)).all()) == 1
    with unit_of_work(live_engine.db, write=False) as s:
        assert audit.verify(s, keyring=live_engine.keyring).ok
    only_own_origin(staff.browser, live_server)


def test_a_whistleblowing_report_with_an_identity_request(staff, browser, live_server, live_engine, shots):
    """A WBS report through telaah and investigation; the investigator asks for the reporter's identity, the
    atasan approves, the investigator sees it, and the reporter's page says it was opened to the investigation
    team, never by whom."""
    created = live_engine.create_case("wbs", WBS_REPORT, identity_mode="rahasia")
    number, code = created.number, created.receipt_code

    page = staff.sign_in("pengelola")
    open_case_from_queue(page, live_server, number)
    assert "Kepala seksi menerima uang" not in page.inner_text("main")  # the pengelola registers, never reads
    fire_on_page(page, "mulai_verifikasi", {"petugas": "telaah"})
    staff.sign_out(page)

    page = staff.sign_in("telaah")
    open_case_from_queue(page, live_server, number, queue="mine")
    assert "Kepala seksi menerima uang" in page.inner_text("main")
    fire_on_page(page, "lengkap")
    fire_on_page(
        page,
        "mulai_investigasi",
        {"ringkasan_telaah": "Dugaan suap cukup bukti awal; perlu pemeriksaan saksi.", "petugas": "investigator"},
    )
    staff.sign_out(page)

    page = staff.sign_in("investigator")
    page.goto(f"{live_server}/staf/perkara/{number}")
    assert "Rahmat Pelapor" not in page.inner_text("main")
    page.locator("form[action$='/identitas/minta'] textarea").fill(
        "Perlu memanggil pelapor sebagai saksi dalam pemeriksaan."
    )
    page.locator("form[action$='/identitas/minta'] button[type=submit]").click()
    page.wait_for_load_state()
    staff.sign_out(page)

    page = staff.sign_in("atasan")
    page.goto(f"{live_server}/staf/identitas")
    axe_clean(page)
    page.locator("form[action$='/putuskan'] button[value='setuju'], form[action$='/putuskan'] button").first.click()
    page.wait_for_load_state()
    staff.sign_out(page)

    page = staff.sign_in("investigator")
    page.goto(f"{live_server}/staf/perkara/{number}")
    assert "Rahmat Pelapor" in page.inner_text("main")
    axe_clean(page)
    staff.sign_out(page)

    reporter = reporter_page(browser, live_server, code)
    text = reporter.inner_text("main")
    assert "Tim investigasi" in text or "tim investigasi" in text
    for name in ("investigator", "Ika", "atasan"):
        assert name not in text
    axe_clean(reporter)


def test_an_employee_files_a_gratifikasi_that_the_upg_handles(staff, live_server, live_engine, shots):
    page = staff.sign_in("pegawai")
    page.goto(live_server + "/staf/laporan-saya/")
    axe_clean(page)
    page.locator("a[href$='/baru/gratifikasi']").first.click()
    page.wait_for_load_state()
    values = {
        "nama": "Wati Pegawai",
        "nip": "198501012010011001",
        "jabatan": "Analis Kebijakan",
        "unit_kerja": "Seksi Layanan",
        "nama_pemberi": "PT Sinar Alat Tulis",
        "nilai_taksiran": "750000",
        "tanggal_penerimaan": live_engine.now().date().isoformat(),
    }
    form = live_engine.intake_form("gratifikasi", None, "id")
    for f in form.fields:
        if not f.required:
            continue
        field = page.locator(f"#f-{f.name}")
        if f.options:
            field.select_option(f.options[-1][0])
        else:
            field.fill(values.get(f.name, "Bingkisan parsel makanan dari rekanan pengadaan alat tulis kantor."))
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    number = re.search(r"GRT-\d{4}-\d{6}", page.inner_text("main")).group(0)
    axe_clean(page)
    staff.sign_out(page)

    page = staff.sign_in("upg")
    open_case_from_queue(page, live_server, number)
    fire_on_page(page, "mulai_telaah")
    fire_on_page(page, "minta_kelengkapan", {"kekurangan": "Mohon lampirkan foto barang yang diterima."})
    staff.sign_out(page)

    page = staff.sign_in("pegawai")
    page.goto(f"{live_server}/staf/laporan-saya/{number}")
    assert shown(page.get_by_text("Mohon lampirkan foto barang").first)
    page.locator("form[action$='/aksi/lengkapi'] textarea").first.fill("Foto barang sudah saya kirim lewat pesan.")
    page.locator("form[action$='/aksi/lengkapi'] button").click()
    page.wait_for_load_state()
    axe_clean(page)
    staff.sign_out(page)

    page = staff.sign_in("upg")
    page.goto(f"{live_server}/staf/perkara/{number}")
    fire_on_page(
        page,
        "teruskan_kpk",
        {"nomor_laporan_kpk": "GTF-2026-0042", "tanggal_laporan_kpk": live_engine.now().date().isoformat()},
    )
    assert live_engine.load_actor("upg") and "KPK" in page.locator(".state").inner_text()


def test_admin_pages_pass_axe(staff, live_server, shots):
    page = staff.sign_in("admin")  # admin: a second factor by default
    assert "admin" in staff.secrets
    for path, name in [
        ("/staf/admin/", None),
        ("/staf/admin/pengguna", "staff-admin-users.png"),
        ("/staf/admin/unit", None),
        ("/staf/admin/hari-libur", None),
        ("/staf/admin/faktor-kedua", None),
        ("/staf/admin/templat", None),
        ("/staf/akun", None),
        ("/staf/akun/token/", None),
    ]:
        page.goto(live_server + path)
        assert page.locator("h1").count(), path
        axe_clean(page)
        if name:
            page.screenshot(path=str(shots / name), full_page=True)


def test_an_auditor_reads_a_history_and_keeps_a_bundle_that_verifies_offline(
    staff, live_server, live_engine, shots, tmp_path
):
    """The auditor (second factor) searches all cases, opens a closed one's history with each event's hash and
    the chain's check, downloads its bundle, and the bundle verifies with nothing but the file."""
    from wbs_engine.bundle import verify_bundle

    created = live_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pengelola = live_engine.load_actor("pengelola")
    live_engine.fire(created.number, "mulai_verifikasi", pengelola)
    live_engine.fire(created.number, "arsipkan", pengelola, reason="Bukan pengaduan: permintaan informasi biasa.")
    page = staff.sign_in("auditor")
    assert "auditor" in staff.secrets  # auditors use a second factor by default
    page.goto(live_server + "/staf/audit/")
    axe_clean(page)
    page.fill("#cari", created.number)
    page.locator("main form.filters button[type=submit]").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=created.number).click()
    page.wait_for_load_state()
    assert f"/staf/audit/perkara/{created.number}" in page.url
    axe_clean(page)
    page.screenshot(path=str(shots / "audit-history.png"), full_page=True)
    with page.expect_download() as got:
        page.locator("form[action$='/bundel'] button").click()
        page.wait_for_load_state()
    bundle_file = tmp_path / "bundel.zip"
    got.value.save_as(bundle_file)
    assert verify_bundle(bundle_file).ok
    changed = bytearray(bundle_file.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    (tmp_path / "diubah.zip").write_bytes(bytes(changed))
    assert not verify_bundle(tmp_path / "diubah.zip").ok
    page.goto(live_server + "/staf/audit/jejak")
    axe_clean(page)

    # the recap of complaints, with its charts, and its XLSX whose totals equal the database's
    import openpyxl
    import sqlalchemy as sa

    from wbs_engine.models import Case

    year = live_engine.now().year
    for unit, close in (("LAYANAN", False), ("LAYANAN", True), ("UMUM", False), ("UMUM", True), ("PUSAT", False)):
        more = live_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia", unit_code=unit).number
        if close:
            live_engine.fire(more, "mulai_verifikasi", pengelola)
            live_engine.fire(more, "arsipkan", pengelola, reason="Bukan pengaduan: permintaan informasi biasa.")
    page.goto(f"{live_server}/staf/laporan/?laporan=recap&jenis=pengaduan&dari={year}-01-01&sampai={year}-12-31")
    assert shown(page.get_by_role("heading", name="Rekapitulasi Pengaduan Masyarakat"))
    charts = page.locator("figure.chart img")
    assert charts.count() >= 4
    assert all(charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(charts.count()))
    axe_clean(page)
    page.screenshot(path=str(shots / "reports-recap.png"), full_page=True)
    with page.expect_download() as got:
        page.locator("form.downloads button[value=xlsx]").click()
    xlsx = tmp_path / "rekap.xlsx"
    got.value.save_as(xlsx)
    assert got.value.suggested_filename == f"rekap-pengaduan-{year}-01-01-{year}-12-31.xlsx"
    ws = next(w for w in openpyxl.load_workbook(xlsx).worksheets[1:] if w["A1"].value.startswith("Diterima"))
    total_row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "Jumlah")
    with unit_of_work(live_engine.db, write=False) as s:
        in_db = (
            s.connection()
            .execute(
                sa.select(sa.func.count()).select_from(Case.__table__).where(Case.__table__.c.case_type == "pengaduan")
            )
            .scalar_one()
        )
    assert ws.cell(total_row, 2).value == in_db
    page.goto(f"{live_server}/staf/laporan/?laporan=gratifikasi&dari={year}-01-01&sampai={year}-12-31")
    axe_clean(page)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_public_statistics_page_passes_axe(browser, live_server, live_engine, shots, lang):
    for i in range(6):
        live_engine.create_case("pengaduan", {**COMPLAINT, "nama": f"Warga {i}"}, identity_mode="rahasia")
    page = browser.new_page()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/statistik?lang={lang}")
    assert page.locator("h1").count() == 1
    assert "Warga" not in page.content() and "Siti" not in page.content()
    axe_clean(page)
    page.screenshot(path=str(shots / f"statistics-{lang}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    axe_clean(page)
