"""A citizen and an anonymous whistleblower in Chromium: filing, the receipt, tracking, answering a
question; English; errors; no request to another origin; axe-core on every public page; screenshots at
phone and desktop widths."""

from __future__ import annotations

import os
import re

import pytest

from wbs_engine.tracking import tracking_view

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def shown(locator, timeout: float = 10_000) -> bool:
    """Wait until the element is visible (a click that navigates returns before the next page has painted;
    ``is_visible()`` answers at once and made this suite flaky in CI)."""
    locator.wait_for(state="visible", timeout=timeout)
    return True


def only_own_origin(context, server: str) -> None:
    foreign = [u for u in context.requested if not (u.startswith(server + "/") or u.startswith("data:"))]
    assert not foreign, foreign


def verify_receipt(engine, path) -> int:
    """`wbs verify-receipt FILE` against the live server's database; its exit code."""
    from click.testing import CliRunner

    from tests.helpers import CLEAN_ENV
    from wbs_engine.cli import cli

    env = {
        **CLEAN_ENV,
        "WBS_INSTANCE_DIR": str(engine.settings.instance_dir),
        "WBS_DATABASE_URL": engine.settings.database_url,
    }
    return CliRunner().invoke(cli, ["verify-receipt", str(path)], env=env).exit_code


def picture(pdf, png) -> None:
    """The proof's first page as an image (poppler's pdftoppm, installed by make test)."""
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("poppler-utils is not installed (make test installs it)")
        return
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", str(pdf), str(png.with_suffix(""))], check=True)
    assert png.stat().st_size > 10_000


