"""The public pages: the landing page, one filing form per public case type, and the receipt.

Each view translates HTTP into the engine's operations (``channels``, ``intake_form``,
``issue_filing_token``, ``create_case``, ``files.screen``/``files.attach``) and back; what the form asks,
who may file, what is valid and what is sealed are the workflow's and the engine's business.

A filing is Post/Redirect/Get: the POST files the case and redirects to ``/tanda-terima``, which shows the
case number and the tracking code from the session (sealed there) for :data:`~webapp.security.RECEIPT_MINUTES`.
On an error the form comes back with every typed value and the error next to its field; files cannot be
kept by a browser, so the form says to choose them again. The form carries a filing token: sent twice
(double click, reload), it files one case.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for

from wbs_engine import channels, files, receipts
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed, WbsError
from wbs_engine.filing import AlreadyFiled, FilingTokenInvalid
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from . import security
from .i18n import page_lang

bp = Blueprint("public", __name__)

#: the form's own inputs, beside the workflow's fields
IDENTITY_INPUT = "identitas"
TOKEN_INPUT = "token"
FILES_INPUT = "lampiran"
PROOF_TEXT_INPUT = "dengan_teks"
PROOF_FILE_INPUT = "berkas"


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    # no case counts here: how active a channel is (WBS above all) is itself sensitive; counts come with
    # the public statistics page, with small numbers suppressed
    return render_template("index.html", channels=channels.channels(wbs().registry, page_lang()))


def _channel_or_404(case_type: str) -> channels.Channel:
    found = channels.public_channel(wbs().registry, case_type, page_lang())
    if found is None:
        abort(404)
    return found


def render_filing_form(
    case_type: str,
    mode: str | None,
    *,
    fallback_mode: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    general: str | None = None,
    status: int = 200,
    **context: Any,
):  # type: ignore[no-untyped-def]
    """The filing form of ``case_type`` (``form.html``, built by ``intake_form``) in identity ``mode``; a mode the
    type does not offer (an edited link) falls back to ``fallback_mode`` (None: the most private). Shared by the
    public form and an employee's own filing (``webapp/mine.py``), which add their own ``context``."""
    lang = page_lang()
    try:
        form = wbs().intake_form(case_type, mode, lang)
    except ValidationFailed:
        form = wbs().intake_form(case_type, fallback_mode, lang)
    limits = files.limits_for(wbs().registry.latest(case_type).definition, wbs().settings)
    return (
        render_template(
            "form.html",
            form=form,
            values=values or {},
            errors=errors or {},
            token=token or wbs().issue_filing_token(case_type),
            general=general,
            limits=limits,
            files_again=bool(values) and limits.max_count > 0,
            **context,
        ),
        status,
    )


def _form_page(case_type: str, mode: str | None, **kw: Any):  # type: ignore[no-untyped-def]
    return render_filing_form(case_type, mode, channel=_channel_or_404(case_type), **kw)


@bp.get("/lapor/<case_type>")
def form(case_type: str):  # type: ignore[no-untyped-def]
    return _form_page(case_type, request.args.get(IDENTITY_INPUT) or None)


def uploads() -> list[tuple[str, Any]]:
    """The files a filing form sent (name, stream), empty inputs left out."""
    return [(f.filename or "", f.stream) for f in request.files.getlist(FILES_INPUT) if f and f.filename]


