"""The auditor's pages (``/staf/audit``): read-only, for holders of the ``auditor`` role only.

* ``/staf/audit/`` searches every case the auditor's grants cover, open and closed (:func:`auditview.search_cases`);
* ``/staf/audit/perkara/<number>`` is a case's history with each event's hash and the case's verification
  banner (:func:`views.case_history`, which records the reading of sealed values as ``case_read``);
* ``/staf/audit/akses/<number>`` lists who viewed or opened what on the case (:func:`auditview.access_log`);
* ``/staf/audit/jejak`` runs the whole check (:func:`auditview.whole_check`) and shows the latest signed head,
  with downloads of the head (``/jejak/kepala.txt``) and the office's public key (``/jejak/kunci.pem``).

Every view is a GET: the blueprint has no POST route, so a POST anywhere under ``/staf/audit`` is refused by
the router (405) before any view runs, and no page here carries a staff action form. Each case view first asks
:func:`auditview.ensure_auditor`, so an auditor limited to units or case types cannot reach another's case by
its URL, even through another role they hold.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from wbs_engine import auditview, views
from wbs_engine.engine import WbsEngine
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from .auth import add_nav, current_actor, requires_role
from .errors import error_page
from .i18n import page_lang

bp = Blueprint("audit", __name__, url_prefix="/staf/audit")

PAGE_SIZE = 25
#: how many earlier pages the "previous" link remembers
MAX_BACK = 20

KINDS = {
    "created": _("Filed"),
    "transition": _("Step"),
    "message": _("Message"),
    "assigned": _("Assignment"),
    "case_read": _("Case read"),
    "attachment_added": _("File attached"),
    "attachment_opened": _("File opened"),
    "attachment_refused": _("File refused"),
    "attachments_listed": _("Files listed"),
    "clock_breached": _("Time limit passed"),
    "reminder": _("Reminder"),
    "rated": _("Survey answered"),
    "identity_requested": _("Identity requested"),
    "identity_request_decided": _("Identity request decided"),
    "identity_request_withdrawn": _("Identity request withdrawn"),
    "identity_opened": _("Identity opened"),
}


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _date(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) != 10:
        raise ValueError(raw)
    return date.fromisoformat(raw)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(wbs().settings.zone).strftime("%Y-%m-%d") if moment is not None else ""


def _kind_label(kind: str, lang: str) -> str:
    return render(KINDS[kind], lang) if kind in KINDS else kind


@bp.get("/")
@requires_role("auditor")
def search():  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    args = request.args
    text = (args.get("cari") or "").strip()[:200]
    case_type = args.get("jenis") or None
    unit = args.get("unit") or None
    state = args.get("status") or None
    cursor = args.get("c") or None
    back = args.getlist("p")[-MAX_BACK:]
    filters = auditview.search_filters(wbs(), actor, lang)
    error = None
    # a filter outside the auditor's grants (an edited link) is refused by the choices, never widened
    if unit is not None and unit not in {c for c, _n in filters["units"]}:
        error, unit = render(_("Your audit grants do not cover unit {unit}."), lang, unit=unit[:40]), None
    if case_type is not None and case_type not in {c for c, _n in filters["types"]}:
        error, case_type = render(_("Your audit grants do not cover this case type."), lang), None
    if state is not None and state not in {c for c, _n in filters["states"]}:
        error, state = render(_("Unknown state; choose one from the list."), lang), None
    raw_from, raw_to = (args.get("dari") or "")[:20], (args.get("sampai") or "")[:20]
    try:
        filed_from, filed_to = _date(raw_from), _date(raw_to)
    except ValueError:
        error = render(_("A date is written as YYYY-MM-DD, e.g. 2026-01-31."), lang)
        filed_from = filed_to = None
        raw_from = raw_to = ""
    status = 422 if error else 200
    try:
        page = auditview.search_cases(
            wbs(),
            actor,
            text=text or None,
            case_type=case_type,
            unit=unit,
            state=state,
            filed_from=filed_from,
            filed_to=filed_to,
            cursor=cursor,
            limit=PAGE_SIZE,
            lang=lang,
        )
    except auditview.AuditSearchError as exc:
        error, status = exc.message(lang), exc.status
        page = auditview.AuditPage((), None)
    base = {
        k: v
        for k, v in (
            ("cari", text),
            ("jenis", case_type),
            ("unit", unit),
            ("status", state),
            ("dari", raw_from),
            ("sampai", raw_to),
        )
        if v
    }
    next_url = None
    if page.next_cursor:
        next_url = url_for("audit.search", **base, c=page.next_cursor, p=[*back, cursor or ""])
    prev_url = None
    if cursor:
        earlier = back[-1] if back else ""
        prev_url = url_for("audit.search", **base, c=earlier or None, p=back[:-1] or None)
    return (
        render_template(
            "audit/search.html",
            page=page,
            filters=filters,
            values={**base},
            next_url=next_url,
            prev_url=prev_url,
            first_url=url_for("audit.search", **base) if cursor else None,
            error=error,
            local_date=_local,
        ),
        status,
    )


@bp.get("/perkara/<number>")
@requires_role("auditor")
def case(number: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    auditview.ensure_auditor(wbs(), number, actor)
    history = views.case_history(wbs(), number, actor, lang)
    labels = _field_labels(history["case"]["type"], history["case"]["workflow_version"], lang)
    return render_template(
        "audit/case.html",
        case=history["case"],
        events=history["events"],
        check=history["check"],
        kind_label=lambda k: _kind_label(k, lang),
        field_label=lambda n: labels.get(n, n),
        sealed=views.is_sealed,
    )


def _field_labels(case_type: str, version: int, lang: str) -> dict[str, str]:
    from wbs_engine.db import unit_of_work

    with unit_of_work(wbs().db, write=False) as s:
        defn = wbs().registry.get(s, case_type, version).definition
    return {f.name: f.label.get(lang) for f in (*defn.intake, *defn.fields)}


@bp.post("/perkara/<number>/bundel")
@requires_role("auditor")
def bundle_download(number: str):  # type: ignore[no-untyped-def]
    """The case's offline-verifiable bundle (``wbs_engine.bundle``): its whole chain, the signed checkpoints
    that cover it and the public key, for ``wbs verify-bundle``. The export writes to the trail (a checkpoint,
    ``bundle_exported``), so it is a POST with the form's CSRF token: another site cannot make an auditor's
    browser export (the one POST of these pages; everything else is read-only)."""
    import tempfile
    from pathlib import Path

    from wbs_engine import bundle

    actor = current_actor()
    auditview.ensure_auditor(wbs(), number, actor)
    with tempfile.TemporaryDirectory(prefix="wbs-bundle-") as tmp:
        out = Path(tmp) / "bundle.zip"
        bundle.export_case(wbs(), number, actor, out)
        data = out.read_bytes()
    safe = "".join(c for c in number.upper() if c.isalnum() or c == "-")  # it named a case the export found
    headers = {
        "Content-Disposition": f'attachment; filename="bundel-{safe}.zip"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, mimetype="application/zip", headers=headers)


@bp.get("/akses/<number>")
@requires_role("auditor")
def access(number: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    log = auditview.access_log(wbs(), number, actor, lang)
    return render_template("audit/access.html", log=log, kind_label=lambda k: _kind_label(k, lang))


@bp.get("/jejak")
@requires_role("auditor")
def trail():  # type: ignore[no-untyped-def]
    return render_template("audit/trail.html", check=auditview.whole_check(wbs(), page_lang()))


@bp.get("/jejak/kepala.txt")
@requires_role("auditor")
def head_download():  # type: ignore[no-untyped-def]
    line = auditview.head_text(wbs())
    if line is None:
        return error_page(404, render(_("There is no signed audit head yet."), page_lang()))
    return _text_file(line + "\n", "wbs-audit-head.txt", "text/plain; charset=utf-8")


@bp.get("/jejak/kunci.pem")
@requires_role("auditor")
def key_download():  # type: ignore[no-untyped-def]
    return _text_file(wbs().keyring.public_pem(), "wbs-audit-key.pem", "application/x-pem-file")


def _text_file(body: str, name: str, mimetype: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(body, mimetype=mimetype, headers=headers)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "audit.search", _("Audit"), roles=("auditor",), order=16)
