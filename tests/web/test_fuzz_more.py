"""Hostile input at the rest of the web's forms and typed queries (issue 13, part 5; the list of what is
fuzzed where is tests/web/test_fuzz_coverage.py): the pages' searches and filters, sign-in and the account's
own forms, the admin's forms on one user, a template and a unit, the receipt's and the tracking page's extras,
the report download and the audit bundle.

Whatever is sent: no 5xx, no traceback; markup typed is never markup on the page; a GET writes nothing; a
refused form writes nothing. Derandomised, small example counts (the suite's time)."""

from __future__ import annotations

import io

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.helpers import COMPLAINT, GIFT_FORM
from tests.web.conftest import Browser, sign_in
from tests.web.test_fuzz_forms import (
    FILENAMES,
    FUZZ,
    TEXT,
    admin,  # noqa: F401 (a fixture)
    assert_names_not_paths,
    counts,
    fresh_allowances,
    literal,
    no_failure,
    outside,
    stored_files,
)
from wbs_engine import accounts
from wbs_engine.db import unit_of_work

PASSWORD = "rahasia-demo-123"
GIFT = GIFT_FORM
QUERY = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e", "f"]), TEXT, min_size=1, max_size=4)


#: events a refused sign-in or password change writes on purpose (a guess is recorded): not a change
GUESSES = ("sign_in_failed", "sign_in_locked")


def changes(engine) -> dict[str, int]:
    """:func:`counts` without the events that record a wrong password or code."""
    from sqlmodel import func

    from wbs_engine.models import CaseEvent

    found = counts(engine)
    with unit_of_work(engine.db, write=False) as s:
        found["CaseEvent"] -= s.exec(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind.in_(GUESSES))
        ).one()
    return found


def signed(app, username: str, clock) -> Browser:
    b = Browser(app)
    sign_in(b, username, clock=clock)
    return b


@pytest.fixture
def scene(app, web_engine, clock):
    """A case in verification, an employee's gift report, a reporter following a case, and the browsers."""
    pengelola = web_engine.load_actor("pengelola")
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    web_engine.fire(made.number, "mulai_verifikasi", pengelola)
    gift = web_engine.create_case(
        "gratifikasi", GIFT, identity_mode="terbuka", filed_by=web_engine.load_actor("pegawai")
    ).number
    reporter = Browser(app)
    reporter.get("/lacak/")
    assert reporter.post("/lacak/", {"kode": made.receipt_code}).status_code == 303
    return {
        "case": made.number,
        "gift": gift,
        "pengelola": signed(app, "pengelola", clock),
        "pegawai": signed(app, "pegawai", clock),
        "auditor": signed(app, "auditor", clock),
        "reporter": reporter,
        "public": Browser(app),
    }


@settings(FUZZ, max_examples=12)
@example(values={"d": "0001-01-01", "e": "9999-12-31", "f": "9999-12-31"}, repeat=False)  # the calendar's ends
@example(values={"d": "9999-12-31", "e": "0001-01-01", "f": "0001-01-01"}, repeat=True)
@given(values=QUERY, repeat=st.booleans())
def test_pages_with_typed_queries(app, web_engine, scene, values, repeat):
    """Every page whose view reads a typed query parameter (a search, a filter, a page cursor, a notice key),
    each parameter hostile: no 5xx, the value shown as text, nothing written."""
    fresh_allowances(app)
    v = [values.get(k, "") for k in "abcdef"]
    n, gift = scene["case"], scene["gift"]
    pages = [
        (
            "pengelola",
            "/staf/antrian",
            {
                "antrian": v[0],
                "unit": v[1],
                "jenis": v[2],
                "cari": v[3],
                "c": v[4],
                "p": [v[5], v[0]] if repeat else v[5],
            },
        ),
        ("pengelola", "/staf/cari", {"nomor": v[0] or v[1]}),
        ("pengelola", f"/staf/perkara/{n}", {"templat": v[0], "ok": v[1]}),
        ("pengelola", f"/staf/perkara/{n}/identitas", {"selesai": v[2]}),
        ("pengelola", "/staf/identitas", {"selesai": v[3]}),
        ("pengelola", "/staf/laporan/", {"laporan": v[0], "jenis": v[1], "unit": v[2], "dari": v[3], "sampai": v[4]}),
        ("pegawai", "/staf/laporan-saya/baru/gratifikasi", {"identitas": v[0]}),
        ("pegawai", f"/staf/laporan-saya/{gift}", {"ok": v[1]}),
        (
            "auditor",
            "/staf/audit/",
            {
                "cari": v[0],
                "jenis": v[1],
                "unit": v[2],
                "status": v[3],
                "dari": v[4],
                "sampai": v[5],
                "c": v[1],
                "p": v[2],
            },
        ),
        ("public", "/statistik", {"tahun": v[0]}),
        ("public", "/staf/masuk", {"next": v[1]}),
        ("public", "/lacak/", {"habis": v[2]}),
        ("reporter", "/lacak/perkara", {"ok": v[3]}),
    ]
    for who, path, query in pages:
        browser = scene[who]
        before = counts(web_engine)
        res = browser.get(path, query_string=query)
        event(f"{path.split('/')[2] if path.count('/') > 1 else path}: {res.status_code}")
        no_failure(browser, res)
        for value in query.values():
            literal(browser.page, str(value))
        assert counts(web_engine) == before, path


