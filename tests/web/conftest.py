"""Fixtures for the web tests: an app on a fresh SQLite engine with the demo units and staff, and a client
that reads the CSRF token and the filing token from the page like a browser sends them back."""

from __future__ import annotations

import re

import pytest

from tests.helpers import seed_people
from webapp import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FILING = re.compile(r'name="token" value="([^"]+)"')
ERROR = re.compile(r'<p class="error" id="err-([a-z_]+)">([^<]+)</p>')


class Browser:
    """A Flask test client with the habits of a browser: it keeps cookies and sends forms back with the
    hidden inputs of the page it got them from."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.page = ""

    def get(self, url: str, **kw):
        res = self.client.get(url, **kw)
        self.page = res.get_data(as_text=True)
        return res

    def hidden(self) -> dict[str, str]:
        found = {}
        if m := CSRF.search(self.page):
            found["csrf_token"] = m.group(1)
        if m := FILING.search(self.page):
            found["token"] = m.group(1)
        return found

    def post(self, url: str, data: dict | None = None, *, keep_hidden: bool = True, **kw):
        form = {**(self.hidden() if keep_hidden else {}), **(data or {})}
        res = self.client.post(url, data=form, **kw)
        self.page = res.get_data(as_text=True) if res.mimetype.startswith("text/") else ""
        return res

    def errors(self) -> dict[str, str]:
        return dict(ERROR.findall(self.page))


@pytest.fixture
def web_engine(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    seed_people(eng)
    return eng


@pytest.fixture
def app(web_engine):
    return create_app(web_engine.settings, engine=web_engine)


@pytest.fixture
def browser(app):
    return Browser(app)


def count_cases(engine) -> int:
    from sqlmodel import func, select

    from wbs_engine.db import unit_of_work
    from wbs_engine.models import Case

    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(func.count()).select_from(Case)).one()


def sign_in(browser, username: str, password: str = "rahasia-demo-123", *, clock=None):
    """Sign ``username`` in through the pages; when a second factor is asked for (enrolled: needs ``clock``
    and the secret kept by :func:`sign_in` in ``browser.totp``) or must be set up first (a required role),
    do it with pyotp at the engine's clock. Returns the last response."""
    import pyotp

    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": username, "password": password})
    where = res.headers.get("Location", "")
    if where.endswith("/staf/akun/faktor-kedua"):
        browser.get(where)
        secret = re.search(r'id="totp-key">([^<]+)<', browser.page).group(1).replace(" ", "")
        browser.totp = getattr(browser, "totp", {})
        browser.totp[username] = secret
        now = clock.now if clock is not None else None
        code = pyotp.TOTP(secret).at(now) if now is not None else pyotp.TOTP(secret).now()
        res = browser.post(where, {"code": code})
    elif where.endswith("/staf/faktor-kedua"):
        secret = browser.totp[username]
        clock.advance(seconds=30)  # a new time step: a step already used is never accepted again
        browser.get(where)
        res = browser.post(where, {"code": pyotp.TOTP(secret).at(clock.now)})
    return res
