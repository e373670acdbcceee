"""Working days and office holidays."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from ..errors import WbsError
from ..i18n import gettext_noop as _
from .base import Ctx, cli, parse_date, say

#: Short weekday names, Monday first (``date.weekday()``), as ``holidays list`` prints them.
WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


@cli.group()
def workdays() -> None:
    """Working-day arithmetic (national holidays, cuti bersama, office holidays; years 1950–2100)."""


@workdays.command("add")
@click.argument("start")
@click.argument("n", type=click.IntRange(min=0))
@click.pass_obj
def workdays_add(obj: Ctx, start: str, n: int) -> None:
    """Print the date N working days after START (ISO date)."""
    cal = office_calendar(obj)
    click.echo(cal.add_working_days(parse_date(start, "START"), n).isoformat())


@workdays.command("between")
@click.argument("a")
@click.argument("b")
@click.pass_obj
def workdays_between(obj: Ctx, a: str, b: str) -> None:
    """Print the number of working days after A up to and including B."""
    cal = office_calendar(obj)
    click.echo(str(cal.working_days_between(parse_date(a, "A"), parse_date(b, "B"))))


@workdays.command("is")
@click.argument("day")
@click.pass_obj
def workdays_is(obj: Ctx, day: str) -> None:
    """Say whether DAY is a working day (exit 0) or not (exit 1), and why."""
    cal = office_calendar(obj)
    d = parse_date(day, "DAY")
    if cal.is_working_day(d):
        click.echo(obj.t(_("{day}: working day"), day=d))
        sys.exit(0)
    name = say(cal.holiday_name(d) or obj.t(_("weekend")))
    click.echo(obj.t(_("{day}: day off ({name})"), day=d, name=name))
    sys.exit(1)


def office_calendar(obj: Ctx):  # -> WorkingCalendar
    """The office calendar: from the database when it is set up, else national days only.

    Only the database is opened (:meth:`Ctx.database`): counting days needs no case service."""
    from ..caches import load_calendar
    from ..calendar import WorkingCalendar
    from ..crypto import CryptoError
    from ..db import unit_of_work

    try:
        db = obj.database()
    except (WbsError, CryptoError):
        s = obj.settings
        return WorkingCalendar(include_cuti_bersama=s.include_cuti_bersama, office_close=s.office_close, zone=s.zone)
    with unit_of_work(db, write=False) as session:
        return load_calendar(session, obj.settings)


@cli.group()
def holidays() -> None:
    """Office-specific days off (added) or national days made working days (removed)."""


@holidays.command("add")
@click.argument("day")
@click.option("--name", required=True, help="What the day is, e.g. 'Hari jadi kantor'.")
@click.pass_obj
def holidays_add(obj: Ctx, day: str, name: str) -> None:
    """Make DAY a day off for this office."""
    from ..users import set_holiday

    d = parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "closed", name)
    click.echo(obj.t(_("{day} is now a day off: {name}"), day=d, name=say(name)))


@holidays.command("remove")
@click.argument("day")
@click.option("--name", default="Hari kerja (ditetapkan admin)", help="Why it is a working day.")
@click.pass_obj
def holidays_remove(obj: Ctx, day: str, name: str) -> None:
    """Make DAY a working day (undo an office day off, or work on a national holiday / cuti bersama)."""
    from ..users import set_holiday

    d = parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "open", name)
    click.echo(obj.t(_("{day} is now a working day"), day=d))


@holidays.command("list")
@click.option("--year", type=int, default=None, help="Year (default: this year).")
@click.pass_obj
def holidays_list(obj: Ctx, year: int | None) -> None:
    """List the weekday holidays of a year as this office counts them."""
    cal = office_calendar(obj)
    year = year or datetime.now(obj.settings.zone).year
    for d, name in cal.holidays_in_year(year):
        click.echo(f"{d.isoformat()}  {obj.t(WEEKDAYS[d.weekday()])}  {say(name)}")
