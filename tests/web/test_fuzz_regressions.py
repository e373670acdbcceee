"""Regressions for what the fuzzing of issue 13 part 5 found (each test names its bug)."""

from __future__ import annotations

import io

import pytest

from tests.web.conftest import Browser, sign_in
from wbs_engine import files
from wbs_engine.i18n import gettext_noop as _

REPORT = {
    "identitas": "anonim",
    "kategori": "pengadaan",
    "apa": "Panitia pengadaan menerima uang dari penyedia sebelum pengumuman pemenang lelang.",
    "siapa": "Ketua panitia pengadaan",
}
PUBLIC = {
    "identitas": "anonim",
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}


def failing_attach(monkeypatch) -> None:
    """Every attach fails after the screening passed (a disk, a race: what the receipt must then name)."""

    def refuse(*_a, **_k):
        raise files.AttachmentRejected("type", _("the file is not plain text (UTF-8)"))

    monkeypatch.setattr(files, "attach", refuse)


def with_file(form: dict, name: str = "bukti.txt") -> dict:
    return {**form, "lampiran": (io.BytesIO(b"isi berkas teks biasa\n" * 5), name)}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_anonymous_report_from_an_account_names_the_file_it_could_not_attach(app, clock, monkeypatch, lang):
    """Bug: webapp/mine.py's anonymous branch dropped the files that could not be attached (the public form and
    a linked report name them): the employee was sent to the receipt and never told."""
    b = Browser(app)
    sign_in(b, "pegawai", clock=clock)
    failing_attach(monkeypatch)
    b.get(f"/staf/laporan-saya/baru/wbs?identitas=anonim&lang={lang}")
    res = b.post(f"/staf/laporan-saya/baru/wbs?lang={lang}", with_file(REPORT), content_type="multipart/form-data")
    assert res.status_code == 303 and res.headers["Location"].endswith("/tanda-terima")
    b.get("/tanda-terima")
    words = "berkas bukan teks biasa" if lang == "id" else "not plain text"
    assert "bukti.txt" in b.page and words in b.page


def test_a_receipt_never_shows_an_earlier_filings_missing_files(app, web_engine, clock, monkeypatch):
    """Bug: the public form kept the "not attached" lines of an earlier filing in the session when the next
    filing attached everything: the new case's receipt named files of the old one (and of another case)."""
    b = Browser(app)
    with monkeypatch.context() as m:
        failing_attach(m)
        b.get("/lapor/pengaduan?identitas=anonim")
        b.post("/lapor/pengaduan", with_file(PUBLIC, "rahasia-lama.txt"), content_type="multipart/form-data")
        b.get("/tanda-terima")
        assert "rahasia-lama.txt" in b.page
    b.get("/lapor/pengaduan?identitas=anonim")
    res = b.post("/lapor/pengaduan", with_file(PUBLIC, "baru.txt"), content_type="multipart/form-data")
    assert res.status_code == 303
    b.get("/tanda-terima")
    assert "rahasia-lama.txt" not in b.page
    # the same through an employee's anonymous report
    e = Browser(app)
    sign_in(e, "pegawai", clock=clock)
    with monkeypatch.context() as m:
        failing_attach(m)
        e.get("/staf/laporan-saya/baru/wbs?identitas=anonim")
        e.post("/staf/laporan-saya/baru/wbs", with_file(REPORT, "rahasia-lama.txt"), content_type="multipart/form-data")
    e.get("/staf/laporan-saya/baru/wbs?identitas=anonim")
    res = e.post("/staf/laporan-saya/baru/wbs", with_file(REPORT, "baru.txt"), content_type="multipart/form-data")
    assert res.status_code == 303
    e.get("/tanda-terima")
    assert "rahasia-lama.txt" not in e.page


@pytest.mark.parametrize("digits", ["²", "³0", "٣٠"])
def test_a_number_that_is_digits_only_to_python_is_a_form_error_not_a_crash(app, web_engine, clock, digits):
    """Bug: ``str.isdigit()`` is true for "²" (and other digits int() cannot read): the API-token form's
    lifetime (webapp/tokens.py) and the staff forms' expected version (webapp/staff.py) answered 500."""
    from tests.helpers import COMPLAINT
    from tests.web.test_fuzz_forms import counts

    b = Browser(app)
    sign_in(b, "pengelola", clock=clock)
    b.get("/staf/akun/token/")
    res = b.post("/staf/akun/token/?lang=en", {"name": "skrip", "days": digits})
    assert res.status_code == 422 and "choose one of the lifetimes offered" in b.page
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    b.get(f"/staf/perkara/{made.number}")
    before = counts(web_engine)
    res = b.post(f"/staf/perkara/{made.number}/aksi/mulai_verifikasi", {"expected_version": digits})
    assert res.status_code in (303, 409, 422), res.status_code  # read as no version, or refused: never a 500
    assert "Traceback" not in b.page
    if res.status_code != 303:
        assert counts(web_engine) == before


