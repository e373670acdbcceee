"""``wbs sweep``, ``wbs deliver``, ``wbs digest`` and ``wbs scheduler``: the scheduler's jobs from the shell."""

from __future__ import annotations

import os

import click

from .. import textsafe
from ..errors import WbsError
from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, parse_now

OVERRIDE_ENV = "WBS_ALLOW_CLOCK_OVERRIDE"


def _engine_at(obj: Ctx, now_text: str | None):
    """The engine, on a fixed clock when ``--now`` is given. Recording a chosen time is back-dating, so it is
    refused unless WBS_ALLOW_CLOCK_OVERRIDE=1 is set (tests and drills; never in production)."""
    eng = obj.engine()
    if not now_text:
        return eng
    if os.environ.get(OVERRIDE_ENV, "") != "1":
        raise WbsError(
            _("--now is only allowed with {setting}=1 (drills and tests); the time recorded is always now."),
            setting=OVERRIDE_ENV,
        )
    fixed = parse_now(now_text, eng.settings.zone)  # without an offset: wall-clock time at the office
    return eng.with_clock(lambda: fixed)


@cli.command(
    "sweep",
    help=_(
        "Do the SLA clock actions that are due (reminders, breaches, escalations, automatic closes) "
        "once."
    ),
)
@click.option(
    "--now",
    "now_text",
    help=_(
        "Sweep as if it were this ISO time (needs WBS_ALLOW_CLOCK_OVERRIDE=1; without an offset it is "
        "office time, WBS_TIMEZONE)."
    ),
)
@click.option("--limit", default=500, show_default=True, type=click.IntRange(min=1), help=_("Batch size."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def sweep_cmd(obj: Ctx, now_text: str | None, limit: int, as_json: bool) -> None:
    from ..scheduler import sweep

    report = sweep(_engine_at(obj, now_text), limit=limit)
    if as_json:
        emit(report.to_dict())
    else:
        for line in report.summary(obj.lang):
            click.echo(textsafe.line(line))


@cli.command("deliver", help=_("Send the pending e-mails of the outbox once (needs WBS_SMTP_URL)."))
@click.option(
    "--now",
    "now_text",
    help=_(
        "Deliver as if it were this ISO time (needs WBS_ALLOW_CLOCK_OVERRIDE=1; without an offset it is "
        "office time, WBS_TIMEZONE)."
    ),
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1), help=_("Batch size."))
@click.pass_obj
def deliver_cmd(obj: Ctx, now_text: str | None, limit: int) -> None:
    from ..notify import Mailer
    from ..scheduler import deliver_outbox

    s = obj.settings
    if not s.smtp_url:
        raise WbsError(_("WBS_SMTP_URL is not set; for example WBS_SMTP_URL=smtp://localhost:25"))
    try:
        mailer = Mailer(s.smtp_url, s.mail_from)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="WBS_SMTP_URL") from None
    report = deliver_outbox(_engine_at(obj, now_text), mailer, limit=limit)
    for line in report.summary(obj.lang):
        click.echo(textsafe.line(line))  # may quote a mail server's reply


@cli.command("digest", help=_("Queue today's digest e-mail for each user with cases due soon (once per user and day)."))
@click.option(
    "--now",
    "now_text",
    help=_(
        "Build the digest at this ISO time (needs WBS_ALLOW_CLOCK_OVERRIDE=1; without an offset it is "
        "office time, WBS_TIMEZONE)."
    ),
)
@click.pass_obj
def digest_cmd(obj: Ctx, now_text: str | None) -> None:
    from ..scheduler import daily_digest

    report = daily_digest(_engine_at(obj, now_text))
    for line in report.summary(obj.lang):
        click.echo(textsafe.line(line))


@cli.command(
    "scheduler",
    help=_(
        "Run the scheduler in the foreground (sweep, outbox, digest, audit checkpoint); Ctrl-C "
        "stops it."
    ),
)
@click.pass_obj
def scheduler_cmd(obj: Ctx) -> None:
    import logging

    from ..scheduler import build_scheduler, job_title

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    eng = obj.engine()
    sched = build_scheduler(eng, blocking=True)
    zone = f"{eng.settings.timezone}, {eng.settings.zone_label}"
    click.echo(obj.t(_("Scheduler running (zone {zone}):"), zone=zone))
    for job in sched.get_jobs():
        click.echo(f"  - {job_title(job, eng.settings, obj.lang)}: {job.trigger}")
    if not eng.settings.smtp_url:
        click.echo("  " + obj.t(_("(e-mail delivery off: WBS_SMTP_URL is not set)")))
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
