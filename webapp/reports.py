"""The reports (``/staf/laporan``): the Zona Integritas recap of a case type and the three registers
(gratifikasi, benturan kepentingan, the potential-conflict register), for the roles in
:data:`wbs_engine.reports.REPORT_ROLES`, limited to the units and case types their grants cover.

* ``GET /staf/laporan/`` shows the filter form and the report it asks for (:func:`reports.build_report`): each
  section's table and its chart, drawn on the server as SVG (:func:`wbs_engine.charts.svg`) and put in the page
  as an ``<img>`` with a ``data:`` address. An SVG shown as an image runs no script and loads nothing (the
  browser's rule for images), and the page's own Content-Security-Policy stays as strict as everywhere else.
* ``POST /staf/laporan/unduh`` downloads the report as CSV, XLSX or PDF (:mod:`wbs_engine.exports`). An export
  is recorded in the trail (``report_exported``), so it is a POST with the form's CSRF token: another site cannot
  make a user's browser export.

Bad filters (a date that is no date, a period the engine refuses, a type or unit outside the user's grants) are
shown next to the form with status 422; nothing is exported.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request

from wbs_engine import charts, exports, reports
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from .auth import add_nav, current_actor, requires_role
from .i18n import page_lang

bp = Blueprint("laporan", __name__, url_prefix="/staf/laporan")

#: the report kinds in the order the form offers them, with their names
KINDS: tuple[tuple[str, str], ...] = (
    ("recap", _("Recap of a case type")),
    ("gratifikasi", _("Gratuity register")),
    ("benturan_kepentingan", _("Conflict-of-interest register")),
    ("identifikasi_bk", _("Register of potential conflicts per main function")),
)
FORMATS: tuple[tuple[str, str], ...] = (("xlsx", "XLSX (Excel)"), ("pdf", "PDF"), ("csv", "CSV"))


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _today() -> date:
    return wbs().now().astimezone(wbs().settings.zone).date()


def _parse_date(raw: str, name: str, errors: dict[str, str], lang: str) -> date | None:
    raw = raw.strip()[:20]
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = render(_("A date is written as YYYY-MM-DD, e.g. 2026-01-31."), lang)
        return None


def _filters(source: Any, scope: dict[str, Any], lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values (defaults filled in) and the problems found before the engine is asked."""
    errors: dict[str, str] = {}
    today = _today()
    kind = (source.get("laporan") or "recap")[:40]
    if kind not in {k for k, _label in KINDS}:
        errors["laporan"] = render(_("Choose a report from the list."), lang)
        kind = "recap"
    types = [k for k, _label in scope["types"]]
    case_type = (source.get("jenis") or "")[:40] or (types[0] if types else None)
    unit = (source.get("unit") or "")[:40] or None
    raw_from = source.get("dari") or date(today.year, 1, 1).isoformat()
    raw_to = source.get("sampai") or today.isoformat()
    since = _parse_date(raw_from, "dari", errors, lang)
    until = _parse_date(raw_to, "sampai", errors, lang)
    values = {
        "laporan": kind,
        "jenis": case_type,
        "unit": unit,
        "dari": raw_from.strip()[:20],
        "sampai": raw_to.strip()[:20],
        "since": since,
        "until": until,
    }
    return values, errors


def _build(values: dict[str, Any], lang: str) -> reports.Report:
    return reports.build_report(
        wbs(),
        current_actor(),
        values["laporan"],
        since=values["since"],
        until=values["until"],
        case_type=values["jenis"] if values["laporan"] == "recap" else None,
        unit=values["unit"],
        lang=lang,
    )


def fmt(value: Any, kind: str, lang: str) -> str:
    """One table cell as the page shows it: numbers with the language's separators, Rupiah, dates as
    day month year; ``None`` as a dash."""
    from babel.dates import format_date
    from babel.numbers import format_decimal

    if value is None or value == "":
        return "—"
    if kind in ("int", "money") and not isinstance(value, str):
        text = format_decimal(value, format="#,##0", locale=lang)
        return f"Rp{text}" if kind == "money" else text
    if kind == "days" and not isinstance(value, str):
        return format_decimal(value, format="#,##0.0", locale=lang)
    if kind == "percent" and not isinstance(value, str):
        return format_decimal(value, format="#,##0.0", locale=lang) + "%"
    if kind == "index" and not isinstance(value, str):
        return format_decimal(value, format="#,##0.00", locale=lang)
    if kind == "date" and isinstance(value, date):
        return format_date(value, format="medium", locale=lang)
    return str(value)


def _chart_src(chart: Any, lang: str) -> str | None:
    if chart is None or charts.empty(chart):
        return None
    data = charts.svg(chart, lang=lang).encode("utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def _asked(source: Any, lang: str, errors: dict[str, str] | None = None) -> tuple[Any, ...]:
    """What the filters in ``source`` ask for: (scope, values, errors, the report or None). The engine is
    asked only when the form itself is right."""
    scope = reports.report_scope(wbs(), current_actor(), lang)
    values, found = _filters(source, scope, lang)
    errors = {**found, **(errors or {})}
    report = None
    if not errors:
        try:
            report = _build(values, lang)
        except ValidationFailed as exc:
            errors = exc.field_errors(lang)
    return scope, values, errors, report


def _page(lang: str, scope: dict[str, Any], values: dict[str, Any], errors: dict[str, str], report: Any):  # type: ignore[no-untyped-def]
    """The reports page: the filters, and the report when there is one; 422 when a filter is wrong."""
    page = render_template(
        "reports/page.html",
        kinds=[(k, render(label, lang)) for k, label in KINDS],
        formats=FORMATS,
        scope=scope,
        values=values,
        errors=errors,
        report=report,
        chart_src=lambda chart: _chart_src(chart, lang),
        fmt=lambda value, kind: fmt(value, kind, lang),
        zone=wbs().settings.zone_label,
    )
    return page, 422 if errors else 200


@bp.get("/")
@requires_role(*reports.REPORT_ROLES)
def page():  # type: ignore[no-untyped-def]
    lang = page_lang()
    return _page(lang, *_asked(request.args, lang))


@bp.post("/unduh")
@requires_role(*reports.REPORT_ROLES)
def download():  # type: ignore[no-untyped-def]
    lang = page_lang()
    fmt = request.form.get("format", "")
    wrong = {} if fmt in exports.FORMATS else {"format": render(_("Choose CSV, XLSX or PDF."), lang)}
    scope, values, errors, report = _asked(request.form, lang, wrong)
    if report is None:
        return _page(lang, scope, values, errors, None)
    data = exports.render(report, fmt)
    reports.record_export(wbs(), current_actor(), report, fmt)  # before the file leaves
    headers = {
        "Content-Disposition": f'attachment; filename="{exports.filename(report, fmt)}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, mimetype=exports.MEDIA_TYPES[fmt], headers=headers)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "laporan.page", _("Reports"), roles=tuple(sorted(reports.REPORT_ROLES)), order=17)
