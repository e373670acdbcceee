"""Tests for wbs_engine.calendar against the official 2026 SKB (national holidays + cuti bersama).

SKB 2026 reference (weekday names checked):
  holidays:     Thu 1 Jan, Fri 16 Jan, Tue 17 Feb, Thu 19 Mar (Nyepi), Sat 21 + Sun 22 Mar (Idul Fitri),
                Fri 3 Apr, Sun 5 Apr, Fri 1 May, Thu 14 May, Wed 27 May, Sun 31 May, Mon 1 Jun,
                Tue 16 Jun, Mon 17 Aug, Tue 25 Aug, Fri 25 Dec
  cuti bersama: Mon 16 Feb, Wed 18 Mar, Fri 20 Mar, Mon 23 Mar, Tue 24 Mar, Fri 15 May, Thu 28 May,
                Thu 24 Dec
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wbs_engine.calendar as calendar_module
from wbs_engine.calendar import (
    ADMIN_HOLIDAY_NAME,
    JAKARTA,
    MAX_DATE,
    MIN_DATE,
    OutsideCalendarRange,
    WorkingCalendar,
)

HOLIDAYS_2026 = [
    date(2026, 1, 1),
    date(2026, 1, 16),
    date(2026, 2, 17),
    date(2026, 3, 19),
    date(2026, 3, 21),
    date(2026, 3, 22),
    date(2026, 4, 3),
    date(2026, 4, 5),
    date(2026, 5, 1),
    date(2026, 5, 14),
    date(2026, 5, 27),
    date(2026, 5, 31),
    date(2026, 6, 1),
    date(2026, 6, 16),
    date(2026, 8, 17),
    date(2026, 8, 25),
    date(2026, 12, 25),
]
CUTI_BERSAMA_2026 = [
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
]

CAL = WorkingCalendar()


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JAKARTA)


# --------------------------------------------------------------------------- holiday data


@pytest.mark.parametrize("d", HOLIDAYS_2026 + CUTI_BERSAMA_2026, ids=str)
def test_skb_2026_days_are_not_working_days(d: date) -> None:
    assert not CAL.is_working_day(d)
    assert CAL.holiday_name(d)


def test_holidays_in_year_2026_matches_skb_weekdays() -> None:
    expected = sorted(d for d in HOLIDAYS_2026 + CUTI_BERSAMA_2026 if d.weekday() < 5)
    got = CAL.holidays_in_year(2026)
    assert [d for d, _ in got] == expected
    assert len(got) == 21
    assert all(name for _, name in got)


def test_names_are_indonesian() -> None:
    assert CAL.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"
    assert CAL.holiday_name(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    assert "Cuti Bersama" in (CAL.holiday_name(date(2026, 3, 18)) or "")
    assert CAL.holiday_name(date(2026, 3, 21)) == "Hari Raya Idul Fitri"  # on a Saturday: still named


def test_ordinary_days() -> None:
    assert CAL.is_working_day(date(2026, 3, 17))  # Tuesday
    assert not CAL.is_working_day(date(2026, 3, 14))  # Saturday
    assert not CAL.is_working_day(date(2026, 3, 15))  # Sunday
    assert CAL.holiday_name(date(2026, 3, 17)) is None
    assert CAL.holiday_name(date(2026, 3, 14)) is None  # plain weekend has no holiday name


# --------------------------------------------------------------------------- arithmetic with real dates


def test_add_three_hk_across_nyepi_idul_fitri_block() -> None:
    # Fri 13 Mar: 16, 17 work; 18 cuti, 19 Nyepi, 20 cuti, 21-22 Idul Fitri/weekend, 23-24 cuti; 25 is 3rd.
    assert CAL.add_working_days(date(2026, 3, 13), 3) == date(2026, 3, 25)


def test_complaint_registered_before_lebaran_block_due_27_march() -> None:
    # Registered Tue 17 Mar 2026 10:00 WIB (a working day, in office hours): day 1 = 25, 2 = 26, 3 = 27.
    start = CAL.effective_date(wib(2026, 3, 17, 10))
    assert start == date(2026, 3, 17)
    assert CAL.add_working_days(start, 3) == date(2026, 3, 27)


def test_gift_received_2_march_30_hk() -> None:
    # Received Mon 2 Mar 2026 (in office hours). Hand count:
    #   Mar 3,4,5,6 -> 4; 9-13 -> 9; 16,17 -> 11; (18-24 cuti/Nyepi/Idul Fitri/weekend)
    #   25,26,27 -> 14; 30,31 -> 16;
    #   Apr 1,2 -> 18; (3 Wafat Yesus Kristus) 6-10 -> 23; 13-17 -> 28; 20 -> 29; 21 -> 30.
    received = CAL.effective_date(wib(2026, 3, 2, 9, 30))
    assert received == date(2026, 3, 2)
    assert CAL.add_working_days(received, 30) == date(2026, 4, 21)
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 4, 21)) == 30


def test_gift_received_around_ascension_and_idul_adha() -> None:
    # Received Tue 12 May 2026, 30 HK. Hand count:
    #   May 13 -> 1; (14 Kenaikan, 15 cuti) 18-22 -> 6; 25, 26 -> 8; (27 Idul Adha, 28 cuti) 29 -> 9;
    #   (Jun 1 Pancasila) Jun 2-5 -> 13; 8-12 -> 18; 15 -> 19; (16 Tahun Baru Islam) 17-19 -> 22;
    #   22-26 -> 27; 29, 30 -> 29; Jul 1 -> 30.
    assert CAL.add_working_days(date(2026, 5, 12), 30) == date(2026, 7, 1)


def test_year_end_crossing() -> None:
    # Wed 23 Dec 2026, 3 HK: (24 cuti, 25 Natal, 26-27 weekend) 28 -> 1, 29 -> 2, 30 -> 3.
    assert CAL.add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    # 5 HK: 31 Dec -> 4, (1 Jan 2027 Tahun Baru, 2-3 weekend) 4 Jan 2027 -> 5.
    assert CAL.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)


def test_add_zero_and_negative() -> None:
    assert CAL.add_working_days(date(2026, 3, 17), 0) == date(2026, 3, 17)
    assert CAL.add_working_days(date(2026, 3, 18), 0) == date(2026, 3, 25)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 17), -1)


def test_add_from_non_working_day() -> None:
    # Saturday 14 Mar: the 1st working day strictly after it is Mon 16 Mar.
    assert CAL.add_working_days(date(2026, 3, 14), 1) == date(2026, 3, 16)


def test_subtract_working_days() -> None:
    assert CAL.subtract_working_days(date(2026, 3, 25), 1) == date(2026, 3, 17)
    assert CAL.subtract_working_days(date(2026, 3, 25), 3) == date(2026, 3, 13)
    assert CAL.subtract_working_days(date(2026, 3, 25), 0) == date(2026, 3, 25)
    assert CAL.subtract_working_days(date(2026, 3, 22), 0) == date(2026, 3, 17)
    with pytest.raises(ValueError):
        CAL.subtract_working_days(date(2026, 3, 25), -1)


def test_next_and_previous_working_day() -> None:
    assert CAL.next_working_day(date(2026, 3, 17)) == date(2026, 3, 25)
    assert CAL.next_working_day(date(2026, 3, 13)) == date(2026, 3, 16)
    assert CAL.previous_working_day(date(2026, 3, 25)) == date(2026, 3, 17)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 3, 13), date(2026, 3, 13)) == 0
    assert CAL.working_days_between(date(2026, 3, 13), date(2026, 3, 25)) == 3
    assert CAL.working_days_between(date(2026, 3, 25), date(2026, 3, 13)) == -3
    # (17, 24] holds no working day at all.
    assert CAL.working_days_between(date(2026, 3, 17), date(2026, 3, 24)) == 0
    # 2026 has 261 weekdays minus 21 weekday holidays/cuti bersama = 240 working days.
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 240


def test_large_n_crosses_the_years_by_each_years_own_holidays() -> None:
    """3000 working days (about twelve years): the count agrees, year by year, with the weekdays of the year
    minus its listed holidays. (How fast this is: benchmarks/bench_calendar.py, not a test.)"""
    start = date(2025, 12, 31)
    end = CAL.add_working_days(start, 3000)
    assert CAL.is_working_day(end) and CAL.working_days_between(start, end) == 3000
    full_years = range(2026, end.year)
    per_year = {}
    for year in full_years:
        days = (date(year, 1, 1) + timedelta(days=i) for i in range(366))
        weekdays = sum(1 for d in days if d.year == year and d.weekday() < 5)
        per_year[year] = weekdays - len(CAL.holidays_in_year(year))
        assert CAL.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == per_year[year], year
    assert per_year[2026] == 240 and len(per_year) >= 11
    done = sum(per_year.values())
    assert done < 3000 <= done + CAL.working_days_between(date(end.year - 1, 12, 31), date(end.year, 12, 31))
    assert CAL.working_days_between(date(end.year - 1, 12, 31), end) == 3000 - done


def test_holiday_data_is_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = calendar_module.holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    calendar_module._package_holidays.cache_clear()
    monkeypatch.setattr(calendar_module.holidays, "country_holidays", counting)
    try:
        for cal in (WorkingCalendar(), WorkingCalendar(added=[date(2026, 7, 1)])):
            cal.add_working_days(date(2026, 1, 1), 600)  # runs into 2028
        assert sorted(calls) == [2026, 2027, 2028]  # type: ignore[type-var]
    finally:
        calendar_module._package_holidays.cache_clear()


def test_datetime_is_rejected_where_date_expected() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2026, 3, 17, 9))


# --------------------------------------------------------------------------- configuration / overrides


def test_without_cuti_bersama() -> None:
    cal = WorkingCalendar(include_cuti_bersama=False)
    assert cal.is_working_day(date(2026, 3, 18))
    assert cal.holiday_name(date(2026, 3, 18)) is None
    for d in CUTI_BERSAMA_2026:
        assert cal.is_working_day(d)
    assert not cal.is_working_day(date(2026, 3, 19))  # Nyepi is still a holiday
    # Fri 13 Mar: 16 -> 1, 17 -> 2, 18 -> 3.
    assert cal.add_working_days(date(2026, 3, 13), 3) == date(2026, 3, 18)
    assert [d for d, _ in cal.holidays_in_year(2026)] == sorted(d for d in HOLIDAYS_2026 if d.weekday() < 5)


def test_admin_added_date_is_non_working() -> None:
    cal = WorkingCalendar(added=[date(2026, 3, 17)])
    assert not cal.is_working_day(date(2026, 3, 17))
    assert cal.holiday_name(date(2026, 3, 17)) == ADMIN_HOLIDAY_NAME
    assert (date(2026, 3, 17), ADMIN_HOLIDAY_NAME) in cal.holidays_in_year(2026)
    # Fri 13 Mar: 16 -> 1, 25 -> 2, 26 -> 3.
    assert cal.add_working_days(date(2026, 3, 13), 3) == date(2026, 3, 26)


def test_admin_added_with_name() -> None:
    cal = WorkingCalendar(added={date(2026, 7, 1): "Pilkada serentak"})
    assert not cal.is_working_day(date(2026, 7, 1))
    assert cal.holiday_name(date(2026, 7, 1)) == "Pilkada serentak"


def test_admin_added_existing_holiday_keeps_package_name() -> None:
    cal = WorkingCalendar(added=[date(2026, 3, 19)])
    assert cal.holiday_name(date(2026, 3, 19)) == "Hari Suci Nyepi"


def test_admin_removed_holiday_becomes_working() -> None:
    cal = WorkingCalendar(removed=[date(2026, 3, 24)])
    assert cal.is_working_day(date(2026, 3, 24))
    assert cal.holiday_name(date(2026, 3, 24)) is None
    assert date(2026, 3, 24) not in [d for d, _ in cal.holidays_in_year(2026)]
    # Fri 13 Mar: 16 -> 1, 17 -> 2, 24 -> 3.
    assert cal.add_working_days(date(2026, 3, 13), 3) == date(2026, 3, 24)


def test_removed_wins_over_added_and_weekends_stay_weekends() -> None:
    cal = WorkingCalendar(added=[date(2026, 3, 17)], removed=[date(2026, 3, 17), date(2026, 3, 21)])
    assert cal.is_working_day(date(2026, 3, 17))
    assert not cal.is_working_day(date(2026, 3, 21))  # Saturday: removal does not create a working day


# --------------------------------------------------------------------------- moments


def test_effective_date_in_office_hours() -> None:
    assert CAL.effective_date(wib(2026, 3, 13, 15)) == date(2026, 3, 13)


def test_effective_date_after_hours() -> None:
    assert CAL.effective_date(wib(2026, 3, 13, 16, 30)) == date(2026, 3, 16)
    assert CAL.effective_date(wib(2026, 3, 13, 16, 0)) == date(2026, 3, 16)  # exactly 16:00 is after hours
    assert CAL.effective_date(wib(2026, 3, 13, 15, 59)) == date(2026, 3, 13)


def test_effective_date_weekend_and_holiday() -> None:
    assert CAL.effective_date(wib(2026, 3, 14, 10)) == date(2026, 3, 16)  # Saturday -> Monday
    assert CAL.effective_date(wib(2026, 3, 19, 10)) == date(2026, 3, 25)  # Nyepi -> after the block
    assert CAL.effective_date(wib(2026, 3, 17, 17)) == date(2026, 3, 25)  # late before the block


def test_effective_date_without_after_hours_rule() -> None:
    assert CAL.effective_date(wib(2026, 3, 13, 22), after_hours_rule=False) == date(2026, 3, 13)
    assert CAL.effective_date(wib(2026, 3, 14, 10), after_hours_rule=False) == date(2026, 3, 16)


def test_effective_date_from_utc_and_naive() -> None:
    # 08:30 UTC = 15:30 WIB (in hours); 09:30 UTC = 16:30 WIB (after hours).
    assert CAL.effective_date(datetime(2026, 3, 13, 8, 30, tzinfo=UTC)) == date(2026, 3, 13)
    assert CAL.effective_date(datetime(2026, 3, 13, 9, 30, tzinfo=UTC)) == date(2026, 3, 16)
    assert CAL.effective_date(datetime(2026, 3, 13, 9, 30)) == date(2026, 3, 16)  # naive = UTC
    # 20:00 UTC Thu 12 Mar = 03:00 WIB Fri 13 Mar.
    assert CAL.effective_date(datetime(2026, 3, 12, 20, 0)) == date(2026, 3, 13)


def test_custom_office_close() -> None:
    cal = WorkingCalendar(office_close=time(17, 0))
    assert cal.effective_date(wib(2026, 3, 13, 16, 30)) == date(2026, 3, 13)


def test_local() -> None:
    loc = CAL.local(datetime(2026, 3, 25, 17, 0))
    assert loc == wib(2026, 3, 26)
    assert loc.utcoffset() == timedelta(hours=7)


def test_day_end_utc() -> None:
    # Local 2026-03-26 00:00 WIB = 2026-03-25 17:00 UTC.
    end = CAL.day_end_utc(date(2026, 3, 25))
    assert end == datetime(2026, 3, 25, 17, 0, tzinfo=UTC)
    assert end.utcoffset() == timedelta(0)


def test_day_start_utc() -> None:
    assert CAL.day_start_utc(date(2026, 3, 25)) == datetime(2026, 3, 25, 1, 0, tzinfo=UTC)  # 08:00 WIB
    assert CAL.day_start_utc(date(2026, 3, 25), time(0)) == datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        CAL.day_start_utc(date(2026, 3, 25), time(8, tzinfo=UTC))


# --------------------------------------------------------------------------- properties

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
COUNTS = st.integers(min_value=1, max_value=400)
PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(d=DATES, n=COUNTS)
def test_prop_between_inverts_add(d: date, n: int) -> None:
    assert CAL.working_days_between(d, CAL.add_working_days(d, n)) == n


@PROPS
@given(d=DATES, n=st.integers(min_value=0, max_value=400))
def test_prop_add_lands_on_working_day(d: date, n: int) -> None:
    result = CAL.add_working_days(d, n)
    assert CAL.is_working_day(result)
    assert result > d or (n == 0 and result == d)


@PROPS
@given(d=DATES, n=COUNTS)
def test_prop_subtract_after_add_is_last_working_day_on_or_before_d(d: date, n: int) -> None:
    # e = add(d, n) has exactly n working days in (d, e], e included, so the n-th working day
    # strictly before e is the last working day <= d, i.e. subtract(d, 0).
    e = CAL.add_working_days(d, n)
    back = CAL.subtract_working_days(e, n)
    assert back == CAL.subtract_working_days(d, 0)
    assert back <= d


@PROPS
@given(d=DATES, n=COUNTS)
def test_prop_add_after_subtract_is_first_working_day_on_or_after_d(d: date, n: int) -> None:
    # s = subtract(d, n) has n working days in [s, d), so n-1 in (s, d); the n-th after s is
    # the first working day >= d, i.e. add(d, 0).
    s = CAL.subtract_working_days(d, n)
    assert CAL.is_working_day(s)
    assert CAL.add_working_days(s, n) == CAL.add_working_days(d, 0)
    assert CAL.working_days_between(s, d) in (n - 1, n)


@PROPS
@given(a=DATES, b=DATES)
def test_prop_between_antisymmetric(a: date, b: date) -> None:
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


@PROPS
@given(a=DATES, b=DATES, c=DATES)
def test_prop_between_additive(a: date, b: date, c: date) -> None:
    assert CAL.working_days_between(a, b) + CAL.working_days_between(b, c) == CAL.working_days_between(a, c)


@PROPS
@given(d=DATES, n=COUNTS)
def test_prop_add_strictly_monotonic(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n) < CAL.add_working_days(d, n + 1)
    assert CAL.add_working_days(d, n + 1) == CAL.next_working_day(CAL.add_working_days(d, n))


@PROPS
@given(
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    rule=st.booleans(),
)
def test_prop_effective_date_is_working_day_not_before_local_date(moment: datetime, rule: bool) -> None:
    eff = CAL.effective_date(moment, after_hours_rule=rule)
    local_day = CAL.local(moment).date()
    assert CAL.is_working_day(eff)
    assert local_day <= eff <= CAL.add_working_days(local_day, 1)
    assert CAL.working_days_between(local_day, eff) <= 1


@PROPS
@given(d=DATES)
def test_prop_day_bounds(d: date) -> None:
    start = CAL.day_start_utc(d, time(0))
    end = CAL.day_end_utc(d)
    assert end - start == timedelta(days=1)
    assert CAL.local(start).date() == d
    assert CAL.local(end - timedelta(microseconds=1)).date() == d
    assert CAL.local(end).date() == d + timedelta(days=1)


# --------------------------------------------------------------------------- the office's time zone

WITA = WorkingCalendar(zone="Asia/Makassar")
WIT = WorkingCalendar(zone=ZoneInfo("Asia/Jayapura"))


def test_same_event_is_after_hours_in_a_wita_office() -> None:
    # Mon 2 Mar 2026 08:30 UTC: 15:30 in Jakarta (in office hours), 16:30 in Makassar (after close)
    event = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert CAL.effective_date(event) == date(2026, 3, 2)
    assert WITA.local(event).hour == 16 and WITA.local(event).utcoffset() == timedelta(hours=8)
    assert WITA.effective_date(event) == date(2026, 3, 3)  # counts from the next working day
    assert WITA.add_working_days(WITA.effective_date(event), 3) == date(2026, 3, 6)


def test_days_end_at_the_office_s_midnight() -> None:
    # a due date of Wed 25 Mar has passed at midnight local time: 17:00, 16:00 and 15:00 UTC
    assert CAL.day_end_utc(date(2026, 3, 25)) == datetime(2026, 3, 25, 17, 0, tzinfo=UTC)
    assert WITA.day_end_utc(date(2026, 3, 25)) == datetime(2026, 3, 25, 16, 0, tzinfo=UTC)
    assert WIT.day_end_utc(date(2026, 3, 25)) == datetime(2026, 3, 25, 15, 0, tzinfo=UTC)
    # reminders at office opening, 08:00 local
    assert WIT.day_start_utc(date(2026, 3, 25)) == datetime(2026, 3, 24, 23, 0, tzinfo=UTC)


def test_evening_in_jakarta_is_already_tomorrow_in_jayapura() -> None:
    # Fri 13 Mar 2026 15:30 UTC: 22:30 Friday in Jakarta, 00:30 Saturday in Jayapura
    event = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)
    assert CAL.local(event).date() == date(2026, 3, 13)
    assert WIT.local(event).date() == date(2026, 3, 14)


def test_working_day_arithmetic_does_not_depend_on_the_zone() -> None:
    for cal in (WITA, WIT):
        assert cal.add_working_days(date(2026, 3, 13), 3) == date(2026, 3, 25)
        assert cal.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 240
        assert cal.holidays_in_year(2026) == CAL.holidays_in_year(2026)
    assert WorkingCalendar().zone == JAKARTA  # the default stays Jakarta


# --------------------------------------------------------------------------- the supported range


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.add_working_days(date(9999, 12, 30), 5),
        lambda: CAL.add_working_days(date(1, 1, 1), 3),
        lambda: CAL.working_days_between(date(1, 1, 1), date(9999, 12, 31)),
        lambda: CAL.subtract_working_days(date(1, 1, 3), 1),
        lambda: CAL.next_working_day(date.max),
        lambda: CAL.previous_working_day(date.min),
        lambda: CAL.is_working_day(date(2101, 1, 3)),  # a Monday the package has no holidays for
        lambda: CAL.holiday_name(date(1900, 1, 1)),
        lambda: CAL.holidays_in_year(9999),
        lambda: CAL.day_end_utc(date.max),
        lambda: CAL.day_start_utc(date.min),
        lambda: CAL.effective_date(datetime.max.replace(tzinfo=UTC)),
        lambda: CAL.add_working_days(date(2100, 12, 30), 5),  # runs off the end
    ],
)
def test_dates_outside_the_supported_range_raise_a_clear_error(call) -> None:
    with pytest.raises(OutsideCalendarRange, match="1950-01-01") as info:
        call()
    assert isinstance(info.value, ValueError)  # callers that expect ValueError keep working
    assert "2100-12-31" in info.value.message("en") and "didukung" in info.value.message("id")


def test_range_edges_still_answer() -> None:
    assert CAL.add_working_days(MIN_DATE, 1) == date(1950, 1, 2)  # Sun 1 Jan 1950 -> Mon 2 Jan
    assert CAL.subtract_working_days(MAX_DATE, 1) < MAX_DATE
    assert CAL.day_end_utc(MAX_DATE) == datetime(2100, 12, 31, 17, 0, tzinfo=UTC)


def test_package_has_holidays_for_every_supported_year() -> None:
    """Guards MAX_DATE: past the package's last year it returns no holidays at all, silently."""
    assert len(calendar_module._package_holidays(MAX_DATE.year, True)) >= 10
    # why the range ends there; when a newer package covers more years, MAX_DATE can move with it
    assert len(calendar_module._package_holidays(MAX_DATE.year + 1, True)) == 0
