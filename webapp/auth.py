"""Staff sign-in and **deny by default**.

Every route needs a signed-in staff user unless it is on the short public allow-list: the public and
tracking blueprints (the reporter's pages, which carry their own tracking session), the static files, the
health check, and the views marked :func:`public_endpoint` (the sign-in pages, the API's description).
The JSON API (``/api/v1``) is not public either: its views need a personal token, checked here as well, by
the authenticator the API registers in ``app.extensions["wbs_api_auth"]``. A route added without thinking is
closed, and ``tests/web/test_routes.py`` walks ``app.url_map`` and fails on a route that is neither.

The session is a server-side row (:mod:`wbs_engine.accounts`): the signed cookie carries its random id only;
sign-in starts a new cookie (nothing of the visitor's earlier session survives), sign-out is a POST that ends
the row. flask-login's own "session protection" is off (it keys on the address and browser, and its strong
mode would wipe a public visitor's session); the row is what protects.

**Second factor**: after the password, a user who has a TOTP second factor, or holds a role that must
(:func:`wbs_engine.accounts.needs_second_factor`), gets a *pending* session: the guard lets it reach only the
views marked ``wbs_second_factor = True`` (the code page, the enrolment page, sign-out) and sends it to the
code page (enrolled) or the enrolment page (not yet). The right code, or a confirmed enrolment, opens a new
full session (a new cookie and row). **Throttling**: :data:`ACCOUNT_TRIES` failures (password or code) per
account name and :data:`ADDRESS_TRIES` per address within :data:`THROTTLE_WINDOW` seconds lock sign-in for the
rest of the window, with the same message whether or not the account exists (in memory, per process; the
address only as a keyed hash: :class:`webapp.security.Throttle`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from wbs_engine import accounts
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ValidationFailed
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render
from wbs_engine.permissions import Actor
from wbs_engine.roles import ROLES

from .i18n import page_lang
from .security import Throttle

bp = Blueprint("auth", __name__, url_prefix="/staf")

#: blueprints whose every route is public (they guard themselves with the tracking session)
PUBLIC_BLUEPRINTS = frozenset({"public", "tracking"})
#: single endpoints open to everyone
PUBLIC_ENDPOINTS = frozenset({"static", "healthz"})
#: the JSON API's endpoints start with this; they need a token instead of a session
API_BLUEPRINT = "api"

SESSION_KEY = "staff"
#: set in the session when a staff session ended by itself (idle, deactivated): the sign-in page says so
ENDED_KEY = "staff_ended"
#: where to go once the second factor is given
NEXT_KEY = "staff_next"
#: an enrolment in progress: the new secret sealed with the office key, and when it was made
SETUP_KEY = "totp_setup"
SETUP_MINUTES = 15
#: sign-in failures (password or code) per account name / per address within THROTTLE_WINDOW seconds
ACCOUNT_TRIES = 5
ADDRESS_TRIES = 20
THROTTLE_WINDOW = 15 * 60

GENERIC_PASSWORD_FAILURE = _("The user name or password is wrong, or the account is not active.")
GENERIC_CODE_FAILURE = _("The code is wrong, expired or already used.")
LOCKED = _("Too many failed sign-in attempts. Sign-in is paused for 15 minutes; try again later.")


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def public_endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as open to everyone (keep these few: the sign-in pages, the API's description)."""
    view.wbs_public = True  # type: ignore[attr-defined]
    return view


def is_public(app: Flask, endpoint: str | None) -> bool:
    if endpoint is None:
        return True  # no route matched: Flask answers 404/405 itself
    if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS:
        return True
    return bool(getattr(app.view_functions.get(endpoint), "wbs_public", False))


class StaffUser(UserMixin):
    """flask-login's user: the session id (its ``get_id``) and who it belongs to."""

    def __init__(self, token: str, info: accounts.SessionInfo):
        self.token, self.info = token, info

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> Actor:
        return self.info.actor

    @property
    def username(self) -> str:
        return self.info.actor.username

    @property
    def full_name(self) -> str:
        return self.info.full_name or self.info.actor.username

    def holds(self, *roles: str) -> bool:
        """Holds any of ``roles`` (for any unit and case type)."""
        return any(g.role in roles for g in self.actor.grants)


def current_actor() -> Actor:
    """The signed-in staff user (a session) or the API token's user, as the engine's :class:`Actor`."""
    actor = g.get("wbs_actor")
    if actor is None:
        abort(401)
    return actor


