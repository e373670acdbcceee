"""One lock for every write to a case: the sweep and a user's fire on the same case, forced to overlap.

Only PostgreSQL can interleave them. On SQLite every writing transaction starts with ``BEGIN IMMEDIATE``
(``wbs_engine/db.py``), which takes the database's single write lock at BEGIN: a fire that starts while
the sweep's transaction is open waits at its BEGIN until the sweep has committed, and only then reads the
case and its clocks, so it cannot act on a clock the sweep is changing. On PostgreSQL transactions run
side by side (READ COMMITTED) and only row locks order them; these tests force the two orders with the
sweep's test hook and with the engine's injected clock, and wait for the other transaction to be blocked
on a lock (``pg_stat_activity``), not for time to pass.

Two fires on one case are ordered twice over on PostgreSQL: by the case row lock (``FOR NO KEY UPDATE`` in
``writepath.case_for_write``: the second fire waits, then reads what the first committed) and, behind it, by
the conditional write-back (``UPDATE … WHERE version = :seen`` in ``writepath.write_case``) for a writer
that read the case without the lock. Both are tested here with the interleaving forced.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.helpers import COMPLAINT, seed_people
from wbs_engine import audit, scheduler, writepath
from wbs_engine.db import unit_of_work
from wbs_engine.engine import Fired
from wbs_engine.errors import ConcurrentChange
from wbs_engine.models import Case, CaseEvent, Clock, ClockAction, Outbox
from wbs_engine.scheduler import sweep

pytestmark = pytest.mark.postgres

DISPOSISI = {"unit_tujuan": "LAYANAN", "instruksi": "Mohon klarifikasi petugas loket."}


@pytest.fixture
def pg_wbs(make_wbs, pg_url):
    eng = make_wbs(pg_url)
    seed_people(eng)
    return eng


def wait_for_lock_waiter(eng, timeout: float = 60.0, count: int = 1) -> bool:
    """True once ``count`` other sessions of this database are waiting for a lock (or False after
    ``timeout``, so that a code path that takes no lock fails the test's assertions instead of hanging)."""
    deadline = time.monotonic() + timeout
    with eng.db.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            conn.rollback()
            if waiting >= count:
                return True
            time.sleep(0.01)
    return False


def verification_clock(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        case = eng.get_case(s, number)
        clk = s.exec(select(Clock).where(Clock.case_id == case.id, Clock.name == "verifikasi")).one()
        return case, clk


def kinds(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return [
            (e.kind, e.trigger)
            for e in s.exec(select(CaseEvent).where(CaseEvent.chain == number).order_by(CaseEvent.seq)).all()
        ]


def test_fire_during_sweep_breach_waits_and_keeps_the_breach(pg_wbs, clock, monkeypatch):
    """Reproduces the lost update seen on PostgreSQL: the sweep marks the verification clock breached (and
    escalates, audited) but has not committed; meanwhile a handler sends the complaint to a unit, which
    stops that clock. The old fire read the clock rows without a lock (still ``running``), then blocked
    only on writing the clock row, and after the sweep committed overwrote every clock column: the clock
    ended ``stopped`` with no ``breached_at`` although the breach was escalated and in the trail. With the
    case row locked first by every writer, the fire waits before reading and stops the *breached* clock."""
    c = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")  # Mon 2 Mar 09:00 WIB, due Thu 5
    pengelola = pg_wbs.load_actor("pengelola")
    pg_wbs.fire(c.number, "mulai_verifikasi", pengelola)
    clock.advance(days=4)  # Fri 6 Mar 09:00 WIB: both reminders and the breach are due
    fired: dict = {}

    def fire_disposisi():
        try:
            fired["result"] = pg_wbs.fire(c.number, "disposisi", pengelola, DISPOSISI)
        except BaseException as exc:  # reported by the main thread
            fired["error"] = exc

    fire_thread = threading.Thread(target=fire_disposisi)
    blocked: list[bool] = []

    def hook(session, row, action):
        if action != "breach":
            return
        session.flush()  # the breach is written in the sweep's open transaction
        fire_thread.start()  # the handler's fire starts now…
        blocked.append(wait_for_lock_waiter(pg_wbs))  # …and gets as far as a lock held by the sweep

    monkeypatch.setattr(scheduler, "_before_commit", hook)
    report = sweep(pg_wbs)
    fire_thread.join(120)
    assert not fire_thread.is_alive() and "error" not in fired, fired.get("error")
    assert blocked == [True]
    assert (report.reminders, report.breaches, report.errors) == (2, 1, [])

    case, clk = verification_clock(pg_wbs, c.number)
    assert clk.status == "stopped" and clk.breached_at == clock.now and clk.stopped_at == clock.now
    assert case.state == "disposisi" and case.version == 3 == fired["result"].version
    trail = kinds(pg_wbs, c.number)
    assert trail[-2:] == [("clock_breached", None), ("transition", "disposisi")]
    breach = next(e for e in audit_events(pg_wbs, c.number) if e.kind == "clock_breached")
    assert breach.payload["escalated_to"] == ["atasan"]
    with unit_of_work(pg_wbs.db, write=False) as s:
        assert audit.verify(s).ok
    assert "verifikasi" not in {it.clock for it in sweep(pg_wbs).items}  # nothing more on the stopped clock


def audit_events(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(select(CaseEvent).where(CaseEvent.chain == number).order_by(CaseEvent.seq)).all()


def test_sweep_skips_a_case_a_fire_holds_and_does_it_next_time_once(pg_wbs, clock):
    """The other order: a handler's fire holds the case (it has read and locked it and is still working)
    when the sweep comes. The old sweep locked only the clock row, which this fire does not write, and
    breached and audited the case in the middle of the fire. Now the sweep skips the busy case (SKIP
    LOCKED on the case row), reports it as busy, and the next sweep does the breach exactly once."""
    c = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    clock.advance(days=4)  # Fri 6 Mar: the verification clock (still in 'diterima') is overdue
    holding, release = threading.Event(), threading.Event()
    at = clock.now

    def slow_clock():
        # the fire reads the time after taking the case: hold the case here until the test says go
        if threading.current_thread() is fire_thread:
            holding.set()
            release.wait(120)
        return at

    twin = pg_wbs.with_clock(slow_clock)
    pengelola = pg_wbs.load_actor("pengelola")
    fired: dict = {}

    def fire_start():
        try:
            fired["result"] = twin.fire(c.number, "mulai_verifikasi", pengelola)
        except BaseException as exc:
            fired["error"] = exc

    fire_thread = threading.Thread(target=fire_start)
    fire_thread.start()
    try:
        assert holding.wait(60)
        busy = sweep(pg_wbs)
    finally:
        release.set()
        fire_thread.join(120)
    assert "error" not in fired, fired.get("error")
    assert busy.done == 0 and busy.items == [] and busy.errors == []
    assert busy.busy == 1 and any("busy" in line for line in busy.summary("en"))
    assert [k for k, _ in kinds(pg_wbs, c.number)] == ["created", "transition"]

    later = sweep(pg_wbs)
    assert [it.action for it in later.items] == ["remind:1", "remind:0", "breach"] and later.busy == 0
    assert sweep(pg_wbs).done == 0
    with unit_of_work(pg_wbs.db, write=False) as s:
        acts = s.exec(select(ClockAction.action).order_by(ClockAction.id)).all()
        assert acts == ["remind:1", "remind:0", "breach"]
        assert audit.verify(s).ok
    case, clk = verification_clock(pg_wbs, c.number)
    assert case.state == "verifikasi" and case.version == 2
    assert clk.status == "breached" and clk.breached_at == at


def test_message_during_sweep_breach_fire_waits_instead_of_failing(pg_wbs, clock, monkeypatch):
    """``post_message`` takes the same case lock. The sweep's breach of the reporter's answer limit fires
    ``tutup_tanpa_jawaban`` (the case is archived); a handler's message written meanwhile used to read the
    case unlocked and then lose the version race with a 'changed by someone else' error. Now it waits for
    the sweep and then gets the clear 'case is closed' answer."""
    from wbs_engine.errors import InvalidTransition

    c = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pengelola = pg_wbs.load_actor("pengelola")
    pg_wbs.fire(c.number, "mulai_verifikasi", pengelola)
    pg_wbs.fire(c.number, "minta_informasi", pengelola, {"pesan": "Mohon sebutkan jam kejadian."})
    clock.advance(days=30)
    outcome: dict = {}

    def post():
        try:
            outcome["id"] = pg_wbs.post_message(c.number, pengelola, "Apakah ada saksi lain?")
        except BaseException as exc:
            outcome["error"] = exc

    poster = threading.Thread(target=post)
    blocked: list[bool] = []

    def hook(session, row, action):
        if row.name == "keterangan_pelapor" and action == "breach":
            session.flush()
            poster.start()
            blocked.append(wait_for_lock_waiter(pg_wbs))

    monkeypatch.setattr(scheduler, "_before_commit", hook)
    report = sweep(pg_wbs)
    poster.join(120)
    assert blocked == [True] and report.fired == 1 and report.errors == []
    assert isinstance(outcome.get("error"), InvalidTransition), outcome
    with unit_of_work(pg_wbs.db, write=False) as s:
        assert pg_wbs.get_case(s, c.number).state == "diarsipkan"
        assert audit.verify(s).ok
    assert [k for k, _ in kinds(pg_wbs, c.number)].count("message") == 0


def test_sweep_of_an_unlocked_case_is_not_delayed_by_another_case(pg_wbs, clock):
    """SKIP LOCKED is per case: a fire holding one case does not stop the sweep on the other cases."""
    a = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    b = pg_wbs.create_case("pengaduan", {**COMPLAINT, "layanan": "Lain"}, identity_mode="rahasia")
    clock.advance(days=4)
    with unit_of_work(pg_wbs.db) as s:  # someone holds case a the way every writer does
        pg_wbs.get_case(s, a.number, lock=True)
        r = sweep(pg_wbs)
    assert {it.number for it in r.items} == {b.number} and r.busy == 1
    assert {it.number for it in sweep(pg_wbs).items} == {a.number}


# --- two fires on one case ---------------------------------------------------------------------------

ASK = {"pesan": "Mohon sebutkan jam kejadian."}
FIRES = {"disposisi": DISPOSISI, "minta_informasi": ASK}


def case_snapshot(eng, number):
    """What a user of the case can notice: the row, its clocks, its trail and its mail (numbers, ids and the
    sealed recipient left out, so that two cases with the same history compare equal)."""
    with unit_of_work(eng.db, write=False) as s:
        case = eng.get_case(s, number)
        clocks = s.exec(select(Clock).where(Clock.case_id == case.id).order_by(Clock.name)).all()
        events = s.exec(select(CaseEvent).where(CaseEvent.chain == number).order_by(CaseEvent.seq)).all()
        mails = s.exec(select(Outbox).where(Outbox.case_id == case.id).order_by(Outbox.id)).all()
        return {
            "case": (case.state, case.phase, case.final, case.version, case.unit_code, case.data, case.sealed_fields),
            "clocks": [(k.name, k.status, k.due_date, k.remaining_days, k.next_action) for k in clocks],
            "events": [(e.kind, e.trigger, e.from_state, e.to_state, e.actor) for e in events],
            "mails": sorted((m.kind, m.recipient if "@" in m.recipient else "(sealed)") for m in mails),
        }


def in_threads(targets: dict) -> tuple[dict, list[threading.Thread]]:
    """Start one named thread per ``name: callable``; their results or exceptions land in the dict."""
    out: dict = {}

    def run(name, fn):
        try:
            out[name] = fn()
        except BaseException as exc:  # judged by the main thread
            out[name] = exc

    threads = [threading.Thread(target=run, args=(n, fn), name=n) for n, fn in targets.items()]
    for t in threads:
        t.start()
    return out, threads


@pytest.mark.parametrize("winner", list(FIRES))
def test_two_fires_that_both_read_the_case_first_are_decided_by_the_conditional_update(pg_wbs, monkeypatch, winner):
    """The interleaving the case lock exists to prevent, forced: two fires read the case (version 2) without
    the lock, both pass ``expected_version=2`` and every other check, and only then write. The first
    ``UPDATE … WHERE version = 2`` wins; the second waits for the first's row lock, and once the first has
    committed its WHERE no longer matches: it gets ConcurrentChange from the write itself and its
    transaction leaves nothing behind. The result is exactly what the winner alone would have left.

    (SQLite needs no such test: ``BEGIN IMMEDIATE`` takes the database's write lock before the case is read,
    so a second writer reads only what the first committed; see test_engine.py.)"""
    loser = next(t for t in FIRES if t != winner)
    pengelola = pg_wbs.load_actor("pengelola")
    c = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pg_wbs.fire(c.number, "mulai_verifikasi", pengelola)  # version 2, in 'verifikasi'
    control = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")  # the winner's fire alone
    pg_wbs.fire(control.number, "mulai_verifikasi", pengelola)
    pg_wbs.fire(control.number, winner, pengelola, FIRES[winner])

    cases = Case.__table__  # a reader that does not take the case lock
    monkeypatch.setattr(writepath, "_CASE_FOR_WRITE", sa.select(cases).where(cases.c.number == sa.bindparam("number")))
    both_read = threading.Barrier(2, timeout=60)
    first_written, release_first = threading.Event(), threading.Event()
    refused_by_update: list[str] = []
    real_write_case = writepath.write_case

    def write_case(s, case):
        me = threading.current_thread().name
        assert case.version == 2
        both_read.wait()  # both have read version 2 and passed expected_version and every other check
        if me == loser:
            assert first_written.wait(60)  # the winner's UPDATE is in, not committed
        try:
            real_write_case(s, case)
        except ConcurrentChange:
            refused_by_update.append(me)
            raise
        if me == winner:
            first_written.set()
            assert release_first.wait(60)  # keep the row locked, uncommitted, until the loser waits on it

    monkeypatch.setattr(writepath, "write_case", write_case)
    fire = lambda trigger: lambda: pg_wbs.fire(c.number, trigger, pengelola, FIRES[trigger], expected_version=2)  # noqa: E731
    results, threads = in_threads({t: fire(t) for t in FIRES})
    try:
        assert first_written.wait(60), results
        loser_waits = wait_for_lock_waiter(pg_wbs)  # the loser's UPDATE, on the winner's row lock
    finally:
        release_first.set()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert loser_waits
    assert isinstance(results[winner], Fired) and results[winner].version == 3, results
    assert isinstance(results[loser], ConcurrentChange), results
    assert refused_by_update == [loser]  # decided by the UPDATE, not by the expected_version check

    got = case_snapshot(pg_wbs, c.number)
    assert got == case_snapshot(pg_wbs, control.number)
    assert [e[1] for e in got["events"] if e[0] == "transition"] == ["mulai_verifikasi", winner]
    with unit_of_work(pg_wbs.db, write=False) as s:
        assert audit.verify(s).ok


def test_the_case_lock_makes_the_next_fires_wait_and_act_on_what_the_first_committed(pg_wbs, monkeypatch):
    """The normal path: a fire holds the case (read with its lock, written, not yet committed). A second
    fire that is only valid after it (the unit accepting the disposition) and a third from a screen that
    still shows version 2 both wait on the case lock before reading anything. Once the first commits, the
    second acts on the new state and the third is told the case changed."""
    pengelola, petugas = pg_wbs.load_actor("pengelola"), pg_wbs.load_actor("petugas")
    c = pg_wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pg_wbs.fire(c.number, "mulai_verifikasi", pengelola)
    written, release = threading.Event(), threading.Event()
    writers: list[tuple[str, int]] = []
    real_write_case = writepath.write_case

    def write_case(s, case):
        me = threading.current_thread().name
        writers.append((me, case.version))
        real_write_case(s, case)
        if me == "first":
            written.set()
            assert release.wait(60)

    monkeypatch.setattr(writepath, "write_case", write_case)
    first, first_threads = in_threads(
        {"first": lambda: pg_wbs.fire(c.number, "disposisi", pengelola, DISPOSISI, expected_version=2)}
    )
    others: dict = {}
    threads = list(first_threads)
    try:
        assert written.wait(60), first
        others, more = in_threads(
            {
                "next": lambda: pg_wbs.fire(c.number, "terima_disposisi", petugas),
                "stale": lambda: pg_wbs.fire(c.number, "minta_informasi", pengelola, ASK, expected_version=2),
            }
        )
        threads += more
        both_wait = wait_for_lock_waiter(pg_wbs, count=2)
        assert [w for w, _ in writers] == ["first"]  # neither has got past the lock
    finally:
        release.set()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert both_wait
    assert isinstance(first["first"], Fired) and first["first"].version == 3
    nxt = others["next"]
    assert isinstance(nxt, Fired), others
    assert (nxt.from_state, nxt.to_state, nxt.version) == ("disposisi", "tindak_lanjut", 4)
    assert isinstance(others["stale"], ConcurrentChange), others  # refused by its check: it never wrote
    assert sorted(writers) == [("first", 2), ("next", 3)]
    trail = [t for k, t in kinds(pg_wbs, c.number) if k == "transition"]
    assert trail == ["mulai_verifikasi", "disposisi", "terima_disposisi"]
    with unit_of_work(pg_wbs.db, write=False) as s:
        assert audit.verify(s).ok
