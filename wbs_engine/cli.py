"""The ``wbs`` command.

Every user error is one line on stderr and exit code 2 (never a traceback): bad arguments (also bytes that
are not UTF-8), bad settings, a database that cannot be opened, a directory that cannot be created.
``lint`` and ``verify-audit`` exit 1 when they find a problem. Messages are in Bahasa Indonesia;
``wbs --lang en`` switches to English.

Text that comes from people (a report's fields, names, anything an error message repeats) goes through
:mod:`wbs_engine.textsafe` before it reaches the terminal, so control characters show instead of acting.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from . import textsafe
from .config import ConfigError, Settings
from .crypto import CryptoError
from .definition import DefinitionError
from .errors import WbsError


class Ctx:
    def __init__(self, lang: str):
        self.lang = lang
        self._engine = None
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def engine(self):  # -> WbsEngine
        if self._engine is None:
            from .engine import WbsEngine

            prepare_dirs(self.settings)
            engine = WbsEngine(self.settings)
            _require_migrated(engine)
            engine.check_keys()  # a keyring that is not this database's: refused before anything is written
            self._engine = engine
        return self._engine

    def t(self, id_text: str, en_text: str) -> str:
        return en_text if self.lang == "en" else id_text


def prepare_dirs(settings: Settings) -> None:
    """Create the directories the engine writes to: the SQLite file's directory and the directory of the
    keyring (``instance/keyring.json`` or WBS_KEYRING).

    Done here, before anything else, so that a directory that cannot be made (``/proc/x``, a path under a
    regular file) is one :class:`ConfigError` naming the path and the setting that chose it."""
    from sqlalchemy.engine import make_url

    wanted: list[tuple[Path, str]] = []
    url = make_url(settings.db_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        wanted.append((Path(url.database).parent, "WBS_DATABASE_URL" if settings.database_url else "WBS_INSTANCE_DIR"))
    wanted.append((settings.keyring_path.parent, "WBS_KEYRING" if settings.keyring_file else "WBS_INSTANCE_DIR"))
    for path, setting in wanted:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(
                f"direktori {path} tidak dapat dibuat ({reason}); periksa {setting}",
                f"cannot create the directory {path} ({reason}); check {setting}",
            ) from None


def _require_migrated(engine: Any) -> None:
    from .migrate import current, head

    have = current(engine.db)
    if have is None:
        raise WbsError(
            "Basis data belum disiapkan; jalankan dulu: wbs init-db",
            "The database is not set up; run first: wbs init-db",
        )
    if have != head():
        raise WbsError(
            f"Skema basis data masih revisi {have} (terbaru {head()}); jalankan dulu: wbs init-db",
            f"The database schema is at revision {have} (newest {head()}); run first: wbs init-db",
        )


def _parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        if "=" not in p:
            raise click.BadParameter(f"'{p}' must look like name=value", param_hint="--field")
        k, v = p.split("=", 1)
        out[k.strip()] = v
    return out


def _parse_now(value: str | None, zone: tzinfo) -> datetime | None:
    """An ISO time given with ``--now``; without an offset it is wall-clock time in the office's ``zone``
    (an officer typing 2026-03-13T09:00 means nine in the morning at the office, not in UTC)."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not an ISO time such as 2026-03-13T09:00+07:00", param_hint="--now"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=zone)


def _parse_date(value: str, hint: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date such as 2026-03-13", param_hint=hint) from None


def _emit(obj: Any) -> None:
    """Print JSON; characters that could act on a terminal are ``\\u`` escapes (the same JSON value)."""
    click.echo(textsafe.json_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str)))


def _say(text: object) -> str:
    """People's text for one line of output, with control characters made visible."""
    return textsafe.line(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    default="id",
    show_default=True,
    help="Language of messages (Bahasa Indonesia or English).",
)
@click.version_option(package_name="wbs-engine")
@click.pass_context
def cli(ctx: click.Context, lang: str) -> None:
    """wbs-engine: case workflows for pengaduan, gratifikasi, WBS and benturan kepentingan.

    Settings come from the environment: WBS_DATABASE_URL (default: SQLite in instance/),
    WBS_INSTANCE_DIR, WBS_WORKFLOWS_DIR, WBS_KEYRING (default: instance/keyring.json, made by init-db),
    WBS_CHECKPOINT_MINUTES (10), WBS_TIMEZONE (the office's zone: WIB, WITA or WIT; default WIB),
    WBS_OFFICE_CLOSE (16:00, local time),
    WBS_INCLUDE_CUTI_BERSAMA (1), WBS_SMTP_URL, WBS_MAIL_FROM, WBS_BASE_URL, WBS_SCHEDULER,
    WBS_SQLITE_SYNCHRONOUS, WBS_ALLOW_CLOCK_OVERRIDE (tests and drills only).
    """
    ctx.obj = Ctx(lang)


