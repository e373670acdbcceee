"""Who handles a case: claim (assign to oneself), release (no one), and assign to a colleague.

Rules (:func:`assign`):

* The actor must be able to read the case (:func:`permissions.ensure_access`: never a recused official, who
  gets the same refusal as anyone without access) and hold a role that works on it: one of the workflow's
  handler roles (:func:`permissions.handler_roles`) through a grant covering the case's unit and type. The
  auditor reads but never assigns; the reporter (also the employee who filed) never assigns.
* **Claim** (the assignee is the actor): any such handler, when the case is unassigned or already theirs.
  Taking over a case someone else holds is an assignment and needs ``pengelola`` or ``atasan``.
* **Assign to someone else** and **take over**: the actor holds ``pengelola`` or ``atasan`` on the case.
* **Release** (``assignee`` None): the assignee themself, or a ``pengelola`` / ``atasan`` on the case.
* The assignee must be an active user holding a handler role on the case, must not be recused from it and
  must not be its reporter (a filer handling their own report is a conflict of interest: they are "kept off
  this case" like a recused official). To a viewer who may read the case's recusals (``Sight.secret``) the
  refusal says so; to anyone else it says only that the user cannot be assigned (a recusal or who reported
  must not be learnt by trying names).
* A closed case is not assigned. Assigning the current assignee again changes nothing and writes nothing.

Every change locks the case first (:func:`writepath.case_for_write`), checks ``expected_version`` after the
access check (a stale one raises :class:`ConcurrentChange`), writes ``assigned_user_id`` with the version
moved on (:func:`writepath.write_case`), and appends the event ``assigned`` with payload ``{"assigned_to":
username or None, "case_version": n}``, which ``verify-audit`` replays, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from . import audit, permissions, textsafe, writepath
from .db import unit_of_work
from .errors import ConcurrentChange, InvalidTransition, NotAllowed, ValidationFailed
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import RoleGrant, User
from .permissions import Actor, Grant, Sight

if TYPE_CHECKING:
    from .engine import WbsEngine

#: roles that may give a case to someone else (or take it from them)
ASSIGNERS = frozenset({"pengelola", "atasan"})

KEPT_OFF = _("kept off this case: conflict of interest")


@dataclass(frozen=True)
class Candidate:
    """One line of the assign form: a user holding a handler role on the case."""

    username: str
    full_name: str
    offered: bool
    why_not: Msg | None = None

    def __iter__(self):  # (username, full_name, offered, why_not), as the brief's tuples
        return iter((self.username, self.full_name, self.offered, self.why_not))


def _handler_roles_on(defn: Any, case: Any, actor: Actor) -> set[str]:
    return actor.roles_for(case) & permissions.handler_roles(defn) if not actor.is_recused(case) else set()


def acting_roles(defn: Any, case: Any) -> set[str]:
    """The staff roles that have something to do on ``case`` at its current stage (a transition from its state
    names them). Claiming is for those: taking a case one can do nothing with at this stage would only hide it
    from those who can. (A pengelola or atasan may still give a case to any handler: e.g. to who acts next.)"""
    return {r for t in defn.transitions_from(case.state) for r in t.roles} - {"pelapor", "system"}


def _staff_on(s: Session, defn: Any, case: Any) -> list[tuple[User, set[str]]]:
    """Active users holding a handler role through a grant that covers ``case``, with those roles."""
    roles = permissions.handler_roles(defn)
    if not roles:
        return []
    rows = s.exec(
        select(User, RoleGrant)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.active == True, RoleGrant.role.in_(sorted(roles)))  # noqa: E712
        .order_by(User.username)
    ).all()
    out: dict[int, tuple[User, set[str]]] = {}
    for user, g in rows:
        if Grant(g.role, g.unit_code, g.case_type).covers(case):
            out.setdefault(user.id, (user, set()))[1].add(g.role)
    return sorted(out.values(), key=lambda x: x[0].username)


def _kept_off(case: Any, user_id: int) -> bool:
    return user_id in case.recused or (case.filed_by_user_id is not None and case.filed_by_user_id == user_id)


def _may_see_recusals(defn: Any, case: Any, actor: Actor) -> bool:
    return Sight(defn, case, permissions.readable_roles(defn, actor.roles_for(case))).secret


def assignable_users(engine: WbsEngine, number: str, actor: Actor) -> list[Candidate]:
    """The users the assign form offers: every active user holding a handler role on the case. Those kept
    off it (recused, or its reporter) are listed with ``offered=False`` and why to a viewer who may read the
    case's recusals; to anyone else they are listed like everyone (``assign`` refuses them in the words it
    uses for anyone who cannot be assigned), so that neither the list nor a gap in it names them. Empty when
    the actor may not assign to anyone but themself (no ``pengelola``/``atasan`` on the case)."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, actor)
        defn = engine.workflow(s, case).definition
        permissions.ensure_access(defn, case, actor)
        if not (_handler_roles_on(defn, case, actor) & ASSIGNERS):
            return []
        sees = _may_see_recusals(defn, case, actor)
        out = []
        for user, _roles in _staff_on(s, defn, case):
            if _kept_off(case, user.id) and sees:
                out.append(Candidate(user.username, user.full_name or user.username, False, Msg(KEPT_OFF)))
                continue
            # to a viewer who may not read the recusals, those kept off are listed like everyone else: a name
            # missing from this case's list alone would tell who reported it or who is recused (assign then
            # refuses them with the one answer it gives for anyone who cannot be assigned)
            out.append(Candidate(user.username, user.full_name or user.username, True))
        return out