@pytest.fixture
def enrolled(app, clock):
    """The auditor's browser, which set up the second factor (and keeps its secret)."""
    return signed(app, "auditor", clock)


@settings(FUZZ, max_examples=12)
@example(username="x", password="y", nxt="\r\nSet-Cookie: sesi=curian", code="1", new="z", same=False)
@given(username=TEXT, password=TEXT, nxt=TEXT, code=TEXT, new=TEXT, same=st.booleans())
def test_sign_in_and_account_forms(app, web_engine, clock, enrolled, username, password, nxt, code, new, same):
    """Sign-in (name, password, where to go next), the second factor's code, setting one up, renewing the
    recovery codes, changing one's password and signing out, with hostile input: no 5xx; a refusal changes
    nothing (the password still signs in)."""
    fresh_allowances(app)
    visitor = Browser(app)
    visitor.get("/staf/masuk")
    res = visitor.post("/staf/masuk", {"username": username, "password": password, "next": nxt})
    event(f"masuk: {res.status_code}")
    no_failure(visitor, res)
    literal(visitor.page, username + nxt)
    if res.status_code == 303:
        assert not res.headers["Location"].startswith(("//", "http:", "https:", "javascript:"))
    for target in (nxt, "/" + nxt, "/staf/" + nxt):  # the right password, anywhere to go next
        fresh_allowances(app)
        visitor = Browser(app)
        visitor.get("/staf/masuk")
        res = visitor.post("/staf/masuk", {"username": "pegawai", "password": PASSWORD, "next": target})
        no_failure(visitor, res)
        assert res.status_code == 303 and res.headers["Location"].startswith("/")
        assert not res.headers["Location"].startswith("//") and "\\" not in res.headers["Location"]
    # the second factor of an enrolled user, hostile codes
    auditor = enrolled
    auditor.get("/staf/")
    auditor.post("/staf/keluar")
    auditor.get("/staf/masuk")
    res = auditor.post("/staf/masuk", {"username": "auditor", "password": PASSWORD, "next": nxt})
    if res.status_code == 303:  # (not when the earlier examples' wrong codes locked the account for a while)
        auditor.get(res.headers["Location"])
        res = auditor.post("/staf/faktor-kedua", {"code": code})
        event(f"faktor-kedua: {res.status_code}")
        no_failure(auditor, res)
        literal(auditor.page, code)
    # an account's own forms: set up a second factor, renew recovery codes, change the password, sign out
    fresh_allowances(app)  # the wrong passwords above may have locked the sign-in for a while
    me = Browser(app)
    assert sign_in(me, "pegawai").status_code == 303
    me.get("/staf/akun/faktor-kedua")
    before = changes(web_engine)
    res = me.post("/staf/akun/faktor-kedua", {"code": code, "current_code": new})
    event(f"akun/faktor-kedua: {res.status_code}")
    no_failure(me, res)
    literal(me.page, code + new)
    me.get("/staf/akun")
    res = me.post("/staf/akun/kode-pemulihan", {"code": code})
    event(f"kode-pemulihan: {res.status_code}")
    no_failure(me, res)
    me.get("/staf/akun")
    res = me.post("/staf/akun/sandi", {"current": password, "new": new, "repeat": new if same else code})
    event(f"sandi: {res.status_code}")
    no_failure(me, res)
    literal(me.page, password + new + code)
    assert changes(web_engine) == before
    assert accounts.check_password(web_engine, "pegawai", PASSWORD) is not None  # never changed by a guess
    res = me.post("/staf/keluar", {"next": nxt, "x": code})
    no_failure(me, res)


