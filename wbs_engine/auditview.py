"""The auditor's read models: search every case an auditor's grants cover (open and closed), who viewed or
opened what on one case, and the whole check of the trail with the latest signed head.

Read-only: nothing here changes a case. The case history itself is :func:`wbs_engine.views.case_history`
(which records a ``case_read`` when it puts sealed values in front of the auditor); :func:`ensure_auditor`
says whether a user reads a case **as an auditor** (an ``auditor`` grant covering the case's unit and type,
not recused), so that an auditor limited to one unit or case type cannot reach another's case by its URL,
even when they hold some other role there.

**Search** (:func:`search_cases`): one statement over ``case_file``: the auditor's grants as an OR of
(unit, case type), the filters (type, unit, state, period filed in the office's zone), and a search text
as one range on the ``case_term`` index (:mod:`wbs_engine.search`: the number or plain field values, never a
sealed value). Newest first by id (the filing order), a page at a time with a keyset cursor (the last row's
id), so a later page costs what the first does.

**Access list** (:func:`access_log`): the events of :data:`ACCESS_KINDS` on the case's chain: who, in which
role, when, and what (field names, attachment ids, a request's number; never a value).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, select

from . import audit, textsafe
from . import search as terms
from .db import unit_of_work
from .errors import WbsError
from .i18n import gettext_noop as _
from .models import Case, CaseRecusal, CaseTerm, Unit
from .permissions import Actor, Grant, Sight, no_access, readable_roles

if TYPE_CHECKING:
    from .engine import WbsEngine

AUDITOR = "auditor"
DEFAULT_LIMIT = 25
MAX_LIMIT = 200

#: the events that say someone looked at or opened something of a case (not what was done on it)
ACCESS_KINDS = (
    "case_read",
    "attachments_listed",
    "attachment_opened",
    "attachment_refused",
    "identity_requested",
    "identity_request_decided",
    "identity_request_withdrawn",
    "identity_opened",
)

_c = Case.__table__
_terms = CaseTerm.__table__
_recusals = CaseRecusal.__table__


class AuditSearchError(WbsError):
    """A search that cannot be answered as asked (a hand-edited link, a period that ends before it starts)."""

    status, code = 422, "audit_search_error"


@dataclass(frozen=True)
class AuditItem:
    """One line of the search: no field values, so nothing sealed can be in it."""

    number: str
    case_type: str
    type_label: str
    state: str
    state_label: str
    final: bool
    unit: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class AuditPage:
    items: tuple[AuditItem, ...]
    #: give it back for the next page; None on the last page
    next_cursor: str | None


def auditor_grants(actor: Actor) -> tuple[Grant, ...]:
    return tuple(g for g in actor.grants if g.role == AUDITOR) if actor.kind == "user" else ()


def is_auditor(actor: Actor) -> bool:
    return bool(auditor_grants(actor))


def covers(actor: Actor, case: Any) -> bool:
    """Does one of ``actor``'s auditor grants cover ``case``, and is the actor not kept off it?"""
    return any(g.covers(case) for g in auditor_grants(actor)) and not actor.is_recused(case)


