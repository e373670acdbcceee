"""The auditor's pages (webapp/audit_pages.py): read-only, auditors only, limited by their grants; a tampered
event shows red on the case page and as a problem of the whole check; the access list shows who read."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from tests.web.conftest import Browser, sign_in
from wbs_engine import audit, views
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent
from wbs_engine.users import create_or_update_user, parse_grant

EV = CaseEvent.__table__
WBS_REPORT = {
    "kategori": "gratifikasi_suap",
    "apa": "Kepala seksi menerima uang dari rekanan proyek jalan desa agar pemenang lelang diatur.",
    "siapa": "Kepala seksi sarana",
    "nama": "Rahmat Pelapor",
}
#: staff action forms and their inputs, as the staff case page writes them
ACTION_MARKS = ("expected_version", "/aksi/", "/petugas", "/pesan", "/catatan", "/lampiran")


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]


def _url(rule, number: str) -> str:
    return re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?number>", number, rule.rule)


def _seal(engine):
    with unit_of_work(engine.db) as s:
        audit.checkpoint(s, engine.now(), engine.keyring)


@pytest.fixture
def world(web_engine, clock):
    report = web_engine.create_case("wbs", WBS_REPORT, identity_mode="rahasia").number
    complaint = web_engine.create_case("pengaduan", dict(COMPLAINT), unit_code="UMUM").number
    _seal(web_engine)
    return {"report": report, "complaint": complaint}


@pytest.fixture
def auditor(app, clock):
    b = Browser(app)
    sign_in(b, "auditor", clock=clock)  # the auditor role must use a second factor (default)
    return b


def test_an_auditor_reads_every_audit_page_and_no_page_offers_an_action(app, auditor, world):
    n = world["report"]
    for url in ("/staf/audit/", f"/staf/audit/perkara/{n}", f"/staf/audit/akses/{n}", "/staf/audit/jejak"):
        res = auditor.get(url)
        assert res.status_code == 200, url
        for mark in ACTION_MARKS:
            assert mark not in auditor.page, (url, mark)
        posts = re.findall(
            r'<form[^>]*method="post"[^>]*action="([^"]+)"|<form[^>]*action="([^"]+)"[^>]*method="post"', auditor.page
        )
        # the menu's sign-out, and on a case's history the bundle export (which writes its record)
        allowed = {"/staf/keluar", f"/staf/audit/perkara/{world['report']}/bundel"}
        allowed |= {f"/staf/audit/perkara/{n}/bundel" for n in world.values() if isinstance(n, str)}
        assert {a or b for a, b in posts} <= allowed, url
    auditor.get("/staf/audit/")
    assert n in auditor.page and world["complaint"] in auditor.page
    assert 'href="/staf/audit/"' in auditor.get("/staf/").get_data(as_text=True)  # the nav link "Audit"
    # the case history: events, states, hashes (short, full in <details>) and the green banner
    auditor.get(f"/staf/audit/perkara/{n}")
    assert 'class="result ok"' in auditor.page
    with unit_of_work(app.extensions["wbs"].db, write=False) as s:
        first = audit.chain_events(s, n)[0]
    assert first.hash[:12] in auditor.page and f"<code>{first.hash}</code>" in auditor.page
    assert "rekanan proyek" in auditor.page  # the wbs workflow lets the auditor read the report's sealed text
    assert 'class="tag sealed"' in auditor.page
    assert "Rahmat Pelapor" not in auditor.page  # but not who wrote it (identity: atasan only)
    res = auditor.get("/staf/audit/jejak/kepala.txt")
    assert (
        res.status_code == 200 and res.mimetype == "text/plain" and "attachment" in res.headers["Content-Disposition"]
    )
    head = audit.parse_heads(res.get_data(as_text=True))
    assert len(head) == 1 and head[0].signature_ok()
    res = auditor.get("/staf/audit/jejak/kunci.pem")
    assert res.status_code == 200 and "BEGIN PUBLIC KEY" in res.get_data(as_text=True)


def test_every_post_under_staf_audit_is_refused_and_writes_nothing(app, auditor, world, web_engine):
    """Every POST but the bundle export (which writes its record, behind its CSRF token: tested below)."""
    def count():
        with unit_of_work(web_engine.db, write=False) as s:
            return s.connection().execute(sa.select(sa.func.count()).select_from(EV)).scalar_one()

    auditor.get("/staf/audit/")
    token = auditor.hidden().get("csrf_token")  # none on these pages (no form posts): take one from another page
    if token is None:
        auditor.get("/staf/akun")
        token = auditor.hidden().get("csrf_token")
    before = count()
    rules = [r for r in _rules(app) if r.endpoint != "audit.bundle_download"]
    assert len(rules) >= 6
    for rule in rules:
        url = _url(rule, world["report"])
        for data in ({"csrf_token": token} if token else {}, {}):
            res = auditor.client.post(url, data=data)
            assert res.status_code in (400, 405), (url, res.status_code)
    for url in ("/staf/audit/perkara/x/aksi/mulai", "/staf/audit/apa-saja"):
        assert auditor.client.post(url, data={"csrf_token": token}).status_code in (400, 404, 405)
    assert count() == before


def test_the_bundle_export_needs_its_csrf_token_and_is_recorded(app, auditor, world, web_engine):
    def exports():
        with unit_of_work(web_engine.db, write=False) as s:
            return s.connection().execute(
                sa.select(sa.func.count()).select_from(EV).where(EV.c.kind == "bundle_exported")
            ).scalar_one()

    url = f"/staf/audit/perkara/{world['report']}/bundel"
    assert auditor.client.post(url).status_code == 400  # another site cannot make the auditor's browser export
    assert auditor.client.get(url).status_code == 405
    assert exports() == 0
    auditor.get(f"/staf/audit/perkara/{world['report']}")
    res = auditor.client.post(url, data={"csrf_token": auditor.hidden()["csrf_token"]})
    assert res.status_code == 200 and res.mimetype == "application/zip" and res.data[:2] == b"PK"
    assert exports() == 1


@pytest.mark.parametrize("username", ["pengelola", "atasan", "telaah", "pegawai"])
def test_a_non_auditor_gets_403_on_every_audit_route(app, clock, world, username):
    b = Browser(app)
    sign_in(b, username, clock=clock)
    token = b.hidden().get("csrf_token") or (b.get("/staf/akun") and b.hidden().get("csrf_token"))
    for rule in _rules(app):
        if "GET" in rule.methods:
            res = b.get(_url(rule, world["report"]))
        else:
            res = b.client.post(_url(rule, world["report"]), data={"csrf_token": token})
        assert res.status_code == 403, (rule.endpoint, res.status_code)
    assert 'href="/staf/audit/"' not in b.get("/staf/").get_data(as_text=True)


def test_admin_gets_403_too(app, clock, world, web_engine):
    create_or_update_user(web_engine, "admin", [parse_grant("admin")], password="rahasia-demo-123")
    b = Browser(app)
    sign_in(b, "admin", clock=clock)
    for rule in _rules(app):
        if "GET" in rule.methods:
            assert b.get(_url(rule, world["report"])).status_code == 403, rule.endpoint


def test_a_tampered_event_shows_red_on_the_case_page_and_on_the_whole_check(app, auditor, world, web_engine):
    n = world["complaint"]
    auditor.get(f"/staf/audit/perkara/{n}")
    assert 'class="result ok"' in auditor.page
    auditor.get("/staf/audit/jejak")
    assert 'class="result ok"' in auditor.page
    with unit_of_work(web_engine.db) as s:
        conn = s.connection()
        row = conn.execute(sa.select(EV.c.id, EV.c.payload).where(EV.c.chain == n, EV.c.seq == 1)).one()
        payload = row.payload if isinstance(row.payload, dict) else __import__("json").loads(row.payload)
        payload = {**payload, "data": {**payload.get("data", {}), "kategori": "lainnya"}}
        conn.execute(sa.update(EV).where(EV.c.id == row.id).values(payload=payload))
    res = auditor.get(f"/staf/audit/perkara/{n}")
    assert res.status_code == 200
    assert 'class="result bad"' in auditor.page and 'class="result ok"' not in auditor.page
    assert "event id" in auditor.page or "peristiwa" in auditor.page  # the problem names the event
    auditor.get("/staf/audit/jejak")
    assert 'class="result bad"' in auditor.page
    problems = re.search(r'<ul class="problems">(.*?)</ul>', auditor.page, re.S).group(1)
    assert n in problems
    # the other case still verifies
    auditor.get(f"/staf/audit/perkara/{world['report']}")
    assert 'class="result ok"' in auditor.page


def test_an_auditor_limited_to_one_unit_cannot_see_another_units_case(app, clock, world, web_engine):
    create_or_update_user(web_engine, "auditor.layanan", [parse_grant("auditor:LAYANAN")], password="rahasia-demo-123")
    other = world["complaint"]  # unit UMUM
    b = Browser(app)
    sign_in(b, "auditor.layanan", clock=clock)
    link = f"/staf/audit/perkara/{other}"
    b.get("/staf/audit/")
    assert link not in b.page
    b.get(f"/staf/audit/?cari={other}")
    assert link not in b.page
    res = b.get("/staf/audit/?unit=UMUM")
    assert res.status_code == 422 and link not in b.page
    for url in (f"/staf/audit/perkara/{other}", f"/staf/audit/akses/{other}"):
        res = b.get(url)
        assert res.status_code == 403 and "Siti" not in b.page and "legalisir" not in b.page, url
    mine = web_engine.create_case("pengaduan", dict(COMPLAINT), unit_code="LAYANAN").number
    b.get("/staf/audit/")
    assert mine in b.page
    assert b.get(f"/staf/audit/perkara/{mine}").status_code == 200


def test_the_access_list_shows_a_case_read_after_someone_read_the_case(app, auditor, world, web_engine):
    n = world["report"]
    auditor.get(f"/staf/audit/akses/{n}")
    assert "telaah" not in auditor.page
    views.case_view(web_engine, n, web_engine.load_actor("telaah"))
    auditor.get(f"/staf/audit/akses/{n}")
    assert "telaah" in auditor.page and "tim_telaah" in auditor.page
    assert "apa" in auditor.page  # the field's name
    assert "rekanan" not in auditor.page and "Rahmat" not in auditor.page  # never its value
    # the auditor's own reading of the history is recorded too
    auditor.get(f"/staf/audit/perkara/{n}")
    auditor.get(f"/staf/audit/akses/{n}")
    assert re.search(r"<td>auditor <span class=\"muted\">\(auditor\)</span></td>", auditor.page)


def test_bad_input_is_a_clear_page_never_a_500(app, auditor, world):
    for url, status in (
        ("/staf/audit/?dari=kemarin", 422),
        ("/staf/audit/?dari=2026-03-05&sampai=2026-03-01", 422),
        ("/staf/audit/?c=%00%00", 422),
        ("/staf/audit/?cari=%00", 422),
        ("/staf/audit/?jenis=tidak_ada", 422),
        ("/staf/audit/?status=tidak_ada", 422),
        ("/staf/audit/perkara/PGD-2099-999999", 404),
        ("/staf/audit/perkara/%00", 404),
        ("/staf/audit/akses/PGD-2099-999999", 404),
    ):
        res = auditor.get(url)
        assert res.status_code == status, (url, res.status_code)
        assert "Traceback" not in auditor.page


def test_search_pages_and_english(app, auditor, world, web_engine):
    for _ in range(30):
        web_engine.create_case("pengaduan", dict(COMPLAINT), unit_code="LAYANAN")
    auditor.get("/staf/audit/?lang=en")
    assert "Audit: all cases" in auditor.page
    nxt = re.search(r'href="([^"]+)" rel="next"', auditor.page).group(1).replace("&amp;", "&")
    first = set(re.findall(r'class="number" href="/staf/audit/perkara/([A-Z0-9-]+)"', auditor.page))
    auditor.get(nxt)
    second = set(re.findall(r'class="number" href="/staf/audit/perkara/([A-Z0-9-]+)"', auditor.page))
    assert len(first) == 25 and len(second) == 7 and not first & second
    assert 'rel="prev"' in auditor.page
