"""Export bundles: ``wbs export-bundle`` (needs the instance) and ``wbs verify-bundle`` (needs nothing but the
file: it never opens the database, the keyring or the settings; see :mod:`wbs_engine.bundle`)."""

from __future__ import annotations

import sys

import click

from ..i18n import N_, Msg
from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, parse_date, say


@cli.command(
    "export-bundle",
    help=_(
        "Export one case's or one period's audit trail as a bundle that verifies offline (events, the signed "
        "checkpoints that cover them, a signed manifest of hashes, the office's public key). Auditors and "
        "administrators only; the export is recorded in the trail."
    ),
)
@click.option("--case", "number", help=_("The case number to export (its whole history)."))
@click.option("--from", "date_from", help=_("First day of the period (e.g. 2026-01-01)."))
@click.option("--to", "date_to", help=_("Last day of the period (e.g. 2026-03-31)."))
@click.option("--type", "case_type", help=_("Only cases of this type (with --from/--to)."))
@click.option("--as", "username", required=True, help=_("The auditor or administrator exporting."))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help=_("The bundle file to write."))
@click.pass_obj
def export_bundle(
    obj: Ctx,
    number: str | None,
    date_from: str | None,
    date_to: str | None,
    case_type: str | None,
    username: str,
    out: str,
) -> None:
    from .. import bundle

    period = date_from is not None or date_to is not None
    if (number is None) == (not period) or (period and (date_from is None or date_to is None)):
        raise click.UsageError(obj.t(_("give either --case NUMBER or both --from DATE and --to DATE")))
    if number is not None and case_type is not None:
        raise click.UsageError(obj.t(_("--type goes with --from and --to, not with --case")))
    eng = obj.engine()
    actor = eng.load_actor(username)
    if number is not None:
        info = bundle.export_case(eng, number, actor, out)
    else:
        info = bundle.export_period(
            eng, parse_date(date_from, "--from"), parse_date(date_to, "--to"), actor, out, case_type=case_type
        )
    click.echo(
        obj.t(
            _("Bundle written to {path}: {events} in {chains}, {checkpoints}; manifest SHA-256 {sha}."),
            path=say(info.path),
            events=Msg.count(N_("{n} event", "{n} events"), info.events),
            chains=Msg.count(N_("{n} chain", "{n} chains"), info.chains),
            checkpoints=Msg.count(N_("{n} signed checkpoint", "{n} signed checkpoints"), info.checkpoints),
            sha=info.manifest_sha256,
        )
    )


@cli.command(
    "verify-bundle",
    help=_(
        "Verify an export bundle with nothing but the file (no database, no keyring, no settings): the signed "
        "manifest, every event's hash and link, every checkpoint's hash, link and signature, and that the "
        "exported events are sealed.\n\nExit 0 when it verifies; exit 1 naming every problem."
    ),
)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    "key_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help=_("A file with the office's public key you kept (`wbs audit-key` or `wbs audit-head` output, or PEM)."),
)
@click.option("--key-b64", "key_texts", multiple=True, help=_("The office's public key you kept, in base64url."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON: verified, counts, notes and problems."))
@click.pass_obj
def verify_bundle(obj: Ctx, file: str, key_files: tuple[str, ...], key_texts: tuple[str, ...], as_json: bool) -> None:
    from .. import bundle

    keys = []
    for path in key_files:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read(64 * 1024)
        except OSError as exc:
            raise click.BadParameter(f"{path}: {exc.strerror or exc}", param_hint="--key") from None
        keys.append(_key(obj, text, "--key"))
    keys += [_key(obj, text, "--key-b64") for text in key_texts]
    rep = bundle.verify_bundle(file, keys=keys or None)
    if as_json:
        emit(rep.to_dict(obj.lang))
        sys.exit(0 if rep.ok else 1)
    for note in rep.notes:
        click.echo(say(note.render(obj.lang)))
    if rep.ok:
        click.echo(
            obj.t(
                _("Bundle verified: {events} in {chains}, {checkpoints}; exported {at} by {by}."),
                events=Msg.count(N_("{n} event", "{n} events"), rep.events),
                chains=Msg.count(N_("{n} chain", "{n} chains"), rep.chains),
                checkpoints=Msg.count(N_("{n} signed checkpoint", "{n} signed checkpoints"), rep.checkpoints),
                at=say(rep.exported_at),
                by=say(rep.exported_by),
            )
        )
        sys.exit(0)
    for p in rep.problems:
        click.echo(
            obj.t(_("BUNDLE DOES NOT VERIFY [{code}]: {problem}"), code=p.code, problem=say(p.message(obj.lang))),
            err=True,
        )
    sys.exit(1)


def _key(obj: Ctx, text: str, hint: str):
    from .. import bundle
    from ..crypto import CryptoError

    try:
        return bundle.read_public_key(text)
    except CryptoError as exc:
        raise click.BadParameter(exc.message(obj.lang), param_hint=hint) from None
