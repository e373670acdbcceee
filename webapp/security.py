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
import secrets
import threading
import time
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request, session
from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from wbs_engine.config import Settings
    from wbs_engine.crypto import Keyring

#: a tracking session ends after this many minutes without a request
TRACK_IDLE_MINUTES = 15
#: a receipt (case number and tracking code) stays on its page this long after filing, for the proof
RECEIPT_MINUTES = 30
#: wrong tracking codes: at most THROTTLE_TRIES per client in THROTTLE_WINDOW, and THROTTLE_GLOBAL for all
THROTTLE_TRIES = 5
THROTTLE_WINDOW = 600
THROTTLE_GLOBAL = 200
#: proof checks (an upload or a QR link): per client and for all in THROTTLE_WINDOW
PROOF_CHECKS = 30
PROOF_CHECKS_GLOBAL = 600

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
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=2),
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
    private = ("tracking.", "public.receipt", "public.proof", "public.verify")
    if request.endpoint and request.endpoint.startswith(private):
        h["Cache-Control"] = "no-store"  # a tracking page or a receipt must not stay in a shared cache
    return response


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.extensions["wbs_throttle"] = Throttle()
    app.extensions["wbs_proof_throttle"] = Throttle(tries=PROOF_CHECKS, total=PROOF_CHECKS_GLOBAL)


# --- the tracking session and the receipt -------------------------------------------------------------------


def _keyring() -> Keyring:
    return current_app.extensions["wbs"].keyring


def remember_code(code: str) -> None:
    """Sign the reporter in to their case: the code, sealed with the office key, in the session."""
    session.permanent = True
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
    session.pop("track", None)


def remember_receipt(number: str, code: str, case_type: str) -> None:
    session["receipt"] = {
        "number": number,
        "code": _keyring().seal_office(code),
        "type": case_type,
        "at": int(time.time()),
    }


def receipt() -> dict[str, str] | None:
    """The receipt of the case filed in this session (number, tracking code, type), while it lasts."""
    got = session.get("receipt")
    if not isinstance(got, dict) or time.time() - int(got.get("at") or 0) > RECEIPT_MINUTES * 60:
        session.pop("receipt", None)
        return None
    try:
        code = _keyring().open_office(got["code"])
    except Exception:
        session.pop("receipt", None)
        return None
    return {"number": str(got["number"]), "code": str(code), "type": str(got.get("type") or "")}


def forget_receipt() -> None:
    session.pop("receipt", None)


# --- the throttle on wrong tracking codes --------------------------------------------------------------------


class Throttle:
    """Attempts per client and in all within a window, in memory only: wrong tracking codes, and proof
    checks (each reads a case's chain).

    A client is a keyed hash of its address under a random key of this process: nothing that could name
    an address is kept longer than the window, written, or logged. Several processes each keep their own
    (a tracking code has 80 random bits; the throttle slows guessing, it is not what stops it)."""

    def __init__(self, tries: int = THROTTLE_TRIES, window: int = THROTTLE_WINDOW, total: int = THROTTLE_GLOBAL):
        self.tries, self.window, self.total = tries, window, total
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._clients: dict[bytes, deque[float]] = {}
        self._all: deque[float] = deque()

    def _client(self) -> bytes:
        addr = (request.remote_addr or "").encode()
        return hmac.new(self._key, addr, hashlib.sha256).digest()[:16]

    def _prune(self, now: float) -> None:
        edge = now - self.window
        while self._all and self._all[0] < edge:
            self._all.popleft()
        for k in [k for k, q in self._clients.items() if not q or q[-1] < edge]:
            del self._clients[k]

    def blocked(self) -> bool:
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            mine = self._clients.get(self._client())
            tries = sum(1 for t in mine if t >= now - self.window) if mine else 0
            return tries >= self.tries or len(self._all) >= self.total

    def failed(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._clients.setdefault(self._client(), deque()).append(now)
            self._all.append(now)


def throttle() -> Throttle:
    """The throttle on wrong tracking codes."""
    return current_app.extensions["wbs_throttle"]


def proof_throttle() -> Throttle:
    """The throttle on proof checks (every check counts, genuine ones too)."""
    return current_app.extensions["wbs_proof_throttle"]


# --- the access log of `wbs run` -----------------------------------------------------------------------------


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler with ``-`` for the client's address in every log line."""

    def address_string(self) -> str:
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]  # a query may carry what a person typed
        self.log("info", '"%s %s" %s %s', self.command, path, code, size)
