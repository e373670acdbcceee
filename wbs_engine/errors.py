"""Domain exceptions: every error a user can cause, never shown as a traceback.

Each carries what an edge needs to answer well: a message a person can act on (Indonesian and English,
:meth:`WbsError.message`), a machine-readable ``code`` with its ``params`` (for the JSON API), and the HTTP
``status`` it means (404 not found, 403 not allowed, 409 the case changed or is not in a state for this,
422 invalid input). The CLI prints the message; the web layer maps ``status``; the API returns
:meth:`WbsError.to_dict`.
"""

from __future__ import annotations

from typing import Any


class WbsError(Exception):
    """Base of every error a user can cause."""

    status: int = 400
    code: str = "error"

    def __init__(self, id_text: str, en_text: str | None = None, *, code: str | None = None, **params: Any):
        self.id_text = id_text
        self.en_text = en_text or id_text
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(id_text)

    @property
    def details(self) -> dict[str, Any]:  # the name earlier code used
        return self.params

    def message(self, lang: str = "id") -> str:
        return self.en_text if lang == "en" else self.id_text

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """What the JSON API returns: ``{"error": code, "status": …, "message": …, "params": {…}}``."""
        return {"error": self.code, "status": self.status, "message": self.message(lang), "params": self.params}


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


class ValidationFailed(WbsError):
    """Input data is wrong; ``errors`` maps each field to what is wrong with it, (Indonesian, English)."""

    status, code = 422, "invalid_input"

    def __init__(self, errors: dict[str, tuple[str, str]]):
        self.errors = errors
        id_text = "; ".join(f"{k}: {v[0]}" for k, v in errors.items())
        en_text = "; ".join(f"{k}: {v[1]}" for k, v in errors.items())
        super().__init__("Data tidak valid — " + id_text, "Invalid data — " + en_text)

    def field_errors(self, lang: str = "id") -> dict[str, str]:
        """Each field's problem in ``lang``: what a form shows next to the field."""
        return {k: (v[1] if lang == "en" else v[0]) for k, v in self.errors.items()}

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        return {**super().to_dict(lang), "params": {"fields": self.field_errors(lang)}}


class ConcurrentChange(WbsError):
    """Someone changed the case since the caller read it: reload, never overwrite."""

    status, code = 409, "changed_meanwhile"

    def __init__(self, what: str = ""):
        super().__init__(
            f"Perkara {what} baru saja diubah orang lain; muat ulang lalu coba lagi.".replace("  ", " "),
            f"Case {what} was just changed by someone else; reload and try again.".replace("  ", " "),
            number=what,
        )
