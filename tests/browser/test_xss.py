"""Script payloads typed by a reporter, a handler and an admin, opened in Chromium on every page that shows
them: no dialog ever opens, and the text shows as text (issue 13, fuzzing in the browser)."""

from __future__ import annotations

import pytest

from tests.browser.test_public_flow import DESKTOP, shown
from tests.browser.test_staff_flow import reporter_page, staff  # noqa: F401  (the fixture)
from tests.helpers import COMPLAINT

#: each one would open a dialog if it ran
PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)><svg onload=alert(3)>'
URL_PAYLOAD = "javascript:alert(4)"


@pytest.fixture
def dialogs(browser):
    seen: list[str] = []
    browser.on("page", lambda page: page.on("dialog", lambda d: (seen.append(d.message), d.dismiss())))
    return seen


def test_no_script_payload_runs_on_any_page(staff, browser, live_server, live_engine, dialogs):  # noqa: F811
    from wbs_engine import admin

    staff.browser.on("page", lambda page: page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
    # a reporter files with payloads in every text field, and writes a message with one
    created = live_engine.create_case(
        "pengaduan",
        {
            **COMPLAINT,
            "nama": PAYLOAD[:200],
            "layanan": PAYLOAD[:200],
            "uraian": "Uraian " + PAYLOAD + " " + URL_PAYLOAD,
        },
        identity_mode="terbuka",
        unit_code="LAYANAN",
    )
    number, code = created.number, created.receipt_code
    reporter = reporter_page(browser, live_server, code)
    reporter.locator("#pesan").fill("Pesan " + PAYLOAD)
    reporter.get_by_role("button", name="Kirim pesan").click()
    reporter.wait_for_load_state()
    assert shown(reporter.get_by_text("Pesan <script>alert(1)</script>", exact=False).first)
    # a handler writes a note and a message to the reporter; the admin names a unit with one
    pengelola = live_engine.load_actor("pengelola")
    live_engine.post_message(number, pengelola, "Catatan " + PAYLOAD, internal=True)
    live_engine.post_message(number, pengelola, "Balasan " + PAYLOAD + " " + URL_PAYLOAD)
    admin.rename_unit(live_engine, live_engine.load_actor("admin"), "LAYANAN", ("Unit " + PAYLOAD)[:120])

    reporter.reload()
    reporter.wait_for_load_state()
    assert "Balasan <script>alert(1)</script>" in reporter.inner_text("main")
    page = staff.sign_in("pengelola")
    for url in (f"/staf/perkara/{number}", "/staf/antrian?antrian=unassigned", f"/staf/cari?nomor={number}"):
        page.goto(live_server + url)
        page.wait_for_load_state()
    page.goto(f"{live_server}/staf/perkara/{number}")
    text = page.inner_text("main")
    assert "Catatan <script>alert(1)</script>" in text and "Uraian <script>alert(1)</script>" in text
    assert page.locator("a[href^='javascript:']").count() == 0
    staff.sign_out(page)
    page = staff.sign_in("auditor")
    year = live_engine.now().year
    for url in (
        f"/staf/audit/perkara/{number}",
        f"/staf/audit/?cari={number}",
        f"/staf/laporan/?laporan=recap&jenis=pengaduan&dari={year}-01-01&sampai={year}-12-31",
    ):
        page.goto(live_server + url)
        page.wait_for_load_state()
    assert "Unit <script>alert(1)</script>" in page.inner_text("main")  # the unit's name in the recap, as text
    staff.sign_out(page)
    page = staff.sign_in("admin")
    page.set_viewport_size(DESKTOP)
    for url in ("/staf/admin/unit", "/staf/admin/pengguna"):
        page.goto(live_server + url)
        page.wait_for_load_state()
    assert dialogs == []