@settings(FUZZ, max_examples=10)
@given(
    a=TEXT,
    b=TEXT,
    c=TEXT,
    grant_id=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
    template_id=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
    active=st.one_of(st.just("1"), TEXT),
)
def test_admin_user_template_and_unit_forms(app, web_engine, admin, a, b, c, grant_id, template_id, active):  # noqa: F811
    """The admin's forms on one user (profile, grants, password, second factor, (de)activation), a reply
    template (edit, switch), a unit's atasan and the roles that need a second factor, with hostile input and
    ids: no 5xx; a refusal writes nothing; nothing typed becomes markup."""
    from wbs_engine import admin as ops
    from wbs_engine.models import ReplyTemplate, RoleGrant, User

    user = "petugas.umum"
    page = f"/staf/admin/pengguna/{user}"
    with unit_of_work(web_engine.db, write=False) as s:
        if grant_id is None:  # one of the user's own grants
            uid = s.exec(select(User.id).where(User.username == user)).one()
            grant_id = s.exec(select(RoleGrant.id).where(RoleGrant.user_id == uid)).first() or 1
        if template_id is None:  # a template that exists
            template_id = s.exec(select(ReplyTemplate.id)).first()
    if template_id is None:
        template_id = ops.save_reply_template(
            web_engine, web_engine.load_actor("admin"), "pengaduan", "Salam", "Terima kasih atas laporan Anda.", None
        )
    for start, path, form in (
        (page, f"{page}/ubah", {"full_name": a, "email": b, "lang": c}),
        (page, f"{page}/peran", {"role": a, "unit": b, "case_type": c}),
        (page, f"{page}/peran/{grant_id}/cabut", {"x": a}),
        (page, f"{page}/sandi", {"x": a}),
        (page, f"{page}/faktor-kedua", {"x": a}),
        (page, f"{page}/nonaktif", {"x": a}),
        (page, f"{page}/aktif", {"x": b}),
        (
            f"/staf/admin/pengguna/{a[:50] or 'x'}",
            f"/staf/admin/pengguna/{(a[:50] or 'x').replace('/', '')}/ubah",
            {"full_name": b},
        ),
        ("/staf/admin/templat/baru", f"/staf/admin/templat/{template_id}", {"case_type": a, "title": b, "body": c}),
        ("/staf/admin/templat/baru", f"/staf/admin/templat/{template_id}/aktif", {"active": active}),
        ("/staf/admin/unit", "/staf/admin/unit/LAYANAN/atasan", {"atasan": a}),
        ("/staf/admin/unit", f"/staf/admin/unit/{(b[:40] or 'x').replace('/', '')}/atasan", {"atasan": "atasan"}),
        ("/staf/admin/faktor-kedua", "/staf/admin/faktor-kedua", {"roles": [a, b, "admin"]}),
    ):
        admin.get(start)
        before = counts(web_engine)
        res = admin.post(path, form)
        event(f"{path.rsplit('/', 1)[-1][:12]}: {res.status_code}")
        no_failure(admin, res)
        literal(admin.page, str(form))
        if res.status_code not in (200, 201, 303):
            assert counts(web_engine) == before, path
    accounts_left = accounts.check_password(web_engine, "admin", PASSWORD)
    assert accounts_left is not None  # the admin is still there, and may still sign in


@settings(FUZZ, max_examples=10)
@given(text=TEXT, filename=FILENAMES, include=st.one_of(st.just("1"), TEXT))
def test_receipt_and_tracking_extras(app, web_engine, tmp_path, text, filename, include):
    """The receipt page's proof download and "done", the reporter's file, proof and leaving, with hostile
    fields and file names: no 5xx, no file outside the store, a stored name is a name."""
    fresh_allowances(app)
    b = Browser(app)
    b.get("/lapor/pengaduan?identitas=anonim")
    res = b.post("/lapor/pengaduan", {"identitas": "anonim", **COMPLAINT})
    assert res.status_code == 303
    b.get("/tanda-terima")
    res = b.post("/tanda-terima/bukti", {"sertakan_isi": include, "x": text})
    no_failure(b, res)
    b.get("/tanda-terima")
    res = b.post("/tanda-terima/selesai", {"x": text})
    no_failure(b, res)
    with_code = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    b.get("/lacak/")
    assert b.post("/lacak/", {"kode": with_code.receipt_code}).status_code == 303
    b.get("/lacak/perkara")
    before, files_before = counts(web_engine), stored_files(web_engine)
    res = b.post(
        "/lacak/lampiran",
        {"lampiran": (io.BytesIO(b"isi berkas\n" * 20), filename), "x": text},
        content_type="multipart/form-data",
    )
    event(f"lampiran: {res.status_code}")
    no_failure(b, res)
    literal(b.page, text)
    assert not outside(web_engine, tmp_path)
    if res.status_code != 303:
        assert counts(web_engine) == before and stored_files(web_engine) == files_before
    else:
        assert_names_not_paths(web_engine, with_code.number)
    b.get("/lacak/perkara")
    res = b.post("/lacak/bukti", {"sertakan_isi": include, "x": text})
    no_failure(b, res)
    b.get("/lacak/perkara")
    res = b.post("/lacak/keluar", {"x": text})
    no_failure(b, res)


