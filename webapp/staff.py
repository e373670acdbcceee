"""The staff's pages: the queues, a case's page and what is done on it (the workflow's actions, claim,
release and assign, messages to the reporter, internal notes, attachments), and the home dashboard.

Every view translates HTTP into the engine's operations and back: ``queries.page``/``counts`` (queues),
``views.case_view`` (what this user may read of a case: the engine refuses anyone without access, a recused
official with the same words), ``engine.available_actions``/``fire`` (one form per action, built from its
field specs), ``assignment.assign``/``assignable_users``/``abilities``, ``engine.post_message`` (``internal``
for a note), ``files.*``. No workflow rule, query or permission lives here. Every form that changes the case
through a transition or an assignment carries the case's ``version`` as ``expected_version``: a case changed
meanwhile is refused (409) with "reload", and nothing is changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from wbs_engine import assignment, files, interests, queries, replies, textsafe, tracking, views
from wbs_engine.engine import WbsEngine
from wbs_engine.errors import ConcurrentChange, NotAllowed, ValidationFailed, WbsError
from wbs_engine.i18n import gettext_noop as _
from wbs_engine.i18n import render
from wbs_engine.permissions import Actor, handler_roles

from .auth import add_nav, current_actor
from .i18n import page_lang

bp = Blueprint("staff", __name__, url_prefix="/staf")

#: the queue tabs, in order, with their labels
TABS = (
    (queries.MINE, _("Mine")),
    (queries.UNASSIGNED, _("Unassigned")),
    (queries.DUE_SOON, _("Due soon")),
    (queries.OVERDUE, _("Overdue")),
)
PAGE_SIZE = 25
#: how many earlier pages the "previous" link remembers (a longer walk starts again at the first page)
MAX_BACK = 20
#: the queue shown (a tab): mine, unassigned, due_soon, overdue
QUEUE_INPUT = "antrian"
VERSION_INPUT = "expected_version"
MESSAGE_INPUT = "pesan"
NOTE_INPUT = "catatan"
ASSIGNEE_INPUT = "petugas"
REASON_INPUT = "alasan"
FILES_INPUT = "lampiran"

NOTICES = {
    "aksi": _("Done: the case was moved on."),
    "petugas": _("The assignment was saved."),
    "pesan": _("Your message was sent to the reporter."),
    "catatan": _("The internal note was saved."),
    "lampiran": _("The file was attached."),
}


def wbs() -> WbsEngine:
    return current_app.extensions["wbs"]


def _local(moment: datetime | str | None) -> str:
    """A moment as the office's date and time (``WBS_TIMEZONE``)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(wbs().settings.zone).strftime("%Y-%m-%d %H:%M")


def _local_date(moment: datetime | None) -> str:
    return moment.astimezone(wbs().settings.zone).strftime("%Y-%m-%d") if moment is not None else ""


