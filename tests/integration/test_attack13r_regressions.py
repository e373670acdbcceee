"""The attacker's review of the reports (branch attack13r): each break, tried again the way it was found."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

import openpyxl
import pytest

from tests.unit.samples import recap as sample_recap
from wbs_engine import charts, exports, reports
from wbs_engine.errors import NotAllowed

SINCE, UNTIL = date(2026, 1, 1), date(2026, 12, 31)
FORMULA_START = ("=", "+", "-", "@")


def test_a_role_that_reads_no_case_of_a_type_gets_no_report_of_it(wbs):
    """Break 1: the UPG got the recap of complaints and WBS reports and the conflict registers; a pengelola the
    gratuity register. A grant counts for a type only when its role may read that type's cases."""
    upg, pengelola = wbs.load_actor("upg"), wbs.load_actor("pengelola")
    for kind, ctype in (
        ("recap", "pengaduan"),
        ("recap", "wbs"),
        ("benturan_kepentingan", None),
        ("identifikasi_bk", None),
    ):
        with pytest.raises(NotAllowed):
            reports.build_report(wbs, upg, kind, since=SINCE, until=UNTIL, case_type=ctype)
    reports.build_report(wbs, upg, "gratifikasi", since=SINCE, until=UNTIL)  # its own register it does get
    assert [k for k, _label in reports.report_scope(wbs, upg)["types"]] == ["gratifikasi"]
    with pytest.raises(NotAllowed):
        reports.build_report(wbs, pengelola, "gratifikasi", since=SINCE, until=UNTIL)
    assert "gratifikasi" not in [k for k, _label in reports.report_scope(wbs, pengelola)["types"]]
    # the auditor reads every type
    auditor = wbs.load_actor("auditor")
    assert {k for k, _label in reports.report_scope(wbs, auditor)["types"]} == set(wbs.registry.keys)


def _hostile(text: str):
    report = sample_recap()
    section = report.sections[0]
    section.rows[0][0] = text
    section.chart.labels[0] = text if section.chart is not None else None
    report.scope = text
    return report


@pytest.mark.parametrize("payload", ["X;=cmd|' /C calc'!A0;Y", "a; @SUM(1+1)*cmd|' /C calc'!A0", "b;\t-2+3;c"])
def test_a_csv_split_at_semicolons_has_no_cell_that_starts_a_formula(payload):
    """Break 2: Excel on an Indonesian Windows splits a CSV at ";"; an unquoted text gave it a cell "=cmd|…"."""
    data = exports.render(_hostile(payload), "csv").decode("utf-8-sig")
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(data), delimiter=delimiter):
            for cell in row:
                assert not cell.lstrip(" ").startswith(FORMULA_START) or cell.startswith("'"), (delimiter, cell)
    # kept as text, not lost (a ' after each separator is what the reader sees more)
    assert payload in data.replace('""', '"').replace(";'", ";").replace("\t'", "\t")


@pytest.mark.parametrize("bad", ["\ufffe", "\uffff", "\x00", "\x1b[31m", "\ud800"])
def test_a_character_xml_forbids_leaves_the_xlsx_and_the_chart_readable(bad):
    """Break 3: U+FFFE in a plain value made the XLSX and the SVG chart unreadable."""
    report = _hostile(f"Pengadaan {bad} barang")
    wb = openpyxl.load_workbook(io.BytesIO(exports.render(report, "xlsx")))
    assert any("Pengadaan" in str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    svg = charts.svg(report.sections[0].chart)
    ET.fromstring(svg.encode("utf-8", "surrogatepass"))  # well-formed
    assert "Pengadaan" in svg
