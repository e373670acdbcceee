"""Retention (``wbs retention``): list the closed cases due for destruction, or destroy their content with a
destruction record (:mod:`wbs_engine.retention`)."""

from __future__ import annotations

import click

from ..errors import WbsError
from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, say


@cli.command(
    "retention",
    help=_(
        "Retention: --dry-run lists the closed cases whose retention period has ended (number, type, closed, "
        "years kept, due date); --apply destroys their content (data key, attachments) and writes one "
        "destruction record (berita acara pemusnahan) into the audit trail. Asks no confirmation."
    ),
)
@click.option("--dry-run", "dry_run", is_flag=True, help=_("Only list what is due (the default)."))
@click.option("--apply", "apply", is_flag=True, help=_("Destroy the content of what is due."))
@click.option("--as", "username", help=_("The administrator who destroys (required with --apply)."))
@click.option(
    "--basis", help=_("The legal basis of the destruction, e.g. 'JRA Perka ANRI 22/2015' (required with --apply).")
)
@click.option(
    "--case",
    "numbers",
    multiple=True,
    metavar="NUMBER",
    help=_("Only this case (repeatable; it must be due); default: every case that is due."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def retention_cmd(
    obj: Ctx,
    dry_run: bool,
    apply: bool,
    username: str | None,
    basis: str | None,
    numbers: tuple[str, ...],
    as_json: bool,
) -> None:
    from .. import retention as rt

    t = obj.t
    if dry_run and apply:
        raise WbsError(_("--dry-run and --apply cannot be used together"))
    if not apply:
        if username or basis:
            raise WbsError(_("--as and --basis go with --apply"))
        eng = obj.engine()
        due = rt.due_for_destruction(eng)
        if numbers:
            wanted = {n.strip().upper() for n in numbers}
            due = [d for d in due if d.number in wanted]
        if as_json:
            emit([d.to_dict() for d in due])
            return
        if not due:
            click.echo(t(_("No case is due for destruction.")))
            return
        heads = (t(_("Number")), t(_("Type")), t(_("Closed")), t(_("Years")), t(_("Due")))
        click.echo(f"{heads[0]:<20} {heads[1]:<22} {heads[2]:<10} {heads[3]:>5}  {heads[4]}")
        for d in due:
            click.echo(
                f"{d.number:<20} {d.case_type:<22} {d.closed_on.isoformat():<10} {d.retention_years:>5}  "
                f"{d.due_on.isoformat()}"
            )
        click.echo(t(_("Due for destruction: {count}. Nothing was destroyed (dry run)."), count=len(due)))
        return
    if not username:
        raise WbsError(_("--apply needs --as ADMIN (the administrator who destroys)"))
    if basis is None:
        raise WbsError(_("--apply needs --basis TEXT (the legal basis of the destruction)"))
    eng = obj.engine()
    actor = eng.load_actor(username)
    record = rt.destroy(eng, list(numbers) if numbers else rt.ALL_DUE, actor, basis)
    if as_json:
        emit(record.to_dict())
        return
    for number in record.already:
        click.echo(t(_("{number}: destroyed already, nothing done"), number=number))
    if not record.count:
        click.echo(t(_("No case is due for destruction; nothing was done.")))
        return
    click.echo(t(_("Destruction record (berita acara pemusnahan), system event #{seq}:"), seq=record.seq))
    click.echo("  " + t(_("When: {at}"), at=record.at.astimezone(eng.settings.zone).strftime("%Y-%m-%d %H:%M")))
    click.echo("  " + t(_("By: {user}"), user=say(record.by)))
    click.echo("  " + t(_("Basis: {basis}"), basis=say(record.basis)))
    click.echo("  " + t(_("Cases ({count}): {numbers}"), count=record.count, numbers=", ".join(record.numbers)))
    click.echo("  " + t(_("Files deleted: {count}"), count=record.files_deleted))
    click.echo("  " + t(_("Event hash: {hash}"), hash=record.hash))