# --- the home dashboard ---------------------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    """What ``staff/home.html`` shows (the view stays ``auth.home``): the user's queue counts with links, and
    their own reports (for an employee without a handler role, the main thing they come for)."""
    actor = current_actor()
    lang = page_lang()
    handler = any(g.role in queue_roles(wbs()) for g in actor.grants)
    counts = queries.counts(wbs(), actor) if handler else None
    tabs = [(q, render(label, lang), counts[q]) for q, label in TABS] if counts else []
    return {"handler": handler, "tabs": tabs, "reports": tracking.filer_cases(wbs(), actor, lang, limit=10)}


# --- the queues -----------------------------------------------------------------------------------------------


@bp.get("/cari")
def find():  # type: ignore[no-untyped-def]
    """Open a case by its number (an auditor has no queue: they read, they do not act). The case page makes
    the permission check; this only tidies what was typed."""
    wanted = (request.args.get("nomor") or "").strip().upper()
    if wanted:
        if len(wanted) <= 40 and wanted.replace("-", "").isalnum():
            return redirect(url_for("staff.case", number=wanted), code=303)
        error = render(_("A case number looks like PGD-2026-000001."), page_lang())
        return render_template("staff/find.html", error=error, value=wanted[:40]), 422
    return render_template("staff/find.html", error=None, value="")


@bp.get("/antrian")
def queue():  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    tab = request.args.get(QUEUE_INPUT) or queries.MINE
    if tab not in queries.QUEUES:
        tab = queries.MINE
    unit = request.args.get("unit") or None
    case_type = request.args.get("jenis") or None
    search = (request.args.get("cari") or "").strip()[:200] or None
    cursor = request.args.get("c") or None
    back = request.args.getlist("p")[-MAX_BACK:]
    filters = views.queue_filters(wbs(), actor, lang)
    error = None
    # a filter the user does not hold (an edited link): refused by the choices, not silently widened
    if unit is not None and unit not in {c for c, _n in filters["units"]}:
        error, unit = render(_("You have no cases of unit {unit}."), lang, unit=unit), None
    if case_type is not None and case_type not in {c for c, _n in filters["types"]}:
        error, case_type = render(_("You have no cases of this type."), lang), None
    try:
        counts = queries.counts(wbs(), actor, unit=unit, case_type=case_type, search=search)
        page = queries.page(
            wbs(), actor, tab, unit=unit, case_type=case_type, search=search, cursor=cursor, limit=PAGE_SIZE, lang=lang
        )
    except queries.QueueError as exc:  # a hand-edited cursor or a search that cannot be searched
        error = exc.message(lang)
        counts = {q: queries.QueueCount(q, 0) for q in queries.QUEUES}
        page = queries.Page(tab, (), None)
        status = exc.status
    else:
        status = 422 if error else 200
    base = {k: v for k, v in (("unit", unit), ("jenis", case_type), ("cari", search)) if v}

    def link(**kw: Any) -> str:
        return url_for("staff.queue", **{**base, **kw})

    next_url = link(antrian=tab, c=page.next_cursor, p=[*back, cursor or ""]) if page.next_cursor else None
    prev_url = None
    if cursor:
        earlier = back[-1] if back else ""
        prev_url = link(antrian=tab, c=earlier or None, p=back[:-1]) if earlier else link(antrian=tab)
    return (
        render_template(
            "staff/queue.html",
            tab=tab,
            tabs=[(q, render(label, lang), counts[q], link(antrian=q)) for q, label in TABS],
            page=page,
            filters=filters,
            unit=unit,
            case_type=case_type,
            search=search or "",
            next_url=next_url,
            prev_url=prev_url,
            first_page=cursor is None,
            error=error,
            local_date=_local_date,
        ),
        status,
    )


# --- the case page --------------------------------------------------------------------------------------------


def _case_page(
    number: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    opened: str | None = None,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    engine = wbs()
    view = views.case_view(engine, number, actor, lang)  # the engine's refusal (403) for anyone without access
    number = view["number"]
    actions = engine.available_actions(number, actor, lang)
    can = assignment.abilities(engine, number, actor)
    try:
        attachments = files.list_attachments(engine, number, actor)
    except NotAllowed:  # a role that reads the case but not its files
        attachments = None
    except files.AttachmentDestroyed:  # retention destroyed its key: the page says so (view["destroyed_note"])
        attachments = None
    needs_users = any(f.type == "user" for a in actions for f in a.fields)
    needs_units = any(f.type == "unit" for a in actions for f in a.fields)
    choices = {
        "user": assignment.user_choices(engine, number, actor) if needs_users else [],
        "unit": views.unit_choices(engine) if needs_units else [],
    }
    templates = replies.reply_templates(engine, view["type"]) if can.message else []
    values = dict(values or {})
    chosen = request.args.get("templat")
    if chosen and MESSAGE_INPUT not in values:
        picked = next((t for t in templates if str(t.id) == chosen), None)
        if picked is not None:
            values[MESSAGE_INPUT] = picked.body
            opened = opened or "pesan"
    field_labels = _field_labels(engine, view, lang)
    view = {**view, "fields": {name: view["fields"][name] for name in field_labels}}
    candidates = assignment.assignable_users(engine, number, actor) if can.assign else []
    if any(not c.offered for c in candidates):
        # why an official is not offered: their declaration, or a recusal decided on the case
        reasons = interests.recusal_reasons(engine, number, actor, lang)
        candidates = [replace(c, why_not=reasons.get(c.username, c.why_not)) for c in candidates]
    return (
        render_template(
            "staff/case.html",
            case=view,
            actions=actions,
            can=can,
            candidates=candidates,
            attachments=attachments,
            choices=choices,
            templates=templates,
            field_labels=field_labels,
            errors=errors or {},
            values=values,
            opened=opened,
            notice=notice,
            problem=problem,
            local=_local,
            limits=files.limits_for(engine.registry.latest(view["type"]).definition, engine.settings),
            sealed=views.is_sealed,
        ),
        status,
    )


def _field_labels(engine: WbsEngine, view: dict[str, Any], lang: str) -> dict[str, str]:
    """The workflow's label of each field the case holds (the page shows labels, not names), in the workflow's
    order: the report as it was filed, then what the handling added."""
    from wbs_engine.db import unit_of_work

    with unit_of_work(engine.db, write=False) as s:
        defn = engine.registry.get(s, view["type"], view["workflow_version"]).definition
    order = [f.name for f in (*defn.intake, *defn.fields)]
    out = {}
    for name in sorted(view["fields"], key=lambda n: (order.index(n) if n in order else len(order), n)):
        spec = defn.field(name)
        out[name] = spec.label.get(lang) if spec is not None else name
    return out


@bp.get("/perkara/<number>")
def case(number: str):  # type: ignore[no-untyped-def]
    ok = request.args.get("ok")
    notice = render(NOTICES[ok], page_lang()) if ok in NOTICES else None
    return _case_page(number, notice=notice)


def _expected_version() -> int | None:
    raw = request.form.get(VERSION_INPUT, "")
    return int(raw) if textsafe.digits(raw) and len(raw) < 10 else None


def _changed_meanwhile(number: str, exc: ConcurrentChange):  # type: ignore[no-untyped-def]
    lang = page_lang()
    text = render(
        _(
            "This case was changed by someone else meanwhile; nothing was saved. The page now shows the case as "
            "it is: check it and try again."
        ),
        lang,
    )
    return _case_page(number, problem=text, status=exc.status)


@bp.post("/perkara/<number>/aksi/<trigger>")
def action(number: str, trigger: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    engine = wbs()
    wanted = next((a for a in engine.available_actions(number, actor, lang) if a.trigger == trigger), None)
    if wanted is None:  # not offered to this user now (a stale or edited form): the page as it is now
        stale = _("This action is no longer possible; the page shows the case as it is now.")
        return _case_page(number, problem=render(stale, lang), status=409)
    values = {f.name: request.form.get(f.name, "") for f in wanted.fields}
    reason = request.form.get(REASON_INPUT, "")
    data = {k: v for k, v in values.items() if v.strip()}
    try:
        engine.fire(number, trigger, actor, data, reason=reason or None, expected_version=_expected_version())
    except ConcurrentChange as exc:
        return _changed_meanwhile(number, exc)
    except ValidationFailed as exc:
        return _case_page(
            number,
            errors=exc.field_errors(lang),
            values={**values, REASON_INPUT: reason},
            opened=trigger,
            status=exc.status,
        )
    except WbsError as exc:  # a guard, a refusal: said on the page (a user without access gets the 403 page)
        return _case_page(number, problem=exc.message(lang), opened=trigger, status=exc.status)
    return redirect(url_for("staff.case", number=number, ok="aksi"), code=303)


@bp.post("/perkara/<number>/petugas")
def assign(number: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    lang = page_lang()
    op = request.form.get("op")
    if op == "claim":
        who: str | None = actor.username
    elif op == "release":
        who = None
    else:
        who = request.form.get(ASSIGNEE_INPUT, "")
    try:
        assignment.assign(wbs(), number, actor, who, expected_version=_expected_version())
    except ConcurrentChange as exc:
        return _changed_meanwhile(number, exc)
    except ValidationFailed as exc:
        return _case_page(
            number, errors=exc.field_errors(lang), values={ASSIGNEE_INPUT: who or ""}, opened="petugas", status=422
        )
    except WbsError as exc:
        return _case_page(number, problem=exc.message(lang), status=exc.status)
    return redirect(url_for("staff.case", number=number, ok="petugas"), code=303)


def _post(number: str, field: str, internal: bool):  # type: ignore[no-untyped-def]
    lang = page_lang()
    body = request.form.get(field, "")
    try:
        wbs().post_message(number, current_actor(), body, internal=internal)
    except ValidationFailed as exc:
        errors = {field: "; ".join(exc.field_errors(lang).values())}
        return _case_page(number, errors=errors, values={field: body}, opened=field, status=422)
    except WbsError as exc:
        return _case_page(number, problem=exc.message(lang), values={field: body}, status=exc.status)
    return redirect(url_for("staff.case", number=number, ok=field), code=303)


@bp.post("/perkara/<number>/pesan")
def message(number: str):  # type: ignore[no-untyped-def]
    return _post(number, MESSAGE_INPUT, internal=False)


@bp.post("/perkara/<number>/catatan")
def note(number: str):  # type: ignore[no-untyped-def]
    return _post(number, NOTE_INPUT, internal=True)


@bp.post("/perkara/<number>/lampiran")
def attach(number: str):  # type: ignore[no-untyped-def]
    lang = page_lang()
    upload = request.files.get(FILES_INPUT)
    if upload is None or not upload.filename:
        return _case_page(number, errors={FILES_INPUT: render(_("choose a file"), lang)}, opened="lampiran", status=422)
    try:
        files.attach(wbs(), number, current_actor(), upload.filename, upload.stream)
    except ValidationFailed as exc:
        errors = {FILES_INPUT: "; ".join(exc.field_errors(lang).values())}
        return _case_page(number, errors=errors, opened="lampiran", status=exc.status)
    return redirect(url_for("staff.case", number=number, ok="lampiran"), code=303)


def send_attachment(number: str, attachment_id: int, actor: Actor) -> Response:
    """One attached file as a download (``files.open_attachment`` checks who may and records the opening)."""
    info, chunks = files.open_attachment(wbs(), number, attachment_id, actor)
    name = info.filename or f"lampiran-{attachment_id}"
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(info.size),
        "Cache-Control": "no-store",
    }
    return Response(stream_with_context(chunks), mimetype=info.content_type, headers=headers)


@bp.get("/perkara/<number>/lampiran/<int(max=2147483647):attachment_id>")
def download(number: str, attachment_id: int):  # type: ignore[no-untyped-def]
    return send_attachment(number, attachment_id, current_actor())


def queue_roles(engine: WbsEngine) -> tuple[str, ...]:
    """The roles that have queues: every workflow's handler roles (the auditor reads cases but acts on
    none, so has no queue)."""
    roles: set[str] = set()
    for key in engine.registry.keys:
        roles |= handler_roles(engine.registry.latest(key).definition)
    return tuple(sorted(roles))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(dashboard, "staff_dashboard")
    add_nav(app, "staff.queue", _("Queues"), roles=queue_roles(app.extensions["wbs"]), order=10)
    add_nav(app, "staff.find", _("Find a case"), roles=("auditor",), order=15)
