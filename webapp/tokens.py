"""The page where a signed-in staff member makes, sees and revokes their own API tokens (``/staf/akun/token``).

A new token is shown once, in the answer to the form that made it (never put in the session, a URL or a
redirect: the session cookie is signed, not encrypted), with ``Cache-Control: no-store``. Everything else is
:mod:`wbs_engine.apitokens`: the page only passes the signed-in user along, so a user can neither list nor
revoke another's tokens here.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for

from wbs_engine import apitokens
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed
from wbs_engine.i18n import gettext_noop as _

from .auth import add_nav, current_actor
from .i18n import page_lang

bp = Blueprint("tokens", __name__, url_prefix="/staf/akun/token")

#: the lifetimes the form offers (days)
DAY_CHOICES = (30, 90, 180, 365)


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _when(value: datetime | None) -> str:
    if value is None:
        return "–"
    settings = wbs().settings
    return value.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M ") + settings.zone_label


def _page(
    *,
    made: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict | None = None,
    revoked: int | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    actor = current_actor()
    resp = current_app.make_response(
        (
            render_template(
                "staff/tokens.html",
                tokens=apitokens.list_tokens(wbs(), actor.username),
                made=made,
                errors=errors or {},
                form=form or {"name": "", "days": str(apitokens.DEFAULT_DAYS)},
                day_choices=DAY_CHOICES,
                revoked=revoked,
                when=_when,
                api_base=request.host_url.rstrip("/") + "/api/v1",
            ),
            status,
        )
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    revoked = request.args.get("dicabut", type=int)
    return _page(revoked=revoked)


@bp.post("/")
def create():  # type: ignore[no-untyped-def]
    form = {"name": request.form.get("name", ""), "days": request.form.get("days", "")}
    # (ASCII digits only: "²".isdigit() is true, and int("²") fails)
    days = int(form["days"]) if form["days"] in {str(d) for d in DAY_CHOICES} else None
    lang = page_lang()
    try:
        if days is None:
            raise ValidationFailed({"days": _("choose one of the lifetimes offered")})
        actor = current_actor()
        made = apitokens.create_token(wbs(), actor.username, form["name"], days=days, by=actor)
    except ValidationFailed as exc:
        return _page(errors=exc.field_errors(lang), form=form, status=422)
    return _page(made=made, status=201)


@bp.post("/<int(max=2147483647):token_id>/cabut")
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    actor = current_actor()
    apitokens.revoke_token(wbs(), actor.username, token_id, by=actor)
    return redirect(url_for("tokens.index", dicabut=token_id), code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_nav(app, "tokens.index", _("API tokens"), order=90)
