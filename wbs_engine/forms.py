"""What to ask, and what may be done: the intake form of a case type, and the actions an actor may take on a
case now. The web pages, the JSON API and the CLI show exactly these; nothing else fires.

Both are read models built from the workflow file (editing the YAML changes the form) and the permission
rules in :mod:`wbs_engine.permissions`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from .definition import PRIVACY_ORDER, FieldSpec, TransitionSpec, WorkflowDef
from .errors import ValidationFailed, WbsError
from .hooks import GUARDS, FireContext
from .i18n import Msg, render
from .i18n import gettext_noop as _
from .permissions import Actor, may_fire

#: the identity modes in plain words, for the choice on a form (docs/domain.md: anonim, rahasia, terbuka):
#: catalogue messages, rendered in the reader's language by :func:`identity_choices`
IDENTITY_MODES: dict[str, dict[str, str]] = {
    "anonim": {
        "label": _("Anonymous"),
        "explain": _(
            "Your name and personal details are neither asked nor kept. You follow the report and answer "
            "questions with the tracking code only. You may give an e-mail address just for updates."
        ),
    },
    "rahasia": {
        "label": _("Confidential"),
        "explain": _(
            "Your details are kept encrypted and can be opened only by the officials this workflow names; the "
            "staff handling the report do not see them."
        ),
    },
    "terbuka": {
        "label": _("Open"),
        "explain": _(
            "The staff handling the report can see your name and contact details, so they can reach you "
            "directly. They are still stored encrypted."
        ),
    },
}


@dataclass(frozen=True)
class FormField:
    """One question of a form, as a page renders it."""

    name: str
    type: str
    label: str
    help: str | None
    required: bool
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    options: tuple[tuple[str, str], ...] = ()
    #: part of the reporter's identity (not asked of an anonymous reporter)
    identity: bool = False
    #: a way to reach the reporter (asked of every reporter, optional)
    contact: bool = False
    #: stored sealed (encrypted with the case's key)
    sealed: bool = False

    @classmethod
    def of(cls, spec: FieldSpec, lang: str, *, required: bool | None = None) -> FormField:
        return cls(
            name=spec.name,
            type=spec.type,
            label=spec.label.get(lang),
            help=spec.help.get(lang) if spec.help else None,
            required=spec.required if required is None else (required or spec.required),
            min_length=spec.min_length,
            max_length=spec.max_length,
            min_value=spec.min_value,
            max_value=spec.max_value,
            options=tuple((o.value, o.label.get(lang)) for o in spec.options),
            identity=spec.identity,
            contact=spec.contact,
            sealed=spec.sealed,
        )


@dataclass(frozen=True)
class IdentityChoice:
    mode: str
    label: str
    explanation: str


@dataclass(frozen=True)
class IntakeForm:
    case_type: str
    label: str
    description: str | None
    identity_mode: str
    #: the modes the reporter may choose, the most private first
    identity_modes: tuple[IdentityChoice, ...]
    fields: tuple[FormField, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def identity_choices(defn: WorkflowDef, lang: str) -> tuple[IdentityChoice, ...]:
    """The identity modes ``defn`` offers, the most private first, in ``lang``."""
    modes = sorted(defn.identity, key=PRIVACY_ORDER.index)
    return tuple(
        IdentityChoice(m, render(IDENTITY_MODES[m]["label"], lang), render(IDENTITY_MODES[m]["explain"], lang))
        for m in modes
    )


def intake_specs(defn: WorkflowDef, identity_mode: str) -> list[FieldSpec]:
    """The intake fields asked in ``identity_mode``: an anonymous report asks no identity (a contact for
    updates is not an identity and stays)."""
    return [f for f in defn.intake if not (identity_mode == "anonim" and f.identity)]


def check_identity_mode(defn: WorkflowDef, identity_mode: str | None) -> str:
    """The mode to use: the one chosen, or the most private the workflow allows; a mode it does not offer
    is refused."""
    mode = identity_mode or defn.default_identity
    if mode not in defn.identity:
        raise ValidationFailed({"identitas": Msg(_("choose one of: {choices}"), choices=", ".join(defn.identity))})
    return mode


def intake_form(defn: WorkflowDef, identity_mode: str | None = None, lang: str = "id") -> IntakeForm:
    """The filing form of ``defn`` for ``identity_mode`` (default: the most private allowed), in ``lang``."""
    mode = check_identity_mode(defn, identity_mode)
    return IntakeForm(
        case_type=defn.key,
        label=defn.label.get(lang),
        description=defn.description.get(lang) if defn.description else None,
        identity_mode=mode,
        identity_modes=identity_choices(defn, lang),
        fields=tuple(FormField.of(f, lang) for f in intake_specs(defn, mode)),
    )


@dataclass(frozen=True)
class Action:
    """A transition this actor may fire on this case now: one button, and the form behind it."""

    trigger: str
    label: str
    #: the role the actor would act in
    role: str
    #: the state it leads to (its label), or None for work that keeps the case where it is
    to_state: str | None
    fields: tuple[FormField, ...]
    reason: bool
    #: the clock it extends, and by how much, if any
    extends: str | None = None
    #: why it cannot be taken now although the role allows it (a guard refused), when asked for
    blocked: str | None = None


def available_actions(
    session: Session,
    defn: WorkflowDef,
    case: Any,
    actor: Actor,
    now: datetime,
    lang: str = "id",
    *,
    include_blocked: bool = False,
) -> list[Action]:
    """The transitions ``actor`` may fire on ``case`` in its current state: roles × unit × case type,
    recusal, and every guard (they depend on the case and the actor, never on the input, so all of them
    can be checked before the form is shown). A closed case has none. ``include_blocked`` also lists those
    a guard refuses, with its message in ``blocked`` (a page may show why a button is missing)."""
    if case.final:
        return []
    out = []
    for t in defn.transitions_from(case.state):
        role = may_fire(defn, case, t, actor)
        if role is None:
            continue
        blocked = _guard_refusal(session, defn, case, t, actor, now, lang)
        if blocked is not None and not include_blocked:
            continue
        fields = tuple(FormField.of(defn.field(n), lang, required=True) for n in t.requires) + tuple(
            FormField.of(defn.field(n), lang) for n in t.optional if n not in t.requires
        )
        extends = None
        if t.extends:
            spec = defn.clocks[t.extends.clock]
            extends = f"{spec.label.get(lang)} +{t.extends.by.describe(lang)}"
        out.append(
            Action(
                trigger=t.trigger,
                label=t.label.get(lang),
                role=role,
                to_state=None if t.internal else defn.states[t.dest].label.get(lang),
                fields=fields,
                reason=t.reason,
                extends=extends,
                blocked=blocked,
            )
        )
    return out


def _guard_refusal(
    session: Session, defn: WorkflowDef, case: Any, t: TransitionSpec, actor: Actor, now: datetime, lang: str
) -> str | None:
    """None when every guard of ``t`` lets ``actor`` fire it; else the first refusal's message."""
    ctx = FireContext(session=session, case=case, actor=actor, data={}, now=now, definition=defn, transition=t)
    for name in t.guards:
        try:
            if not GUARDS[name](ctx):
                return name
        except WbsError as exc:
            return exc.message(lang)
    return None
