"""The staff's read model of a case (CLI, web, exports), filtered by what the viewer may see.

Identity and contact fields are shown only to ``visibility.identity`` roles (and, when the reporter chose an
open identity, to the roles that may read the report; a contact given by an anonymous reporter to nobody);
other sealed fields, reasons and messages only to ``visibility.confidential_fields`` roles. Everyone else
sees the marker :data:`SEALED` for each sealed field the case holds, and nothing for fields it does not hold.

Who reported is part of the identity: to a viewer who may not see it, every event the reporter made (filing,
their steps, messages, files) shows ``pelapor`` as its actor, also when they filed from their staff account,
and the filing's ``filed_by`` is sealed; a message from the reporter is by ``pelapor``.

The reporter's own view is :func:`wbs_engine.tracking.tracking_view`, and only that: these staff views refuse a
tracking code (another case's number gets the tracking page's answer, :meth:`WbsEngine.case_for`) and an
employee who is on the case only as its reporter (filed from their account, no staff role that reads it),
so that a reporter never gets internal findings, reasons, recusals or staff names from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from . import audit, identity
from .clocks import ClockState, late_notices
from .db import unit_of_work
from .definition import Duration, WorkflowDef
from .engine import WbsEngine
from .errors import NotAllowed
from .i18n import gettext_noop as _
from .i18n import render
from .models import Clock, User
from .permissions import Actor, Sight, reporter_only, roles_to_read
from .retention import DESTROYED_NOTE

#: What a viewer who may not know who reported sees as the actor of the reporter's events.
REPORTER = "pelapor"

#: What a viewer who may not read a sealed value gets instead of it. A dict, so no real value (field values
#: are strings, numbers or booleans) can ever be mistaken for it; text output prints it as ``[rahasia]``.
SEALED: dict[str, bool] = {"sealed": True}


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("sealed") is True and len(value) == 1


def recused_usernames(session: Any, case: Any) -> list[str]:
    """Who is kept off ``case``, by username (``case.recused`` holds user ids)."""
    ids = sorted(case.recused)
    return sorted(session.exec(select(User.username).where(User.id.in_(ids))).all()) if ids else []


def clock_state(c: Clock) -> ClockState:
    return ClockState(
        name=c.name,
        status=c.status,
        limit_days=c.limit_days,
        limit_unit=c.limit_unit,
        counted_from=c.counted_from,
        started_at=c.started_at,
        due_date=c.due_date,
        due_at=c.due_at,
        stopped_at=c.stopped_at,
        breached_at=c.breached_at,
    )


def _limit(c: Clock) -> Duration:
    return Duration(working_days=c.limit_days) if c.limit_unit == "working" else Duration(calendar_days=c.limit_days)


def clock_view(c: Clock, defn: WorkflowDef, lang: str, late_notice: str | None = None) -> dict[str, Any]:
    spec = defn.clocks.get(c.name)
    state = clock_state(c)
    return {
        "name": c.name,
        "label": spec.label.get(lang) if spec else c.name,
        "status": c.status,
        "limit": _limit(c).describe(lang),
        "limit_days": c.limit_days,
        "limit_unit": c.limit_unit,
        "counted_from": c.counted_from.isoformat(),
        "started_at": c.started_at.isoformat(),
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "due_at": c.due_at.isoformat() if c.due_at else None,
        "remaining_days": c.remaining_days,
        "paused_at": c.paused_at.isoformat() if c.paused_at else None,
        "stopped_at": c.stopped_at.isoformat() if c.stopped_at else None,
        "breached_at": c.breached_at.isoformat() if c.breached_at else None,
        "extensions": c.extensions,
        "next_action": c.next_action,
        "outcome": state.outcome,
        "next_action_at": c.next_action_at.isoformat() if c.next_action_at else None,
        "source": spec.source if spec else None,
        "unverified": spec.unverified if spec else None,
        "office_policy": spec.office_policy if spec else None,
        "late_notice": late_notice,
    }


def case_view(engine: WbsEngine, number: str, viewer: Actor | None, lang: str = "id") -> dict[str, Any]:
    """``viewer`` None is the server console: it sees the case but no sealed data.

    Reading sealed data is itself recorded: when the viewer gets any sealed value, reason or message in
    clear, an event ``case_read`` on the case's chain says who read which fields (names, never values) and
    whether the identity was opened, in the same transaction as the read."""
    with unit_of_work(engine.db, write=viewer is not None) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, viewer)
        defn = engine.workflow(s, case).definition
        if viewer is not None and reporter_only(defn, case, viewer):
            raise _reporter_refused(case)
        roles = roles_to_read(defn, case, viewer) if viewer else set()
        # an approved identity request opens the identity to its requester (wbs_engine/identity.py)
        sight, by_request = identity.sight_for(s, engine, defn, case, viewer, roles)
        key = engine.case_key(case) if sight.anything and case.data_key else None
        values: dict[str, Any] = dict(case.data or {})
        opened: dict[str, Any] = {}
        if key is not None:
            if sight.identity or sight.contact:
                opened.update(key.open(case.identity_enc) or {})
            if sight.secret:
                opened.update(key.open(case.confidential_enc) or {})
        for name in case.sealed_fields or []:
            values[name] = opened[name] if sight.may_read(name) and name in opened else SEALED
        # who is kept off the case can say who is implicated: once anyone is, a viewer who may not read the report
        # no longer sees whom a `user` field names (the assignee may be the recused official), here or in history
        hidden = _staff_fields(defn) if case.recused and not sight.secret else frozenset()
        for name in hidden & set(values):
            values[name] = SEALED
        rows = s.exec(select(Clock).where(Clock.case_id == case.id).order_by(Clock.id)).all()
        # e.g. a gift reported after the legal limit: the text the workflow gives for it (late_notice)
        notices = {name: text.get(lang) for name, text in late_notices(defn.clocks, [clock_state(c) for c in rows])}
        clocks = [clock_view(c, defn, lang, notices.get(c.name)) for c in rows]
        history = [_event_view(e, sight, key, lang, hidden) for e in audit.chain_events(s, case.number)]
        labels = {t.trigger: t.label.get(lang) for t in defn.transitions}
        for ev in history:  # the workflow's words for the page: the step's label, the states'
            ev["label"] = labels.get(ev["trigger"]) if ev["trigger"] else None
            for end in ("from", "to"):
                name = ev[f"{end}_state"]
                ev[f"{end}_label"] = defn.states[name].label.get(lang) if name in defn.states else name
        messages = engine.messages(s, case) if (sight.secret and case.data_key) else []
        if not sight.identity:
            # a message from the reporter is by "pelapor" (older rows may name the account that filed)
            messages = [m if m["to_reporter"] or m["internal"] else {**m, "author": REPORTER} for m in messages]
        if viewer is not None:
            record_read(s, engine, case, viewer, roles, sight, opened, messages, history)
            if by_request is not None:
                identity.record_opened(s, engine, case, defn, viewer, by_request, roles, opened)
        actions = [
            {
                "trigger": t.trigger,
                "label": t.label.get(lang),
                "roles": t.roles,
                "requires": t.requires,
                "optional": t.optional,
                "reason": t.reason,
            }
            for t in defn.transitions_from(case.state)
            if not case.final
        ]
        return {
            "number": case.number,
            "type": case.case_type,
            "type_label": defn.label.get(lang),
            "workflow_version": case.workflow_version,
            "state": case.state,
            "state_label": defn.states[case.state].label.get(lang),
            "state_description": (d.get(lang) if (d := defn.states[case.state].description) else None),
            "phase": case.phase,
            "final": case.final,
            "unit": case.unit_code,
            "identity_mode": case.identity_mode,
            "version": case.version,
            "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            # who is kept off the case can say who is implicated: only for those who may read the report
            "recused": recused_usernames(s, case) if sight.secret else SEALED,
            # who handles it: like a `user` field, hidden from who may not read the report once anyone is recused
            "assigned_to": SEALED if case.recused and not sight.secret else _username(s, case.assigned_user_id),
            "fields": values,
            "clocks": clocks,
            "notices": list(notices.values()),
            "history": history,
            "actions": actions,
            "messages": messages,
            "viewer_roles": sorted(roles),
            # retention destroyed its key: its sealed values, messages and files cannot be opened any more
            **_destroyed(case, lang),
        }


def _destroyed(case: Any, lang: str) -> dict[str, Any]:
    """``destroyed`` and, when it is, the sentence a view shows (:mod:`wbs_engine.retention`)."""
    gone = case.data_key is None
    return {"destroyed": gone, "destroyed_note": render(DESTROYED_NOTE, lang) if gone else None}


def _username(s: Any, user_id: int | None) -> str | None:
    return s.exec(select(User.username).where(User.id == user_id)).first() if user_id is not None else None


def _reporter_refused(case: Any) -> NotAllowed:
    return NotAllowed(
        _("Case {number} is your own report: follow it on the tracking page with its tracking code."),
        number=case.number,
    )


def record_read(
    s: Any,
    engine: WbsEngine,
    case: Any,
    viewer: Actor,
    roles: set[str],
    sight: Sight,
    opened: dict[str, Any],
    messages: list,
    history: list[dict[str, Any]],
) -> None:
    """Append ``case_read`` when this view put anything sealed in front of ``viewer``."""
    fields = sorted(n for n in (case.sealed_fields or []) if n in opened and sight.may_read(n))
    spec = engine.workflow(s, case).definition
    identity = any((f := spec.field(n)) is not None and f.is_identity for n in fields)
    reasons = any("reason" in e["payload"] and not is_sealed(e["payload"]["reason"]) for e in history)
    comments = any("comment" in e["payload"] and not is_sealed(e["payload"]["comment"]) for e in history)
    if not (fields or messages or reasons or comments):
        return
    audit.append(
        s,
        chain=case.number,
        case_id=case.id,
        kind="case_read",
        actor=viewer.username,
        actor_role=sorted(roles - {"pelapor"} or roles)[0] if roles else None,
        now=engine.now(),
        payload={
            "fields": fields,
            "identity": identity,
            "messages": len(messages),
            "reasons": reasons,
            # a survey comment read (the key only when one was: earlier reads keep their shape)
            **({"survey_comment": True} if comments else {}),
        },
    )


def case_history(engine: WbsEngine, number: str, viewer: Actor, lang: str = "id") -> dict[str, Any]:
    """Every event of a case in order, for an auditor (or any reader): actor, role, time in the office's
    zone, states, reason and changed fields (sealed ones only where the workflow lets the viewer read them),
    each event's hash and its predecessor's; and the case's verification (:func:`audit.verify_case`)."""
    view = case_view(engine, number, viewer, lang)
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        defn = engine.workflow(s, case).definition
        cal = engine.calendar(s)
        loaded = engine.workflow(s, case)
        check = audit.verify_case(s, case.number, keyring=engine.keyring, workflows={(defn.key, defn.version): loaded})
        prev_hashes = {e.seq: e.prev_hash for e in audit.chain_events(s, case.number)}

    def state_label(name: str | None) -> str | None:
        return defn.states[name].label.get(lang) if name in defn.states else name

    events = []
    for e in view["history"]:
        payload = e["payload"]
        changed = dict(payload.get("data") or {})
        sealed = payload.get("sealed")
        if isinstance(sealed, dict) and not is_sealed(sealed):
            changed.update(sealed)
        elif is_sealed(sealed):
            changed.update({n: SEALED for n in payload.get("sealed_fields") or []})
        local = cal.local(datetime.fromisoformat(e["at"]))
        events.append(
            {
                **e,
                "local_time": local.strftime("%Y-%m-%d %H:%M"),
                "zone": engine.settings.zone_label,
                "from_label": state_label(e["from_state"]),
                "to_label": state_label(e["to_state"]),
                "reason": payload.get("reason"),
                "changed": changed,
                "prev_hash": prev_hashes.get(e["seq"]),
            }
        )
    return {
        "destroyed": view["destroyed"],
        "destroyed_note": view["destroyed_note"],
        "case": {k: v for k, v in view.items() if k != "history"},
        "events": events,
        "check": {
            "ok": check.ok,
            "problems": [p.message(lang) for p in check.problems],
            "events": check.events,
            "checkpoint": check.checkpoint,
            "checkpoint_at": check.checkpoint_at.isoformat() if check.checkpoint_at else None,
            "sealed_seq": check.sealed_seq,
            "unsealed": check.unsealed,
        },
    }


