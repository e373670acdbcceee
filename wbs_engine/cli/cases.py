"""Cases: file, move, message, show (also as the reporter sees them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import textsafe
from ..errors import WbsError
from ..i18n import N_
from ..i18n import gettext_noop as _
from .base import Ctx, cli, emit, parse_fields, say


@cli.group(help=_("Create, move and show cases."))
def case() -> None:
    pass


@case.command("new", help=_("File a new case of CASE_TYPE; prints its number and the reporter's receipt code."))
@click.argument("case_type")
@click.option(
    "--field", "-f", "field_pairs", multiple=True, metavar="NAME=VALUE", help=_("An intake field; repeatable.")
)
@click.option("--identity", type=click.Choice(["anonim", "rahasia", "terbuka"]), help=_("Reporter identity option."))
@click.option("--as", "username", help=_("File as this user (default: the public web form)."))
@click.option("--unit", help=_("Unit code that receives the case (default: the first unit)."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def case_new(
    obj: Ctx,
    case_type: str,
    field_pairs: tuple[str, ...],
    identity: str | None,
    username: str | None,
    unit: str | None,
    as_json: bool,
) -> None:
    eng = obj.engine()
    filer = eng.load_actor(username) if username else None
    created = eng.create_case(
        case_type,
        parse_fields(field_pairs),
        identity_mode=identity,
        filed_by=filer,
        unit_code=unit,
    )
    if as_json:
        emit(
            {
                "number": created.number,
                "receipt_code": created.receipt_code,
                "state": created.state,
                "version": created.version,
            }
        )
    else:
        click.echo(
            obj.t(
                _("Case number:   {number}\nReceipt code:  {receipt_code}\nState:         {state}"),
                number=created.number,
                receipt_code=created.receipt_code,
                state=created.state,
            )
        )


@case.command("fire", help=_("Run TRIGGER on case NUMBER as a user; the engine checks role, unit, fields and guards."))
@click.argument("number")
@click.argument("trigger")
@click.option("--as", "username", required=True, help=_("Username, 'system', or 'pelapor:RECEIPT-CODE'."))
@click.option("--field", "-f", "field_pairs", multiple=True, metavar="NAME=VALUE", help=_("A field; repeatable."))
@click.option("--reason", help=_("The reason, where the transition requires one."))
@click.option("--expect-version", type=int, help=_("Refuse if the case changed since this version."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def case_fire(
    obj: Ctx,
    number: str,
    trigger: str,
    username: str,
    field_pairs: tuple[str, ...],
    reason: str | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    from ..db import unit_of_work
    from ..permissions import Actor

    eng = obj.engine()
    if username == "system":
        actor = Actor.system()
    elif username.startswith("pelapor:"):
        with unit_of_work(eng.db, write=False) as s:
            actor, _case = eng.reporter(s, username.removeprefix("pelapor:"))
    else:
        actor = eng.load_actor(username)
    res = eng.fire(
        number,
        trigger,
        actor,
        parse_fields(field_pairs),
        reason=reason,
        expected_version=expect_version,
    )
    if actor.kind == "reporter":
        # the reporter is told what their tracking page says, never the office's internal words
        from ..tracking import tracking_view

        view = tracking_view(eng, username.removeprefix("pelapor:"), obj.lang)
        if as_json:
            emit({"number": view["number"], "state_label": view["state_label"]})
        else:
            click.echo(obj.t(_("Sent. {number}: {state}"), number=view["number"], state=view["state_label"]))
        return
    if as_json:
        emit(res.__dict__)
    else:
        click.echo(f"{res.number}: {res.from_state} → {res.to_state} ({res.trigger}, {res.role}; v{res.version})")


@case.command(
    "message",
    help=_(
        "Post a message on case NUMBER (reporter ↔ handlers); stored encrypted, notified by e-mail."
    ),
)
@click.argument("number")
@click.option("--as", "username", required=True, help=_("Username, or 'pelapor:RECEIPT-CODE' for the reporter."))
@click.option("--text", required=True, help=_("The message."))
@click.pass_obj
def case_message(obj: Ctx, number: str, username: str, text: str) -> None:
    from ..db import unit_of_work

    eng = obj.engine()
    if username.startswith("pelapor:"):
        with unit_of_work(eng.db, write=False) as s:
            actor, _case = eng.reporter(s, username.removeprefix("pelapor:"))
    else:
        actor = eng.load_actor(username)
    eng.post_message(number, actor, text)
    click.echo(obj.t(_("Message posted on {number}."), number=say(number)))


@case.command(
    "show",
    help=_(
        "Show a case: state, fields, clocks and full history (sealed data only with --as a user who "
        "may read it)."
        "\n\nWith --as pelapor:CODE it prints the reporter's view instead: the stage in plain words, "
        "due dates, what the reporter wrote, messages and what the office chose to tell them; no "
        "staff names, no internal data."
    ),
)
@click.argument("number")
@click.option(
    "--as",
    "username",
    help=_("Show what this user may see; 'pelapor:RECEIPT-CODE' shows exactly the reporter's tracking view."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.pass_obj
def case_show(obj: Ctx, number: str, username: str | None, as_json: bool) -> None:
    if username and username.startswith("pelapor:"):
        show_tracking(obj, number, username.removeprefix("pelapor:"), as_json)
        return
    from ..views import case_view, is_sealed

    eng = obj.engine()
    view = case_view(eng, number, eng.load_actor(username) if username else None, lang=obj.lang)
    if as_json:
        emit(view)
        return

    # every value a person typed (fields, unit, actor names, reasons) is rendered with textsafe; names from
    # the workflow file (states, clocks, triggers) are the administrator's and are printed as they are
    def show(value: Any, indent: str = "    ") -> str:
        return obj.t(_("[sealed]")) if is_sealed(value) else textsafe.block(value, indent)

    t = obj.t
    click.echo(f"{view['number']}  {view['type_label']}  v{view['version']}")
    click.echo(
        "  "
        + t(_("State: {label} ({state}, {phase})"), label=view["state_label"], state=view["state"], phase=view["phase"])
    )
    if view["state_description"]:
        click.echo(f"    {view['state_description']}")
    if view["destroyed"]:
        click.echo("  " + t(_("DESTROYED: {note}"), note=view["destroyed_note"]))
    for text in view["notices"]:
        click.echo("  " + t(_("Note: {text}"), text=text))
    click.echo(
        "  "
        + t(_("Unit: {unit}   Identity: {identity}"), unit=say(view["unit"] or "-"), identity=view["identity_mode"])
    )
    for k, v in view["fields"].items():
        click.echo(f"  {say(k)}: {show(v)}")
    if view["clocks"]:
        click.echo("  " + t(_("Time limits:")))
        for c in view["clocks"]:
            due = t(_("due {date}"), date=c["due_date"] or "-")
            left = c["remaining_days"]
            click.echo(
                f"    {c['name']:<24} {c['status']:<9} {c['limit']:<16} {due}"
                + (
                    ""
                    if left is None
                    else " " + obj.plural(N_("({n} working day left)", "({n} working days left)"), left)
                )
            )
    click.echo("  " + t(_("History:")))
    for e in view["history"]:
        what = e["trigger"] or e["kind"]
        move = f" {e['from_state'] or '∅'} → {e['to_state']}" if e["to_state"] else ""
        click.echo(f"    #{e['seq']:<3} {e['at']}  {say(e['actor']):<12} {what}{move}")
        reason = e["payload"].get("reason")
        if reason is not None:
            click.echo("         " + t(_("reason: {text}"), text=show(reason, "           ")))
        if e["kind"] == "rated":
            scores = ", ".join(f"{k} {v}" for k, v in (e["payload"].get("answers") or {}).items())
            click.echo("         " + t(_("scores: {scores}"), scores=say(scores)))
            if "comment" in e["payload"]:
                click.echo("         " + t(_("comment: {text}"), text=show(e["payload"]["comment"], "           ")))


@case.command(
    "proof",
    help=_(
        "Write the proof of filing of case NUMBER (a signed PDF, in --lang), as the reporter "
        "downloads it after filing; `wbs verify-receipt FILE` checks it."
    ),
)
@click.argument("number")
@click.option("--code", required=True, help=_("The case's tracking code (the reporter's)."))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help=_("The PDF to write ('-': standard output); never overwritten."),
)
@click.option(
    "--with-text/--without-text",
    "with_text",
    default=None,
    help=_("Put what the reporter wrote in the proof, or leave it out (default: the workflow's proof_includes_text)."),
)
@click.pass_obj
def case_proof(obj: Ctx, number: str, code: str, out: str, with_text: bool | None) -> None:
    import os
    import tempfile

    from ..receipts import case_of_code, proof_of_filing

    eng = obj.engine()
    number = case_of_code(eng, code, number)
    pdf = proof_of_filing(eng, code, obj.lang, include_text=with_text)
    if out == "-":
        click.echo(pdf, nl=False)
        return
    path = Path(out)
    if path.exists():
        raise WbsError(_("{file} already exists; a proof is never written over a file"), file=say(out))
    # written whole under a temporary name (mode 0600), then linked to its name: a crash leaves no half a
    # proof, and a file that appeared meanwhile is not overwritten (the link fails)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    click.echo(obj.t(_("Proof of filing of {number} written to {file}."), number=number, file=say(out)))


def show_tracking(obj: Ctx, number: str, code: str, as_json: bool) -> None:
    from ..tracking import tracking_view

    view = tracking_view(obj.engine(), code, obj.lang, number=number)
    if as_json:
        emit(view)
        return
    t = obj.t
    click.echo(f"{view['number']}  {view['type_label']}")
    click.echo("  " + t(_("Stage: {label}"), label=view["state_label"]))
    if view["destroyed"]:
        click.echo("  " + t(_("DESTROYED: {note}"), note=view["destroyed_note"]))
    click.echo("  " + t(_("Filed: {date} {time}"), date=view["filed"]["date"], time=view["filed"]["time"]))
    if view["closed"]:
        click.echo("  " + t(_("Closed: {date}"), date=view["closed"]["date"]))
    for d in view["due"]:
        when = d["due_date"] or obj.plural(
            N_("paused ({n} working day left)", "paused ({n} working days left)"), d["remaining_days"]
        )
        click.echo(f"  {d['label']}: {when}")
    click.echo("  " + t(_("What you wrote:")))
    for f in view["you_wrote"]:
        click.echo(f"    {f['label']}: {textsafe.block(f['value'], '      ')}")
    click.echo("  " + t(_("Progress:")))
    for st in view["steps"]:
        head = st["state"] or (t(_("You")) if st["by_you"] else t(_("Office")))
        click.echo(f"    {st['date']} {st['time']}  {head}")
        for f in st["fields"]:
            click.echo(f"        {f['label']}: {textsafe.block(f['value'], '          ')}")
    if view["messages"]:
        click.echo("  " + t(_("Messages:")))
        for m in view["messages"]:
            who = t(_("You")) if m["from"] == "you" else t(_("Office"))
            click.echo(f"    {m['date']} {m['time']}  {who}: {textsafe.block(m['body'], '      ')}")
    if view["actions"]:
        click.echo("  " + t(_("What you can do:")))
        for a in view["actions"]:
            click.echo(f"    {a['trigger']}: {a['label']}")
    rating = view["survey"]
    if rating["available"]:
        click.echo("  " + t(_("Satisfaction survey: you can now rate how your report was handled.")))
    elif rating["offered"]:
        click.echo("  " + t(_("Satisfaction survey: {note}"), note=rating["note"]))
