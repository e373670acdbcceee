"""The schema comes from the Alembic migrations; they must build exactly what the models describe."""

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from wbs_engine.db import make_engine
from wbs_engine.migrate import current, head, upgrade
from wbs_engine.models import Case


def test_migrations_match_the_models(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    assert current(engine) == head() == "0004"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    # SQLite cannot tell a JSON column from another type on reflection; only real differences count
    real = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert real == [], real
    engine.dispose()


def test_upgrade_is_idempotent_and_keeps_data(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (code, name) VALUES ('X', 'Unit X')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM unit WHERE code = 'X'")).scalar_one() == "Unit X"
    engine.dispose()


def _at_0003(db_url):
    """A database at revision 0003 holding one user and one case the old way (recusals as a JSON list)."""
    from datetime import UTC, datetime

    engine = make_engine(db_url)
    upgrade(engine, "0003")
    sqlite = engine.dialect.name == "sqlite"

    def ts(y, m, d, h=2):  # how each database takes a time in raw SQL (SQLite: naive UTC text)
        dt = datetime(y, m, d, h, tzinfo=UTC)
        return dt.replace(tzinfo=None).isoformat(sep=" ") if sqlite else dt

    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO user_account (id, username, full_name, active, lang, created_at) "
                "VALUES (7, 'budi', 'Budi', :t, 'id', :at)"
            ),
            {"t": True, "at": ts(2026, 3, 1)},
        )
        c.execute(
            sa.text(
                "INSERT INTO case_file (id, number, case_type, workflow_version, state, phase, final, unit_code, "
                "identity_mode, data, sealed_fields, recused, created_at, updated_at, version) VALUES (1, "
                "'WBS-2026-000001', 'wbs', 1, 'telaah', 'review', :f, 'PUSAT', 'anonim', :data, '[]', :recused, "
                ":at, :upd, 3)"
            ),
            {
                "f": False,
                "data": '{"kategori": "pengadaan_barang"}',
                "recused": '["budi"]',
                "at": ts(2026, 3, 2),
                "upd": ts(2026, 3, 4),
            },
        )
        c.execute(
            sa.text(
                "INSERT INTO case_event (case_id, chain, seq, kind, actor, occurred_at, payload, prev_hash, hash) "
                "VALUES (1, 'WBS-2026-000001', 2, 'transition', 'atasan', :at, :p, 'x', 'y')"
            ),
            {"at": ts(2026, 3, 3), "p": '{"recused": "budi", "case_version": 2}'},
        )
        for name, status, due in (("telaah", "running", ts(2026, 3, 20, 17)), ("verifikasi", "stopped", None)):
            c.execute(
                sa.text(
                    "INSERT INTO case_clock (case_id, name, status, limit_days, limit_unit, counted_from, "
                    "started_at, due_at, extensions, reminders_done) VALUES (1, :n, :s, 3, 'working', "
                    "'2026-03-02', :at, :due, 0, '[]')"
                ),
                {"n": name, "s": status, "at": ts(2026, 3, 2), "due": due},
            )
    return engine


def test_0004_moves_recusals_to_their_table_and_fills_next_due_and_terms(db_url):
    from datetime import UTC, datetime

    from alembic import command

    from wbs_engine.migrate import alembic_config

    engine = _at_0003(db_url)
    upgrade(engine)
    with engine.connect() as c:
        (row,) = c.execute(sa.text("SELECT case_id, user_id, created_at FROM case_recusal")).all()
        assert row[:2] == (1, 7)
        assert str(row[2]).startswith("2026-03-03 02:00:00")  # when the trail recorded it
        due = c.execute(sa.select(Case.__table__.c.next_due_at)).scalar_one()
        assert due == datetime(2026, 3, 20, 17, tzinfo=UTC)  # the running clock's, not the stopped one's
        terms = {t for (t,) in c.execute(sa.text("SELECT term FROM case_term"))}
        assert {"wbs-2026-000001", "000001", "1", "pengadaan barang", "barang"} <= terms
        assert "recused" not in {col["name"] for col in sa.inspect(c).get_columns("case_file")}
    # and back: the list is rebuilt from the table
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with engine.connect() as c:
        recused = c.execute(sa.text("SELECT recused FROM case_file")).scalar_one()
        assert (json.loads(recused) if isinstance(recused, str) else recused) == ["budi"]
    engine.dispose()


def test_0004_refuses_a_recusal_of_an_unknown_user(db_url):
    engine = _at_0003(db_url)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE case_file SET recused = :r"), {"r": '["budi", "hantu"]'})
    with pytest.raises(RuntimeError, match="WBS-2026-000001: hantu"):
        upgrade(engine)
    assert current(engine) == "0003"
    engine.dispose()