def _staff_fields(defn: Any) -> frozenset[str]:
    """The workflow's fields that name a staff member (``type: user``)."""
    return frozenset(f.name for f in (*defn.intake, *defn.fields) if f.type == "user")


def _event_view(
    e: audit.EventRow, sight: Sight, key: Any, lang: str, hidden: frozenset[str] = frozenset()
) -> dict[str, Any]:
    payload = dict(e.payload or {})
    if hidden and isinstance(payload.get("data"), dict):
        payload["data"] = {k: (SEALED if k in hidden else v) for k, v in payload["data"].items()}
    actor = e.actor
    if not sight.identity:
        # who reported is part of the identity: the account that filed, and the reporter's own events
        if "filed_by" in payload:
            payload["filed_by"] = SEALED
        if e.actor_role == "pelapor" or e.kind == "created":
            actor = REPORTER
    if not sight.secret:
        # routing effects name people (an official recused because of the report): for readers of the report
        for k in ("recused", "assigned_to", "declaration"):
            if k in payload:
                payload[k] = SEALED
    blob = payload.pop("sealed", None)
    payload.pop("reason_sealed", None)
    if blob:
        opened = key.open(blob) if key is not None else None
        if opened is None:
            payload["sealed"] = SEALED
        else:
            shown = {k: (v if sight.may_read(k) else SEALED) for k, v in (opened.get("fields") or {}).items()}
            if shown:
                payload["sealed"] = shown
            if "reason" in opened:
                payload["reason"] = opened["reason"] if sight.secret else SEALED
            if "filename" in opened:  # attachment_added: the reporter sees the names of their own files only
                mine = sight.reporter and payload.get("by_reporter") is True
                payload["filename"] = opened["filename"] if (sight.handler or mine) else SEALED
            if "comment" in opened:  # rated: the reporter's comment on the handling, like their messages
                payload["comment"] = opened["comment"] if sight.secret else SEALED
    return {
        "seq": e.seq,
        "kind": e.kind,
        "trigger": e.trigger,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "actor": actor,
        "role": e.actor_role,
        "at": e.occurred_at.isoformat(),
        "payload": payload,
        "hash": e.hash,
        "broken": e.broken.render(lang) if e.broken is not None else None,
    }


