"""The engine: the single write path for a case.

``create_case`` and ``fire`` each run in one database transaction: version check of the case → role,
unit and case-type check → required fields → guards → state change (a ``transitions`` Machine) →
effects → clocks → audit events (hash chain) → outbox. Everything commits together or not at all, and a
receipt code is returned only after the commit (ARCHITECTURE.md, rules 1–3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import Session, select

from . import audit, clocks, fields, keystore, notify
from .calendar import WorkingCalendar
from .config import Settings
from .crypto import CaseKey, Keyring, new_receipt_code
from .db import make_engine, unit_of_work
from .definition import TransitionSpec, WorkflowDef
from .errors import ConcurrentChange, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from .hooks import FireContext
from .models import Case, CaseCounter, Clock, Holiday, Message, RoleGrant, Unit, User
from .registry import Loaded, Registry

T = TypeVar("T")


@dataclass(frozen=True)
class Grant:
    role: str
    unit_code: str | None = None
    case_type: str | None = None

    def covers(self, case: Case) -> bool:
        return (self.unit_code is None or self.unit_code == case.unit_code) and (
            self.case_type is None or self.case_type == case.case_type
        )

    def __str__(self) -> str:
        return ":".join(x for x in (self.role, self.unit_code or "*", self.case_type or "*"))


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user with grants, the reporter holding a case's receipt code, or the scheduler."""

    username: str
    kind: str = "user"  # user | reporter | system
    user_id: int | None = None
    grants: tuple[Grant, ...] = ()
    case_id: int | None = None
    lang: str = "id"

    @classmethod
    def system(cls) -> Actor:
        return cls(username="system", kind="system")

    def roles_for(self, case: Case) -> set[str]:
        if self.kind == "system":
            return {"system"}
        if self.kind == "reporter":
            return {"pelapor"} if case.id is not None and case.id == self.case_id else set()
        roles = {g.role for g in self.grants if g.covers(case)}
        if self.user_id is not None and case.filed_by_user_id == self.user_id:
            roles.add("pelapor")
        return roles


