"""Database engines and the unit of work.

SQLite is the embedded default (WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for writing
units of work so that two writers queue instead of failing half-way); PostgreSQL is the production database.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

if TYPE_CHECKING:
    from .config import Settings


def make_engine(url: str, *, echo: bool = False, sqlite_synchronous: str = "FULL") -> Engine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, decide where transactions begin (see _begin below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={'NORMAL' if sqlite_synchronous == 'NORMAL' else 'FULL'}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            immediate = conn.get_execution_options().get("wbs_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def open_database(settings: Settings) -> Engine:
    """The installation's database as its settings say (the engine's, and the CLI's for the commands that
    need only the database)."""
    return make_engine(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commits when the block ends normally, rolls back on any exception."""
    session = Session(engine, expire_on_commit=False)
    try:
        if write and engine.dialect.name == "sqlite":
            conn = session.connection(execution_options={"wbs_write": True})
            session.info["wbs_connection"] = (session.get_transaction(), conn)  # see connection()
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert_insert(dialect: str) -> Any:
    """The INSERT construct with ``ON CONFLICT`` of ``dialect`` ("postgresql" or "sqlite")."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def of_dialect(session: Session, stmts: dict[str, Any]) -> Any:
    """The one of ``stmts`` (by dialect name, "postgresql" and "sqlite") for the session's database."""
    return stmts["postgresql" if connection(session).dialect.name == "postgresql" else "sqlite"]


class Prepared:
    """A Core statement compiled once per dialect and run on the DB-API cursor of the session's connection:
    the statements of the hot write path (a fire, a filing). The SQL text, the paramstyle and the type
    conversions are SQLAlchemy's own (the compiled statement's bind and result processors, the columns'
    Python-side defaults of an INSERT); what is skipped is its per-call machinery (cache look-ups, execution
    contexts, result objects: ~0.1 ms a statement, most of a fire's time in SQL). Same transaction, same
    rows: the cursor belongs to the connection the session has begun its transaction on.

    ``keys``: for an INSERT, the columns the caller passes (the others take their defaults, as
    ``Connection.execute`` would give them)."""

    __slots__ = ("stmt", "keys", "_forms")

    def __init__(self, stmt: sa.sql.ClauseElement, *, keys: tuple[str, ...] | None = None):
        self.stmt = stmt
        self.keys = keys
        self._forms: dict[tuple, _Form] = {}

    def _form(self, dialect: sa.engine.Dialect) -> _Form:
        key = (dialect.name, dialect.paramstyle, dialect.server_version_info)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _Form(self.stmt, dialect, self.keys)
        return form

    def run(self, session: Session, params: dict[str, Any] | None = None) -> int:
        """Execute with ``params``; returns the rowcount."""
        form, cur = self._cursor(session)
        try:
            cur.execute(form.sql, form.args(params or {}))
            return cur.rowcount
        finally:
            cur.close()

    def many(self, session: Session, rows: list[dict[str, Any]]) -> None:
        form, cur = self._cursor(session)
        try:
            cur.executemany(form.sql, [form.args(r) for r in rows])
        finally:
            cur.close()

    def first(self, session: Session, params: dict[str, Any] | None = None) -> Any:
        """The first row (a named tuple of converted values), or None."""
        form, cur = self._cursor(session)
        try:
            cur.execute(form.sql, form.args(params or {}))
            row = cur.fetchone()
        finally:
            cur.close()
        return None if row is None else form.row(row)

    def all(self, session: Session, params: dict[str, Any] | None = None) -> list[Any]:
        form, cur = self._cursor(session)
        try:
            cur.execute(form.sql, form.args(params or {}))
            rows = cur.fetchall()
        finally:
            cur.close()
        return [form.row(r) for r in rows]

    def _cursor(self, session: Session) -> tuple[_Form, Any]:
        conn = connection(session)
        return self._form(conn.dialect), conn.connection.driver_connection.cursor()


def connection(session: Session) -> sa.engine.Connection:
    """``session.connection()``, looked up once per transaction (the session's look-up costs ~40 µs and a
    fire asks for it a dozen times)."""
    tx = session.get_transaction()
    cached = session.info.get("wbs_connection")
    if tx is not None and cached is not None and cached[0] is tx and tx.is_active:
        return cached[1]
    conn = session.connection()
    session.info["wbs_connection"] = (session.get_transaction(), conn)
    return conn


class _Form:
    """One statement compiled for one dialect (see :class:`Prepared`)."""

    __slots__ = ("sql", "names", "positional", "processors", "fixed", "defaults", "optional", "columns", "tuple",
                 "converters")

    def __init__(self, stmt: sa.sql.ClauseElement, dialect: sa.engine.Dialect, keys: tuple[str, ...] | None):
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if compiled.update_prefetch or (compiled.insert_prefetch and keys is None):
            raise TypeError(f"Prepared cannot run a statement with Python-side defaults: {stmt}")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise TypeError(f"Prepared cannot run a statement with an expanding IN: {stmt}")
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.bind_names.values())
        self.processors = dict(compiled._bind_processors)
        # values fixed in the statement (``bindparam(name, value)``) and the columns' Python-side defaults
        self.fixed = {
            name: b.value for b, name in compiled.bind_names.items() if not b.required and b.value is not None
        }
        # binds made with an explicit value of None; any other name a call leaves out is an error, as in
        # Connection.execute (never a silent NULL)
        self.optional = frozenset(name for b, name in compiled.bind_names.items() if not b.required)
        self.defaults = {}
        for col in compiled.insert_prefetch:
            d = col.default
            if d is None or not (d.is_scalar or d.is_callable):
                raise TypeError(f"Prepared cannot compute the default of {col}")
            self.defaults[col.key] = d
        self.columns = tuple(rc[0] for rc in compiled._result_columns)
        self.converters = tuple(rc[3]._cached_result_processor(dialect, None) for rc in compiled._result_columns)
        self.tuple = namedtuple("Row", self.columns, rename=True) if self.columns else None

    def args(self, params: dict[str, Any]) -> Any:
        values = {**self.fixed, **params} if self.fixed else params
        procs = self.processors
        out = []
        for n in self.names:
            if n in values:
                v = values[n]
            elif n in self.defaults:
                d = self.defaults[n]
                v = d.arg if d.is_scalar else d.arg(None)
            elif n in self.optional:
                v = None
            else:
                raise KeyError(f"no value for the bound parameter {n!r} of: {self.sql}")
            p = procs.get(n)
            out.append(v if p is None else p(v))
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))

    def row(self, raw: Any) -> Any:
        return self.tuple._make(v if c is None else c(v) for c, v in zip(self.converters, raw, strict=True))


_PREPARED: dict[tuple[sa.sql.ClauseElement, tuple[str, ...] | None], Prepared] = {}


def prepared(stmt: sa.sql.ClauseElement, keys: tuple[str, ...] | None = None) -> Prepared:
    """The :class:`Prepared` form of a module-level statement, made once (keyed by the statement object itself,
    which the table keeps alive: meant for a fixed set of statements, not ones built per call)."""
    p = _PREPARED.get((stmt, keys))
    if p is None:
        p = _PREPARED[(stmt, keys)] = Prepared(stmt, keys=keys)
    return p
