"""What every ``wbs`` command shares: the command group, its context (settings, the engine), argument
parsers, safe printing, and ``main()``, which turns every user error into one line and exit code 2.

Imports here and in the command modules are the light ones: a command imports the database, the crypto,
the workflow schema and the engine when it runs (``wbs --help`` and ``wbs lint`` never load SQLAlchemy;
docs/decisions.md, "Loading workflows"). benchmarks/bench_startup.py measures it.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import textsafe
from ..errors import WbsError
from ..i18n import DEFAULT_LOCALE, Msg, lang_of, render
from ..i18n import gettext_noop as _

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine as DbEngine

    from ..config import Settings


class Ctx:
    def __init__(self, lang: str):
        self.lang = lang
        self._engine = None
        self._db: DbEngine | None = None
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from ..config import Settings

            self._settings = Settings.from_env()
        return self._settings

    def engine(self):  # -> WbsEngine
        if self._engine is None:
            from ..engine import WbsEngine

            prepare_dirs(self.settings)
            engine = WbsEngine(self.settings)
            require_migrated(engine.db)
            engine.check_keys()  # a keyring that is not this database's: refused before anything is written
            self._engine = engine
        return self._engine

    def database(self) -> DbEngine:
        """The database alone, opened and checked as :meth:`engine` does it (directories, the keyring, the
        schema's revision, the keyring belongs to the database: the same steps in the same order, so the
        same errors), for the commands that use no case service: the working-day commands start without
        importing the engine's services and workflows (docs/decisions.md, "Loading workflows")."""
        if self._engine is not None:
            return self._engine.db
        if self._db is None:
            from .. import keystore
            from ..crypto import Keyring
            from ..db import open_database, unit_of_work

            prepare_dirs(self.settings)
            keyring = Keyring.load(self.settings.keyring_path)
            db = open_database(self.settings)
            require_migrated(db)
            with unit_of_work(db, write=False) as session:
                keystore.check(session, keyring)
            self._db = db
        return self._db

    def t(self, msgid: str, /, **params: Any) -> str:
        """``msgid`` (English, marked with ``_``) in the language of ``--lang``, its placeholders filled
        (a parameter that is itself a :class:`~wbs_engine.i18n.Msg` is rendered in that language too)."""
        return Msg(msgid, **params).render(self.lang)

    def plural(self, pair: tuple[str, str], n: int, /, **params: Any) -> str:
        """The singular or plural of ``pair`` (marked with ``N_``) for ``n`` (its placeholder ``{n}``)."""
        return Msg.count(pair, n, **params).render(self.lang)


def current_lang() -> str:
    """The ``--lang`` of the command running now, for a message made where no :class:`Ctx` is at hand (an
    argument parser raising ``click.BadParameter``); Bahasa Indonesia outside a command."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Ctx) if ctx is not None else None
    return obj.lang if obj is not None else DEFAULT_LOCALE


def text_in(value: object, lang: str) -> str:
    """``value`` as text in ``lang``: a catalogue message (:class:`~wbs_engine.i18n.Msg`) or an error with
    ``message(lang)`` is rendered in it; anything else is ``str(value)``."""
    if isinstance(value, Msg):
        return value.render(lang)
    message = getattr(value, "message", None)
    if callable(message):
        return str(message(lang))
    return str(value)


def prepare_dirs(settings: Settings) -> None:
    """Create the directories the engine writes to: the SQLite file's directory and the directory of the
    keyring (``instance/keyring.json`` or WBS_KEYRING).

    Done here, before anything else, so that a directory that cannot be made (``/proc/x``, a path under a
    regular file) is one :class:`ConfigError` naming the path and the setting that chose it."""
    from sqlalchemy.engine import make_url

    from ..config import ConfigError

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
                _("cannot create the directory {path} ({reason}); check {setting}"),
                path=path,
                reason=reason,
                setting=setting,
            ) from None


def require_migrated(db: DbEngine) -> None:
    """See :func:`wbs_engine.migrate.require_migrated` (the web app makes the same check)."""
    from ..migrate import require_migrated as check

    check(db)


def parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs:
        if "=" not in p:
            raise click.BadParameter(
                render(_("'{value}' must look like name=value"), current_lang(), value=p), param_hint="--field"
            )
        k, v = p.split("=", 1)
        out[k.strip()] = v
    return out


def parse_now(value: str | None, zone: tzinfo) -> datetime | None:
    """An ISO time given with ``--now``; without an offset it is wall-clock time in the office's ``zone``
    (an officer typing 2026-03-13T09:00 means nine in the morning at the office, not in UTC)."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            render(_("'{value}' is not an ISO time such as 2026-03-13T09:00+07:00"), current_lang(), value=value),
            param_hint="--now",
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=zone)


