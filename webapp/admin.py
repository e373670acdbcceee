"""The administrator's pages (``/staf/admin``): accounts and grants, units and their atasan, the office's days,
which roles must use a second factor, reply templates. Every view needs the ``admin`` role (403 otherwise) and
only calls :mod:`wbs_engine.admin`, which checks the role again, validates and writes the audit event.

A form with a problem is shown again with what was typed and a message per field (422); an engine refusal
(the last admin, one's own account) is shown on the page it came from (409). Passwords made here are shown
once, on the page that answers the POST (never stored in the session, never in a URL), with
``Cache-Control: no-store``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from wbs_engine import admin as ops
from wbs_engine.errors import NotFound, ValidationFailed, WbsError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render
from wbs_engine.roles import GRANTABLE_ROLES, ROLES

from .auth import add_nav, current_actor, requires_role, wbs
from .i18n import page_lang

bp = Blueprint("admin", __name__, url_prefix="/staf/admin")


@bp.after_request
def _no_store(resp):  # type: ignore[no-untyped-def]
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _lang() -> str:
    return page_lang()


def _role_names() -> list[tuple[str, str]]:
    lang = _lang()
    return [(r, ROLES[r].get(lang, r)) for r in GRANTABLE_ROLES]


def _case_types() -> list[tuple[str, str]]:
    eng = wbs()
    lang = _lang()
    return [(k, eng.registry.latest(k).definition.label.get(lang)) for k in eng.registry.keys]


def _note(msgid: str, **params: Any) -> str:
    return render(msgid, _lang(), **params)


def _form() -> dict[str, str]:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


# --- index ---------------------------------------------------------------------------------------------------


@bp.get("/")
@requires_role("admin")
def index():  # type: ignore[no-untyped-def]
    return render_template("admin/index.html")


# --- users -----------------------------------------------------------------------------------------------------


@bp.get("/pengguna")
@requires_role("admin")
def users():  # type: ignore[no-untyped-def]
    return render_template("admin/users.html", rows=ops.list_users(wbs(), current_actor()))


def _new_user_page(status: int = 200, errors: dict[str, str] | None = None, form: dict | None = None):  # type: ignore[no-untyped-def]
    units = ops.list_units(wbs(), current_actor())
    page = render_template(
        "admin/user_new.html",
        errors=errors or {},
        form=form or {},
        roles=_role_names(),
        units=units,
        case_types=_case_types(),
    )
    return page, status


@bp.get("/pengguna/baru")
@requires_role("admin")
def user_new():  # type: ignore[no-untyped-def]
    return _new_user_page()


@bp.post("/pengguna/baru")
@requires_role("admin")
def user_create():  # type: ignore[no-untyped-def]
    f = request.form
    grants = [(f.get("role", ""), f.get("unit"), f.get("case_type"))] if f.get("role") else []
    try:
        password = ops.create_user(
            wbs(),
            current_actor(),
            f.get("username", ""),
            full_name=f.get("full_name", ""),
            email=f.get("email"),
            lang=f.get("lang", "id"),
            password=f.get("password") or None,
            grants=grants,
        )
    except ValidationFailed as exc:
        return _new_user_page(422, exc.field_errors(_lang()), _form())
    username = f.get("username", "").strip().lower()
    note = _note(_("Account {user} created."), user=username)
    return _user_page(username, note=note, password=password)


def _user_page(  # type: ignore[no-untyped-def]
    username: str,
    status: int = 200,
    *,
    note: str | None = None,
    problem: str | None = None,
    password: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict | None = None,
):
    row = ops.get_user(wbs(), current_actor(), username)
    page = render_template(
        "admin/user.html",
        row=row,
        note=note,
        problem=problem,
        password=password,
        errors=errors or {},
        form=form or {"full_name": row.full_name, "email": row.email or "", "lang": row.lang},
        roles=_role_names(),
        role_label=dict(_role_names()),
        units=ops.list_units(wbs(), current_actor()),
        case_types=_case_types(),
        me=current_actor().username,
    )
    return page, status


@bp.get("/pengguna/<username>")
@requires_role("admin")
def user(username: str):  # type: ignore[no-untyped-def]
    return _user_page(username)


def _user_action(username: str, action, done: str, same: str | None = None):  # type: ignore[no-untyped-def]
    """Run ``action()``; show the user's page with ``done`` (or ``same`` when it changed nothing), or the
    engine's refusal."""
    try:
        changed = action()
    except ValidationFailed as exc:
        return _user_page(username, 422, errors=exc.field_errors(_lang()), form=_form())
    except NotFound:
        raise
    except WbsError as exc:
        return _user_page(username, exc.status, problem=exc.message(_lang()))
    return _user_page(username, note=_note(done if changed or same is None else same))


