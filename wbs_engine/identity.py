"""Identity on request: a handler who may read a *rahasia* report but not who wrote it asks to see the
reporter's identity, with a reason; a holder of a role the workflow names (``visibility.identity_on_request:
{approvers: [...], hours: N}``) approves or refuses; an approval opens the identity to that handler alone, on
that case alone, until ``expires_at`` (N hours after the decision).

Rules (each one refused with a clear message, in the reader's language):

* **who may ask**: a staff user who may read the report (a ``visibility.confidential_fields`` role on the
  case, not recused) and does not already see the identity; one pending request per user and case; the
  reason is at least 10 characters and sealed with the case key (row and trail hold only its ciphertext /
  digest). Only on an open case whose identity mode is ``rahasia``: an ``anonim`` case has no identity, a
  ``terbuka`` one is open to the readers already.
* **who decides**: a holder of an approver role on the case (its unit and type), not recused, not the
  requester. A request is decided once; the requester may withdraw it while it is pending.
* **what an approval gives**: :func:`granted` is True for the requester on that case until it expires;
  :class:`~wbs_engine.permissions.Sight` then opens the identity and contact fields (``identity_granted``).
  Every view that puts the identity in front of them through the approval appends ``identity_opened``
  (each view, not only the first: the trail says how the window was used; ``case_read`` records the fields).
* **who learns what**: the case page's list (:func:`identity_requests`) shows who asked, when, the status
  and the expiry to the readers of the report; the reason and the decision's note only to the requester and
  the approvers. The reporter's tracking page (:func:`openings`) says that their identity was opened, to
  which role and until when — never to whom. No e-mail carries the reason or a name of the requester to
  the reporter.

Events, all on the case's chain: ``identity_requested`` (``request``, ``reason_sha256``),
``identity_request_decided`` (``request``, ``decision``, ``expires_at``, ``note_sha256``),
``identity_request_withdrawn`` (``request``), ``identity_opened`` (``request``). ``wbs verify-audit`` does not
compare ``identity_request`` rows with these events (they change no case row it replays); the digests of
the sealed reason and note let an auditor tie a row to its event.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from . import audit, fields, notify, textsafe
from .db import unit_of_work
from .definition import IdentityOnRequest, WorkflowDef
from .engine import WbsEngine
from .errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed, WbsError
from .i18n import gettext_noop as _
from .i18n import lang_of
from .models import Case, IdentityRequest, User
from .permissions import Actor, Sight, has_access, no_access, readable_roles, reporter_only
from .roles import ROLES

#: the shortest reason a request accepts, and the longest reason or note
MIN_REASON = 10
MAX_TEXT = 2000

PENDING, APPROVED, REFUSED, WITHDRAWN = "pending", "approved", "refused", "withdrawn"


class AlreadyRequested(WbsError):
    """The user already has a pending request on this case."""

    status, code = 409, "identity_request_pending"


def spec_of(defn: WorkflowDef) -> IdentityOnRequest | None:
    return defn.visibility.identity_on_request


def grant(session: Session, case_id: int, user_id: int | None, now: datetime) -> int | None:
    """The id of the approved, unexpired request that opens case ``case_id``'s identity to ``user_id``."""
    if user_id is None:
        return None
    return session.exec(
        select(IdentityRequest.id)
        .where(
            IdentityRequest.case_id == case_id,
            IdentityRequest.requested_by == user_id,
            IdentityRequest.status == APPROVED,
            IdentityRequest.expires_at > now,
        )
        .order_by(IdentityRequest.expires_at.desc())
    ).first()


def granted(session: Session, case_id: int, user_id: int | None, now: datetime) -> bool:
    """Does an approved, unexpired request open case ``case_id``'s identity to ``user_id``?"""
    return grant(session, case_id, user_id, now) is not None


def sight_for(session: Session, engine: WbsEngine, defn: WorkflowDef, case: Any, viewer: Actor | None, roles: set[str]):
    """The :class:`Sight` of ``viewer`` on ``case``, an approved request counted, and that request's id (or
    None). What the staff read models call instead of building the Sight themselves."""
    req = None
    if viewer is not None and viewer.kind == "user" and case.identity_mode == "rahasia" and spec_of(defn):
        req = grant(session, case.id, viewer.user_id, engine.now())
    sight = Sight(defn, case, roles, identity_granted=req is not None)
    return sight, (req if sight.by_request else None)


