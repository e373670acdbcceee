"""The schema comes from the Alembic migrations; they must build exactly what the models describe."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from wbs_engine.db import make_engine
from wbs_engine.migrate import current, head, upgrade


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
