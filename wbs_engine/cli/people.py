"""Staff accounts, role grants and units."""

from __future__ import annotations

import click

from ..i18n import gettext_noop as _
from .base import Ctx, cli, say


@cli.command(
    "create-user",
    help=_("Create a staff account, or add roles to an existing one (its language and name stay unless given)."),
)
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE[:UNIT[:TYPE]]",
    help=_("Role, optionally for one unit and one case type; repeatable."),
)
@click.option("--name", "full_name", default="", help=_("Full name."))
@click.option("--email", default=None, help=_("E-mail for notifications."))
@click.option(
    "--lang",
    "user_lang",
    type=click.Choice(["id", "en"]),
    default=None,
    help=_("Language of e-mails (new users: id; an existing user's is kept unless given)."),
)
@click.option("--password", default=None, help=_("Password (default: generate one and print it)."))
@click.pass_obj
def create_user(
    obj: Ctx,
    username: str,
    roles: tuple[str, ...],
    full_name: str,
    email: str | None,
    user_lang: str | None,
    password: str | None,
) -> None:
    from ..users import create_or_update_user, parse_grant

    grants = [parse_grant(r) for r in roles]
    eng = obj.engine()
    pw = create_or_update_user(
        eng, username, grants, full_name=full_name, email=email, lang=user_lang, password=password
    )
    given = say(", ".join(roles))
    click.echo(obj.t(_("User {username}: {roles}"), username=say(username), roles=given))
    if pw:
        click.echo(obj.t(_("Password: {password}"), password=pw))


@cli.group(help=_("Organisational units (a case belongs to one; grants can be limited to one)."))
def unit() -> None:
    pass


@unit.command("add", help=_("Add unit CODE (e.g. LAYANAN) named NAME."))
@click.argument("code")
@click.argument("name")
@click.option("--email", default=None, help=_("The unit's shared e-mail address."))
@click.pass_obj
def unit_add(obj: Ctx, code: str, name: str, email: str | None) -> None:
    from ..users import ensure_unit

    code = code.strip().upper()
    if not code.replace("_", "").isalnum() or len(code) > 32:
        raise click.BadParameter(obj.t(_("use letters, digits and _ (at most 32)")), param_hint="CODE")
    ensure_unit(obj.engine(), code, name, email)
    click.echo(obj.t(_("Unit {code}: {name}"), code=say(code), name=say(name)))


@unit.command("list", help=_("List the units."))
@click.pass_obj
def unit_list(obj: Ctx) -> None:
    from sqlmodel import select

    from ..db import unit_of_work
    from ..models import Unit

    with unit_of_work(obj.engine().db, write=False) as s:
        for u in s.exec(select(Unit).order_by(Unit.code)).all():
            click.echo(f"{say(u.code):<12} {say(u.name)}" + (f"  <{say(u.email)}>" if u.email else ""))


@cli.group(help=_("Staff accounts: the administrator's escape hatches."))
def user() -> None:
    pass


@user.command(
    "reset-2fa",
    help=_(
        "Remove USERNAME's second factor (a lost phone, also an administrator's own): their sessions end and "
        "they set it up again at the next sign-in. Recorded in the audit trail."
    ),
)
@click.argument("username")
@click.pass_obj
def user_reset_2fa(obj: Ctx, username: str) -> None:
    from ..users import reset_second_factor

    reset_second_factor(obj.engine(), username, actor="admin")
    click.echo(obj.t(_("Second factor of {username} removed."), username=say(username)))
