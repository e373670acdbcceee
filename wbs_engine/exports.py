"""A report (:class:`~wbs_engine.reportmodel.Report`) as a file: CSV, XLSX or a PDF recap for the ZI evidence folder.

* **CSV**: UTF-8 with a BOM (so Excel reads the accents), RFC 4180 (``,``, ``"`` quoting, CRLF). A first block
  (title, office, scope, period, generated at/by, notes), then one block per section: its title, the header, the
  rows, the total row, a blank line. Numbers are plain digits with a ``.`` decimal point, dates ISO (for
  programs, not for reading).
* **XLSX** (openpyxl): a summary sheet, then one sheet per section: its title in row 1, the header in row 2 (bold,
  filled, frozen below), the rows with number formats by column kind, the total row bold, the note under it and,
  where the section has a chart, the chart's figures beside the table with a native bar chart of them.
* **PDF** (:mod:`wbs_engine.pdfwriter`): A4, landscape when a section is wide; a heading block, each section's
  title, its table (header repeated on every page it spans, numbers right-aligned the language's way, text
  wrapped, total bold), its chart drawn with rectangles (bars, labels, legend), the notes, "Page n of m".

**Formula injection**: a text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR is never a formula: the
CSV writes it after a ``'``; the XLSX stores it as a string (with Excel's quote prefix). Every text comes from the
report (already in its language) or from the catalogue, in ``report.lang``. Pure: no database, no I/O.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from . import i18n, pdfwriter
from .errors import WbsError
from .i18n import gettext_noop as _
from .i18n import lang_of
from .reportmodel import Chart, Report, Section, Value
from .textsafe import xml_text

FORMATS = ("csv", "xlsx", "pdf")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
#: the start of a text a spreadsheet would run as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: file name stems of the report kinds (the case type and unit follow when the report is limited to one)
_STEMS = {
    "recap": "rekap",
    "gratifikasi": "laporan-gratifikasi",
    "benturan_kepentingan": "register-benturan-kepentingan",
    "identifikasi_bk": "identifikasi-benturan-kepentingan",
}
NUMERIC_KINDS = frozenset({"int", "money", "days", "percent", "index"})


def _slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")


def filename(report: Report, fmt: str) -> str:
    """An ASCII file name, e.g. ``rekap-pengaduan-2026-01-01-2026-12-31.xlsx``."""
    _check(fmt)
    parts = [_STEMS.get(report.kind, _slug(report.kind) or "laporan")]
    for extra in (report.case_type, report.unit):
        if extra:
            parts.append(_slug(extra)[:40])
    parts += [report.since.isoformat(), report.until.isoformat()]
    return "-".join(p for p in parts if p) + "." + fmt


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise WbsError(_("Unknown file format {format}: use one of {formats}"), format=fmt, formats=", ".join(FORMATS))


def render(report: Report, fmt: str, /) -> bytes:
    """The report as a ``fmt`` file (one of :data:`FORMATS`)."""
    _check(fmt)
    return {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt](report)


def _t(report: Report, msgid: str, **params: object) -> str:
    return i18n.render(msgid, lang_of(report.lang), **params)


def _defuse(text: str) -> str:
    """A text cell a spreadsheet will not run: ``'`` before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_START) else text


# ---------------------------------------------------------------------------------------------------------- CSV