class _Cached(Generic[T]):
    """One value reused for ``ttl`` seconds (monotonic clock)."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entry: tuple[float, T] | None = None

    def get(self, load: Callable[[], T]) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        value = load()
        self._entry = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        self._entry = None


class CaseRecord(SimpleNamespace):
    """A case row as a plain value: the fire path's working copy (a SQLModel instance costs 40 µs to
    build and would be flushed by the ORM; this one is written back with one conditional UPDATE)."""


@dataclass(frozen=True)
class Created:
    number: str
    receipt_code: str
    state: str
    version: int


@dataclass(frozen=True)
class Fired:
    number: str
    trigger: str
    from_state: str
    to_state: str
    version: int
    role: str


class WbsEngine:
    def __init__(
        self,
        settings: Settings,
        *,
        db: DbEngine | None = None,
        clock: Callable[[], datetime] | None = None,
        registry: Registry | None = None,
        keyring: Keyring | None = None,
    ):
        self.settings = settings
        #: the office's keys (kept outside the database); never created here, only loaded
        self.keyring = keyring or Keyring.load(settings.keyring_path)
        self.db = db or make_engine(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous)
        self.registry = registry or Registry(settings.workflows_dir)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._keys_checked = False
        self._calendar: _Cached[WorkingCalendar] = _Cached(self.CACHE_TTL)
        self._directory: _Cached[list[notify.Staff]] = _Cached(self.CACHE_TTL)

    # -- keys -------------------------------------------------------------------------------------
    def check_keys(self) -> None:
        """Refuse, before anything is read or written, a keyring that does not belong to this database
        (:func:`keystore.check`). The CLI and the web app call it at start; the services call it once too."""
        with unit_of_work(self.db, write=False) as s:
            self.check_keys_in(s)

    def check_keys_in(self, session: Session) -> None:
        """:meth:`check_keys` inside a transaction the caller holds (once per engine)."""
        if not self._keys_checked:
            keystore.check(session, self.keyring)
            self._keys_checked = True

    def case_key(self, case: Case) -> CaseKey:
        """The case's own data key, unwrapped with the office key."""
        return self.keyring.case_key(case.data_key)

    # -- time and calendar ------------------------------------------------------------------------
    def now(self) -> datetime:
        """The time every service records: the injected clock, never a caller's argument."""
        return self._clock()

    def with_clock(self, clock: Callable[[], datetime]) -> WbsEngine:
        """The same engine (database, workflows, keys, caches) on another clock: for demo data written in the
        past and for the scheduler commands under ``WBS_ALLOW_CLOCK_OVERRIDE=1``. Production paths never call
        it."""
        twin = object.__new__(WbsEngine)
        twin.__dict__.update(self.__dict__)
        twin._clock = clock
        return twin

    #: seconds the office calendar (``holiday`` table) and the staff directory (users and grants, for
    #: notifications) are reused; changes made through this engine are seen at once (``invalidate_*``),
    #: changes made by another process within this time
    CACHE_TTL = 30.0

    def invalidate_calendar(self) -> None:
        self._calendar.clear()

    def invalidate_directory(self) -> None:
        self._directory.clear()

    def calendar(self, session: Session) -> WorkingCalendar:
        return self._calendar.get(lambda: self._load_calendar(session))

    def staff_directory(self, session: Session) -> list[notify.Staff]:
        return self._directory.get(lambda: notify.load_directory(session))

    def _load_calendar(self, session: Session) -> WorkingCalendar:
        added: dict = {}
        removed: list = []
        for h in session.exec(select(Holiday)).all():
            if h.kind == "closed":
                added[h.day] = h.name
            else:
                removed.append(h.day)
        return WorkingCalendar(
            added,
            removed,
            include_cuti_bersama=self.settings.include_cuti_bersama,
            office_close=self.settings.office_close,
            zone=self.settings.zone,
        )

    # -- actors -----------------------------------------------------------------------------------
    def actor(self, session: Session, username: str) -> Actor:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(
                f"Pengguna '{username}' tidak dikenal atau tidak aktif.", f"Unknown or inactive user '{username}'."
            )
        grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
        return Actor(
            username=user.username,
            user_id=user.id,
            lang=user.lang,
            grants=tuple(Grant(g.role, g.unit_code, g.case_type) for g in grants),
        )

    def load_actor(self, username: str) -> Actor:
        with unit_of_work(self.db, write=False) as s:
            return self.actor(s, username)

    def reporter(self, session: Session, code: str) -> tuple[Actor, Case]:
        """The reporter of the case whose tracking code is ``code`` (looked up by its keyed digest)."""
        self.check_keys_in(session)
        case = session.exec(select(Case).where(Case.receipt_hash == self.keyring.receipt_digest(code))).first()
        if case is None:
            raise NotFound(
                "Kode pelacakan tidak ditemukan; periksa kembali penulisannya.",
                "Tracking code not found; check how it is written.",
            )
        return Actor(username="pelapor", kind="reporter", case_id=case.id), case

    # -- lookups ----------------------------------------------------------------------------------
    def get_case(self, session: Session, number: str, *, lock: bool = False) -> Case:
        """The case by its number. ``lock``: take the case's write lock first, as every write to a case
        does (see ``_case_for_write``)."""
        stmt = select(Case).where(Case.number == number.strip().upper())
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        case = session.exec(stmt).first()
        if case is None:
            raise NotFound(f"Perkara {number} tidak ditemukan.", f"Case {number} not found.")
        return case

    def workflow(self, session: Session, case: Case) -> Loaded:
        return self.registry.get(session, case.case_type, case.workflow_version)

    # -- create -----------------------------------------------------------------------------------
    def create_case(
        self,
        case_type: str,
        data: dict[str, Any],
        *,
        identity_mode: str | None = None,
        filed_by: Actor | None = None,
        unit_code: str | None = None,
    ) -> Created:
        """File a new case. ``filed_by`` None means the public web form (no account).

        The time recorded is the engine's clock (ARCHITECTURE.md rule 5): no caller chooses it."""
        now = self.now()
        with unit_of_work(self.db) as s:
            self.check_keys_in(s)
            loaded = self.registry.latest(case_type)
            defn = loaded.definition
            identity_mode = identity_mode or defn.default_identity
            if identity_mode not in defn.identity:
                raise ValidationFailed(
                    {
                        "identitas": (
                            f"pilih salah satu: {', '.join(defn.identity)}",
                            f"choose one of: {', '.join(defn.identity)}",
                        )
                    }
                )
            self._check_filer(s, defn, filed_by)
            specs = [f for f in defn.intake if not (identity_mode == "anonim" and f.identity)]
            supplied = {
                k: v
                for k, v in data.items()
                if not (identity_mode == "anonim" and (f := defn.field(k)) is not None and f.identity)
            }
            clean = fields.validate(specs, supplied, today=now.astimezone(self.settings.zone).date())
            self._check_references(s, defn, clean)
            if unit_code is not None and s.exec(select(Unit).where(Unit.code == unit_code)).first() is None:
                raise ValidationFailed({"unit": (f"unit '{unit_code}' tidak dikenal", f"unknown unit '{unit_code}'")})
            self.registry.ensure_registered(s, loaded, now)
            plain, ident, secret = self._split(defn, clean)
            key, wrapped_key = self.keyring.new_case_key()
            code = new_receipt_code()
            number = self._next_number(s, defn, now)
            st = defn.states[defn.initial]
            case = Case(
                number=number,
                case_type=defn.key,
                workflow_version=defn.version,
                state=defn.initial,
                phase=st.phase,
                final=st.final,
                unit_code=unit_code or self._default_unit(s),
                # an anonymous report is never linked to the account that filed it
                filed_by_user_id=filed_by.user_id if filed_by and identity_mode != "anonim" else None,
                identity_mode=identity_mode,
                receipt_hash=self.keyring.receipt_digest(code),
                data_key=wrapped_key,
                data=plain,
                identity_enc=key.seal(ident) if ident else None,
                confidential_enc=key.seal(secret) if secret else None,
                sealed_fields=sorted([*ident, *secret]),
                recused=[],
                created_at=now,
                updated_at=now,
                version=1,
            )
            s.add(case)
            s.flush()
            actor_name = filed_by.username if filed_by and identity_mode != "anonim" else "pelapor"
            cal = self.calendar(s)
            changes = clocks.on_transition(
                defn.clocks, {}, None, case.state, now, cal, self._clock_data(case, clean), final=st.final
            )
            clock_log = self._write_clocks(s, case, changes, {})
            audit.append(
                s,
                chain=case.number,
                case_id=case.id,
                kind="created",
                actor=actor_name,
                actor_role="pelapor",
                to_state=case.state,
                now=now,
                payload={
                    "type": defn.key,
                    "workflow_version": defn.version,
                    "identity": identity_mode,
                    "unit": case.unit_code,
                    "data": plain,
                    "sealed_fields": sorted([*ident, *secret]),
                    "sealed": key.seal({"fields": {**ident, **secret}}) if (ident or secret) else None,
                    "clocks": clock_log,
                    "case_version": case.version,
                },
            )
            notify.on_created(s, self, defn, case, clean, now)
            return Created(number=case.number, receipt_code=code, state=case.state, version=case.version)

    def _check_filer(self, session: Session, defn: WorkflowDef, filer: Actor | None) -> None:
        if filer is None:
            if "public" not in defn.filed_by:
                raise NotAllowed(
                    f"{defn.label.id} hanya dapat dilaporkan oleh pegawai yang masuk log.",
                    f"{defn.label.en} can only be filed by a signed-in employee.",
                )
            return
        if filer.kind == "system":
            return
        staff_roles = {g.role for g in filer.grants if g.case_type in (None, defn.key)}
        allowed = set(defn.filed_by) - {"public"}
        if allowed and not (staff_roles & allowed) and "public" not in defn.filed_by:
            raise NotAllowed(
                f"Peran Anda tidak boleh melaporkan {defn.label.id}.", f"Your roles may not file a {defn.label.en}."
            )

    def _check_references(self, session: Session, defn: WorkflowDef, clean: dict[str, Any]) -> None:
        errors: dict[str, tuple[str, str]] = {}
        for name, value in clean.items():
            spec = defn.field(name)
            if spec is None:
                continue
            if spec.type == "unit" and session.exec(select(Unit).where(Unit.code == value)).first() is None:
                errors[name] = (f"unit '{value}' tidak dikenal", f"unknown unit '{value}'")
            if spec.type == "user" and session.exec(select(User).where(User.username == value)).first() is None:
                errors[name] = (f"pengguna '{value}' tidak dikenal", f"unknown user '{value}'")
        if errors:
            raise ValidationFailed(errors)

    @staticmethod
    def _split(defn: WorkflowDef, clean: dict[str, Any]) -> tuple[dict, dict, dict]:
        """Plain values, identity (and contact) values, and the other sealed values (private by default:
        free text unless ``plain: true``, and ``confidential`` fields)."""
        plain, ident, secret = {}, {}, {}
        for k, v in clean.items():
            spec = defn.field(k)
            if spec is not None and spec.is_identity:
                ident[k] = v
            elif spec is None or spec.sealed:
                secret[k] = v
            else:
                plain[k] = v
        return plain, ident, secret

    def _default_unit(self, session: Session) -> str | None:
        unit = session.exec(select(Unit).order_by(Unit.id).limit(1)).first()
        return unit.code if unit else None

    def _next_number(self, session: Session, defn: WorkflowDef, now: datetime) -> str:
        year = now.astimezone(self.settings.zone).year  # PGD-2026-…: the year in the office's zone
        key = f"{defn.number_prefix}-{year}"
        table = CaseCounter.__table__
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).values(key=key, last=1)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"last": table.c.last + 1})
        last = session.execute(stmt.returning(table.c.last)).scalar_one()
        return f"{key}-{last:06d}"

    # -- fire -------------------------------------------------------------------------------------
    def fire(
        self,
        number: str,
        trigger: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Fired:
        """Move a case by one transition, or refuse with a clear error and change nothing."""
        with unit_of_work(self.db) as s:
            self.check_keys_in(s)
            case = self._case_for_write(s, number)
            return self.fire_in(
                s,
                case,
                trigger,
                actor,
                data or {},
                reason=reason,
                expected_version=expected_version,
                now=self.now(),
            )

    def fire_in(
        self,
        s: Session,
        case: Case,
        trigger: str,
        actor: Actor,
        data: dict[str, Any],
        *,
        reason: str | None,
        expected_version: int | None,
        now: datetime,
    ) -> Fired:
        """``fire`` inside the caller's transaction (the scheduler uses it while holding its claim).

        The hot path writes with Core statements: the case row once (conditional on its version), its clock
        rows, the audit event and the outbox. ``case`` is treated as a detached value object."""
        if isinstance(case, Case):  # an ORM row (the scheduler's): work on a plain copy, write with Core
            case = CaseRecord(**{c: getattr(case, c) for c in _CASE_COLUMNS})
        loaded = self.workflow(s, case)
        defn = loaded.definition
        if expected_version is not None and expected_version != case.version:
            raise ConcurrentChange(case.number)
        t = self._transition(defn, case, trigger)
        role = self._authorise(defn, case, t, actor)
        clean = fields.validate(
            [defn.field(n) for n in (*t.requires, *t.optional)],
            data,
            required=t.requires,
            today=now.astimezone(self.settings.zone).date(),  # dates people declare: not after today
        )
        self._check_references(s, defn, clean)
        reason = (reason or "").strip()
        if t.reason and len(reason) < 5:
            raise ValidationFailed({"alasan": ("wajib diisi (minimal 5 karakter)", "required (at least 5 characters)")})
        ctx = FireContext(session=s, case=case, actor=actor, data=clean, now=now, definition=defn, transition=t)
        from_state = case.state
        to_state = loaded.compiled.run(from_state, trigger, ctx)
        st = defn.states[to_state]
        plain, ident, secret = self._split(defn, clean)
        case.state, case.phase, case.final, case.updated_at = to_state, st.phase, st.final, now
        if st.final and case.closed_at is None:
            case.closed_at = now
        if plain:
            case.data = {**case.data, **plain}
        key = self.case_key(case) if (ident or secret or reason) else None
        if ident:
            case.identity_enc = key.seal({**(key.open(case.identity_enc) or {}), **ident})
        if secret:
            case.confidential_enc = key.seal({**(key.open(case.confidential_enc) or {}), **secret})
        if ident or secret:
            case.sealed_fields = sorted({*(case.sealed_fields or []), *ident, *secret})
        self._write_case(s, case)
        payload: dict[str, Any] = {"data": plain}
        if secret or ident:
            payload["sealed_fields"] = sorted([*secret, *ident])
        if key is not None:
            # the values and the reason are sealed with the case's key, in the trail too (private by default)
            payload["sealed"] = key.seal({"fields": {**secret, **ident}, **({"reason": reason} if reason else {})})
        if reason:
            payload["reason_sealed"] = True
        payload.update(ctx.audit)
        payload["case_version"] = case.version
        cal = self.calendar(s)
        conn = s.connection()
        ids: dict[str, int] = {}
        current: dict[str, clocks.ClockState] = {}
        for r in conn.execute(_CLOCKS_OF, {"case_id": case.id}):
            ids[r.name] = r.id
            current[r.name] = clocks.from_row(r)
        changes = clocks.on_transition(
            defn.clocks, current, from_state, to_state, now, cal, self._clock_data(case, clean), final=st.final
        )
        if t.extends:
            spec = defn.clocks[t.extends.clock]
            cur = current.get(t.extends.clock)
            if cur is None or not cur.is_open:
                raise InvalidTransition(
                    f"Batas waktu '{spec.label.id}' tidak sedang berjalan.",
                    f"Time limit '{spec.label.en}' is not running.",
                )
            if cur.extensions >= t.extends.max_times:
                raise InvalidTransition(
                    f"Batas waktu '{spec.label.id}' sudah diperpanjang {cur.extensions} kali "
                    f"(maksimal {t.extends.max_times}).",
                    f"Time limit '{spec.label.en}' was already extended {cur.extensions} times "
                    f"(max {t.extends.max_times}).",
                )
            changes.append(clocks.ClockChange(cur.name, "extended", clocks.extend(spec, cur, t.extends.by, cal)))
        payload["clocks"] = self._write_clocks(s, case, changes, ids)
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="transition",
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            actor=actor.username,
            actor_role=role,
            now=now,
            payload=payload,
        )
        notify.on_transition(s, self, defn, case, t, from_state, clean, now)
        return Fired(
            number=case.number,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            version=case.version,
            role=role,
        )

    # -- messages ---------------------------------------------------------------------------------
    def post_message(self, number: str, actor: Actor, body: str) -> int:
        """A message on a case: from the reporter (receipt code) to the handlers, or from a handler to the
        reporter. The text is stored encrypted; the audit event records that a message was sent, not its text."""
        now = self.now()
        body = (body or "").strip()
        if not 2 <= len(body) <= 5000:
            raise ValidationFailed({"pesan": ("isi 2–5000 karakter", "write 2–5000 characters")})
        with unit_of_work(self.db) as s:
            self.check_keys_in(s)
            case = self.get_case(s, number, lock=True)
            defn = self.workflow(s, case).definition
            roles = actor.roles_for(case)
            if actor.kind == "user" and actor.username in (case.recused or []):
                raise NotAllowed(
                    f"{actor.username} dikecualikan (recusal) dari perkara {case.number}.",
                    f"{actor.username} is recused from case {case.number}.",
                )
            from_reporter = (
                "pelapor" in roles
                and actor.kind == "reporter"
                or (actor.kind == "user" and case.filed_by_user_id == actor.user_id)
            )
            handler_roles = {r for t in defn.transitions for r in t.roles} - {"pelapor", "system"}
            if not from_reporter and not (roles & handler_roles):
                raise NotAllowed(
                    f"{actor.username} tidak berwenang mengirim pesan pada perkara {case.number}.",
                    f"{actor.username} may not post messages on case {case.number}.",
                )
            if case.final:
                raise InvalidTransition(f"Perkara {case.number} sudah ditutup.", f"Case {case.number} is closed.")
            self._bump_version(s, case)
            msg = Message(
                case_id=case.id,
                author="pelapor" if actor.kind == "reporter" else actor.username,
                to_reporter=not from_reporter,
                body_enc=self.case_key(case).seal(body),
                created_at=now,
            )
            s.add(msg)
            s.flush()
            audit.append(
                s,
                chain=case.number,
                case_id=case.id,
                kind="message",
                actor=msg.author,
                actor_role="pelapor" if from_reporter else sorted(roles & handler_roles)[0],
                now=now,
                payload={
                    "message_id": msg.id,
                    "to_reporter": msg.to_reporter,
                    "length": len(body),
                    "case_version": case.version,
                },
            )
            notify.on_message(s, self, defn, case, from_reporter, now)
            return msg.id

    def messages(self, session: Session, case: Case) -> list[dict[str, Any]]:
        rows = session.exec(select(Message).where(Message.case_id == case.id).order_by(Message.id)).all()
        key = self.case_key(case) if rows else None
        return [
            {
                "id": m.id,
                "author": m.author,
                "to_reporter": m.to_reporter,
                "at": m.created_at.isoformat(),
                "body": key.open(m.body_enc),
            }
            for m in rows
        ]

    def _transition(self, defn: WorkflowDef, case: Case, trigger: str) -> TransitionSpec:
        if case.final:
            raise InvalidTransition(
                f"Perkara {case.number} sudah ditutup ({defn.states[case.state].label.id}).",
                f"Case {case.number} is closed ({defn.states[case.state].label.en}).",
            )
        t = defn.transition(trigger, case.state)
        if t is not None:
            return t
        here = ", ".join(x.trigger for x in defn.transitions_from(case.state)) or "-"
        label = defn.states[case.state].label
        if any(x.trigger == trigger for x in defn.transitions):
            raise InvalidTransition(
                f"Aksi '{trigger}' tidak dapat dilakukan pada status '{label.id}'. Aksi yang tersedia: {here}.",
                f"Action '{trigger}' is not possible in state '{label.en}'. Available actions: {here}.",
            )
        raise InvalidTransition(
            f"Aksi '{trigger}' tidak dikenal dalam alur {defn.key}. Aksi yang tersedia: {here}.",
            f"Unknown action '{trigger}' in workflow {defn.key}. Available actions: {here}.",
        )

    def _authorise(self, defn: WorkflowDef, case: Case, t: TransitionSpec, actor: Actor) -> str:
        if actor.kind == "user" and actor.username in (case.recused or []):
            raise NotAllowed(
                f"{actor.username} dikecualikan (recusal) dari perkara {case.number}.",
                f"{actor.username} is recused from case {case.number}.",
            )
        held = actor.roles_for(case)
        allowed = [r for r in t.roles if r in held]
        if not allowed:
            need = ", ".join(t.roles)
            raise NotAllowed(
                f"{actor.username} tidak berwenang menjalankan '{t.trigger}' pada perkara {case.number} "
                f"(perlu peran: {need}, untuk unit {case.unit_code or '-'} dan jenis {case.case_type}).",
                f"{actor.username} may not run '{t.trigger}' on case {case.number} "
                f"(needs role: {need}, for unit {case.unit_code or '-'} and type {case.case_type}).",
            )
        return allowed[0]

    def _bump_version(self, s: Session, case: Case) -> None:
        """Optimistic concurrency: the first writer moves the version on; a stale writer matches no row."""
        res = s.connection().execute(
            _BUMP_VERSION, {"b_id": case.id, "b_version": case.version, "version": case.version + 1}
        )
        if res.rowcount != 1:
            raise ConcurrentChange(case.number)
        # the row already holds the new version: keep the ORM from writing it again
        from sqlalchemy.orm.attributes import set_committed_value

        set_committed_value(case, "version", case.version + 1)

    def _clock_data(self, case: Case, clean: dict[str, Any]) -> dict[str, Any]:
        return {**(case.data or {}), **clean}

    def _case_for_write(self, s: Session, number: str) -> CaseRecord:
        """The case as a detached value (Core read): the fire path writes it back with one UPDATE.

        The read takes the case's write lock (``FOR NO KEY UPDATE`` on PostgreSQL; SQLite's ``BEGIN
        IMMEDIATE`` already serialises writers and ignores the clause). Every write to a case takes this
        lock first, then touches the case's clock rows: the fire, ``post_message``, the sweep (which skips a
        locked case) and the holiday recompute. Reading the clocks unlocked let a fire overwrite a breach
        the sweep had just written."""
        row = s.connection().execute(_CASE_BY_NUMBER_FOR_WRITE, {"number": number.strip().upper()}).first()
        if row is None:
            raise NotFound(f"Perkara {number} tidak ditemukan.", f"Case {number} not found.")
        return CaseRecord(**row._mapping)

    def _write_case(self, s: Session, case: Case) -> None:
        """Write the case's mutable columns if nobody changed it since it was read (optimistic concurrency:
        the first writer moves the version on; a stale writer matches no row and loses)."""
        values = {c: getattr(case, c) for c in _CASE_MUTABLE}
        values.update(b_id=case.id, b_version=case.version, version=case.version + 1)
        if s.connection().execute(_WRITE_CASE, values).rowcount != 1:
            raise ConcurrentChange(case.number)
        case.version += 1

    def _write_clocks(
        self, s: Session, case: Case, changes: Iterable[clocks.ClockChange], ids: dict[str, int]
    ) -> list[dict[str, Any]]:
        """Write the clock rows; returns what changed, recorded in the audit event of the same fire."""
        conn = s.connection()
        log = []
        for ch in changes:
            values = clocks.row_values(ch.state)
            if ch.name in ids:
                conn.execute(_UPDATE_CLOCK, {**values, "b_id": ids[ch.name]})
            else:
                ids[ch.name] = conn.execute(
                    _INSERT_CLOCK.returning(_clocks.c.id), {**values, "case_id": case.id, "name": ch.name}
                ).scalar_one()
            entry: dict[str, Any] = {"clock": ch.name, "action": ch.action, "status": ch.state.status}
            if ch.state.due_date:
                entry["due_date"] = ch.state.due_date.isoformat()
            if ch.state.remaining_days is not None:
                entry["remaining_days"] = ch.state.remaining_days
            log.append(entry)
        return log