def ensure_auditor(engine: WbsEngine, number: str, actor: Actor) -> None:
    """Refuse (the engine's one refusal, :func:`permissions.no_access`) unless ``actor`` reads ``number`` as an
    auditor; an unknown number is :class:`NotFound`."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        if not covers(actor, case):
            raise no_access(actor, case)


# --- search --------------------------------------------------------------------------------------------------


def search_filters(engine: WbsEngine, actor: Actor, lang: str = "id") -> dict[str, list[tuple[str, str]]]:
    """The choices of the search's filters: the units and case types the auditor's grants cover (code,
    label), and the states of those types (name, "type: state" label)."""
    grants = auditor_grants(actor)
    with unit_of_work(engine.db, write=False) as s:
        all_units = s.exec(select(Unit).order_by(Unit.code)).all()
    held_units = {g.unit_code for g in grants}
    held_types = {g.case_type for g in grants}
    units = [(u.code, u.name) for u in all_units if None in held_units or u.code in held_units]
    types, states = [], []
    for key in sorted(engine.registry.keys):
        if None not in held_types and key not in held_types:
            continue
        defn = engine.registry.latest(key).definition
        types.append((key, defn.label.get(lang)))
        for name, st in defn.states.items():
            states.append((name, f"{defn.label.get(lang)}: {st.label.get(lang)}"))
    seen: dict[str, str] = {}
    for name, label in states:
        seen[name] = f"{seen[name]} / {label}" if name in seen else label
    return {"units": units, "types": types, "states": sorted(seen.items(), key=lambda kv: kv[1])}


def encode_cursor(case_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{case_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        if not raw.startswith("a") or not raw[1:].isdigit() or len(raw) > 20:
            raise ValueError(raw)
        ident = int(raw[1:])
        if not 0 < ident < 2**63:
            raise ValueError(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AuditSearchError(_("Invalid page marker; start the search again from its first page.")) from None
    return ident


def _day_start(d: date, zone: Any) -> datetime:
    return datetime.combine(d, time.min, tzinfo=zone).astimezone(UTC)


def search_statement(
    actor: Actor,
    *,
    prefix: str | None,
    case_type: str | None,
    unit: str | None,
    state: str | None,
    since: datetime | None,
    until: datetime | None,
    after_id: int | None,
    limit: int,
) -> Any:
    """The one statement of a page (``limit + 1`` rows), or None when the actor's grants cover nothing."""
    grants = auditor_grants(actor)
    if not grants:
        return None
    covered = []
    for g in grants:
        parts = []
        if g.unit_code is not None:
            parts.append(_c.c.unit_code == g.unit_code)
        if g.case_type is not None:
            parts.append(_c.c.case_type == g.case_type)
        covered.append(sa.and_(sa.true(), *parts))
    where: list[Any] = [sa.or_(*covered)]
    if actor.user_id is not None:
        where.append(~sa.exists().where(_recusals.c.case_id == _c.c.id, _recusals.c.user_id == actor.user_id))
    if case_type is not None:
        where.append(_c.c.case_type == case_type)
    if unit is not None:
        where.append(_c.c.unit_code == unit)
    if state is not None:
        where.append(_c.c.state == state)
    if since is not None:
        where.append(_c.c.created_at >= since)
    if until is not None:
        where.append(_c.c.created_at < until)
    if prefix is not None:
        found = sa.select(_terms.c.case_id).where(_terms.c.term >= prefix)
        hi = terms.successor(prefix)
        if hi is not None:
            found = found.where(_terms.c.term < hi)
        where.append(_c.c.id.in_(found))
    if after_id is not None:
        where.append(_c.c.id < after_id)
    cols = (
        _c.c.id,
        _c.c.number,
        _c.c.case_type,
        _c.c.workflow_version,
        _c.c.state,
        _c.c.final,
        _c.c.unit_code,
        _c.c.created_at,
        _c.c.closed_at,
    )
    return sa.select(*cols).where(*where).order_by(_c.c.id.desc()).limit(limit + 1)


def search_cases(
    engine: WbsEngine,
    actor: Actor,
    *,
    text: str | None = None,
    case_type: str | None = None,
    unit: str | None = None,
    state: str | None = None,
    filed_from: date | None = None,
    filed_to: date | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    lang: str = "id",
) -> AuditPage:
    """A page of the cases ``actor``'s auditor grants cover, open and closed, newest first.

    ``text``: a case number or words that begin a plain field value (:mod:`wbs_engine.search`); ``filed_from``
    / ``filed_to``: dates in the office's zone, both included. Raises :class:`AuditSearchError` for what
    cannot be searched (a control character, an unknown cursor, a period that ends before it starts, a page
    size out of range)."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise AuditSearchError(_("The page size must be between 1 and {max}."), max=MAX_LIMIT)
    if any(v is not None and not (isinstance(v, str) and textsafe.storable(v)) for v in (text, case_type, unit, state)):
        raise AuditSearchError(_("The search or a filter contains a character that cannot be searched; remove it."))
    if filed_from is not None and filed_to is not None and filed_to < filed_from:
        raise AuditSearchError(_("The period ends before it starts."))
    after = decode_cursor(cursor) if cursor else None
    q = (text or "").strip()
    prefix = terms.prefix_of(q) if q else None
    if q and prefix is None:
        return AuditPage((), None)  # no letter or digit: it matches nothing
    zone = engine.settings.zone
    # the calendar's first and last days bound nothing (no case was filed then), and their start in the zone
    # would leave datetime's range: "from 0001-01-01" is from the start, "until 9999-12-31" to the end
    since = _day_start(filed_from, zone) if filed_from is not None and filed_from > date.min else None
    until = (
        _day_start(date.fromordinal(filed_to.toordinal() + 1), zone)
        if filed_to is not None and filed_to < date.max
        else None
    )
    stmt = search_statement(
        actor,
        prefix=prefix,
        case_type=case_type or None,
        unit=unit or None,
        state=state or None,
        since=since,
        until=until,
        after_id=after,
        limit=limit,
    )
    if stmt is None:
        return AuditPage((), None)
    with unit_of_work(engine.db, write=False) as s:
        rows = s.connection().execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for r in rows:
            defn = engine.registry.get(s, r.case_type, r.workflow_version).definition
            st = defn.states.get(r.state)
            items.append(
                AuditItem(
                    number=r.number,
                    case_type=r.case_type,
                    type_label=defn.label.get(lang),
                    state=r.state,
                    state_label=st.label.get(lang) if st is not None else r.state,
                    final=bool(r.final),
                    unit=r.unit_code,
                    created_at=_aware(r.created_at),
                    closed_at=_aware(r.closed_at) if r.closed_at is not None else None,
                )
            )
    nxt = encode_cursor(rows[-1].id) if more and rows else None
    return AuditPage(tuple(items), nxt)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- who viewed or opened what -------------------------------------------------------------------------------


def _what(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What an access event says was seen: names and ids only, whatever else the payload holds."""
    out: dict[str, Any] = {}
    if kind == "case_read":
        out["fields"] = [str(f) for f in payload.get("fields") or [] if isinstance(f, str)]
        out["identity"] = payload.get("identity") is True
        out["messages"] = payload.get("messages") if isinstance(payload.get("messages"), int) else 0
        out["reasons"] = payload.get("reasons") is True
        out["survey_comment"] = payload.get("survey_comment") is True
    elif kind == "attachments_listed":
        out["attachments"] = [a for a in payload.get("attachments") or [] if isinstance(a, int)]
    elif kind in ("attachment_opened", "attachment_refused"):
        if isinstance(payload.get("attachment_id"), int):
            out["attachments"] = [payload["attachment_id"]]
        if isinstance(payload.get("result"), str):
            out["result"] = payload["result"]
    elif kind.startswith("identity_"):
        if isinstance(payload.get("request"), int):
            out["request"] = payload["request"]
        if isinstance(payload.get("decision"), str):
            out["decision"] = payload["decision"]
    return out


