"""The office's reply templates (``reply_template``): standard answers offered when a handler writes to a
reporter. Read here for the case page; the admin pages list and write them (``wbs_engine.admin``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from .db import unit_of_work
from .models import ReplyTemplate

if TYPE_CHECKING:
    from .engine import WbsEngine


@dataclass(frozen=True)
class Reply:
    id: int
    title: str
    body: str


def reply_templates(engine: WbsEngine, case_type: str) -> list[Reply]:
    """The active templates of ``case_type``, by title. Office text (not a secret): no permission needed
    beyond being staff, which the caller checks."""
    with unit_of_work(engine.db, write=False) as s:
        rows = s.exec(
            select(ReplyTemplate)
            .where(ReplyTemplate.case_type == case_type, ReplyTemplate.active == True)  # noqa: E712
            .order_by(ReplyTemplate.title, ReplyTemplate.id)
        ).all()
        return [Reply(r.id, r.title, r.body) for r in rows]
