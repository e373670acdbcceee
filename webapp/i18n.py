"""The page language: Bahasa Indonesia by default, English on request, from the engine's one catalogue.

``?lang=en`` (or ``id``) switches and is remembered in a cookie (``lang``, one year, nothing else in it);
every page has the switch. Flask-Babel selects the locale and gives templates ``_()`` and ``{% trans %}``;
its translations are the bytes of the engine's catalogue (:func:`wbs_engine.i18n.catalogue_bytes`), so a
checkout whose ``.mo`` files are missing or older than the ``.po`` still speaks both languages.
"""

from __future__ import annotations

import io
from functools import lru_cache
from urllib.parse import urlencode

from babel.support import NullTranslations, Translations
from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, Domain, get_locale

from wbs_engine.i18n import DEFAULT_LOCALE, LOCALES, catalogue_bytes, lang_of

COOKIE = "lang"


@lru_cache(maxsize=len(LOCALES))
def _translations(lang: str) -> NullTranslations:
    data = catalogue_bytes(lang)
    return Translations(io.BytesIO(data)) if data is not None else NullTranslations()


class CatalogueDomain(Domain):
    """Flask-Babel's domain reading the engine's catalogue instead of a folder of ``.mo`` files."""

    def get_translations(self) -> NullTranslations:
        return _translations(lang_of(str(get_locale() or DEFAULT_LOCALE)))


def page_lang() -> str:
    """This request's language: ``?lang=``, else the cookie, else Bahasa Indonesia."""
    if "wbs_lang" not in g:
        asked = request.args.get("lang") or request.cookies.get(COOKIE)
        g.wbs_lang = lang_of(asked)
    return g.wbs_lang


def switch_url(lang: str) -> str:
    """This page in ``lang`` (same path and query, ``lang`` replaced). Always a path on this site: an
    unknown address (``/\\evil.example/…`` would read as another host to a browser) switches on the start
    page instead."""
    if request.endpoint is None or request.endpoint == "static":
        return "/?" + urlencode([("lang", lang)])
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return "/" + request.path.lstrip("/\\") + "?" + urlencode(args)


def _remember(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked in LOCALES and request.cookies.get(COOKIE) != asked:
        secure = request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, httponly=True, samesite="Lax", secure=secure)
    return response


def init_app(app: Flask) -> None:
    babel = Babel(app, locale_selector=page_lang, default_locale=DEFAULT_LOCALE)
    babel.domain_instance = CatalogueDomain()  # type: ignore[misc]
    app.after_request(_remember)

    @app.context_processor
    def languages() -> dict:
        lang = page_lang()
        other = "en" if lang == DEFAULT_LOCALE else DEFAULT_LOCALE
        names = {"id": "Bahasa Indonesia", "en": "English"}
        return {"lang": lang, "other_lang": other, "other_lang_name": names[other], "switch_url": switch_url}
