"""Run the Alembic migrations in ``db/migrations`` (the only way the schema is created, tests included).

Every command checks that the database is at the newest revision (:func:`current` against :func:`head`).
That check reads one row and the revision lines of a few files, without Alembic: importing Alembic costs more
than a short command does (docs/decisions.md, "Loading workflows"). Alembic itself runs the migrations, and
answers whenever the files say something the quick reading does not understand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import db as _db_package

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(_db_package.__file__).resolve().parent / "migrations"
#: ``revision = "0003"`` / ``down_revision: str | None = "0002"`` at the left margin of a migration script
REVISION_LINE = re.compile(r"^(revision|down_revision)[ \t]*(?::[^=\n]*)?=[ \t]*(.*?)[ \t]*$", re.M)
#: a value the quick reading understands: a quoted revision id, or None (no parent)
REVISION_VALUE = re.compile(r"""(["'])([\w-]+)\1|None""")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at: the row of Alembic's version table, None before ``init-db``."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:  # several heads: Alembic says so in its own words
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    """The newest revision the migrations in this checkout know."""
    quick = _quick_head()
    if quick is not False:
        return quick
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _quick_head() -> str | None | bool:
    """The head from the ``revision`` and ``down_revision`` lines of the scripts in ``versions/``, which
    Alembic reads by importing every script; False when they say anything but one straight line of
    revisions (a merge, a branch, a value that is not a plain string)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        if path.name.startswith(("_", ".")):
            continue
        found: dict[str, object] = {}
        for name, value in REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            if name in found:
                return False
            m = REVISION_VALUE.fullmatch(value)
            if m is None:
                return False
            found[name] = m.group(2)  # None for None
        rev, down = found.get("revision"), found.get("down_revision", False)
        if not isinstance(rev, str) or not (down is None or isinstance(down, str)) or rev in revisions:
            return False
        revisions.add(rev)
        if down is not None:
            parents.add(down)
    heads = revisions - parents
    if not revisions:
        return None
    return heads.pop() if len(heads) == 1 and parents <= revisions else False


def require_migrated(db: Engine) -> None:
    """Refuse a database that is not set up or not at the newest revision, without creating anything: a
    SQLite file that does not exist (a wrong WBS_INSTANCE_DIR) is not made empty by asking. The CLI and
    the web app check this before anything else."""
    from .errors import WbsError
    from .i18n import gettext_noop as _

    if db.dialect.name == "sqlite":
        path = db.url.database
        if path and path != ":memory:" and not Path(path).exists():
            raise WbsError(
                _("There is no database at {path}; check WBS_INSTANCE_DIR / WBS_DATABASE_URL, or run wbs init-db"),
                path=path,
            )
    have = current(db)
    if have is None:
        raise WbsError(_("The database is not set up; run first: wbs init-db"))
    if have != head():
        raise WbsError(
            _("The database schema is at revision {revision} (newest {newest}); run first: wbs init-db"),
            revision=have,
            newest=head(),
        )
