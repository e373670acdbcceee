"""``wbs export`` on SQLite and PostgreSQL: the files open (csv, openpyxl, a PDF reader) and their totals equal
the database's; the export is one ``report_exported`` event and the trail still verifies; bad input is one line
in the user's language and writes no file."""

from __future__ import annotations

import csv
import io

import openpyxl
import pypdf
import sqlalchemy as sa

from tests.helpers import run_wbs
from tests.integration.test_reports import CASES, gift, rows, scalar, some_complaints
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent

EVENTS = CaseEvent.__table__
PERIOD = ("--from", "2026-01-01", "--to", "2026-12-31")


def env_of(wbs):
    return {"WBS_DATABASE_URL": wbs.settings.database_url, "WBS_INSTANCE_DIR": str(wbs.settings.instance_dir)}


def exported_events(wbs):
    return rows(wbs, sa.select(EVENTS.c.actor, EVENTS.c.payload).where(EVENTS.c.kind == "report_exported"))


def sheet(wb, title):
    return next(ws for ws in wb.worksheets[1:] if ws["A1"].value == title)  # (the first is the summary)


def test_the_recap_in_three_formats_equals_the_database(wbs, clock, tmp_path):
    some_complaints(wbs, clock)
    in_type = CASES.c.case_type == "pengaduan"
    total = scalar(wbs, sa.select(sa.func.count()).where(in_type))
    closed = scalar(wbs, sa.select(sa.func.count()).where(in_type, CASES.c.final.is_(True)))
    env = env_of(wbs)

    out = tmp_path / "rekap.xlsx"
    res = run_wbs("export", "--type", "pengaduan", *PERIOD, "--format", "xlsx", "--out", str(out), env=env)
    assert res.exit_code == 0, res.stderr
    assert "rekap.xlsx" in res.stdout and "jejak audit" in res.stdout
    wb = openpyxl.load_workbook(out)
    ws = sheet(wb, "Diterima, dalam proses dan ditutup per unit")
    assert ws.freeze_panes == "A3" and ws["A2"].font.b
    header = [c.value for c in ws[2]]
    last = ws.max_row
    while ws.cell(last, 1).value != "Jumlah":
        last -= 1
    assert ws.cell(last, header.index("Diterima") + 1).value == total
    assert ws.cell(last, header.index("Ditutup") + 1).value == closed
    assert ws.cell(last, header.index("Dalam proses") + 1).value == total - closed

    out = tmp_path / "rekap.csv"
    assert (
        run_wbs("export", "--type", "pengaduan", *PERIOD, "--format", "csv", "--out", str(out), env=env).exit_code == 0
    )
    lines = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    head = lines.index(["Unit", "Diterima", "Dalam proses", "Ditutup"])
    total_row = next(r for r in lines[head:] if r and r[0] == "Jumlah")
    assert total_row[1:4] == [str(total), str(total - closed), str(closed)]

    out = tmp_path / "rekap.pdf"
    res = run_wbs(
        "--lang", "en", "export", "--type", "pengaduan", *PERIOD, "--format", "pdf", "--out", str(out), env=env
    )
    assert res.exit_code == 0, res.stderr
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
    assert "Recap" in text and "Page 1 of" in text  # --lang en makes the file English too
    assert f"Total {total} {total - closed} {closed}" in " ".join(text.split())

    events = exported_events(wbs)
    assert [(e[0], e[1]["format"], e[1]["report"], e[1]["case_type"]) for e in events] == [
        ("system", "xlsx", "recap", "pengaduan"),
        ("system", "csv", "recap", "pengaduan"),
        ("system", "pdf", "recap", "pengaduan"),
    ]
    with unit_of_work(wbs.db, write=False) as s:
        assert audit.verify(s, keyring=wbs.keyring).ok


def test_the_gratifikasi_register_file_sums_the_values_of_the_database(wbs, clock, tmp_path):
    gift(wbs, clock)
    gift(wbs, clock, nilai_taksiran=1250000, jenis="uang")
    values = [
        int(d["nilai_taksiran"])
        for (d,) in rows(wbs, sa.select(CASES.c.data).where(CASES.c.case_type == "gratifikasi"))
    ]
    out = tmp_path / "register.xlsx"
    res = run_wbs(
        "export",
        "--type",
        "gratifikasi",
        "--report",
        "register",
        *PERIOD,
        "--format",
        "xlsx",
        "--out",
        str(out),
        "--as",
        "auditor",
        env=env_of(wbs),
    )
    assert res.exit_code == 0, res.stderr
    ws = sheet(openpyxl.load_workbook(out), "Register gratifikasi")
    header = [c.value for c in ws[2]]
    assert "Nilai taksiran" in header, header
    col = header.index("Nilai taksiran") + 1
    numbers = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert sum(1 for n in numbers if isinstance(n, str) and n.startswith("GRT-")) == 2
    total_row = next(r for r in range(3, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("Jumlah"))
    assert ws.cell(total_row, col).value == sum(values) == 3750000
    assert ws.cell(3, col).number_format == "#,##0"
    assert exported_events(wbs)[0][0] == "auditor" and exported_events(wbs)[0][1]["via"] == "cli"
    for secret in ("Budi Santoso Rahasia", "rahasia-uraian-xyz", "Pemberi Rahasia Sekali"):
        assert secret not in out.read_bytes().decode("latin-1")  # (xlsx is a zip: checked in the text below too)
    for ws in openpyxl.load_workbook(out).worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "Rahasia" in v for v in row)


def test_bad_input_is_one_line_and_writes_nothing(wbs, clock, tmp_path):
    env = env_of(wbs)
    out = tmp_path / "x.csv"
    cases = [
        (["--type", "pengaduan", "--from", "2026-13-01", "--to", "2026-12-31"], "2026-13-01"),
        (["--type", "pengaduan", "--from", "2026-12-31", "--to", "2026-01-01"], "2026-12-31"),
        (["--type", "bukan_jenis", *PERIOD], "tidak dikenal"),
        (["--type", "pengaduan", "--report", "register", *PERIOD], "register"),
        (["--type", "pengaduan", *PERIOD, "--as", "pegawai"], "pegawai"),
        (["--type", "pengaduan", *PERIOD, "--as", "tidak.ada"], "tidak.ada"),
        (["--type", "pengaduan", *PERIOD, "--unit", "ZZZ"], "ZZZ"),
    ]
    for args, named in cases:
        res = run_wbs("export", *args, "--format", "csv", "--out", str(out), env=env)
        assert res.exit_code == 2, (args, res.stdout)
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr, res.stderr
        assert named in res.stderr or "register" in res.stderr, res.stderr
        assert not out.exists()
    res = run_wbs(
        "export", "--type", "pengaduan", *PERIOD, "--format", "csv", "--out", str(tmp_path / "nope" / "x.csv"), env=env
    )
    assert res.exit_code == 2 and "nope" in res.stderr
    res = run_wbs(
        "--lang", "en", "export", "--type", "pengaduan", *PERIOD, "--format", "doc", "--out", str(out), env=env
    )
    assert res.exit_code == 2 and "doc" in res.stderr
    assert exported_events(wbs) == []
