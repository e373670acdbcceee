"""Read models of a case for the CLI, the web app and exports, filtered by what the viewer may see.

Identity fields are shown only to ``visibility.identity`` roles (and, when the reporter chose an open
identity, to the roles that may read confidential fields); confidential fields only to
``visibility.confidential_fields`` roles; the reporter sees what they wrote. Everyone else sees
``[rahasia]`` for each sealed field the case holds, and nothing for fields it does not hold.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from .clocks import late_notices
from .db import unit_of_work
from .definition import WorkflowDef
from .engine import CONFIDENTIAL, Actor, WbsEngine, _row_to_state
from .errors import NotAllowed
from .models import CaseEvent, Clock


def readable_roles(defn: WorkflowDef, held: set[str]) -> set[str]:
    """The roles that let a viewer read a case of ``defn``: a role the workflow gives work or sight to,
    the auditor, or being the reporter. Holding an unrelated role (the UPG on a complaint, an employee on
    someone else's report) gives nothing."""
    named = {r for t in defn.transitions for r in t.roles} | set(defn.visibility.identity)
    named |= set(defn.visibility.confidential_fields) | {"auditor", "pelapor"}
    return (held & named) - {"system"}


def case_view(engine: WbsEngine, number: str, viewer: Actor | None, lang: str = "id") -> dict[str, Any]:
    """``viewer`` None is the server console: it sees the case but not sealed data."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        defn = engine.workflow(s, case).definition
        roles = readable_roles(defn, viewer.roles_for(case)) if viewer else set()
        if viewer is not None and not roles:
            raise NotAllowed(
                f"{viewer.username} tidak berwenang melihat perkara {case.number}.",
                f"{viewer.username} may not see case {case.number}.",
            )
        vis = defn.visibility
        handler = bool(roles & set(vis.confidential_fields))
        # rahasia: the identity is kept but only the roles the workflow names see it; terbuka: the reporter
        # chose an open identity, so whoever may read the report may read who wrote it
        see_identity = (
            "pelapor" in roles or bool(roles & set(vis.identity)) or (case.identity_mode == "terbuka" and handler)
        )
        see_secret = "pelapor" in roles or handler
        values: dict[str, Any] = dict(case.data or {})
        ident = (engine.vault.decrypt(case.identity_enc) or {}) if see_identity else None
        secret = (engine.vault.decrypt(case.confidential_enc) or {}) if see_secret else None
        for name in case.sealed_fields or []:
            spec = defn.field(name)
            source = ident if spec is not None and spec.identity else secret
            values[name] = CONFIDENTIAL if source is None else source.get(name, CONFIDENTIAL)
        clocks = []
        rows = s.exec(select(Clock).where(Clock.case_id == case.id).order_by(Clock.id)).all()
        # e.g. a gift reported after the legal limit: the text the workflow gives for it (late_notice)
        notices = {name: text.get(lang) for name, text in late_notices(defn.clocks, [_row_to_state(c) for c in rows])}
        for c in rows:
            spec = defn.clocks.get(c.name)
            clocks.append(
                {
                    "name": c.name,
                    "label": spec.label.get(lang) if spec else c.name,
                    "status": c.status,
                    "limit": f"{c.limit_days} {'HK' if c.limit_unit == 'working' else 'hari'}",
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
                    "outcome": _row_to_state(c).outcome,
                    "next_action_at": c.next_action_at.isoformat() if c.next_action_at else None,
                    "source": spec.source if spec else None,
                    "unverified": spec.unverified if spec else None,
                    "office_policy": spec.office_policy if spec else None,
                    "late_notice": notices.get(c.name),
                }
            )
        history = []
        for e in s.exec(select(CaseEvent).where(CaseEvent.chain == case.number).order_by(CaseEvent.seq)).all():
            payload = {k: v for k, v in (e.payload or {}).items() if k != "sealed"}
            if "sealed" in (e.payload or {}) and e.payload["sealed"]:
                payload["sealed"] = CONFIDENTIAL
            history.append(
                {
                    "seq": e.seq,
                    "kind": e.kind,
                    "trigger": e.trigger,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "actor": e.actor,
                    "role": e.actor_role,
                    "at": e.occurred_at.isoformat(),
                    "payload": payload,
                    "hash": e.hash,
                }
            )
        messages = engine.messages(s, case) if (see_secret or viewer is None) else []
        if viewer is None:
            messages = [{**m, "body": CONFIDENTIAL} for m in messages]
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
            "recused": case.recused,
            "fields": values,
            "clocks": clocks,
            "notices": list(notices.values()),
            "history": history,
            "actions": actions,
            "messages": messages,
            "viewer_roles": sorted(roles),
        }
