"""Setting up: the database and its keyring, key rotation, demo data."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import WbsError
from ..i18n import N_
from ..i18n import gettext_noop as _
from .base import Ctx, cli, parse_now, prepare_dirs


@cli.command(
    "init-db",
    help=_(
        "Create or upgrade the database schema (Alembic migrations); create the keyring if there is "
        "none (instance/keyring.json or WBS_KEYRING) and record its fingerprints in the database."
        "\n\nThe only command, with gen-key and rotate-key, that creates keys. Back the keyring up "
        "apart from the database: without it the sealed data cannot be read."
    ),
)
@click.pass_obj
def init_db(obj: Ctx) -> None:
    from ..provision import init_database

    prepare_dirs(obj.settings)
    res = init_database(obj.settings)
    click.echo(obj.t(_("Database ready (revision {revision}): {url}"), revision=res.revision, url=res.url))
    if res.created_keyring:
        click.echo(obj.t(_("New keyring created: {path} (back it up apart from the database)"), path=res.keyring))
    else:
        click.echo(obj.t(_("Keyring: {path}"), path=res.keyring))


@cli.command(
    "gen-key",
    help=_(
        "Write a new keyring file (encryption, receipt-code and signing keys) for WBS_KEYRING; "
        "never overwrites."
        "\n\nFor an operator who prepares the keys apart from the server; `wbs init-db` makes one "
        "itself otherwise."
    ),
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help=_("Where to write the keyring."))
@click.pass_obj
def gen_key(obj: Ctx, out: str) -> None:
    from ..provision import generate_keyring

    keyring = generate_keyring(Path(out))
    click.echo(obj.t(_("Keyring written: {path} (signing key {key_id})"), path=out, key_id=keyring.key_id))


@cli.command(
    "rotate-key",
    help=_(
        "Add a new office encryption key to the keyring: new data keys are wrapped with it; what "
        "older keys wrapped stays readable (they stay in the keyring). With --rewrap, every case's "
        "data key is re-wrapped now."
    ),
)
@click.option("--rewrap", is_flag=True, help=_("Also wrap every case's data key with the new key."))
@click.pass_obj
def rotate_key(obj: Ctx, rewrap: bool) -> None:
    from ..provision import rotate_encryption_key

    fp, n = rotate_encryption_key(obj.settings, rewrap=rewrap)
    click.echo(obj.t(_("New encryption key: {fingerprint}"), fingerprint=fp))
    if rewrap:
        click.echo(obj.plural(N_("{n} case key re-wrapped.", "{n} case keys re-wrapped."), n))


@cli.command(
    "seed-demo",
    help=_(
        "Create demo units, one account per role, and cases of every type at every stage "
        "(back-dated)."
        "\n\nAccounts get new passwords on every run; cases are added only to an empty database. "
        "Refused on a database that holds real data (accounts or cases seed-demo did not make)."
    ),
)
@click.option(
    "--now",
    "now_text",
    help=_("Seed as if it were this ISO time (needs WBS_ALLOW_CLOCK_OVERRIDE=1; without an offset: office time)."),
)
@click.option("--more-cases", is_flag=True, help=_("Add another set of demo cases even if cases exist."))
@click.pass_obj
def seed_demo(obj: Ctx, now_text: str | None, more_cases: bool) -> None:
    import os

    from ..demo import seed

    eng = obj.engine()
    if now_text and os.environ.get("WBS_ALLOW_CLOCK_OVERRIDE", "") != "1":
        raise WbsError(_("--now is only allowed with WBS_ALLOW_CLOCK_OVERRIDE=1 (demo data dated in the past)."))
    now = parse_now(now_text, eng.settings.zone) or eng.now()
    click.echo(seed(eng, now=now, cases=True if more_cases else None, lang=obj.lang))
