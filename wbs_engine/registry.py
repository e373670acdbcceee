"""The workflows an installation knows: files in ``workflows/`` plus every version cases were started on.

On start every file is linted; a bad file stops the program with the linter's messages. The text of each
version a case uses is stored in ``workflow_version``, so a case keeps running on its own version after
the file is edited (docs/architecture.md, rule 4), and editing a file without raising its ``version`` is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from .definition import DefinitionError, LintIssue, WorkflowDef
from .errors import NotFound, WbsError
from .lint import lint_file, lint_text
from .machine import CompiledWorkflow
from .models import WorkflowVersion


@dataclass(frozen=True)
class Loaded:
    definition: WorkflowDef
    source: str
    sha256: str
    compiled: CompiledWorkflow


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Registry:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._by_version: dict[tuple[str, int], Loaded] = {}
        self._latest: dict[str, Loaded] = {}
        self._registered: set[tuple[str, int]] = set()
        issues: list[LintIssue] = []
        files = sorted(self.directory.glob("*.yaml")) if self.directory.is_dir() else []
        for path in files:
            defn, problems = lint_file(path)
            if defn is None:
                issues.extend(problems)
                continue
            text = path.read_text(encoding="utf-8")
            loaded = Loaded(defn, text, _sha(text), CompiledWorkflow(defn))
            if defn.key in self._latest:
                issues.append(LintIssue(str(path), None, "key", f"workflow key '{defn.key}' is used by two files"))
                continue
            self._latest[defn.key] = loaded
            self._by_version[(defn.key, defn.version)] = loaded
        if issues:
            raise DefinitionError(issues)

    @property
    def keys(self) -> list[str]:
        return list(self._latest)

    def latest(self, key: str) -> Loaded:
        try:
            return self._latest[key]
        except KeyError:
            known = ", ".join(self._latest) or "-"
            raise NotFound(
                f"Jenis perkara '{key}' tidak dikenal (yang ada: {known}).",
                f"Unknown case type '{key}' (known: {known}).",
            ) from None

    def get(self, session: Session, key: str, version: int) -> Loaded:
        """The definition a case runs on: from memory, else from the text stored when it was first used."""
        found = self._by_version.get((key, version))
        if found is not None:
            return found
        row = session.exec(
            select(WorkflowVersion).where(WorkflowVersion.key == key, WorkflowVersion.version == version)
        ).first()
        if row is None:
            raise NotFound(
                f"Alur '{key}' versi {version} tidak tersimpan.", f"Workflow '{key}' v{version} is not stored."
            )
        defn, issues = lint_text(row.source, f"{key}@{version} (database)")
        if defn is None:
            raise DefinitionError(issues)
        loaded = Loaded(defn, row.source, row.sha256, CompiledWorkflow(defn))
        self._by_version[(key, version)] = loaded
        return loaded

    def versions(self, session: Session) -> list[Loaded]:
        """Every workflow version cases may run on: each one stored in the database, and the files' own."""
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
                f"Berkas alur '{ident[0]}' diubah tetapi versinya masih {ident[1]}; naikkan 'version' agar "
                "perkara lama tetap memakai versi lamanya.",
                f"Workflow file '{ident[0]}' changed but its version is still {ident[1]}; raise 'version' so "
                "open cases keep their own version.",
            )
        self._registered.add(ident)
