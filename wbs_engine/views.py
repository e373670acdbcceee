"""Read models of a case for the CLI, the web app and exports, filtered by what the viewer may see.

Identity fields are shown only to ``visibility.identity`` roles, confidential fields only to
``visibility.confidential_fields`` roles (and to the reporter, for what they wrote). Everyone else sees
``[rahasia]``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from .db import unit_of_work
from .engine import CONFIDENTIAL, Actor, WbsEngine, _row_to_state
from .errors import NotAllowed
from .models import CaseEvent, Clock


def case_view(engine: WbsEngine, number: str, viewer: Actor | None, lang: str = "id") -> dict[str, Any]:
    """``viewer`` None is the server console: it sees the case but not sealed data."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        defn = engine.workflow(s, case).definition
        roles = viewer.roles_for(case) if viewer else set()
        if viewer is not None and not roles:
            raise NotAllowed(
                f"{viewer.username} tidak berwenang melihat perkara {case.number}.",
                f"{viewer.username} may not see case {case.number}.",
            )
        see_identity = bool(roles & set(defn.visibility.identity)) or "pelapor" in roles
        see_secret = bool(roles & set(defn.visibility.confidential_fields)) or "pelapor" in roles
        values: dict[str, Any] = dict(case.data or {})
        secret = engine.vault.decrypt(case.confidential_enc) if see_secret else None
        ident = engine.vault.decrypt(case.identity_enc) if see_identity else None
        for spec in (*defn.intake, *defn.fields):
            if spec.identity and (case.identity_enc or spec.name in (secret or {})):
                if ident is not None and spec.name in ident:
                    values[spec.name] = ident[spec.name]
                elif see_identity and secret and spec.name in secret:
                    values[spec.name] = secret[spec.name]
                elif case.identity_mode != "anonim":
                    values[spec.name] = CONFIDENTIAL
            elif spec.confidential:
                if secret and spec.name in secret:
                    values[spec.name] = secret[spec.name]
                elif case.confidential_enc and not see_secret:
                    values[spec.name] = CONFIDENTIAL
        clocks = []
        for c in s.exec(select(Clock).where(Clock.case_id == case.id).order_by(Clock.id)).all():
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
            "history": history,
            "actions": actions,
            "messages": messages,
            "viewer_roles": sorted(roles),
        }
