"""Who may do what: actors, grants, roles on a case, recusal, reading and firing. Written once, used by the
services, the read models, the scheduler and (later) the web layer.

A staff user holds roles per unit and case type (:class:`Grant`); the reporter holds the role ``pelapor`` on
their own case (through the tracking code, or as the employee who filed it); the scheduler acts as
``system``. A recused official is kept off a case entirely: they can neither act on it nor post on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from . import textsafe
from .definition import TransitionSpec, WorkflowDef
from .errors import NotAllowed, NotFound, OfficeText
from .i18n import gettext_noop as _
from .models import Case, RoleGrant, User


@dataclass(frozen=True)
class Grant:
    """A role for one unit (or all: None) and one case type (or all: None)."""

    role: str
    unit_code: str | None = None
    case_type: str | None = None

    def covers(self, case: Any) -> bool:
        return (self.unit_code is None or self.unit_code == case.unit_code) and (
            self.case_type is None or self.case_type == case.case_type
        )

    def __str__(self) -> str:
        return ":".join(x for x in (self.role, self.unit_code or "*", self.case_type or "*"))


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user with grants, the reporter holding a case's tracking code, or the scheduler."""

    username: str
    kind: str = "user"  # user | reporter | system
    user_id: int | None = None
    grants: tuple[Grant, ...] = ()
    case_id: int | None = None
    lang: str = "id"

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system", kind="system")

    @classmethod
    def reporter(cls, case_id: int) -> Actor:
        return cls(username="pelapor", kind="reporter", case_id=case_id)

    def roles_for(self, case: Any) -> set[str]:
        """The roles this actor holds on ``case`` (its unit and type), ``pelapor`` included for its filer."""
        if self.kind == "system":
            return {"system"}
        if self.kind == "reporter":
            return {"pelapor"} if case.id is not None and case.id == self.case_id else set()
        roles = {g.role for g in self.grants if g.covers(case)}
        if self.user_id is not None and case.filed_by_user_id == self.user_id:
            roles.add("pelapor")
        return roles

    def is_recused(self, case: Any) -> bool:
        """Kept off ``case`` (``case.recused``: the ids of the recused users, from ``case_recusal``)."""
        return self.kind == "user" and self.user_id is not None and self.user_id in case.recused


def load_actor(session: Session, username: str) -> Actor:
    """A staff actor with the grants the database holds for them now."""
    user = (
        session.exec(select(User).where(User.username == username)).first()
        if isinstance(username, str) and textsafe.storable(username)
        else None
    )
    if user is None or not user.active:
        raise NotFound(_("Unknown or inactive user '{user}'."), user=textsafe.line(username))
    grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    return Actor(
        username=user.username,
        user_id=user.id,
        lang=user.lang,
        grants=tuple(Grant(g.role, g.unit_code, g.case_type) for g in grants),
    )


def no_access(actor: Actor, case: Any) -> NotAllowed:
    """The one refusal for a staff member who may neither read nor act on ``case``: the same words for a
    recused official as for anyone without a role there, and nothing about the case's state, unit or
    outcome (a recusal or a case's fate must not be learnt by trying)."""
    return NotAllowed(_("{user} may not see case {number}."), user=actor.username, number=case.number)


def has_access(defn: WorkflowDef, case: Any, actor: Actor) -> bool:
    """May ``actor`` read or act on ``case`` at all (:func:`readable_roles`, never when recused)? The
    scheduler always may."""
    if actor.kind == "system":
        return True
    return not actor.is_recused(case) and bool(readable_roles(defn, actor.roles_for(case)))


def ensure_access(defn: WorkflowDef, case: Any, actor: Actor) -> None:
    """:func:`has_access`, or :func:`no_access`. Checked before anything that would describe the case in a
    refusal (its state, the actions it allows, whether it is closed and how, its unit)."""
    if not has_access(defn, case, actor):
        raise no_access(actor, case)


