"""Attachments stored sealed outside the database; filing tokens (one filing, one case)

* ``attachment`` takes its new shape: ``file_id`` (random, the file's name on disk and the id bound into its
  encrypted chunks), ``meta_enc`` (the original name and SHA-256, sealed with the case key), the detected
  ``content_type``, ``size``, ``by_reporter``. The plain ``filename``, ``sha256``, ``storage_key`` and
  ``encrypted`` columns go: nothing a person typed is kept in the clear. No release ever wrote an attachment
  (the table was unused), so it is rebuilt; a table that holds rows anyway stops the migration with
  directions rather than dropping them.
* ``filing_token``: the filing forms' tokens once used, unique by the hash of their random part.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import wbs_engine.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class AttachmentsPresent(RuntimeError):
    """The ``attachment`` table holds rows that no release of the engine wrote."""


def _refuse_rows(conn: sa.engine.Connection) -> None:
    rows = conn.execute(sa.text("SELECT count(*) FROM attachment")).scalar_one()
    if rows:
        raise AttachmentsPresent(
            f"the attachment table holds {rows} rows that no release of wbs-engine wrote (attachments were "
            "not stored before this migration); move them away (e.g. into another table) and run the "
            "migration again"
        )


def upgrade() -> None:
    _refuse_rows(op.get_bind())
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_case_id"))
    op.drop_table("attachment")
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("meta_enc", sa.Text(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("by_reporter", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_id"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_case_id"), ["case_id"], unique=False)

    op.create_table(
        "filing_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("used_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("filing_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_token_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Back to the unused table of 0001. Attachments kept since cannot be described by it: refused."""
    with op.batch_alter_table("filing_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_token_expires_at"))
    op.drop_table("filing_token")
    _refuse_rows(op.get_bind())
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_case_id"))
    op.drop_table("attachment")
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_case_id"), ["case_id"], unique=False)
