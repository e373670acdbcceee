"""The landing page and the health check in Chromium."""

from tests.browser.test_public_flow import shown


def test_landing_page_in_chromium(browser, live_server, shots):
    page = browser.new_page()
    page.goto(live_server + "/")
    assert page.title() == "Layanan Integritas — wbs-engine"
    headings = page.locator("section.channel h2").all_inner_texts()
    assert set(headings) == {"Pengaduan Masyarakat", "Whistleblowing System (WBS)", "Benturan Kepentingan"}
    page.locator("section[aria-labelledby=ch-pengaduan] summary").first.click()
    page.wait_for_load_state()
    assert shown(page.get_by_text("Batas verifikasi", exact=True).first)
    page.screenshot(path=str(shots / "landing-desktop.png"), full_page=True)
    assert (shots / "landing-desktop.png").stat().st_size > 10_000
    health = page.goto(live_server + "/healthz")
    assert health.status == 200 and '"status":"ok"' in page.content().replace(" ", "")
