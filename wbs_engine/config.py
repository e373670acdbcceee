"""Settings, read once from the environment at the edge (CLI, web factory) and passed down.

Nothing deeper in the engine reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting has a value the program cannot use."""


def _parse_time(value: str, name: str) -> time:
    try:
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise ConfigError(f"{name} must look like 16:00, not {value!r}") from exc


@dataclass(frozen=True)
class Settings:
    instance_dir: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    #: the keyring file (encryption, receipt and signing keys); None: ``instance/keyring.json``
    keyring_file: Path | None = None
    office_close: time = time(16, 0)
    include_cuti_bersama: bool = True
    smtp_url: str = ""
    mail_from: str = "wbs-engine@localhost"
    base_url: str = "http://127.0.0.1:5000"
    scheduler: str = "off"  # off | embedded
    #: SQLite durability: FULL syncs every commit to disk (a case with a receipt code survives a power cut);
    #: NORMAL survives a killed process but may lose the last commits on power loss.
    sqlite_synchronous: str = "FULL"
    attachments_dir: Path | None = None
    #: minutes between signed audit checkpoints made by the scheduler
    checkpoint_minutes: int = 10
    extra: dict = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'wbs.sqlite3'}"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.instance_dir / "keyring.json"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        instance = Path(env.get("WBS_INSTANCE_DIR", str(PROJECT_ROOT / "instance")))
        cuti = env.get("WBS_INCLUDE_CUTI_BERSAMA", "1").strip().lower()
        if cuti not in ("1", "0", "true", "false", "yes", "no"):
            raise ConfigError("WBS_INCLUDE_CUTI_BERSAMA must be 1 or 0")
        sched = env.get("WBS_SCHEDULER", "off")
        if sched not in ("off", "embedded"):
            raise ConfigError("WBS_SCHEDULER must be 'off' or 'embedded'")
        sync = env.get("WBS_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
        if sync not in ("FULL", "NORMAL"):
            raise ConfigError("WBS_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
        if env.get("WBS_ENCRYPTION_KEY"):
            raise ConfigError(
                "WBS_ENCRYPTION_KEY is no longer read: all keys live in one keyring file made by `wbs init-db`; "
                "point WBS_KEYRING at it (default: instance/keyring.json) and unset WBS_ENCRYPTION_KEY"
            )
        minutes = env.get("WBS_CHECKPOINT_MINUTES", "10").strip()
        if not minutes.isdigit() or not 1 <= int(minutes) <= 1440:
            raise ConfigError("WBS_CHECKPOINT_MINUTES must be a whole number of minutes from 1 to 1440")
        return cls(
            sqlite_synchronous=sync,
            instance_dir=instance,
            database_url=env.get("WBS_DATABASE_URL", ""),
            workflows_dir=Path(env.get("WBS_WORKFLOWS_DIR", str(PROJECT_ROOT / "workflows"))),
            keyring_file=Path(env["WBS_KEYRING"]) if env.get("WBS_KEYRING") else None,
            checkpoint_minutes=int(minutes),
            office_close=_parse_time(env.get("WBS_OFFICE_CLOSE", "16:00"), "WBS_OFFICE_CLOSE"),
            include_cuti_bersama=cuti in ("1", "true", "yes"),
            smtp_url=env.get("WBS_SMTP_URL", ""),
            mail_from=env.get("WBS_MAIL_FROM", "wbs-engine@localhost"),
            base_url=env.get("WBS_BASE_URL", "http://127.0.0.1:5000"),
            scheduler=sched,
            attachments_dir=Path(env["WBS_ATTACHMENTS_DIR"]) if env.get("WBS_ATTACHMENTS_DIR") else None,
        )
