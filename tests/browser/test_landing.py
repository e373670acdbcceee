"""The web app in a real headless Chromium (Debian's package, driven by Playwright)."""

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from wbs_engine.demo import seed
from webapp import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("playwright is not installed (pip install -e '.[test]')")
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Debian chromium is not installed (make test installs it)")
        pytest.skip("chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def live_server(make_wbs, tmp_path, clock):
    eng = make_wbs(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    seed(eng, clock.now)
    app = create_app(eng.settings, engine=eng)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_landing_page_in_chromium(browser, live_server, tmp_path):
    page = browser.new_page()
    page.goto(live_server + "/")
    assert page.title() == "wbs-engine — Layanan Integritas"
    headings = page.locator("section h2").all_inner_texts()
    assert any(h.startswith("Pengaduan Masyarakat") for h in headings)
    assert any(h.startswith("Pelaporan Gratifikasi") for h in headings)
    assert page.get_by_text("Batas verifikasi", exact=True).first.is_visible()
    page.screenshot(path=str(tmp_path / "landing.png"), full_page=True)
    assert (tmp_path / "landing.png").stat().st_size > 10_000
    health = page.goto(live_server + "/healthz")
    assert health.status == 200 and '"status":"ok"' in page.content().replace(" ", "")
