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


@cli.group(
    help=_(
        "Working-day arithmetic (national holidays, cuti bersama, office holidays; years "
        "1950–2100)."
    ),
)
def workdays() -> None:
    pass


@workdays.command("add", help=_("Print the date N working days after START (ISO date)."))
@click.argument("start")
@click.argument("n", type=click.IntRange(min=0))
@click.pass_obj
def workdays_add(obj: Ctx, start: str, n: int) -> None:
    cal = office_calendar(obj)
    click.echo(cal.add_working_days(parse_date(start, "START"), n).isoformat())


@workdays.command("between", help=_("Print the number of working days after A up to and including B."))
@click.argument("a")
@click.argument("b")
@click.pass_obj
def workdays_between(obj: Ctx, a: str, b: str) -> None:
    cal = office_calendar(obj)
    click.echo(str(cal.working_days_between(parse_date(a, "A"), parse_date(b, "B"))))


@workdays.command("is", help=_("Say whether DAY is a working day (exit 0) or not (exit 1), and why."))
@click.argument("day")
@click.pass_obj
def workdays_is(obj: Ctx, day: str) -> None:
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


@cli.group(help=_("Office-specific days off (added) or national days made working days (removed)."))
def holidays() -> None:
    pass


@holidays.command("add", help=_("Make DAY a day off for this office."))
@click.argument("day")
@click.option("--name", required=True, help=_("What the day is, e.g. 'Hari jadi kantor'."))
@click.pass_obj
def holidays_add(obj: Ctx, day: str, name: str) -> None:
    from ..users import set_holiday

    d = parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "closed", name)
    click.echo(obj.t(_("{day} is now a day off: {name}"), day=d, name=say(name)))


@holidays.command(
    "remove",
    help=_(
        "Make DAY a working day (undo an office day off, or work on a national holiday / cuti "
        "bersama)."
    ),
)
@click.argument("day")
@click.option("--name", default="Hari kerja (ditetapkan admin)", help=_("Why it is a working day."))
@click.pass_obj
def holidays_remove(obj: Ctx, day: str, name: str) -> None:
    from ..users import set_holiday

    d = parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "open", name)
    click.echo(obj.t(_("{day} is now a working day"), day=d))


@holidays.command("list", help=_("List the weekday holidays of a year as this office counts them."))
@click.option("--year", type=int, default=None, help=_("Year (default: this year)."))
@click.pass_obj
def holidays_list(obj: Ctx, year: int | None) -> None:
    cal = office_calendar(obj)
    year = year or datetime.now(obj.settings.zone).year
    for d, name in cal.holidays_in_year(year):
        click.echo(f"{d.isoformat()}  {obj.t(WEEKDAYS[d.weekday()])}  {say(name)}")
