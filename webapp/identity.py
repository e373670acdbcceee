"""Identity on request, in the staff web (blueprint ``identity``): ask, decide, withdraw; the approvers' list.

Every rule is the engine's (:mod:`wbs_engine.identity`): who may ask, who may decide, what an approval opens
and for how long. The views translate HTTP into those calls and back:

* ``GET /staf/perkara/<number>/identitas``: the case's identity panel on a page of its own (the case page of
  the staff web includes the same partial, ``staff/_identity_panel.html``, through the context function
  ``identity_panel(number)``);
* ``POST …/identitas/minta`` (reason ``alasan``), ``POST …/identitas/<id>/putuskan`` (``keputusan`` =
  ``setujui`` | ``tolak``, optional ``catatan``), ``POST …/identitas/<id>/tarik``: Post/Redirect/Get back to
  the page the form came from (``next``, a path on this site), or the panel's page; a reason that is too
  short comes back on the panel's page with what was typed and the error (422); a refusal is the error page
  with the engine's message and status;
* ``GET /staf/identitas``: the pending requests the signed-in user may decide (menu link for the roles that
  approve in any workflow).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for

from wbs_engine import identity, views
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed, WbsError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from .auth import add_nav, current_actor, safe_next
from .i18n import page_lang

bp = Blueprint("identity", __name__, url_prefix="/staf")

NOTICES = {
    "diminta": _("Your request was sent to the approvers."),
    "disetujui": _("The request was approved."),
    "ditolak": _("The request was refused."),
    "ditarik": _("Your request was withdrawn."),
}


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _back(number: str, done: str):  # type: ignore[no-untyped-def]
    if request.form.get("dari") == "daftar":  # from the approvers' list
        return redirect(url_for("identity.approvals", selesai=done), code=303)
    target = request.form.get("next")
    if target:
        return redirect(safe_next(target), code=303)
    return redirect(url_for("identity.case_page", number=number, selesai=done), code=303)


def case_url(number: str) -> str | None:
    """The staff case page, when the staff web has one (blueprint ``staff``, endpoint ``staff.case``)."""
    if "staff.case" not in current_app.view_functions:
        return None
    return url_for("staff.case", number=number)


def _case_page(number: str, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, status=200):  # type: ignore[no-untyped-def]
    lang = page_lang()
    info = identity.panel(wbs(), number, current_actor(), lang)
    # an approval in force: the identity itself, through the staff view (which records the showing)
    case = views.case_view(wbs(), number, current_actor(), lang) if info and info["granted_until"] else None
    notice = NOTICES.get(request.args.get("selesai", ""))
    return (
        render_template(
            "identity/case.html",
            number=number,
            panel=info,
            values=values or {},
            errors=errors or {},
            notice=render(notice, lang) if notice else None,
            case_link=case_url(number),
            case=case,
        ),
        status,
    )


@bp.get("/perkara/<number>/identitas")
def case_page(number: str):  # type: ignore[no-untyped-def]
    return _case_page(number)


@bp.post("/perkara/<number>/identitas/minta")
def ask(number: str):  # type: ignore[no-untyped-def]
    reason = request.form.get("alasan", "")
    try:
        identity.request_identity(wbs(), number, current_actor(), reason)
    except ValidationFailed as exc:
        return _case_page(number, values={"alasan": reason}, errors=exc.field_errors(page_lang()), status=422)
    return _back(number, "diminta")


@bp.post("/perkara/<number>/identitas/<int(max=2147483647):req_id>/putuskan")
def decide(number: str, req_id: int):  # type: ignore[no-untyped-def]
    choice = request.form.get("keputusan", "")
    note = request.form.get("catatan", "")
    if choice not in ("setujui", "tolak"):
        errors = {"keputusan": render(_("choose approve or refuse"), page_lang())}
        return _case_page(number, values={"catatan": note}, errors=errors, status=422)
    try:
        identity.decide_identity_request(wbs(), number, req_id, current_actor(), choice == "setujui", note)
    except ValidationFailed as exc:
        return _case_page(number, values={"catatan": note}, errors=exc.field_errors(page_lang()), status=422)
    return _back(number, "disetujui" if choice == "setujui" else "ditolak")


@bp.post("/perkara/<number>/identitas/<int(max=2147483647):req_id>/tarik")
def withdraw(number: str, req_id: int):  # type: ignore[no-untyped-def]
    identity.withdraw_identity_request(wbs(), number, req_id, current_actor())
    return _back(number, "ditarik")


@bp.get("/identitas")
def approvals():  # type: ignore[no-untyped-def]
    lang = page_lang()
    notice = NOTICES.get(request.args.get("selesai", ""))
    return render_template(
        "identity/approvals.html",
        pending=identity.pending_for_approver(wbs(), current_actor(), lang),
        notice=render(notice, lang) if notice else None,
    )


def identity_panel(number: str) -> dict[str, Any] | None:
    """For templates: the identity panel of case ``number`` for the signed-in user, or None (no requests on
    this type, nothing for this viewer, or a case they may not see: the case page refuses those itself)."""
    try:
        return identity.panel(wbs(), number, current_actor(), page_lang())
    except WbsError:
        return None


def approver_roles(engine: WbsEngine) -> tuple[str, ...]:
    """The roles that approve identity requests in any workflow (who gets the menu link)."""
    roles: set[str] = set()
    for key in engine.registry.keys:
        spec = identity.spec_of(engine.registry.latest(key).definition)
        if spec is not None:
            roles.update(spec.approvers)
    return tuple(sorted(roles))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    roles = approver_roles(app.extensions["wbs"])
    if roles:
        add_nav(app, "identity.approvals", _("Identity requests"), roles=roles, order=60)

    @app.context_processor
    def identity_context() -> dict[str, Any]:
        return {"identity_panel": identity_panel, "identity_case_url": case_url}
