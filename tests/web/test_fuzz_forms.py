"""Hostile input at every form (issue 13, part 5), public and staff: odd Unicode (bidi controls, zero-width
characters, lone surrogates sent as bytes, NUL), huge fields, path-traversal file names, SQL and HTML
injection strings. Whatever is sent: no 5xx and no traceback; a refused form stores nothing (no case, no
event, no file); what is stored is shown as literal text (escaped, never markup). tests/web/test_fuzz.py
checks the public forms for 5xx alone; this file adds what is stored and the staff's forms.

Derandomised, modest example counts (the suite's time): the same inputs in CI every time."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlmodel import func, select

from tests.helpers import COMPLAINT
from tests.web.conftest import Browser, sign_in
from wbs_engine.db import unit_of_work
from wbs_engine.models import Attachment, Case, CaseEvent, Message, SurveyResponse

FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as generated, at once
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OK = {200, 201, 303, 400, 401, 403, 404, 409, 413, 422, 429}
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"
NASTY = [
    HTML,
    "\"'><svg/onload=alert(3)>",
    "'; DROP TABLE case_file; --",
    "1' OR '1'='1",
    "\u202eKIRI ke KANAN\u202c dan \u2066isolat\u2069",
    "nol\u200blebar\u200c\u200d\ufeff",
    "NUL\x00di tengah",
    "\x1b[2J\x1b]0;judul\x07",
    "{{7*7}} ${7*7} %s%n {0}",
    "../../../../etc/passwd",
    "\r\nSet-Cookie: sesi=curian",  # a header's end, where a value reaches a header (a redirect)
    "9999-12-31",  # the calendar's last day (and first, below): a day after or before leaves datetime's range
    "0001-01-01",
    "9999999999999999999",  # a whole number beyond canonical JSON's (2**53 - 1)
    "²",  # a digit to str.isdigit(), not to int()
    "٣٠",  # Arabic-Indic digits: int() reads them
    "x" * 70_000,
    "Ω" * 5000,
]
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
    st.text(st.characters(categories=("Cf", "Zl", "Zp", "Cc")), min_size=1, max_size=20),
)
#: a lone surrogate as UTF-8 bytes (CESU style): not valid UTF-8, must be refused as text, never stored
SURROGATE_BYTES = b"pengaduan \xed\xa0\x80 ini"
FILENAMES = st.sampled_from(
    [
        "../../../../tmp/jahat.txt",
        "..\\..\\windows\\win.ini",
        "/etc/passwd",
        "bukti\x00.pdf",
        "\u202etxt.exe",
        "a/../../b.txt",
        ".",
        "..",
        "x" * 1000 + ".txt",
        "<script>.txt",
        "normal.txt",
    ]
)


#: events that record a reading, or a refused upload (the trail keeps those on purpose), not a change
NOT_CHANGES = ("case_read", "attachments_listed", "attachment_refused")


def counts(engine) -> dict[str, int]:
    """Rows of what a form may write: cases, their files, messages, ratings, and the events of changes."""
    with unit_of_work(engine.db, write=False) as s:
        found = {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Case, Attachment, Message, SurveyResponse)
        }
        changes = select(func.count()).select_from(CaseEvent).where(CaseEvent.kind.not_in(NOT_CHANGES))
        found["CaseEvent"] = s.exec(changes).one()
        return found


def fresh_allowances(app) -> None:
    """Every in-memory throttle starts again (a 429 is a right answer too, but would test nothing more)."""
    for ext in app.extensions.values():
        for one in ext if isinstance(ext, tuple) else (ext,):  # the sign-in throttles come as a pair
            clients = getattr(one, "_clients", None)
            if isinstance(clients, dict):
                clients.clear()


def stored_files(engine) -> set[str]:
    root = engine.settings.attachments_path
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def attachment_names(engine, number: str) -> list[str]:
    """The file names kept for case ``number``'s attachments (sealed with the case key: opened here)."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        found = s.exec(select(Attachment).where(Attachment.case_id == case.id)).all()
        key = engine.case_key(case) if found else None
        return [key.open(a.meta_enc)["filename"] for a in found]


def assert_names_not_paths(engine, number: str) -> None:
    """Whatever was typed, a stored file name is a name, never a path."""
    for name in attachment_names(engine, number):
        assert "/" not in name and "\\" not in name and name not in (".", ".."), name


def no_failure(browser: Browser, res) -> None:
    assert res.status_code in OK, (res.status_code, browser.page[:500])
    assert "Traceback" not in browser.page