@settings(FUZZ, max_examples=12)
@given(
    kind=st.one_of(st.sampled_from(["recap", "gratifikasi", "benturan_kepentingan", "identifikasi_bk"]), TEXT),
    case_type=st.one_of(st.sampled_from(["", "pengaduan", "gratifikasi"]), TEXT),
    since=st.one_of(st.sampled_from(["", "2026-01-01", "2026-13-01", "0001-01-01", "9999-12-31"]), TEXT),
    fmt=st.one_of(st.sampled_from(["csv", "xlsx", "pdf"]), TEXT),
    text=TEXT,
    number=st.one_of(st.none(), TEXT),
)
def test_report_download_and_bundle(app, web_engine, scene, kind, case_type, since, fmt, text, number):
    """The report download (filters and format hostile or right, over a register holding hostile text) and
    the auditor's bundle of a case named by a hostile number: no 5xx; a refused download writes nothing; a
    CSV never starts a cell with a formula."""
    from wbs_engine.errors import WbsError

    try:  # a gift whose plain and sealed texts are hostile, for the registers
        web_engine.create_case(
            "gratifikasi",
            {**GIFT, "unit_kerja": text or "x", "uraian": "Parsel " + text},
            identity_mode="terbuka",
            filed_by=web_engine.load_actor("pegawai"),
        )
    except WbsError:
        pass
    pengelola, auditor = scene["pengelola"], scene["auditor"]
    pengelola.get("/staf/laporan/")
    before = counts(web_engine)
    form = {"laporan": kind, "jenis": case_type, "unit": "", "dari": since, "sampai": "", "format": fmt}
    res = pengelola.post("/staf/laporan/unduh", form)
    event(f"unduh: {res.status_code} {res.mimetype}")
    no_failure(pengelola, res)
    literal(pengelola.page, str(form))
    if res.mimetype == "text/html":
        assert counts(web_engine) == before
    elif fmt == "csv":
        import csv

        body = res.get_data().decode("utf-8-sig")
        for row in csv.reader(io.StringIO(body)):  # (wbs_engine/exports.py writes commas)
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), row
    auditor.get("/staf/audit/")
    number = scene["case"] if number is None else number
    safe = number.replace("/", "").replace("?", "").replace("#", "").replace("%", "") or "x"
    res = auditor.post(f"/staf/audit/perkara/{safe}/bundel", {"x": text})
    event(f"bundel: {res.status_code}")
    no_failure(auditor, res)


#: what a path segment may hold when typed or edited: NUL, a lone surrogate's and an overlong UTF-8's bytes,
#: a bidi override, markup, a parent folder, a very long name
SEGMENTS = ["%00", "%ED%A0%80", "%C0%AF", "%E2%80%AE", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "..", "x" * 5000]


def test_hostile_path_parameters_signed_in(app, web_engine, clock):
    """Every staff route with a parameter in its path (a case number, a user name, a unit code, a case type,
    a step), each method, with hostile segments, signed in with every role: no 5xx, no traceback, nothing
    written by a refused request."""
    import re

    from wbs_engine.users import create_or_update_user, parse_grant

    roles = ("pengelola", "admin", "auditor", "pegawai", "atasan", "upg", "tim_telaah")
    create_or_update_user(web_engine, "semua", [parse_grant(r) for r in roles], password=PASSWORD)
    b = Browser(app)
    sign_in(b, "semua", clock=clock)
    failed = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or rule.endpoint == "static" or not rule.arguments:
            continue  # (the API: tests/web/test_api_schemathesis.py)
        for value in SEGMENTS:
            url = rule.rule
            for arg in rule.arguments:
                url = re.sub(
                    rf"<(?:([a-z_]+)(?:\([^)]*\))?:)?{arg}>", lambda m, v=value: "1" if m.group(1) == "int" else v, url
                )
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                b.get("/staf/")  # a fresh CSRF token
                before = counts(web_engine)
                res = b.post(url) if method == "POST" else b.get(url)
                if res.status_code >= 500 or "Traceback" in b.page:
                    failed.append((rule.endpoint, method, value[:20], res.status_code))
                elif res.status_code >= 400 and counts(web_engine) != before:
                    failed.append((rule.endpoint, method, value[:20], "wrote"))
    assert failed == []
