"""Settings, read once from the environment at the edge (CLI, web factory) and passed down.

Nothing deeper in the engine reads ``os.environ``. Every setting is checked here, so a bad value is one
:class:`ConfigError` naming the variable and what it accepts, before anything is opened or written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from . import textsafe
from .i18n import Msg
from .i18n import gettext_noop as _

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The office time zones of Indonesia: the abbreviation people use and its IANA name.
OFFICE_ZONES: dict[str, str] = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
#: IANA name -> abbreviation, for text people read ("07:00 WITA").
ZONE_ABBREVIATIONS: dict[str, str] = {iana: abbr for abbr, iana in OFFICE_ZONES.items()}

#: The database URLs the engine can open (``make_engine``): SQLite files and PostgreSQL through psycopg 3.
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")
DATABASE_URL_FORMS = "sqlite:///PATH, postgresql+psycopg://USER@HOST/DB, postgresql://USER@HOST/DB"


class ConfigError(Exception):
    """A setting has a value the program cannot use; the message names the setting and what it accepts.

    Like :class:`~wbs_engine.errors.WbsError` it carries a catalogue message and its parameters
    (:meth:`message` renders it), but it is not one: code that handles a user's mistake in a request must
    not swallow a broken installation.
    """

    def __init__(self, msgid: str, /, **params: Any):
        self.msg = Msg(msgid, **params)
        self.params = params
        super().__init__(self.msg.msgid)

    def __str__(self) -> str:
        return self.message()

    def message(self, lang: str = "id") -> str:
        """The message in ``lang`` (``id`` or ``en``; anything else is ``id``)."""
        return self.msg.render(lang)


def _parse_time(value: str, name: str) -> time:
    try:
        hh, mm = value.strip().split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise ConfigError(_("{name} must look like 16:00, not {value!r}"), name=name, value=value) from exc


def parse_timezone(value: str, name: str = "WBS_TIMEZONE") -> str:
    """The IANA name for ``value``: WIB, WITA or WIT (any case), or one of their IANA names.

    Only Indonesia's three zones are accepted: the calendar counts Indonesian national holidays, and a
    typo such as ``Asia/Jakata`` must not silently fall back to some other zone."""
    text = value.strip()
    if text.upper() in OFFICE_ZONES:
        return OFFICE_ZONES[text.upper()]
    for iana in OFFICE_ZONES.values():
        if text.lower() == iana.lower():
            return iana
    allowed = ", ".join([*OFFICE_ZONES, *OFFICE_ZONES.values()])
    raise ConfigError(_("{name} must be one of: {allowed}; not {value!r}"), name=name, allowed=allowed, value=value)


def check_database_url(url: str, name: str = "WBS_DATABASE_URL") -> str:
    """``url`` if the engine can open it, else a :class:`ConfigError` naming the accepted forms.

    The message never repeats a malformed URL (it may carry a password); it names only the scheme."""
    if not url:
        return url
    from sqlalchemy.engine import make_url  # here, not above: without a URL (the default) no SQLAlchemy

    try:
        parsed = make_url(url)
    except Exception:  # ArgumentError for no scheme, ValueError for a bad port, ...
        raise ConfigError(
            _("{name} is not a database URL that can be read; use {forms}"), name=name, forms=DATABASE_URL_FORMS
        ) from None
    if parsed.drivername not in DATABASE_DRIVERS:
        raise ConfigError(
            _("{name}: scheme '{scheme}' is not supported; use {forms}"),
            name=name,
            scheme=parsed.drivername,
            forms=DATABASE_URL_FORMS,
        )
    if parsed.drivername.startswith("sqlite") and not parsed.database:
        raise ConfigError(_("{name}: a SQLite URL needs a file path; use {forms}"), name=name, forms=DATABASE_URL_FORMS)
    return url


def _check_smtp_url(url: str) -> str:
    if not url:
        return url
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("smtp", "smtps") and bool(parts.hostname)
        _port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(_("WBS_SMTP_URL must look like smtp://HOST:25 or smtps://USER:PASSWORD@HOST:465"))
    return url


def _check_base_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _port = parts.port
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            _("WBS_BASE_URL must look like http(s)://HOST[:PORT], e.g. https://wbs.kantor.go.id; not {value!r}"),
            value=url,
        )
    return url.rstrip("/")


def _check_mail_from(value: str) -> str:
    address = value.rsplit("<", 1)[-1].rstrip(">").strip()
    if "@" not in address or any(c in value for c in "\r\n") or " " in address:
        raise ConfigError(
            _("WBS_MAIL_FROM must be an e-mail address, e.g. wbs@kantor.go.id; not {value!r}"), value=value
        )
    return value


#: the longest office name (``WBS_OFFICE_NAME``) a heading holds
MAX_OFFICE_NAME = 200


def _check_office_name(value: str) -> str:
    """One line of at most :data:`MAX_OFFICE_NAME` characters without control or invisible format characters
    (a bidi override in a heading would make it read differently from what it is)."""
    import unicodedata

    text = value.strip()
    if len(text) > MAX_OFFICE_NAME or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise ConfigError(
            _("WBS_OFFICE_NAME must be one line of at most {max} characters without control characters"),
            max=MAX_OFFICE_NAME,
        )
    return text


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value, or ``default`` when it is unset or empty; refuses bytes that are not UTF-8.

    Python hands such bytes over as lone surrogates, which fail later wherever the text is encoded (the
    database driver, a terminal, a log), far from the setting that caused it."""
    value = env.get(name, "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(_("{name} is not valid UTF-8 text"), name=name) from None
    return value if value.strip() else default


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _text(env, name, default).strip()
    for a in allowed:
        if value.lower() == a.lower():
            return a
    raise ConfigError(
        _("{name} must be one of: {allowed}; not {value!r}"), name=name, allowed=", ".join(allowed), value=value
    )


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str) -> int:
    """A whole number from ``low`` to ``high``; ``unit`` (a message, marked with ``_``) says what it counts."""
    value = _text(env, name, str(default)).strip()
    if not textsafe.digits(value) or not low <= int(value) <= high:
        raise ConfigError(
            _("{name} must be a whole number from {low} to {high} ({unit}); not {value!r}"),
            name=name,
            low=low,
            high=high,
            unit=Msg(unit),
            value=value,
        )
    return int(value)