def requires_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view for holders of one of ``roles`` only (any unit, any case type); others get 403. What a user may
    see of one case is the engine's to decide (its permissions), not this decorator's."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if not any(gr.role in roles for gr in actor.grants):
                abort(403)
            return view(*args, **kwargs)

        inner.wbs_roles = roles  # type: ignore[attr-defined]
        return inner

    return wrap


def _load(token: str) -> StaffUser | None:
    info = accounts.session_info(wbs(), token)
    return StaffUser(token, info) if info is not None else None


def _guard():  # type: ignore[no-untyped-def]
    """Deny by default (runs before every view)."""
    endpoint = request.endpoint
    if is_public(current_app, endpoint):
        return None
    if endpoint.split(".", 1)[0] == API_BLUEPRINT:
        authenticate = current_app.extensions.get("wbs_api_auth")
        actor = authenticate() if authenticate is not None else None
        if actor is None:
            return _api_refusal()
        g.wbs_actor = actor
        return None
    if not current_user.is_authenticated:
        if session.pop(SESSION_KEY, None) is not None:  # the cookie named a session that has ended
            session[ENDED_KEY] = True
        return redirect(url_for("auth.sign_in", next=_local_path()), code=303)
    if current_user.info.pending_second_factor and not getattr(
        current_app.view_functions.get(endpoint), "wbs_second_factor", False
    ):
        step = "auth.second_factor" if current_user.info.totp_enrolled else "auth.enrol"
        return redirect(url_for(step), code=303)
    g.wbs_actor = current_user.actor
    return None


