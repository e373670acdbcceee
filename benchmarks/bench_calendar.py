"""Working-day arithmetic over long spans: ``add_working_days`` and ``working_days_between`` for 3000 working
days (about twelve years, so the holidays of every year in between are built), on a fresh calendar each run.

A deadline computation must stay far below a request's time budget even for the longest limits and for a
catch-up over years. Target: both calls together under 2 s on a fresh calendar (this was a timing assertion
in tests/unit/test_calendar.py; the test now checks the result, this measures the time).

    .venv/bin/python benchmarks/bench_calendar.py [--days 3000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import wbs_engine.calendar as calendar_module  # noqa: E402
from wbs_engine.calendar import WorkingCalendar  # noqa: E402

TARGET_S = 2.0


def once(days: int) -> tuple[float, float]:
    """(seconds on a calendar that has built nothing yet, seconds again on the same calendar)."""
    calendar_module._package_holidays.cache_clear()  # holiday data is built once per year and process
    cal = WorkingCalendar()
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        end = cal.add_working_days(date(2026, 1, 1), days)
        assert cal.working_days_between(date(2026, 1, 1), end) == days
        times.append(time.perf_counter() - t0)
    return times[0], times[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=3000, help="working days to add (default 3000)")
    ap.add_argument("--runs", type=int, default=5, help="fresh calendars to time (default 5)")
    args = ap.parse_args()
    cold, warm = zip(*(once(args.days) for _ in range(args.runs)), strict=True)
    print(f"add_working_days + working_days_between, {args.days} working days, {args.runs} runs")
    print(f"  fresh calendar: median {statistics.median(cold):.3f} s, worst {max(cold):.3f} s")
    print(f"  same calendar:  median {statistics.median(warm):.3f} s, worst {max(warm):.3f} s")
    ok = max(cold) < TARGET_S
    print(f"target: fresh calendar < {TARGET_S} s: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
