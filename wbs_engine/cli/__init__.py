"""The ``wbs`` command: one module per command group (``base`` holds the group, its context and ``main``).

Every user error is one line on stderr and exit code 2 (never a traceback): bad arguments (also bytes that
are not UTF-8), bad settings, a database that cannot be opened, a directory that cannot be created.
``lint`` and ``verify-audit`` exit 1 when they find a problem. Messages, and the ``--help`` texts
(``help=_("…")``, rendered by ``base.LocalizedCommand``), come from the message catalogue (:mod:`wbs_engine.i18n`,
``Ctx.t``): Bahasa Indonesia, or English with ``wbs --lang en`` (click's own words and usage messages, such as
"Usage:" or "Missing argument", stay English). Text that comes from people goes through
:mod:`wbs_engine.textsafe` before it reaches the terminal, so control characters show instead of acting.
"""

from . import (  # noqa: F401  (register the commands)
    audit,
    bundle,
    cases,
    database,
    days,
    export,
    people,
    retention,
    scheduling,
    surveys,
    tokens,
    workflows,
)
from .base import Ctx, cli, main

__all__ = ["Ctx", "cli", "main"]