def literal(page: str, value: str) -> None:
    """Markup that was typed is never markup on the page."""
    for bad in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<svg/onload=alert(3)>"):
        if bad in value:
            assert bad not in page, page[:500]


def outside(engine, tmp_path) -> list[str]:
    """Files named by a traversal attempt, anywhere in the test's folder or /tmp."""
    return [str(p) for p in (*tmp_path.rglob("jahat.txt"), *tmp_path.rglob("b.txt")) if p.is_file()]


@pytest.fixture
def pengelola(app, clock):
    browser = Browser(app)
    sign_in(browser, "pengelola", clock=clock)
    return browser


@FUZZ
@given(
    case_type=st.sampled_from(["pengaduan", "wbs", "benturan_kepentingan", "gratifikasi"]),
    mode_index=st.integers(0, 2),
    bad=st.dictionaries(st.integers(0, 20), TEXT, min_size=1, max_size=3),
    filename=st.one_of(st.none(), FILENAMES),
    raw_bytes=st.booleans(),
)
def test_filing_forms_store_nothing_when_refused_and_text_stays_literal(
    app, web_engine, pengelola, tmp_path, case_type, mode_index, bad, filename, raw_bytes
):
    browser = Browser(app)
    modes = web_engine.registry.latest(case_type).definition.identity
    mode = modes[mode_index % len(modes)]
    if browser.get(f"/lapor/{case_type}?identitas={mode}").status_code != 200:
        return  # a type not offered to the public (gratifikasi is filed from an account)
    form = web_engine.intake_form(case_type, mode, "id")
    data: dict = {"identitas": mode}
    for f in form.fields:
        if f.required:
            data[f.name] = f.options[0][0] if f.options else "Uraian yang cukup panjang untuk laporan ini."
    names = [f.name for f in form.fields]
    for i, value in bad.items():
        data[names[i % len(names)]] = value
    if raw_bytes:  # a lone surrogate's bytes in the report's longest text
        data[names[-1]] = SURROGATE_BYTES
    if filename is not None:
        data["lampiran"] = (io.BytesIO(b"isi berkas teks biasa\n" * 10), filename)
    before, files_before = counts(web_engine), stored_files(web_engine)
    res = browser.post(f"/lapor/{case_type}", data, content_type="multipart/form-data")
    no_failure(browser, res)
    literal(browser.page, str(bad))
    after = counts(web_engine)
    assert not outside(web_engine, tmp_path)
    if res.status_code != 303:  # refused: nothing at all was written
        assert after == before and stored_files(web_engine) == files_before
        return
    assert after["Case"] == before["Case"] + 1
    with unit_of_work(web_engine.db, write=False) as s:
        case = s.exec(select(Case).order_by(Case.id.desc())).first()
    assert_names_not_paths(web_engine, case.number)
    page = pengelola.get(f"/staf/perkara/{case.number}")
    no_failure(pengelola, page)
    literal(pengelola.page, str(bad))


@FUZZ
@given(code=TEXT, message=TEXT, answers=st.lists(TEXT, min_size=1, max_size=6), comment=TEXT)
def test_tracking_survey_and_proof_forms(app, web_engine, code, message, answers, comment):
    """Tracking sign-in, a message from the reporter, the survey (on a closed case) and the proof check with
    hostile input: no 5xx; a refused message or rating stores nothing."""
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    pengelola = web_engine.load_actor("pengelola")
    web_engine.fire(made.number, "mulai_verifikasi", pengelola)
    web_engine.fire(made.number, "minta_informasi", pengelola, {"pesan": "Mohon lengkapi nomor antrean Anda."})
    fresh_allowances(app)
    browser = Browser(app)
    browser.get("/lacak/")
    no_failure(browser, browser.post("/lacak/", {"kode": code}))
    browser.get("/lacak/")
    assert browser.post("/lacak/", {"kode": made.receipt_code}).status_code == 303
    browser.get("/lacak/perkara")
    before = counts(web_engine)
    res = browser.post("/lacak/pesan", {"pesan": message})
    no_failure(browser, res)
    literal(browser.page, message)
    if res.status_code != 303:
        assert counts(web_engine) == before
    web_engine.fire(made.number, "tutup_tanpa_jawaban", pengelola)
    page = browser.get("/lacak/perkara").get_data(as_text=True)
    elements = re.findall(r'<input type="radio" name="([a-z_]+)" value="1"', page)
    assert elements
    before = counts(web_engine)
    sent = {k: answers[i % len(answers)] for i, k in enumerate(elements)}
    res = browser.post("/lacak/survei", {**sent, "komentar": comment})
    no_failure(browser, res)
    literal(browser.page, comment)
    if res.status_code != 303:
        assert counts(web_engine) == before
    fresh_allowances(app)
    checker = Browser(app)
    checker.get("/verifikasi")
    pdf = b"%PDF-1.4\n" + message.encode("utf-8", "surrogatepass")[:5000] + b"\n%%EOF"
    res = checker.post("/verifikasi", {"berkas": (io.BytesIO(pdf), "bukti.pdf")}, content_type="multipart/form-data")
    no_failure(checker, res)
    res = checker.get("/verifikasi", query_string={"s": code[:500], "n": message[:200]})
    no_failure(checker, res)
    literal(checker.page, message)


