"""Working-day (hari kerja, HK) calendar for deadline computation in the office's time zone.

The zone is a parameter (the ``WBS_TIMEZONE`` setting: WIB ``Asia/Jakarta``, the default, WITA
``Asia/Makassar`` or WIT ``Asia/Jayapura``); office hours, "today" and the end of a due date are
wall-clock times in that zone. Holidays are national, so they are the same in every zone.

Counting rule used by every deadline in the engine:

    Day 1 is the working day after the triggering event; an event after office hours
    (default 16:00 local time) counts from the next working day.

So a deadline of *n* HK for an event at ``moment`` is
``cal.add_working_days(cal.effective_date(moment), n)``, and it has passed at
``cal.day_end_utc(due_date)`` (local midnight at the end of the due date).

A working day is Monday–Friday that is neither a national public holiday
nor a *cuti bersama* (collective leave day set each year by the joint ministerial decree,
SKB 3 Menteri). Holiday data comes from the python ``holidays`` package, country ``ID``,
categories ``"public"`` (national holidays) and ``"government"`` (cuti bersama), with
Indonesian names (``language="id"``). For years the package only estimates (typically
Islamic holidays a few years ahead, marked "(perkiraan)") the dates may differ from the
eventual SKB; admins correct these with explicit overrides: dates they *add* become
holidays, dates they *remove* become working days again.

Supported range: dates from :data:`MIN_DATE` (1950-01-01) to :data:`MAX_DATE` (2100-12-31).
2100 is the last year for which the ``holidays`` package computes Indonesia's holidays (after it the
package silently returns none, which would count Idul Fitri as a working day); before 1950 the data is
incomplete and no deadline or reported event of this system lies there. Any question about a date
outside the range raises :class:`OutsideCalendarRange` (a :class:`ValueError` and a
:class:`~wbs_engine.errors.WbsError` with a message for the user) instead of a wrong answer, a
``holidays`` failure on an odd year, or an ``OverflowError`` near ``date.max``.

The module is pure: it never reads the clock, the environment or a database. Callers
pass the admin overrides, the zone and the moments to evaluate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from .errors import WbsError
from .i18n import gettext_noop as _

__all__ = ["ADMIN_HOLIDAY_NAME", "JAKARTA", "MAX_DATE", "MIN_DATE", "OutsideCalendarRange", "WorkingCalendar"]

#: The default zone (WIB). Offices elsewhere pass their own zone to :class:`WorkingCalendar`.
JAKARTA = ZoneInfo("Asia/Jakarta")

#: First and last day the calendar answers for (see the module docstring for why).
MIN_DATE = date(1950, 1, 1)
MAX_DATE = date(2100, 12, 31)


class OutsideCalendarRange(WbsError, ValueError):
    """A date (or a result of working-day arithmetic) falls outside :data:`MIN_DATE`..:data:`MAX_DATE`."""

    def __init__(self, d: date | int | str):
        super().__init__(
            _("{date} is outside the supported working-day calendar ({first} to {last})."),
            date=str(d),
            first=MIN_DATE.isoformat(),
            last=MAX_DATE.isoformat(),
        )


def check_supported(d: date) -> date:
    """``d`` if the calendar can answer for it, else :class:`OutsideCalendarRange`."""
    if not MIN_DATE <= d <= MAX_DATE:
        raise OutsideCalendarRange(d.isoformat())
    return d


#: Name reported by :meth:`WorkingCalendar.holiday_name` for an admin-added date that
#: carries no name of its own and is not a holiday in the package data.
ADMIN_HOLIDAY_NAME = "Ditambahkan admin"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5  # date.weekday(): Monday == 0 ... Saturday == 5, Sunday == 6


@lru_cache(maxsize=512)
def _package_holidays(year: int, include_cuti_bersama: bool) -> Mapping[date, str]:
    """Holidays of ``year`` from the ``holidays`` package, as an immutable date -> name map.

    ``year`` must lie in the supported range (callers check it; the cache never holds an odd year).

    Building a ``holidays`` object is comparatively slow, so the result is memoised per
    (year, include_cuti_bersama) for the whole process; the data is static for a given
    package version, which makes sharing it between calendar instances safe.
    """
    categories = ("public", "government") if include_cuti_bersama else ("public",)
    data = holidays.country_holidays("ID", years=year, categories=categories, language="id")
    return MappingProxyType(dict(data.items()))


class WorkingCalendar:
    """Working days in the office's zone (``zone``, default Asia/Jakarta): Mon–Fri minus national
    holidays and cuti bersama (python ``holidays`` package, country ID, categories ("public", "government")), plus
    dates an admin added as holidays, minus dates an admin removed (made working days again).

    ``added`` is either an iterable of dates or a mapping ``date -> name`` (a name of
    ``None``/empty falls back to the package's name or :data:`ADMIN_HOLIDAY_NAME`).
    ``removed`` is an iterable of dates. A date present in both is treated as removed
    (a working day): removal is the explicit "this day is worked" decision. Removing a date
    never makes a Saturday or Sunday a working day; overrides only act on Mon–Fri.

    ``zone`` (a ``tzinfo`` or an IANA name) is where ``office_open``/``office_close`` and the end of a
    day are read: it decides which date a moment falls on, never which dates are holidays.

    Instances are immutable after construction and safe to share between threads.
    """

    def __init__(
        self,
        added: Iterable[date] | Mapping[date, str | None] = (),
        removed: Iterable[date] = (),
        *,
        include_cuti_bersama: bool = True,
        office_close: time = time(16, 0),
        office_open: time = time(8, 0),
        zone: tzinfo | str = JAKARTA,
    ) -> None:
        if office_close.tzinfo is not None or office_open.tzinfo is not None:
            raise ValueError("office_open/office_close are wall-clock times in `zone`; pass naive times")
        self._zone: tzinfo = ZoneInfo(zone) if isinstance(zone, str) else zone
        added_names: dict[date, str | None]
        if isinstance(added, Mapping):
            added_names = {_as_date(d): (name or None) for d, name in added.items()}
        else:
            added_names = {_as_date(d): None for d in added}
        self._added: Mapping[date, str | None] = MappingProxyType(added_names)
        self._removed: frozenset[date] = frozenset(_as_date(d) for d in removed)
        self._include_cuti_bersama = include_cuti_bersama
        self._office_close = office_close
        self._office_open = office_open
        self._memo: dict[date, bool] = {}

    # ------------------------------------------------------------------ properties

    @property
    def include_cuti_bersama(self) -> bool:
        """Whether cuti bersama days are non-working (the default, as for civil servants)."""
        return self._include_cuti_bersama

    @property
    def zone(self) -> tzinfo:
        """The office's time zone: where the office hours and the days' ends are read."""
        return self._zone

    @property
    def office_open(self) -> time:
        """Local time (in :attr:`zone`) used by :meth:`day_start_utc` when no time is given."""
        return self._office_open

    @property
    def office_close(self) -> time:
        """Local time (in :attr:`zone`) from which an event counts as after office hours."""
        return self._office_close

    @property
    def added(self) -> Mapping[date, str | None]:
        """Admin-added holidays (date -> optional name), read-only."""
        return self._added

    @property
    def removed(self) -> frozenset[date]:
        """Dates an admin made working days again."""
        return self._removed

    # ------------------------------------------------------------------ day queries

    def _package(self, year: int) -> Mapping[date, str]:
        if not MIN_DATE.year <= year <= MAX_DATE.year:
            raise OutsideCalendarRange(year)
        return _package_holidays(year, self._include_cuti_bersama)

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is Mon–Fri, not overridden as a holiday and not a package holiday
        (unless an admin removed it). :class:`OutsideCalendarRange` outside the supported range."""
        try:
            return self._memo[d]
        except KeyError:
            pass
        d = check_supported(_as_date(d))
        if d.weekday() >= _SATURDAY:
            answer = False
        elif d in self._removed:
            answer = True
        elif d in self._added:
            answer = False
        else:
            answer = d not in self._package(d.year)
        self._memo[d] = answer  # the instance never changes, so its answers can be kept
        return answer

    def holiday_name(self, d: date) -> str | None:
        """Name of the holiday on ``d``, or ``None`` if there is none in effect.

        An admin-added date reports the admin's name if one was given, else the package's
        name if the date is also a package holiday, else :data:`ADMIN_HOLIDAY_NAME`.
        A date the admin removed reports ``None`` (it is a working day). Package holidays
        on weekends are reported by name; an ordinary weekend day gives ``None``.
        """
        d = check_supported(_as_date(d))
        if d in self._removed:
            return None
        package_name = self._package(d.year).get(d)
        if d in self._added:
            return self._added[d] or package_name or ADMIN_HOLIDAY_NAME
        return package_name

    def holidays_in_year(self, year: int) -> list[tuple[date, str]]:
        """Effective non-working Mon–Fri days of ``year`` that are holidays (package or
        admin-added, minus admin-removed), with their names, sorted by date.

        Weekend days are left out even if a holiday falls on them, because they are
        non-working regardless and listing them would not change any deadline.
        """
        candidates = set(self._package(year)) | {d for d in self._added if d.year == year}
        result: list[tuple[date, str]] = []
        for d in sorted(candidates):
            if d.weekday() >= _SATURDAY or self.is_working_day(d):
                continue
            # Every candidate comes from the package or the admin list, so it has a name.
            result.append((d, self.holiday_name(d) or ADMIN_HOLIDAY_NAME))
        return result

    # ------------------------------------------------------------------ arithmetic

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = check_supported(_as_date(d)) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d = check_supported(_as_date(d)) - _ONE_DAY
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d`` (``d`` need not be a working day).

        ``n == 0`` gives ``d`` itself if it is a working day, else the next working day;
        negative ``n`` raises :class:`ValueError` (use :meth:`subtract_working_days`).
        """
        d = _as_date(d)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return d if self.is_working_day(d) else self.next_working_day(d)
        for _step in range(n):
            d = self.next_working_day(d)
        return d

    def subtract_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly before ``d``.

        ``n == 0`` gives ``d`` itself if it is a working day, else the previous working day;
        negative ``n`` raises :class:`ValueError` (use :meth:`add_working_days`).
        """
        d = _as_date(d)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return d if self.is_working_day(d) else self.previous_working_day(d)
        for _step in range(n):
            d = self.previous_working_day(d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days in the half-open range ``(a, b]``.

        0 if ``a == b``; if ``b < a`` the result is ``-(working days in (b, a])`` so that
        ``working_days_between(a, b) == -working_days_between(b, a)`` always holds.
        """
        a, b = check_supported(_as_date(a)), check_supported(_as_date(b))
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count

    # ------------------------------------------------------------------ moments

    def local(self, moment: datetime) -> datetime:
        """``moment`` converted to the office's zone; naive datetimes are taken as UTC
        (the database stores UTC)."""
        if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(self._zone)
        except OverflowError:  # within hours of datetime.min/max
            raise OutsideCalendarRange(moment.isoformat()) from None

    def effective_date(self, moment: datetime, *, after_hours_rule: bool = True) -> date:
        """The local date (in :attr:`zone`) from which a deadline triggered at ``moment`` counts.

        It is the local date if that is a working day and (``after_hours_rule`` is False or
        the local time is strictly before ``office_close``); otherwise the next working day.
        An event at exactly ``office_close`` is after hours. With ``after_hours_rule`` False
        an event on a non-working day still counts from the next working day.
        """
        local = self.local(moment)
        d = local.date()
        if self.is_working_day(d) and (not after_hours_rule or local.time() < self._office_close):
            return d
        return self.next_working_day(d)

    def day_start_utc(self, d: date, at: time | None = None) -> datetime:
        """Aware UTC datetime of local wall-clock time ``at`` (default ``office_open``) on ``d``.

        ``at`` must be naive (it is interpreted in :attr:`zone`); an aware ``at`` raises
        :class:`ValueError` to avoid silently mixing zones.
        """
        at = self._office_open if at is None else at
        if at.tzinfo is not None:
            raise ValueError("`at` is a wall-clock time in the calendar's zone; pass a naive time")
        return datetime.combine(check_supported(_as_date(d)), at, tzinfo=self._zone).astimezone(UTC)

    def day_end_utc(self, d: date) -> datetime:
        """Aware UTC datetime of local midnight at the end of ``d`` (start of ``d + 1``):
        the moment from which a due date of ``d`` has passed."""
        end = check_supported(_as_date(d)) + _ONE_DAY
        return datetime.combine(end, time(0), tzinfo=self._zone).astimezone(UTC)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(added={len(self._added)} dates, removed={len(self._removed)} dates, "
            f"include_cuti_bersama={self._include_cuti_bersama}, zone={self._zone}, "
            f"office_open={self._office_open.isoformat()}, office_close={self._office_close.isoformat()})"
        )


def _as_date(d: date) -> date:
    """Reject ``datetime`` where a calendar date is expected.

    ``datetime`` is a ``date`` subclass but never equals a ``date``, so it would silently miss
    the holiday sets; and which *date* a moment falls on depends on the time zone, which is
    what :meth:`WorkingCalendar.local`/:meth:`WorkingCalendar.effective_date` are for."""
    if isinstance(d, datetime):
        raise TypeError("expected a date, got a datetime; use effective_date()/local() for moments")
    return d
