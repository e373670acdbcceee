"""Named guards and effects that workflow files may refer to.

A guard raises :class:`GuardFailed` with a message for the user (or returns True); an effect changes the
case inside the fire's transaction and may return extra data for the audit event. Both receive a
:class:`FireContext`. The linter rejects a name that is not registered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import GuardFailed, ValidationFailed
from .i18n import Msg
from .i18n import gettext_noop as _

if TYPE_CHECKING:
    from sqlmodel import Session

    from .definition import TransitionSpec, WorkflowDef
    from .models import Case
    from .permissions import Actor

# The database is imported inside the hooks that query it, not above: the linter imports this module for
# the names in GUARDS and EFFECTS, and `wbs lint` needs no database (docs/decisions.md, "Loading workflows").


@dataclass
class FireContext:
    session: Session
    case: Case
    actor: Actor
    data: dict[str, Any]
    now: datetime
    definition: WorkflowDef
    transition: TransitionSpec
    audit: dict[str, Any] = field(default_factory=dict)
    #: the engine firing (keys, workflows, clock) for effects that reach other cases; None in unit tests
    office: Any = None


Guard = Callable[[FireContext], bool]
Effect = Callable[[FireContext], "dict[str, Any] | None"]
GUARDS: dict[str, Guard] = {}
EFFECTS: dict[str, Effect] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    def deco(fn: Guard) -> Guard:
        GUARDS[name] = fn
        return fn

    return deco


def effect(name: str) -> Callable[[Effect], Effect]:
    def deco(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return deco


# --- guards ----------------------------------------------------------------------------------------


@guard("not_recused")
def _not_recused(ctx: FireContext) -> bool:
    if ctx.actor.is_recused(ctx.case):
        raise GuardFailed(_("You are recused from this case because of a conflict of interest."))
    return True


@guard("not_own_case")
def _not_own_case(ctx: FireContext) -> bool:
    if ctx.actor.user_id is not None and ctx.actor.user_id == ctx.case.filed_by_user_id:
        raise GuardFailed(_("You may not decide a case you filed yourself."))
    return True


@guard("has_attachment")
def _has_attachment(ctx: FireContext) -> bool:
    from sqlmodel import func, select

    from .models import Attachment

    n = ctx.session.exec(select(func.count()).select_from(Attachment).where(Attachment.case_id == ctx.case.id)).one()
    if not n:
        raise GuardFailed(_("Attach at least one piece of evidence first."))
    return True


# --- effects ---------------------------------------------------------------------------------------


@effect("assign_unit")
def _assign_unit(ctx: FireContext) -> dict[str, Any]:
    from sqlmodel import select

    from .models import Unit

    code = str(ctx.data.get("unit_tujuan", "")).strip()
    unit = ctx.session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise ValidationFailed({"unit_tujuan": Msg(_("unknown unit '{unit}'"), unit=code)})
    old = ctx.case.unit_code
    ctx.case.unit_code = unit.code
    out: dict[str, Any] = {"unit": {"from": old, "to": unit.code}}
    if old != unit.code and ctx.case.assigned_user_id is not None:
        # sent to another unit: it waits, unassigned, in that unit's queue for one of its officers to take
        ctx.case.assigned_user_id = None
        out["assigned_to"] = None
    return out


@effect("assign_handler")
def _assign_handler(ctx: FireContext) -> dict[str, Any]:
    from sqlmodel import select

    from .models import User

    username = str(ctx.data.get("petugas", "")).strip()
    user = ctx.session.exec(select(User).where(User.username == username, User.active == True)).first()  # noqa: E712
    if user is None:
        raise ValidationFailed({"petugas": Msg(_("unknown or inactive user '{user}'"), user=username)})
    from . import permissions  # here: `wbs lint` loads the hooks and must not import the database layer

    handler = permissions.load_actor(ctx.session, user.username)
    if (
        user.id in ctx.case.recused
        or not handler.roles_for(ctx.case) & permissions.handler_roles(ctx.definition)
        or (ctx.case.filed_by_user_id is not None and ctx.case.filed_by_user_id == user.id)
    ):
        # recused, its own reporter, or no role that works on this case (its unit and type): one answer, so
        # that trying names tells nobody who reported the case or who is kept off it
        raise ValidationFailed({"petugas": Msg(_("{user} cannot be assigned to this case."), user=username)})
    ctx.case.assigned_user_id = user.id
    return {"assigned_to": username}


@effect("recuse_official")
def _recuse_official(ctx: FireContext) -> dict[str, Any] | None:
    """Keep the official with the conflict off the case's routing (benturan kepentingan: recusal).

    The fire's working copy gets the user's id in ``recused``; the write path inserts the ``case_recusal``
    row in the fire's transaction. The trail records the username."""
    from sqlmodel import select

    from .models import User

    username = str(ctx.data.get("pejabat_terkait", "")).strip()
    if not username:
        return None
    user = ctx.session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise ValidationFailed({"pejabat_terkait": Msg(_("unknown user '{user}'"), user=username)})
    ctx.case.recused = frozenset(ctx.case.recused) | {user.id}
    out: dict[str, Any] = {"recused": username}
    if ctx.case.assigned_user_id == user.id:
        ctx.case.assigned_user_id = None
        out["assigned_to"] = None  # recorded, so that the case row still agrees with its trail
    return out


@effect("recuse_declared_interests")
def _recuse_declared_interests(ctx: FireContext) -> None:
    """A declaration of interests decided with a conflict: its declarant is kept off every open case that
    names what it declares (:mod:`wbs_engine.interests`). Writes on those cases' chains only; nothing on the
    declaration's (its declarant learns nothing about other cases)."""
    if ctx.office is None:
        return None
    from .interests import after_decision

    after_decision(ctx.session, ctx.office, ctx.definition, ctx.case, ctx.transition.dest, ctx.now)
    return None


@effect("close_case")
def _close_case(ctx: FireContext) -> None:
    """Marks the closing time even when the final state is reached through a self-chosen route."""
    ctx.case.closed_at = ctx.now
    return None