# -- database ---------------------------------------------------------------------------------------


@cli.command("init-db")
@click.pass_obj
def init_db(obj: Ctx) -> None:
    """Create or upgrade the database schema (Alembic migrations); create the keyring if there is none
    (instance/keyring.json or WBS_KEYRING) and record its fingerprints in the database.

    The only command, with gen-key and rotate-key, that creates keys. Back the keyring up apart from the
    database: without it the sealed data cannot be read."""
    from .provision import init_database

    prepare_dirs(obj.settings)
    res = init_database(obj.settings)
    click.echo(
        obj.t(
            f"Basis data siap (revisi {res.revision}): {res.url}",
            f"Database ready (revision {res.revision}): {res.url}",
        )
    )
    if res.created_keyring:
        click.echo(
            obj.t(
                f"Kunci baru dibuat: {res.keyring} (simpan cadangannya terpisah dari basis data)",
                f"New keyring created: {res.keyring} (back it up apart from the database)",
            )
        )
    else:
        click.echo(obj.t(f"Kunci: {res.keyring}", f"Keyring: {res.keyring}"))


@cli.command("gen-key")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the keyring.")
@click.pass_obj
def gen_key(obj: Ctx, out: str) -> None:
    """Write a new keyring file (encryption, receipt-code and signing keys) for WBS_KEYRING; never overwrites.

    For an operator who prepares the keys apart from the server; `wbs init-db` makes one itself otherwise."""
    from .provision import generate_keyring

    keyring = generate_keyring(Path(out))
    click.echo(
        obj.t(
            f"Kunci dibuat: {out} (kunci tanda tangan {keyring.key_id})",
            f"Keyring written: {out} (signing key {keyring.key_id})",
        )
    )


@cli.command("rotate-key")
@click.option("--rewrap", is_flag=True, help="Also wrap every case's data key with the new key.")
@click.pass_obj
def rotate_key(obj: Ctx, rewrap: bool) -> None:
    """Add a new office encryption key to the keyring: new data keys are wrapped with it; what older keys
    wrapped stays readable (they stay in the keyring). With --rewrap, every case's data key is re-wrapped now."""
    from .provision import rotate_encryption_key

    fp, n = rotate_encryption_key(obj.settings, rewrap=rewrap)
    click.echo(obj.t(f"Kunci enkripsi baru: {fp}", f"New encryption key: {fp}"))
    if rewrap:
        click.echo(obj.t(f"{n} kunci perkara dibungkus ulang.", f"{n} case keys re-wrapped."))


# -- workflows --------------------------------------------------------------------------------------


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.pass_obj
def lint(obj: Ctx, files: tuple[str, ...]) -> None:
    """Check workflow files (default: every workflows/*.yaml). Exit 0 if all are good, 1 otherwise."""
    from .definition import lint_file

    paths = [Path(f) for f in files] or sorted(obj.settings.workflows_dir.glob("*.yaml"))
    if not paths:
        raise click.UsageError("no workflow files given and none found in the workflows directory")
    bad = 0
    for p in paths:
        defn, issues = lint_file(p)
        if issues:
            bad += 1
            for i in issues:
                click.echo(_say(i))
        else:
            assert defn is not None
            click.echo(
                f"{_say(p)}: OK ({defn.ident}, {len(defn.states)} states, {len(defn.transitions)} transitions, "
                f"{len(defn.clocks)} clocks)"
            )
    sys.exit(1 if bad else 0)


@cli.command()
@click.argument("workflow")
@click.option(
    "--lang",
    "label_lang",
    type=click.Choice(["id", "en"]),
    default="id",
    show_default=True,
    help="Language of the state labels.",
)
@click.pass_obj
def diagram(obj: Ctx, workflow: str, label_lang: str) -> None:
    """Print the Mermaid state diagram of WORKFLOW (a key such as pengaduan, or a file path)."""
    from .definition import load_workflow
    from .machine import mermaid

    path = Path(workflow)
    if not path.suffix:
        path = obj.settings.workflows_dir / f"{workflow}.yaml"
    if not path.exists():
        raise click.BadParameter(f"no workflow '{workflow}' ({path} does not exist)", param_hint="WORKFLOW")
    click.echo(mermaid(load_workflow(path), label_lang), nl=False)


