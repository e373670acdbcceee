"""The public statistics page (``/statistik``): what the office publishes about its integrity processes, from
:func:`wbs_engine.statistics.public_statistics` (no count under five, no personal data, no free text), with
the latest signed audit head and the office's public key to keep. Public: everyone may see it
(``@public_endpoint``); server-rendered, charts as SVG in the page, no JavaScript.

``?tahun=`` chooses the year (digits only; anything else, or a year outside the range, is the engine's
:class:`~wbs_engine.errors.ValidationFailed`: one clear message, status 422); ``?lang=en`` the language."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request

from wbs_engine.errors import ValidationFailed
from wbs_engine.i18n import Msg
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.statistics import public_statistics

from .auth import public_endpoint
from .i18n import page_lang

bp = Blueprint("statistik", __name__)
YEAR_INPUT = "tahun"


def _year() -> int | None:
    raw = request.args.get(YEAR_INPUT, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
        raise ValidationFailed({YEAR_INPUT: Msg(_("must be a year, such as {example}"), example=2026)})
    return int(raw)


@bp.get("/statistik")
@public_endpoint
def page():  # type: ignore[no-untyped-def]
    lang = page_lang()
    stats = public_statistics(current_app.extensions["wbs"], _year(), lang)
    return render_template("statistics.html", stats=stats)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
