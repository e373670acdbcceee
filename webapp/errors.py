"""Every error a visitor can cause is a page in their language with the right status, never a traceback.

Engine errors (:class:`~wbs_engine.errors.WbsError`) carry their status and message; a missing or stale
CSRF token, a request too large, an unknown page and any other HTTP error get a page of their own; a bug is
a plain 500 page (the traceback goes to the log, which holds no address: webapp/security.py).
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from wbs_engine.errors import WbsError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from .i18n import page_lang

TITLES = {
    400: _("The request could not be understood"),
    403: _("Not allowed"),
    404: _("Page not found"),
    405: _("Not allowed this way"),
    409: _("Not possible now"),
    413: _("Too large"),
    422: _("Please check what you entered"),
    429: _("Too many attempts"),
    500: _("Something went wrong"),
}
TEXTS = {
    400: _("Go back, reload the page and try again."),
    404: _("The address does not lead to a page of this service."),
    405: _("Go back, reload the page and try again."),
    413: _("What you sent is larger than this service accepts; attach fewer or smaller files."),
    429: _("Wait a few minutes, then try again."),
    500: _("Nothing you sent was lost if you got a tracking code. Try again in a moment."),
}


def error_page(status: int, message: str | None = None):  # type: ignore[no-untyped-def]
    lang = page_lang()
    code = status if status in TITLES else (500 if status >= 500 else 400)
    title = render(TITLES[code], lang)
    text = message or (render(TEXTS[code], lang) if code in TEXTS else "")
    return render_template("error.html", title=title, message=text, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(WbsError)
    def engine_error(exc: WbsError):  # type: ignore[no-untyped-def]
        problem = getattr(exc, "problem", None)
        if problem:  # a damaged attachment: how, for the admin's log (never shown to who asked)
            app.logger.error("%s on %s: %s", exc.code, request.path, problem)
        return error_page(exc.status, exc.message(page_lang()))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        expired = _("The form has expired or was not sent from this site. Reload the page and send it again.")
        return error_page(400, render(expired, page_lang()))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return error_page(exc.code or 500)

    @app.errorhandler(Exception)
    def bug(exc: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error on %s", request.path)
        return error_page(500)