# -- cases ------------------------------------------------------------------------------------------


@cli.group()
def case() -> None:
    """Create, move and show cases."""


@case.command("new")
@click.argument("case_type")
@click.option("--field", "-f", "field_pairs", multiple=True, metavar="NAME=VALUE", help="An intake field; repeatable.")
@click.option("--identity", type=click.Choice(["anonim", "rahasia", "terbuka"]), help="Reporter identity option.")
@click.option("--as", "username", help="File as this user (default: the public web form).")
@click.option("--unit", help="Unit code that receives the case (default: the first unit).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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
    """File a new case of CASE_TYPE; prints its number and the reporter's receipt code."""
    eng = obj.engine()
    filer = eng.load_actor(username) if username else None
    created = eng.create_case(
        case_type,
        _parse_fields(field_pairs),
        identity_mode=identity,
        filed_by=filer,
        unit_code=unit,
    )
    if as_json:
        _emit(
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
                f"Nomor registrasi: {created.number}\nKode pelacakan:   {created.receipt_code}\n"
                f"Status:           {created.state}",
                f"Case number:   {created.number}\nReceipt code:  {created.receipt_code}\n"
                f"State:         {created.state}",
            )
        )


@case.command("fire")
@click.argument("number")
@click.argument("trigger")
@click.option("--as", "username", required=True, help="Username, 'system', or 'pelapor:RECEIPT-CODE'.")
@click.option("--field", "-f", "field_pairs", multiple=True, metavar="NAME=VALUE", help="A field; repeatable.")
@click.option("--reason", help="The reason, where the transition requires one.")
@click.option("--expect-version", type=int, help="Refuse if the case changed since this version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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
    """Run TRIGGER on case NUMBER as a user; the engine checks role, unit, fields and guards."""
    from .db import unit_of_work
    from .engine import Actor

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
        _parse_fields(field_pairs),
        reason=reason,
        expected_version=expect_version,
    )
    if as_json:
        _emit(res.__dict__)
    else:
        click.echo(f"{res.number}: {res.from_state} → {res.to_state} ({res.trigger}, {res.role}; v{res.version})")


@case.command("message")
@click.argument("number")
@click.option("--as", "username", required=True, help="Username, or 'pelapor:RECEIPT-CODE' for the reporter.")
@click.option("--text", required=True, help="The message.")
@click.pass_obj
def case_message(obj: Ctx, number: str, username: str, text: str) -> None:
    """Post a message on case NUMBER (reporter ↔ handlers); stored encrypted, notified by e-mail."""
    from .db import unit_of_work

    eng = obj.engine()
    if username.startswith("pelapor:"):
        with unit_of_work(eng.db, write=False) as s:
            actor, _case = eng.reporter(s, username.removeprefix("pelapor:"))
    else:
        actor = eng.load_actor(username)
    eng.post_message(number, actor, text)
    click.echo(obj.t(f"Pesan terkirim pada {_say(number)}.", f"Message posted on {_say(number)}."))