def _check_attachments_dir(value: str) -> Path | None:
    """Attached files must not lie where the web app serves files from (its package holds the static
    folder): they are encrypted, but a web root is no place for them."""
    if not value:
        return None
    path = Path(value)
    webapp = PROJECT_ROOT / "webapp"
    if path.resolve().is_relative_to(webapp.resolve()):
        raise ConfigError(
            _(
                "WBS_ATTACHMENTS_DIR must not lie inside {folder} (the web app's folder); choose one outside it, "
                "e.g. instance/attachments"
            ),
            folder=webapp,
        )
    return path


#: the rate limits' names: the setting WBS_RATE_LIMIT_<NAME> sets each (README "Abuse limits")
RATE_LIMIT_NAMES = ("filing", "tracking", "verify", "sign_in", "api")
#: the storage schemes of the rate limiter (the ``limits`` package); only ``memory://`` needs no other server
RATE_LIMIT_STORAGES = ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster", "memcached", "mongodb",
                       "mongodb+srv", "valkey", "valkeys")
_RATE_UNITS = {"second": "second", "minute": "minute", "hour": "hour", "day": "day"}


@dataclass(frozen=True)
class RateLimits:
    """How many requests one client may make in a window, per kind of request (``"N per M unit"``; empty:
    no limit), and where the counts are kept. The address of a client is counted only as a keyed hash."""

    #: POSTs of the public filing forms, per address
    filing: str = "20 per 1 hour"
    #: tracking-code look-ups (POST /lacak/), right or wrong codes, per address
    tracking: str = "60 per 10 minute"
    #: proof checks (/verifikasi: an upload or a QR link), per address
    verify: str = "60 per 10 minute"
    #: staff sign-in POSTs (password and second factor), per address
    sign_in: str = "60 per 15 minute"
    #: JSON API requests, per token (per address without one)
    api: str = "600 per 1 minute"
    #: where the counts live; ``memory://`` is one process only (each gunicorn worker counts on its own)
    storage: str = "memory://"


def parse_rate_limit(value: str, name: str) -> str:
    """``"N per M unit"`` (canonical) from ``N/unit``, ``N per unit``, ``N per M units``; ``""`` for ``off``."""
    import re

    text = value.strip().lower()
    if text in ("off", "0", "none"):
        return ""
    m = re.fullmatch(r"(\d{1,7})\s*(?:/|per)\s*(\d{1,5})?\s*(second|minute|hour|day)s?", text)
    if not m or int(m.group(1)) < 1 or (m.group(2) is not None and int(m.group(2)) < 1):
        raise ConfigError(
            _("{name} must look like 10/minute, 20 per hour or 60 per 10 minutes, or be off; not {value!r}"),
            name=name,
            value=value,
        )
    return f"{int(m.group(1))} per {int(m.group(2) or 1)} {_RATE_UNITS[m.group(3)]}"


def _check_rate_storage(value: str) -> str:
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in RATE_LIMIT_STORAGES:
        raise ConfigError(
            _("WBS_RATE_LIMIT_STORAGE must be memory:// (one process) or a storage URL such as redis://HOST:6379"),
        )
    return value


def rate_limits_from_env(env: Mapping[str, str]) -> RateLimits:
    default = RateLimits()
    got = {}
    for limit in RATE_LIMIT_NAMES:
        var = f"WBS_RATE_LIMIT_{limit.upper()}"
        got[limit] = parse_rate_limit(_text(env, var, getattr(default, limit)), var)
    return RateLimits(storage=_check_rate_storage(_text(env, "WBS_RATE_LIMIT_STORAGE", "memory://").strip()), **got)