def _csv_value(value: Value | float) -> str:
    """One CSV field as written: numbers and dates bare, every text in double quotes (see :func:`to_csv`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return _csv_text(str(value))


#: a separator another reader may split at (Excel on an Indonesian Windows: ";"), then what would start a formula
_SPLIT_FORMULA = re.compile(r"([;\t])(?=[\s\"]*[=+\-@])")


def _csv_text(text: str) -> str:
    """A quoted CSV text whose every part is defused: a reader that splits at ``;`` or a tab (whatever the
    quotes say: after a closing quote Excel keeps reading the field unquoted) would start a cell after the
    separator, so a ``'`` goes there too when a formula's first character follows."""
    return '"' + _SPLIT_FORMULA.sub(r"\1'", _defuse(text)).replace('"', '""') + '"'


def _csv_row(fields: list[str]) -> str:
    return ",".join(fields) + "\r\n"


def to_csv(report: Report) -> bytes:
    """RFC 4180, UTF-8 with a BOM; every text field quoted. Excel on an Indonesian Windows splits a CSV at
    ``;``: a text ``X;=cmd|...`` would give it a cell that starts with ``=`` (a formula) however the text's
    first character was defused, so :func:`_csv_text` defuses after every ``;`` and tab as well."""
    lines: list[str] = []
    t = lambda msgid: _t(report, msgid)  # noqa: E731
    text = _csv_text
    lines.append(_csv_row([text(report.title)]))
    lines.append(_csv_row([text(t(_("Office"))), text(report.office)]))
    lines.append(_csv_row([text(t(_("Scope"))), text(report.scope)]))
    lines.append(_csv_row([text(t(_("Period"))), report.since.isoformat(), report.until.isoformat()]))
    lines.append(_csv_row([text(t(_("Generated at"))), report.generated_at.isoformat()]))
    lines.append(_csv_row([text(t(_("Generated by"))), text(report.generated_by)]))
    for note in report.notes:
        lines.append(_csv_row([text(t(_("Note"))), text(note)]))
    lines.append("\r\n")
    for section in report.sections:
        lines.append(_csv_row([text(section.title)]))
        lines.append(_csv_row([text(c.label) for c in section.columns]))
        for row in section.rows:
            lines.append(_csv_row([_csv_value(v) for v in row]))
        if section.total is not None:
            lines.append(_csv_row([_csv_value(v) for v in section.total]))
        if section.note:
            lines.append(_csv_row([text(section.note)]))
        lines.append("\r\n")
    return b"\xef\xbb\xbf" + "".join(lines).encode("utf-8", "replace")


# --------------------------------------------------------------------------------------------------------- XLSX

NUMBER_FORMATS = {
    "int": "#,##0",
    "money": "#,##0",
    "days": "0.0",
    "percent": "0.0",
    "index": "0.00",
    "date": "dd/mm/yyyy",
}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = "D9E2F3"
#: the most characters a cell holds in Excel (a longer text is cut there rather than make Excel "repair" the file)
XLSX_CELL_LIMIT = 32767


def sheet_name(title: str, taken: set[str]) -> str:
    """``title`` as a sheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters, not starting or ending
    with ``'``, unique (case-insensitively) among ``taken`` (to which it is added)."""
    base = _SHEET_FORBIDDEN.sub(" ", "".join(ch for ch in title if ch.isprintable()))
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    if base.lower() == "history":
        base += " 1"
    name, n = base[:31].strip(), 1
    while name.lower() in {t.lower() for t in taken}:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)].strip() + suffix
    taken.add(name)
    return name


def _xlsx_cell(ws, row: int, col: int, value: Value | float, kind: str = "text"):  # type: ignore[no-untyped-def]
    cell = ws.cell(row=row, column=col)
    if value is None:
        return cell
    if isinstance(value, str):
        # controls, surrogates, U+FFFE and U+FFFF (not valid in XML) become the replacement character
        text = xml_text(value)[:XLSX_CELL_LIMIT]
        cell.value = text
        cell.data_type = "s"  # a text, never a formula (openpyxl reads a leading "=" as one)
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
        return cell
    if isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = "dd/mm/yyyy hh:mm"
        return cell
    cell.value = value
    if kind in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[kind]
    elif isinstance(value, date):
        cell.number_format = NUMBER_FORMATS["date"]
    return cell


