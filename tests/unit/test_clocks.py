"""SLA clocks as pure functions, with real 2026 dates (Nyepi and Idul Fitri with their cuti bersama)."""

from datetime import UTC, date, datetime

from wbs_engine import clocks
from wbs_engine.calendar import WorkingCalendar
from wbs_engine.definition import ClockSpec

CAL = WorkingCalendar()


def spec(**kw) -> ClockSpec:
    base = {
        "label": {"id": "Batas", "en": "Limit"},
        "source": "test",
        "starts": {"on_enter": ["a"]},
        "stops": {"on_enter": ["c"]},
        "pauses": ["p"],
        "limit": {"working_days": 3},
        "remind": [{"before": {"working_days": 1}}, {"before": {"working_days": 0}}],
    }
    base.update(kw)
    return ClockSpec.model_validate(base)


def wib(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh - 7, mm, tzinfo=UTC) if hh >= 7 else datetime(y, m, d - 1, hh + 17, mm, tzinfo=UTC)


def test_registered_before_idul_fitri_block_is_due_after_it():
    # Tue 17 Mar 2026 09:00 WIB; 18 cuti, 19 Nyepi, 20 cuti, 21-22 Idul Fitri (weekend), 23-24 cuti.
    st = clocks.start(spec(), "v", wib(2026, 3, 17), CAL, {})
    assert st.counted_from == date(2026, 3, 17)
    assert st.due_date == date(2026, 3, 27)  # 25 (1), 26 (2), 27 (3)
    assert st.due_at == datetime(2026, 3, 27, 17, 0, tzinfo=UTC)  # midnight WIB after the due date
    assert st.next_action == "remind:1"
    assert st.next_action_at == datetime(2026, 3, 26, 1, 0, tzinfo=UTC)  # 08:00 WIB on 26 Mar


def test_after_office_hours_counts_from_next_working_day():
    st = clocks.start(spec(), "v", wib(2026, 3, 13, 16, 30), CAL, {})  # Friday after 16:00
    assert st.counted_from == date(2026, 3, 16)
    assert st.due_date == date(2026, 3, 26)  # 17 (1), 25 (2), 26 (3)


def test_from_field_counts_from_the_date_received():
    s = spec(starts={"on_enter": ["a"], "from_field": "tanggal_penerimaan"}, limit={"working_days": 30})
    st = clocks.start(s, "lapor_kpk", wib(2026, 4, 20), CAL, {"tanggal_penerimaan": "2026-03-02"})
    assert st.counted_from == date(2026, 3, 2)
    assert st.due_date == date(2026, 4, 21)


def test_paused_clock_resumes_with_the_days_that_were_left():
    s = spec(limit={"working_days": 5})
    st = clocks.start(s, "v", wib(2026, 4, 6), CAL, {})  # Mon 6 Apr → due Mon 13 Apr
    assert st.due_date == date(2026, 4, 13)
    paused = clocks.pause(s, st, wib(2026, 4, 8), CAL)  # Wed: 9, 10, 13 left = 3
    assert paused.status == clocks.PAUSED and paused.remaining_days == 3 and paused.next_action is None
    resumed = clocks.resume(s, paused, wib(2026, 4, 28), CAL)  # Tue 28 Apr + 3 HK
    assert resumed.status == clocks.RUNNING
    assert resumed.due_date == date(2026, 5, 4)  # 29, 30 Apr, (1 May holiday), 4 May


def test_calendar_day_limit_ignores_holidays():
    s = spec(limit={"calendar_days": 60}, remind=[{"before": {"calendar_days": 7}}])
    st = clocks.start(s, "x", wib(2026, 3, 2), CAL, {})
    assert st.due_date == date(2026, 5, 1)
    assert st.next_action == "remind:7"


def test_limit_by_field_picks_the_tier():
    s = spec(limit={"calendar_days": 60}, limit_by={"field": "kategori", "values": {"ringan": {"working_days": 2}}})
    assert clocks.start(s, "x", wib(2026, 3, 2), CAL, {"kategori": "ringan"}).due_date == date(2026, 3, 4)
    assert clocks.start(s, "x", wib(2026, 3, 2), CAL, {"kategori": "lain"}).due_date == date(2026, 5, 1)


