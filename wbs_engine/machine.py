"""Compile a workflow definition into a ``transitions`` Machine, and render it as a diagram.

One Machine per workflow version, built once. Cases are not attached to it: each fire runs the event
on a small plain :class:`_Runner` that carries the state and the :class:`FireContext` (transitions would
set attributes on a SQLModel row, which pydantic objects refuse). Guards become ``conditions`` and
effects ``after`` callbacks, resolved by name on the runner.
"""

from __future__ import annotations

from transitions import Machine

from .definition import WorkflowDef
from .errors import InvalidTransition
from .hooks import EFFECTS, GUARDS, FireContext


class _Runner:
    def __init__(self, state: str, ctx: FireContext):
        self.state = state
        self.ctx = ctx

    def __getattr__(self, name: str):  # called only for names not set in __init__
        if name.startswith("guard__"):
            fn = GUARDS[name.removeprefix("guard__")]
            return lambda *_a, **_k: fn(self.ctx)
        if name.startswith("effect__"):
            fn = EFFECTS[name.removeprefix("effect__")]

            def run(*_a, **_k):  # type: ignore[no-untyped-def]
                extra = fn(self.ctx)
                if extra:
                    self.ctx.audit.update(extra)

            return run
        raise AttributeError(name)


class CompiledWorkflow:
    def __init__(self, defn: WorkflowDef):
        self.definition = defn
        transitions = []
        for t in defn.transitions:
            transitions.append(
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": None if t.internal else t.dest,
                    "conditions": [f"guard__{g}" for g in t.guards],
                    "after": [f"effect__{e}" for e in t.effects],
                }
            )
        self.machine = Machine(
            model=None,
            states=list(defn.states),
            transitions=transitions,
            initial=defn.initial,
            auto_transitions=False,
            send_event=False,
            ignore_invalid_triggers=False,
        )

    def run(self, state: str, trigger: str, ctx: FireContext) -> str:
        """Run ``trigger`` from ``state``; returns the new state. Guards and effects raise on failure."""
        runner = _Runner(state, ctx)
        event = self.machine.events.get(trigger)
        if event is None:
            raise InvalidTransition(f"Aksi '{trigger}' tidak dikenal.", f"Unknown action '{trigger}'.")
        if not event.trigger(runner):
            raise InvalidTransition(
                f"Aksi '{trigger}' tidak dapat dijalankan sekarang.", f"Action '{trigger}' cannot run now."
            )
        return runner.state


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
