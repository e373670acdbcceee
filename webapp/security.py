"""What keeps the public pages safe: the session and its key, security headers, the tracking session, the
throttle on wrong tracking codes, and an access log without addresses.

* **No secret in the repo or the database.** Flask's session key is derived from the office keyring
  (``Keyring.mac("web-session", …)``): the same on every worker of one office, different in every office,
  and it changes when the keyring is replaced.
* **The tracking code never sits in a cookie in the clear.** The session is signed, not encrypted, so the
  code a reporter signed in with is sealed with the office key before it goes into it (:func:`remember_code`);
  the session ends after :data:`TRACK_IDLE_MINUTES` idle, or at once with "leave".
* **Anonymous means anonymous.** No IP address or user agent of a request is stored or logged: the access
  log of ``wbs run`` prints ``-`` for the address (:class:`QuietRequestHandler`); the throttle keeps, in
  memory only and for at most :data:`THROTTLE_WINDOW`, a keyed hash of the address under a key made when the
  process starts and never written anywhere.
* **Headers**: a Content-Security-Policy with no inline script or style and no other origin,
  ``frame-ancestors 'none'``, ``Referrer-Policy: no-referrer``, ``X-Content-Type-Options: nosniff``; cookies
  ``HttpOnly`` and ``SameSite=Lax``, ``Secure`` when the office's address (``WBS_BASE_URL``) is https.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import secrets
import threading
import time
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request, session
from flask import Request as FlaskRequest
from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from wbs_engine.config import Settings
    from wbs_engine.crypto import Keyring

#: a tracking session ends after this many minutes without a request
TRACK_IDLE_MINUTES = 15
#: a receipt (case number and tracking code) stays on its page this long after filing, for the proof
RECEIPT_MINUTES = 30
#: wrong tracking codes: at most THROTTLE_TRIES per client in THROTTLE_WINDOW (seconds)
THROTTLE_TRIES = 5
THROTTLE_WINDOW = 600
#: proof checks (an upload or a QR link) per client in THROTTLE_WINDOW
PROOF_CHECKS = 30

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def config_for(settings: Settings, keyring: Keyring) -> dict[str, Any]:
    """Flask's settings for this office (the session key from the keyring; cookie flags; upload limit)."""
    secure = settings.base_url.lower().startswith("https://")
    return {
        "SECRET_KEY": keyring.mac("web-session", b"flask session and CSRF tokens"),
        "SESSION_COOKIE_NAME": "wbs_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        # how long a signed session is accepted: a filing form (its CSRF secret lives in the session) stays
        # valid as long as its token; the session cookie itself ends with the browser (never `permanent`),
        # and a tracking session ends after TRACK_IDLE_MINUTES idle whatever the cookie says
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=24),
        # the whole request: every file a case may take at the largest size, and the form around them
        "MAX_CONTENT_LENGTH": settings.max_attachments * settings.max_attachment_mb * 1024 * 1024 + 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 24 * 3600,  # a long report takes time to write
        "WTF_CSRF_SSL_STRICT": secure,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "WBS_SETTINGS": settings,
    }


def _headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    # pages that show a code, a case, or what a person typed (a form sent back with an error)
    private = ("tracking.", "public.receipt", "public.proof", "public.verify", "public.file")
    if request.endpoint and request.endpoint.startswith(private):
        h["Cache-Control"] = "no-store"  # a tracking page or a receipt must not stay in a shared cache
    return response


class Request(FlaskRequest):
    """Uploads are held in memory while a request is read, never in a temporary file: a report's
    attachment must not sit in clear in /tmp before it is sealed. The request size limit
    (``MAX_CONTENT_LENGTH``) bounds the memory."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):  # type: ignore[no-untyped-def]
        return io.BytesIO()


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.after_request(_headers)
    app.extensions["wbs_throttle"] = Throttle()
    app.extensions["wbs_proof_throttle"] = Throttle(tries=PROOF_CHECKS)


# --- the tracking session and the receipt -------------------------------------------------------------------


def _keyring() -> Keyring:
    return current_app.extensions["wbs"].keyring


def remember_code(code: str) -> None:
    """Sign the reporter in to their case: the code, sealed with the office key, in the session."""
    session["track"] = {"code": _keyring().seal_office(code), "seen": int(time.time())}


def tracked_code() -> str | None:
    """The tracking code of this session's case, or None (never signed in, left, or idle too long)."""
    track = session.get("track")
    if not isinstance(track, dict):
        return None
    seen = track.get("seen")
    if not isinstance(seen, int) or time.time() - seen > TRACK_IDLE_MINUTES * 60:
        session.pop("track", None)
        return None
    try:
        code = _keyring().open_office(track["code"])
    except Exception:  # a session sealed under another keyring, or damaged: signed out, nothing more
        session.pop("track", None)
        return None
    track["seen"] = int(time.time())
    session.modified = True
    return code if isinstance(code, str) else None


def forget_code() -> None:
    """Leave: the tracking session and any receipt still in this browser's session go (the next person at a
    shared computer must find neither the case nor its code)."""
    session.pop("track", None)
    session.pop("receipt", None)
    session.pop("not_attached", None)


