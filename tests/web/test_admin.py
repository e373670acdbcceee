"""The admin pages: only admins, every change an event, the office never loses its last admin."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.helpers import STAFF
from tests.web.conftest import Browser, sign_in
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent, RoleGrant, User
from wbs_engine.users import create_or_update_user, parse_grant
from webapp.admin import bp

PW = "rahasia-demo-123"


@pytest.fixture
def admin(app, web_engine, clock):
    create_or_update_user(web_engine, "admin", [parse_grant("admin")], password=PW)
    b = Browser(app)
    assert sign_in(b, "admin", clock=clock).status_code == 200  # enrolled on the way (admin requires TOTP)
    return b


def kinds(engine):
    with unit_of_work(engine.db, write=False) as s:
        return [e.kind for e in s.exec(select(CaseEvent).order_by(CaseEvent.id)).all()]


def last(engine, kind):
    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id.desc())).first()


def admin_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith(bp.name + ".")]


@pytest.mark.parametrize("username", [u for u, _g in STAFF if u != "auditor"])
def test_every_admin_route_refuses_non_admins(app, username):
    browser = Browser(app)
    assert sign_in(browser, username).status_code == 303
    browser.get("/staf/akun")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.page).group(1)
    answers = set()
    for rule in admin_rules(app):
        url = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            res = browser.client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            answers.add((rule.endpoint, method, res.status_code))
    assert {a[2] for a in answers} == {403}, answers
    assert "Administrasi" not in browser.get("/staf/akun").get_data(as_text=True)


def test_auditor_also_refused(app, clock):
    browser = Browser(app)
    sign_in(browser, "auditor", clock=clock)  # auditor must enrol (default)
    assert browser.get("/staf/admin/").status_code == 403
    assert browser.get("/staf/admin/pengguna").status_code == 403


def test_admin_pages_render(admin):
    for url in (
        "/staf/admin/",
        "/staf/admin/pengguna",
        "/staf/admin/pengguna/baru",
        "/staf/admin/pengguna/pengelola",
        "/staf/admin/unit",
        "/staf/admin/hari-libur",
        "/staf/admin/faktor-kedua",
        "/staf/admin/templat",
        "/staf/admin/templat/baru",
    ):
        res = admin.get(url)
        assert res.status_code == 200, url
        assert res.headers["Cache-Control"] == "no-store"


def test_create_user_grant_revoke_and_verify_audit(admin, web_engine):
    admin.get("/staf/admin/pengguna/baru")
    res = admin.post("/staf/admin/pengguna/baru", {"username": "Bad Name!", "full_name": "X", "lang": "id"})
    assert res.status_code == 422 and 'id="err-username"' in admin.page and 'value="Bad Name!"' in admin.page
    res = admin.post(
        "/staf/admin/pengguna/baru",
        {
            "username": "budi",
            "full_name": "Budi",
            "email": "budi@kantor.test",
            "lang": "id",
            "role": "pengelola",
            "unit": "LAYANAN",
        },
    )
    assert res.status_code == 200
    password = re.search(r'id="shown-password">([^<]+)<', admin.page).group(1)
    assert sign_in(Browser(admin.app), "budi", password).status_code == 303
    # the same form again: no second account, a clear message
    admin.get("/staf/admin/pengguna/baru")
    res = admin.post("/staf/admin/pengguna/baru", {"username": "budi", "lang": "id"})
    assert res.status_code == 422
    assert kinds(web_engine).count("user_created") == 1
    # a grant twice: one row, one event
    admin.get("/staf/admin/pengguna/budi")
    for _ in range(2):
        res = admin.post("/staf/admin/pengguna/budi/peran", {"role": "unit", "unit": "UMUM", "case_type": "pengaduan"})
        assert res.status_code == 200
    assert last(web_engine, "role_granted").payload == {"user": "budi", "grants": ["unit:UMUM:pengaduan"]}
    with unit_of_work(web_engine.db, write=False) as s:
        uid = s.exec(select(User.id).where(User.username == "budi")).one()
        grants = s.exec(select(RoleGrant).where(RoleGrant.user_id == uid)).all()
    assert len(grants) == 2
    res = admin.post("/staf/admin/pengguna/budi/peran", {"role": "raja", "unit": "NOPE"})
    assert res.status_code == 422 and 'id="err-role"' in admin.page
    for g in grants:
        admin.get("/staf/admin/pengguna/budi")
        assert admin.post(f"/staf/admin/pengguna/budi/peran/{g.id}/cabut").status_code == 200
        assert admin.post(f"/staf/admin/pengguna/budi/peran/{g.id}/cabut").status_code == 200  # second click: no harm
    assert kinds(web_engine).count("role_revoked") == 2
    with unit_of_work(web_engine.db, write=False) as s:
        result = audit.verify(s, keyring=web_engine.keyring)
    assert [p.code for p in result.problems] == []


def test_cannot_lock_out_the_last_admin(admin, web_engine):
    admin.get("/staf/admin/pengguna/admin")
    res = admin.post("/staf/admin/pengguna/admin/nonaktif")
    assert res.status_code == 409 and 'role="alert"' in admin.page
    with unit_of_work(web_engine.db, write=False) as s:
        gid = s.exec(select(RoleGrant.id).join(User).where(User.username == "admin")).one()
    admin.get("/staf/admin/pengguna/admin")
    assert admin.post(f"/staf/admin/pengguna/admin/peran/{gid}/cabut").status_code == 409
    assert "role_revoked" not in kinds(web_engine) and "user_deactivated" not in kinds(web_engine)
    assert admin.get("/staf/admin/").status_code == 200


def test_deactivated_users_open_session_stops_at_once(admin, app, web_engine):
    victim = Browser(app)
    sign_in(victim, "pengelola")
    assert victim.get("/staf/").status_code == 200
    admin.get("/staf/admin/pengguna/pengelola")
    assert admin.post("/staf/admin/pengguna/pengelola/nonaktif").status_code == 200
    assert last(web_engine, "user_deactivated").payload == {"user": "pengelola", "sessions_ended": 1}
    assert victim.get("/staf/").status_code == 303
    assert sign_in(Browser(app), "pengelola").status_code == 401
    admin.get("/staf/admin/pengguna/pengelola")
    assert admin.post("/staf/admin/pengguna/pengelola/aktif").status_code == 200
    assert last(web_engine, "user_reactivated") is not None
    assert sign_in(Browser(app), "pengelola").status_code == 303


def test_reset_password_and_second_factor(admin, app, web_engine, clock):
    admin.get("/staf/admin/pengguna/auditor")
    admin.post("/staf/admin/pengguna/auditor/sandi")
    password = re.search(r'id="shown-password">([^<]+)<', admin.page).group(1)
    assert last(web_engine, "password_reset").payload["user"] == "auditor"
    user = Browser(app)
    assert sign_in(user, "auditor", password, clock=clock).status_code == 200  # enrols
    admin.get("/staf/admin/pengguna/auditor")
    assert admin.post("/staf/admin/pengguna/auditor/faktor-kedua").status_code == 200
    assert last(web_engine, "second_factor_reset").payload == {"user": "auditor", "sessions_ended": 1}
    assert user.get("/staf/").status_code == 303


def test_units_holidays_settings_templates(admin, web_engine):
    admin.get("/staf/admin/unit")
    assert admin.post("/staf/admin/unit", {"code": "keu", "name": "Keuangan"}).status_code == 200
    assert admin.post("/staf/admin/unit", {"code": "keu", "name": "Keuangan"}).status_code == 200  # double submit
    assert admin.post("/staf/admin/unit", {"code": "a b", "name": ""}).status_code == 422
    assert admin.post("/staf/admin/unit/KEU/nama", {"name": "Bagian Keuangan"}).status_code == 200
    assert admin.post("/staf/admin/unit/KEU/atasan", {"atasan": "pengelola"}).status_code == 422
    assert admin.post("/staf/admin/unit/KEU/atasan", {"atasan": "atasan"}).status_code == 200
    assert [e for e in kinds(web_engine) if e == "unit_changed"] == ["unit_changed"] * 3
    admin.get("/staf/admin/hari-libur")
    res = admin.post("/staf/admin/hari-libur", {"day": "31-12-2026", "kind": "closed", "name": "x"})
    assert res.status_code == 422 and 'value="31-12-2026"' in admin.page
    assert (
        admin.post("/staf/admin/hari-libur", {"day": "2026-12-30", "kind": "closed", "name": "Hari jadi"}).status_code
        == 200
    )
    assert last(web_engine, "holiday_set").actor == "admin"
    admin.get("/staf/admin/faktor-kedua")
    assert admin.post("/staf/admin/faktor-kedua", {"roles": ["admin", "pengelola"]}).status_code == 200
    assert last(web_engine, "setting_changed").payload == {"key": "totp_roles", "value": ["pengelola", "admin"]}
    assert admin.post("/staf/admin/faktor-kedua", {"roles": ["admin", "pengelola"]}).status_code == 200
    assert kinds(web_engine).count("setting_changed") == 1
    admin.get("/staf/admin/templat/baru")
    res = admin.post("/staf/admin/templat/baru", {"case_type": "pengaduan", "title": "", "body": "x" * 4001})
    assert res.status_code == 422 and 'id="err-title"' in admin.page and 'id="err-body"' in admin.page
    form = {"case_type": "pengaduan", "title": "Terima kasih", "body": "Laporan Anda kami terima."}
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.page).group(1)
    for _ in range(2):  # the same form sent twice
        assert admin.post("/staf/admin/templat/baru", {**form, "csrf_token": token}).status_code == 303
    from wbs_engine.replies import reply_templates

    rows = reply_templates(web_engine, "pengaduan")
    assert [t.title for t in rows] == ["Terima kasih"]
    admin.get(f"/staf/admin/templat/{rows[0].id}")
    assert admin.post(f"/staf/admin/templat/{rows[0].id}/aktif", {"active": "0"}).status_code == 303
    assert reply_templates(web_engine, "pengaduan") == []
    changes = []
    with unit_of_work(web_engine.db, write=False) as s:
        for e in s.exec(select(CaseEvent).where(CaseEvent.kind == "reply_template_changed")).all():
            changes.append(e.payload["change"])
    assert changes == ["added", "deactivated"]