def assign(
    engine: WbsEngine,
    number: str,
    actor: Actor,
    assignee: str | None,
    *,
    expected_version: int | None = None,
) -> int:
    """Give case ``number`` to ``assignee`` (a username; the actor's own: claim; None: release). Returns the
    case's version after the change. See the module's rules."""
    if assignee is not None and (not isinstance(assignee, str) or not textsafe.storable(assignee)):
        raise ValidationFailed({"petugas": _("choose a user from the list")})
    assignee = assignee.strip() if assignee is not None else None
    if assignee == "":
        raise ValidationFailed({"petugas": _("choose a user from the list")})
    now = engine.now()
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        if actor.kind != "user":
            raise NotAllowed(_("Only staff assign cases."))
        case = writepath.case_for_write(s, number)
        defn = engine.workflow(s, case).definition
        permissions.ensure_access(defn, case, actor)
        if expected_version is not None and expected_version != case.version:
            raise ConcurrentChange(case.number)
        mine = _handler_roles_on(defn, case, actor)
        if not mine:
            raise NotAllowed(
                _("{user} holds no role that works on case {number}."), user=actor.username, number=case.number
            )
        if case.final:
            raise InvalidTransition(_("Case {number} is closed."), number=case.number)
        target = None
        if assignee is not None:
            target = s.exec(select(User).where(User.username == assignee)).first()
        current = case.assigned_user_id
        assigner = mine & ASSIGNERS
        if assignee is None:
            if current is None:
                return case.version
            if current != actor.user_id and not assigner:
                raise NotAllowed(
                    _("Only the assigned officer, a pengelola or an atasan may release case {number}."),
                    number=case.number,
                )
            role = sorted(assigner)[0] if current != actor.user_id and assigner else sorted(mine)[0]
        else:
            self_claim = target is not None and target.id == actor.user_id
            if self_claim and not mine & acting_roles(defn, case):
                raise NotAllowed(
                    _("Case {number} has nothing for your role to do at this stage; it stays with those who act now."),
                    number=case.number,
                )
            if not self_claim and not assigner:
                raise NotAllowed(
                    _("Only a pengelola or an atasan may assign case {number} to someone else."), number=case.number
                )
            if self_claim and current not in (None, actor.user_id) and not assigner:
                raise NotAllowed(
                    _("Case {number} is already assigned to someone else; a pengelola or an atasan may reassign it."),
                    number=case.number,
                )
            if target is None or not target.active:
                raise ValidationFailed({"petugas": Msg(_("unknown user '{user}'"), user=textsafe.line(assignee))})
            if target.id == current:
                return case.version
            candidates = {u.id for u, _r in _staff_on(s, defn, case)}
            if target.id not in candidates or _kept_off(case, target.id):
                if _may_see_recusals(defn, case, actor):
                    why = (
                        Msg(_("{user} cannot be assigned: {why}"), user=target.username, why=Msg(KEPT_OFF))
                        if _kept_off(case, target.id)
                        else Msg(
                            _("{user} holds no role that works on this case (its unit and type)."), user=target.username
                        )
                    )
                else:  # one answer: a recusal or who reported must not be learnt by trying names
                    why = Msg(_("{user} cannot be assigned to this case."), user=target.username)
                raise ValidationFailed({"petugas": why})
            role = sorted(assigner)[0] if not self_claim else sorted(assigner or mine)[0]
        case.assigned_user_id = target.id if target is not None else None
        case.updated_at = now
        writepath.write_case(s, case)
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="assigned",
            actor=actor.username,
            actor_role=role,
            now=now,
            payload={"assigned_to": target.username if target is not None else None, "case_version": case.version},
        )
        return case.version


def user_choices(engine: WbsEngine, number: str, actor: Actor) -> list[tuple[str, str]]:
    """(username, full name) of the users a ``user`` field of an action on this case may name (e.g. the
    handler a transition assigns): active users holding a handler role on it; those kept off it are left out
    only for a viewer who may read the case's recusals (for anyone else the gap would name them). For a reader
    of the case only."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, actor)
        defn = engine.workflow(s, case).definition
        permissions.ensure_access(defn, case, actor)
        sees = _may_see_recusals(defn, case, actor)
        return [
            (u.username, u.full_name or u.username)
            for u, _r in _staff_on(s, defn, case)
            if not (sees and _kept_off(case, u.id))  # see assignable_users: no gap that names anyone
        ]


@dataclass(frozen=True)
class Abilities:
    """What the case page offers ``actor`` besides the workflow's actions (each checked again when done)."""

    claim: bool
    release: bool
    assign: bool
    message: bool
    note: bool
    attach: bool


def abilities(engine: WbsEngine, number: str, actor: Actor) -> Abilities:
    """Which of claim / release / assign to someone / message the reporter / internal note / attach a file
    the actor may use on case ``number`` now (the rules of :func:`assign`, ``permissions.message_role`` and
    ``permissions.attach_role``). A reader of the case only."""
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, actor)
        defn = engine.workflow(s, case).definition
        permissions.ensure_access(defn, case, actor)
        mine = _handler_roles_on(defn, case, actor) if actor.kind == "user" else set()
        is_filer = case.filed_by_user_id is not None and case.filed_by_user_id == actor.user_id
        open_ = not case.final
        current = case.assigned_user_id
        assigner = bool(mine & ASSIGNERS)
        staff = bool(mine) and not is_filer
        return Abilities(
            claim=open_
            and bool(mine & acting_roles(defn, case))
            and not is_filer
            and current != actor.user_id
            and (current is None or assigner),
            release=open_ and current is not None and (current == actor.user_id or assigner),
            assign=open_ and assigner,
            message=open_ and staff,
            note=open_ and staff,
            attach=open_ and staff,
        )