def record_opened(
    session: Session,
    engine: WbsEngine,
    case: Any,
    defn: WorkflowDef,
    viewer: Actor,
    request_id: int,
    roles: set[str],
    opened: dict[str, Any],
) -> None:
    """``identity_opened`` when this view showed ``viewer`` an identity or contact value (``opened``: the
    sealed values the view decrypted) through request ``request_id``."""
    if not any((f := defn.field(n)) is not None and f.is_identity for n in opened):
        return
    role = sorted(roles - {"pelapor"} or roles)[0] if roles else None
    audit.append(
        session,
        chain=case.number,
        case_id=case.id,
        kind="identity_opened",
        actor=viewer.username,
        actor_role=role,
        now=engine.now(),
        payload={"request": request_id},
    )


def _digest(sealed: str | None) -> str | None:
    return hashlib.sha256(sealed.encode()).hexdigest() if sealed else None


def _text(value: str | None, name: str, *, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not textsafe.storable(text):
        raise ValidationFailed({name: fields.UNSTORABLE})
    if required and len(text) < MIN_REASON:
        raise ValidationFailed({name: _("write why you need it (at least 10 characters)")})
    if len(text) > MAX_TEXT:
        raise ValidationFailed({name: _("at most 2000 characters")})
    return text


def _readers(defn: WorkflowDef, case: Any, actor: Actor) -> set[str]:
    """The roles in which ``actor`` reads the report of ``case`` (empty: they do not)."""
    if actor.kind != "user" or not has_access(defn, case, actor) or reporter_only(defn, case, actor):
        return set()
    return readable_roles(defn, actor.roles_for(case)) & set(defn.visibility.confidential_fields)


def approver_roles(defn: WorkflowDef, case: Any, actor: Actor) -> set[str]:
    """The approver roles ``actor`` holds on ``case`` (none when recused or without access)."""
    spec = spec_of(defn)
    if spec is None or actor.kind != "user" or not has_access(defn, case, actor):
        return set()
    return actor.roles_for(case) & set(spec.approvers)


def _request_refusal(s: Session, engine: WbsEngine, defn: WorkflowDef, case: Any, actor: Actor) -> WbsError | None:
    """Why ``actor`` may not ask to see the identity on ``case`` now, or None."""
    if actor.kind != "user" or not has_access(defn, case, actor):
        return no_access(actor, case)
    if spec_of(defn) is None:
        return InvalidTransition(_("No one can ask to see the reporter's identity on this type of case."))
    if case.identity_mode == "anonim":
        return InvalidTransition(_("Case {number} is anonymous: there is no identity to open."), number=case.number)
    if case.identity_mode != "rahasia":
        return InvalidTransition(
            _("The reporter of case {number} chose an open identity: readers of the report already see it."),
            number=case.number,
        )
    roles = readable_roles(defn, actor.roles_for(case))
    sight, _req = sight_for(s, engine, defn, case, actor, roles)
    if sight.identity:
        return InvalidTransition(_("You can already see the reporter's identity on case {number}."), number=case.number)
    if not _readers(defn, case, actor):
        return NotAllowed(
            _("Only a handler who may read the report of case {number} may ask to see who wrote it."),
            number=case.number,
        )
    if case.final:
        return InvalidTransition(_("Case {number} is closed."), number=case.number)
    pending = s.exec(
        select(IdentityRequest.id).where(
            IdentityRequest.case_id == case.id,
            IdentityRequest.requested_by == actor.user_id,
            IdentityRequest.status == PENDING,
        )
    ).first()
    if pending is not None:
        return AlreadyRequested(
            _("You already asked to see the identity on case {number}; wait for the decision."), number=case.number
        )
    return None


def request_identity(engine: WbsEngine, number: str, actor: Actor, reason: str) -> int:
    """Ask to see the identity of case ``number``'s reporter; returns the request's id. The approvers get an
    e-mail without the reason (:mod:`wbs_engine.notify`)."""
    reason = _text(reason, "alasan", required=True)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        engine.case_for(s, number, actor)  # a tracking code: the tracking page's answer for any other number
        case = engine.get_case(s, number, lock=True)
        defn = engine.workflow(s, case).definition
        refusal = _request_refusal(s, engine, defn, case, actor)
        if refusal is not None:
            raise refusal
        role = sorted(_readers(defn, case, actor))[0]
        sealed = engine.case_key(case).seal(reason)
        row = IdentityRequest(
            case_id=case.id,
            requested_by=actor.user_id,
            requester_role=role,
            reason_enc=sealed,
            status=PENDING,
            created_at=now,
        )
        s.add(row)
        s.flush()
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="identity_requested",
            actor=actor.username,
            actor_role=role,
            now=now,
            payload={"request": row.id, "reason_sha256": _digest(sealed)},
        )
        spec = spec_of(defn)
        for user in notify.users_with_roles(s, set(spec.approvers), case, engine.staff_directory(s)):
            if not user.email or user.id == actor.user_id:
                continue
            vals = notify.case_values(engine, defn, case, user.lang)
            notify.queue(
                s,
                keyring=engine.keyring,
                kind="identity_request",
                recipient=user.email,
                lang=user.lang,
                now=now,
                case_id=case.id,
                dedupe_key=f"identity:{row.id}:{user.id}",
                **{
                    **vals,
                    "name": user.full_name or user.username,
                    "link": f"{engine.settings.base_url}/staf/identitas",
                },
            )
        return row.id


