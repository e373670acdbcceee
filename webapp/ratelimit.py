"""Abuse limits (Flask-Limiter): how many requests one client may make in a window, per kind of request.

The limits are settings (:class:`wbs_engine.config.RateLimits`, ``WBS_RATE_LIMIT_*``):

* ``filing``: POSTs of the public filing forms (``/lapor/<type>``), per address; and, counted apart, POSTs
  of an employee's own filing form (``/staf/laporan-saya/baru/<type>``), per signed-in account (an office's
  employees often share one address; an account is one person wherever they sign in from);
* ``tracking``: tracking-code look-ups (POST ``/lacak/``), right or wrong codes, per address. The throttle on
  *wrong* codes (:class:`webapp.security.Throttle`, a few per ten minutes) stays: this limit caps the rest;
* ``verify``: proof checks (``/verifikasi``, an upload or a QR link), per address, above the throttle of
  :data:`webapp.security.PROOF_CHECKS`;
* ``sign_in``: staff sign-in POSTs (password and second factor), successes too, per address. The per-account
  and per-address *failure* throttles of :mod:`webapp.auth` (with their audit events) stay; this limit caps
  the volume an address can send, whatever the outcome;
* ``api``: every ``/api/v1`` request, per token presented (per address without one); counted before the token
  is checked, so guessing tokens is limited too.

**No address is kept.** A client is a keyed hash (HMAC-SHA256, 128 bits) of its address or token. With the
default ``memory://`` storage the key is random, made when the process starts and never written, so the counts
are per process (each gunicorn worker counts on its own). With a shared storage (``redis://`` …) the workers
must agree on the key: it is derived from the office keyring, so the storage holds hashes that only a holder of
the keyring could test addresses against; they expire with the window. Flask-Limiter's own log is silenced
below WARNING (it names the hashed key on a breach).

A refused request is 429 with ``Retry-After`` (seconds) and a page in the visitor's language saying how long
to wait; under ``/api/v1`` the same as JSON ``{"code": "rate_limited", "message", "params": {"seconds"}}``.
A storage that cannot be reached lets requests through (logged): the intake must not stop with the limiter.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from wbs_engine.config import ConfigError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render

from . import errors
from .i18n import page_lang

if TYPE_CHECKING:
    from wbs_engine.config import RateLimits

#: the endpoints each limit applies to, and the methods counted (None: every method)
ENDPOINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "filing": (("public.file",), ("POST",)),
    "tracking": (("tracking.sign_in_post",), ("POST",)),
    "verify": (("public.verify",), None),
    "sign_in": (("auth.sign_in_post", "auth.second_factor_post"), ("POST",)),
}
#: the same limits counted per signed-in account instead of per address, each in a scope of its own
PER_ACCOUNT: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "filing": (("mine.file",), ("POST",)),
}
API_PREFIX = "/api/v1"

WAIT_SECONDS = _("Too many requests from here. Wait {n} seconds, then try again.")
WAIT_MINUTES = _("Too many requests from here. Wait {n} minutes, then try again.")


def _key() -> bytes:
    return current_app.extensions["wbs_rate_key"]


def _hashed(raw: str) -> str:
    return hmac.new(_key(), raw.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def address_key() -> str:
    """The client as a keyed hash of its address: never the address itself."""
    return "a:" + _hashed("a:" + (request.remote_addr or ""))


def account_key() -> str:
    """The signed-in account as a keyed hash of its id (the address when there is none: the sign-in guard
    refuses such a request anyway). A route's limit is checked when its view is called, after the guard."""
    user_id = getattr(g.get("wbs_actor"), "user_id", None)
    return "u:" + _hashed(f"u:{user_id}") if user_id is not None else address_key()


def api_key() -> str:
    """The client of an API request: a keyed hash of the token it presents, else of its address."""
    auth = request.headers.get("Authorization", "")
    return "t:" + _hashed("t:" + auth) if auth.strip() else address_key()


