"""The queue statements read the partial indexes on open cases (and the term index for a search), never the
whole case table: checked on the query plans.

SQLite: ``EXPLAIN QUERY PLAN`` as the product runs it (no statistics: nothing runs ANALYZE). PostgreSQL:
``EXPLAIN`` with ``enable_seqscan = off``: on a test database of a few rows a sequential scan is always the
cheapest plan, so the planner is asked whether the indexes *can* serve each statement, not whether it would
prefer them at this size (``benchmarks/bench_queries.py`` prints the plans chosen among 1,000,000 cases).
"""

import re

import pytest
import sqlalchemy as sa

from tests.integration.test_queues import complaint, register_entry, to_unit
from wbs_engine import queries
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case, Clock


def explain(wbs, sql: str) -> list[str]:
    with wbs.db.connect() as c:
        if wbs.db.dialect.name == "sqlite":
            return [r[-1] for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        c.exec_driver_sql("SET enable_seqscan = off")
        return [r[0] for r in c.exec_driver_sql("EXPLAIN " + sql)]


def case_file_reads(wbs, lines: list[str]) -> list[str]:
    """How each plan step reads case_file."""
    if wbs.db.dialect.name == "sqlite":
        return [x for x in lines if re.search(r"\b(SCAN|SEARCH) case_file\b", x)]
    return [x.strip() for x in lines if re.search(r" on case_file\b", x)]


def allowed(wbs, read: str, indexes: set[str]) -> bool:
    if wbs.db.dialect.name == "sqlite":
        if read.startswith("SEARCH case_file USING INTEGER PRIMARY KEY"):
            return True
        m = re.match(r"SEARCH case_file USING COVERING INDEX (\w+) ", read)
        return bool(m) and m.group(1) in indexes
    if "Seq Scan" in read:
        return False
    m = re.search(r"using (\w+) on case_file", read, re.IGNORECASE)
    return bool(m) and (m.group(1) in indexes or m.group(1) == "case_file_pkey")


@pytest.fixture
def scopes(wbs):
    for unit in ("PUSAT", "LAYANAN"):
        complaint(wbs, unit)
    to_unit(wbs, complaint(wbs), "LAYANAN")
    register_entry(wbs)

    def scope(who, **kw):
        with unit_of_work(wbs.db, write=False) as s:
            actor = wbs.load_actor(who)
            return queries.scope(s, wbs.registry, actor, now=wbs.now(), calendar=wbs.calendar(s), **kw)

    return scope


STATE, UNIT, ASSIGNED = "ix_case_open_state", "ix_case_open_unit", "ix_case_open_assigned"
#: which index each queue may read, for an actor on every unit (pengelola) and on one unit (petugas)
EXPECTED = {
    ("pengelola", "mine"): {ASSIGNED},
    ("pengelola", "unassigned"): {STATE, ASSIGNED},
    ("pengelola", "due_soon"): {STATE},
    ("pengelola", "overdue"): {STATE},
    ("petugas", "mine"): {ASSIGNED},
    ("petugas", "unassigned"): {UNIT},
    ("petugas", "due_soon"): {UNIT},
    ("petugas", "overdue"): {UNIT},
}


def test_pages_read_only_the_open_case_indexes(wbs, scopes):
    due = wbs.now()
    for (who, queue), indexes in EXPECTED.items():
        sc = scopes(who)
        cursors = [None, queries.Cursor(queue, due, 1)]
        if queue in ("mine", "unassigned"):
            cursors.append(queries.Cursor(queue, None, 1))  # among the cases without a due date
        for cursor in cursors:
            stmt = queries.page_statement(sc, queue, cursor=cursor)
            lines = explain(wbs, stmt.literal(wbs.db))
            reads = case_file_reads(wbs, lines)
            index_reads = [r for r in reads if "PRIMARY KEY" not in r and "pkey" not in r]
            assert index_reads, (who, queue, lines)
            bad = [r for r in reads if not allowed(wbs, r, indexes)]
            assert not bad, (who, queue, cursor, bad, lines)


def test_counts_read_only_the_open_case_indexes(wbs, scopes):
    for who, indexes in (("pengelola", {STATE, ASSIGNED}), ("petugas", {UNIT, ASSIGNED})):
        stmt = queries.counts_statement(scopes(who))
        lines = explain(wbs, stmt.literal(wbs.db))
        reads = case_file_reads(wbs, lines)
        assert reads and not [r for r in reads if not allowed(wbs, r, indexes)], (who, lines)
        assert {name for name in indexes if any(name in r for r in reads)} == indexes, lines


def test_a_search_starts_from_the_term_index(wbs, scopes):
    for queue in queries.QUEUES:
        stmt = queries.page_statement(scopes("pengelola", search="pgd-2026"), queue)
        lines = explain(wbs, stmt.literal(wbs.db))
        assert any("ix_case_term_term" in x for x in lines), lines
        reads = case_file_reads(wbs, lines)
        # the matches are read by primary key; no index of case_file competes with the term index
        assert reads and all("PRIMARY KEY" in r or "case_file_pkey" in r for r in reads), lines
    lines = explain(wbs, queries.counts_statement(scopes("pengelola", search="pgd")).literal(wbs.db))
    assert any("ix_case_term_term" in x for x in lines), lines


def test_the_digest_finds_breached_clocks_by_status(wbs, scopes):
    clocks, cases = Clock.__table__, Case.__table__
    stmt = (
        sa.select(clocks.c.id, cases.c.number)
        .join(cases, cases.c.id == clocks.c.case_id)
        .where(clocks.c.status == "breached", cases.c.final == sa.false())
    )
    lines = explain(wbs, str(stmt.compile(wbs.db, compile_kwargs={"literal_binds": True})))
    assert any("ix_case_clock_status" in x for x in lines), lines
