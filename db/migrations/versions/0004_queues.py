"""Queues: ``next_due_at`` on the case, partial indexes on open cases, recusals in their own table, search terms

* ``case_file.next_due_at``: the earliest ``due_at`` of the case's running or breached clocks (NULL when none),
  filled here from ``case_clock`` and kept by every writer of clock rows from now on;
* partial indexes over open cases only (``WHERE final = false``) with ``(next_due_at, id)`` after what a queue
  narrows its cases by: ``(case_type, state, …)``, ``(unit_code, case_type, state, …)`` and
  ``(assigned_user_id, case_type, state, …)``. They replace ``ix_case_queue (case_type, state, unit_code)``,
  which could not give the cases in due order;
* ``case_recusal`` (a row per case and user) replaces the JSON list ``case_file.recused`` of usernames: each
  username is looked up in ``user_account`` (a name no account has stops the migration: the trail names
  someone the database does not know, which needs a person to look at it), the time is that of the event
  that recorded the recusal;
* ``case_term``: the search terms of each case's number and plain values (``wbs_engine.search``), filled here;
* ``ix_case_clock_status (status, next_action_at)``: the daily digest reads breached clocks by status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wbs_engine.models
from wbs_engine import search

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CASE_INDEXES = {
    "ix_case_open_state": ["case_type", "state", "next_due_at", "id", "assigned_user_id", "final"],
    "ix_case_open_unit": ["unit_code", "case_type", "state", "next_due_at", "id", "assigned_user_id", "final"],
    "ix_case_open_assigned": ["assigned_user_id", "case_type", "state", "next_due_at", "id", "unit_code", "final"],
}
BATCH = 5000


class UnknownRecusedUser(RuntimeError):
    """A case's recusal list names a username no account has."""


def _json(value):
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else value


def _recusals_from_json(conn) -> list[dict]:
    users = dict(conn.execute(sa.text("SELECT username, id FROM user_account")).all())
    rows, unknown = [], []
    for case_id, number, recused, updated_at in conn.execute(
        sa.text("SELECT id, number, recused, updated_at FROM case_file ORDER BY id")
    ):
        names = _json(recused) or []
        if not names:
            continue
        # when each was recused: the event that recorded it (payload.recused), else the case's last change
        when: dict[str, object] = {}
        for payload, occurred_at in conn.execute(
            sa.text("SELECT payload, occurred_at FROM case_event WHERE case_id = :c ORDER BY seq"), {"c": case_id}
        ):
            name = (_json(payload) or {}).get("recused")
            if name and name not in when:
                when[name] = occurred_at
        for name in dict.fromkeys(names):
            if name not in users:
                unknown.append(f"{number}: {name}")
                continue
            rows.append({"case_id": case_id, "user_id": users[name], "created_at": when.get(name, updated_at)})
    if unknown:
        raise UnknownRecusedUser(
            "recusal lists name users that do not exist (" + ", ".join(unknown[:20]) + "); create those "
            "accounts (wbs create-user, no grant needed) or correct the lists, then run the migration again"
        )
    return rows


def _drop_column(conn, table: str, column: str) -> None:
    """On SQLite, the native ``DROP COLUMN`` (3.35+): no copy of the table. A batch rebuild would drop the
    table that ``case_event``, ``case_clock`` … reference, which the foreign keys refuse once it holds cases."""
    if conn.dialect.name == "sqlite":
        version = tuple(int(p) for p in conn.exec_driver_sql("SELECT sqlite_version()").scalar().split("."))
        if version >= (3, 35):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_column(column)


def upgrade() -> None:
    conn = op.get_bind()
    utc = wbs_engine.models.UTCDateTime(timezone=True)

    # -- recusals: a table instead of a JSON list ------------------------------------------------------
    op.create_table(
        "case_recusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "user_id", name="uq_case_recusal"),
    )
    op.create_index("ix_case_recusal_user_id", "case_recusal", ["user_id"])
    rows = _recusals_from_json(conn)
    if rows:
        # raw values: created_at comes back from the database as it was stored (text on SQLite)
        conn.execute(
            sa.text("INSERT INTO case_recusal (case_id, user_id, created_at) VALUES (:case_id, :user_id, :created_at)"),
            rows,
        )
    op.drop_index("ix_case_queue", table_name="case_file")
    _drop_column(conn, "case_file", "recused")

    # -- next_due_at, from the clock rows ------------------------------------------------------------
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_at", utc, nullable=True))
    op.execute(
        "UPDATE case_file SET next_due_at = (SELECT min(due_at) FROM case_clock WHERE case_clock.case_id = "
        "case_file.id AND case_clock.status IN ('running', 'breached'))"
    )
    for name, columns in OPEN_CASE_INDEXES.items():
        op.create_index(
            name,
            "case_file",
            columns,
            sqlite_where=sa.text("final = 0"),
            postgresql_where=sa.text("final = false"),
        )
    op.create_index("ix_case_clock_status", "case_clock", ["status", "next_action_at"])

    # -- search terms ----------------------------------------------------------------------------------
    op.create_table(
        "case_term",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(100).with_variant(sa.String(100, collation="C"), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"]),
        sa.PrimaryKeyConstraint("case_id", "term"),
    )
    terms = sa.table("case_term", sa.column("case_id"), sa.column("term"))
    last = 0
    while True:
        batch = conn.execute(
            sa.text("SELECT id, number, data FROM case_file WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not batch:
            break
        out = [r for case_id, number, data in batch for r in search.rows(case_id, number, _json(data) or {})]
        if out:
            conn.execute(sa.insert(terms), out)
        last = batch[-1][0]
    op.create_index("ix_case_term_term", "case_term", ["term", "case_id"])


def downgrade() -> None:
    conn = op.get_bind()
    op.drop_index("ix_case_term_term", table_name="case_term")
    op.drop_table("case_term")
    op.drop_index("ix_case_clock_status", table_name="case_clock")
    for name in OPEN_CASE_INDEXES:
        op.drop_index(name, table_name="case_file")
    _drop_column(conn, "case_file", "next_due_at")
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recused", sa.JSON(), nullable=False, server_default="[]"))
    lists: dict[int, list[str]] = {}
    for case_id, username in conn.execute(
        sa.text(
            "SELECT r.case_id, u.username FROM case_recusal r JOIN user_account u ON u.id = r.user_id ORDER BY r.id"
        )
    ):
        lists.setdefault(case_id, []).append(username)
    for case_id, names in lists.items():
        conn.execute(sa.text("UPDATE case_file SET recused = :r WHERE id = :i"), {"r": json.dumps(names), "i": case_id})
    op.create_index("ix_case_queue", "case_file", ["case_type", "state", "unit_code"])
    op.drop_index("ix_case_recusal_user_id", table_name="case_recusal")
    op.drop_table("case_recusal")
