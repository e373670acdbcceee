"""Sample reports for the chart and export tests (no database): a recap (several sections, charts, totals,
Indonesian labels, Decimals, dates, None) and a register (18 columns, 300 rows, long texts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from wbs_engine.reportmodel import Chart, Column, Report, Section

WIB = timezone(timedelta(hours=7))
INJECTION = '=HYPERLINK("http://x","y")'


def recap(lang: str = "id") -> Report:
    units = ["Sekretariat", "Bidang Pengawasan “Internal”", "Unit é Pelayanan 🚀", INJECTION]
    received = [1234, 17, 0, 3]
    closed = [1200, 12, 0, 1]
    in_progress = [r - c for r, c in zip(received, closed, strict=True)]
    volume = Section(
        key="volume",
        title="Pengaduan per unit",
        columns=[
            Column("unit", "Unit kerja"),
            Column("received", "Diterima", "int"),
            Column("in_progress", "Dalam proses", "int"),
            Column("closed", "Selesai", "int"),
            Column("within", "Tepat waktu (%)", "percent"),
        ],
        rows=[
            [u, r, p, c, (Decimal(c * 100) / Decimal(r)).quantize(Decimal("0.1")) if r else None]
            for u, r, p, c in zip(units, received, in_progress, closed, strict=True)
        ],
        total=["Jumlah", sum(received), sum(in_progress), sum(closed), Decimal("97.0")],
        note="Perkara dihitung menurut tanggal diterima.",
        chart=Chart(
            title="Perkara per unit",
            kind="stacked",
            labels=units,
            series=[("Selesai", [float(x) for x in closed]), ("Dalam proses", [float(x) for x in in_progress])],
            unit="perkara",
        ),
    )
    stages = Section(
        key="stages",
        title="Lama per tahap (hari kerja)",
        columns=[
            Column("stage", "Tahap"),
            Column("mean", "Rata-rata", "days"),
            Column("p90", "Persentil 90", "days"),
            Column("last", "Terakhir", "date"),
        ],
        rows=[
            ["Verifikasi", Decimal("2.5"), Decimal("4.0"), date(2026, 3, 1)],
            ["Telaah", Decimal("12.25"), Decimal("30.0"), None],
            ["Tindak lanjut", None, None, date(2026, 12, 31)],
        ],
        chart=Chart(
            title="Hari kerja per tahap",
            kind="bar",
            labels=["Verifikasi", "Telaah", "Tindak lanjut"],
            series=[("Rata-rata", [2.5, 12.25, 0.0]), ("Persentil 90", [4.0, 30.0, 0.0])],
            unit="hari kerja",
        ),
    )
    money = Section(
        key="gratifikasi",
        title="Nilai gratifikasi: [objek]/nilai*?",
        columns=[Column("object", "Objek"), Column("value", "Nilai (Rp)", "money"), Column("ikm", "Indeks", "index")],
        rows=[["Parsel", 1500000, Decimal("3.25")], ["Uang", Decimal("2500000.50"), Decimal("3.5")]],
        total=["Jumlah", Decimal("4000000.50"), None],
    )
    nothing = Section(
        key="empty",
        title="Alasan penutupan",
        columns=[Column("reason", "Alasan"), Column("n", "Jumlah", "int")],
        rows=[],
        total=["Jumlah", 0],
        chart=Chart(title="Alasan penutupan", kind="bar", labels=[], series=[("Jumlah", [])]),
    )
    return Report(
        kind="recap",
        title="Rekapitulasi Pengaduan Masyarakat",
        office="Kantor Wilayah Contoh",
        lang=lang,
        since=date(2026, 1, 1),
        until=date(2026, 12, 31),
        case_type="pengaduan",
        unit=None,
        scope="Pengaduan Masyarakat · semua unit · 1 Jan 2026 – 31 Des 2026",
        generated_at=datetime(2027, 1, 5, 9, 30, tzinfo=WIB),
        generated_by="auditor1",
        sections=[volume, stages, money, nothing],
        notes=["Indeks kepuasan: metode dalam DOMAIN.md (kategori “Baik”).", "Hari kerja tanpa hari libur nasional."],
    )


LONG = (
    "Pegawai menerima bingkisan dari rekanan pada saat rapat koordinasi, kemudian melaporkannya kepada UPG "
    "dalam waktu tujuh hari kerja; bingkisan berupa parsel makanan dan voucher belanja. "
)


def register(rows: int = 300, lang: str = "id") -> Report:
    columns = [Column("number", "Nomor")] + [
        Column(f"c{i}", f"Kolom {i}", kind)
        for i, kind in enumerate(
            ["text", "date", "text", "money", "text", "int", "text", "date", "text", "days", "text", "text"]
            + ["percent", "index", "text", "text", "text"],
            1,
        )
    ]
    assert len(columns) == 18
    data = []
    for n in range(rows):
        row: list = [f"GRT-2026-{n + 1:04d}"]
        for i, c in enumerate(columns[1:], 1):
            if c.kind == "text":
                row.append(LONG * (1 + n % 3) if i == 1 else f"Teks {i} baris {n}")
            elif c.kind == "date":
                row.append(date(2026, 1, 1) + timedelta(days=n))
            elif c.kind == "money":
                row.append(100000 * (n + 1))
            elif c.kind == "int":
                row.append(n)
            elif c.kind in ("days", "percent"):
                row.append(Decimal(n % 40) / 4)
            else:
                row.append(Decimal("3.17"))
        data.append(row)
    total: list = ["Jumlah"] + [None] * 17
    total[columns.index(next(c for c in columns if c.kind == "money"))] = sum(100000 * (n + 1) for n in range(rows))
    total[columns.index(next(c for c in columns if c.kind == "int"))] = sum(range(rows))
    section = Section(key="register", title="Register Gratifikasi", columns=columns, rows=data, total=total)
    return Report(
        kind="gratifikasi",
        title="Laporan Gratifikasi",
        office="Kantor Wilayah Contoh",
        lang=lang,
        since=date(2026, 1, 1),
        until=date(2026, 12, 31),
        case_type="gratifikasi",
        unit="Bidang Pengawasan",
        scope="Gratifikasi · Bidang Pengawasan · 2026",
        generated_at=datetime(2027, 1, 5, 2, 30, tzinfo=UTC),
        generated_by="admin",
        sections=[section],
    )