@case.command("show")
@click.argument("number")
@click.option(
    "--as",
    "username",
    help="Show what this user may see; 'pelapor:RECEIPT-CODE' shows exactly the reporter's tracking view.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def case_show(obj: Ctx, number: str, username: str | None, as_json: bool) -> None:
    """Show a case: state, fields, clocks and full history (sealed data only with --as a user who may read it).

    With --as pelapor:CODE it prints the reporter's view instead: the stage in plain words, due dates, what
    the reporter wrote, messages and what the office chose to tell them; no staff names, no internal data."""
    if username and username.startswith("pelapor:"):
        _show_tracking(obj, number, username.removeprefix("pelapor:"), as_json)
        return
    from .views import case_view, is_sealed

    eng = obj.engine()
    view = case_view(eng, number, eng.load_actor(username) if username else None, lang=obj.lang)
    if as_json:
        _emit(view)
        return

    # every value a person typed (fields, unit, actor names, reasons) is rendered with textsafe; names from
    # the workflow file (states, clocks, triggers) are the administrator's and are printed as they are
    def show(value: Any, indent: str = "    ") -> str:
        return "[rahasia]" if is_sealed(value) else textsafe.block(value, indent)

    click.echo(f"{view['number']}  {view['type_label']}  v{view['version']}")
    click.echo(f"  {obj.t('Status', 'State')}: {view['state_label']} ({view['state']}, {view['phase']})")
    if view["state_description"]:
        click.echo(f"    {view['state_description']}")
    for text in view["notices"]:
        click.echo(f"  {obj.t('Perhatian', 'Note')}: {text}")
    click.echo(f"  Unit: {_say(view['unit'] or '-')}   {obj.t('Identitas', 'Identity')}: {view['identity_mode']}")
    for k, v in view["fields"].items():
        click.echo(f"  {_say(k)}: {show(v)}")
    if view["clocks"]:
        click.echo(obj.t("  Batas waktu:", "  Time limits:"))
        for c in view["clocks"]:
            click.echo(
                f"    {c['name']:<24} {c['status']:<9} {c['limit']:<16} due {c['due_date'] or '-'}"
                + (f" (sisa {c['remaining_days']} HK)" if c["remaining_days"] is not None else "")
            )
    click.echo(obj.t("  Riwayat:", "  History:"))
    for e in view["history"]:
        what = e["trigger"] or e["kind"]
        move = f" {e['from_state'] or '∅'} → {e['to_state']}" if e["to_state"] else ""
        click.echo(f"    #{e['seq']:<3} {e['at']}  {_say(e['actor']):<12} {what}{move}")
        reason = e["payload"].get("reason")
        if reason is not None:
            click.echo(f"         {obj.t('alasan', 'reason')}: {show(reason, '           ')}")


def _show_tracking(obj: Ctx, number: str, code: str, as_json: bool) -> None:
    from .tracking import tracking_view

    view = tracking_view(obj.engine(), code, obj.lang, number=number)
    if as_json:
        _emit(view)
        return
    t = obj.t
    click.echo(f"{view['number']}  {view['type_label']}")
    click.echo(f"  {t('Status', 'Stage')}: {view['state_label']}")
    click.echo(f"  {t('Diterima', 'Filed')}: {view['filed']['date']} {view['filed']['time']}")
    if view["closed"]:
        click.echo(f"  {t('Ditutup', 'Closed')}: {view['closed']['date']}")
    for d in view["due"]:
        when = d["due_date"] or t(
            f"dihentikan sementara (sisa {d['remaining_days']} HK)", f"paused ({d['remaining_days']} working days left)"
        )
        click.echo(f"  {d['label']}: {when}")
    click.echo(t("  Yang Anda tulis:", "  What you wrote:"))
    for f in view["you_wrote"]:
        click.echo(f"    {f['label']}: {textsafe.block(f['value'], '      ')}")
    click.echo(t("  Perkembangan:", "  Progress:"))
    for st in view["steps"]:
        head = st["state"] or (t("Anda", "You") if st["by_you"] else t("Kantor", "Office"))
        click.echo(f"    {st['date']} {st['time']}  {head}")
        for f in st["fields"]:
            click.echo(f"        {f['label']}: {textsafe.block(f['value'], '          ')}")
    if view["messages"]:
        click.echo(t("  Pesan:", "  Messages:"))
        for m in view["messages"]:
            who = t("Anda", "You") if m["from"] == "you" else t("Kantor", "Office")
            click.echo(f"    {m['date']} {m['time']}  {who}: {textsafe.block(m['body'], '      ')}")
    if view["actions"]:
        click.echo(t("  Yang dapat Anda lakukan:", "  What you can do:"))
        for a in view["actions"]:
            click.echo(f"    {a['trigger']}: {a['label']}")


# -- users ------------------------------------------------------------------------------------------


@cli.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE[:UNIT[:TYPE]]",
    help="Role, optionally for one unit and one case type; repeatable.",
)
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--email", default=None, help="E-mail for notifications.")
@click.option(
    "--lang",
    "user_lang",
    type=click.Choice(["id", "en"]),
    default=None,
    help="Language of e-mails (new users: id; an existing user's is kept unless given).",
)
@click.option("--password", default=None, help="Password (default: generate one and print it).")
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
    """Create a staff account, or add roles to an existing one (its language and name stay unless given)."""
    from .users import create_or_update_user, parse_grant

    grants = [parse_grant(r) for r in roles]
    eng = obj.engine()
    pw = create_or_update_user(
        eng, username, grants, full_name=full_name, email=email, lang=user_lang, password=password
    )
    given = _say(", ".join(roles))
    click.echo(obj.t(f"Pengguna {_say(username)}: {given}", f"User {_say(username)}: {given}"))
    if pw:
        click.echo(obj.t(f"Kata sandi: {pw}", f"Password: {pw}"))


