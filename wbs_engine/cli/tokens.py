"""Personal tokens for the JSON API: make one (printed once), list, revoke (``wbs token …``)."""

from __future__ import annotations

import click

from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, say


@cli.group(help=_("Personal tokens for the JSON API (/api/v1): each acts with its user's grants."))
def token() -> None:
    pass


@token.command("create", help=_("Make a token for USERNAME and print it (shown only this once)."))
@click.argument("username")
@click.option("--name", "name", required=True, help=_("What uses the token (shown in lists)."))
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help=_("Days until the token expires (1–3650)."),
)
@click.pass_obj
def token_create(obj: Ctx, username: str, name: str, days: int) -> None:
    from ..apitokens import create_token

    made = create_token(obj.engine(), username, name, days=days)
    click.echo(obj.t(_("Token for {username} (keep it now: it is not shown again):"), username=say(username)))
    click.echo(made)


@token.command("list", help=_("List the tokens of USERNAME (never the tokens themselves)."))
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def token_list(obj: Ctx, username: str, as_json: bool) -> None:
    from ..apitokens import list_tokens

    tokens = list_tokens(obj.engine(), username)
    if as_json:
        emit([t.to_dict() for t in tokens])
        return
    if not tokens:
        click.echo(obj.t(_("{username} has no tokens."), username=say(username)))
    for t in tokens:
        expires = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "-"
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-"
        click.echo(f"{t.id:>5}  {t.prefix}…  {t.status:<8} {expires:<10} {used:<16} {say(t.name)}")


@token.command("revoke", help=_("Revoke token ID of USERNAME (it stops working at once)."))
@click.argument("username")
@click.argument("token_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
@click.pass_obj
def token_revoke(obj: Ctx, username: str, token_id: int) -> None:
    from ..apitokens import revoke_token

    revoke_token(obj.engine(), username, token_id)
    click.echo(obj.t(_("Token {id} of {username} is revoked."), id=token_id, username=say(username)))