@dataclass(frozen=True)
class Settings:
    instance_dir: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    #: the keyring file (encryption, receipt and signing keys); None: ``instance/keyring.json``
    keyring_file: Path | None = None
    office_close: time = time(16, 0)
    include_cuti_bersama: bool = True
    #: The office's time zone (IANA name; WBS_TIMEZONE accepts WIB/WITA/WIT too): working days, office
    #: hours, "today", a case number's year and the scheduler's daily jobs are all in this zone.
    timezone: str = "Asia/Jakarta"
    smtp_url: str = ""
    mail_from: str = "wbs-engine@localhost"
    base_url: str = "http://127.0.0.1:5000"
    #: the office's name as people read it (the proof of filing's heading); empty: not shown
    office_name: str = ""
    scheduler: str = "off"  # off | embedded
    #: SQLite durability: FULL syncs every commit to disk (a case with a receipt code survives a power cut);
    #: NORMAL survives a killed process but may lose the last commits on power loss.
    sqlite_synchronous: str = "FULL"
    #: where attached files are kept (sealed, under random names); None: ``instance/attachments``. Never
    #: inside the web app's folders (a web root must not be able to serve them, even encrypted)
    attachments_dir: Path | None = None
    #: the largest attached file, in MiB, and files per case, unless a workflow's ``attachments`` says
    max_attachment_mb: int = 10
    max_attachments: int = 10
    #: minutes between signed audit checkpoints made by the scheduler
    checkpoint_minutes: int = 10
    #: abuse limits of the web (requests per client and window) and where they are counted
    rate_limits: RateLimits = field(default_factory=RateLimits)
    extra: dict = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'wbs.sqlite3'}"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.instance_dir / "keyring.json"

    @property
    def attachments_path(self) -> Path:
        return self.attachments_dir or self.instance_dir / "attachments"

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone as a ``tzinfo``."""
        return ZoneInfo(self.timezone)

    @property
    def zone_label(self) -> str:
        """How people name the zone: ``WIB``, ``WITA``, ``WIT`` (else the IANA name)."""
        return ZONE_ABBREVIATIONS.get(self.timezone, self.timezone)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every ``WBS_*`` setting; an empty variable means its default.

        Raises :class:`ConfigError` for the first value that cannot be used. Nothing is opened or created
        here: whether a directory can be written is found out where it is first needed."""
        env = os.environ if env is None else env
        instance = Path(_text(env, "WBS_INSTANCE_DIR", str(PROJECT_ROOT / "instance")))
        cuti = _choice(env, "WBS_INCLUDE_CUTI_BERSAMA", "1", ("1", "0", "true", "false", "yes", "no"))
        attachments = _text(env, "WBS_ATTACHMENTS_DIR", "")
        if _text(env, "WBS_ENCRYPTION_KEY", "").strip():
            raise ConfigError(
                _(
                    "WBS_ENCRYPTION_KEY is no longer read: all keys live in one keyring file made by `wbs init-db`; "
                    "point WBS_KEYRING at it (default: instance/keyring.json) and unset WBS_ENCRYPTION_KEY"
                )
            )
        minutes = _text(env, "WBS_CHECKPOINT_MINUTES", "10").strip()
        if not textsafe.digits(minutes) or not 1 <= int(minutes) <= 1440:
            raise ConfigError(_("WBS_CHECKPOINT_MINUTES must be a whole number of minutes from 1 to 1440"))
        keyring = _text(env, "WBS_KEYRING", "")
        max_mb = _whole(env, "WBS_MAX_ATTACHMENT_MB", 10, 1, 100, _("MiB"))
        max_files = _whole(env, "WBS_MAX_ATTACHMENTS", 10, 0, 100, _("files per case"))
        return cls(
            sqlite_synchronous=_choice(env, "WBS_SQLITE_SYNCHRONOUS", "FULL", ("FULL", "NORMAL")),
            instance_dir=instance,
            database_url=check_database_url(_text(env, "WBS_DATABASE_URL", "").strip()),
            workflows_dir=Path(_text(env, "WBS_WORKFLOWS_DIR", str(PROJECT_ROOT / "workflows"))),
            keyring_file=Path(keyring) if keyring else None,
            checkpoint_minutes=int(minutes),
            office_close=_parse_time(_text(env, "WBS_OFFICE_CLOSE", "16:00"), "WBS_OFFICE_CLOSE"),
            include_cuti_bersama=cuti in ("1", "true", "yes"),
            timezone=parse_timezone(_text(env, "WBS_TIMEZONE", "WIB")),
            smtp_url=_check_smtp_url(_text(env, "WBS_SMTP_URL", "").strip()),
            mail_from=_check_mail_from(_text(env, "WBS_MAIL_FROM", "wbs-engine@localhost").strip()),
            base_url=_check_base_url(_text(env, "WBS_BASE_URL", "http://127.0.0.1:5000").strip()),
            office_name=_check_office_name(_text(env, "WBS_OFFICE_NAME", "")),
            scheduler=_choice(env, "WBS_SCHEDULER", "off", ("off", "embedded")),
            attachments_dir=_check_attachments_dir(attachments),
            max_attachment_mb=max_mb,
            max_attachments=max_files,
            rate_limits=rate_limits_from_env(env),
        )