@bp.post("/pengguna/<username>/ubah")
@requires_role("admin")
def user_update(username: str):  # type: ignore[no-untyped-def]
    f = request.form
    return _user_action(
        username,
        lambda: ops.update_user(
            wbs(),
            current_actor(),
            username,
            full_name=f.get("full_name", ""),
            email=f.get("email"),
            lang=f.get("lang", ""),
        ),
        _("Saved."),
        _("Nothing changed."),
    )


@bp.post("/pengguna/<username>/nonaktif")
@requires_role("admin")
def user_deactivate(username: str):  # type: ignore[no-untyped-def]
    return _user_action(
        username,
        lambda: ops.set_active(wbs(), current_actor(), username, False),
        _("The account is deactivated; its sessions ended."),
        _("The account was already inactive."),
    )


@bp.post("/pengguna/<username>/aktif")
@requires_role("admin")
def user_reactivate(username: str):  # type: ignore[no-untyped-def]
    return _user_action(
        username,
        lambda: ops.set_active(wbs(), current_actor(), username, True),
        _("The account is active again."),
        _("The account was already active."),
    )


@bp.post("/pengguna/<username>/sandi")
@requires_role("admin")
def user_reset_password(username: str):  # type: ignore[no-untyped-def]
    password = ops.reset_password(wbs(), current_actor(), username)
    note = _note(_("New password made; the user's sessions ended. Give it to them in person."))
    return _user_page(username, note=note, password=password)


@bp.post("/pengguna/<username>/faktor-kedua")
@requires_role("admin")
def user_reset_second_factor(username: str):  # type: ignore[no-untyped-def]
    ops.reset_second_factor(wbs(), current_actor(), username)
    return _user_page(username, note=_note(_("Second factor removed; the user sets it up again at the next sign-in.")))


@bp.post("/pengguna/<username>/peran")
@requires_role("admin")
def grant_add(username: str):  # type: ignore[no-untyped-def]
    f = request.form
    return _user_action(
        username,
        lambda: ops.add_grant(wbs(), current_actor(), username, f.get("role", ""), f.get("unit"), f.get("case_type")),
        _("Role granted."),
        _("The user already holds this grant."),
    )


@bp.post("/pengguna/<username>/peran/<int(max=2147483647):grant_id>/cabut")
@requires_role("admin")
def grant_revoke(username: str, grant_id: int):  # type: ignore[no-untyped-def]
    return _user_action(
        username,
        lambda: ops.revoke_grant(wbs(), current_actor(), username, grant_id),
        _("Grant revoked."),
        _("This grant was already revoked."),
    )


# --- units -----------------------------------------------------------------------------------------------------


def _units_page(status: int = 200, *, note=None, problem=None, errors=None, form=None):  # type: ignore[no-untyped-def]
    page = render_template(
        "admin/units.html",
        rows=ops.list_units(wbs(), current_actor()),
        note=note,
        problem=problem,
        errors=errors or {},
        form=form or {},
    )
    return page, status


def _units_action(action, done: str, same: str):  # type: ignore[no-untyped-def]
    try:
        changed = action()
    except ValidationFailed as exc:
        return _units_page(422, errors=exc.field_errors(_lang()), form=_form())
    except WbsError as exc:
        return _units_page(exc.status, problem=exc.message(_lang()))
    return _units_page(note=_note(done if changed else same))


@bp.get("/unit")
@requires_role("admin")
def units():  # type: ignore[no-untyped-def]
    return _units_page()


@bp.post("/unit")
@requires_role("admin")
def unit_add():  # type: ignore[no-untyped-def]
    f = request.form
    return _units_action(
        lambda: ops.add_unit(wbs(), current_actor(), f.get("code", ""), f.get("name", "")),
        _("Unit added."),
        _("This unit exists already."),
    )


@bp.post("/unit/<code>/nama")
@requires_role("admin")
def unit_rename(code: str):  # type: ignore[no-untyped-def]
    return _units_action(
        lambda: ops.rename_unit(wbs(), current_actor(), code, request.form.get("name", "")),
        _("Saved."),
        _("Nothing changed."),
    )


@bp.post("/unit/<code>/atasan")
@requires_role("admin")
def unit_atasan(code: str):  # type: ignore[no-untyped-def]
    return _units_action(
        lambda: ops.set_unit_atasan(wbs(), current_actor(), code, request.form.get("atasan") or None),
        _("Saved."),
        _("Nothing changed."),
    )


# --- holidays --------------------------------------------------------------------------------------------------