def test_reminders_then_breach_in_order():
    s = spec()
    st = clocks.start(s, "v", wib(2026, 4, 6), CAL, {})  # due Thu 9 Apr
    seen = []
    while st.next_action:
        seen.append((st.next_action, st.next_action_at))
        if st.next_action.startswith("remind:"):
            st = clocks.mark_reminded(s, st, int(st.next_action.split(":")[1]), CAL)
        else:
            st = clocks.mark_breached(st, st.next_action_at)
    assert [a for a, _ in seen] == ["remind:1", "remind:0", "breach"]
    assert seen[0][1] < seen[1][1] < seen[2][1]
    assert st.status == clocks.BREACHED


def test_several_clocks_run_independently():
    a = spec(starts={"on_enter": ["a"]}, stops={"on_enter": ["c"]}, pauses=[])
    b = spec(starts={"on_enter": ["a"]}, stops={"on_enter": ["d"]}, pauses=["b"], limit={"working_days": 10})
    specs = {"a": a, "b": b}
    t0 = wib(2026, 4, 6)
    current = {ch.name: ch.state for ch in clocks.on_transition(specs, {}, None, "a", t0, CAL, {})}
    assert set(current) == {"a", "b"}
    changes = clocks.on_transition(specs, current, "a", "b", wib(2026, 4, 7), CAL, {})
    assert [(c.name, c.action) for c in changes] == [("b", "paused")]
    current.update({c.name: c.state for c in changes})
    changes = clocks.on_transition(specs, current, "b", "c", wib(2026, 4, 8), CAL, {})
    assert sorted((c.name, c.action) for c in changes) == [("a", "stopped"), ("b", "resumed")]


def test_final_state_stops_every_clock_and_self_loop_changes_nothing():
    s = {"v": spec()}
    cur = {c.name: c.state for c in clocks.on_transition(s, {}, None, "a", wib(2026, 4, 6), CAL, {})}
    assert clocks.on_transition(s, cur, "a", "a", wib(2026, 4, 7), CAL, {}) == []
    done = clocks.on_transition(s, cur, "a", "z", wib(2026, 4, 7), CAL, {}, final=True)
    assert done[0].action == "stopped" and done[0].state.status == clocks.STOPPED


def test_extend_moves_due_date_and_reopens_breached_clock():
    s = spec(limit={"working_days": 30})
    st = clocks.mark_breached(clocks.start(s, "inv", wib(2026, 6, 1), CAL, {}), wib(2026, 7, 20))
    ext = clocks.extend(s, st, clocks.Duration(working_days=30), CAL)
    assert ext.status == clocks.RUNNING and ext.extensions == 1
    assert CAL.working_days_between(st.due_date, ext.due_date) == 30
    assert ext.breached_at == st.breached_at  # the missed deadline stays on record
    assert ext.next_action == "remind:1"  # reminders start over for the new deadline


def test_a_second_breach_keeps_the_first_breach_time_and_the_outcome_stays_late():
    """``extend`` used to clear ``breached_at``, so work finished inside an extension granted after a
    missed deadline was recorded as on time."""
    s = spec(limit={"working_days": 30})
    first = wib(2026, 7, 20)
    st = clocks.mark_breached(clocks.start(s, "inv", wib(2026, 6, 1), CAL, {}), first)
    ext = clocks.extend(s, st, clocks.Duration(working_days=30), CAL)
    again = clocks.mark_breached(ext, wib(2026, 9, 1))
    assert again.status == clocks.BREACHED and again.breached_at == first
    in_time = clocks.stop(ext, wib(2026, 7, 22))  # within the extension
    assert in_time.stopped_at < in_time.due_at and in_time.outcome == "late"


# --- a day off added or taken back by the admin -----------------------------------------------------

WED_4, THU_5 = date(2026, 3, 4), date(2026, 3, 5)
OFF_WED_4 = WorkingCalendar({WED_4: "Hari jadi kantor"})


def test_day_off_inside_the_window_moves_the_due_date_to_the_next_working_day():
    s = spec()
    st = clocks.start(s, "v", wib(2026, 3, 2), CAL, {})  # Mon 2 Mar: 3, 4, 5 → due Thu 5 Mar
    moved = clocks.on_calendar_change(s, st, WED_4, CAL, OFF_WED_4)
    assert moved.due_date == date(2026, 3, 6) and moved.due_at == OFF_WED_4.day_end_utc(date(2026, 3, 6))
    assert (moved.next_action, moved.next_action_at) == ("remind:1", OFF_WED_4.day_start_utc(THU_5))
    assert (moved.counted_from, moved.started_at, moved.status) == (st.counted_from, st.started_at, clocks.RUNNING)
    back = clocks.on_calendar_change(s, moved, WED_4, OFF_WED_4, CAL)
    assert back == st