def parse_date(value: str, hint: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            render(_("'{value}' is not a date such as 2026-03-13"), current_lang(), value=value), param_hint=hint
        ) from None


def emit(obj: Any) -> None:
    """Print JSON; characters that could act on a terminal are ``\\u`` escapes (the same JSON value)."""
    import json

    click.echo(textsafe.json_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str)))


def say(text: object) -> str:
    """People's text for one line of output, with control characters made visible."""
    return textsafe.line(text)


#: where the root group keeps the ``--lang`` it was given (``Context.meta`` is shared by every context of a run)
LANG_META = "wbs.lang"


def help_lang(ctx: click.Context | None) -> str:
    """The language of a ``--help`` text: the root context's :class:`Ctx` when the group's callback ran (``wbs
    --lang en case --help``), else the ``--lang`` the root group was given (``wbs --lang en --help``: click
    handles ``--help`` before the callback), else the ``--lang`` of ``sys.argv``."""
    if ctx is not None:
        obj = ctx.find_object(Ctx)
        if obj is not None:
            return obj.lang
        lang = ctx.meta.get(LANG_META)
        if lang is not None:
            return lang
    return lang_from_argv(sys.argv[1:])


class Localized(click.Command):
    """A command whose help texts (``help``, ``short_help``, each parameter's ``help``) are catalogue msgids
    (marked with ``_``), rendered in the ``--lang`` language when the help is formatted (:func:`help_lang`).
    click's own words ("Usage:", "Options:", "Show this message and exit.") stay English."""

    def in_lang(self, lang: str) -> Localized:
        """A shallow copy of this command with its texts in ``lang`` (the command itself is not changed)."""
        import copy

        twin = copy.copy(self)
        twin.help = render(self.help, lang) if self.help else self.help
        twin.short_help = render(self.short_help, lang) if self.short_help else self.short_help
        twin.params = []
        for param in self.params:
            help_text = getattr(param, "help", None)
            if help_text:
                param = copy.copy(param)
                param.help = render(help_text, lang)  # type: ignore[attr-defined]
            twin.params.append(param)
        return twin

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super(Localized, self.in_lang(help_lang(ctx))).format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        twin = self.in_lang(help_lang(click.get_current_context(silent=True)))
        return super(Localized, twin).get_short_help_str(limit)


class LocalizedCommand(Localized):
    """Every ``wbs`` command (the group's ``command_class``)."""


class LocalizedGroup(Localized, click.Group):
    """The ``wbs`` group and its sub-groups (``group_class = type``: a sub-group is one too, so its commands
    are :class:`LocalizedCommand`). The root group notes the ``--lang`` of its arguments for :func:`help_lang`."""

    command_class = LocalizedCommand
    group_class = type

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            ctx.meta[LANG_META] = lang_from_argv(args)
        return super().parse_args(ctx, args)


@click.group(
    cls=LocalizedGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=_(
        "wbs-engine: case workflows for pengaduan, gratifikasi, WBS and benturan kepentingan."
        "\n\nSettings come from the environment: WBS_DATABASE_URL (default: SQLite in instance/), "
        "WBS_INSTANCE_DIR, WBS_WORKFLOWS_DIR, WBS_KEYRING (default: instance/keyring.json, made by init-db), "
        "WBS_CHECKPOINT_MINUTES (10), WBS_TIMEZONE (the office's zone: WIB, WITA or WIT; default WIB), "
        "WBS_OFFICE_CLOSE (16:00, local time), WBS_INCLUDE_CUTI_BERSAMA (1), WBS_SMTP_URL, WBS_MAIL_FROM, "
        "WBS_BASE_URL, WBS_OFFICE_NAME, WBS_SCHEDULER, WBS_SQLITE_SYNCHRONOUS, WBS_ALLOW_CLOCK_OVERRIDE "
        "(tests and drills only)."
    ),
)
@click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    default="id",
    show_default=True,
    help=_("Language of messages (Bahasa Indonesia or English)."),
)
@click.version_option(package_name="wbs-engine")
@click.pass_context
def cli(ctx: click.Context, lang: str) -> None:
    ctx.obj = Ctx(lang)