def reporter_only(defn: WorkflowDef, case: Any, actor: Actor) -> bool:
    """Is ``actor`` on ``case`` only as its reporter: a tracking code, or the employee who filed it from
    their account and holds no staff role that reads it? They get the reporter's view and the reporter's
    words, never the staff's (:mod:`wbs_engine.tracking`)."""
    if actor.kind == "reporter":
        return True
    return actor.kind == "user" and readable_roles(defn, actor.roles_for(case)) == {"pelapor"}


def may_fire(defn: WorkflowDef, case: Any, t: TransitionSpec, actor: Actor) -> str | None:
    """The role in which ``actor`` may fire ``t`` on ``case``, or None (recusal, roles, unit, case type).
    Guards are checked when firing; this is what can be known before any input."""
    if actor.is_recused(case):
        return None
    held = actor.roles_for(case)
    return next((r for r in t.roles if r in held), None)


def authorise(defn: WorkflowDef, case: Any, t: TransitionSpec, actor: Actor) -> str:
    """:func:`may_fire`, or a clear refusal: to a reader of the case, which role, unit and type were needed;
    to anyone else (a recused official included), :func:`no_access`."""
    ensure_access(defn, case, actor)
    role = may_fire(defn, case, t, actor)
    if role is None:
        raise NotAllowed(
            _(
                "{user} may not run '{trigger}' on case {number} (needs role: {roles}, for unit {unit} and type "
                "{type})."
            ),
            user=actor.username,
            trigger=t.trigger,
            number=case.number,
            roles=", ".join(t.roles),
            unit=case.unit_code or "-",
            type=case.case_type,
        )
    return role


def check_filer(defn: WorkflowDef, filer: Actor | None) -> None:
    """May ``filer`` (None: the public web form, no account) file a case of ``defn``?"""
    if filer is None:
        if "public" not in defn.filed_by:
            raise NotAllowed(_("{type} can only be filed by a signed-in employee."), type=OfficeText(defn.label))
        return
    if filer.kind == "system":
        return
    staff_roles = {g.role for g in filer.grants if g.case_type in (None, defn.key)}
    allowed = set(defn.filed_by) - {"public"}
    if allowed and not (staff_roles & allowed) and "public" not in defn.filed_by:
        raise NotAllowed(_("Your roles may not file a {type}."), type=OfficeText(defn.label))


def handler_roles(defn: WorkflowDef) -> set[str]:
    """Staff roles that work on cases of ``defn`` (any transition names them)."""
    return {r for t in defn.transitions for r in t.roles} - {"pelapor", "system"}


def message_role(defn: WorkflowDef, case: Any, actor: Actor) -> tuple[bool, str]:
    """May ``actor`` post a message on ``case``? Returns (from the reporter, the role written in the trail).
    A recused official gets the refusal of anyone without a role there."""
    refusal = NotAllowed(_("{user} may not post messages on case {number}."), user=actor.username, number=case.number)
    if actor.is_recused(case):
        raise refusal
    roles = actor.roles_for(case)
    from_reporter = (actor.kind == "reporter" and "pelapor" in roles) or (
        actor.kind == "user" and actor.user_id is not None and case.filed_by_user_id == actor.user_id
    )
    if from_reporter:
        return True, "pelapor"
    staff = roles & handler_roles(defn)
    if not staff:
        raise refusal
    return False, sorted(staff)[0]


def readable_roles(defn: WorkflowDef, held: set[str]) -> set[str]:
    """The roles that let a viewer read a case of ``defn``: a role the workflow gives work or sight to,
    the auditor, or being the reporter. Holding an unrelated role (the UPG on a complaint, an employee on
    someone else's report) gives nothing."""
    named = {r for t in defn.transitions for r in t.roles} | set(defn.visibility.identity)
    named |= set(defn.visibility.confidential_fields) | {"auditor", "pelapor"}
    return (held & named) - {"system"}


def roles_to_read(defn: WorkflowDef, case: Any, viewer: Actor) -> set[str]:
    """:func:`readable_roles` of ``viewer`` on ``case``, or a refusal."""
    roles = readable_roles(defn, viewer.roles_for(case)) if not viewer.is_recused(case) else set()
    if not roles:
        raise no_access(viewer, case)
    return roles


