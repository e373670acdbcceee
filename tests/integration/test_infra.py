"""Tests of the shared test infrastructure (tests/conftest.py) itself."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text


@pytest.mark.postgres
def test_pg_server_answers(pg_server):
    assert pg_server.host == "127.0.0.1"
    assert pg_server.admin_url == f"postgresql+psycopg://wbs@127.0.0.1:{pg_server.port}/postgres"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        version = conn.execute("select version()").fetchone()[0]
        encoding = conn.execute("show server_encoding").fetchone()[0]
    assert version.startswith("PostgreSQL ")
    assert encoding == "UTF8"


@pytest.mark.postgres
def test_pg_create_database_gives_independent_databases(pg_server):
    url_a = pg_server.create_database("infra_a")
    url_b = pg_server.create_database("infra_b")
    assert url_a == f"postgresql+psycopg://wbs@127.0.0.1:{pg_server.port}/infra_a"
    assert url_b.endswith("/infra_b")

    engine_a, engine_b = create_engine(url_a), create_engine(url_b)
    try:
        with engine_a.begin() as conn:
            conn.execute(text("create table pengaduan (id serial primary key, judul text not null)"))
            conn.execute(text("insert into pengaduan (judul) values ('Pungutan liar di loket')"))
        with engine_a.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == "infra_a"
            assert conn.execute(text("select judul from pengaduan")).scalar() == "Pungutan liar di loket"
        with engine_b.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == "infra_b"
        assert inspect(engine_a).get_table_names() == ["pengaduan"]
        assert inspect(engine_b).get_table_names() == []
    finally:
        engine_a.dispose()
        engine_b.dispose()


@pytest.mark.postgres
def test_pg_create_database_default_names_are_unique(pg_server):
    first, second = pg_server.create_database(), pg_server.create_database()
    assert first != second
    with pytest.raises(ValueError):
        pg_server.create_database("Robert'); drop table students;--")


def test_smtp_sink_receives_utf8_message(smtp_sink):
    assert smtp_sink.url == f"smtp://127.0.0.1:{smtp_sink.port}"
    assert smtp_sink.messages == []

    msg = EmailMessage()
    msg["From"] = "Unit Kepatuhan Internal <uki@example.go.id>"
    msg["To"] = "pelapor@example.org"
    msg["Cc"] = "atasan@example.go.id"
    msg["Subject"] = "Tanda terima pengaduan WBS-2024-0001"
    msg.set_content("Pengaduan Anda telah diterima dan akan ditindaklanjuti dalam 5 hari kerja.\n")

    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.send_message(msg)

    (received,) = smtp_sink.wait_for(1)
    assert received.mail_from == "uki@example.go.id"
    assert sorted(received.rcpt_tos) == ["atasan@example.go.id", "pelapor@example.org"]
    assert received.subject == "Tanda terima pengaduan WBS-2024-0001"
    assert received.message["To"] == "pelapor@example.org"
    assert "Pengaduan Anda telah diterima" in received.text()


def test_smtp_sink_decodes_non_ascii_subject_and_clears(smtp_sink):
    # A fresh test starts with an empty sink even though the server is shared.
    assert smtp_sink.messages == []
    msg = EmailMessage()
    msg["From"] = "uki@example.go.id"
    msg["To"] = "pelapor@example.org"
    msg["Subject"] = "Laporan gratifikasi — status diperbarui"
    msg.set_content("Status laporan Anda: “sedang diverifikasi”.\n")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.send_message(msg)

    (received,) = smtp_sink.wait_for(1)
    assert received.subject == "Laporan gratifikasi — status diperbarui"
    assert received.text() == "Status laporan Anda: “sedang diverifikasi”.\n"

    smtp_sink.clear()
    assert smtp_sink.messages == []


def test_smtp_sink_wait_for_times_out_with_clear_message(smtp_sink):
    with pytest.raises(AssertionError, match=r"expected at least 1 message\(s\) within 0.2s, got 0"):
        smtp_sink.wait_for(1, timeout=0.2)


@pytest.mark.postgres
def test_databases_cloned_from_the_template_start_empty_and_take_their_own_keyring(pg_server, pg_template, tmp_path):
    """What the suite's PostgreSQL tests get (``pg_url``/``db_url``): a copy of the migrated template with no
    keyring fingerprints, so ``init_database`` (as ``make_wbs`` and ``wbs init-db`` call it) creates and
    registers the test's own keyring; the template itself stays without any."""
    from pathlib import Path

    from wbs_engine import keystore
    from wbs_engine.config import Settings
    from wbs_engine.db import make_engine, unit_of_work
    from wbs_engine.migrate import current, head
    from wbs_engine.provision import init_database

    repo = Path(__file__).resolve().parents[2]
    registered = []
    for i in range(2):
        url = pg_server.create_database(template=pg_template)
        engine = make_engine(url)
        try:
            assert current(engine) == head()
            with unit_of_work(engine, write=False) as s:
                assert keystore.registered(s) == {}
        finally:
            engine.dispose()
        settings = Settings(instance_dir=tmp_path / f"office{i}", database_url=url, workflows_dir=repo / "workflows")
        res = init_database(settings)
        assert res.created_keyring and res.registered
        registered.append(set(res.registered))
    assert registered[0].isdisjoint(registered[1])  # two offices, two keyrings
    template = make_engine(pg_server.url(pg_template))
    try:
        with unit_of_work(template, write=False) as s:
            assert keystore.registered(s) == {}
    finally:
        template.dispose()