def axe_clean(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


def test_a_citizen_files_a_complaint_with_a_file_and_tracks_it(browser, live_server, live_engine, shots, tmp_path):
    page = browser.new_page()
    page.set_viewport_size(DESKTOP)
    page.goto(live_server + "/")
    axe_clean(page)
    page.get_by_role("link", name="Buat laporan: Pengaduan Masyarakat").click()
    page.wait_for_load_state()
    assert page.url.endswith("/lapor/pengaduan")
    axe_clean(page)
    # an error first: nothing typed is lost
    page.get_by_label("Layanan yang diadukan").fill("Pembuatan KTP elektronik")
    page.get_by_label("Uraian pengaduan").fill("Terlalu pendek")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_load_state()
    assert page.locator("#err-uraian").inner_text().startswith("minimal 30 karakter")
    assert shown(page.locator("#err-kategori"))
    assert page.get_by_label("Layanan yang diadukan").input_value() == "Pembuatan KTP elektronik"
    axe_clean(page)
    page.screenshot(path=str(shots / "form-errors-desktop.png"), full_page=True)
    page.get_by_label("Kategori pengaduan").select_option("ringan")
    page.get_by_label("Uraian pengaduan").fill("Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk KTP.")
    (tmp_path / "kuitansi.pdf").write_bytes(PDF)
    page.get_by_label("Lampiran (boleh kosong)").set_input_files(str(tmp_path / "kuitansi.pdf"))
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_load_state()
    # the receipt: number and code, easy to copy
    assert page.url.endswith("/tanda-terima")
    number = page.locator("strong.number").inner_text()
    code = page.locator("#kode").input_value()
    assert re.fullmatch(r"PGD-\d{4}-\d{6}", number) and re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code)
    assert shown(page.get_by_text("Simpan kode ini sekarang."))
    axe_clean(page)
    page.screenshot(path=str(shots / "receipt-desktop.png"), full_page=True)
    # the proof of filing: downloaded, accepted by `wbs verify-receipt`, refused with one byte changed
    with page.expect_download() as got:
        page.get_by_role("button", name="Unduh bukti (PDF)").click()
        page.wait_for_load_state()
    proof = tmp_path / "bukti.pdf"
    got.value.save_as(proof)
    assert got.value.suggested_filename == "bukti-penerimaan.pdf"
    assert verify_receipt(live_engine, proof) == 0
    changed = bytearray(proof.read_bytes())
    changed[len(changed) // 3] ^= 0x20
    (tmp_path / "diubah.pdf").write_bytes(bytes(changed))
    assert verify_receipt(live_engine, tmp_path / "diubah.pdf") == 1
    picture(proof, shots / "proof.png")
    page.get_by_role("button", name="Kode sudah saya simpan — tutup tanda terima ini").click()
    page.wait_for_load_state()
    # tracking
    page.get_by_role("link", name="Lacak laporan").first.click()
    page.wait_for_load_state()
    page.get_by_label("Kode pelacakan").fill(code.lower())
    page.get_by_role("button", name="Buka laporan saya").click()
    page.wait_for_load_state()
    assert page.url.endswith("/lacak/perkara")
    assert shown(page.get_by_text("kuitansi.pdf")) and shown(page.get_by_text(number).first)
    axe_clean(page)
    page.screenshot(path=str(shots / "tracking-desktop.png"), full_page=True)
    with page.expect_download() as got:
        page.get_by_role("link", name="kuitansi.pdf").click()
        page.wait_for_load_state()
    assert got.value.suggested_filename == "kuitansi.pdf"
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state()
    assert page.url.endswith("/lacak/")
    only_own_origin(browser, live_server)
    assert tracking_view(live_engine, code)["number"] == number


def test_an_anonymous_whistleblower_answers_a_question_and_sees_no_staff_name(browser, live_server, live_engine, shots):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/lapor/wbs")
    assert page.locator("input[type=radio][name=identitas][value=anonim]").is_checked()  # the most private by default
    page.screenshot(path=str(shots / "form-phone.png"), full_page=True)
    form = live_engine.intake_form("wbs", "anonim", "id")
    assert not any(f.identity for f in form.fields)
    for f in form.fields:
        if not f.required:
            continue
        field = page.locator(f"#f-{f.name}")
        if f.options:
            field.select_option(f.options[0][0])
        elif f.type == "date":
            field.fill("2026-02-20")
        else:
            field.fill("Kepala seksi menerima uang dari rekanan proyek jalan desa, disaksikan dua staf.")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_load_state()
    assert page.url.endswith("/tanda-terima"), page.content()[:3000]
    number, code = page.locator("strong.number").inner_text(), page.locator("#kode").input_value()
    page.screenshot(path=str(shots / "receipt-phone.png"), full_page=True)
    # the reviewer asks a question through the engine
    live_engine.fire(number, "mulai_verifikasi", live_engine.load_actor("pengelola"), {"petugas": "telaah"})
    question = "Kapan tepatnya uang itu diserahkan, dan di mana?"
    live_engine.fire(number, "minta_informasi", live_engine.load_actor("telaah"), {"pesan": question})
    # the reporter comes back with the code
    page.goto(live_server + "/lacak/")
    page.get_by_label("Kode pelacakan").fill(code)
    page.get_by_role("button", name="Buka laporan saya").click()
    page.wait_for_load_state()
    assert shown(page.get_by_text(question).first)
    page.locator("form[action$='/aksi/beri_informasi'] textarea").first.fill(
        "Tanggal 20 Februari sore, di ruang rapat lantai dua."
    )
    page.locator("form[action$='/aksi/beri_informasi'] button").click()
    page.wait_for_load_state()
    assert shown(page.get_by_text("Terima kasih; kantor sudah menerimanya."))
    html = page.content()
    for username in ("pengelola", "telaah", "investigator", "atasan"):
        assert f">{username}<" not in html and f" {username} " not in html
    # the internal field the registration filled (who reviews it) is not the reporter's to see
    assert "Petugas yang ditunjuk" not in html and "telaah" not in page.inner_text("main")
    axe_clean(page)
    page.screenshot(path=str(shots / "tracking-phone.png"), full_page=True)
    only_own_origin(browser, live_server)


def test_the_english_switch_and_errors_in_english(browser, live_server, shots):
    page = browser.new_page()
    page.goto(live_server + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert shown(page.get_by_role("link", name="Track a report").first)
    page.screenshot(path=str(shots / "landing-en-desktop.png"), full_page=True)
    page.get_by_role("link", name="File a report: Public complaint").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    assert page.locator("#err-uraian").inner_text() == "is required"
    axe_clean(page)
    page.goto(live_server + "/lacak/")
    page.get_by_label("Tracking code").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name="Open my report").click()
    page.wait_for_load_state()
    assert page.locator("#err-kode").inner_text() == "Tracking code not found; check how it is written."
    axe_clean(page)
    only_own_origin(browser, live_server)


PUBLIC_PAGES = [
    "/",
    "/lapor/pengaduan",
    "/lapor/wbs",
    "/lapor/benturan_kepentingan",
    "/lacak/",
    "/verifikasi",
    "/tidak-ada",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_passes_axe_at_phone_width(browser, live_server, path, shots):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.goto(live_server + path)
    axe_clean(page)
    if path == "/":
        page.screenshot(path=str(shots / "landing-phone.png"), full_page=True)
