"""Trust: a data key per case, keyring fingerprints, signed checkpoints that commit to the case counters

* ``case_file.data_key``: the case's own data key, wrapped by the office key (envelope encryption);
* ``office_key``: the fingerprints of the keyring this database belongs to (keys never live here);
* ``audit_checkpoint`` gains ``seq``, ``counters``, ``signature`` and ``key_id``; ``prev_hash`` becomes
  unique, so two checkpoints can never extend the same predecessor.

Databases written by development versions before this one (no release was ever made) sealed values with the
office key directly, hashed receipt codes without a key and kept unsigned checkpoints. Their cases cannot be
carried over without the reporters' codes, so this migration refuses to run on a database that already holds
cases or audit events, and says what to do, rather than mixing two schemes in one trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import wbs_engine.models
from wbs_engine.errors import WbsError
from wbs_engine.i18n import gettext_noop as _

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class PreReleaseData(WbsError):
    """The database holds cases written before envelope encryption and signed checkpoints (a user error
    with one clear line, like every other: ``wbs init-db`` prints it and exits 2)."""


def upgrade() -> None:
    conn = op.get_bind()
    cases = conn.execute(sa.text("SELECT count(*) FROM case_file")).scalar_one()
    events = conn.execute(sa.text("SELECT count(*) FROM case_event")).scalar_one()
    if cases or events:
        raise PreReleaseData(
            _(
                "this database holds {cases} cases and {events} audit events written by a development version "
                "before migration 0003 (sealed without per-case keys, unsigned checkpoints); they cannot be "
                "carried over. No release ever wrote such a database: keep the file as it is and start a new one "
                "(another WBS_INSTANCE_DIR or WBS_DATABASE_URL), then run `wbs init-db` and `wbs seed-demo` again"
            ),
            cases=cases,
            events=events,
        )
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_key", sa.Text(), nullable=True))
    op.create_table(
        "office_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purpose", "fingerprint", name="uq_office_key"),
    )
    # the table is empty (checked above): rebuild it in its new shape rather than altering it column by column
    op.drop_table("audit_checkpoint")
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", wbs_engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.drop_table("office_key")
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_column("data_key")
