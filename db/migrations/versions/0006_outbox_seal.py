"""Outbox rows carry the office's seal; a sealed recipient may be longer than 200 characters

* ``outbox.seal``: HMAC-SHA256, under a key kept in the keyring, over what a row says (kind, case, recipient,
  language, subject, body, dedupe key). Delivery sends only rows whose seal verifies, so a database writer
  cannot make the office's mail server send their own text to a reporter's sealed address (phishing) or
  redirect a notification. Rows queued before this revision have no seal and are never sent.
* ``outbox.recipient`` becomes text: a reporter's address sealed with the office key (``vault:`` and a
  Fernet token) is longer than the address itself.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.alter_column(
            "recipient", existing_type=sqlmodel.sql.sqltypes.AutoString(length=200), type_=sa.Text(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "recipient", existing_type=sa.Text(), type_=sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        )
        batch_op.drop_column("seal")
