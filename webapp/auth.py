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
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
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
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render
from wbs_engine.permissions import Actor

from .i18n import page_lang

bp = Blueprint("auth", __name__, url_prefix="/staf")

#: blueprints whose every route is public (they guard themselves with the tracking session)
PUBLIC_BLUEPRINTS = frozenset({"public", "tracking"})
#: single endpoints open to everyone
PUBLIC_ENDPOINTS = frozenset({"static", "healthz"})
#: the JSON API's endpoints start with this; they need a token instead of a session
API_BLUEPRINT = "api"

SESSION_KEY = "staff"


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
        return redirect(url_for("auth.sign_in", next=_local_path()), code=303)
    if current_user.info.pending_second_factor and not getattr(
        current_app.view_functions.get(endpoint), "wbs_second_factor", False
    ):
        return redirect(url_for("auth.second_factor"), code=303)
    g.wbs_actor = current_user.actor
    return None


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


# --- views ---------------------------------------------------------------------------------------------------


@bp.get("/masuk")
@public_endpoint
def sign_in():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and not current_user.info.pending_second_factor:
        return redirect(safe_next(request.args.get("next")), code=303)
    return render_template("staff/sign_in.html", next=safe_next(request.args.get("next")), error=None)


@bp.post("/masuk")
@public_endpoint
def sign_in_post():  # type: ignore[no-untyped-def]
    user = accounts.check_password(wbs(), request.form.get("username", ""), request.form.get("password", ""))
    target = safe_next(request.form.get("next"))
    if user is None:
        error = render(_("The user name or password is wrong, or the account is not active."), page_lang())
        return render_template("staff/sign_in.html", next=target, error=error), 401
    start_session(accounts.open_session(wbs(), user))
    return redirect(target, code=303)


@bp.get("/faktor-kedua")
def second_factor():  # type: ignore[no-untyped-def]
    return redirect(url_for("auth.home"), code=303)


second_factor.wbs_second_factor = True  # type: ignore[attr-defined]


@bp.post("/keluar")
def sign_out():  # type: ignore[no-untyped-def]
    end_session()
    return redirect(url_for("auth.sign_in"), code=303)


sign_out.wbs_second_factor = True  # type: ignore[attr-defined]


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
    app.register_blueprint(bp)
    add_nav(app, "auth.home", _("Home"), order=0)

    @app.context_processor
    def staff_context() -> dict[str, Any]:
        return {"staff_user": current_user if current_user.is_authenticated else None, "staff_nav": nav_links}
