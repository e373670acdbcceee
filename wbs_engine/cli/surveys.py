"""The satisfaction survey's recap (``wbs survey results``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, parse_date, say

if TYPE_CHECKING:
    from decimal import Decimal


@cli.group(help=_("The satisfaction survey reporters take after closure (PermenPANRB 14/2017)."))
def survey() -> None:
    pass


def number(value: Decimal | None, lang: str) -> str:
    """A figure as people of ``lang`` write it (``80,50`` in Indonesian, ``80.50`` in English)."""
    if value is None:
        return "–"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


@survey.command(
    "results",
    help=_(
        "Print the survey's recap: per element the number of answers, the mean score (1–4) and the "
        "index (×25), and the satisfaction index with its category (A–D). With fewer than 5 "
        "responses nothing but that there are too few."
    ),
)
@click.option("--type", "case_type", help=_("Only cases of this type (e.g. pengaduan); default: every type."))
@click.option("--since", help=_("First day of the period (YYYY-MM-DD, office time), included."))
@click.option("--until", help=_("Last day of the period (YYYY-MM-DD, office time), included."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def survey_results(obj: Ctx, case_type: str | None, since: str | None, until: str | None, as_json: bool) -> None:
    from .. import survey as sv

    first = parse_date(since, "--since") if since else None
    last = parse_date(until, "--until") if until else None
    eng = obj.engine()
    res = sv.survey_results(eng, case_type=case_type, since=first, until=last)
    if as_json:
        emit(res.to_dict(obj.lang))
        return
    lang, t = obj.lang, obj.t
    what = eng.registry.latest(case_type).definition.label.get(lang) if case_type else t(_("every case type"))
    if first and last:
        period = t(_("{since} to {until}"), since=first.isoformat(), until=last.isoformat())
    elif first:
        period = t(_("from {since}"), since=first.isoformat())
    elif last:
        period = t(_("until {until}"), until=last.isoformat())
    else:
        period = t(_("all time"))
    click.echo(t(_("Satisfaction survey: {what}, {period}"), what=say(what), period=period))
    if res.suppressed:
        click.echo("  " + t(sv.TOO_FEW, min=res.min_responses))
        return
    click.echo("  " + t(_("Responses: {count}"), count=res.responses))
    labels = [say(e.label.get(lang) if e.label else e.key) for e in res.elements]
    width = min(max([len(x) for x in labels] + [len(t(_("Element")))]), 60)
    heads = (t(_("Element")), t(_("Answers")), t(_("Mean")), t(_("Index")), t(_("Category")))
    click.echo(f"  {heads[0]:<{width}}  {heads[1]:>7}  {heads[2]:>9}  {heads[3]:>6}  {heads[4]}")
    few = t(_("too few responses"))
    for label, e in zip(labels, res.elements, strict=True):
        if e.suppressed:
            click.echo(f"  {label:<{width}}  {few}")
            continue
        grade = f"{e.category} ({sv.category_label(e.category, lang)})"
        click.echo(
            f"  {label:<{width}}  {e.responses:>7}  {number(e.mean, lang):>9}  {number(e.index, lang):>6}  {grade}"
        )
    if res.index is None:
        click.echo("  " + t(_("Satisfaction index: too few responses")))
        return
    click.echo(
        "  "
        + t(
            _("Satisfaction index: {index} — category {category} ({words})"),
            index=number(res.index, lang),
            category=res.category,
            words=sv.category_label(res.category, lang),
        )
    )
