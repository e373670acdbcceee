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
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tests.web.conftest import Browser, sign_in
from tests.web.test_fuzz_forms import (
    FILENAMES,
    assert_names_not_paths,
    FUZZ,
    SURROGATE_BYTES,
    TEXT,
    counts,
    fresh_allowances,
    literal,
    no_failure,
    outside,
    stored_files,
)
from wbs_engine import apitokens
from wbs_engine.db import unit_of_work
from wbs_engine.models import ApiToken, Attachment, Case, IdentityRequest

GIFT = {
    "nama": "Wati Lestari",
    "nip": "198501012010012001",
    "jabatan": "Analis",
    "unit_kerja": "Seksi Layanan",
    "nama_pemberi": "PT Contoh",
    "hubungan_pemberi": "rekanan_penyedia",
    "jenis": "barang",
    "uraian": "Parsel makanan dan jam tangan",
    "nilai_taksiran": "2500000",
    "tanggal_penerimaan": "2026-02-25",
    "tempat_penerimaan": "Kantor",
    "peristiwa": "Hari raya",
    "kronologi": "Paket diantar kurir ke meja kerja tanpa pemberitahuan sebelumnya.",
}
DECLARATION = {
    "jalur": "deklarasi_mandiri",
    "jenis": "potensial",
    "sumber": "keluarga",
    "nama_pejabat": "Wati Lestari",
    "kegiatan": "Panitia pengadaan alat tulis kantor",
    "uraian": "Adik kandung saya adalah direktur salah satu calon penyedia dalam pengadaan ini.",
    "nama": "Wati Lestari",
}
ERROR = re.compile(r'<p class="error" id="err-([a-z_]+)">([^<]+)</p>')
GENERAL = re.compile(r'<p class="error"[^>]*>([^<]+)</p>')


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
    return [text for _name, text in ERROR.findall(page)] + GENERAL.findall(page)


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
def pegawai(app, clock):
    browser = Browser(app)
    sign_in(browser, "pegawai", clock=clock)
    return browser


@settings(FUZZ, max_examples=25)
@given(
    which=st.sampled_from(["gratifikasi", "benturan_kepentingan"]),
    bad=st.dictionaries(st.integers(0, 30), TEXT, min_size=1, max_size=3),
    any_field=st.booleans(),
    filename=st.one_of(st.none(), st.none(), FILENAMES),
    raw_bytes=st.integers(0, 4),
)
def test_employee_filing(app, web_engine, pegawai, tmp_path, which, bad, any_field, filename, raw_bytes):
    """The employee's own filing form (gratifikasi, a conflict-of-interest declaration) with hostile values in
    any field and a hostile file name."""
    fresh_allowances(app)
    base = dict(GIFT if which == "gratifikasi" else DECLARATION)
    form = web_engine.intake_form(which, web_engine.registry.latest(which).definition.identity[-1], "id")
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
    if mode:
        data["identitas"] = mode.group(1)
    posted = dict(data)
    if filename is not None:
        posted["lampiran"] = (io.BytesIO(b"isi berkas teks biasa\n" * 10), filename)
    before, files_before = counts(web_engine), stored_files(web_engine)
    res = pegawai.post(f"{url}?lang=id", posted, content_type="multipart/form-data")
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
        number, sealed_names = case.number, set(case.sealed_fields)
    plain, sealed = opened(web_engine, number)
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
    page = pegawai.get(f"/staf/laporan-saya/{number}")
    no_failure(pegawai, page)
    literal(pegawai.page, str(bad))