def _verify_asked() -> bool:
    # the page itself is not a check; an upload (POST) or a QR link (?s=…) is
    return not (request.method == "POST" or "s" in request.args)


def wait_seconds(exc: RateLimitExceeded | None = None) -> int:
    """Seconds until the limit that refused this request lets the client in again (at least 1)."""
    limiter: Limiter = current_app.extensions["wbs_limiter"]
    found = limiter.current_limit
    window = found.limit.get_expiry() if found is not None else (exc.limit.limit.get_expiry() if exc else 60)
    if found is None:
        return int(window)
    # (Flask-Limiter's reset_at is rounded up a second: the window's own end is used)
    return max(1, min(int(window), math.ceil(found.window[0] - time.time())))


def refused(exc: RateLimitExceeded) -> Response:
    """429: a page (or JSON under /api/v1) in the visitor's language, with Retry-After."""
    seconds = wait_seconds(exc)
    api = request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")
    if api:
        from .api import api_lang  # the API's own choice of language (?lang=, Accept-Language)

        lang = api_lang()
    else:
        lang = page_lang()
    minutes = math.ceil(seconds / 60)
    text = render(WAIT_MINUTES, lang, n=minutes) if seconds >= 120 else render(WAIT_SECONDS, lang, n=seconds)
    if api:
        resp = jsonify({"code": "rate_limited", "message": text, "params": {"seconds": seconds}})
        resp.status_code = 429
    else:
        resp = current_app.make_response(errors.error_page(429, text))
    resp.headers["Retry-After"] = str(seconds)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask, limits: RateLimits) -> Limiter:
    """Make the limiter (its check runs before every request, so call this before the sign-in guard is
    registered: a request refused here never reaches a token check)."""
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    wbs = app.extensions["wbs"]
    if limits.storage.startswith("memory://"):
        key = secrets.token_bytes(32)
    else:
        key = bytes.fromhex(wbs.keyring.mac("rate-limit", b"client addresses and tokens"))
    app.extensions["wbs_rate_key"] = key
    app.config["RATELIMIT_HEADERS_ENABLED"] = False  # Retry-After is set by `refused`
    try:
        limiter = Limiter(
            key_func=address_key,
            app=app,
            storage_uri=limits.storage,
            strategy="fixed-window",
            swallow_errors=True,
            default_limits=[],
        )
    except Exception as exc:  # a storage whose client package is missing: one clear error at start
        raise ConfigError(
            _("WBS_RATE_LIMIT_STORAGE cannot be used ({problem}); use memory:// or install its client package"),
            problem=type(exc).__name__,
        ) from None
    app.extensions["wbs_limiter"] = limiter
    app.register_error_handler(429, refused)
    return limiter


def apply(app: Flask, limits: RateLimits) -> None:
    """Put each configured limit on its views (after every blueprint is registered)."""
    limiter: Limiter = app.extensions["wbs_limiter"]
    for name, (endpoints, methods) in ENDPOINTS.items():
        value = getattr(limits, name)
        if not value:
            continue
        rule = limiter.shared_limit(
            value,
            scope=name,
            key_func=address_key,
            methods=list(methods) if methods else None,
            exempt_when=_verify_asked if name == "verify" else None,
        )
        for endpoint in endpoints:
            app.view_functions[endpoint] = rule(app.view_functions[endpoint])
    for name, (endpoints, methods) in PER_ACCOUNT.items():
        value = getattr(limits, name)
        if not value:
            continue
        rule = limiter.shared_limit(
            value, scope=f"{name}-account", key_func=account_key, methods=list(methods) if methods else None
        )
        for endpoint in endpoints:
            if endpoint in app.view_functions:
                app.view_functions[endpoint] = rule(app.view_functions[endpoint])
    if limits.api:
        from .api import bp as api_bp

        limiter.limit(limits.api, key_func=api_key, scope="api")(api_bp)