@settings(FUZZ, max_examples=6)
@given(
    text=TEXT,
    trigger=st.sampled_from(["minta_informasi", "disposisi", "arsipkan", "bukan_wewenang"]),
    filename=FILENAMES,
    unit=TEXT,
)
def test_staff_case_forms(app, web_engine, pengelola, tmp_path, text, trigger, filename, unit):
    """Actions with their fields and reason, messages, notes and attachments on a case, hostile input in every
    field: no 5xx; a refused form changes nothing; the case page shows what was stored as text."""
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    web_engine.fire(made.number, "mulai_verifikasi", web_engine.load_actor("pengelola"))
    number = made.number
    page = f"/staf/perkara/{number}"
    for path, form in (
        (
            f"{page}/aksi/{trigger}",
            {"pesan": text, "unit_tujuan": unit, "instruksi": text, "alasan": text, "instansi_tujuan": text},
        ),
        (f"{page}/pesan", {"pesan": text}),
        (f"{page}/catatan", {"catatan": text}),
        (f"{page}/petugas", {"petugas": unit}),
        (f"{page}/lampiran", {"lampiran": (io.BytesIO(b"isi berkas\n" * 20), filename)}),
    ):
        pengelola.get(page)
        version = re.search(r'name="expected_version" value="(\d+)"', pengelola.page)
        form = {**form, **({"expected_version": version.group(1)} if version else {})}
        before, files_before = counts(web_engine), stored_files(web_engine)
        multipart = {"content_type": "multipart/form-data"} if "lampiran" in form else {}
        res = pengelola.post(path, form, **multipart)
        no_failure(pengelola, res)
        literal(pengelola.page, str(form))
        if res.status_code != 303:
            assert counts(web_engine) == before and stored_files(web_engine) == files_before, path
        assert not outside(web_engine, tmp_path)
        shown = pengelola.get(page)
        no_failure(pengelola, shown)
        literal(pengelola.page, text + unit)
        if res.status_code == 303 and path.endswith(("/pesan", "/catatan")) and "\x00" not in text:
            assert str(escape(text.strip()))[:200] in pengelola.page or len(text) > 20000


@pytest.fixture
def admin(app, web_engine, clock):
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(
        web_engine, "admin", [parse_grant("admin")], email="admin@kantor.test", password="rahasia-demo-123"
    )
    browser = Browser(app)
    sign_in(browser, "admin", clock=clock)
    return browser


@FUZZ
@given(a=TEXT, b=TEXT, c=TEXT)
def test_admin_forms(app, web_engine, admin, a, b, c):
    """The admin's forms (a new user, a unit and its name, a holiday, a reply template) with hostile input:
    no 5xx; a refused form writes no event."""
    for page, path, form in (
        (
            "/staf/admin/pengguna/baru",
            "/staf/admin/pengguna/baru",
            {"username": a, "full_name": b, "email": c, "lang": b, "role": a, "unit": c},
        ),
        ("/staf/admin/unit", "/staf/admin/unit", {"code": a, "name": b}),
        ("/staf/admin/unit", "/staf/admin/unit/LAYANAN/nama", {"name": a}),
        ("/staf/admin/hari-libur", "/staf/admin/hari-libur", {"day": a, "kind": b, "name": c}),
        ("/staf/admin/templat/baru", "/staf/admin/templat/baru", {"name": a, "body": b, "case_type": c}),
    ):
        admin.get(page)
        before = counts(web_engine)
        res = admin.post(path, form)
        no_failure(admin, res)
        literal(admin.page, str(form))
        if res.status_code not in (200, 303):
            assert counts(web_engine) == before, path
