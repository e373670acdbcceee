"""A real headless Chromium (Debian's package, driven by Playwright) against a live server of the app on a
free port with a fresh database."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import seed_people
from webapp import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _ci():
            pytest.fail("playwright is not installed (pip install -e '.[test]')")
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if _ci():
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
def browser(chromium):
    """A fresh browser context (its own cookies) per test; every request it makes is recorded."""
    context = chromium.new_context(accept_downloads=True, locale="id-ID")
    context.requested = []  # type: ignore[attr-defined]
    context.on("request", lambda req: context.requested.append(req.url))  # type: ignore[attr-defined]
    yield context
    context.close()


@pytest.fixture
def live_engine(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    seed_people(eng)
    return eng


@pytest.fixture
def live_server(live_engine):
    app = create_app(live_engine.settings, engine=live_engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: docs/screenshots with WBS_SCREENSHOTS=docs (to refresh the README's), else a
    temporary folder (the tests still make them and check they are real images)."""
    folder = REPO / "docs" / "screenshots" if os.environ.get("WBS_SCREENSHOTS") == "docs" else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