def _load(s: Session, case: Case, request_id: int) -> IdentityRequest:
    row = s.get(IdentityRequest, request_id) if isinstance(request_id, int) else None
    if row is None or row.case_id != case.id:
        raise NotFound(
            _("Identity request {request} not found on case {number}."), request=request_id, number=case.number
        )
    return row


def decide_identity_request(
    engine: WbsEngine, number: str, request_id: int, actor: Actor, approve: bool, note: str | None = None
) -> None:
    """Approve or refuse a pending request. An approval opens the identity to the requester until now +
    ``hours``; the requester gets an e-mail, and on approval the reporter too (the role, never the name)."""
    note = _text(note, "catatan", required=False)
    now = engine.now()
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        engine.case_for(s, number, actor)
        case = engine.get_case(s, number, lock=True)
        defn = engine.workflow(s, case).definition
        if actor.kind != "user" or not has_access(defn, case, actor):
            raise no_access(actor, case)
        row = _load(s, case, request_id)
        roles = approver_roles(defn, case, actor)
        spec = spec_of(defn)
        if not roles or spec is None:
            raise NotAllowed(
                _("Only {roles} may decide identity requests on case {number}."),
                roles=", ".join(spec.approvers) if spec else "-",
                number=case.number,
            )
        if row.requested_by == actor.user_id:
            raise NotAllowed(_("You may not decide your own request."))
        if row.status != PENDING:
            raise InvalidTransition(_("This request was already decided or withdrawn."))
        role = sorted(roles)[0]
        sealed = engine.case_key(case).seal(note) if note else None
        row.status = APPROVED if approve else REFUSED
        row.decided_by, row.decider_role, row.decided_at, row.note_enc = actor.user_id, role, now, sealed
        row.expires_at = now + timedelta(hours=spec.hours) if approve else None
        s.add(row)
        s.flush()
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="identity_request_decided",
            actor=actor.username,
            actor_role=role,
            now=now,
            payload={
                "request": row.id,
                "decision": row.status,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "note_sha256": _digest(sealed),
            },
        )
        _notify_decision(s, engine, defn, case, row)


def _notify_decision(s: Session, engine: WbsEngine, defn: WorkflowDef, case: Any, row: IdentityRequest) -> None:
    requester = s.get(User, row.requested_by)
    cal = engine.calendar(s)
    until = cal.local(row.expires_at).strftime("%Y-%m-%d %H:%M") if row.expires_at else ""
    if requester is not None and requester.email and requester.active:
        vals = notify.case_values(engine, defn, case, requester.lang)
        notify.queue(
            s,
            keyring=engine.keyring,
            kind="identity_approved" if row.status == APPROVED else "identity_refused",
            recipient=requester.email,
            lang=requester.lang,
            now=row.decided_at,
            case_id=case.id,
            dedupe_key=f"identity-decided:{row.id}",
            **{
                **vals,
                "name": requester.full_name or requester.username,
                "until": until,
                "link": f"{engine.settings.base_url}/staf/perkara/{case.number}",
            },
        )
    if row.status != APPROVED:
        return
    email = notify.reporter_email(engine, defn, case)
    if email:
        lang = "id"
        vals = notify.reporter_values(engine, defn, case, lang)
        notify.queue(
            s,
            keyring=engine.keyring,
            kind="reporter_identity",
            recipient=notify.VAULT_PREFIX + engine.keyring.seal_office(email),
            lang=lang,
            now=row.decided_at,
            case_id=case.id,
            dedupe_key=f"reporter-identity:{row.id}",
            **{**vals, "role": role_label(row.requester_role, lang), "until": until},
        )