def _display_len(value: Value, kind: str) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    if isinstance(value, int | float | Decimal):
        return len(f"{value:,.2f}") if kind in NUMERIC_KINDS else len(str(value))
    return max((len(line) for line in str(value).splitlines()), default=0)


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    t = lambda msgid: _t(report, msgid)  # noqa: E731
    bold = Font(bold=True)
    fill = PatternFill("solid", start_color=_HEADER_FILL, end_color=_HEADER_FILL)
    top_rule = Border(top=Side(style="thin"))
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = sheet_name(t(_("Summary")), taken)
    _xlsx_cell(ws, 1, 1, report.title).font = Font(bold=True, size=14)
    facts: list[tuple[str, Value | datetime]] = [
        (t(_("Office")), report.office),
        (t(_("Scope")), report.scope),
        (t(_("From")), report.since),
        (t(_("To")), report.until),
        (t(_("Generated at")), report.generated_at),
        (t(_("Generated by")), report.generated_by),
    ]
    r = 3
    for label, value in facts:
        _xlsx_cell(ws, r, 1, label).font = bold
        _xlsx_cell(ws, r, 2, value, "date" if type(value) is date else "text")  # type: ignore[arg-type]
        r += 1
    if report.notes:
        r += 1
        _xlsx_cell(ws, r, 1, t(_("Notes"))).font = bold
        for note in report.notes:
            r += 1
            _xlsx_cell(ws, r, 1, note).alignment = wrap
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
    r += 2
    _xlsx_cell(ws, r, 1, t(_("Sheets"))).font = bold
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 80
    summary_rows = r

    for section in report.sections:
        ws = wb.create_sheet(sheet_name(section.title, taken))
        summary_rows += 1
        _xlsx_cell(wb.worksheets[0], summary_rows, 1, ws.title)
        _xlsx_cell(wb.worksheets[0], summary_rows, 2, section.title)
        _xlsx_cell(ws, 1, 1, section.title).font = Font(bold=True, size=12)
        for c, column in enumerate(section.columns, 1):
            cell = _xlsx_cell(ws, 2, c, column.label)
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = "A3"
        row = 2
        for values in section.rows:
            row += 1
            for c, (column, value) in enumerate(zip(section.columns, values, strict=False), 1):
                cell = _xlsx_cell(ws, row, c, value, column.kind)
                if column.kind == "text" and isinstance(value, str) and len(value) > 60:
                    cell.alignment = wrap
        if section.rows:
            last = get_column_letter(max(len(section.columns), 1))
            ws.auto_filter.ref = f"A2:{last}{row}"
        if section.total is not None:
            row += 1
            for c, (column, value) in enumerate(zip(section.columns, section.total, strict=False), 1):
                cell = _xlsx_cell(ws, row, c, value, column.kind)
                cell.font, cell.border = bold, top_rule
        if not section.rows:
            row += 1
            _xlsx_cell(ws, row, 1, t(_("No data")))
        if section.note:
            row += 2
            _xlsx_cell(ws, row, 1, section.note)
        for c, column in enumerate(section.columns, 1):
            longest = max(
                [len(w) for w in column.label.split()]
                + [_display_len(v[c - 1], column.kind) for v in section.rows if len(v) >= c]
                + (
                    [_display_len(section.total[c - 1], column.kind)]
                    if section.total and len(section.total) >= c
                    else []
                )
                or [8]
            )
            ws.column_dimensions[get_column_letter(c)].width = max(8, min(longest + 2, 60))
        if section.chart is not None:
            _xlsx_chart(ws, section.chart, len(section.columns) + 2, BarChart, Reference, bold)
    wb.properties.title = report.title
    wb.properties.creator = "wbs-engine"
    wb.properties.lastModifiedBy = "wbs-engine"
    generated = report.generated_at.replace(tzinfo=None)
    wb.properties.created = generated
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_chart(ws, chart: Chart, first_col: int, bar_chart, reference, bold) -> None:  # type: ignore[no-untyped-def]
    """The chart's figures as a small table from ``first_col`` (row 2), and a native bar chart of them beside it."""
    from openpyxl.utils import get_column_letter

    _xlsx_cell(ws, 1, first_col, chart.title).font = bold
    _xlsx_cell(ws, 2, first_col, chart.unit or "")
    for s, (name, _values) in enumerate(chart.series, 1):
        _xlsx_cell(ws, 2, first_col + s, name).font = bold
    for i, label in enumerate(chart.labels):
        _xlsx_cell(ws, 3 + i, first_col, label)
        for s, (_name, values) in enumerate(chart.series, 1):
            _xlsx_cell(ws, 3 + i, first_col + s, values[i])
    drawing = bar_chart()
    drawing.type = "col"
    drawing.title = chart.title
    drawing.y_axis.title = chart.unit or None
    if chart.kind == "stacked":
        drawing.grouping = "stacked"
        drawing.overlap = 100
    last_row = 2 + max(len(chart.labels), 1)
    data = reference(
        ws, min_col=first_col + 1, max_col=first_col + max(len(chart.series), 1), min_row=2, max_row=last_row
    )
    cats = reference(ws, min_col=first_col, min_row=3, max_row=last_row)
    drawing.add_data(data, titles_from_data=True)
    drawing.set_categories(cats)
    drawing.width, drawing.height = 18, 9
    ws.add_chart(drawing, f"{get_column_letter(first_col + len(chart.series) + 2)}2")