@pytest.mark.parametrize("name", ["WBS_MAX_ATTACHMENT_MB", "WBS_MAX_ATTACHMENTS"])
def test_a_setting_with_a_digit_int_cannot_read_is_a_one_line_error(name):
    """Bug: wbs_engine/config.py's whole-number settings let "²" through ``isdigit()`` into ``int()``: a
    ValueError with a traceback at start instead of the one-line ConfigError."""
    from wbs_engine.config import ConfigError, Settings

    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: "²"})
    assert name in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("target", ["/staf/\nSet-Cookie: x=1", "/staf/\r\nX-Evil: 1", "/staf/antrian\r"])
def test_a_next_address_with_a_line_break_goes_home_not_to_a_500(app, web_engine, clock, target):
    """Bug: ``safe_next`` (webapp/auth.py) let a line break through (``urlsplit`` ignores it), and the
    redirect then failed on the Location header: sign-in, the identity forms' ``next`` answered 500."""
    from tests.web.test_identity import REPORT
    from wbs_engine.users import create_or_update_user, parse_grant

    b = Browser(app)
    b.get("/staf/masuk")
    res = b.post("/staf/masuk", {"username": "pegawai", "password": "rahasia-demo-123", "next": target})
    assert res.status_code == 303 and res.headers["Location"] == "/staf/"
    create_or_update_user(web_engine, "rudi.h", [parse_grant("tim_telaah")], password="rahasia-demo-123")
    n = web_engine.create_case("wbs", REPORT, identity_mode="rahasia").number
    rudi = Browser(app)
    sign_in(rudi, "rudi.h", clock=clock)
    rudi.get(f"/staf/perkara/{n}/identitas")
    reason = "Perlu menghubungi pelapor untuk memastikan dokumen bukti pengadaan."
    res = rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": reason, "next": target})
    assert res.status_code == 303 and res.headers["Location"] == "/staf/"


@pytest.mark.parametrize(
    ("since", "until"), [("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")]
)
def test_the_audit_search_takes_the_calendars_first_and_last_days(app, web_engine, clock, since, until):
    """Bug: the auditor's search (wbs_engine/auditview.py) turned 0001-01-01 and 9999-12-31 into datetimes in
    the office's zone, outside datetime's range: a 500. They bound nothing now (from the start, to the end)."""
    from tests.helpers import COMPLAINT

    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    b = Browser(app)
    sign_in(b, "auditor", clock=clock)
    res = b.get("/staf/audit/", query_string={"dari": since, "sampai": until})
    assert res.status_code == 200 and "Traceback" not in b.page
    assert (made.number in b.page) == (since == "0001-01-01" and until == "9999-12-31")


def test_audit_search_far_dates_on_both_databases(wbs):
    """The same, in the engine, on SQLite and PostgreSQL: the calendar's ends bound nothing, a day next to
    them works."""
    from datetime import date

    from tests.helpers import COMPLAINT
    from wbs_engine import auditview
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(wbs, "auditor", [parse_grant("auditor")], password="rahasia-demo-123")
    auditor = wbs.load_actor("auditor")
    made = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia").number
    found = auditview.search_cases(wbs, auditor, filed_from=date.min, filed_to=date.max)
    assert [item.number for item in found.items] == [made]
    assert auditview.search_cases(wbs, auditor, filed_from=date.max, filed_to=date.max).items == ()
    assert auditview.search_cases(wbs, auditor, filed_from=date(1, 1, 2), filed_to=date(9999, 12, 30)).items


@pytest.mark.parametrize("value", ["9999999999999999999", str(2**53), "1.000.000.000.000.000.000"])
def test_a_money_value_beyond_canonical_json_is_a_field_error(app, web_engine, clock, value):
    """Bug: a Rupiah value of 2**53 or more (19 nines) passed the field check and then failed the trail's
    canonical JSON (RFC 8785 holds integers up to 2**53 - 1): the employee's gift report answered 500. It is
    a field error now, in the reader's language, and nothing is stored."""
    from tests.web.conftest import count_cases
    from tests.web.test_fuzz_accounts import GIFT

    b = Browser(app)
    sign_in(b, "pegawai", clock=clock)
    before = count_cases(web_engine)
    for lang, words in (("id", "maksimal"), ("en", "at most")):
        b.get(f"/staf/laporan-saya/baru/gratifikasi?lang={lang}")
        res = b.post(f"/staf/laporan-saya/baru/gratifikasi?lang={lang}", {**GIFT, "nilai_taksiran": value})
        assert res.status_code == 422 and words in b.errors().get("nilai_taksiran", ""), b.errors()
    assert count_cases(web_engine) == before


def test_the_largest_safe_money_value_is_kept_on_both_databases(wbs):
    from tests.helpers import seed_people
    from tests.web.test_fuzz_accounts import GIFT
    from wbs_engine.errors import ValidationFailed

    seed_people(wbs)
    pegawai = wbs.load_actor("pegawai")
    with pytest.raises(ValidationFailed):
        wbs.create_case(
            "gratifikasi", {**GIFT, "nilai_taksiran": str(2**53)}, identity_mode="terbuka", filed_by=pegawai
        )
    made = wbs.create_case(
        "gratifikasi", {**GIFT, "nilai_taksiran": str(2**53 - 1)}, identity_mode="terbuka", filed_by=pegawai
    )
    from wbs_engine.db import unit_of_work

    with unit_of_work(wbs.db, write=False) as s:
        assert wbs.get_case(s, made.number).data["nilai_taksiran"] == 2**53 - 1