def withdraw_identity_request(engine: WbsEngine, number: str, request_id: int, actor: Actor) -> None:
    """The requester withdraws their pending request."""
    now = engine.now()
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        engine.case_for(s, number, actor)
        case = engine.get_case(s, number, lock=True)
        defn = engine.workflow(s, case).definition
        if actor.kind != "user" or not has_access(defn, case, actor):
            raise no_access(actor, case)
        row = _load(s, case, request_id)
        if row.requested_by != actor.user_id:
            raise NotAllowed(_("Only who asked may withdraw a request."))
        if row.status != PENDING:
            raise InvalidTransition(_("This request was already decided or withdrawn."))
        row.status, row.decided_at = WITHDRAWN, now
        s.add(row)
        s.flush()
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="identity_request_withdrawn",
            actor=actor.username,
            actor_role=row.requester_role,
            now=now,
            payload={"request": row.id},
        )


def role_label(role: str, lang: str) -> str:
    """A role's name in ``lang`` (the fixed role registry, :mod:`wbs_engine.roles`)."""
    labels = ROLES.get(role)
    return labels[lang_of(lang)] if labels else role


STATUS_LABELS = {
    PENDING: _("waiting for a decision"),
    APPROVED: _("approved"),
    REFUSED: _("refused"),
    WITHDRAWN: _("withdrawn"),
    "expired": _("approved, expired"),
}


def _status(row: IdentityRequest, now: datetime) -> str:
    if row.status == APPROVED and row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return row.status


