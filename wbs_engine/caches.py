"""Values the engine reuses between transactions: the office calendar and the staff directory.

Both change rarely (an admin adds a holiday, grants a role) and are read on every fire. Changes made through
the same engine are seen at once (``invalidate``); changes made by another process within ``ttl`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlmodel import Session, select

from .calendar import WorkingCalendar
from .config import Settings
from .models import Holiday

T = TypeVar("T")


class TTLCache(Generic[T]):
    """One value reused for ``ttl`` seconds (monotonic clock)."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entry: tuple[float, T] | None = None

    def get(self, load: Callable[[], T]) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        value = load()
        self._entry = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        self._entry = None


def load_calendar(session: Session, settings: Settings) -> WorkingCalendar:
    """The office's working days: national holidays and cuti bersama, plus the days an admin added or
    removed (table ``holiday``), in the office's zone."""
    added: dict = {}
    removed: list = []
    for h in session.exec(select(Holiday)).all():
        if h.kind == "closed":
            added[h.day] = h.name
        else:
            removed.append(h.day)
    return WorkingCalendar(
        added,
        removed,
        include_cuti_bersama=settings.include_cuti_bersama,
        office_close=settings.office_close,
        zone=settings.zone,
    )