_cases = Case.__table__
_clocks = Clock.__table__
_BUMP_VERSION = (
    sa.update(_cases)
    .where(_cases.c.id == sa.bindparam("b_id"), _cases.c.version == sa.bindparam("b_version"))
    .values(version=sa.bindparam("version"))
)
_CASE_COLUMNS = tuple(c.name for c in _cases.columns)
_CASE_BY_NUMBER_FOR_WRITE = (
    sa.select(_cases).where(_cases.c.number == sa.bindparam("number")).with_for_update(key_share=True)
)
_CASE_MUTABLE = (
    "sealed_fields",
    "state",
    "phase",
    "final",
    "unit_code",
    "assigned_user_id",
    "data",
    "identity_enc",
    "confidential_enc",
    "recused",
    "updated_at",
    "closed_at",
)
_WRITE_CASE = (
    sa.update(_cases)
    .where(_cases.c.id == sa.bindparam("b_id"), _cases.c.version == sa.bindparam("b_version"))
    .values({c: sa.bindparam(c) for c in (*_CASE_MUTABLE, "version")})
)
_CLOCK_STATE_COLUMNS = clocks.STATE_COLUMNS
_CLOCKS_OF = sa.select(_clocks).where(_clocks.c.case_id == sa.bindparam("case_id"))
_INSERT_CLOCK = sa.insert(_clocks)
_UPDATE_CLOCK = (
    sa.update(_clocks)
    .where(_clocks.c.id == sa.bindparam("b_id"))
    .values({c: sa.bindparam(c) for c in _CLOCK_STATE_COLUMNS})
)
