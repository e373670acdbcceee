"""The reports pages (webapp/reports.py): who may see them, the charts inside the page (SVG, no script), the
downloads (a POST with CSRF, recorded in the trail) whose totals equal the database, a unit-limited auditor kept
to their unit, bad filters explained, and no sealed value anywhere."""

from __future__ import annotations

import base64
import csv
import io
import re

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from tests.web.conftest import Browser, sign_in
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case, CaseEvent
from wbs_engine.users import create_or_update_user, parse_grant

CASES, EVENTS = Case.__table__, CaseEvent.__table__
RECAP = "/staf/laporan/?laporan=recap&jenis=pengaduan&dari=2026-01-01&sampai=2026-12-31"
FILTERS = {"laporan": "recap", "jenis": "pengaduan", "dari": "2026-01-01", "sampai": "2026-12-31"}
SEALED = ("Siti Aminah", "siti@contoh.id", "meminta uang tambahan")


def count(engine, *where) -> int:
    with unit_of_work(engine.db, write=False) as s:
        return s.connection().execute(sa.select(sa.func.count()).select_from(CASES).where(*where)).scalar_one()


def exported(engine) -> list[tuple[str, dict]]:
    with unit_of_work(engine.db, write=False) as s:
        q = sa.select(EVENTS.c.actor, EVENTS.c.payload).where(EVENTS.c.kind == "report_exported")
        return [tuple(r) for r in s.connection().execute(q)]


@pytest.fixture
def world(web_engine, clock):
    pel = web_engine.load_actor("pengelola")
    made = []
    for i, unit in enumerate(("LAYANAN", "LAYANAN", "UMUM", "UMUM", "LAYANAN")):
        c = web_engine.create_case("pengaduan", dict(COMPLAINT), unit_code=unit)
        made.append(c.number)
        if i % 2:
            clock.advance(minutes=5)
            web_engine.fire(c.number, "mulai_verifikasi", pel)
            web_engine.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan: permintaan informasi biasa.")
        clock.advance(minutes=5)
    return made


@pytest.fixture
def auditor(app, clock):
    b = Browser(app)
    sign_in(b, "auditor", clock=clock)
    return b


def charts_in(page: str) -> list[str]:
    return [base64.b64decode(m).decode("utf-8") for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]


def test_the_recap_page_shows_tables_and_svg_charts_without_script(world, auditor, web_engine):
    res = auditor.get(RECAP)
    assert res.status_code == 200
    page = auditor.page
    assert "Rekapitulasi Pengaduan Masyarakat" in page
    for title in ("Diterima, dalam proses dan ditutup per unit", "Hari kerja per tahap", "Alasan penutupan"):
        assert title in page
    svgs = charts_in(page)
    assert len(svgs) >= 4
    for svg in svgs:
        assert "<svg" in svg[:100] and "<script" not in svg
        assert set(re.findall(r"https?://[^\"' )]+", svg)) <= {
            "http://www.w3.org/2000/svg",
            "http://www.w3.org/1999/xlink",
        }
        assert "<title" in svg
    assert not any(s in page for s in SEALED)
    # the page's own policy stays strict: no inline script or style was needed for the charts
    assert "unsafe-inline" not in res.headers["Content-Security-Policy"]
    for kind in ("gratifikasi", "benturan_kepentingan", "identifikasi_bk"):
        assert auditor.get(f"/staf/laporan/?laporan={kind}").status_code == 200
    assert auditor.get(RECAP + "&lang=en").status_code == 200 and "Recap" in auditor.page


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv"])
def test_each_download_is_recorded_and_its_totals_equal_the_database(world, auditor, web_engine, fmt):
    total = count(web_engine, CASES.c.case_type == "pengaduan")
    closed = count(web_engine, CASES.c.case_type == "pengaduan", CASES.c.final.is_(True))
    auditor.get(RECAP)
    res = auditor.post("/staf/laporan/unduh", {**FILTERS, "format": fmt})
    assert res.status_code == 200
    assert res.headers["Content-Disposition"] == f'attachment; filename="rekap-pengaduan-2026-01-01-2026-12-31.{fmt}"'
    data = res.get_data()
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(data))
        ws = next(w for w in wb.worksheets[1:] if w["A1"].value == "Diterima, dalam proses dan ditutup per unit")
        assert ws.freeze_panes == "A3"
        last = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == "Jumlah")
        assert [ws.cell(last, c).value for c in (2, 3, 4)] == [total, total - closed, closed] == [5, 3, 2]
    elif fmt == "pdf":
        text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())
        assert "Rekapitulasi Pengaduan Masyarakat" in text and f"Jumlah {total} {total - closed} {closed}" in text
    else:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        head = rows.index(["Unit", "Diterima", "Dalam proses", "Ditutup"])
        assert next(r for r in rows[head:] if r and r[0] == "Jumlah")[1:4] == [
            str(total),
            str(total - closed),
            str(closed),
        ]
    assert not any(s.encode() in data for s in SEALED)
    assert [(a, p["format"], p["report"]) for a, p in exported(web_engine)] == [("auditor", fmt, "recap")]


