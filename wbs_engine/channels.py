"""The reporting channels as the public landing page shows them: what each case type is for, who may use
it, how identity is protected in each mode, and what happens next with how long each step may take.

A read model of the workflow files (editing a YAML changes the page) so that the web holds no workflow
rule: the steps are the workflow's clocks in order, with the limit of each, and where a field picks the
limit (the complaint tiers) every tier with its own limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .definition import WorkflowDef
from .forms import IdentityChoice, identity_choices
from .registry import Registry

#: who may file through the public web form (``filed_by`` in a workflow)
PUBLIC = "public"


@dataclass(frozen=True)
class Tier:
    label: str
    limit: str


@dataclass(frozen=True)
class Step:
    """One clock of a workflow: a step that has a time limit."""

    name: str
    label: str
    #: the limit in words ("3 HK", "60 hari kalender"), or of the tier not listed when ``tiers`` is set
    limit: str
    tiers: tuple[Tier, ...]
    office_policy: bool
    unverified: bool
    source: str


@dataclass(frozen=True)
class Channel:
    case_type: str
    label: str
    description: str | None
    basis: str
    #: the public may file it through the web form (else employees sign in)
    public: bool
    identity_modes: tuple[IdentityChoice, ...]
    steps: tuple[Step, ...]


def steps_of(defn: WorkflowDef, lang: str) -> tuple[Step, ...]:
    steps = []
    for name, c in defn.clocks.items():
        tiers: tuple[Tier, ...] = ()
        if c.limit_by is not None and (field := defn.field(c.limit_by.field)) is not None:
            tiers = tuple(
                Tier(o.label.get(lang), c.limit_by.values[o.value].describe(lang))
                for o in field.options
                if o.value in c.limit_by.values
            )
        steps.append(
            Step(
                name=name,
                label=c.label.get(lang),
                limit=c.limit.describe(lang),
                tiers=tiers,
                office_policy=c.office_policy,
                unverified=c.unverified,
                source=c.source,
            )
        )
    return tuple(steps)


def channel(defn: WorkflowDef, lang: str) -> Channel:
    return Channel(
        case_type=defn.key,
        label=defn.label.get(lang),
        description=defn.description.get(lang) if defn.description else None,
        basis=defn.basis,
        public=PUBLIC in defn.filed_by,
        identity_modes=identity_choices(defn, lang),
        steps=steps_of(defn, lang),
    )


def channels(registry: Registry, lang: str) -> list[Channel]:
    """Every case type the office runs, the public ones first (in the order of the workflow files)."""
    found = [channel(registry.latest(k).definition, lang) for k in registry.keys]
    return sorted(found, key=lambda c: not c.public)


def public_channel(registry: Registry, case_type: str, lang: str) -> Channel | None:
    """The channel ``case_type`` if the public may file it, else None (a form that does not exist)."""
    if case_type not in registry.keys:
        return None
    found = channel(registry.latest(case_type).definition, lang)
    return found if found.public else None
