"""Shared test fixtures: a throwaway PostgreSQL server and an SMTP sink.

``pg_server`` (session scope)
    Starts a private PostgreSQL server from the binaries under
    ``/usr/lib/postgresql/<version>/bin`` (highest version wins; override the
    directory with ``WBS_TEST_PG_BINDIR``).  Its data directory, unix socket
    and log live in one temporary directory that is removed at the end of the
    session.  When the binaries are missing the tests using it are skipped,
    except under ``CI=true`` where they fail, so a missing server can never
    pass CI silently.  Tests that use it should be marked
    ``@pytest.mark.postgres``.

``smtp_sink`` (function scope, one server per session)
    An ``aiosmtpd`` server on 127.0.0.1 that keeps every received message in
    memory; it is cleared before each test.

Databases for wbs-engine (each test its own, none migrated per test):

``db_url``
    Parametrised over a SQLite file and a PostgreSQL database.  Either is a
    copy of a database the Alembic migrations built once per session
    (``sqlite_template``: a file copy; ``pg_template``: ``CREATE DATABASE
    ... TEMPLATE``), holding the schema and no rows (no keyring fingerprints
    either: ``make_wbs`` registers each test's own keyring).  ``pg_url`` is
    the PostgreSQL one alone; ``empty_db_url`` an empty database, for the
    tests of the migrations themselves.

Under pytest-xdist every worker has its own PostgreSQL server, SMTP sink and
templates (session fixtures are per worker process).
"""

from __future__ import annotations

import email
import email.policy
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

PG_GLOB_ROOT = Path("/usr/lib/postgresql")
PG_SUPERUSER = "wbs"
PG_HOST = "127.0.0.1"
SMTP_HOST = "127.0.0.1"
_DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,), .../9.6/bin -> (9, 6)
    try:
        return tuple(int(p) for p in path.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_pg_bindir() -> Path | None:
    """Directory holding ``initdb`` and ``pg_ctl``, or None when there is none."""
    override = os.environ.get("WBS_TEST_PG_BINDIR")
    candidates = (
        [Path(override)]
        if override
        else sorted((p.parent for p in PG_GLOB_ROOT.glob("*/bin/initdb")), key=_version_key, reverse=True)
    )
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "pg_ctl")):
            return bindir
    return None