@cli.group()
def unit() -> None:
    """Organisational units (a case belongs to one; grants can be limited to one)."""


@unit.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--email", default=None, help="The unit's shared e-mail address.")
@click.pass_obj
def unit_add(obj: Ctx, code: str, name: str, email: str | None) -> None:
    """Add unit CODE (e.g. LAYANAN) named NAME."""
    from .users import ensure_unit

    code = code.strip().upper()
    if not code.replace("_", "").isalnum() or len(code) > 32:
        raise click.BadParameter("use letters, digits and _ (at most 32)", param_hint="CODE")
    ensure_unit(obj.engine(), code, name, email)
    click.echo(f"Unit {_say(code)}: {_say(name)}")


@unit.command("list")
@click.pass_obj
def unit_list(obj: Ctx) -> None:
    """List the units."""
    from sqlmodel import select

    from .db import unit_of_work
    from .models import Unit

    with unit_of_work(obj.engine().db, write=False) as s:
        for u in s.exec(select(Unit).order_by(Unit.code)).all():
            click.echo(f"{_say(u.code):<12} {_say(u.name)}" + (f"  <{_say(u.email)}>" if u.email else ""))


# -- audit ------------------------------------------------------------------------------------------


@cli.command("verify-audit")
@click.option(
    "--against",
    "against",
    type=click.Path(exists=True, dir_okay=False),
    help="A file of audit heads kept earlier (lines printed by `wbs audit-head`); each must still match.",
)
@click.option("--deep", is_flag=True, help="Also open every case's sealed values and compare them with its trail.")
@click.pass_obj
def verify_audit(obj: Ctx, against: str | None, deep: bool) -> None:
    """Verify the audit trail: every chain, every signed checkpoint, every case row against its trail, case
    numbers without gaps, and (with --against) heads kept outside the server.

    Exit 0 and the counts when intact; exit 1 naming every problem found (up to 50)."""
    from . import audit
    from .db import unit_of_work

    eng = obj.engine()
    kept = []
    if against:
        try:
            kept = audit.parse_heads(Path(against).read_text(encoding="utf-8", errors="replace"))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--against") from None
        if not kept:
            raise click.BadParameter(f"no '{audit.HEAD_PREFIX}' line in {against}", param_hint="--against")
    with unit_of_work(eng.db, write=False) as s:
        finals = {(x.definition.key, x.definition.version): x.definition.final_states for x in eng.registry.versions(s)}
        res = audit.verify(s, keyring=eng.keyring, against=kept, final_states=finals, deep=deep)
    if res.ok:
        click.echo(
            obj.t(
                f"Jejak audit utuh: {res.events} peristiwa dalam {res.chains} rantai, {res.cases} perkara, "
                f"{res.checkpoints} segel bertanda tangan, {res.kept_heads} kepala simpanan diperiksa.",
                f"Audit trail intact: {res.events} events in {res.chains} chains, {res.cases} cases, "
                f"{res.checkpoints} signed checkpoints, {res.kept_heads} kept heads checked.",
            )
        )
        sys.exit(0)
    for p in res.problems:
        problem = _say(p.message)
        click.echo(obj.t(f"JEJAK AUDIT RUSAK: {problem}", f"AUDIT TRAIL BROKEN: {problem}"), err=True)
    sys.exit(1)


@cli.command("audit-checkpoint")
@click.pass_obj
def audit_checkpoint(obj: Ctx) -> None:
    """Seal the chain heads that moved, signed with the office key (the scheduler does it every
    WBS_CHECKPOINT_MINUTES minutes)."""
    from . import audit
    from .db import unit_of_work

    eng = obj.engine()
    with unit_of_work(eng.db) as s:
        cp = audit.checkpoint(s, eng.now(), eng.keyring)
    click.echo(
        obj.t("Tidak ada perubahan sejak segel terakhir.", "Nothing changed since the last checkpoint.")
        if cp is None
        else obj.t(f"Segel #{cp.seq}: {len(cp.heads)} rantai.", f"Checkpoint #{cp.seq}: {len(cp.heads)} chains.")
    )


