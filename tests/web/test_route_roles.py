"""Every staff route × every role: each answer is an allowed page, a redirect, or a refusal that agrees with the
engine's permissions — never a 500, never a page the role may not have. And every POST without its CSRF token
is refused and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from tests.helpers import STAFF
from tests.web.conftest import Browser, sign_in
from wbs_engine import reports, views
from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError
from wbs_engine.models import CaseEvent
from wbs_engine.users import create_or_update_user, parse_grant

ROLES = [name for name, _grants in STAFF] + ["admin"]
REPORT = {
    "kategori": "gratifikasi_suap",
    "apa": "Kepala seksi menerima uang dari rekanan proyek jalan desa agar pemenang lelang diatur.",
    "siapa": "Kepala seksi sarana",
    "nama": "Rahmat Pelapor",
}


@pytest.fixture
def world(web_engine, app, clock):
    create_or_update_user(web_engine, "admin", [parse_grant("admin")], password="rahasia-demo-123")
    case = web_engine.create_case("wbs", REPORT, identity_mode="rahasia")
    return {"number": case.number}


def _url(rule, number: str) -> str:
    values = {
        "number": number,
        "trigger": "mulai_verifikasi",
        "case_type": "gratifikasi",
        "username": "pegawai",
        "code": "LAYANAN",
    }
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(
            rf"<(?:([a-z_]+)(?:\([^)]*\))?:)?{arg}>",
            lambda m, a=arg: "1" if m.group(1) == "int" else values.get(a, "x"),
            url,
        )
    return url


def _staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] in (
            "auth",
            "admin",
            "staff",
            "mine",
            "identity",
            "tokens",
            "audit",
            "laporan",
        ):
            yield rule


@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_for_every_role(role, web_engine, app, clock, world):
    browser = Browser(app)
    sign_in(browser, role, clock=clock)
    actor = web_engine.load_actor(role)
    try:
        views.case_view(web_engine, world["number"], actor)
        reads_case = True
    except WbsError:
        reads_case = False
    wrong = []
    for rule in _staff_rules(app):
        if "GET" not in rule.methods:
            continue
        res = browser.get(_url(rule, world["number"]))
        status, ep = res.status_code, rule.endpoint
        if status >= 500 or "Traceback" in browser.page:
            wrong.append((ep, status, "server error"))
        elif ep.startswith("admin."):
            if (role == "admin") != (status != 403):
                wrong.append((ep, status, "admin pages are the admin's alone"))
        elif ep in ("staff.case", "identity.case_page"):
            if reads_case != (status == 200):
                wrong.append((ep, status, f"the engine says reads={reads_case}"))
            if not reads_case and "Rahmat" in browser.page:
                wrong.append((ep, status, "the identity leaked in a refusal"))
        elif ep.startswith("laporan."):
            reports_role = any(g.role in reports.REPORT_ROLES for g in actor.grants)
            if reports_role != (status == 200):
                wrong.append((ep, status, f"report roles: {reports_role}"))
        elif status not in (200, 303, 403, 404):
            wrong.append((ep, status, "unexpected status"))
    assert wrong == []


def _events(engine) -> int:
    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(func.count()).select_from(CaseEvent)).one()


@pytest.mark.parametrize("role", ["admin", "pengelola"])
def test_every_post_without_its_csrf_token_is_refused_and_changes_nothing(role, web_engine, app, clock, world):
    browser = Browser(app)
    sign_in(browser, role, clock=clock)
    before = _events(web_engine)
    posts = [r for r in _staff_rules(app) if "POST" in r.methods and r.endpoint != "auth.sign_out"]
    assert len(posts) > 25
    for rule in posts:
        res = browser.client.post(_url(rule, world["number"]), data={"alasan": "x" * 20, "pesan": "halo halo"})
        assert res.status_code == 400, rule.endpoint
    assert browser.get("/staf/").status_code == 200  # still signed in: the refusals did not sign anyone out
    assert _events(web_engine) == before