def test_a_download_needs_its_csrf_token_and_a_known_format(world, auditor, web_engine):
    auditor.get(RECAP)
    res = auditor.post("/staf/laporan/unduh", {**FILTERS, "format": "xlsx"}, keep_hidden=False)
    assert res.status_code == 400
    res = auditor.post("/staf/laporan/unduh", {**FILTERS, "format": "docx"})
    assert res.status_code == 422 and "CSV, XLSX" in auditor.page
    res = auditor.post("/staf/laporan/unduh", {**FILTERS, "format": "xlsx", "dari": "31-12-2026"})
    assert res.status_code == 422 and "2026-01-31" in auditor.page
    assert exported(web_engine) == []


def test_who_may_see_the_reports(app, clock, web_engine, world):
    # the UPG reads no complaint, so it gets no recap of complaints either; its own type it does get
    for role, allowed in (("pengelola", True), ("atasan", True), ("upg", False), ("pegawai", False)):
        b = Browser(app)
        sign_in(b, role, clock=clock)
        status = b.get(RECAP).status_code
        assert (status in (200, 422)) if allowed else status == 403, (role, status)
        if not allowed:
            assert b.client.post("/staf/laporan/unduh", data={"format": "xlsx"}).status_code in (400, 403)
        if role == "upg":
            assert b.get("/staf/laporan/?laporan=gratifikasi").status_code == 200
            assert '<option value="pengaduan"' not in b.page and '<option value="wbs"' not in b.page
    assert exported(web_engine) == []


def test_a_unit_limited_auditor_gets_only_their_unit(app, clock, web_engine, world):
    create_or_update_user(web_engine, "aud.umum", [parse_grant("auditor:UMUM")], password="rahasia-demo-123")
    b = Browser(app)
    sign_in(b, "aud.umum", clock=clock)
    assert b.get(RECAP).status_code == 200
    umum = count(web_engine, CASES.c.case_type == "pengaduan", CASES.c.unit_code == "UMUM")
    assert "Unit UMUM" in b.page and "Unit LAYANAN" not in b.page
    assert re.search(rf"<strong>{umum}</strong>", b.page)
    assert 'value="LAYANAN"' not in b.page  # the unit filter offers only their own unit
    res = b.get(RECAP + "&unit=LAYANAN")
    assert res.status_code in (403, 422) and "Unit LAYANAN" not in b.page
    b.get(RECAP)
    res = b.post("/staf/laporan/unduh", {**FILTERS, "format": "csv", "unit": "LAYANAN"})
    assert res.status_code in (403, 422) and exported(web_engine) == []


def test_bad_filters_are_explained_not_a_server_error(world, auditor):
    for query, words in (
        ("?laporan=recap&jenis=pengaduan&dari=kemarin", "2026-01-31"),
        ("?laporan=recap&jenis=pengaduan&dari=2026-12-31&sampai=2026-01-01", "2026-12-31"),
        ("?laporan=rahasia", "Pilih laporan"),
        ("?laporan=recap&jenis=%3Cscript%3E", "jenis perkara tidak dikenal"),
        ("?laporan=recap&jenis=pengaduan&dari=2000-01-01&sampai=2026-01-01", "1098"),
    ):
        res = auditor.get("/staf/laporan/" + query)
        assert res.status_code == 422, query
        assert words in auditor.page and "<script>" not in auditor.page, query
