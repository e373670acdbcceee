"""Domain exceptions. Each carries a message a user can act on, in Indonesian and English.

The CLI prints ``str(exc)`` (Indonesian by default); the web layer picks the language with
:meth:`WbsError.message`.
"""

from __future__ import annotations


class WbsError(Exception):
    """Base of every error a user can cause; never shown as a traceback."""

    def __init__(self, id_text: str, en_text: str | None = None, **details: object):
        self.id_text = id_text
        self.en_text = en_text or id_text
        self.details = details
        super().__init__(id_text)

    def message(self, lang: str = "id") -> str:
        return self.en_text if lang == "en" else self.id_text


class NotFound(WbsError):
    pass


class NotAllowed(WbsError):
    """The actor lacks the role, unit or case type for this action."""


class InvalidTransition(WbsError):
    """The trigger does not exist or is not possible from the case's current state."""


class GuardFailed(WbsError):
    pass


class ValidationFailed(WbsError):
    """Input data is wrong; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, tuple[str, str]]):
        self.errors = errors
        id_text = "; ".join(f"{k}: {v[0]}" for k, v in errors.items())
        en_text = "; ".join(f"{k}: {v[1]}" for k, v in errors.items())
        super().__init__("Data tidak valid — " + id_text, "Invalid data — " + en_text)


class ConcurrentChange(WbsError):
    def __init__(self, what: str = ""):
        super().__init__(
            f"Perkara {what} baru saja diubah orang lain; muat ulang lalu coba lagi.".replace("  ", " "),
            f"Case {what} was just changed by someone else; reload and try again.".replace("  ", " "),
        )
