"""An employee's own reports: file a gratifikasi or a declaration from their account, follow what they filed,
answer the office's questions.

Any signed-in user may use these pages; what they may file is ``tracking.filer_types`` (the workflow's
``filed_by`` against their roles, ``permissions.check_filer``), the form is the public one
(``engine.intake_form``, ``form.html``) filed with ``filer=`` their account and a filing token. What they see
of a case is the reporter's view (``tracking.filer_view``: the tracking page's allow-list, never an internal
note, a staff name or a finding), whatever other roles they hold; their steps go through ``engine.fire`` and
``post_message`` as the filer, like a reporter with a tracking code. A report filed anonymously is not linked
to the account: its receipt (the tracking code, once) is the public one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for

from wbs_engine import files, interests, tracking
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed, WbsError
from wbs_engine.filing import AlreadyFiled, FilingTokenInvalid
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from . import security
from .auth import add_nav, current_actor
from .i18n import page_lang
from .public import FILES_INPUT, IDENTITY_INPUT, TOKEN_INPUT, render_filing_form, uploads
from .staff import send_attachment

bp = Blueprint("mine", __name__, url_prefix="/staf/laporan-saya")

MESSAGE_INPUT = "pesan"
NOTICES = {
    "baru": _("Your report was filed. You can follow it here."),
    "pesan": _("Your message was sent to the office."),
    "aksi": _("Thank you; the office has received it."),
    "lampiran": _("The file was attached."),
}


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    return render_template(
        "mine/index.html",
        reports=tracking.filer_cases(wbs(), actor, lang),
        types=tracking.filer_types(wbs(), actor, lang),
    )


def _type_or_404(case_type: str) -> dict[str, Any]:
    found = next((t for t in tracking.filer_types(wbs(), current_actor(), page_lang()) if t["key"] == case_type), None)
    if found is None:
        abort(404)
    return found


def _form_page(case_type: str, mode: str | None, **kw: Any):  # type: ignore[no-untyped-def]
    kind = _type_or_404(case_type)
    return render_filing_form(
        case_type,
        mode or kind["identity_mode"],
        fallback_mode=kind["identity_mode"],
        mode_url=url_for("mine.form", case_type=case_type),
        file_url=url_for("mine.file", case_type=case_type),
        **kw,
    )


@bp.get("/baru/<case_type>")
def form(case_type: str):  # type: ignore[no-untyped-def]
    return _form_page(case_type, request.args.get(IDENTITY_INPUT) or None)


@bp.post("/baru/<case_type>")
def file(case_type: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    kind = _type_or_404(case_type)
    engine = wbs()
    actor = current_actor()
    mode = request.form.get(IDENTITY_INPUT) or kind["identity_mode"]
    token = request.form.get(TOKEN_INPUT) or ""
    try:
        form = engine.intake_form(case_type, mode, lang)
    except ValidationFailed as exc:
        return _form_page(case_type, None, errors=exc.field_errors(lang), status=422)
    values = {f.name: request.form.get(f.name, "") for f in form.fields}
    data = {k: v for k, v in values.items() if v.strip()}
    sent_files = uploads()
    defn = engine.registry.latest(case_type).definition
    try:
        files.screen(defn, engine.settings, sent_files)
        if not token:
            raise FilingTokenInvalid(_("The form is incomplete; it was shown again, check it and send it."))
        created = engine.create_case(
            case_type, data, identity_mode=form.identity_mode, filed_by=actor, idempotency_token=token
        )
    except AlreadyFiled as exc:
        return _form_page(case_type, form.identity_mode, values=values, general=exc.message(lang), status=409)
    except FilingTokenInvalid as exc:
        return _form_page(case_type, form.identity_mode, values=values, general=exc.message(lang), status=422)
    except ValidationFailed as exc:
        return _form_page(
            case_type, form.identity_mode, values=values, errors=exc.field_errors(lang), token=token, status=422
        )
    linked = form.identity_mode != "anonim"
    problems = []
    for name, stream in sent_files:
        try:
            if linked:
                files.attach(engine, created.number, actor, name, stream)
            else:  # not linked to the account: attached as the reporter of the tracking code
                from wbs_engine.db import unit_of_work

                with unit_of_work(engine.db, write=False) as s:
                    reporter, _case = engine.reporter(s, created.receipt_code)
                files.attach(engine, created.number, reporter, name, stream)
        except WbsError as exc:
            problems.append(render(_("{file}: {problem}"), lang, file=name, problem=exc.message(lang)))
    if not linked:  # followed with the tracking code only: the public receipt shows it once
        security.remember_receipt(created.number, created.receipt_code, case_type)
        security.remember_not_attached(problems)  # and names a file that could not be attached
        return redirect(url_for("public.receipt"), code=303)
    if problems:
        return _case_page(created.number, notice=render(NOTICES["baru"], lang), problems=problems)
    return redirect(url_for("mine.case", number=created.number, ok="baru"), code=303)


def _case_page(
    number: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    problems: list[str] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    view = tracking.filer_view(wbs(), number, current_actor(), page_lang())
    kept_off = interests.summary(wbs(), view["number"], current_actor())  # a declaration's effect, in their words
    return (
        render_template(
            "mine/case.html",
            view=view,
            kept_off=kept_off.render(page_lang()) if kept_off is not None else None,
            errors=errors or {},
            values=values or {},
            notice=notice,
            problems=problems or [],
        ),
        status,
    )


@bp.get("/<number>")
def case(number: str):  # type: ignore[no-untyped-def]
    ok = request.args.get("ok")
    return _case_page(number, notice=render(NOTICES[ok], page_lang()) if ok in NOTICES else None)


@bp.post("/<number>/pesan")
def message(number: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    view = tracking.filer_view(wbs(), number, current_actor(), lang)  # not theirs: the same 404 as none
    body = request.form.get(MESSAGE_INPUT, "")
    try:
        wbs().post_message(view["number"], current_actor(), body)
    except ValidationFailed as exc:
        errors = {MESSAGE_INPUT: "; ".join(exc.field_errors(lang).values())}
        return _case_page(number, errors=errors, values={MESSAGE_INPUT: body}, status=422)
    except WbsError as exc:
        return _case_page(number, problems=[exc.message(lang)], values={MESSAGE_INPUT: body}, status=exc.status)
    return redirect(url_for("mine.case", number=view["number"], ok="pesan"), code=303)


@bp.post("/<number>/aksi/<trigger>")
def action(number: str, trigger: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    view = tracking.filer_view(wbs(), number, current_actor(), lang)
    wanted = next((a for a in view["actions"] if a["trigger"] == trigger), None)
    if wanted is None:  # not one of the reporter's steps now (a stale or edited form)
        stale = _("This step is no longer possible; the page shows the case as it is now.")
        return _case_page(number, problems=[render(stale, lang)], status=409)
    values = {f["name"]: request.form.get(f["name"], "") for f in wanted["fields"]}
    data = {k: v for k, v in values.items() if v.strip()}
    try:
        wbs().fire(view["number"], trigger, current_actor(), data)
    except ValidationFailed as exc:
        return _case_page(number, errors=exc.field_errors(lang), values=values, status=422)
    except WbsError as exc:
        return _case_page(number, problems=[exc.message(lang)], status=exc.status)
    return redirect(url_for("mine.case", number=view["number"], ok="aksi"), code=303)


@bp.post("/<number>/lampiran")
def attach(number: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    view = tracking.filer_view(wbs(), number, current_actor(), lang)
    upload = request.files.get(FILES_INPUT)
    if upload is None or not upload.filename:
        return _case_page(number, errors={FILES_INPUT: render(_("choose a file"), lang)}, status=422)
    try:
        files.attach(wbs(), view["number"], current_actor(), upload.filename, upload.stream)
    except ValidationFailed as exc:
        return _case_page(number, errors={FILES_INPUT: "; ".join(exc.field_errors(lang).values())}, status=422)
    except WbsError as exc:
        return _case_page(number, problems=[exc.message(lang)], status=exc.status)
    return redirect(url_for("mine.case", number=view["number"], ok="lampiran"), code=303)


@bp.get("/<number>/lampiran/<int(max=2147483647):attachment_id>")
def download(number: str, attachment_id: int):  # type: ignore[no-untyped-def]
    view = tracking.filer_view(wbs(), number, current_actor(), page_lang())
    return send_attachment(view["number"], attachment_id, current_actor())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "mine.index", _("My reports"), order=20)
