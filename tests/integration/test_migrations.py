"""The schema comes from the Alembic migrations; they must build exactly what the models describe (column
types included), fill in what they add from the data already there, and refuse what they cannot carry over.

These tests start from an empty database (``empty_db_url``), not from the suite's migrated template."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import wbs_engine.models  # noqa: F401  (the tables of SQLModel.metadata)
from wbs_engine.db import make_engine
from wbs_engine.migrate import current, head, upgrade
from wbs_engine.models import Case


@pytest.fixture
def engine(empty_db_url):
    eng = make_engine(empty_db_url)
    yield eng
    eng.dispose()


def schema_diff(engine, metadata=SQLModel.metadata):
    """Alembic's comparison of the database with ``metadata``: tables, columns, nullability, indexes,
    unique constraints, foreign keys and column types (``compare_type``)."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_migrations_match_the_models(engine):
    upgrade(engine)
    assert current(engine) == head() == "0008"
    # every difference counts, types included: SQLite keeps the declared type names (JSON, DATETIME,
    # VARCHAR(n), DATE), and the dialect reflects them as the types the models declare
    assert schema_diff(engine) == []


def test_the_comparison_sees_a_column_of_another_type(engine):
    """The test above is not vacuous: on both databases a column whose type differs from the migrated one
    (a JSON column as text, a UTC timestamp as a string, a date as a timestamp, a longer VARCHAR) is a
    difference."""
    upgrade(engine)
    changed = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["case_file"].c.sealed_fields.type = sa.Text()
    changed.tables["office_key"].c.created_at.type = sa.String(30)
    changed.tables["case_clock"].c.due_date.type = sa.DateTime()
    changed.tables["unit"].c.code.type = sa.String(40)
    found = {(d[2], d[3]) for group in schema_diff(engine, changed) for d in group if d[0] == "modify_type"}
    assert found == {
        ("case_file", "sealed_fields"),
        ("office_key", "created_at"),
        ("case_clock", "due_date"),
        ("unit", "code"),
    }


def test_upgrade_is_idempotent_and_keeps_data(engine):
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (code, name) VALUES ('X', 'Unit X')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM unit WHERE code = 'X'")).scalar_one() == "Unit X"


# --- data written under an older schema ----------------------------------------------------------------

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

# the two tables as revision 0001 created them (before case_file.sealed_fields and data_key)
CASE_0001 = sa.table(
    "case_file",
    *(
        sa.column(c)
        for c in (
            "id",
            "number",
            "case_type",
            "workflow_version",
            "state",
            "phase",
            "final",
            "identity_mode",
            "receipt_hash",
            "identity_enc",
            "confidential_enc",
            "version",
        )
    ),
    sa.column("data", sa.JSON),
    sa.column("recused", sa.JSON),
    sa.column("created_at", wbs_engine.models.UTCDateTime),
    sa.column("updated_at", wbs_engine.models.UTCDateTime),
)
EVENT_0001 = sa.table(
    "case_event",
    *(sa.column(c) for c in ("id", "case_id", "chain", "seq", "kind", "trigger", "actor", "prev_hash", "hash")),
    sa.column("payload", sa.JSON),
    sa.column("occurred_at", wbs_engine.models.UTCDateTime),
)


def old_case(conn, case_id: int, number: str, events: list[tuple[str, dict]]) -> None:
    """A case and its trail the way a development version at revision 0001 wrote them."""
    conn.execute(
        CASE_0001.insert().values(
            id=case_id,
            number=number,
            case_type="pengaduan",
            workflow_version=1,
            state="verifikasi",
            phase="verifikasi",
            final=False,
            identity_mode="rahasia",
            receipt_hash=f"{case_id:064x}",
            identity_enc="(sealed)",
            confidential_enc="(sealed)",
            version=len(events),
            data={"kategori": "normatif"},
            recused=[],
            created_at=AT,
            updated_at=AT,
        )
    )
    for seq, (kind, payload) in enumerate(events, start=1):
        conn.execute(
            EVENT_0001.insert().values(
                case_id=case_id,
                chain=number,
                seq=seq,
                kind=kind,
                trigger=None if kind == "created" else "t",
                actor="pengelola",
                prev_hash="0" * 64,
                hash=f"{case_id}{seq}".rjust(64, "0"),
                payload=payload,
                occurred_at=AT,
            )
        )