def queue_filters(engine: WbsEngine, viewer: Actor, lang: str = "id") -> dict[str, list[tuple[str, str]]]:
    """The choices of the queue page's filters: the units and the case types ``viewer``'s grants cover, each
    (code, label). A grant for every unit offers every unit; a type is offered when one of the viewer's roles
    works on it (a handler role of its workflow)."""
    from .models import Unit
    from .permissions import handler_roles

    with unit_of_work(engine.db, write=False) as s:
        all_units = s.exec(select(Unit).order_by(Unit.code)).all()
        types = []
        for key in sorted(engine.registry.keys):
            defn = engine.registry.latest(key).definition
            roles = handler_roles(defn)
            if any(g.role in roles and g.case_type in (None, key) for g in viewer.grants):
                types.append((key, defn.label.get(lang)))
        held = {g.unit_code for g in viewer.grants}
        units = [(u.code, u.name) for u in all_units if None in held or u.code in held]
        return {"units": units, "types": types}


def unit_choices(engine: WbsEngine) -> list[tuple[str, str]]:
    """Every unit (code, name), for a ``unit`` field of an action (e.g. disposisi's ``unit_tujuan``)."""
    from .models import Unit

    with unit_of_work(engine.db, write=False) as s:
        return [(u.code, u.name) for u in s.exec(select(Unit).order_by(Unit.code)).all()]
