"""The hostile values that differ between SQLite and PostgreSQL (NUL, which PostgreSQL's text refuses; a lone
surrogate; LIKE's wildcards and escape; a very long value; SQL), through the web's forms and searches on the
suite's real PostgreSQL: never a 5xx (a NUL that reached PostgreSQL would be a DataError), and a refused form
writes nothing. The Hypothesis tests run on SQLite (tests/web/test_fuzz_*.py); this one is a fixed list."""

from __future__ import annotations

import io

import pytest

from tests.helpers import COMPLAINT, seed_people
from tests.web.conftest import Browser, sign_in
from tests.web.test_fuzz_accounts import GIFT, WBS_FILING
from tests.web.test_fuzz_forms import SURROGATE_BYTES, counts, fresh_allowances, no_failure

pytestmark = pytest.mark.postgres

VALUES = [
    "NUL\x00di tengah",
    "\x00",
    SURROGATE_BYTES,
    "100%_\\ persen",
    "'; DROP TABLE case_file; --",
    "x" * 70_000,
]


@pytest.fixture
def web_engine(make_wbs, pg_url):
    eng = make_wbs(pg_url)
    seed_people(eng)
    return eng


def _post(browser: Browser, page: str, path: str, form: dict, engine) -> None:
    browser.get(page)
    before = counts(engine)
    multipart = {"content_type": "multipart/form-data"}
    res = browser.post(path, form, **multipart)
    no_failure(browser, res)
    if res.status_code not in (200, 201, 303):
        assert counts(engine) == before, path


def test_values_postgres_refuses_never_reach_it(app, web_engine, clock):
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    web_engine.fire(made.number, "mulai_verifikasi", web_engine.load_actor("pengelola"))
    gift = web_engine.create_case(
        "gratifikasi", GIFT, identity_mode="terbuka", filed_by=web_engine.load_actor("pegawai")
    ).number
    pengelola, pegawai, auditor = Browser(app), Browser(app), Browser(app)
    sign_in(pengelola, "pengelola", clock=clock)
    sign_in(pegawai, "pegawai", clock=clock)
    sign_in(auditor, "auditor", clock=clock)
    n = made.number
    for value in VALUES:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        fresh_allowances(app)
        for field in ("uraian", "nama_pemberi", "unit_kerja", "nilai_taksiran"):
            _post(pegawai, "/staf/laporan-saya/baru/gratifikasi", "/staf/laporan-saya/baru/gratifikasi",
                  {**GIFT, field: value}, web_engine)
        _post(pegawai, "/staf/laporan-saya/baru/wbs?identitas=anonim", "/staf/laporan-saya/baru/wbs",
              {**WBS_FILING, "identitas": "anonim", "siapa": value,
               "lampiran": (io.BytesIO(b"isi\n" * 10), text[:200] + ".txt")}, web_engine)
        _post(pegawai, f"/staf/laporan-saya/{gift}", f"/staf/laporan-saya/{gift}/pesan", {"pesan": value}, web_engine)
        _post(pengelola, f"/staf/perkara/{n}", f"/staf/perkara/{n}/pesan", {"pesan": value}, web_engine)
        _post(pengelola, f"/staf/perkara/{n}", f"/staf/perkara/{n}/catatan", {"catatan": value}, web_engine)
        _post(pengelola, "/staf/akun/token/", "/staf/akun/token/", {"name": value, "days": "30"}, web_engine)
        _post(pengelola, f"/staf/perkara/{n}/identitas", f"/staf/perkara/{n}/identitas/minta",
              {"alasan": value}, web_engine)
        public = Browser(app)
        _post(public, "/lapor/pengaduan?identitas=anonim", "/lapor/pengaduan",
              {**COMPLAINT, "identitas": "anonim", "uraian": value, "layanan": value}, web_engine)
        _post(public, "/lacak/", "/lacak/", {"kode": value}, web_engine)
        for browser, path, query in (
            (pengelola, "/staf/antrian", {"cari": text, "unit": text, "jenis": text, "c": text}),
            (pengelola, "/staf/cari", {"nomor": text}),
            (pengelola, "/staf/laporan/", {"jenis": text, "unit": text, "dari": text}),
            (auditor, "/staf/audit/", {"cari": text, "unit": text, "status": text, "dari": text}),
            (public, "/statistik", {"tahun": text}),
            (public, "/verifikasi", {"s": text, "n": text}),
        ):
            res = browser.get(path, query_string=query)
            no_failure(browser, res)
        for path in (f"/staf/perkara/{text[:100]}", f"/staf/laporan-saya/{text[:100]}", f"/staf/cari?nomor={n}"):
            res = pengelola.get(path.replace("\x00", "%00").replace("%_", "%25_"))
            no_failure(pengelola, res)
