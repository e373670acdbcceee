"""The satisfaction survey: a reporter's rating of the handling of their closed case

* ``survey_response``: one row per case (``case_id`` unique), the scores per element as JSON (plain: the recap
  counts them), the comment sealed with the case key (``comment_enc``, NULL without one) and when it was rated
  (indexed: the recap is counted by period). Written only by ``wbs_engine.survey.rate_case``, with its
  ``rated`` event on the case's chain.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs_engine.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("comment_enc", sa.Text(), nullable=True),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_response_created_at"), ["created_at"], unique=False)


class RatingsPresent(RuntimeError):
    """``survey_response`` holds ratings that revision 0006 has no place for."""


def downgrade() -> None:
    """Back to 0006, which has no place for ratings: refused while any are kept (they would be lost, and their
    ``rated`` events would name rows that are gone)."""
    rows = op.get_bind().execute(sa.text("SELECT count(*) FROM survey_response")).scalar_one()
    if rows:
        raise RatingsPresent(
            f"survey_response holds {rows} ratings that revision 0006 cannot keep; copy them elsewhere and delete "
            "them before going back"
        )
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_response_created_at"))
    op.drop_table("survey_response")
