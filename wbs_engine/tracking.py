"""The reporter's view of their case, reached with the tracking code: what a tracking page shows.

It holds exactly what docs/domain.md ("What the reporter sees") allows: the stage in plain words (each state's
``reporter_label``), the due dates of the steps under way, the dates of past steps, what the reporter wrote,
the messages between them and the office, the files they attached, the fields a workflow marks
``reporter: true`` (a question to them, an answer, the information the office chose to give), and whether
the satisfaction survey can be taken now or was taken (:mod:`wbs_engine.survey`; never the scores), and to which
role their identity was opened on request, when and until when (:func:`wbs_engine.identity.openings`). Never a
staff member's name, any other role, an internal field, a reason, an internal note, a unit, a trigger name or an event's
internal payload.

The view is built from an allow-list: anything not named here stays out, so a new payload key or field
added later cannot leak by default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from . import audit, identity, permissions, survey, textsafe
from .calendar import WorkingCalendar
from .db import unit_of_work
from .definition import PRIVACY_ORDER, WorkflowDef
from .engine import WbsEngine, filer_username, is_internal_note
from .errors import NotAllowed, NotFound
from .i18n import gettext_noop as _
from .i18n import render
from .models import Attachment, Case, Clock, Message
from .permissions import Actor
from .retention import DESTROYED_NOTE

OPEN_CLOCK = ("running", "paused", "breached")


def _when(cal: WorkingCalendar, moment: datetime) -> dict[str, str]:
    local = cal.local(moment)
    return {"at": moment.isoformat(), "date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def _field(defn: WorkflowDef, name: str, value: Any, lang: str) -> dict[str, Any]:
    spec = defn.field(name)
    shown = value
    if spec is not None and spec.type == "select":
        shown = next((o.label.get(lang) for o in spec.options if o.value == value), value)
    return {"name": name, "label": spec.label.get(lang) if spec else name, "value": shown}


def tracking_view(engine: WbsEngine, code: str, lang: str = "id", *, number: str | None = None) -> dict[str, Any]:
    """The case whose tracking code is ``code``, as its reporter may see it. ``number``, when given, must be
    that case's number; a wrong one gets the same answer as a wrong code (no way to probe numbers)."""
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
        if number is not None and case.number != number.strip().upper():
            raise NotFound(_("Tracking code not found; check how it is written."))
        return _reporter_view(engine, s, case, lang)


def _filed_by(engine: WbsEngine, s: Any, number: str, actor: Actor) -> Case:
    """Case ``number`` when ``actor`` filed it from their account; any other number, of a case that exists
    or not, gets the same answer (no way to probe numbers)."""
    case = None
    if actor.kind == "user" and actor.user_id is not None and isinstance(number, str) and textsafe.storable(number):
        case = s.exec(select(Case).where(Case.number == number.strip().upper())).first()
    if case is None or case.filed_by_user_id is None or case.filed_by_user_id != actor.user_id:
        raise NotFound(_("Case {number} is not one of your reports."), number=textsafe.line(str(number)))
    return case