def test_0002_fills_sealed_fields_from_each_cases_trail(engine):
    upgrade(engine, "0001")
    with engine.begin() as conn:
        old_case(
            conn,
            1,
            "PGD-2026-000001",
            [
                ("created", {"data": {"kategori": "normatif"}, "sealed_fields": ["uraian", "nama"]}),
                ("transition", {"data": {}}),  # sealed nothing
                ("message", {"message_id": 1, "length": 20}),
                ("transition", {"data": {}, "sealed_fields": ["jawaban", "uraian"]}),  # uraian again: once
            ],
        )
        old_case(conn, 2, "PGD-2026-000002", [("created", {"data": {"kategori": "normatif"}, "sealed_fields": []})])
        old_case(conn, 3, "PGD-2026-000003", [("created", {"data": {"kategori": "normatif"}})])  # no key at all
    upgrade(engine, "0002")
    assert current(engine) == "0002"
    sealed = sa.table("case_file", sa.column("number"), sa.column("sealed_fields", sa.JSON))
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(sealed.c.number, sealed.c.sealed_fields)).all())
    assert got == {
        "PGD-2026-000001": ["jawaban", "nama", "uraian"],  # the union over its trail, sorted
        "PGD-2026-000002": [],
        "PGD-2026-000003": [],
    }


def test_0003_refuses_a_database_holding_cases_in_one_clear_message_and_changes_nothing(engine):
    upgrade(engine, "0001")
    with engine.begin() as conn:
        old_case(conn, 1, "PGD-2026-000001", [("created", {"data": {}, "sealed_fields": ["nama"]})])
    upgrade(engine, "0002")
    with pytest.raises(Exception) as info:
        upgrade(engine)
    assert type(info.value).__name__ == "PreReleaseData"
    text = info.value.message("en")
    assert "\n" not in text
    assert "1 cases and 1 audit events" in text and "before migration 0003" in text
    assert "start a new one" in text and "wbs init-db" in text  # says what to do
    assert current(engine) == "0002"  # nothing of 0003 was applied
    names = set(sa.inspect(engine).get_table_names())
    assert "office_key" not in names
    assert "data_key" not in {c["name"] for c in sa.inspect(engine).get_columns("case_file")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM case_event")).scalar_one() == 1
        raw = conn.execute(sa.text("SELECT sealed_fields FROM case_file")).scalar_one()
    assert (json.loads(raw) if isinstance(raw, str) else raw) == ["nama"]


def test_init_db_on_a_pre_release_database_says_so_in_one_line(tmp_path):
    from tests.helpers import run_wbs

    engine = make_engine(f"sqlite:///{tmp_path / 'wbs.sqlite3'}")
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            old_case(conn, 1, "PGD-2026-000001", [("created", {"data": {}})])
        upgrade(engine, "0002")
    finally:
        engine.dispose()
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path)})
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "sebelum migrasi 0003" in lines[0] and "Traceback" not in res.stderr


def test_0006_and_0005_go_down_and_up_again(engine):
    from alembic import command

    from wbs_engine.migrate import alembic_config

    upgrade(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert current(engine) == "0004"
    with engine.connect() as conn:
        assert "filename" in {c["name"] for c in sa.inspect(conn).get_columns("attachment")}
        assert not sa.inspect(conn).has_table("filing_token")
    upgrade(engine)
    assert current(engine) == "0008"


def test_0007_goes_down_and_up_again_but_never_drops_ratings(engine):
    from alembic import command

    from wbs_engine.migrate import alembic_config

    upgrade(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def down() -> None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")

    down()
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("survey_response")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO case_file (number, case_type, workflow_version, state, phase, final, identity_mode, data,"
                " sealed_fields, created_at, updated_at, version) VALUES ('PGD-2026-000001', 'pengaduan', 3,"
                " 'selesai', 'closure', true, 'anonim', '{}', '[]', :at, :at, 1)"
            ),
            {"at": AT.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text("INSERT INTO survey_response (case_id, answers, created_at) VALUES (1, '{}', :at)"),
            {"at": AT.replace(tzinfo=None)},
        )
    with pytest.raises(Exception, match="survey_response holds 1 ratings"):
        down()
    assert current(engine) == "0008"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM survey_response")).scalar_one() == 1


def _at_0003(db_url):  # an empty database, migrated here to 0003
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


def test_0004_moves_recusals_to_their_table_and_fills_next_due_and_terms(empty_db_url):
    from datetime import UTC, datetime

    from alembic import command

    from wbs_engine.migrate import alembic_config

    engine = _at_0003(empty_db_url)
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


def test_0004_refuses_a_recusal_of_an_unknown_user(empty_db_url):
    engine = _at_0003(empty_db_url)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE case_file SET recused = :r"), {"r": '["budi", "hantu"]'})
    with pytest.raises(RuntimeError, match="WBS-2026-000001: hantu"):
        upgrade(engine)
    assert current(engine) == "0003"
    engine.dispose()
