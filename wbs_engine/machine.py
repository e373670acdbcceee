"""Compile a workflow definition into a ``transitions`` Machine, and render it as a diagram.

One Machine per workflow version, built once, used for what the library is good at: guards are
``conditions`` and effects ``after`` callbacks, given as callables (no names resolved by string), called
with ``send_event=True`` so each receives the :class:`EventData` that carries the fire's
:class:`~wbs_engine.hooks.FireContext`. Cases are not attached to the Machine: each fire runs the event on a
small plain :class:`_Token` that carries only the state (``transitions`` sets attributes on its model, which
a SQLModel row refuses), and the engine persists the result in the same transaction. A guard refuses by
raising :class:`~wbs_engine.errors.GuardFailed` with its message; an effect's failure raises too, and the
engine's unit of work rolls everything back (the Machine's own state change is on the throwaway token).
"""

from __future__ import annotations

from typing import Any

from transitions import EventData, Machine

from .definition import WorkflowDef
from .errors import InvalidTransition
from .hooks import EFFECTS, GUARDS, FireContext
from .i18n import gettext_noop as _


class _Token:
    """The model a fire runs on: the state only."""

    def __init__(self, state: str):
        self.state = state


def _guard(name: str) -> Any:
    fn = GUARDS[name]

    def condition(event: EventData) -> bool:
        return fn(event.kwargs["ctx"])

    condition.__name__ = f"guard_{name}"
    return condition


def _effect(name: str) -> Any:
    fn = EFFECTS[name]

    def after(event: EventData) -> None:
        ctx: FireContext = event.kwargs["ctx"]
        extra = fn(ctx)
        if extra:
            ctx.audit.update(extra)

    after.__name__ = f"effect_{name}"
    return after


class CompiledWorkflow:
    def __init__(self, defn: WorkflowDef):
        self.definition = defn
        transitions = [
            {
                "trigger": t.trigger,
                "source": list(t.source),
                "dest": None if t.internal else t.dest,
                "conditions": [_guard(g) for g in t.guards],
                "after": [_effect(e) for e in t.effects],
            }
            for t in defn.transitions
        ]
        self.machine = Machine(
            model=None,
            states=list(defn.states),
            transitions=transitions,
            initial=defn.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def run(self, state: str, trigger: str, ctx: FireContext) -> str:
        """Run ``trigger`` from ``state``; returns the new state. Guards and effects raise on failure."""
        token = _Token(state)
        event = self.machine.events.get(trigger)
        if event is None:
            raise InvalidTransition(_("Unknown action '{trigger}'."), trigger=trigger)
        if not event.trigger(token, ctx=ctx):
            raise InvalidTransition(_("Action '{trigger}' cannot run now."), trigger=trigger)
        return token.state


def mermaid(defn: WorkflowDef, lang: str = "id") -> str:
    """Mermaid ``stateDiagram-v2`` text: states with their labels and phases, transitions with roles."""
    lines = ["---", f"title: {defn.label.get(lang)} ({defn.key} v{defn.version})", "---", "stateDiagram-v2"]
    for name, st in defn.states.items():
        lines.append(f'    state "{st.label.get(lang)}" as {name}')
    lines.append(f"    [*] --> {defn.initial}")
    for t in defn.transitions:
        roles = ", ".join(t.roles)
        for s in t.source:
            lines.append(f"    {s} --> {t.dest}: {t.trigger} [{roles}]")
    for name, st in defn.states.items():
        if st.final:
            lines.append(f"    {name} --> [*]")
    phases: dict[str, list[str]] = {}
    for name, st in defn.states.items():
        phases.setdefault(st.phase, []).append(name)
    for phase, names in phases.items():
        lines.append(f"    classDef {phase} fill:{_PHASE_COLOURS[phase]}")
        lines.append(f"    class {', '.join(names)} {phase}")
    return "\n".join(lines) + "\n"


_PHASE_COLOURS = {"intake": "#e3f2fd", "verification": "#fff8e1", "follow_up": "#e8f5e9", "closure": "#eceff1"}