# ---------------------------------------------------------------------------------------------------------- PDF


def format_value(value: Value | float, kind: str, lang: str) -> str:
    """``value`` for reading in ``lang``: numbers grouped the language's way (``1.234``; ``12,5``), dates
    ``dd/mm/yyyy``, nothing for None."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        places = {"days": 1, "percent": 1, "index": 2}.get(kind)
        number = Decimal(str(value))
        if places is None:
            return format_decimal(number, format="#,##0.##", locale=lang_of(lang))
        # rounded half up, like a spreadsheet shows it (Babel alone rounds half to even)
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return format_decimal(number, format="#,##0." + "0" * places, locale=lang_of(lang))
    return str(value)


#: series colours in the PDF (distinct in grey as well)
PDF_COLORS = (
    (0.12, 0.31, 0.47),
    (0.88, 0.48, 0.22),
    (0.36, 0.61, 0.23),
    (0.56, 0.23, 0.56),
    (0.79, 0.64, 0.0),
    (0.29, 0.62, 0.71),
    (0.64, 0.23, 0.23),
    (0.47, 0.47, 0.47),
)


class _Layout:
    """Pages of one orientation, filled top-down, with a cursor ``y``."""

    MARGIN = 36.0
    FOOTER = 28.0

    def __init__(self, doc: pdfwriter.Document, landscape: bool):
        self.doc = doc
        self.landscape = landscape
        self.page = doc.new_page(landscape=landscape)
        self.width = self.page.width - 2 * self.MARGIN
        self.y = self.page.height - self.MARGIN

    @property
    def bottom(self) -> float:
        return self.MARGIN + self.FOOTER

    def new_page(self) -> None:
        self.page = self.doc.new_page(landscape=self.landscape)
        self.y = self.page.height - self.MARGIN

    def room(self, height: float) -> bool:
        return self.y - height >= self.bottom

    def ensure(self, height: float) -> bool:
        """Start a new page unless ``height`` fits; True when it did."""
        if not self.room(height):
            self.new_page()
            return True
        return False

    def para(self, text: str, style: str = "regular", size: float = 9, gray: float = 0, gap: float = 2) -> None:
        leading = size * 1.3
        for line in pdfwriter.wrap(text, style, size, self.width):
            self.ensure(leading)
            self.y -= leading
            self.page.text(self.MARGIN, self.y + size * 0.25, line, style, size, gray=gray)
        self.y -= gap


def _col_widths(section: Section, lang: str, size: float, available: float) -> list[float]:
    pad = 8.0  # the cell's padding on both sides and a little air
    natural, minimum = [], []
    for i, column in enumerate(section.columns):
        cells = [r[i] for r in section.rows if len(r) > i]
        if section.total is not None and len(section.total) > i:
            cells.append(section.total[i])
        texts = [format_value(v, column.kind, lang) for v in cells[:400]]
        head_words = [pdfwriter.width(pdfwriter.winansi(w), "bold", size) for w in column.label.split()] or [10.0]
        longest = max([pdfwriter.width(pdfwriter.winansi(x), "bold", size) for x in texts] + [max(head_words)])
        head = pdfwriter.width(pdfwriter.winansi(column.label), "bold", size)
        if column.kind == "text":
            words = [pdfwriter.width(pdfwriter.winansi(w), "regular", size) for x in texts for w in x.split()]
            natural.append(min(max(longest, head), 220.0) + pad)
            minimum.append(min(max(words + head_words), 80.0) + pad)
        else:
            natural.append(max(longest, min(head, 70.0)) + pad)
            minimum.append(longest + pad)
    total = sum(natural)
    if total <= available:
        # give the text columns what is left over
        spare = available - total
        texts = [i for i, c in enumerate(section.columns) if c.kind == "text"]
        if texts:
            for i in texts:
                natural[i] += spare / len(texts)
        return natural
    fixed = sum(minimum)
    if fixed >= available:
        return [w * available / fixed for w in minimum]
    # shrink each column from natural towards its minimum in proportion
    ratio = (available - fixed) / (total - fixed)
    return [m + (n - m) * ratio for n, m in zip(natural, minimum, strict=True)]


def _pdf_table(lay: _Layout, report: Report, section: Section) -> None:
    lang = report.lang
    if not section.columns:
        lay.para(_t(report, _("No data")), size=8, gray=0.3, gap=8)
        return
    ncols = len(section.columns)
    size = 8.0 if ncols <= 10 else 7.0
    leading = size * 1.25
    pad = 3.0
    widths = _col_widths(section, lang, size, lay.width)
    max_lines = max(int((lay.page.height - 2 * lay.MARGIN - lay.FOOTER - 80) / leading), 3)

    def cells(values: Sequence[Value], style: str) -> list[list[bytes]]:
        out = []
        for i, column in enumerate(section.columns):
            value = values[i] if i < len(values) else None
            lines = pdfwriter.wrap(format_value(value, column.kind, lang), style, size, widths[i] - 2 * pad)
            if len(lines) > max_lines:
                lines = lines[: max_lines - 1] + [lines[max_lines - 1] + b"\x85"]
            out.append(lines)
        return out

    def draw(lines_per_cell: list[list[bytes]], style: str, fill: float | None) -> None:
        height = max(len(lines) for lines in lines_per_cell) * leading + 2 * pad
        top = lay.y
        if fill is not None:
            lay.page.rects([(lay.MARGIN, top - height, sum(widths), height)], gray=fill)
        x = lay.MARGIN
        for i, lines in enumerate(lines_per_cell):
            numeric = section.columns[i].kind in NUMERIC_KINDS
            for n, line in enumerate(lines):
                baseline = top - pad - (n + 1) * leading + size * 0.3
                if numeric:
                    tx = x + widths[i] - pad - pdfwriter.width(line, style, size)
                else:
                    tx = x + pad
                lay.page.text(tx, baseline, line, style, size)
            x += widths[i]
        lay.y = top - height
        lay.page.rule(lay.MARGIN, lay.y, lay.MARGIN + sum(widths), gray=0.75)

    header = cells([c.label for c in section.columns], "bold")
    header_height = max(len(lines) for lines in header) * leading + 2 * pad

    def header_row() -> None:
        draw(header, "bold", 0.85)

    body = [cells(r, "regular") for r in section.rows]
    first_height = max(len(lines) for lines in body[0]) * leading + 2 * pad if body else leading + 2 * pad
    lay.ensure(header_height + first_height)
    header_row()
    if not body:
        lay.para(_t(report, _("No data")), size=size, gray=0.3)
    for lines in body:
        height = max(len(x) for x in lines) * leading + 2 * pad
        if lay.ensure(height):
            lay.para(section.title + " " + _t(report, _("(continued)")), "bold", 9)
            header_row()
        draw(lines, "regular", None)
    if section.total is not None:
        total = cells(section.total, "bold")
        height = max(len(x) for x in total) * leading + 2 * pad
        if lay.ensure(height):
            lay.para(section.title + " " + _t(report, _("(continued)")), "bold", 9)
            header_row()
        lay.page.rule(lay.MARGIN, lay.y, lay.MARGIN + sum(widths), gray=0, line_width=0.8)
        draw(total, "bold", 0.93)
    lay.y -= 8


def _pdf_chart(lay: _Layout, report: Report, chart: Chart) -> None:
    """A horizontal bar chart: one group of bars per label (side by side, or one stacked bar), the value at the
    end of each bar, a legend of the series above."""
    size = 7.5
    lay.ensure(60)
    lay.para(chart.title + (f" ({chart.unit})" if chart.unit else ""), "bold", 9)
    from .charts import empty

    if empty(chart):
        lay.para(_t(report, _("No data")), size=size, gray=0.3, gap=8)
        return
    # legend
    x = lay.MARGIN
    lay.ensure(14)
    lay.y -= 12
    for s, (name, _values) in enumerate(chart.series):
        label = pdfwriter.winansi(name)
        w = 12 + pdfwriter.width(label, "regular", size) + 12
        if x + w > lay.MARGIN + lay.width:
            x = lay.MARGIN
            lay.ensure(12)
            lay.y -= 12
        lay.page.rects([(x, lay.y, 8, 8)], rgb=PDF_COLORS[s % len(PDF_COLORS)])
        lay.page.text(x + 11, lay.y + 1, label, "regular", size)
        x += w
    lay.y -= 6
    stacked = chart.kind == "stacked"
    nseries = max(len(chart.series), 1)
    bar = 9.0
    group = (bar if stacked else bar * nseries) + 5
    label_width = min(lay.width * 0.3, 200.0)
    plot_x = lay.MARGIN + label_width + 6
    value_room = 50.0
    plot_width = lay.width - label_width - 6 - value_room
    if stacked:
        top_value = max(sum(max(v or 0, 0) for v in vals) for vals in zip(*(s[1] for s in chart.series), strict=True))
    else:
        top_value = max(max(v or 0, 0) for _n, values in chart.series for v in values)
    top_value = top_value or 1
    scale = plot_width / top_value
    for i, label in enumerate(chart.labels):
        if lay.ensure(group):
            lay.para(chart.title + " " + _t(report, _("(continued)")), "bold", 9)
        top = lay.y
        line = pdfwriter.wrap(label, "regular", size, label_width)[0]
        lay.page.text(lay.MARGIN, top - group / 2 - size * 0.35, line, "regular", size)
        if stacked:
            x = plot_x
            for s, (_name, values) in enumerate(chart.series):
                w = max(values[i] or 0, 0) * scale
                if w > 0:
                    lay.page.rects([(x, top - bar - 2, w, bar)], rgb=PDF_COLORS[s % len(PDF_COLORS)])
                x += w
            total = sum(values[i] or 0 for _n, values in chart.series)
            lay.page.text(
                x + 3, top - bar - 2 + 2, pdfwriter.winansi(format_value(total, "", report.lang)), "regular", size
            )
        else:
            for s, (_name, values) in enumerate(chart.series):
                y = top - 2 - (s + 1) * bar
                w = max(values[i] or 0, 0) * scale
                if w > 0:
                    lay.page.rects([(plot_x, y + 0.5, w, bar - 1)], rgb=PDF_COLORS[s % len(PDF_COLORS)])
                text = pdfwriter.winansi(format_value(values[i] or 0, "", report.lang))
                lay.page.text(plot_x + w + 3, y + 2, text, "regular", size - 1)
        lay.page.line(plot_x, top, plot_x, top - group, gray=0.3)
        lay.y = top - group
    lay.y -= 10


def _wide(report: Report) -> bool:
    return any(len(s.columns) > 8 for s in report.sections)


def to_pdf(report: Report) -> bytes:
    doc = pdfwriter.Document(title=report.title)
    lay = _Layout(doc, landscape=_wide(report))
    t = lambda msgid, **p: _t(report, msgid, **p)  # noqa: E731
    lay.para(report.office, "bold", 10)
    lay.para(report.title, "bold", 15, gap=4)
    lay.para(report.scope, "regular", 10)
    generated = report.generated_at.strftime("%d/%m/%Y %H:%M")
    lay.para(t(_("Generated on {at} by {by}"), at=generated, by=report.generated_by), size=8.5, gray=0.35, gap=4)
    lay.page.rule(lay.MARGIN, lay.y, lay.MARGIN + lay.width, gray=0.3, line_width=0.8)
    lay.y -= 14
    for section in report.sections:
        lay.ensure(60)
        lay.para(section.title, "bold", 11.5, gap=4)
        _pdf_table(lay, report, section)
        if section.note:
            lay.para(section.note, size=8, gray=0.3, gap=6)
        if section.chart is not None:
            _pdf_chart(lay, report, section.chart)
        lay.y -= 6
    if report.notes:
        lay.ensure(40)
        lay.para(t(_("Notes")), "bold", 10)
        for note in report.notes:
            lay.para("- " + note, size=8.5, gap=3)
    pages = len(doc.pages)
    title = pdfwriter.winansi(report.title)
    for n, page in enumerate(doc.pages, 1):
        footer = pdfwriter.winansi(t(_("Page {page} of {pages}"), page=n, pages=pages))
        y = _Layout.MARGIN - 8
        page.rule(_Layout.MARGIN, y + 12, page.width - _Layout.MARGIN, gray=0.7)
        fw = pdfwriter.width(footer, "regular", 8)
        page.text(page.width - _Layout.MARGIN - fw, y, footer, "regular", 8, gray=0.3)
        short = pdfwriter.wrap(report.title, "regular", 8, page.width - 2 * _Layout.MARGIN - fw - 20)[0]
        page.text(_Layout.MARGIN, y, short if short else title[:1], "regular", 8, gray=0.3)
    return doc.render()