def _days_page(status: int = 200, *, note=None, errors=None, form=None):  # type: ignore[no-untyped-def]
    actor = current_actor()
    today = ops.today(wbs())
    page = render_template(
        "admin/holidays.html",
        own=ops.office_days(wbs(), actor),
        upcoming=ops.upcoming_holidays(wbs(), actor, today),
        note=note,
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.get("/hari-libur")
@requires_role("admin")
def holidays():  # type: ignore[no-untyped-def]
    return _days_page()


@bp.post("/hari-libur")
@requires_role("admin")
def holiday_set():  # type: ignore[no-untyped-def]
    f = request.form
    lang = _lang()
    try:
        day = date.fromisoformat(f.get("day", "").strip())
    except ValueError:
        return _days_page(422, errors={"day": render(_("a date like 2026-12-24"), lang)}, form=_form())
    try:
        moved = ops.set_office_day(wbs(), current_actor(), day, f.get("kind", ""), f.get("name", ""))
    except ValidationFailed as exc:
        return _days_page(422, errors=exc.field_errors(lang), form=_form())
    except WbsError as exc:  # a day outside the calendar's range
        return _days_page(422, errors={"day": exc.message(lang)}, form=_form())
    return _days_page(note=_note(_("Saved. Running deadlines moved: {n}."), n=moved))


# --- second factor per role ------------------------------------------------------------------------------------


def _totp_page(status: int = 200, *, note=None, problem=None):  # type: ignore[no-untyped-def]
    from wbs_engine.accounts import totp_roles

    page = render_template(
        "admin/second_factor.html", roles=_role_names(), chosen=set(totp_roles(wbs())), note=note, problem=problem
    )
    return page, status


@bp.get("/faktor-kedua")
@requires_role("admin")
def second_factor():  # type: ignore[no-untyped-def]
    return _totp_page()


@bp.post("/faktor-kedua")
@requires_role("admin")
def second_factor_post():  # type: ignore[no-untyped-def]
    try:
        changed = ops.set_totp_roles(wbs(), current_actor(), request.form.getlist("roles"))
    except ValidationFailed as exc:
        return _totp_page(422, problem=exc.message(_lang()))
    return _totp_page(note=_note(_("Saved.") if changed else _("Nothing changed.")))


# --- reply templates -------------------------------------------------------------------------------------------


@bp.get("/templat")
@requires_role("admin")
def templates():  # type: ignore[no-untyped-def]
    labels = dict(_case_types())
    return render_template(
        "admin/templates.html", rows=ops.all_reply_templates(wbs(), current_actor()), labels=labels, note=None
    )


def _template_form(status: int = 200, *, template_id: int | None = None, errors=None, form=None, note=None):  # type: ignore[no-untyped-def]
    if note is None and request.method == "GET" and request.args.get("saved"):
        note = _note(_("Saved."))
    active = None
    if template_id is not None:
        t = ops.get_reply_template(wbs(), current_actor(), template_id)
        active = t.active
        if form is None:
            form = {"case_type": t.case_type, "title": t.title, "body": t.body}
    page = render_template(
        "admin/template_form.html",
        template_id=template_id,
        active=active,
        errors=errors or {},
        form=form or {},
        case_types=_case_types(),
        note=note,
        title_max=ops.TITLE_MAX,
        body_max=ops.BODY_MAX,
    )
    return page, status


@bp.get("/templat/baru")
@requires_role("admin")
def template_new():  # type: ignore[no-untyped-def]
    return _template_form()


@bp.post("/templat/baru")
@requires_role("admin")
def template_create():  # type: ignore[no-untyped-def]
    return _template_save(None)


@bp.get("/templat/<int(max=2147483647):template_id>")
@requires_role("admin")
def template_edit(template_id: int):  # type: ignore[no-untyped-def]
    return _template_form(template_id=template_id)


@bp.post("/templat/<int(max=2147483647):template_id>")
@requires_role("admin")
def template_update(template_id: int):  # type: ignore[no-untyped-def]
    return _template_save(template_id)


def _template_save(template_id: int | None):  # type: ignore[no-untyped-def]
    f = request.form
    try:
        new_id = ops.save_reply_template(
            wbs(), current_actor(), f.get("case_type", ""), f.get("title", ""), f.get("body", ""), template_id
        )
    except ValidationFailed as exc:
        return _template_form(422, template_id=template_id, errors=exc.field_errors(_lang()), form=_form())
    return redirect(url_for("admin.template_edit", template_id=new_id, saved=1), code=303)


@bp.post("/templat/<int(max=2147483647):template_id>/aktif")
@requires_role("admin")
def template_active(template_id: int):  # type: ignore[no-untyped-def]
    ops.set_reply_template_active(wbs(), current_actor(), template_id, request.form.get("active") == "1")
    return redirect(url_for("admin.template_edit", template_id=template_id, saved=1), code=303)


def _admin_time(moment: datetime | None) -> str:
    """A moment in the office's time zone, to the minute."""
    if moment is None:
        return "—"
    return moment.astimezone(wbs().settings.zone).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    app.add_template_filter(_admin_time, "admin_time")
    app.register_blueprint(bp)
    add_nav(app, "admin.index", _("Administration"), roles=("admin",), order=80)