class Sight:
    """What a viewer holding ``roles`` may read of one case (sealed fields, reasons, messages).

    ``identity_granted``: the viewer holds an approved, unexpired identity request on this case
    (:func:`wbs_engine.identity.granted`, which the read models ask): it opens the identity (and the contact,
    unless anonim) to a reader of the report, and to nobody else."""

    def __init__(self, defn: WorkflowDef, case: Case | Any, roles: set[str], *, identity_granted: bool = False):
        vis = defn.visibility
        self.reporter = "pelapor" in roles
        self.handler = bool(roles & set(vis.confidential_fields))
        # rahasia: kept, shown only to the roles the workflow names; terbuka: the reporter chose an open
        # identity, so whoever may read the report may read who wrote it
        self.identity = (
            self.reporter
            or bool(roles & set(vis.identity))
            or (case.identity_mode == "terbuka" and self.handler)
            or (identity_granted and self.handler and case.identity_mode != "anonim")
        )
        #: the identity is open only through an approved request (not through a role): each view is recorded
        self.by_request = self.identity and not (
            self.reporter or bool(roles & set(vis.identity)) or (case.identity_mode == "terbuka" and self.handler)
        )
        # a contact an anonymous reporter left is for status mail only
        self.contact = self.reporter or (self.identity and case.identity_mode != "anonim")
        # the report's sealed text, reasons, messages, recusals: the handlers only. The reporter wrote the report
        # but reads it on the tracking page (views refuse a viewer who is only the reporter); a reporter who
        # also holds a role that reads without this sight (the WBS front desk filing a report) gets no more
        # than that role gives.
        self.secret = self.handler
        self.defn = defn

    def may_read(self, name: str) -> bool:
        spec = self.defn.field(name)
        if spec is None or not spec.sealed:
            return True
        if spec.contact:
            return self.contact
        if spec.is_identity:
            return self.identity
        return self.secret

    @property
    def anything(self) -> bool:
        return self.identity or self.secret


def _is_filer(case: Any, actor: Actor) -> bool:
    """The reporter of ``case``: through its tracking code, or as the employee who filed it in their name."""
    return (actor.kind == "reporter" and actor.case_id is not None and actor.case_id == case.id) or (
        actor.kind == "user" and actor.user_id is not None and case.filed_by_user_id == actor.user_id
    )


def attach_role(defn: WorkflowDef, case: Any, actor: Actor) -> tuple[bool, str]:
    """May ``actor`` attach a file to ``case``? The reporter on their own case, and staff holding a role that
    works on cases of ``defn`` for the case's unit and type; never a recused official, never the auditor
    (who reads, not adds). Returns (from the reporter, the role written in the trail). A recused official
    gets the refusal of anyone without a role there."""
    refusal = NotAllowed(_("{user} may not attach files to case {number}."), user=actor.username, number=case.number)
    if actor.is_recused(case):
        raise refusal
    if _is_filer(case, actor):
        return True, "pelapor"
    staff = actor.roles_for(case) & handler_roles(defn)
    if not staff:
        raise refusal
    return False, sorted(staff)[0]


def attachment_sight(defn: WorkflowDef, case: Any, viewer: Actor) -> tuple[str, str] | None:
    """Which attached files ``viewer`` may open, and in which role: ``("all", role)`` for staff who may read
    the case's sealed text (``visibility.confidential_fields``, the auditor where listed), ``("own",
    "pelapor")`` for the reporter (the files they uploaded), None for everyone else (recused officials
    included). None rather than a refusal, so that the caller can refuse without saying whether a file
    exists."""
    if viewer.is_recused(case):
        return None
    held = viewer.roles_for(case)
    readers = held & set(defn.visibility.confidential_fields)
    if readers and viewer.kind == "user":
        return "all", sorted(readers)[0]
    if _is_filer(case, viewer):
        return "own", "pelapor"
    return None