def access_log(engine: WbsEngine, number: str, viewer: Actor, lang: str = "id") -> dict[str, Any]:
    """Who viewed or opened what on case ``number`` (:data:`ACCESS_KINDS`), oldest first, for an auditor
    whose grants cover it: ``{"number", "type_label", "events": [{seq, kind, actor, role, at, local_time,
    what}]}``. Reading this list is not itself recorded: it shows names, never a value."""
    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        if not covers(viewer, case):
            raise no_access(viewer, case)
        defn = engine.workflow(s, case).definition
        roles = readable_roles(defn, viewer.roles_for(case))
        sight = Sight(defn, case, roles)
        cal = engine.calendar(s)
        events = []
        for e in _access_events(s, case.number):
            actor = e.actor
            if not sight.identity and e.actor_role == "pelapor":
                actor = "pelapor"  # who reported is part of the identity
            events.append(
                {
                    "seq": e.seq,
                    "kind": e.kind,
                    "actor": actor,
                    "role": e.actor_role,
                    "at": e.occurred_at.isoformat(),
                    "local_time": cal.local(e.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    "what": _what(e.kind, e.payload or {}),
                }
            )
        return {
            "number": case.number,
            "type_label": defn.label.get(lang),
            "zone": engine.settings.zone_label,
            "events": events,
        }


def _access_events(s: Session, chain: str) -> list[audit.EventRow]:
    return [e for e in audit.chain_events(s, chain) if e.kind in ACCESS_KINDS]


# --- the whole check -----------------------------------------------------------------------------------------


def whole_check(engine: WbsEngine, lang: str = "id") -> dict[str, Any]:
    """:func:`audit.verify` over the whole database (every chain, checkpoint and case row; may take seconds),
    with the latest signed head (:func:`audit.head_line`, None before the first checkpoint) and the office's
    public key."""
    with unit_of_work(engine.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in engine.registry.versions(s)}
        res = audit.verify(s, keyring=engine.keyring, workflows=workflows)
        cp = audit.latest_checkpoint(s)
        cal = engine.calendar(s)
    return {
        "ok": res.ok,
        "events": res.events,
        "chains": res.chains,
        "checkpoints": res.checkpoints,
        "cases": res.cases,
        "problems": [
            {"code": p.code, "message": p.message(lang), "chain": p.chain, "event_id": p.event_id} for p in res.problems
        ],
        "checked_at": cal.local(engine.now()).strftime("%Y-%m-%d %H:%M"),
        "zone": engine.settings.zone_label,
        "head": head_text(engine),
        "head_seq": cp.seq if cp is not None else None,
        "head_at": cal.local(cp.created_at).strftime("%Y-%m-%d %H:%M") if cp is not None else None,
        "key_line": key_line(engine),
        "key_pem": engine.keyring.public_pem(),
    }


def head_text(engine: WbsEngine) -> str | None:
    """The latest signed head as one line (what ``wbs audit-head`` prints), or None before any checkpoint."""
    with unit_of_work(engine.db, write=False) as s:
        cp = audit.latest_checkpoint(s)
        return audit.head_line(cp, engine.keyring.public_b64) if cp is not None else None


def key_line(engine: WbsEngine) -> str:
    """The office's public key as ``wbs audit-key`` prints it."""
    return f"wbs-audit-key/1 id={engine.keyring.key_id} key={engine.keyring.public_b64}"


__all__ = [
    "ACCESS_KINDS",
    "AuditItem",
    "AuditPage",
    "AuditSearchError",
    "access_log",
    "auditor_grants",
    "covers",
    "ensure_auditor",
    "head_text",
    "is_auditor",
    "key_line",
    "search_cases",
    "search_filters",
    "whole_check",
]
