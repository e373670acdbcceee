"""The reporter's pages: sign in with the tracking code, follow the case, talk to the office, answer its
questions, add files, and leave.

What the page shows is :func:`wbs_engine.tracking.tracking_view` and nothing else (no staff name, no internal
field). The code is asked once and kept sealed in the session (:mod:`webapp.security`) until the reporter
leaves or is idle for :data:`~webapp.security.TRACK_IDLE_MINUTES`; a wrong code gets the same answer whether
or not such a case exists, and wrong codes are throttled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, render_template, request, stream_with_context, url_for

from wbs_engine import files, receipts, survey
from wbs_engine.db import unit_of_work
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import NotFound, ValidationFailed, WbsError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render
from wbs_engine.permissions import Actor
from wbs_engine.tracking import tracking_view

from . import security
from .i18n import page_lang
from .public import proof_download

bp = Blueprint("tracking", __name__, url_prefix="/lacak")

CODE_INPUT = "kode"
MESSAGE_INPUT = "pesan"
FILES_INPUT = "lampiran"


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _sign_in_page(error: str | None = None, status: int = 200, note: str | None = None):  # type: ignore[no-untyped-def]
    return render_template("track_sign_in.html", error=error, note=note), status


@bp.get("/")
def sign_in():  # type: ignore[no-untyped-def]
    if security.tracked_code() is not None:
        return redirect(url_for("tracking.case"), code=303)
    note = None
    if request.args.get("habis"):
        note = render(_("Your tracking session ended. Enter your tracking code again."), page_lang())
    return _sign_in_page(note=note)


@bp.post("/")
def sign_in_post():  # type: ignore[no-untyped-def]
    lang = page_lang()
    throttle = security.throttle()
    if not throttle.attempt():  # reserved before the check: simultaneous guesses count too
        return _sign_in_page(render(_("Too many wrong codes. Wait a few minutes, then try again."), lang), 429)
    code = (request.form.get(CODE_INPUT) or "").strip()[:64]
    try:
        with unit_of_work(wbs().db, write=False) as s:
            wbs().reporter(s, code)
    except NotFound as exc:
        return _sign_in_page(exc.message(lang), 404)
    throttle.succeeded()
    security.forget_receipt()  # a new sign-in on this browser: no receipt of an earlier filing stays
    security.remember_code(code)
    return redirect(url_for("tracking.case"), code=303)


def _reporter() -> tuple[str, Actor, str] | None:
    """(tracking code, reporter actor, case number) of this session, or None when signed out."""
    code = security.tracked_code()
    if code is None:
        return None
    try:
        with unit_of_work(wbs().db, write=False) as s:
            actor, case = wbs().reporter(s, code)
            return code, actor, case.number
    except NotFound:  # the case's data key was destroyed, or the code no longer exists
        security.forget_code()
        return None


@dataclass(frozen=True)
class Reporter:
    """Who this tracking session is: their code, the reporter actor and the case number."""

    code: str
    actor: Actor
    number: str


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view runs for a signed-in reporter (passed as ``who``); anyone else goes to the sign-in page,
    told that the session ended."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        who = _reporter()
        if who is None:
            return redirect(url_for("tracking.sign_in", habis=1), code=303)
        return view(Reporter(*who), *args, **kwargs)

    return guarded


def _case_page(code: str, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
               notice: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    lang = page_lang()
    view = tracking_view(wbs(), code, lang)
    form = survey.survey_form(wbs(), code, lang) if view["survey"]["available"] else None
    return (
        render_template(
            "track_case.html",
            view=view,
            survey_form=form,
            with_text=receipts.includes_text_by_default(wbs(), code),
            proof_url=url_for("tracking.proof"),
            errors=errors or {},
            values=values or {},
            notice=notice,
            may_attach=not view["final"],
        ),
        status,
    )


@bp.get("/perkara")
@signed_in
def case(who: Reporter):  # type: ignore[no-untyped-def]
    notice = request.args.get("ok")
    shown = None
    if notice == "pesan":
        shown = render(_("Your message was sent to the office."), page_lang())
    elif notice == "aksi":
        shown = render(_("Thank you; the office has received it."), page_lang())
    elif notice == "lampiran":
        shown = render(_("The file was attached."), page_lang())
    elif notice == "survei":
        shown = render(_("Thank you for rating how your report was handled."), page_lang())
    return _case_page(who.code, notice=shown)


@bp.post("/pesan")
@signed_in
def message(who: Reporter):  # type: ignore[no-untyped-def]
    code, actor, number = who.code, who.actor, who.number
    body = request.form.get(MESSAGE_INPUT, "")
    try:
        wbs().post_message(number, actor, body)
    except ValidationFailed as exc:
        errors = {MESSAGE_INPUT: "; ".join(exc.field_errors(page_lang()).values())}
        return _case_page(code, errors=errors, values={MESSAGE_INPUT: body}, status=422)
    return redirect(url_for("tracking.case", ok="pesan"), code=303)


@bp.post("/aksi/<trigger>")
@signed_in
def action(who: Reporter, trigger: str):  # type: ignore[no-untyped-def]
    code, actor, number = who.code, who.actor, who.number
    lang = page_lang()
    view = tracking_view(wbs(), code, lang)
    wanted = next((a for a in view["actions"] if a["trigger"] == trigger), None)
    if wanted is None:  # not one of the reporter's actions in this state (an edited or stale form)
        stale = _("This step is no longer possible; the page shows the case as it is now.")
        return _case_page(code, notice=render(stale, lang), status=409)
    values = {f["name"]: request.form.get(f["name"], "") for f in wanted["fields"]}
    data = {k: v for k, v in values.items() if v.strip()}
    try:
        wbs().fire(number, trigger, actor, data)
    except ValidationFailed as exc:
        return _case_page(code, errors=exc.field_errors(lang), values=values, status=422)
    except WbsError as exc:
        return _case_page(code, notice=exc.message(lang), status=exc.status)
    return redirect(url_for("tracking.case", ok="aksi"), code=303)


@bp.post("/lampiran")
@signed_in
def attach(who: Reporter):  # type: ignore[no-untyped-def]
    code, actor, number = who.code, who.actor, who.number
    upload = request.files.get(FILES_INPUT)
    lang = page_lang()
    if upload is None or not upload.filename:
        return _case_page(code, errors={FILES_INPUT: render(_("choose a file"), lang)}, status=422)
    try:
        files.attach(wbs(), number, actor, upload.filename, upload.stream)
    except ValidationFailed as exc:
        return _case_page(code, errors={FILES_INPUT: "; ".join(exc.field_errors(lang).values())}, status=422)
    return redirect(url_for("tracking.case", ok="lampiran"), code=303)


@bp.get("/lampiran/<int(max=2147483647):attachment_id>")
@signed_in
def download(who: Reporter, attachment_id: int):  # type: ignore[no-untyped-def]
    actor, number = who.actor, who.number
    info, chunks = files.open_attachment(wbs(), number, attachment_id, actor)
    name = info.filename or f"lampiran-{attachment_id}"
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(info.size),
    }
    return Response(stream_with_context(chunks), mimetype=info.content_type, headers=headers)


@bp.post("/survei")
@signed_in
def rate(who: Reporter):  # type: ignore[no-untyped-def]
    code = who.code
    lang = page_lang()
    form = survey.survey_form(wbs(), code, lang)
    if form is None:  # closed meanwhile? rated already (a second tab)? the page says why
        return _case_page(code, status=409)
    answers = {e.key: request.form.get(e.key, "") for e in form.elements}
    comment = request.form.get(form.comment_field, "")
    try:
        survey.rate_case(wbs(), code, answers, comment)
    except ValidationFailed as exc:
        return _case_page(code, errors=exc.field_errors(lang), values={**answers, form.comment_field: comment},
                          status=422)
    return redirect(url_for("tracking.case", ok="survei"), code=303)


@bp.post("/bukti")
@signed_in
def proof(who: Reporter):  # type: ignore[no-untyped-def]
    return proof_download(who.code)


@bp.post("/keluar")
def leave():  # type: ignore[no-untyped-def]
    security.forget_code()
    return redirect(url_for("tracking.sign_in"), code=303)