def filer_view(engine: WbsEngine, number: str, actor: Actor, lang: str = "id") -> dict[str, Any]:
    """The reporter's view (:func:`tracking_view`, exactly the same allow-list) of a case ``actor`` filed
    from their staff account (an employee's gratifikasi or declaration): there is no tracking code to ask
    for, the account is the key. Whatever roles the employee also holds, this view shows no more."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        return _reporter_view(engine, s, _filed_by(engine, s, number, actor), lang)


def filer_cases(engine: WbsEngine, actor: Actor, lang: str = "id", *, limit: int = 200) -> list[dict[str, Any]]:
    """The cases ``actor`` filed from their account (never an anonymous one: it is not linked), newest
    first, each in the reporter's words: number, type, stage, filed, closed, the current step's due date."""
    if actor.kind != "user" or actor.user_id is None:
        return []
    with unit_of_work(engine.db, write=False) as s:
        cal = engine.calendar(s)
        rows = s.exec(
            select(Case).where(Case.filed_by_user_id == actor.user_id).order_by(Case.id.desc()).limit(limit)
        ).all()
        out = []
        for case in rows:
            defn = engine.workflow(s, case).definition
            due = s.exec(select(Clock.due_date).where(Clock.case_id == case.id, Clock.status == "running")).all()
            due = [d for d in due if d is not None]
            out.append(
                {
                    "number": case.number,
                    "type_label": defn.label.get(lang),
                    "state_label": defn.states[case.state].reporter_label.get(lang),
                    "final": case.final,
                    "filed": _when(cal, case.created_at),
                    "closed": _when(cal, case.closed_at) if case.closed_at else None,
                    "current_due_date": min(due).isoformat() if due else None,
                    "your_turn": not case.final
                    and any("pelapor" in t.roles for t in defn.transitions_from(case.state)),
                }
            )
        return out


def _reporter_view(engine: WbsEngine, s: Any, case: Case, lang: str) -> dict[str, Any]:
    defn = engine.workflow(s, case).definition
    cal = engine.calendar(s)
    key = engine.case_key(case) if case.data_key else None
    wrote: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    notes: set[Any] = set()
    for e in audit.chain_events(s, case.number):
        if e.kind == "message" and isinstance(e.payload, dict) and e.payload.get("internal"):
            notes.add(e.payload.get("message_id"))
        if e.kind not in ("created", "transition") or e.payload is None:
            continue
        p = e.payload
        opened = (key.open(p["sealed"]) or {}).get("fields", {}) if key is not None and p.get("sealed") else {}
        values = {**(p.get("data") or {}), **opened}
        if e.kind == "created":
            wrote.update(values)
            steps.append(
                {
                    **_when(cal, e.occurred_at),
                    "state": defn.states[e.to_state].reporter_label.get(lang),
                    "by_you": True,
                    "fields": [],
                }
            )
            continue
        by_you = e.actor_role == "pelapor"
        shown = [
            _field(defn, name, value, lang)
            for name, value in values.items()
            if by_you or ((spec := defn.field(name)) is not None and spec.reporter)
        ]
        moved = e.from_state != e.to_state and e.to_state in defn.states
        if not moved and not shown:
            continue  # internal work that leaves the stage as it was: nothing for the reporter
        steps.append(
            {
                **_when(cal, e.occurred_at),
                "state": defn.states[e.to_state].reporter_label.get(lang) if moved else None,
                "by_you": by_you,
                "fields": shown,
            }
        )
    due = []
    for c in s.exec(select(Clock).where(Clock.case_id == case.id).order_by(Clock.id)).all():
        spec = defn.clocks.get(c.name)
        if c.status not in OPEN_CLOCK or spec is None:
            continue
        due.append(
            {
                "label": spec.label.get(lang),
                "status": c.status,
                "due_date": c.due_date.isoformat() if c.due_date and c.status != "paused" else None,
                "remaining_days": c.remaining_days if c.status == "paused" else None,
            }
        )
    running = [d["due_date"] for d in due if d["status"] == "running" and d["due_date"]]
    # never an internal note (the handlers' own): by its row and by its event, either suffices
    filer = filer_username(s, case)
    messages = [
        {
            **_when(cal, m.created_at),
            "from": "office" if m.to_reporter else "you",
            "body": key.open(m.body_enc) if key is not None else None,
        }
        for m in s.exec(select(Message).where(Message.case_id == case.id).order_by(Message.id)).all()
        if m.id not in notes and not is_internal_note(m, filer)
    ]
    # the files they attached themselves (never the office's; see files.list_attachments)
    own_files = s.exec(
        select(Attachment)
        .where(Attachment.case_id == case.id, Attachment.by_reporter == True)  # noqa: E712
        .order_by(Attachment.id)
    ).all()
    your_files = [
        {
            **_when(cal, a.created_at),
            "id": a.id,
            "filename": (key.open(a.meta_enc) or {}).get("filename") if key is not None else None,
            "size": a.size,
            "type": a.content_type,
        }
        for a in own_files
    ]
    actions = []
    if not case.final:
        for t in defn.transitions_from(case.state):
            if "pelapor" not in t.roles:
                continue
            actions.append(
                {
                    "trigger": t.trigger,
                    "label": t.label.get(lang),
                    "fields": [
                        {
                            "name": n,
                            "label": defn.field(n).label.get(lang),
                            "type": defn.field(n).type,
                            "required": n in t.requires,
                        }
                        for n in (*t.requires, *t.optional)
                    ],
                }
            )
    rating = survey.status_of(s, case, defn)
    intake_order = [f.name for f in defn.intake]
    return {
        "number": case.number,
        "type_label": defn.label.get(lang),
        "state_label": defn.states[case.state].reporter_label.get(lang),
        "final": case.final,
        "identity_mode": case.identity_mode,
        "filed": _when(cal, case.created_at),
        "closed": _when(cal, case.closed_at) if case.closed_at else None,
        "current_due_date": min(running) if running else None,
        "due": due,
        "you_wrote": [_field(defn, n, wrote[n], lang) for n in intake_order if n in wrote],
        "steps": steps,
        "messages": messages,
        "your_files": your_files,
        # identity on request: to which role (never to whom) it was opened, when and until when
        "identity_opened": identity.openings(s, engine, case, lang),
        "actions": actions,
        # the satisfaction survey: whether it can be taken now, whether it was (never anyone's scores)
        "survey": {
            "offered": rating.offered,
            "available": rating.available,
            "taken": rating.taken,
            "rated": _when(cal, rating.rated_at) if rating.rated_at else None,
            "status": "available" if rating.available else rating.reason,
            "note": rating.message(lang),
        },
        # retention destroyed its key: what they wrote and the messages cannot be opened any more
        "destroyed": case.data_key is None,
        "destroyed_note": render(DESTROYED_NOTE, lang) if case.data_key is None else None,
    }


def filer_types(engine: WbsEngine, actor: Actor, lang: str = "id") -> list[dict[str, Any]]:
    """The case types ``actor`` may file from their account: those whose ``filed_by`` names a role they hold
    (for that type or all), that :func:`permissions.check_filer` accepts. Each with its label, description and
    the identity mode an account's filing starts in: the most private one that still links the report to
    the account (``anonim`` never does: such a report is followed with its tracking code only)."""
    out = []
    for key in sorted(engine.registry.keys):
        defn = engine.registry.latest(key).definition
        held = {g.role for g in actor.grants if g.case_type in (None, key)}
        if not held & (set(defn.filed_by) - {"public"}):
            continue
        try:
            permissions.check_filer(defn, actor)
        except NotAllowed:
            continue
        linked = [m for m in sorted(defn.identity, key=PRIVACY_ORDER.index) if m != "anonim"]
        out.append(
            {
                "key": key,
                "label": defn.label.get(lang),
                "description": defn.description.get(lang) if defn.description else None,
                "identity_mode": linked[0] if linked else defn.default_identity,
            }
        )
    return out