def _requests(
    s: Session, engine: WbsEngine, defn: WorkflowDef, case: Any, viewer: Actor, lang: str
) -> list[dict[str, Any]]:
    from .i18n import render

    approver = bool(approver_roles(defn, case, viewer))
    if not (approver or _readers(defn, case, viewer)):
        return []
    rows = s.exec(select(IdentityRequest).where(IdentityRequest.case_id == case.id).order_by(IdentityRequest.id)).all()
    if not rows:
        return []
    ids = {r.requested_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    names = dict(s.exec(select(User.id, User.username).where(User.id.in_(ids))).all())
    key = engine.case_key(case) if case.data_key else None
    cal = engine.calendar(s)
    now = engine.now()

    def local(moment: datetime | None) -> str | None:
        return cal.local(moment).strftime("%Y-%m-%d %H:%M") if moment else None

    out = []
    for r in rows:
        mine = r.requested_by == viewer.user_id
        status = _status(r, now)
        out.append(
            {
                "id": r.id,
                "requested_by": names.get(r.requested_by, "?"),
                "role": r.requester_role,
                "role_label": role_label(r.requester_role, lang),
                "at": local(r.created_at),
                "status": status,
                "status_label": render(STATUS_LABELS[status], lang),
                "decided_by": names.get(r.decided_by) if r.decided_by else None,
                "decided_at": local(r.decided_at),
                "expires_at": local(r.expires_at),
                # the reason and the note: to the requester and the approvers only
                "reason": key.open(r.reason_enc) if (key and (mine or approver)) else None,
                "note": key.open(r.note_enc) if (key and r.note_enc and (mine or approver)) else None,
                "mine": mine,
                "may_decide": approver and r.status == PENDING and not mine,
                "may_withdraw": mine and r.status == PENDING,
            }
        )
    return out


def identity_requests(engine: WbsEngine, number: str, viewer: Actor, lang: str = "id") -> list[dict[str, Any]]:
    """The identity requests of case ``number`` for its staff page: who asked (username and role), when, the
    status (``pending``, ``approved``, ``expired``, ``refused``, ``withdrawn``), who decided, until when; the
    reason and the note only to the requester and the approvers. Empty to a viewer who reads neither the
    report nor decides; a viewer without access gets the usual refusal."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, viewer)
        defn = engine.workflow(s, case).definition
        if viewer.kind != "user" or not has_access(defn, case, viewer):
            raise no_access(viewer, case)
        return _requests(s, engine, defn, case, viewer, lang)


def panel(engine: WbsEngine, number: str, viewer: Actor, lang: str = "id") -> dict[str, Any] | None:
    """What the identity panel of the case page shows ``viewer``: the usual refusal to a viewer without
    access; None when the case type has no identity requests or the viewer neither reads the report nor
    decides; else whether they may ask now (and why not), the hours an approval lasts, until when their own
    approval runs, and the requests (:func:`identity_requests`). Writes nothing."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, viewer)
        defn = engine.workflow(s, case).definition
        if viewer.kind != "user" or not has_access(defn, case, viewer):
            raise no_access(viewer, case)
        spec = spec_of(defn)
        if spec is None:
            return None
        approver = bool(approver_roles(defn, case, viewer))
        if not (approver or _readers(defn, case, viewer)):
            return None
        refusal = _request_refusal(s, engine, defn, case, viewer)
        req = grant(s, case.id, viewer.user_id, engine.now()) if case.identity_mode == "rahasia" else None
        until = None
        if req is not None:
            row = s.get(IdentityRequest, req)
            until = engine.calendar(s).local(row.expires_at).strftime("%Y-%m-%d %H:%M")
        return {
            "number": case.number,
            "identity_mode": case.identity_mode,
            "hours": spec.hours,
            "approver": approver,
            "can_request": refusal is None,
            "why_not": refusal.message(lang) if refusal is not None and req is None else None,
            "granted_until": until,
            # the identity and contact fields of this type: what an approval opens (their values come from
            # views.case_view, which records each showing)
            "identity_fields": [
                {"name": f.name, "label": f.label.get(lang)} for f in (*defn.intake, *defn.fields) if f.is_identity
            ],
            "requests": _requests(s, engine, defn, case, viewer, lang),
        }


def pending_for_approver(engine: WbsEngine, actor: Actor, lang: str = "id", limit: int = 200) -> list[dict[str, Any]]:
    """The pending requests ``actor`` may decide (an approver role on the case, not recused, not their own),
    oldest first: case number, type, who asked in which role, when, the reason (approvers read it)."""
    if actor.kind != "user" or not actor.grants:
        return []
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        rows = s.exec(
            select(IdentityRequest, Case)
            .join(Case, Case.id == IdentityRequest.case_id)
            .where(IdentityRequest.status == PENDING)
            .order_by(IdentityRequest.id)
            .limit(limit * 5)
        ).all()
        cal = engine.calendar(s)
        out = []
        for r, case in rows:
            if r.requested_by == actor.user_id:
                continue
            defn = engine.workflow(s, case).definition
            if not approver_roles(defn, case, actor):
                continue
            who = s.get(User, r.requested_by)
            out.append(
                {
                    "id": r.id,
                    "number": case.number,
                    "type_label": defn.label.get(lang),
                    "state_label": defn.states[case.state].label.get(lang),
                    "requested_by": who.username if who else "?",
                    "role_label": role_label(r.requester_role, lang),
                    "at": cal.local(r.created_at).strftime("%Y-%m-%d %H:%M"),
                    "reason": engine.case_key(case).open(r.reason_enc) if case.data_key else None,
                    "hours": spec_of(defn).hours if spec_of(defn) else None,
                }
            )
            if len(out) >= limit:
                break
        return out


def openings(session: Session, engine: WbsEngine, case: Any, lang: str) -> list[dict[str, Any]]:
    """For the reporter's tracking page: each approved request on their case — the requester's ROLE in the
    reporter's language, when it was approved and until when (office time), and whether it is still open.
    Never who: no username, no name."""
    rows = session.exec(
        select(IdentityRequest.requester_role, IdentityRequest.decided_at, IdentityRequest.expires_at)
        .where(IdentityRequest.case_id == case.id, IdentityRequest.status == APPROVED)
        .order_by(IdentityRequest.decided_at)
    ).all()
    cal = engine.calendar(session)
    now = engine.now()
    return [
        {
            "role_label": role_label(role, lang),
            "at": cal.local(at).strftime("%Y-%m-%d %H:%M"),
            "until": cal.local(until).strftime("%Y-%m-%d %H:%M"),
            "open": until > now,
        }
        for role, at, until in rows
        if at is not None and until is not None
    ]
