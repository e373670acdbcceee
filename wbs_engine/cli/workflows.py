"""Workflow files: lint and diagrams."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..i18n import N_, Msg
from ..i18n import gettext_noop as _
from .base import Ctx, cli, say, text_in


@cli.command(
    help=_(
        "Check workflow files (default: every workflows/*.yaml). Exit 0 if all are good, 1 "
        "otherwise."
    ),
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.pass_obj
def lint(obj: Ctx, files: tuple[str, ...]) -> None:
    from ..lint import lint_file

    paths = [Path(f) for f in files] or sorted(obj.settings.workflows_dir.glob("*.yaml"))
    if not paths:
        raise click.UsageError(obj.t(_("no workflow files given and none found in the workflows directory")))
    bad = 0
    for p in paths:
        defn, issues = lint_file(p)
        if issues:
            bad += 1
            for i in issues:
                click.echo(say(text_in(i, obj.lang)))
        else:
            assert defn is not None
            click.echo(
                obj.t(
                    _("{file}: OK ({workflow}, {states}, {transitions}, {clocks})"),
                    file=say(p),
                    workflow=defn.ident,
                    states=Msg.count(N_("{n} state", "{n} states"), len(defn.states)),
                    transitions=Msg.count(N_("{n} transition", "{n} transitions"), len(defn.transitions)),
                    clocks=Msg.count(N_("{n} clock", "{n} clocks"), len(defn.clocks)),
                )
            )
    sys.exit(1 if bad else 0)


@cli.command(help=_("Print the Mermaid state diagram of WORKFLOW (a key such as pengaduan, or a file path)."))
@click.argument("workflow")
@click.option(
    "--lang",
    "label_lang",
    type=click.Choice(["id", "en"]),
    default="id",
    show_default=True,
    help=_("Language of the state labels."),
)
@click.pass_obj
def diagram(obj: Ctx, workflow: str, label_lang: str) -> None:
    from ..lint import load_workflow
    from ..machine import mermaid

    path = Path(workflow)
    if not path.suffix:
        path = obj.settings.workflows_dir / f"{workflow}.yaml"
    if not path.exists():
        raise click.BadParameter(
            obj.t(_("no workflow '{workflow}' ({path} does not exist)"), workflow=workflow, path=path),
            param_hint="WORKFLOW",
        )
    click.echo(mermaid(load_workflow(path), label_lang), nl=False)
