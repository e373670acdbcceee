"""Hostile input at the forms of a signed-in account that tests/web/test_fuzz_forms.py does not reach (issue 13,
part 5): the employee's own reports (webapp/mine.py: filing a gratifikasi or a conflict-of-interest
declaration, answering the office's question, a message, a file), identity requests (webapp/identity.py: ask,
decide, withdraw), API tokens (webapp/tokens.py: make, revoke), the account's own forms, the admin's forms on
one user, a template and a unit, and the staff pages' search and filter fields.

Whatever is sent: no 5xx, no traceback; a refused form stores nothing (rows counted before and after) and says
what is wrong in the reader's language (the same form refused in Indonesian and in English names the same
fields, each in its own words); what a successful form stores is the text as typed (opened with the case key:
sealed where the workflow says, never in the plain columns); markup typed is never markup on the page.

Derandomised, small example counts (the suite's time): the same inputs in CI every time."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tests.helpers import GIFT_FORM
from tests.web.conftest import Browser, sign_in
from tests.web.test_fuzz_forms import (
    FILENAMES,
    FUZZ,
    SURROGATE_BYTES,
    TEXT,
    assert_names_not_paths,
    counts,
    fresh_allowances,
    literal,
    no_failure,
    outside,
    stored_files,
)
from wbs_engine import apitokens
from wbs_engine.db import unit_of_work
from wbs_engine.models import ApiToken, Case, CaseEvent, IdentityRequest, Message

GIFT = GIFT_FORM
DECLARATION = {
    "jalur": "deklarasi_mandiri",
    "jenis": "potensial",
    "sumber": "keluarga",
    "nama_pejabat": "Wati Lestari",
    "kegiatan": "Panitia pengadaan alat tulis kantor",
    "uraian": "Adik kandung saya adalah direktur salah satu calon penyedia dalam pengadaan ini.",
    "nama": "Wati Lestari",
}
WBS_FILING = {
    "nama": "Wati Lestari",
    "email": "wati@kantor.test",
    "kategori": "pengadaan",
    "apa": "Panitia pengadaan menerima uang dari penyedia sebelum pengumuman pemenang lelang.",
    "siapa": "Ketua panitia pengadaan",
}
FILINGS = {"gratifikasi": GIFT, "benturan_kepentingan": DECLARATION, "wbs": WBS_FILING}
ERROR = re.compile(r'<p class="error" id="err-([a-z_]+)">([^<]+)</p>')
ALERT = re.compile(r'<div class="alert" role="alert">([^<]+)</div>')
ERROR_PAGE = re.compile(r'<section class="card">\s*<h1>([^<]+)</h1>\s*(?:<p>([^<]*)</p>)?')


def rows(engine, model) -> int:
    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def opened(engine, number: str) -> tuple[dict, dict]:
    """(plain data, every sealed value opened with the case key) of case ``number``."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        key = engine.case_key(case)
        sealed = {}
        for blob in (case.identity_enc, case.confidential_enc):
            if blob:
                sealed.update(key.open(blob))
        return dict(case.data), sealed


def errors_in(page: str) -> list[str]:
    """What a refusal says: the fields' errors, the alerts, or the error page's title and text."""
    found = [text for _name, text in ERROR.findall(page)] + ALERT.findall(page)
    if m := ERROR_PAGE.search(page):
        found += [t for t in m.groups() if t]
    return found


def in_both_languages(browser: Browser, url: str, form: dict, first_page: str) -> None:
    """The same refused form sent again with ``?lang=en`` names what is wrong in English; the first answer
    (Indonesian) named it in Indonesian: both say something, and not the same words."""
    said_id = errors_in(first_page)
    assert said_id and 'lang="id"' in first_page, first_page[:800]
    sep = "&" if "?" in url else "?"
    browser.post(f"{url}{sep}lang=en", form, content_type="multipart/form-data")
    said_en = errors_in(browser.page)
    assert said_en, browser.page[:800]
    assert 'lang="en"' in browser.page
    assert said_id != said_en, (said_id, said_en)