def second_factor_step(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as reachable by a pending session (password given, second factor not yet)."""
    view.wbs_second_factor = True  # type: ignore[attr-defined]
    return view


def _api_refusal():  # type: ignore[no-untyped-def]
    lang = page_lang()
    body = {"code": "unauthorized", "params": {}, "message": render(_("A valid API token is required."), lang)}
    resp = jsonify(body)
    resp.status_code = 401
    resp.headers["WWW-Authenticate"] = 'Bearer realm="wbs"'
    return resp


def _local_path() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else request.path


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not target or not isinstance(target, str):
        return url_for("auth.home")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):  # a line break would end the Location header
        return url_for("auth.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("auth.home")
    return target


def start_session(token: str) -> None:
    """A fresh cookie for a new session: nothing of the visitor's earlier session (a tracking code, a form's
    CSRF secret) is kept, then flask-login remembers the session id."""
    session.clear()
    session[SESSION_KEY] = token
    info = accounts.session_info(wbs(), token)
    if info is None:  # ended between opening and now (an admin deactivated the account)
        abort(403)
    login_user(StaffUser(token, info))


def end_session() -> None:
    token = current_user.get_id() if current_user.is_authenticated else session.get(SESSION_KEY)
    accounts.close_session(wbs(), token)
    logout_user()
    session.clear()


# --- throttling ----------------------------------------------------------------------------------------------


def _throttles() -> tuple[Throttle, Throttle]:
    return current_app.extensions["wbs_sign_in_throttles"]


def _account_key(typed: str) -> str:
    return (typed if isinstance(typed, str) else "").strip().lower()[:200]


def _reserve(typed: str) -> bool:
    """An attempt for this account name and this address; False when either is locked."""
    per_account, per_address = _throttles()
    key = _account_key(typed)
    if not per_account.attempt(key):
        return False
    if not per_address.attempt():
        per_account.succeeded(key)
        return False
    return True


def _give_back(typed: str) -> None:
    per_account, per_address = _throttles()
    per_account.succeeded(_account_key(typed))
    per_address.succeeded()


def _failed(typed: str, step: str) -> None:
    """Record a failure (event), and the lock-out it starts, if it fills a window."""
    per_account, per_address = _throttles()
    accounts.record_failure(wbs(), typed, step)
    if per_account.exhausted(_account_key(typed)):
        accounts.record_lockout(wbs(), typed, "account")
    elif per_address.exhausted():
        accounts.record_lockout(wbs(), None, "address")


def _no_store(resp: Any) -> Response:
    resp = current_app.make_response(resp)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --- views ---------------------------------------------------------------------------------------------------


def _sign_in_page(status: int = 200, error: str | None = None, next_url: str | None = None):  # type: ignore[no-untyped-def]
    ended = session.pop(ENDED_KEY, False) and error is None
    note = (
        render(
            _("Your session has ended (after 30 minutes without activity, or it was closed). Sign in again."),
            page_lang(),
        )
        if ended
        else None
    )
    target = next_url or safe_next(request.args.get("next"))
    return render_template("staff/sign_in.html", next=target, error=error, note=note), status


@bp.get("/masuk")
@public_endpoint
def sign_in():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and not current_user.info.pending_second_factor:
        return redirect(safe_next(request.args.get("next")), code=303)
    return _sign_in_page()


@bp.post("/masuk")
@public_endpoint
def sign_in_post():  # type: ignore[no-untyped-def]
    typed = request.form.get("username", "")
    target = safe_next(request.form.get("next"))
    lang = page_lang()
    if not _reserve(typed):
        return _sign_in_page(429, render(LOCKED, lang), target)
    user = accounts.check_password(wbs(), typed, request.form.get("password", ""))
    if user is None:
        _failed(typed, "password")
        return _sign_in_page(401, render(GENERIC_PASSWORD_FAILURE, lang), target)
    _give_back(typed)
    if accounts.needs_second_factor(wbs(), user):
        start_session(accounts.open_session(wbs(), user, pending_second_factor=True))
        session[NEXT_KEY] = target
        step = "auth.second_factor" if user.totp_secret_enc is not None else "auth.enrol"
        return redirect(url_for(step), code=303)
    start_session(accounts.open_session(wbs(), user))
    return redirect(target, code=303)


def _pending() -> bool:
    return current_user.is_authenticated and current_user.info.pending_second_factor


@bp.get("/faktor-kedua")
@second_factor_step
def second_factor():  # type: ignore[no-untyped-def]
    if not _pending():
        return redirect(url_for("auth.home"), code=303)
    if not current_user.info.totp_enrolled:
        return redirect(url_for("auth.enrol"), code=303)
    return render_template("staff/second_factor.html", error=None)


@bp.post("/faktor-kedua")
@second_factor_step
def second_factor_post():  # type: ignore[no-untyped-def]
    if not _pending():
        return redirect(url_for("auth.home"), code=303)
    lang = page_lang()
    username = current_user.username
    if not _reserve(username):
        return render_template("staff/second_factor.html", error=render(LOCKED, lang)), 429
    token = accounts.finish_sign_in(wbs(), current_user.get_id(), request.form.get("code", ""))
    if token is None:
        _failed(username, "code")
        return render_template("staff/second_factor.html", error=render(GENERIC_CODE_FAILURE, lang)), 401
    _give_back(username)
    target = safe_next(session.get(NEXT_KEY))
    start_session(token)
    return redirect(target, code=303)


def _setup_secret(fresh: bool = False) -> str:
    """The secret of the enrolment in progress in this session (a new one when none, or too old)."""
    keyring = wbs().keyring
    sealed = session.get(SETUP_KEY)
    got = None
    if isinstance(sealed, str) and not fresh:
        try:
            got = keyring.open_office(sealed)
        except Exception:  # sealed under another keyring, or damaged: start again
            got = None
    if (
        not isinstance(got, dict)
        or got.get("user") != current_user.username
        or time.time() - got.get("at", 0) > SETUP_MINUTES * 60
    ):
        got = {"secret": accounts.new_totp_secret(), "user": current_user.username, "at": int(time.time())}
        session[SETUP_KEY] = keyring.seal_office(got)
    return str(got["secret"])


def _enrol_page(status: int = 200, errors: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    secret = _setup_secret()
    uri = accounts.provisioning_uri(wbs(), current_user.username, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "staff/enrol.html",
        qr=qr,
        secret=grouped,
        errors=errors or {},
        renewing=current_user.info.totp_enrolled,
        pending=_pending(),
    )
    return _no_store((page, status))


@bp.get("/akun/faktor-kedua")
@second_factor_step
def enrol():  # type: ignore[no-untyped-def]
    if _pending() and current_user.info.totp_enrolled:
        return redirect(url_for("auth.second_factor"), code=303)
    return _enrol_page()


@bp.post("/akun/faktor-kedua")
@second_factor_step
def enrol_post():  # type: ignore[no-untyped-def]
    if _pending() and current_user.info.totp_enrolled:
        return redirect(url_for("auth.second_factor"), code=303)
    lang = page_lang()
    try:
        codes = accounts.enrol_totp(
            wbs(),
            current_user.username,
            _setup_secret(),
            request.form.get("code", ""),
            current_code=request.form.get("current_code", ""),
        )
    except ValidationFailed as exc:
        return _enrol_page(422, exc.field_errors(lang))
    session.pop(SETUP_KEY, None)
    target = url_for("auth.account")
    if _pending():
        target = safe_next(session.get(NEXT_KEY))
        token = accounts.promote_session(wbs(), current_user.get_id(), "totp")
        if token is None:
            abort(403)
        start_session(token)
    return _no_store(render_template("staff/recovery_codes.html", codes=codes, target=target))


@bp.post("/akun/kode-pemulihan")
def recovery_codes():  # type: ignore[no-untyped-def]
    try:
        codes = accounts.renew_recovery_codes(wbs(), current_user.username, request.form.get("code", ""))
    except ValidationFailed as exc:
        return _account_page(422, code_errors=exc.field_errors(page_lang()))
    return _no_store(render_template("staff/recovery_codes.html", codes=codes, target=url_for("auth.account")))


def _account_page(  # type: ignore[no-untyped-def]
    status: int = 200,
    *,
    password_errors: dict[str, str] | None = None,
    code_errors: dict[str, str] | None = None,
    note: str | None = None,
):
    view = accounts.account(wbs(), current_user.username)
    lang = page_lang()
    roles = [ROLES.get(r, {}).get(lang, r) for r in view.roles]
    page = render_template(
        "staff/account.html",
        view=view,
        roles=roles,
        password_errors=password_errors or {},
        code_errors=code_errors or {},
        note=note,
    )
    return _no_store((page, status))


@bp.get("/akun")
def account():  # type: ignore[no-untyped-def]
    return _account_page()


@bp.post("/akun/sandi")
def change_password():  # type: ignore[no-untyped-def]
    lang = page_lang()
    username = current_user.username
    if not _reserve(username):
        return _account_page(429, password_errors={"current": render(LOCKED, lang)})
    try:
        ended = accounts.change_password(
            wbs(),
            username,
            request.form.get("current", ""),
            request.form.get("new", ""),
            request.form.get("repeat", ""),
            keep_token=current_user.get_id(),
        )
    except ValidationFailed as exc:
        if "current" not in exc.errors:
            _give_back(username)
        else:  # a wrong current password is a guess at it: recorded as a sign-in failure (and lock-out)
            _failed(username, "password")
        return _account_page(422, password_errors=exc.field_errors(lang))
    _give_back(username)
    note = render(_("Your password was changed. Sessions ended elsewhere: {n}."), lang, n=ended)
    return _account_page(note=note)


@bp.post("/keluar")
@second_factor_step
def sign_out():  # type: ignore[no-untyped-def]
    end_session()
    return redirect(url_for("auth.sign_in"), code=303)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    return render_template("staff/home.html")


def add_nav(app: Flask, endpoint: str, label: str, *, roles: tuple[str, ...] = (), order: int = 50) -> None:
    """A link in the staff menu (``label`` a catalogue msgid), shown to holders of one of ``roles`` (everyone
    signed in when empty). Each blueprint adds its own links when it is registered."""
    app.extensions.setdefault("wbs_staff_nav", []).append((order, endpoint, label, tuple(roles)))
    app.extensions["wbs_staff_nav"].sort(key=lambda item: item[0])


def nav_links() -> list[tuple[str, str]]:
    """(url, label in the page's language) of the staff menu for the signed-in user."""
    if not current_user.is_authenticated or current_user.info.pending_second_factor:
        return []
    lang = page_lang()
    return [
        (url_for(endpoint), render(label, lang))
        for _order, endpoint, label, roles in current_app.extensions.get("wbs_staff_nav", [])
        if not roles or current_user.holds(*roles)
    ]


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.session_protection = None  # the server-side session row protects; see the module's text
    manager.login_view = "auth.sign_in"
    manager._session_identifier_generator = lambda: "-"  # no hash of the address and browser in the cookie
    manager.user_loader(_load)
    manager.init_app(app)
    app.before_request(_guard)
    app.extensions["wbs_sign_in_throttles"] = (
        Throttle(tries=ACCOUNT_TRIES, window=THROTTLE_WINDOW),
        Throttle(tries=ADDRESS_TRIES, window=THROTTLE_WINDOW),
    )
    app.register_blueprint(bp)
    add_nav(app, "auth.home", _("Home"), order=0)
    add_nav(app, "auth.account", _("My account"), order=90)

    @app.context_processor
    def staff_context() -> dict[str, Any]:
        return {"staff_user": current_user if current_user.is_authenticated else None, "staff_nav": nav_links}
