"""Request size limits: every form and the API refuse a body over MAX_CONTENT_LENGTH (or a form field over
MAX_FORM_MEMORY_SIZE) with 413 and a clear page or JSON, never a 500, and store nothing; a field longer than
its workflow ``max_length`` is a field error."""

from __future__ import annotations

import io

import pytest

from tests.helpers import seed_people
from tests.web.conftest import Browser, count_cases, sign_in
from wbs_engine import apitokens
from webapp import create_app

COMPLAINT = {
    "identitas": "anonim",
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}
MIB = 1024 * 1024


@pytest.fixture
def small(make_wbs, tmp_path):
    """An office whose requests may be at most 1 file × 1 MiB + 1 MiB of form."""
    eng = make_wbs(f"sqlite:///{tmp_path / 'size.sqlite3'}", max_attachment_mb=1, max_attachments=1)
    seed_people(eng)
    app = create_app(eng.settings, engine=eng)
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * MIB
    return eng, app


def longest_event(eng) -> int:
    import sqlalchemy as sa

    with eng.db.connect() as conn:
        return conn.execute(sa.text("SELECT max(length(payload)) FROM case_event")).scalar_one() or 0


def assert_too_large(res, page: str, lang: str = "id") -> None:
    assert res.status_code == 413, page[:500]
    assert "Traceback" not in page
    if lang == "id":
        assert "Terlalu besar" in page
    else:
        assert "Too large" in page and "larger than this service accepts" in page


def test_an_oversized_filing_is_413_and_files_nothing(small):
    eng, app = small
    b = Browser(app)
    for lang in ("id", "en"):
        b.get(f"/lapor/pengaduan?identitas=anonim&lang={lang}")
        big = (io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * MIB)), "bukti.pdf")
        res = b.post(f"/lapor/pengaduan?lang={lang}", {**COMPLAINT, "lampiran": big},
                     content_type="multipart/form-data")
        assert_too_large(res, b.page, lang)
        # a text field over the form's memory limit, within the whole request's
        b.get(f"/lapor/pengaduan?identitas=anonim&lang={lang}")
        res = b.post(f"/lapor/pengaduan?lang={lang}", {**COMPLAINT, "uraian": "x" * (MIB + 10)},
                     content_type="multipart/form-data")
        assert_too_large(res, b.page, lang)
        b.get(f"/lapor/pengaduan?identitas=anonim&lang={lang}")
        res = b.post(f"/lapor/pengaduan?lang={lang}", {**COMPLAINT, "uraian": "x" * (3 * MIB)})
        assert_too_large(res, b.page, lang)
    assert count_cases(eng) == 0
    # the same form within the limits still files
    b.get("/lapor/pengaduan?identitas=anonim")
    assert b.post("/lapor/pengaduan", COMPLAINT).status_code == 303 and count_cases(eng) == 1


@pytest.mark.parametrize(
    "page,url",
    [
        ("/lacak/", "/lacak/"),
        ("/verifikasi", "/verifikasi"),
        ("/staf/masuk", "/staf/masuk"),
        ("/lapor/wbs", "/lapor/wbs"),
    ],
)
def test_every_public_form_refuses_an_oversized_body(small, page, url):
    _eng, app = small
    b = Browser(app)
    b.get(page)
    res = b.post(url, {"kode": "x" * (3 * MIB), "berkas": (io.BytesIO(b"0" * 10), "a.pdf")},
                 content_type="multipart/form-data")
    assert_too_large(res, b.page)


def test_staff_forms_and_the_reporters_pages_refuse_an_oversized_body(small, clock):
    eng, app = small
    made = eng.create_case("pengaduan", {k: v for k, v in COMPLAINT.items() if k != "identitas"},
                           identity_mode="anonim")
    reporter = Browser(app)
    reporter.get("/lacak/")
    assert reporter.post("/lacak/", {"kode": made.receipt_code}).status_code == 303
    reporter.get("/lacak/perkara")
    res = reporter.post("/lacak/pesan", {"pesan": "x" * (3 * MIB)})
    assert_too_large(res, reporter.page)
    reporter.get("/lacak/perkara")
    res = reporter.post("/lacak/lampiran", {"lampiran": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * MIB)), "a.pdf")},
                        content_type="multipart/form-data")
    assert_too_large(res, reporter.page)
    staff = Browser(app)
    sign_in(staff, "pengelola", clock=clock)
    staff.get(f"/staf/perkara/{made.number}")
    res = staff.post(f"/staf/perkara/{made.number}/catatan", {"catatan": "x" * (3 * MIB)})
    assert_too_large(res, staff.page)
    assert longest_event(eng) < MIB  # nothing of the refused bodies was stored


def test_the_api_refuses_an_oversized_body_with_json(small):
    eng, app = small
    made = eng.create_case("pengaduan", {k: v for k, v in COMPLAINT.items() if k != "identitas"},
                           identity_mode="anonim")
    token = apitokens.create_token(eng, "pengelola", "uji")
    client = app.test_client()
    messages = set()
    for lang in ("id", "en"):
        res = client.post(
            f"/api/v1/cases/{made.number}/messages?lang={lang}",
            json={"body": "x" * (3 * MIB)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert res.status_code == 413 and res.is_json, res.get_data(as_text=True)[:300]
        body = res.get_json()
        assert set(body) == {"code", "message", "params"} and body["message"]
        messages.add(body["message"])
    assert len(messages) == 2  # in each language
    assert longest_event(eng) < MIB


def test_a_field_longer_than_its_max_length_is_a_field_error(small):
    eng, app = small
    b = Browser(app)
    for lang, words in (("id", "maksimal"), ("en", "at most")):
        b.get(f"/lapor/pengaduan?identitas=anonim&lang={lang}")
        res = b.post(f"/lapor/pengaduan?lang={lang}", {**COMPLAINT, "layanan": "L" * 201})
        assert res.status_code == 422
        errors = b.errors()
        assert "layanan" in errors and words in errors["layanan"] and "200" in errors["layanan"], errors
    b.get("/lapor/pengaduan?identitas=anonim")
    assert b.post("/lapor/pengaduan", {**COMPLAINT, "layanan": "L" * 200}).status_code == 303
    assert count_cases(eng) == 1