def lang_from_argv(args: list[str]) -> str:
    """The --lang given before the command (for messages printed after click has given up)."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return lang_of(args[i + 1])
        if arg.startswith("--lang="):
            return lang_of(arg.removeprefix("--lang="))
        if not arg.startswith("-"):
            break  # the command name: options after it belong to the command
    return DEFAULT_LOCALE


def not_utf8(args: list[str]) -> WbsError | None:
    """The first argument that is not valid UTF-8, as an error naming it (by position and, escaped, its text).

    Python hands bytes that are not UTF-8 over as lone surrogates; they would fail much later, wherever the
    text is encoded (the database driver, the terminal), with a traceback instead of a message."""
    for i, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return WbsError(_("argument {position} is not valid UTF-8 text: '{text}'"), position=i, text=shown)
    return None


def fail(lang: str, msgid: str, /, **params: Any) -> None:
    """One line on stderr, the catalogue message ``msgid`` in ``lang`` (control characters visible, newlines
    as ␊), and exit code 2."""
    click.echo(textsafe.line(render(msgid, lang, **params)), err=True)
    sys.exit(2)


def main(args: list[str] | None = None) -> None:
    """Entry point: turn every user error into one line and exit code 2.

    ``args`` defaults to ``sys.argv[1:]``, where the shell puts them."""
    args = sys.argv[1:] if args is None else list(args)
    lang = lang_from_argv(args)
    try:
        bad_arg = not_utf8(args)
        if bad_arg is not None:
            raise bad_arg
        cli.main(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo(render(_("Aborted."), lang), err=True)
        sys.exit(1)
    except click.ClickException as exc:
        # click's own messages are English; ours (BadParameter from the parsers above) are in --lang
        if getattr(exc, "ctx", None):
            fail(
                lang,
                _("Error: {message} ({command} --help)"),
                message=exc.format_message(),
                command=exc.ctx.command_path,
            )
        fail(lang, _("Error: {message}"), message=exc.format_message())
    except Exception as exc:
        handle_user_error(exc, lang)
        raise


def loaded_class(module: str, name: str) -> type | None:
    """The class ``name`` of ``module`` if that module is imported, else None.

    An exception of a module never imported cannot have been raised, so :func:`main` recognises the errors
    of SQLAlchemy, the crypto and the workflow schema without importing them at start."""
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def raised(exc: BaseException, module: str, name: str) -> bool:
    cls = loaded_class(module, name)
    return cls is not None and isinstance(exc, cls)


def handle_user_error(exc: Exception, lang: str) -> None:
    """One line (the linter's lines for a bad workflow) and exit code 2 for an error a user can fix;
    returns for anything else (a bug: the traceback is wanted)."""
    if raised(exc, "wbs_engine.definition", "DefinitionError"):
        for issue in exc.issues:  # type: ignore[attr-defined]
            click.echo(textsafe.line(text_in(issue, lang)), err=True)
        sys.exit(2)
    if isinstance(exc, WbsError):
        fail(lang, _("Error: {message}"), message=exc.message(lang))
    if raised(exc, "wbs_engine.config", "ConfigError"):
        fail(lang, _("Setting error: {message}"), message=exc.message(lang))  # type: ignore[attr-defined]
    if raised(exc, "wbs_engine.crypto", "CryptoError"):
        fail(lang, _("Error: {message}"), message=text_in(exc, lang))
    if raised(exc, "sqlalchemy.exc", "OperationalError") or raised(exc, "sqlalchemy.exc", "DatabaseError"):
        # the database cannot be reached or opened, or the file is not a database
        orig = exc.orig  # type: ignore[attr-defined]
        reason = str(orig or exc).strip().splitlines()[0]
        fail(lang, _("Error: the database is not usable — {reason}"), reason=reason)
    if isinstance(exc, MemoryError | RecursionError):  # e.g. a setting that points at /dev/zero
        fail(lang, _("Error: input too large or too deep — {reason}"), reason=type(exc).__name__)
    if isinstance(exc, OSError):  # a file or directory the settings point at cannot be used
        reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        fail(lang, _("Error: a file is not usable — {reason}"), reason=reason)