@pytest.fixture
def pengelola(app, clock):
    browser = Browser(app)
    sign_in(browser, "pengelola", clock=clock)
    return browser


@pytest.fixture
def pegawai(app, clock):
    browser = Browser(app)
    sign_in(browser, "pegawai", clock=clock)
    return browser


@settings(FUZZ, max_examples=30)
@given(
    which=st.sampled_from(["gratifikasi", "benturan_kepentingan", "wbs"]),
    bad=st.dictionaries(st.integers(0, 30), TEXT, min_size=1, max_size=3),
    any_field=st.booleans(),
    filename=st.one_of(st.none(), st.none(), FILENAMES),
    raw_bytes=st.integers(0, 4),
    chosen=st.one_of(st.none(), st.none(), st.sampled_from(["anonim", "rahasia", "terbuka"]), TEXT),
)
def test_employee_filing(app, web_engine, pegawai, tmp_path, which, bad, any_field, filename, raw_bytes, chosen):
    """The employee's own filing form (gratifikasi, a conflict-of-interest declaration, a WBS report) with
    hostile values in any field, a hostile file name and identity mode. An anonymous report is not linked to
    the account: no identity, no filer, the account's name nowhere in its trail."""
    fresh_allowances(app)
    base = dict(FILINGS[which])
    modes = web_engine.registry.latest(which).definition.identity
    mode_used = chosen if chosen in modes else None
    form = web_engine.intake_form(which, mode_used or [m for m in modes if m != "anonim"][0], "id")
    # mostly the free-text fields (a form whose choices are all wrong is refused before the text is looked at)
    names = [f.name for f in form.fields if any_field or f.type in ("text", "textarea")]
    data = dict(base)
    for i, value in bad.items():
        data[names[i % len(names)]] = value
    if raw_bytes == 0:
        data[names[-1]] = SURROGATE_BYTES
    url = f"/staf/laporan-saya/baru/{which}"
    assert pegawai.get(url).status_code == 200
    mode = re.search(r'name="identitas" value="([a-z]+)"[^>]*checked', pegawai.page)
    if chosen is not None:
        data["identitas"] = chosen
    elif mode:
        data["identitas"] = mode.group(1)
    posted = dict(data)
    if filename is not None:
        posted["lampiran"] = (io.BytesIO(b"isi berkas teks biasa\n" * 10), filename)
    before, files_before = counts(web_engine), stored_files(web_engine)
    res = pegawai.post(f"{url}?lang=id", posted, content_type="multipart/form-data")
    event(f"{which}: {res.status_code}")
    no_failure(pegawai, res)
    literal(pegawai.page, str(bad))
    assert not outside(web_engine, tmp_path)
    if res.status_code not in (200, 303):  # refused: nothing written, the reason in both languages
        assert counts(web_engine) == before and stored_files(web_engine) == files_before
        again = dict(data)
        if filename is not None:
            again["lampiran"] = (io.BytesIO(b"isi berkas teks biasa\n" * 10), filename)
        in_both_languages(pegawai, url, again, pegawai.page)
        assert counts(web_engine) == before
        return
    assert counts(web_engine)["Case"] == before["Case"] + 1
    with unit_of_work(web_engine.db, write=False) as s:
        case = s.exec(select(Case).order_by(Case.id.desc())).first()
        number, sealed_names, anonymous = case.number, set(case.sealed_fields), case.identity_mode == "anonim"
        filer = case.filed_by_user_id
        trail = [str(e.payload) + e.actor for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    plain, sealed = opened(web_engine, number)
    if anonymous:  # followed with its tracking code only: the account is nowhere
        event("filed anonymously")
        assert filer is None and res.headers["Location"].endswith("/tanda-terima")
        assert not any("pegawai" in t for t in trail)
        assert not {f.name for f in web_engine.registry.latest(which).definition.intake if f.identity} & {
            *plain,
            *sealed,
        }
        assert pegawai.get(f"/staf/laporan-saya/{number}").status_code == 404
        form = web_engine.intake_form(which, "anonim", "id")
    for f in form.fields:
        typed = data.get(f.name)
        if not isinstance(typed, str) or not typed.strip() or f.type not in ("text", "textarea"):
            continue
        if f.name in sealed_names:
            assert f.name not in plain  # sealed: never in the plain columns
            assert sealed[f.name] == typed.strip(), f.name
        else:
            assert plain[f.name] == typed.strip(), f.name
    assert_names_not_paths(web_engine, number)
    if anonymous:
        return
    page = pegawai.get(f"/staf/laporan-saya/{number}")
    no_failure(pegawai, page)
    literal(pegawai.page, str(bad))


def file_gift(engine) -> str:
    """A gratifikasi the pegawai filed from their account, waiting for their completion (the UPG asked)."""
    made = engine.create_case("gratifikasi", GIFT, identity_mode="terbuka", filed_by=engine.load_actor("pegawai"))
    upg = engine.load_actor("upg")
    engine.fire(made.number, "mulai_telaah", upg)
    engine.fire(made.number, "minta_kelengkapan", upg, {"kekurangan": "Mohon lampirkan foto jam tangan itu."})
    return made.number


def last_message(engine, number: str) -> str:
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        row = s.exec(select(Message).where(Message.case_id == case.id).order_by(Message.id.desc())).first()
        return engine.case_key(case).open(row.body_enc)


@FUZZ
@given(text=TEXT, filename=FILENAMES, trigger=st.sampled_from(["lengkapi", "lengkapi", "mulai_telaah", "x/../y"]))
def test_employee_case_forms(app, web_engine, pegawai, tmp_path, text, filename, trigger):
    """On the employee's own report: a message, the answer to the office's question (and a step that is not
    theirs), a file, with hostile input."""
    number = file_gift(web_engine)
    page = f"/staf/laporan-saya/{number}"
    for path, form in (
        (f"{page}/pesan", {"pesan": text}),
        (f"{page}/aksi/{trigger}", {"kelengkapan": text}),
        (f"{page}/lampiran", {"lampiran": (io.BytesIO(b"isi berkas\n" * 20), filename)}),
    ):
        pegawai.get(page)
        before, files_before = counts(web_engine), stored_files(web_engine)
        res = pegawai.post(f"{path}?lang=id", form, content_type="multipart/form-data")
        event(f"{path.rsplit('/', 1)[-1]}: {res.status_code}")
        no_failure(pegawai, res)
        literal(pegawai.page, text)
        assert not outside(web_engine, tmp_path)
        if res.status_code != 303:
            assert counts(web_engine) == before and stored_files(web_engine) == files_before, path
            if res.status_code != 404:  # a step name with a slash is no route at all
                if "lampiran" in form:
                    form = {"lampiran": (io.BytesIO(b"isi berkas\n" * 20), filename)}
                in_both_languages(pegawai, path, form, pegawai.page)
            assert counts(web_engine) == before
            continue
        if path.endswith("/pesan"):
            assert last_message(web_engine, number) == text.strip()
        elif "/aksi/" in path:
            _plain, sealed = opened(web_engine, number)
            assert sealed["kelengkapan"] == text.strip()  # sealed: the workflow says confidential
        else:
            assert_names_not_paths(web_engine, number)
        shown = pegawai.get(page)
        no_failure(pegawai, shown)
        literal(pegawai.page, text)


@pytest.fixture
def office(web_engine):
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(
        web_engine,
        "rudi.h",
        [parse_grant("tim_telaah")],
        full_name="Rudi Hartono",
        email="rudi.h@kantor.test",
        password="rahasia-demo-123",
    )
    return web_engine


WBS_REPORT = {
    "nama": "Rina Pelapor",
    "email": "rina.pelapor@contoh.id",
    "kategori": "pengadaan",
    "apa": "Panitia pengadaan menerima uang dari penyedia sebelum pengumuman pemenang lelang.",
    "siapa": "Ketua panitia pengadaan",
}


def reasons(engine, number: str) -> list[tuple[str, str | None]]:
    """Each identity request's (reason, note) of case ``number``, opened with the case key."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        key = engine.case_key(case)
        found = s.exec(select(IdentityRequest).where(IdentityRequest.case_id == case.id).order_by(IdentityRequest.id))
        return [(key.open(r.reason_enc), key.open(r.note_enc) if r.note_enc else None) for r in found]


@settings(FUZZ, max_examples=10)
@given(reason=TEXT, note=TEXT, choice=st.one_of(st.sampled_from(["setujui", "tolak"]), TEXT), nxt=TEXT)
def test_identity_request_forms(app, office, clock, reason, note, choice, nxt):
    """Asking to see a reporter's identity, deciding and withdrawing, with hostile reasons, notes, choices and
    return addresses: no 5xx; a refusal stores nothing; a stored reason or note is the text as typed, sealed."""
    n = office.create_case("wbs", WBS_REPORT, identity_mode="rahasia").number
    rudi = Browser(app)
    sign_in(rudi, "rudi.h", clock=clock)
    page = f"/staf/perkara/{n}/identitas"
    rudi.get(page)
    before = (counts(office), rows(office, IdentityRequest))
    res = rudi.post(f"{page}/minta?lang=id", {"alasan": reason, "next": nxt})
    event(f"minta: {res.status_code}")
    no_failure(rudi, res)
    literal(rudi.page, reason)
    if res.status_code == 303:
        assert not re.match(r"(https?:)?//|[a-z]+:", res.headers["Location"])  # never off the site
        assert reasons(office, n)[-1][0] == reason.strip()
    else:
        assert (counts(office), rows(office, IdentityRequest)) == before
        in_both_languages(rudi, f"{page}/minta", {"alasan": reason, "next": nxt}, rudi.page)
        rudi.post(f"{page}/minta", {"alasan": "Perlu menghubungi pelapor untuk memastikan dokumen bukti."})
    req_id = len(reasons(office, n)) and office_request_id(office, n)
    boss = Browser(app)
    sign_in(boss, "atasan", clock=clock)
    boss.get("/staf/identitas")
    before = (counts(office), reasons(office, n))
    res = boss.post(f"{page}/{req_id}/putuskan?lang=id", {"keputusan": choice, "catatan": note, "dari": nxt[:5]})
    event(f"putuskan: {res.status_code}")
    no_failure(boss, res)
    literal(boss.page, note)
    if res.status_code == 303:
        assert reasons(office, n)[-1][1] == (note.strip() or None)
    else:
        assert (counts(office), reasons(office, n)) == before
        in_both_languages(boss, f"{page}/{req_id}/putuskan", {"keputusan": choice, "catatan": note}, boss.page)
    rudi.get(page)
    res = rudi.post(f"{page}/{req_id}/tarik", {"next": nxt})
    event(f"tarik: {res.status_code}")
    no_failure(rudi, res)
    if res.status_code == 303:
        assert not re.match(r"(https?:)?//|[a-z]+:", res.headers["Location"])


def office_request_id(engine, number: str) -> int:
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        return s.exec(select(IdentityRequest.id).where(IdentityRequest.case_id == case.id)).first()


@FUZZ
@given(
    name=TEXT,
    days=st.one_of(st.sampled_from(["30", "365", "0", "-1", "99999999999999999999", "²", "٣٠"]), TEXT),
    whose=st.sampled_from(["mine", "other", "any"]),
    token_id=st.integers(0, 2**31 - 1),
    dicabut=TEXT,
)
def test_api_token_forms(app, web_engine, pengelola, name, days, whose, token_id, dicabut):
    """Making and revoking one's API tokens with hostile names, lifetimes and ids: no 5xx; a refusal stores
    nothing and says why in the reader's language; a made token has the name as typed and works; another
    user's token is never revoked."""
    other = apitokens.create_token(web_engine, "atasan", "milik orang lain")
    pengelola.get("/staf/akun/token/")
    before = (counts(web_engine), rows(web_engine, ApiToken))
    res = pengelola.post("/staf/akun/token/?lang=id", {"name": name, "days": days})
    event(f"token: {res.status_code}")
    no_failure(pengelola, res)
    literal(pengelola.page, name)
    if res.status_code == 201:
        made = re.search(r"(wbs_[A-Za-z0-9_-]+)", pengelola.page).group(1)
        assert apitokens.list_tokens(web_engine, "pengelola")[0].name == name.strip()
        assert app.test_client().get("/api/v1/queues", headers={"Authorization": f"Bearer {made}"}).status_code == 200
    else:
        assert (counts(web_engine), rows(web_engine, ApiToken)) == before
        in_both_languages(pengelola, "/staf/akun/token/", {"name": name, "days": days}, pengelola.page)
    fresh_allowances(app)
    own = apitokens.list_tokens(web_engine, "pengelola")
    if whose == "mine" and own:
        token_id = own[0].id
    elif whose == "other":
        token_id = apitokens.list_tokens(web_engine, "atasan")[0].id
    pengelola.get("/staf/akun/token/")
    res = pengelola.post(f"/staf/akun/token/{token_id}/cabut")
    event(f"cabut: {res.status_code}")
    no_failure(pengelola, res)
    assert app.test_client().get("/api/v1/queues", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    res = pengelola.get("/staf/akun/token/", query_string={"dicabut": dicabut})
    no_failure(pengelola, res)
    literal(pengelola.page, dicabut)


@settings(FUZZ, max_examples=10)
@given(apa=TEXT, siapa=TEXT, nama=TEXT, filename=st.one_of(st.none(), FILENAMES))
def test_employee_anonymous_report(app, web_engine, pegawai, apa, siapa, nama, filename):
    """A WBS report filed anonymously from an account, hostile text in its fields and an identity typed anyway:
    when filed, the account is nowhere (no filer, no name in the trail, not in their list), no identity is
    kept, the report's text is as typed, sealed; when refused, nothing is written."""
    fresh_allowances(app)
    pegawai.get("/staf/laporan-saya/baru/wbs?identitas=anonim")
    data = {**WBS_FILING, "identitas": "anonim", "apa": WBS_FILING["apa"] + apa, "siapa": siapa or "Ketua"}
    data["nama"] = nama
    if filename is not None:
        data["lampiran"] = (io.BytesIO(b"isi berkas teks biasa\n" * 10), filename)
    before = counts(web_engine)
    res = pegawai.post("/staf/laporan-saya/baru/wbs?lang=id", data, content_type="multipart/form-data")
    event(f"anonim: {res.status_code}")
    no_failure(pegawai, res)
    literal(pegawai.page, apa + siapa + nama)
    if res.status_code != 303:
        assert counts(web_engine) == before
        return
    assert res.headers["Location"].endswith("/tanda-terima")
    with unit_of_work(web_engine.db, write=False) as s:
        case = s.exec(select(Case).order_by(Case.id.desc())).first()
        number, filer = case.number, case.filed_by_user_id
        trail = [str(e.payload) + e.actor for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    plain, sealed = opened(web_engine, number)
    assert filer is None and not any("pegawai" in t for t in trail)
    assert not {"nama", "email", "telepon"} & {*plain, *sealed}
    assert sealed["apa"] == data["apa"].strip() and "apa" not in plain
    assert_names_not_paths(web_engine, number)
    pegawai.get("/staf/laporan-saya/")
    assert number not in pegawai.page
    assert pegawai.get(f"/staf/laporan-saya/{number}").status_code == 404
