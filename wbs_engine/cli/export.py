"""Report files: ``wbs export`` writes the recap of a case type, or its register, as CSV, XLSX or PDF
(:mod:`wbs_engine.reports`, :mod:`wbs_engine.exports`), and records the export in the audit trail."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import WbsError
from ..i18n import gettext_noop as _
from .base import Ctx, cli, parse_date, say

#: the register of each case type that has one
REGISTERS = {
    "gratifikasi": "gratifikasi",
    "benturan_kepentingan": "benturan_kepentingan",
    "identifikasi_bk": "identifikasi_bk",
}


@cli.command(
    "export",
    help=_(
        "Write a report as a file for the Zona Integritas evidence folder: the recap of a case type (received, "
        "in progress, closed, time limits met and missed, working days per stage, reasons of closure, "
        "satisfaction index) or, with --report register, its register (gratifikasi, benturan_kepentingan, "
        "identifikasi_bk). Cases filed from --from to --to (both included). Only plain values: no sealed text, "
        "no identity. The export is recorded in the audit trail."
    ),
)
@click.option("--type", "case_type", required=True, help=_("The case type, e.g. pengaduan or gratifikasi."))
@click.option("--from", "date_from", required=True, help=_("First day of the period (e.g. 2026-01-01)."))
@click.option("--to", "date_to", required=True, help=_("Last day of the period (e.g. 2026-12-31)."))
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "pdf"]), help=_("The file format."))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help=_("The file to write."))
@click.option(
    "--report",
    "which",
    type=click.Choice(["recap", "register"]),
    default="recap",
    show_default=True,
    help=_("The recap of the case type, or its register."),
)
@click.option("--unit", help=_("Only this unit (its code); default: every unit."))
@click.option(
    "--as",
    "username",
    help=_(
        "The staff user the export is made for: only what their grants cover is counted. Default: the "
        "operator of this installation, who sees every unit and type (recorded as 'system')."
    ),
)
@click.option(
    "--lang", "report_lang", type=click.Choice(["id", "en"]), help=_("The file's language (default: --lang).")
)
@click.pass_obj
def export_cmd(
    obj: Ctx,
    case_type: str,
    date_from: str,
    date_to: str,
    fmt: str,
    out: str,
    which: str,
    unit: str | None,
    username: str | None,
    report_lang: str | None,
) -> None:
    from .. import exports, reports
    from ..permissions import Actor

    since, until = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    kind = "recap"
    if which == "register":
        if case_type not in REGISTERS:
            raise WbsError(
                _("{type} has no register; registers exist for {types}"),
                type=case_type,
                types=", ".join(sorted(REGISTERS)),
            )
        kind = REGISTERS[case_type]
    target = Path(out)
    if target.parent and not target.parent.is_dir():
        raise WbsError(_("The folder {path} does not exist."), path=str(target.parent))
    eng = obj.engine()
    actor = eng.load_actor(username) if username else Actor.system()
    report = reports.build_report(
        eng,
        actor,
        kind,
        since=since,
        until=until,
        case_type=case_type if kind == "recap" else None,
        unit=unit,
        lang=report_lang or obj.lang,
    )
    data = exports.render(report, fmt)
    # recorded before the file is written: an export the trail does not know of must never exist
    reports.record_export(eng, actor, report, fmt, via="cli")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WbsError(
            _("Cannot write {path}: {problem}"), path=str(target), problem=exc.strerror or str(exc)
        ) from None
    rows = sum(len(s.rows) for s in report.sections)
    click.echo(
        obj.t(
            _(
                "{title} written to {path} ({format}, {size} bytes, {rows} table rows); the export is recorded "
                "in the audit trail."
            ),
            title=say(report.title),
            path=say(str(target)),
            format=fmt.upper(),
            size=len(data),
            rows=rows,
        )
    )