@bp.post("/lapor/<case_type>")
def file(case_type: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    _channel_or_404(case_type)
    engine = wbs()
    mode = request.form.get(IDENTITY_INPUT) or None
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
        if not token:  # the web form always carries one: without it a resend would file a second case
            raise FilingTokenInvalid(_("The form is incomplete; it was shown again, check it and send it."))
        created = engine.create_case(case_type, data, identity_mode=form.identity_mode, idempotency_token=token)
    except AlreadyFiled as exc:
        kept = security.receipt()
        if kept is not None and kept["number"] == exc.number:
            return redirect(url_for("public.receipt"), code=303)
        return _form_page(case_type, form.identity_mode, values=values, general=exc.message(lang), status=409)
    except FilingTokenInvalid as exc:  # missing, expired or altered: a new token with the form as it was
        return _form_page(case_type, form.identity_mode, values=values, general=exc.message(lang), status=422)
    except ValidationFailed as exc:
        return _form_page(
            case_type, form.identity_mode, values=values, errors=exc.field_errors(lang), token=token, status=422
        )
    not_attached = _attach_all(engine, created.receipt_code, sent_files, lang)
    security.remember_receipt(created.number, created.receipt_code, case_type)
    security.remember_not_attached(not_attached)
    return redirect(url_for("public.receipt"), code=303)


def _attach_all(engine: WbsEngine, code: str, uploads: list[tuple[str, Any]], lang: str) -> list[str]:
    """Attach the screened files to the new case as its reporter; what could still not be attached (the
    case exists and keeps its code whatever happens here) is returned as lines for the receipt page."""
    if not uploads:
        return []
    from wbs_engine.db import unit_of_work

    with unit_of_work(engine.db, write=False) as s:
        actor, case = engine.reporter(s, code)
        number = case.number
    problems = []
    for name, stream in uploads:
        try:
            files.attach(engine, number, actor, name, stream)
        except WbsError as exc:
            problems.append(render(_("{file}: {problem}"), lang, file=name, problem=exc.message(lang)))
    return problems


@bp.get("/tanda-terima")
def receipt():  # type: ignore[no-untyped-def]
    kept = security.receipt()
    if kept is None:
        return render_template("receipt_gone.html"), 404
    defn = wbs().registry.latest(kept["type"]).definition if kept["type"] in wbs().registry.keys else None
    return render_template(
        "receipt.html",
        number=kept["number"],
        code=kept["code"],
        type_label=defn.label.get(page_lang()) if defn else "",
        not_attached=session.get("not_attached") or [],
        with_text=receipts.includes_text_by_default(wbs(), kept["code"]),
        proof_url=url_for("public.proof"),
    )


def proof_download(code: str) -> Response:
    """The signed proof of filing of the case whose tracking code is ``code``, as a download. The code
    comes from the sealed session (receipt or tracking), never from the request."""
    include = request.form.get(PROOF_TEXT_INPUT) == "1"
    pdf = receipts.proof_of_filing(wbs(), code, page_lang(), include_text=include)
    headers = {
        # a neutral name: the number's prefix would tell what kind of report it is (WBS-…)
        "Content-Disposition": 'attachment; filename="bukti-penerimaan.pdf"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(pdf, mimetype="application/pdf", headers=headers)


@bp.post("/tanda-terima/bukti")
def proof():  # type: ignore[no-untyped-def]
    kept = security.receipt()
    if kept is None:
        return render_template("receipt_gone.html"), 404
    return proof_download(kept["code"])


@bp.route("/verifikasi", methods=["GET", "POST"])
def verify():  # type: ignore[no-untyped-def]
    """Is a proof of filing genuine, and does the office's trail hold what it says? A QR code's link
    (GET with the statement in the query) or an uploaded PDF (POST)."""
    lang = page_lang()
    check, error = None, None
    asked = request.method == "POST" or "s" in request.args
    if asked and not security.proof_throttle().attempt():  # every check counts, genuine ones too
        msg = render(_("Too many checks from here. Wait a few minutes, then try again."), lang)
        return render_template("verify.html", check=None, error=msg), 429
    if request.method == "POST":
        upload = request.files.get(PROOF_FILE_INPUT)
        if upload is None or not upload.filename:
            error = render(_("choose the PDF file of the proof"), lang)
        else:
            check = receipts.verify_proof(wbs(), upload.stream.read(receipts.MAX_PROOF_BYTES + 1))
    elif asked:
        check = receipts.verify_link(wbs(), request.args)
    result = check.to_dict(lang) if check is not None else None
    status = 422 if error else 200
    return render_template("verify.html", check=result, error=error), status


@bp.post("/tanda-terima/selesai")
def receipt_done():  # type: ignore[no-untyped-def]
    security.forget_receipt()
    session.pop("not_attached", None)
    return redirect(url_for("public.index"), code=303)
