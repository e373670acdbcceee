"""An office day off added (or taken back) by the admin moves the due dates of the clocks it falls in,
with real 2026 dates: a complaint filed Mon 2 Mar 2026 09:00 WIB has its 3-HK verification due Thu 5 Mar."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent, Clock
from wbs_engine.scheduler import sweep
from wbs_engine.users import set_holiday

WED_4, THU_5 = date(2026, 3, 4), date(2026, 3, 5)


def wib(y, m, d, hh=9):
    return datetime(y, m, d, hh - 7, tzinfo=UTC)


def new_case(wbs, **data):
    return wbs.create_case("pengaduan", {**COMPLAINT, **data}, identity_mode="rahasia")


def clock_row(wbs, number, name="verifikasi"):
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, number)
        return s.exec(select(Clock).where(Clock.case_id == case.id, Clock.name == name)).one()


def recomputed(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        evs = s.exec(
            select(CaseEvent)
            .where(CaseEvent.chain == number, CaseEvent.kind == "clock_recomputed")
            .order_by(CaseEvent.seq)
        ).all()
        return [(e.actor, e.payload) for e in evs]


def test_day_off_added_and_removed_moves_the_verification_deadline_and_back(wbs, clock):
    """The admin declares Wed 4 Mar an office day off. The old code changed the calendar but the running
    clock kept its due date (Thu 5), so the handlers lost a day and the sweep breached a day early; taking
    the day back left the clock a day late. Each move is now an audited event on the case."""
    c = new_case(wbs)
    assert clock_row(wbs, c.number).due_date == THU_5

    set_holiday(wbs, WED_4, "closed", "Hari jadi kantor", actor="admin.kantor")
    clk = clock_row(wbs, c.number)
    assert clk.due_date == date(2026, 3, 6)
    assert clk.due_at == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)  # midnight WIB after Fri 6 Mar
    assert (clk.next_action, clk.next_action_at) == ("remind:1", wib(2026, 3, 5, 8))  # 1 HK before: Thu 08:00

    set_holiday(wbs, WED_4, "open", "Hari kerja (ditetapkan admin)", actor="admin.kantor")
    clk = clock_row(wbs, c.number)
    assert (clk.due_date, clk.next_action_at) == (THU_5, wib(2026, 3, 4, 8))

    # the due day itself: lost, then given back (the way back needs the new calendar: Thu 5 is working again)
    set_holiday(wbs, THU_5, "closed", "Libur kantor", actor="admin.kantor")
    assert clock_row(wbs, c.number).due_date == date(2026, 3, 6)
    set_holiday(wbs, THU_5, "open", "Hari kerja (ditetapkan admin)", actor="admin.kantor")
    assert clock_row(wbs, c.number).due_date == THU_5

    assert recomputed(wbs, c.number) == [
        ("admin.kantor", {"clock": "verifikasi", "day": d, "made": made, "due_before": a, "due_after": b})
        for d, made, a, b in [
            ("2026-03-04", "holiday", "2026-03-05", "2026-03-06"),
            ("2026-03-04", "working_day", "2026-03-06", "2026-03-05"),
            ("2026-03-05", "holiday", "2026-03-05", "2026-03-06"),
            ("2026-03-05", "working_day", "2026-03-06", "2026-03-05"),
        ]
    ]
    with unit_of_work(wbs.db, write=False) as s:
        assert audit.verify(s).ok

    # the sweep follows the moved deadline: Wed 4 off again, so remind on Thu, Fri, breach after Fri
    set_holiday(wbs, WED_4, "closed", "Hari jadi kantor", actor="admin.kantor")
    done = []
    for day in (4, 5, 6, 7):
        clock.now = wib(2026, 3, day)
        done += [(day, it.action) for it in sweep(wbs).items]
    assert done == [(5, "remind:1"), (6, "remind:0"), (7, "breach")]


def test_only_running_working_day_clocks_whose_window_holds_the_day_move(wbs, clock):
    """Paused clocks keep their remaining days (they count them again when they resume), stopped and
    breached clocks stay as recorded, calendar-day limits ignore holidays, and a day outside a clock's
    window (before it started counting, after its due date) changes nothing."""
    pengelola = wbs.load_actor("pengelola")
    clock.now = wib(2026, 2, 23)  # Mon 23 Feb: verification due Thu 26 Feb, breached by the sweep below
    late = new_case(wbs, layanan="Terlambat")
    clock.now = wib(2026, 3, 2)
    assert sweep(wbs).breaches == 1
    running = new_case(wbs)
    waiting = new_case(wbs, layanan="Menunggu")
    wbs.fire(waiting.number, "mulai_verifikasi", pengelola)
    wbs.fire(waiting.number, "minta_informasi", pengelola, {"pesan": "Mohon sebutkan jam kejadian."})
    closed = new_case(wbs, layanan="Diarsipkan")
    wbs.fire(closed.number, "mulai_verifikasi", pengelola)
    wbs.fire(closed.number, "arsipkan", pengelola, reason="Bukan pengaduan pelayanan.")
    sent = new_case(wbs, layanan="Didisposisikan", kategori="berkadar_pengawasan")
    wbs.fire(sent.number, "mulai_verifikasi", pengelola)
    wbs.fire(sent.number, "disposisi", pengelola, {"unit_tujuan": "LAYANAN", "instruksi": "Mohon klarifikasi."})

    def snapshot(number):
        with unit_of_work(wbs.db, write=False) as s:
            case = wbs.get_case(s, number)
            rows = s.exec(select(Clock).where(Clock.case_id == case.id)).all()
            return {r.name: (r.status, r.due_date, r.remaining_days, r.breached_at) for r in rows}

    before = {n: snapshot(n) for n in (late.number, running.number, waiting.number, closed.number, sent.number)}
    assert before[waiting.number]["keterangan_pelapor"][1] == date(2026, 3, 16)
    assert before[sent.number]["tindak_lanjut_pertama"][1] == date(2026, 3, 9)
    assert before[sent.number]["penyelesaian"][1] == date(2026, 5, 1)  # 60 calendar days

    set_holiday(wbs, date(2026, 3, 7), "closed", "Sabtu: tidak mengubah apa pun")  # already a day off
    set_holiday(wbs, date(2026, 3, 2), "closed", "Hari pertama: sebelum hitungan")  # counted_from itself
    set_holiday(wbs, date(2026, 5, 4), "closed", "Sesudah semua batas kerja")
    assert {n: snapshot(n) for n in before} == before

    set_holiday(wbs, WED_4, "closed", "Hari jadi kantor")
    after = {n: snapshot(n) for n in before}
    assert after[running.number]["verifikasi"][1] == date(2026, 3, 6)
    assert after[waiting.number]["keterangan_pelapor"][1] == date(2026, 3, 17)
    assert after[waiting.number]["verifikasi"] == before[waiting.number]["verifikasi"]  # paused: untouched
    assert after[sent.number]["tindak_lanjut_pertama"][1] == date(2026, 3, 10)
    assert after[sent.number]["penyelesaian"] == before[sent.number]["penyelesaian"]
    assert after[closed.number] == before[closed.number]
    # a day off declared after the fact inside a breached clock's window: the breach stays on record
    set_holiday(wbs, date(2026, 2, 25), "closed", "Libur susulan")
    assert snapshot(late.number) == before[late.number]
    assert before[late.number]["verifikasi"][0] == "breached"

    counts = {n: len(recomputed(wbs, n)) for n in before}
    assert counts == {late.number: 0, running.number: 1, waiting.number: 1, closed.number: 0, sent.number: 1}
    with unit_of_work(wbs.db, write=False) as s:
        assert audit.verify(s).ok
        holidays = s.exec(select(CaseEvent).where(CaseEvent.kind == "holiday_set").order_by(CaseEvent.id)).all()
        assert [e.payload["clocks_moved"] for e in holidays] == [0, 0, 0, 3, 0]
