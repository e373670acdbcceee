"""case_file.sealed_fields: the names of the identity and confidential fields a case holds

Lets a viewer without the key see *that* a sealed field exists ([rahasia]) without decrypting anything,
and no longer shows every possible sealed field as present. Existing cases are filled in from their audit
trail (the events list the names of the fields they sealed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_fields", sa.JSON(), nullable=False, server_default="[]"))
    conn = op.get_bind()
    names: dict[int, set[str]] = {}
    rows = conn.execute(
        sa.text(
            "SELECT case_id, payload FROM case_event WHERE case_id IS NOT NULL AND kind IN ('created', 'transition')"
        )
    )
    for case_id, payload in rows:
        data = json.loads(payload) if isinstance(payload, str) else (payload or {})
        names.setdefault(case_id, set()).update(data.get("sealed_fields") or [])
    for case_id, fields in names.items():
        if fields:
            conn.execute(
                sa.text("UPDATE case_file SET sealed_fields = :f WHERE id = :i"),
                {"f": json.dumps(sorted(fields)), "i": case_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_column("sealed_fields")
