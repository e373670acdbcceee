"""Export files of a report (wbs_engine/exports.py): each opens (csv module, openpyxl, pypdf and pdfwriter's own
reader), shows the report's headers and totals, keeps formulas from running, survives Unicode, and a 300-row
register spans pages with its header on each."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from wbs_engine import exports
from wbs_engine.errors import WbsError
from wbs_engine.pdfwriter import page_texts
from wbs_engine.reportmodel import Chart, Column, Report, Section

from .samples import INJECTION, recap, register


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF line ends (RFC 4180)
    return list(csv.reader(io.StringIO(text, newline="")))


def blocks(rows: list[list[str]]) -> list[list[list[str]]]:
    out, current = [], []
    for row in rows:
        if not row:
            out.append(current)
            current = []
        else:
            current.append(row)
    return out


# ------------------------------------------------------------------------------------------------------------ API


def test_formats_media_types_and_file_names():
    assert exports.FORMATS == ("csv", "xlsx", "pdf")
    assert set(exports.MEDIA_TYPES) == set(exports.FORMATS)
    assert exports.filename(recap(), "xlsx") == "rekap-pengaduan-2026-01-01-2026-12-31.xlsx"
    name = exports.filename(register(rows=1), "pdf")
    assert name == "laporan-gratifikasi-gratifikasi-bidang-pengawasan-2026-01-01-2026-12-31.pdf"
    odd = recap()
    odd.unit = 'Unit "é/../\\ 🚀'
    assert exports.filename(odd, "csv").isascii() and "/" not in exports.filename(odd, "csv")
    with pytest.raises(WbsError) as e:
        exports.render(recap(), "docx")
    assert "docx" in e.value.message("id") and "tidak dikenal" in e.value.message("id")
    with pytest.raises(WbsError):
        exports.filename(recap(), "../x")


# ------------------------------------------------------------------------------------------------------------ CSV


def test_csv_has_a_heading_block_and_one_block_per_section_with_its_totals():
    report = recap()
    rows = read_csv(exports.render(report, "csv"))
    parts = blocks(rows)
    head = parts[0]
    assert head[0] == [report.title]
    assert ["Kantor", report.office] in head and ["Cakupan", report.scope] in head
    assert ["Periode", "2026-01-01", "2026-12-31"] in head
    assert ["Dibuat pada", "2027-01-05T09:30:00+07:00"] in head and ["Dibuat oleh", "auditor1"] in head
    assert ["Catatan", report.notes[0]] in head
    assert len(parts) == 1 + len(report.sections)
    for part, section in zip(parts[1:], report.sections, strict=True):
        assert part[0] == [section.title]
        assert part[1] == [c.label for c in section.columns]
        assert len(part) == 2 + len(section.rows) + (section.total is not None) + (section.note is not None)
    volume = parts[1]
    # numbers are plain digits, decimals with a dot; the total row equals the rows' sums
    assert volume[2] == ["Sekretariat", "1234", "34", "1200", "97.2"]
    total = volume[2 + len(report.section("volume").rows)]
    assert total == ["Jumlah", "1254", "41", "1213", "97.0"]
    for i in (1, 2, 3):
        assert sum(int(r[i]) for r in volume[2:6]) == int(total[i])
    stages = parts[2]
    assert stages[2] == ["Verifikasi", "2.5", "4.0", "2026-03-01"]
    assert stages[3] == ["Telaah", "12.25", "30.0", ""]  # None is empty
    money = parts[3]
    assert money[3] == ["Uang", "2500000.50", "3.5"]
    empty = parts[4]
    assert empty[2] == ["Jumlah", "0"]


def test_csv_defuses_formulas_and_keeps_unicode():
    report = recap()
    report.section("stages").rows.append(["+1+1", Decimal("-1.5"), None, None])
    report.section("stages").rows.append(["@SUM(A1)", None, None, None])
    report.section("stages").rows.append(["-2+3", None, None, None])
    report.section("stages").rows.append(["\tx", None, None, None])
    text = exports.render(report, "csv")[3:].decode("utf-8")
    rows = read_csv(exports.render(report, "csv"))
    cells = [c for r in rows for c in r]
    assert "'" + INJECTION in cells and INJECTION not in cells
    assert {"'+1+1", "'@SUM(A1)", "'-2+3", "'\tx"} <= set(cells)
    assert "-1.5" in cells  # a negative number stays a number
    assert not any(c.startswith(exports.FORMULA_START) and c != "-1.5" for c in cells)
    assert "Bidang Pengawasan “Internal”" in text and "Unit é Pelayanan 🚀" in text


# ----------------------------------------------------------------------------------------------------------- XLSX


def load(report: Report):
    return load_workbook(io.BytesIO(exports.render(report, "xlsx")))


def test_xlsx_summary_sheet_and_properties():
    report = recap()
    wb = load(report)
    summary = wb.worksheets[0]
    assert summary.title == "Ringkasan"
    assert summary["A1"].value == report.title and summary["A1"].font.b
    pairs = {r[0]: r[1] for r in summary.iter_rows(min_row=2, max_col=2, values_only=True) if r[0]}
    assert pairs["Kantor"] == report.office and pairs["Cakupan"] == report.scope
    assert pairs["Dari"] == datetime(2026, 1, 1) and pairs["Sampai"] == datetime(2026, 12, 31)
    assert pairs["Dibuat pada"] == datetime(2027, 1, 5, 9, 30) and pairs["Dibuat oleh"] == "auditor1"
    values = [c for r in summary.iter_rows(values_only=True) for c in r]
    assert all(note in values for note in report.notes)
    assert wb.properties.title == report.title and wb.properties.creator == "wbs-engine"
    assert load(recap("en")).worksheets[0].title == "Summary"


def test_xlsx_one_sheet_per_section_with_header_formats_totals_and_charts():
    report = recap()
    wb = load(report)
    assert len(wb.worksheets) == 1 + len(report.sections)
    names = [ws.title for ws in wb.worksheets[1:]]
    assert len({n.lower() for n in names}) == len(names)
    for name in names:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    assert names[2] == "Nilai gratifikasi objek nilai"
    for ws, section in zip(wb.worksheets[1:], report.sections, strict=True):
        assert ws["A1"].value == section.title
        header = [c.value for c in ws[2]][: len(section.columns)]
        assert header == [c.label for c in section.columns]
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("D9E2F3") for c in ws[2][: len(section.columns)])
        assert ws.freeze_panes == "A3"
        assert all(ws.column_dimensions[chr(65 + i)].width >= 8 for i in range(len(section.columns)))
        if section.total is not None:
            row = 3 + len(section.rows) + (0 if section.rows else 0)
            total = [c.value for c in ws[row]][: len(section.columns)]
            assert total[0] == "Jumlah" and ws.cell(row, 1).font.b
        assert len(ws._charts) == (1 if section.chart is not None else 0)
    volume = wb.worksheets[1]
    # the rows' numbers are numbers, and the total row equals their sum
    received = [volume.cell(r, 2).value for r in range(3, 7)]
    assert received == [1234, 17, 0, 3] and volume.cell(7, 2).value == sum(received) == 1254
    assert volume.cell(3, 2).number_format == "#,##0" and volume.cell(3, 5).number_format == "0.0"
    assert volume.cell(7, 2).font.b
    chart = volume._charts[0]
    assert type(chart).__name__ == "BarChart" and chart.grouping == "stacked" and chart.overlap == 100
    assert len(chart.series) == 2
    stages = wb.worksheets[2]
    assert stages.cell(3, 2).value == 2.5 and stages.cell(3, 2).number_format == "0.0"
    assert stages.cell(3, 4).value == datetime(2026, 3, 1) and stages.cell(3, 4).number_format == "dd/mm/yyyy"
    assert stages.cell(4, 4).value is None
    assert stages._charts[0].grouping == "clustered"
    money = wb.worksheets[3]
    assert money.cell(4, 2).value == 2500000.5 and money.cell(4, 2).number_format == "#,##0"
    assert money.cell(3, 3).number_format == "0.00"
    assert money.cell(5, 2).value == money.cell(3, 2).value + money.cell(4, 2).value
    empty = wb.worksheets[4]
    assert empty.cell(3, 1).value == "Jumlah" and empty.cell(3, 2).value == 0


def test_xlsx_never_writes_a_formula():
    report = recap()
    report.section("stages").rows.append(["+1+1", None, None, None])
    report.section("stages").rows.append(["=1+1", None, None, None])
    data = exports.render(report, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    injected = [c for c in cells if c.value == INJECTION]
    assert injected and all(c.data_type == "s" and c.quotePrefix for c in injected)
    assert any(c.value == "=1+1" and c.data_type == "s" for c in cells)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml and b"<f " not in xml


def test_xlsx_survives_unicode_and_control_characters():
    report = recap()
    report.section("stages").rows.append(["nul\x00bell\x07 é “x” 🚀 \ud800", None, None, None])
    report.section("stages").rows.append(["y" * 40000, None, None, None])
    wb = load(report)
    assert len(wb.worksheets[2].cell(3 + len(report.section("stages").rows) - 1, 1).value) == 32767
    values = [c for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert "Unit é Pelayanan 🚀" in values
    assert any(v.startswith("nul\ufffdbell\ufffd é “x” 🚀") for v in values)


def test_xlsx_sheet_names_are_valid_and_unique():
    taken = {"Ringkasan"}
    assert exports.sheet_name("ringkasan", taken) == "ringkasan (2)"
    assert exports.sheet_name("A" * 40, taken) == "A" * 31
    assert exports.sheet_name("A" * 40, taken) == "A" * 27 + " (2)"
    assert exports.sheet_name("'[x]:*?/\\'", taken) == "x"
    assert exports.sheet_name("", taken) == "Sheet"
    assert exports.sheet_name("History", taken) == "History 1"


def test_xlsx_register_of_300_rows():
    report = register()
    ws = load(report).worksheets[1]
    assert ws.max_column >= 18 and ws.freeze_panes == "A3"
    assert ws.cell(3, 1).value == "GRT-2026-0001" and ws.cell(302, 1).value == "GRT-2026-0300"
    assert ws.cell(303, 5).value == sum(ws.cell(r, 5).value for r in range(3, 303))
    assert ws.column_dimensions["B"].width == 60  # long texts are capped and wrapped
    assert ws.cell(3, 2).alignment.wrap_text


# ------------------------------------------------------------------------------------------------------------ PDF


def test_pdf_opens_and_shows_heading_tables_totals_charts_and_pages():
    report = recap()
    data = exports.render(report, "pdf")
    reader = PdfReader(io.BytesIO(data))
    pages = page_texts(data)
    assert len(reader.pages) == len(pages) >= 1
    assert reader.metadata.title == report.title
    assert float(reader.pages[0].mediabox.width) < float(reader.pages[0].mediabox.height)  # portrait: narrow
    first = pages[0].splitlines()
    assert first[:4] == [report.office, report.title, report.scope, "Dibuat pada 05/01/2027 09:30 oleh auditor1"]
    text = "\n".join(pages)
    for section in report.sections:
        assert section.title in text
        for column in section.columns:
            assert column.label in text
    # numbers in the Indonesian way, the totals as in the report
    lines = text.splitlines()
    i = lines.index("Jumlah")
    assert lines[i : i + 5] == ["Jumlah", "1.254", "41", "1.213", "97,0"]
    assert "2.500.000,5" in lines and "4.000.000,5" in lines and "12,3" in lines  # 12.25 days, half up
    assert "01/03/2026" in lines and "Tidak ada data" in lines
    # the charts: their titles, legends and values
    assert "Perkara per unit (perkara)" in lines and "Hari kerja per tahap (hari kerja)" in lines
    assert report.notes[1] in text.replace("\n", " ") or "Hari kerja tanpa hari libur nasional." in text
    for n, page in enumerate(pages, 1):
        assert f"Halaman {n} dari {len(pages)}" in page
    # pypdf reads the same text
    assert "1.254" in reader.pages[0].extract_text()
    # the rows and the bar rectangles are drawn (the charts' colours)
    assert b" rg\n" in data


def test_pdf_in_english():
    pages = page_texts(exports.render(recap("en"), "pdf"))
    assert "Page 1 of" in pages[0] and "1,254" in pages[0] and "Generated on 05/01/2027 09:30 by auditor1" in pages[0]


def test_pdf_register_spans_landscape_pages_with_the_header_repeated():
    report = register()
    data = exports.render(report, "pdf")
    reader = PdfReader(io.BytesIO(data))
    pages = page_texts(data)
    assert len(pages) > 3 and len(reader.pages) == len(pages)
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)  # landscape
    text = "\n".join(pages)
    for n in (1, 150, 300):
        assert f"GRT-2026-{n:04d}" in text
    for n, page in enumerate(pages, 1):
        assert "Nomor" in page.splitlines(), n  # the header row on every page
        assert "Kolom 17" in page.replace("\n", " ")
        assert f"Halaman {n} dari {len(pages)}" in page
    assert "Register Gratifikasi (lanjutan)" in pages[1]
    assert "4.515.000.000" in pages[-1] and "44.850" in pages[-1]


def test_pdf_survives_unicode_injection_and_empty_reports():
    report = recap()
    report.section("stages").rows.append(["nul\x00 é “x” 🚀 \ud800 " + "x" * 500, None, None, None])
    text = "\n".join(page_texts(exports.render(report, "pdf")))
    assert "Bidang Pengawasan “Internal”" in text and "Unit é Pelayanan ?" in text and INJECTION in text
    bare = Report(
        kind="benturan_kepentingan",
        title="Register Benturan Kepentingan",
        office="Kantor",
        lang="id",
        since=date(2026, 1, 1),
        until=date(2026, 1, 31),
        case_type=None,
        unit=None,
        scope="semua",
        generated_at=datetime(2026, 2, 1, 8, 0),
        generated_by="a",
    )
    for fmt in exports.FORMATS:
        assert exports.render(bare, fmt)
    assert "Halaman 1 dari 1" in page_texts(exports.render(bare, "pdf"))[0]
    bare.sections.append(Section(key="x", title="Kosong", columns=[], rows=[]))
    bare.sections.append(
        Section(
            key="y",
            title="Nol",
            columns=[Column("a", "A"), Column("n", "N", "int")],
            rows=[["a", 0]],
            chart=Chart(title="Nol", kind="stacked", labels=["a"], series=[("n", [0.0])]),
        )
    )
    for fmt in exports.FORMATS:
        assert exports.render(bare, fmt)


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_the_same_report_gives_the_same_bytes(fmt):
    assert exports.render(recap(), fmt) == exports.render(recap(), fmt)


def test_the_same_report_gives_the_same_workbook():
    def cells(report):
        wb = load(report)
        return [[(c.value, c.number_format, c.font.b) for r in ws.iter_rows() for c in r] for ws in wb.worksheets]

    assert cells(recap()) == cells(recap())
