"""The workflows an installation knows: files in ``workflows/`` plus every version cases were started on.

The text of each version a case uses is stored in ``workflow_version``, so a case keeps running on its own
version after the file is edited (docs/architecture.md, rule 4), and editing a file without raising its
``version`` is refused.

**Read on first use.** Most ``wbs`` commands need one workflow or none (``wbs workdays add`` needs none,
``wbs case show`` the one its case runs on), and each file costs parsing, the schema and the linter. So the
registry knows the list of files at construction and reads nothing; a file is read, parsed and linted the
first time a command asks for a type it may hold, once per process. Which file holds which type is guessed
from its text (its top-level ``key:`` line) without parsing; the guess is checked against the parsed file,
and a file whose key cannot be guessed is parsed for any type asked. A bad file stops a command that
needs it with the linter's messages, as before; :meth:`Registry.load_all` (``wbs lint`` checks every file
on its own; the web app calls it at start) reads every file, and fails on any bad one.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from .definition import DefinitionError, LintIssue, WorkflowDef
from .errors import NotFound, WbsError
from .i18n import gettext_noop as _
from .lint import lint_text, read_text
from .machine import CompiledWorkflow
from .models import WorkflowVersion

#: a top-level ``key: name`` line (optionally quoted, optionally followed by a comment)
KEY_LINE = re.compile(r"""^key[ \t]*:[ \t]*(["']?)([a-z][a-z0-9_]*)\1[ \t]*(?:#.*)?$""", re.M)
#: lines at the left margin that could also give the top-level key (another ``key`` line, a quoted or
#: complex key, a merge, a flow mapping): with one of them the guess is not trusted and the file is parsed
OTHER_KEY_FORMS = re.compile(r"""^(?:["']?key["']?[ \t]*:|\?|<<|\{)""", re.M)


@dataclass(frozen=True)
class Loaded:
    definition: WorkflowDef
    source: str
    sha256: str
    compiled: CompiledWorkflow


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def guess_key(text: str) -> str | None:
    """The workflow key a file's text declares, read without parsing the YAML; None when unsure."""
    found = KEY_LINE.findall(text)
    if len(found) != 1 or len(OTHER_KEY_FORMS.findall(text)) != 1:
        return None
    return found[0][1]


class Registry:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._files = sorted(self.directory.glob("*.yaml")) if self.directory.is_dir() else []
        self._by_version: dict[tuple[str, int], Loaded] = {}
        self._latest: dict[str, Loaded] = {}
        self._registered: set[tuple[str, int]] = set()
        #: each file read so far: its definition (or None) and its problems
        self._parsed: dict[Path, tuple[Loaded | None, list[LintIssue]]] = {}
        self._guesses: dict[Path, str | None] | None = None
        self._texts: dict[Path, str] = {}
        self._complete = False
        self._lock = threading.RLock()  # the scheduler's threads may ask for a type at the same time

    # -- reading files ----------------------------------------------------------------------------
    def _parse(self, path: Path) -> tuple[Loaded | None, list[LintIssue]]:
        """Read, parse and lint one file, once."""
        if path not in self._parsed:
            text, problems = self._texts.pop(path, None), []
            if text is None:
                text, problems = read_text(path)
            loaded = None
            if text is not None:
                defn, problems = lint_text(text, str(path))
                if defn is not None:
                    loaded = Loaded(defn, text, _sha(text), CompiledWorkflow(defn))
            self._parsed[path] = (loaded, problems)
        return self._parsed[path]

    def _guess(self) -> dict[Path, str | None]:
        if self._guesses is None:
            guesses: dict[Path, str | None] = {}
            for path in self._files:
                text, problems = read_text(path)
                if text is None:
                    guesses[path] = None  # parsed (and reported) whatever type is asked
                    continue
                guesses[path] = guess_key(text)
                self._texts[path] = text  # kept until parsed, so a file is read once
            self._guesses = guesses
        return self._guesses

    def _collect(self, paths: list[Path], key: str | None) -> dict[str, Loaded]:
        """The definitions in ``paths`` (of type ``key``, or all) as a full read at start found them: in file
        order, the first file of a type wins; a bad file or a type in two files is a
        :class:`DefinitionError` listing every problem."""
        issues: list[LintIssue] = []
        found: dict[str, Loaded] = {}
        for path in paths:
            loaded, problems = self._parse(path)
            if loaded is None:
                issues.extend(problems)
                continue
            k = loaded.definition.key
            if key is not None and k != key:
                continue
            if k in found:
                issues.append(LintIssue(str(path), None, "key", f"workflow key '{k}' is used by two files"))
                continue
            found[k] = loaded
        if issues:
            raise DefinitionError(issues)
        return found

    def _register(self, found: dict[str, Loaded]) -> None:
        for k, loaded in found.items():
            self._latest[k] = loaded
            self._by_version[(k, loaded.definition.version)] = loaded

    def load_all(self) -> None:
        """Read every file now: a bad one (or a type in two files) raises :class:`DefinitionError`."""
        with self._lock:
            if not self._complete:
                found = self._collect(self._files, None)
                self._latest = {}  # in the order of the files, whatever was asked for first
                self._register(found)
                self._complete = True

    def _resolve(self, key: str) -> Loaded | None:
        """The file's definition of type ``key`` (None if no file holds it), reading only the files that may."""
        with self._lock:
            if key in self._latest or self._complete:
                return self._latest.get(key)
            guesses = self._guess()
            paths = [p for p in self._files if guesses[p] in (key, None)]
            for p in paths:
                loaded, _ = self._parse(p)
                if loaded is not None and guesses[p] is not None and loaded.definition.key != guesses[p]:
                    paths = self._files  # a guess was wrong: trust none of them
                    break
            self._register(self._collect(paths, key))
            if key not in self._latest:
                self.load_all()  # no file holds it: read them all, to name the known types (or a bad file)
            return self._latest.get(key)

    # -- lookups ----------------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        self.load_all()
        return list(self._latest)

    def knows(self, key: str) -> bool:
        """Whether a workflow file holds type ``key`` (reading only the files that may)."""
        return self._resolve(key) is not None

    def latest(self, key: str) -> Loaded:
        found = self._resolve(key)
        if found is None:
            raise NotFound(
                _("Unknown case type '{type}' (known: {known})."), type=key, known=", ".join(self.keys) or "-"
            )
        return found

    def get(self, session: Session, key: str, version: int) -> Loaded:
        """The definition a case runs on: the file's, else the text stored when it was first used."""
        self._resolve(key)
        found = self._by_version.get((key, version))
        if found is not None:
            return found
        row = session.exec(
            select(WorkflowVersion).where(WorkflowVersion.key == key, WorkflowVersion.version == version)
        ).first()
        if row is None:
            raise NotFound(_("Workflow '{workflow}' v{version} is not stored."), workflow=key, version=version)
        if _sha(row.source) != row.sha256:
            raise WbsError(
                _(
                    "The stored text of workflow '{workflow}' v{version} does not match its hash: it was edited in "
                    "the database. Restore it from a backup; run wbs verify-audit."
                ),
                workflow=key,
                version=version,
            )
        defn, issues = lint_text(row.source, f"{key}@{version} (database)")
        if defn is None:
            raise DefinitionError(issues)
        loaded = Loaded(defn, row.source, _sha(row.source), CompiledWorkflow(defn))
        self._by_version[(key, version)] = loaded
        return loaded

    def versions(self, session: Session) -> list[Loaded]:
        """Every workflow version cases may run on: each one stored in the database, and the files' own."""
        self.load_all()
        keys = {(d.definition.key, d.definition.version) for d in self._latest.values()}
        keys |= set(session.exec(select(WorkflowVersion.key, WorkflowVersion.version)).all())
        return [self.get(session, k, v) for k, v in sorted(keys)]

    def ensure_registered(self, session: Session, loaded: Loaded, now: datetime) -> None:
        ident = (loaded.definition.key, loaded.definition.version)
        if ident in self._registered:
            return
        row = session.exec(
            select(WorkflowVersion).where(WorkflowVersion.key == ident[0], WorkflowVersion.version == ident[1])
        ).first()
        if row is None:
            session.add(
                WorkflowVersion(
                    key=ident[0], version=ident[1], sha256=loaded.sha256, source=loaded.source, registered_at=now
                )
            )
            session.flush()
            return  # remembered only once seen committed, in case this transaction rolls back
        if row.sha256 != loaded.sha256:
            raise WbsError(
                _(
                    "Workflow file '{workflow}' changed but its version is still {version}; raise 'version' so "
                    "open cases keep their own version."
                ),
                workflow=ident[0],
                version=ident[1],
            )
        self._registered.add(ident)