def test_losing_the_due_day_itself_and_getting_it_back():
    s = spec()
    st = clocks.start(s, "v", wib(2026, 3, 2), CAL, {})
    off = WorkingCalendar({THU_5: None})
    moved = clocks.on_calendar_change(s, st, THU_5, CAL, off)
    assert moved.due_date == date(2026, 3, 6)
    # the way back is counted on the new calendar, where Thu 5 is a working day again
    assert clocks.on_calendar_change(s, moved, THU_5, off, CAL).due_date == THU_5


def test_a_national_holiday_made_a_working_day_moves_the_due_date_earlier():
    s = spec(limit={"working_days": 5})
    st = clocks.start(s, "v", wib(2026, 3, 16), CAL, {})  # Mon 16 Mar, then the Nyepi/Idul Fitri block
    assert st.due_date == date(2026, 3, 30)  # 17 (1), 25 (2), 26 (3), 27 (4), 30 (5)
    works_18 = WorkingCalendar(removed=[date(2026, 3, 18)])  # the office works on the cuti bersama
    moved = clocks.on_calendar_change(s, st, date(2026, 3, 18), CAL, works_18)
    assert moved.due_date == date(2026, 3, 27)
    assert works_18.working_days_between(st.counted_from, moved.due_date) == 5


def test_what_a_calendar_change_leaves_alone():
    s = spec()
    st = clocks.start(s, "v", wib(2026, 3, 2), CAL, {})  # counted from Mon 2, due Thu 5 Mar
    for day in (date(2026, 3, 2), date(2026, 3, 6), date(2026, 2, 27)):  # not in (counted_from, due]
        assert clocks.on_calendar_change(s, st, day, CAL, WorkingCalendar({day: None})) is None
    saturday = date(2026, 3, 7)
    assert clocks.on_calendar_change(s, st, saturday, CAL, WorkingCalendar({saturday: None})) is None
    assert clocks.on_calendar_change(s, st, WED_4, CAL, CAL) is None  # the day did not change
    paused = clocks.pause(s, st, wib(2026, 3, 3), CAL)
    breached = clocks.mark_breached(st, wib(2026, 3, 6))
    stopped = clocks.stop(st, wib(2026, 3, 3))
    for other in (paused, breached, stopped):
        assert clocks.on_calendar_change(s, other, WED_4, CAL, OFF_WED_4) is None
    cal_days = clocks.start(spec(limit={"calendar_days": 7}, remind=[]), "c", wib(2026, 3, 2), CAL, {})
    assert clocks.on_calendar_change(s, cal_days, WED_4, CAL, OFF_WED_4) is None


def test_row_values_round_trip():
    st = clocks.mark_reminded(spec(), clocks.start(spec(), "v", wib(2026, 3, 2), CAL, {}), 1, CAL)
    values = clocks.row_values(st)
    assert values["reminders_done"] == [1] and "name" not in values
    row = type("Row", (), {"name": "v", **values})()
    assert clocks.from_row(row) == st


def test_started_late_only_when_the_limit_had_passed_at_the_start():
    s = spec(starts={"on_enter": ["a"], "from_field": "tanggal_penerimaan"}, limit={"working_days": 30})
    data = {"tanggal_penerimaan": "2026-03-02"}  # 30 HK → due Tue 21 Apr
    assert not clocks.start(s, "lapor_kpk", wib(2026, 4, 21, 15), CAL, data).started_late  # on the due date
    late = clocks.start(s, "lapor_kpk", wib(2026, 4, 22), CAL, data)
    assert late.started_late and late.status == clocks.RUNNING
    assert not clocks.start(spec(), "v", wib(2026, 4, 22), CAL, {}).started_late  # counted from the event


def test_filing_notices_say_a_gift_reported_after_30_hk_may_become_state_property():
    from pathlib import Path

    from wbs_engine.lint import load_workflow

    defn = load_workflow(Path(__file__).resolve().parents[2] / "workflows" / "gratifikasi.yaml")
    data = {"tanggal_penerimaan": "2026-03-02"}
    assert clocks.filing_notices(defn, data, wib(2026, 4, 21), CAL) == []
    [(name, text)] = clocks.filing_notices(defn, data, wib(2026, 4, 22), CAL)
    assert name == "lapor_kpk" and "milik negara" in text.id and "state property" in text.en
    # 12 HK late for the UPG's 10 HK, but within the 30 HK: no notice
    assert clocks.filing_notices(defn, {"tanggal_penerimaan": "2026-03-02"}, wib(2026, 3, 18), CAL) == []