def remember_receipt(number: str, code: str, case_type: str) -> None:
    """The receipt of a new filing, sealed whole: the cookie shows neither the code nor the case number or
    type (a cookie found on a shared computer must not say that someone reported, or what)."""
    sealed = {"number": number, "code": code, "type": case_type, "at": int(time.time())}
    session["receipt"] = _keyring().seal_office(sealed)


def remember_not_attached(lines: list[str]) -> None:
    """The files of this session's newest filing that could not be attached, for its receipt page; none: an
    earlier filing's lines go (they must never show on another case's receipt)."""
    if lines:
        session["not_attached"] = lines
    else:
        session.pop("not_attached", None)


def receipt() -> dict[str, str] | None:
    """The receipt of the case filed in this session (number, tracking code, type), while it lasts."""
    sealed = session.get("receipt")
    try:
        got = _keyring().open_office(sealed) if isinstance(sealed, str) else None
    except Exception:  # sealed under another keyring, or damaged
        got = None
    if not isinstance(got, dict) or time.time() - int(got.get("at") or 0) > RECEIPT_MINUTES * 60:
        session.pop("receipt", None)
        return None
    return {"number": str(got["number"]), "code": str(got["code"]), "type": str(got.get("type") or "")}


def forget_receipt() -> None:
    session.pop("receipt", None)


# --- the throttle on wrong tracking codes --------------------------------------------------------------------


class Throttle:
    """Attempts per client within a window, in memory only: wrong tracking codes, and proof checks (each
    reads a case's chain).

    A client is a keyed hash of its address under a random key of this process: nothing that could name
    an address is kept longer than the window, written, or logged. There is deliberately no cap over all
    clients: it would let a few addresses lock every reporter out. Several processes each keep their own
    counts (a tracking code has 80 random bits; the throttle slows guessing, it is not what stops it).

    :meth:`attempt` reserves an attempt before the check runs (so simultaneous guesses are counted, not all
    checked first); :meth:`succeeded` gives back the attempt of a right code."""

    def __init__(self, tries: int = THROTTLE_TRIES, window: int = THROTTLE_WINDOW):
        self.tries, self.window = tries, window
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._clients: dict[bytes, deque[float]] = {}

    def _client(self, key: str | None = None) -> bytes:
        # ``key``: count something else than the address (an account's name: sign-in), hashed the same way
        raw = ("k:" + key if key is not None else "a:" + (request.remote_addr or "")).encode()
        return hmac.new(self._key, raw, hashlib.sha256).digest()[:16]

    def _prune(self, now: float) -> None:
        edge = now - self.window
        for k in [k for k, q in self._clients.items() if not q or q[-1] < edge]:
            del self._clients[k]

    def attempt(self, key: str | None = None) -> bool:
        """Reserve an attempt for this client (or ``key``): False (and nothing reserved) when it has used them
        all."""
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            mine = self._clients.setdefault(self._client(key), deque())
            while mine and mine[0] < now - self.window:
                mine.popleft()
            if len(mine) >= self.tries:
                return False
            mine.append(now)
            return True

    def succeeded(self, key: str | None = None) -> None:
        """The attempt just reserved was a right code: it does not count against the client."""
        with self._lock:
            mine = self._clients.get(self._client(key))
            if mine:
                mine.pop()

    def exhausted(self, key: str | None = None) -> bool:
        """Has this client (or ``key``) used every attempt of the window (the next one is refused)?"""
        now = time.monotonic()
        with self._lock:
            mine = self._clients.get(self._client(key))
            return bool(mine) and len([t for t in mine if t >= now - self.window]) >= self.tries


def throttle() -> Throttle:
    """The throttle on wrong tracking codes."""
    return current_app.extensions["wbs_throttle"]


def proof_throttle() -> Throttle:
    """The throttle on proof checks (every check counts, genuine ones too)."""
    return current_app.extensions["wbs_proof_throttle"]


# --- the access log of `wbs run` -----------------------------------------------------------------------------


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler, logging without the client's address and without the
    query string: ``- - - [date] "GET /path" 200 -``. Only the log changes: the address still reaches the
    app (``request.remote_addr``, which the throttle needs, hashed and in memory only). A request line the
    server cannot parse is logged as its status alone, never as what was sent."""

    def log(self, type: str, message: str, *args: object) -> None:  # noqa: A002 (werkzeug's signature)
        getattr(logging.getLogger("werkzeug"), type)("- - - [%s] " + message, self.log_date_time_string(), *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "").split("?", 1)[0]  # a query may carry what a person typed
        command = getattr(self, "command", "") or "-"
        self.log("info", '"%s %s" %s %s', command, path, code, size)

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002
        # http.server logs the raw request line of a bad request ("Bad request syntax ('GET /?kode=…')")
        code = args[0] if args and isinstance(args[0], int) else "-"
        self.log("error", "bad request (%s)", code)

    def handle(self) -> None:
        try:
            super().handle()
        except Exception:  # socketserver would print the client's address with the traceback
            self.log("error", "request failed")
