"""Domain exceptions: every error a user can cause, never shown as a traceback.

Each carries what an edge needs to answer well: a message from the catalogue with its parameters
(:class:`~wbs_engine.i18n.Msg`; :meth:`WbsError.message` renders it in the reader's language), a
machine-readable ``code`` with the same ``params`` (for the JSON API), and the HTTP ``status`` it means
(404 not found, 403 not allowed, 409 the case changed or is not in a state for this, 422 invalid input).
The CLI prints the message; the web layer maps ``status``; the API returns :meth:`WbsError.to_dict`.

Raise with the English text marked for extraction and the values as keywords::

    raise NotFound(_("There is no case {number}"), number=number)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .i18n import DEFAULT_LOCALE, Msg
from .i18n import gettext_noop as _


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


class OfficeText(Msg):
    """Office content written in both languages (a workflow's ``label: {id, en}``, anything with
    ``get(lang)``) as a parameter of a message: rendered in the reader's language from the content itself,
    never looked up in the catalogue (labels stay in the workflow files)."""

    __slots__ = ("text",)

    def __init__(self, text: Any):
        super().__init__(text.get(DEFAULT_LOCALE))
        self.text = text

    def render(self, lang: str | None = None) -> str:
        return self.text.get(lang or DEFAULT_LOCALE)


class Joined(Msg):
    """Several parameters shown as one (``a, b, c``), each rendered in the reader's language: a list in a
    message (the actions a reporter may take, the differences an audit found)."""

    __slots__ = ("items", "sep")

    def __init__(self, items: Any, sep: str = ", "):
        self.items = list(items)
        self.sep = sep
        super().__init__("")

    def render(self, lang: str | None = None) -> str:
        return self.sep.join(i.render(lang) if isinstance(i, Msg) else str(i) for i in self.items)


class WbsError(Exception):
    """Base of every error a user can cause.

    ``WbsError(_("English text with {name}"), name=value)``: the msgid is the English text; the Indonesian
    one comes from the catalogue. Keyword ``code`` overrides the class's code; every other keyword is a
    parameter of the message and of :meth:`to_dict`."""

    status: int = 400
    code: str = "error"

    def __init__(self, msgid: str | Msg, /, *, code: str | None = None, **params: Any):
        self.msg = msgid if isinstance(msgid, Msg) else Msg(msgid, **params)
        if code is not None:
            self.code = code
        self.params = {**self.msg.params, **params} if isinstance(msgid, Msg) else params
        super().__init__(self.msg.msgid)

    def __str__(self) -> str:
        return self.message()

    @property
    def details(self) -> dict[str, Any]:  # the name earlier code used
        return self.params

    def message(self, lang: str = "id") -> str:
        """The message in ``lang`` (``id`` or ``en``; anything else is ``id``)."""
        return self.msg.render(lang)

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """What the JSON API returns: ``{"error": code, "status": …, "message": …, "params": {…}}``."""
        params = {k: (v.render(lang) if isinstance(v, Msg) else _jsonable(v)) for k, v in self.params.items()}
        return {"error": self.code, "status": self.status, "message": self.message(lang), "params": params}


class NotFound(WbsError):
    """Nothing by that name or code (also when the caller may not know whether it exists)."""

    status, code = 404, "not_found"


class NotAllowed(WbsError):
    """The actor lacks the role, unit or case type for this, or is recused from the case."""

    status, code = 403, "not_allowed"


class InvalidTransition(WbsError):
    """The action does not exist or is not possible in the case's current state (or the case is closed)."""

    status, code = 409, "invalid_transition"


class GuardFailed(WbsError):
    """A workflow guard refused the action (e.g. evidence must be attached first)."""

    status, code = 409, "guard_failed"


FieldProblem = Msg | str


def _field_msg(problem: FieldProblem) -> Msg:
    return problem if isinstance(problem, Msg) else Msg(problem)


class ValidationFailed(WbsError):
    """Input data is wrong; ``errors`` maps each field to what is wrong with it: a message (a msgid marked
    with ``_`` or a :class:`~wbs_engine.i18n.Msg` with parameters)."""

    status, code = 422, "invalid_input"

    def __init__(self, errors: dict[str, FieldProblem]):
        self.errors = {name: _field_msg(problem) for name, problem in errors.items()}
        super().__init__(_("Invalid data — {problems}"), problems="")

    def field_errors(self, lang: str = "id") -> dict[str, str]:
        """Each field's problem in ``lang``: what a form shows next to the field."""
        return {name: problem.render(lang) for name, problem in self.errors.items()}

    def message(self, lang: str = "id") -> str:
        problems = "; ".join(f"{k}: {v}" for k, v in self.field_errors(lang).items())
        return Msg(self.msg.msgid, problems=problems).render(lang)

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        return {**super().to_dict(lang), "params": {"fields": self.field_errors(lang)}}


class ConcurrentChange(WbsError):
    """Someone changed the case since the caller read it: reload, never overwrite."""

    status, code = 409, "changed_meanwhile"

    def __init__(self, what: str = ""):
        if what:
            super().__init__(_("Case {number} was just changed by someone else; reload and try again."), number=what)
        else:
            super().__init__(_("The case was just changed by someone else; reload and try again."))