@cli.command("audit-head")
@click.option("--seal", is_flag=True, help="Make a checkpoint first if anything moved since the last one.")
@click.pass_obj
def audit_head(obj: Ctx, seal: bool) -> None:
    """Print the latest signed audit head as one line, to keep outside the server (append it to a file that
    `wbs verify-audit --against FILE` reads later)."""
    from . import audit
    from .db import unit_of_work

    eng = obj.engine()
    with unit_of_work(eng.db, write=seal) as s:
        if seal:
            audit.checkpoint(s, eng.now(), eng.keyring)
        cp = audit.latest_checkpoint(s)
    if cp is None:
        raise WbsError(
            "Belum ada segel audit; jalankan: wbs audit-checkpoint (atau audit-head --seal)",
            "No audit checkpoint yet; run: wbs audit-checkpoint (or audit-head --seal)",
        )
    click.echo(audit.head_line(cp, eng.keyring.public_b64))


@cli.command("audit-key")
@click.option("--pem", is_flag=True, help="Print the public key in PEM form instead of one line.")
@click.pass_obj
def audit_key(obj: Ctx, pem: bool) -> None:
    """Print the office's public signing key (it verifies checkpoints and proofs; it is not secret)."""
    eng = obj.engine()
    if pem:
        click.echo(eng.keyring.public_pem(), nl=False)
    else:
        click.echo(f"wbs-audit-key/1 id={eng.keyring.key_id} key={eng.keyring.public_b64}")


# -- calendar ---------------------------------------------------------------------------------------


@cli.group()
def workdays() -> None:
    """Working-day arithmetic (national holidays, cuti bersama, office holidays; years 1950–2100)."""


@workdays.command("add")
@click.argument("start")
@click.argument("n", type=click.IntRange(min=0))
@click.pass_obj
def workdays_add(obj: Ctx, start: str, n: int) -> None:
    """Print the date N working days after START (ISO date)."""
    cal = _calendar(obj)
    click.echo(cal.add_working_days(_parse_date(start, "START"), n).isoformat())


@workdays.command("between")
@click.argument("a")
@click.argument("b")
@click.pass_obj
def workdays_between(obj: Ctx, a: str, b: str) -> None:
    """Print the number of working days after A up to and including B."""
    cal = _calendar(obj)
    click.echo(str(cal.working_days_between(_parse_date(a, "A"), _parse_date(b, "B"))))


@workdays.command("is")
@click.argument("day")
@click.pass_obj
def workdays_is(obj: Ctx, day: str) -> None:
    """Say whether DAY is a working day (exit 0) or not (exit 1), and why."""
    cal = _calendar(obj)
    d = _parse_date(day, "DAY")
    if cal.is_working_day(d):
        click.echo(obj.t(f"{d}: hari kerja", f"{d}: working day"))
        sys.exit(0)
    name = _say(cal.holiday_name(d) or obj.t("akhir pekan", "weekend"))
    click.echo(obj.t(f"{d}: libur ({name})", f"{d}: day off ({name})"))
    sys.exit(1)


def _calendar(obj: Ctx):  # -> WorkingCalendar
    """The office calendar: from the database when it is set up, else national days only."""
    from .calendar import WorkingCalendar
    from .db import unit_of_work

    try:
        eng = obj.engine()
    except (WbsError, CryptoError):
        s = obj.settings
        return WorkingCalendar(include_cuti_bersama=s.include_cuti_bersama, office_close=s.office_close, zone=s.zone)
    with unit_of_work(eng.db, write=False) as session:
        return eng.calendar(session)


@cli.group()
def holidays() -> None:
    """Office-specific days off (added) or national days made working days (removed)."""


@holidays.command("add")
@click.argument("day")
@click.option("--name", required=True, help="What the day is, e.g. 'Hari jadi kantor'.")
@click.pass_obj
def holidays_add(obj: Ctx, day: str, name: str) -> None:
    """Make DAY a day off for this office."""
    from .users import set_holiday

    d = _parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "closed", name)
    click.echo(obj.t(f"{d} kini hari libur: {_say(name)}", f"{d} is now a day off: {_say(name)}"))


@holidays.command("remove")
@click.argument("day")
@click.option("--name", default="Hari kerja (ditetapkan admin)", help="Why it is a working day.")
@click.pass_obj
def holidays_remove(obj: Ctx, day: str, name: str) -> None:
    """Make DAY a working day (undo an office day off, or work on a national holiday / cuti bersama)."""
    from .users import set_holiday

    d = _parse_date(day, "DAY")
    set_holiday(obj.engine(), d, "open", name)
    click.echo(obj.t(f"{d} kini hari kerja", f"{d} is now a working day"))


