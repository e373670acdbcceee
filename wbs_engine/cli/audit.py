"""The audit trail: verify, seal, and the head and key that leave the server."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click

from ..errors import WbsError
from ..i18n import N_, Msg
from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, say, text_in


@cli.command(
    "verify-audit",
    help=_(
        "Verify the audit trail: every chain, every signed checkpoint, every case row against its "
        "trail, case numbers without gaps, and (with --against) heads kept outside the server."
        "\n\nExit 0 and the counts when intact; exit 1 naming every problem found (up to 50)."
    ),
)
@click.option(
    "--against",
    "against",
    type=click.Path(exists=True, dir_okay=False),
    help=_("A file of audit heads kept earlier (lines printed by `wbs audit-head`); each must still match."),
)
@click.option("--deep", is_flag=True, help=_("Also open every case's sealed values and compare them with its trail."))
@click.option(
    "--max-age",
    type=click.IntRange(min=1),
    help=_("Fail when the newest signed checkpoint is older than this many minutes (for monitoring; the "
    "scheduler seals every WBS_CHECKPOINT_MINUTES, also on quiet days)."),
)
@click.pass_obj
def verify_audit(obj: Ctx, against: str | None, deep: bool, max_age: int | None) -> None:
    from .. import audit
    from ..db import unit_of_work

    eng = obj.engine()
    kept = []
    if against:
        try:
            kept = audit.parse_heads(Path(against).read_text(encoding="utf-8", errors="replace"))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--against") from None
        if not kept:
            raise click.BadParameter(
                obj.t(_("no '{prefix}' line in {file}"), prefix=audit.HEAD_PREFIX, file=against), param_hint="--against"
            )
    with unit_of_work(eng.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in eng.registry.versions(s)}
        res = audit.verify(
            s,
            keyring=eng.keyring,
            against=kept,
            workflows=workflows,
            deep=deep,
            now=eng.now(),
            max_age=timedelta(minutes=max_age) if max_age else None,
        )
    if res.ok:
        click.echo(
            obj.t(
                _("Audit trail intact: {events} in {chains}, {cases}, {checkpoints}, {kept_heads} checked."),
                events=Msg.count(N_("{n} event", "{n} events"), res.events),
                chains=Msg.count(N_("{n} chain", "{n} chains"), res.chains),
                cases=Msg.count(N_("{n} case", "{n} cases"), res.cases),
                checkpoints=Msg.count(N_("{n} signed checkpoint", "{n} signed checkpoints"), res.checkpoints),
                kept_heads=Msg.count(N_("{n} kept head", "{n} kept heads"), res.kept_heads),
            )
        )
        sys.exit(0)
    for p in res.problems:
        click.echo(obj.t(_("AUDIT TRAIL BROKEN: {problem}"), problem=say(text_in(p, obj.lang))), err=True)
    sys.exit(1)


@cli.command(
    "audit-checkpoint",
    help=_(
        "Seal the chain heads that moved, signed with the office key (the scheduler does it every "
        "WBS_CHECKPOINT_MINUTES minutes)."
    ),
)
@click.pass_obj
def audit_checkpoint(obj: Ctx) -> None:
    from .. import audit
    from ..db import unit_of_work

    eng = obj.engine()
    with unit_of_work(eng.db) as s:
        cp = audit.checkpoint(s, eng.now(), eng.keyring)
    click.echo(
        obj.t(_("Nothing changed since the last checkpoint."))
        if cp is None
        else obj.plural(
            N_("Checkpoint #{seq}: {n} chain.", "Checkpoint #{seq}: {n} chains."), len(cp.heads), seq=cp.seq
        )
    )


@cli.command(
    "audit-head",
    help=_(
        "Print the latest signed audit head as one line, to keep outside the server (append it to a "
        "file that `wbs verify-audit --against FILE` reads later)."
    ),
)
@click.option("--seal", is_flag=True, help=_("Make a checkpoint first if anything moved since the last one."))
@click.pass_obj
def audit_head(obj: Ctx, seal: bool) -> None:
    from .. import audit
    from ..db import unit_of_work

    eng = obj.engine()
    with unit_of_work(eng.db, write=seal) as s:
        if seal:
            audit.checkpoint(s, eng.now(), eng.keyring)
        cp = audit.latest_checkpoint(s)
    if cp is None:
        raise WbsError(_("No audit checkpoint yet; run: wbs audit-checkpoint (or audit-head --seal)"))
    click.echo(audit.head_line(cp, eng.keyring.public_b64))


@cli.command(
    "audit-key",
    help=_(
        "Print the office's public signing key (it verifies checkpoints and proofs; it is not "
        "secret)."
    ),
)
@click.option("--pem", is_flag=True, help=_("Print the public key in PEM form instead of one line."))
@click.pass_obj
def audit_key(obj: Ctx, pem: bool) -> None:
    eng = obj.engine()
    if pem:
        click.echo(eng.keyring.public_pem(), nl=False)
    else:
        click.echo(f"wbs-audit-key/1 id={eng.keyring.key_id} key={eng.keyring.public_b64}")


@cli.command(
    "verify-receipt",
    help=_(
        "Check a proof of filing (the PDF a reporter downloaded; '-' reads it from standard input): "
        "issued by this office, unchanged, and matching the office's audit trail?"
        "\n\nExit 0 and one line when genuine; exit 1 and one line saying what is wrong otherwise."
    ),
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--link", help=_("Check a verification link (what a proof's QR code holds) instead of a file."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON: the status, the sentence and the signed facts."))
@click.pass_obj
def verify_receipt(obj: Ctx, file: str | None, link: str | None, as_json: bool) -> None:
    from .. import receipts

    if (file is None) == (link is None):
        raise click.UsageError(obj.t(_("give either a FILE or --link URL")))
    eng = obj.engine()
    if link is not None:
        check = receipts.verify_link(eng, link)
    else:
        with click.open_file(file, "rb") as stream:  # type: ignore[arg-type]  ('-': standard input)
            data = stream.read(receipts.MAX_PROOF_BYTES + 1)
        check = receipts.verify_proof(eng, data)
    if as_json:
        emit(check.to_dict(obj.lang))
    else:
        click.echo(say(check.message(obj.lang)), err=not check.genuine)
    sys.exit(0 if check.genuine else 1)
