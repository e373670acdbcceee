"""The shape of a report (*rekapitulasi*, *register*): what :mod:`wbs_engine.reports` computes and what the web
pages, the charts (:mod:`wbs_engine.charts`) and the export files (:mod:`wbs_engine.exports`) show. Pure data:
no database, no Flask, no I/O.

A :class:`Report` is a title, a scope (period, case type, unit) and a list of :class:`Section`\\ s; a section is
one table (columns, rows, an optional total row), an optional note, and an optional :class:`Chart` of some of
its figures. Every text a person reads is already rendered in the report's language; values keep their types
(``int``, :class:`~decimal.Decimal`, :class:`~datetime.date`, ``str``, ``None`` for "no value") so that each
output formats them its own way (a number stays a number in XLSX).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: how a column's values are written (all: ``None`` is an empty cell)
#: text: str · int: a count · money: Rupiah (int or Decimal) · date: a date · days: working days (Decimal, one
#: decimal) · percent: a share 0..100 (Decimal, one decimal) · index: a satisfaction index (Decimal, two decimals)
COLUMN_KINDS = frozenset({"text", "int", "money", "date", "days", "percent", "index"})
#: bar: one or more series side by side per label · stacked: the series stacked per label
CHART_KINDS = frozenset({"bar", "stacked"})

Value = str | int | Decimal | date | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Chart:
    """A chart of figures that are also in its section's table (a chart never shows what the table does not)."""

    title: str
    kind: str
    #: the categories along the axis (units, months, clocks, stages, ...)
    labels: list[str]
    #: (series name, one number per label)
    series: list[tuple[str, list[float]]]
    #: what the numbers count, for the axis ("perkara", "hari kerja")
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.labels)} labels")


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Value]]
    #: the total row (same length as ``columns``), or None
    total: list[Value] | None = None
    note: str | None = None
    chart: Chart | None = None

    def column(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def values(self, key: str) -> list[Value]:
        """One column's values (rows only, not the total)."""
        i = self.column(key)
        return [r[i] for r in self.rows]


@dataclass
class Report:
    #: recap | gratifikasi | benturan_kepentingan | identifikasi_bk
    kind: str
    title: str
    #: the office's name, for the heading of a file
    office: str
    lang: str
    since: date
    until: date
    #: the case type and unit the report is limited to (None: every one the viewer may see)
    case_type: str | None
    unit: str | None
    #: the scope in words, e.g. "Pengaduan Masyarakat · semua unit · 1 Jan 2026 – 31 Des 2026"
    scope: str
    #: when it was made, in the office's zone
    generated_at: datetime
    #: who made it (username)
    generated_by: str
    sections: list[Section] = field(default_factory=list)
    #: how the figures are counted, in words (shown under the report and in every file)
    notes: list[str] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly (dates as ISO text, Decimals as text)."""

        def v(x: Any) -> Any:
            if isinstance(x, datetime | date):
                return x.isoformat()
            if isinstance(x, Decimal):
                return str(x)
            return x

        return {
            "kind": self.kind,
            "title": self.title,
            "office": self.office,
            "lang": self.lang,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "case_type": self.case_type,
            "unit": self.unit,
            "scope": self.scope,
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "notes": list(self.notes),
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "note": s.note,
                    "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in s.columns],
                    "rows": [[v(x) for x in r] for r in s.rows],
                    "total": [v(x) for x in s.total] if s.total is not None else None,
                    "chart": None
                    if s.chart is None
                    else {
                        "title": s.chart.title,
                        "kind": s.chart.kind,
                        "labels": s.chart.labels,
                        "series": [[n, vals] for n, vals in s.chart.series],
                        "unit": s.chart.unit,
                    },
                }
                for s in self.sections
            ],
        }