@holidays.command("list")
@click.option("--year", type=int, default=None, help="Year (default: this year).")
@click.pass_obj
def holidays_list(obj: Ctx, year: int | None) -> None:
    """List the weekday holidays of a year as this office counts them."""
    cal = _calendar(obj)
    year = year or datetime.now(obj.settings.zone).year
    for d, name in cal.holidays_in_year(year):
        click.echo(f"{d.isoformat()}  {d.strftime('%a')}  {_say(name)}")


# -- demo and serving -------------------------------------------------------------------------------


@cli.command("seed-demo")
@click.option(
    "--now", "now_text", help="Seed as if it were this ISO time (default: now; without an offset: office time)."
)
@click.option("--more-cases", is_flag=True, help="Add another set of demo cases even if cases exist.")
@click.pass_obj
def seed_demo(obj: Ctx, now_text: str | None, more_cases: bool) -> None:
    """Create demo units, one account per role, and cases of every type at every stage (back-dated).

    Accounts get new passwords on every run; cases are added only to an empty database."""
    from .demo import seed

    eng = obj.engine()
    report = seed(eng, now=_parse_now(now_text, eng.settings.zone) or eng.now(), cases=True if more_cases else None)
    click.echo(report)


def _register_scheduler_commands() -> None:
    """``sweep``, ``deliver``, ``digest`` and ``scheduler`` live in cli_scheduler.py to keep this file small."""
    from .cli_scheduler import register

    register(cli)


_register_scheduler_commands()


def _lang_from_argv(args: list[str]) -> str:
    """The --lang given before the command (for messages printed after click has given up)."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return "en" if args[i + 1] == "en" else "id"
        if arg.startswith("--lang="):
            return "en" if arg == "--lang=en" else "id"
        if not arg.startswith("-"):
            break  # the command name: options after it belong to the command
    return "id"


def _not_utf8(args: list[str]) -> WbsError | None:
    """The first argument that is not valid UTF-8, as an error naming it (by position and, escaped, its text).

    Python hands bytes that are not UTF-8 over as lone surrogates; they would fail much later, wherever the
    text is encoded (the database driver, the terminal), with a traceback instead of a message."""
    for i, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return WbsError(
                f"argumen ke-{i} bukan teks UTF-8 yang valid: '{shown}'",
                f"argument {i} is not valid UTF-8 text: '{shown}'",
            )
    return None


def _fail(lang: str, id_prefix: str, en_prefix: str, text: str) -> None:
    """One line on stderr (control characters visible, newlines as ␊) and exit code 2."""
    click.echo((en_prefix if lang == "en" else id_prefix) + textsafe.line(text), err=True)
    sys.exit(2)


def main(args: list[str] | None = None) -> None:
    """Entry point: turn every user error into one line and exit code 2.

    ``args`` defaults to ``sys.argv[1:]``, where the shell puts them."""
    args = sys.argv[1:] if args is None else list(args)
    lang = _lang_from_argv(args)
    try:
        bad_arg = _not_utf8(args)
        if bad_arg is not None:
            raise bad_arg
        cli.main(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Dibatalkan." if lang == "id" else "Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        hint = f" ({exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
        _fail(lang, "Error: ", "Error: ", exc.format_message() + hint)
    except DefinitionError as exc:
        for issue in exc.issues:
            click.echo(textsafe.line(str(issue)), err=True)
        sys.exit(2)
    except WbsError as exc:
        _fail(lang, "Galat: ", "Error: ", exc.message(lang))
    except ConfigError as exc:
        _fail(lang, "Galat pengaturan: ", "Setting error: ", exc.message(lang))
    except CryptoError as exc:
        _fail(lang, "Error: ", "Error: ", str(exc))
    except OperationalError as exc:  # the database cannot be reached or opened: say so in one line
        reason = str(exc.orig or exc).strip().splitlines()[0]
        _fail(lang, "Galat: basis data tidak dapat dipakai — ", "Error: the database is not usable — ", reason)
    except OSError as exc:  # a file or directory the settings point at cannot be used
        what = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        _fail(lang, "Galat: berkas tidak dapat dipakai — ", "Error: a file is not usable — ", what)


if __name__ == "__main__":
    main()