@dataclass
class PgServer:
    """A running throwaway PostgreSQL server (superuser ``wbs``, trust auth)."""

    bindir: Path
    datadir: Path
    port: int
    host: str = PG_HOST
    user: str = PG_SUPERUSER
    _created: list[str] = field(default_factory=list, repr=False)
    _counter: int = field(default=0, repr=False)

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``dbname`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for ``psycopg.connect`` on ``dbname``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a fresh database and return its SQLAlchemy URL.

        ``name`` must be a plain lower-case identifier; without one a unique
        name (``test_1``, ``test_2``, ...) is chosen.  Without ``template`` the
        database is empty; with one it is a copy of that database (``CREATE
        DATABASE ... TEMPLATE``: a file copy, much faster than running the
        migrations again; nobody may be connected to the template meanwhile).
        """
        import psycopg
        from psycopg import sql

        if name is None:
            self._counter += 1
            name = f"test_{self._counter}"
            while name in self._created:
                self._counter += 1
                name = f"test_{self._counter}"
        for n in (name, template):
            if n is not None and not _DB_NAME_RE.match(n):
                raise ValueError(f"database name {n!r} must match {_DB_NAME_RE.pattern}")
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            if template is not None:
                stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
                if conn.info.server_version >= 150000:  # copy the files, not the whole database through the WAL
                    stmt = sql.SQL("{} STRATEGY FILE_COPY").format(stmt)
            conn.execute(stmt)
        self._created.append(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if name in self._created:
            self._created.remove(name)


class _PgRunner:
    """Runs the PostgreSQL binaries as a non-root user.

    The server refuses to run as root, so when the tests run as root every
    binary is started as the ``postgres`` system user: subprocess's
    ``user=``/``group=``/``extra_groups=`` make the forked child call
    setgroups()/setgid()/setuid() before exec (the same as ``runuser -u
    postgres --``, without needing runuser).  Otherwise the binaries run as
    the current user.
    """

    def __init__(self) -> None:
        self.kwargs: dict = {}
        self.uid = self.gid = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root but there is no 'postgres' user to run the PostgreSQL server as "
                    "(PostgreSQL refuses to run as root)"
                ) from None
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            self.kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self.kwargs,
        )


def _describe(proc: subprocess.CompletedProcess) -> str:
    out = (proc.stdout or "") + (proc.stderr or "")
    return f"$ {shlex.join(proc.args)}\n(exit {proc.returncode})\n{out.strip()}"


def _log_tail(datadir: Path, lines: int = 30) -> str:
    try:
        return "\n".join((datadir / "log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _empty_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _pg_tempdir_parent(runner: _PgRunner) -> str | None:
    """Where to create the data directory: the usual temp dir, unless the ``postgres``
    user (when we are root) could not reach it, e.g. TMPDIR under a 0700 /root."""
    parent = Path(tempfile.gettempdir()).resolve()
    if runner.uid is None:
        return None
    for d in (parent, *parent.parents):
        st = d.stat()
        if not (st.st_mode & 0o001 or st.st_uid == runner.uid):
            return "/tmp"
    return None


def _start_pg(bindir: Path, runner: _PgRunner, datadir: Path) -> PgServer:
    initdb = [
        str(bindir / "initdb"),
        "-D",
        str(datadir),
        "-U",
        PG_SUPERUSER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]
    proc = runner.run([*initdb, "--locale=C.UTF-8"], cwd=datadir)
    if proc.returncode != 0:
        first = _describe(proc)
        _empty_dir(datadir)
        proc = runner.run([*initdb, "--no-locale"], cwd=datadir)
        if proc.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{first}\n\nretry with --no-locale:\n{_describe(proc)}")

    errors = []
    for _attempt in range(3):  # the free port may be taken between picking and binding it
        port = _free_port(PG_HOST)
        opts = (
            f"-p {port} -k {shlex.quote(str(datadir))} -c listen_addresses={PG_HOST} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            # no replicas: the least WAL, so the data directory stays small and quick to remove
            "-c wal_level=minimal -c max_wal_senders=0"
        )
        proc = runner.run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "-l",
                str(datadir / "log"),
                "start",
            ],
            cwd=datadir,
        )
        if proc.returncode == 0:
            return PgServer(bindir=bindir, datadir=datadir, port=port)
        errors.append(f"{_describe(proc)}\n--- server log ---\n{_log_tail(datadir)}")
        _stop_pg(bindir, runner, datadir)
    raise RuntimeError("pg_ctl start failed:\n" + "\n\n".join(errors))


def _stop_pg(bindir: Path, runner: _PgRunner, datadir: Path) -> None:
    if (datadir / "postmaster.pid").exists():
        runner.run(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"],
            cwd=datadir,
            timeout=60,
        )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_pg_bindir()
    if bindir is None:
        where = os.environ.get("WBS_TEST_PG_BINDIR") or f"{PG_GLOB_ROOT}/*/bin/"
        reason = (
            f"PostgreSQL server binaries not found (no initdb/pg_ctl under {where}); "
            "install the Debian package 'postgresql' (make test does this when run as root)"
        )
        if _in_ci():
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)

    runner = _PgRunner()
    datadir = Path(tempfile.mkdtemp(prefix="wbs-pg-", dir=_pg_tempdir_parent(runner)))
    server = None
    try:
        runner.chown(datadir)
        server = _start_pg(bindir, runner, datadir)
        yield server
    finally:
        try:
            _stop_pg(bindir, runner, datadir)
        finally:
            shutil.rmtree(datadir, ignore_errors=True)


# --------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message accepted by the SMTP sink.

    ``mail_from``/``rcpt_tos`` are the SMTP envelope, ``raw`` the DATA bytes as received
    (CRLF line endings), ``message`` the parsed :class:`email.message.EmailMessage`
    (``email.policy.default``: headers come back decoded, line endings are LF).
    """

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """The decoded text/plain body (or the first text part)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        # Parse with LF line endings so bodies compare equal to what the app passed to
        # set_content(); ``raw`` keeps the bytes exactly as they came over the wire.
        msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        self.sink._add(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, msg))
        return "250 Message accepted for delivery"


class SmtpSink:
    """In-memory SMTP server; ``messages`` is a list of :class:`ReceivedMail`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.messages: list[ReceivedMail] = []
        self._cond = threading.Condition()

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _add(self, mail: ReceivedMail) -> None:
        with self._cond:
            self.messages.append(mail)
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived; return (a copy of) all of them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = [f"{m.subject!r} to {m.rcpt_tos}" for m in self.messages]
                    raise AssertionError(
                        f"SMTP sink {self.url}: expected at least {count} message(s) within {timeout}s, "
                        f"got {len(self.messages)}: {got}"
                    )
                self._cond.wait(min(remaining, 0.05))
            return list(self.messages)


@pytest.fixture(scope="session")
def _smtp_sink_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    last_error: Exception | None = None
    for _attempt in range(3):
        sink = SmtpSink(SMTP_HOST, _free_port(SMTP_HOST))
        controller = Controller(
            _SinkHandler(sink), hostname=sink.host, port=sink.port, enable_SMTPUTF8=True, ready_timeout=10
        )
        try:
            controller.start()
        except Exception as exc:  # port taken meanwhile, retry on another one
            last_error = exc
            continue
        try:
            yield sink
        finally:
            controller.stop()
        return
    raise RuntimeError(f"could not start the aiosmtpd SMTP sink: {last_error!r}")


@pytest.fixture
def smtp_sink(_smtp_sink_server: SmtpSink) -> Iterator[SmtpSink]:
    _smtp_sink_server.clear()
    yield _smtp_sink_server
    _smtp_sink_server.clear()


# --------------------------------------------------------------------------
# passwords
# --------------------------------------------------------------------------

#: argon2id parameters for the accounts the tests create: the cheapest argon2 allows.  The product's
#: hasher (argon2's recommended parameters: time cost 3, 64 MiB) takes about 0.3 s per hash, and most
#: tests create nine accounts (``tests.helpers.seed_people``).  Only this process is affected: ``wbs``
#: processes a test starts hash with the product's parameters.  The product's parameters are tested on
#: their own (tests/unit/test_passwords.py, fixture ``production_password_hasher``).
TEST_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    from argon2 import PasswordHasher

    from wbs_engine import crypto

    previous = crypto.use_password_hasher(PasswordHasher(**TEST_ARGON2))
    try:
        yield
    finally:
        crypto.use_password_hasher(previous)


@pytest.fixture
def production_password_hasher():
    """The product's own password hasher (argon2's recommended parameters), put back for one test."""
    from argon2 import PasswordHasher

    from wbs_engine import crypto

    product = PasswordHasher()
    previous = crypto.use_password_hasher(product)
    try:
        yield product
    finally:
        crypto.use_password_hasher(previous)


# --------------------------------------------------------------------------
# workflow files: linted once per text
# --------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _lint_each_workflow_text_once() -> Iterator[None]:
    """Every engine (each ``make_wbs``, each in-process ``wbs`` command) builds a ``Registry``, which lints
    every workflow file: about 0.1 s per file with PyYAML's parser, most of the suite's time. Linting is a
    function of the text, its file name and the registered guards and effects, and what it returns (frozen
    pydantic models, and a list the registry only reads) is never changed; so within this process the
    registry's two calls are answered from a cache keyed by exactly those. A changed file is a new key and is
    linted again. The linter's own tests call ``wbs_engine.lint`` directly and are not affected."""
    from wbs_engine import hooks, lint, registry

    cache: dict = {}

    def hooks_key():
        return frozenset(hooks.GUARDS), frozenset(hooks.EFFECTS)

    def cached(key, compute):
        if key not in cache:
            cache[key] = compute()
        defn, issues = cache[key]
        return defn, list(issues)

    def lint_text(text, filename="<workflow>", **kw):
        return cached(
            ("text", text, filename, hooks_key(), tuple(sorted(kw.items()))),
            lambda: lint.lint_text(text, filename, **kw),
        )

    # the registry reads a file itself and lints its text (wbs_engine.lint.lint_text); a rename there makes
    # this fail loudly instead of silently caching nothing
    saved = registry.lint_text
    registry.lint_text = lint_text
    try:
        yield
    finally:
        registry.lint_text = saved


# --------------------------------------------------------------------------
# wbs-engine on a real database (SQLite file or the PostgreSQL server above)
# --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
#: the database the PostgreSQL tests' databases are cloned from (see ``pg_template``)
PG_TEMPLATE = "wbs_template"


def _generous_rate_limits():
    from wbs_engine.config import RATE_LIMIT_NAMES, RateLimits

    return RateLimits(**{name: "1000000 per 1 second" for name in RATE_LIMIT_NAMES})


class FixedClock:
    """Injected time: tests move it explicitly (docs/architecture.md, rule 5)."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **kw):
        from datetime import timedelta

        self.now = self.now + timedelta(**kw)
        return self.now


def _migrate(url: str) -> None:
    """Run the Alembic migrations on ``url`` and check that they left no rows behind (in particular no
    keyring fingerprints: every test registers its own keyring into its copy)."""
    import sqlalchemy as sa

    from wbs_engine.db import make_engine
    from wbs_engine.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                if table != "alembic_version":
                    n = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                    assert n == 0, f"the migrations left {n} row(s) in {table}: a template must hold none"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session (schema only, no rows); tests get a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    for extra in ("-wal", "-shm"):  # the last connection closed: everything is in the main file
        assert not path.with_name(path.name + extra).exists(), extra
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """The name of a database on ``pg_server`` migrated once per session (schema only, no rows, no keyring
    fingerprints). Nobody stays connected to it, so ``CREATE DATABASE ... TEMPLATE`` can copy it."""
    url = pg_server.create_database(PG_TEMPLATE)
    _migrate(url)
    return PG_TEMPLATE


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") else None


@pytest.fixture
def pg_url(pg_server, pg_template) -> Iterator[str]:
    """A fresh PostgreSQL database of its own for one test, already migrated (a copy of ``pg_template``);
    dropped afterwards."""
    from sqlalchemy.engine import make_url

    url = pg_server.create_database(template=pg_template)
    yield url
    pg_server.drop_database(make_url(url).database)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, sqlite_template) -> str:
    """The same engine tests run on a SQLite file and on the real PostgreSQL server. The database is
    already migrated (a copy of the session's migrated template: schema only, no rows and no keyring
    fingerprints); test_migrations.py runs the migrations themselves on ``empty_db_url``."""
    if request.param == "sqlite":
        path = tmp_path / "wbs.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """An empty database (no schema): for the tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    from sqlalchemy.engine import make_url

    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield url
    server.drop_database(make_url(url).database)


@pytest.fixture
def clock():
    from datetime import UTC, datetime

    return FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 09:00 WIB


@pytest.fixture
def make_wbs(tmp_path, clock, sqlite_template):
    """Build an engine on ``url`` with the repo's workflows (or ``workflows_dir``), set up as ``wbs init-db``
    does: migrated, with a keyring in the test's instance directory whose fingerprints the database knows.

    A SQLite file that does not exist yet starts as a copy of the migrated template (the migrations then
    have nothing left to do); ``db_url``/``pg_url`` give PostgreSQL databases that are copies too.
    ``init_database`` runs in full either way: it checks the revision and creates and registers the keyring."""
    from wbs_engine.config import Settings
    from wbs_engine.engine import WbsEngine
    from wbs_engine.provision import init_database

    made = []

    def build(url: str, workflows_dir: Path | None = None, **settings):
        path = _sqlite_path(url)
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_template, path)
        # abuse limits so high no test trips them by accident; a test of a limit passes its own rate_limits
        settings.setdefault("rate_limits", _generous_rate_limits())
        s = Settings(
            instance_dir=tmp_path / "instance",
            database_url=url,
            workflows_dir=workflows_dir or REPO / "workflows",
            **settings,
        )
        init_database(s, now=clock.now)
        eng = WbsEngine(s, clock=clock)
        made.append(eng)
        return eng

    yield build
    for eng in made:
        eng.db.dispose()


@pytest.fixture
def wbs(make_wbs, db_url):
    """A migrated engine with demo-like units and one user per role (tests/helpers.py)."""
    from tests.helpers import seed_people

    eng = make_wbs(db_url)
    seed_people(eng)
    return eng
