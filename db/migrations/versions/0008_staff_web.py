"""The staff web: sessions, a second factor, API tokens, office settings, reply templates, identity requests

* ``user_account`` gains the TOTP secret (sealed with the office key), when it was enrolled, the digests of
  the unused recovery codes and the last accepted time step (a code is never accepted twice).
* ``staff_session``: one row per signed-in browser (the cookie holds a random id, the row its SHA-256), so
  that sign-out and the idle limit end a session on the server.
* ``api_token``: personal tokens for ``/api/v1``, stored as SHA-256 digests, revocable.
* ``office_setting``: settings an admin changes in the web (which roles must use a second factor).
* ``reply_template``: an office's standard answers per case type.
* ``identity_request``: a handler's request to see a *rahasia* reporter's identity, and its decision.
* ``unit`` gains its atasan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlmodel
from alembic import op

import wbs_engine.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = wbs_engine.models.UTCDateTime


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild: other tables' foreign keys point at user_account)
    op.add_column("user_account", sa.Column("totp_secret_enc", sa.Text(), nullable=True))
    op.add_column("user_account", sa.Column("totp_enrolled_at", _T(timezone=True), nullable=True))
    # JSONB on PostgreSQL: plain json has no equality, and a SELECT DISTINCT over user_account (the digest's
    # auditors) would fail
    op.add_column(
        "user_account",
        sa.Column(
            "recovery_codes",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
            server_default="[]",
        ),
    )
    op.add_column("user_account", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    # no foreign key: SQLite could add one only by rebuilding the table; the admin code checks the user
    op.add_column("unit", sa.Column("atasan_user_id", sa.Integer(), nullable=True))
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _T(timezone=True), nullable=False),
        sa.Column("last_seen_at", _T(timezone=True), nullable=False),
        sa.Column("ended_at", _T(timezone=True), nullable=True),
        sa.Column("pending_second_factor", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_session_user_id", "staff_session", ["user_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", _S(length=100), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("prefix", _S(length=12), nullable=False),
        sa.Column("created_at", _T(timezone=True), nullable=False),
        sa.Column("expires_at", _T(timezone=True), nullable=True),
        sa.Column("last_used_at", _T(timezone=True), nullable=True),
        sa.Column("revoked_at", _T(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])
    op.create_table(
        "office_setting",
        sa.Column("key", _S(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", _S(length=64), nullable=False),
        sa.Column("updated_at", _T(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_type", _S(length=40), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", _S(length=64), nullable=False),
        sa.Column("updated_at", _T(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_template_case_type", "reply_template", ["case_type"])
    op.create_table(
        "identity_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requester_role", _S(length=32), nullable=False),
        sa.Column("reason_enc", sa.Text(), nullable=False),
        sa.Column("status", _S(length=10), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decider_role", _S(length=32), nullable=True),
        sa.Column("note_enc", sa.Text(), nullable=True),
        sa.Column("created_at", _T(timezone=True), nullable=False),
        sa.Column("decided_at", _T(timezone=True), nullable=True),
        sa.Column("expires_at", _T(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_identity_request_case_id", "identity_request", ["case_id"])
    op.create_index("ix_identity_request_requested_by", "identity_request", ["requested_by"])


def downgrade() -> None:
    for table in ("identity_request", "reply_template", "office_setting", "api_token", "staff_session"):
        op.drop_table(table)
    op.drop_column("unit", "atasan_user_id")
    for col in ("totp_last_step", "recovery_codes", "totp_enrolled_at", "totp_secret_enc"):
        op.drop_column("user_account", col)
