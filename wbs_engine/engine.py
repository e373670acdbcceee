"""The services: the only write paths of a case (``create_case``, ``fire``, ``post_message``).

Each runs in one database transaction: the case's lock and version → who may do it
(:mod:`~wbs_engine.permissions`) → required fields → guards → state change (the workflow's ``transitions``
Machine) → effects → clocks → audit events (hash chain) → outbox. Everything commits together or not at all,
and a receipt code is returned only after the commit (docs/architecture.md, rules 1–3). The SQL of the write path
lives in :mod:`~wbs_engine.writepath`; read models in :mod:`~wbs_engine.views` and
:mod:`~wbs_engine.tracking`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from . import audit, clocks, fields, filing, forms, interests, keystore, notify, permissions, textsafe, writepath
from .caches import TTLCache, load_calendar
from .calendar import WorkingCalendar
from .config import Settings
from .crypto import CaseKey, Keyring, new_receipt_code
from .db import open_database, unit_of_work
from .definition import TransitionSpec, WorkflowDef
from .errors import ConcurrentChange, InvalidTransition, Joined, NotAllowed, NotFound, OfficeText, ValidationFailed
from .hooks import FireContext
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Case, Message, Unit, User
from .permissions import Actor
from .registry import Loaded, Registry
from .writepath import CaseRecord


def filer_username(session: Session, case: Any) -> str | None:
    """The username of the account that filed ``case`` (None: the public form, or an anonymous report)."""
    if case.filed_by_user_id is None:
        return None
    return session.exec(select(User.username).where(User.id == case.filed_by_user_id)).first()


def is_internal_note(message: Any, filer: str | None) -> bool:
    """Is this message row an internal note (:meth:`WbsEngine.post_message` with ``internal``)? A message
    not to the reporter and not from them: the reporter writes as ``pelapor`` (rows written before that
    rule name the account that filed, ``filer``). The reporter's pages leave notes out; staff see them apart
    from the conversation with the reporter."""
    return not message.to_reporter and message.author not in ("pelapor", filer)


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
        self.db = db or open_database(settings)
        self.registry = registry or Registry(settings.workflows_dir)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._keys_checked = False
        self._calendar: TTLCache[WorkingCalendar] = TTLCache(self.CACHE_TTL)
        self._directory: TTLCache[list[notify.Staff]] = TTLCache(self.CACHE_TTL)

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
        return self._calendar.get(lambda: load_calendar(session, self.settings))

    def staff_directory(self, session: Session) -> list[notify.Staff]:
        return self._directory.get(lambda: notify.load_directory(session))

    # -- actors -----------------------------------------------------------------------------------
    def actor(self, session: Session, username: str) -> Actor:
        return permissions.load_actor(session, username)

    def load_actor(self, username: str) -> Actor:
        with unit_of_work(self.db, write=False) as s:
            return permissions.load_actor(s, username)

    def reporter(self, session: Session, code: str) -> tuple[Actor, Case]:
        """The reporter of the case whose tracking code is ``code`` (looked up by its keyed digest)."""
        self.check_keys_in(session)
        case = session.exec(select(Case).where(Case.receipt_hash == self.keyring.receipt_digest(code))).first()
        if case is None:
            raise NotFound(_("Tracking code not found; check how it is written."))
        return Actor.reporter(case.id), case

    # -- lookups ----------------------------------------------------------------------------------
    def get_case(self, session: Session, number: str, *, lock: bool = False) -> Case:
        """The case by its number. ``lock``: take the case's write lock first, as every write to a case
        does (see ``_case_for_write``)."""
        if not isinstance(number, str) or not textsafe.storable(number):  # a NUL or a lone surrogate from a URL
            raise NotFound(_("Case {number} not found."), number=textsafe.line(number))
        stmt = select(Case).where(Case.number == number.strip().upper())
        if lock:
            stmt = stmt.with_for_update(key_share=True)
        case = session.exec(stmt).first()
        if case is None:
            raise NotFound(_("Case {number} not found."), number=number)
        return case

    def case_for(self, session: Session, number: str, actor: Actor | None) -> Case:
        """:meth:`get_case` as ``actor`` may name it: a reporter (tracking code) reaches only their own case,
        and any other number, of a case that exists or not, gets the tracking page's answer (a code cannot be
        used to learn which other cases exist)."""
        if actor is None or actor.kind != "reporter":
            return self.get_case(session, number)
        try:
            case = self.get_case(session, number)
        except NotFound:
            case = None
        if case is None or case.id != actor.case_id:
            raise NotFound(_("Tracking code not found; check how it is written."))
        return case

    def workflow(self, session: Session, case: Case) -> Loaded:
        return self.registry.get(session, case.case_type, case.workflow_version)

    # -- what to ask, what may be done ------------------------------------------------------------
    def intake_form(self, case_type: str, identity_mode: str | None = None, lang: str = "id") -> forms.IntakeForm:
        """The filing form of ``case_type`` for ``identity_mode`` (default: the most private allowed)."""
        return forms.intake_form(self.registry.latest(case_type).definition, identity_mode, lang)

    def available_actions(
        self,
        number: str,
        actor: Actor,
        lang: str = "id",
        *,
        include_blocked: bool = False,
        refuse_unreadable: bool = False,
    ) -> list[forms.Action]:
        """What ``actor`` may do on case ``number`` now (:func:`forms.available_actions`). Someone who may not
        read the case gets none; with ``refuse_unreadable`` (the JSON API) they get the refusal the case's
        other operations give (:func:`permissions.no_access`) instead."""
        with unit_of_work(self.db, write=False) as s:
            self.check_keys_in(s)
            case = self.case_for(s, number, actor)
            defn = self.workflow(s, case).definition
            if refuse_unreadable:
                permissions.ensure_access(defn, case, actor)
            return forms.available_actions(s, defn, case, actor, self.now(), lang, include_blocked=include_blocked)

    # -- create -----------------------------------------------------------------------------------
    def create_case(
        self,
        case_type: str,
        data: dict[str, Any],
        *,
        identity_mode: str | None = None,
        filed_by: Actor | None = None,
        unit_code: str | None = None,
        idempotency_token: str | None = None,
    ) -> Created:
        """File a new case. ``filed_by`` None means the public web form (no account).

        ``idempotency_token`` (from :meth:`issue_filing_token`, carried by the web form): claimed in this
        transaction, so a form sent twice files one case; the second attempt raises
        :class:`~wbs_engine.filing.AlreadyFiled` (:mod:`wbs_engine.filing`). Optional (the CLI has none).

        The time recorded is the engine's clock (docs/architecture.md, rule 5): no caller chooses it."""
        now = self.now()
        with unit_of_work(self.db) as s:
            self.check_keys_in(s)
            claim = None
            if idempotency_token is not None:
                claim = filing.claim(s, self.keyring, idempotency_token, case_type, now)
            loaded = self.registry.latest(case_type)
            defn = loaded.definition
            identity_mode = forms.check_identity_mode(defn, identity_mode)
            permissions.check_filer(defn, filed_by)
            specs = forms.intake_specs(defn, identity_mode)
            # an anonymous reporter's identity is dropped, never stored, even if a client sends it
            supplied = {
                k: v
                for k, v in data.items()
                if not (identity_mode == "anonim" and (f := defn.field(k)) is not None and f.identity)
            }
            clean = fields.validate(specs, supplied, today=now.astimezone(self.settings.zone).date())
            self._check_references(s, defn, clean)
            if unit_code is not None and (
                not isinstance(unit_code, str)
                or not textsafe.storable(unit_code)
                or s.exec(select(Unit).where(Unit.code == unit_code)).first() is None
            ):
                raise ValidationFailed({"unit": Msg(_("unknown unit '{unit}'"), unit=textsafe.line(unit_code))})
            self.registry.ensure_registered(s, loaded, now)
            plain, ident, secret = self._split(defn, clean)
            key, wrapped_key = self.keyring.new_case_key()
            code = new_receipt_code()
            number = writepath.next_number(s, defn.number_prefix, now, self.settings.zone)
            st = defn.states[defn.initial]
            case = Case(
                number=number,
                case_type=defn.key,
                workflow_version=defn.version,
                state=defn.initial,
                phase=st.phase,
                final=st.final,
                unit_code=unit_code or writepath.default_unit(s),
                # an anonymous report is never linked to the account that filed it
                filed_by_user_id=filed_by.user_id if filed_by and identity_mode != "anonim" else None,
                identity_mode=identity_mode,
                receipt_hash=self.keyring.receipt_digest(code),
                data_key=wrapped_key,
                data=plain,
                identity_enc=key.seal(ident) if ident else None,
                confidential_enc=key.seal(secret) if secret else None,
                sealed_fields=sorted([*ident, *secret]),
                created_at=now,
                updated_at=now,
                version=1,
            )
            writepath.insert_case(s, case)
            if claim is not None:
                filing.settle(s, claim, case.id)
            writepath.write_terms(s, case.id, case.number, plain)
            # the reporter acts in the trail as "pelapor", whoever they are; the account that filed (rahasia,
            # terbuka) is named once, in ``filed_by`` below, which the views show only to the roles that may
            # know the reporter's identity (an anonymous report: no account at all)
            actor_name = "pelapor"
            cal = self.calendar(s)
            changes = clocks.on_transition(
                defn.clocks, {}, None, case.state, now, cal, self._clock_data(case, clean), final=st.final
            )
            clock_log = writepath.write_clocks(s, case.id, changes, {})
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
                    # the exact text the case runs on, and who may act as its reporter: a database writer
                    # who edits the stored workflow, the filer or the receipt digest is found by verify-audit
                    "workflow_sha256": loaded.sha256,
                    "filed_by": filed_by.username if filed_by and case.filed_by_user_id else None,
                    "receipt": case.receipt_hash,
                    "identity": identity_mode,
                    "unit": case.unit_code,
                    "data": plain,
                    "sealed_fields": sorted([*ident, *secret]),
                    "sealed": key.seal({"fields": {**ident, **secret}}) if (ident or secret) else None,
                    "clocks": clock_log,
                    "case_version": case.version,
                },
            )
            # declared interests: keep declarants off this case, and if it is a declaration, off the open cases
            # that name what it declares (wbs_engine/interests.py)
            if not interests.on_case_filed(s, self, defn, case, now):
                # nobody was recused: the case is new in this transaction, and only on_case_filed writes
                # recusals of it here (a declaration's own case is left out of its recusals), so it has none;
                # say so instead of letting the notices below load the empty relationship (a query)
                set_committed_value(case, "recusals", [])
            notify.on_created(s, self, defn, case, clean, now)
            return Created(number=case.number, receipt_code=code, state=case.state, version=case.version)

    def issue_filing_token(self, case_type: str) -> str:
        """A token for a filing form of ``case_type`` (see :mod:`wbs_engine.filing`); writes nothing."""
        self.registry.latest(case_type)  # an unknown type is refused now, not when the form comes back
        return filing.issue(self.keyring, case_type, self.now())

    def _check_references(self, session: Session, defn: WorkflowDef, clean: dict[str, Any]) -> None:
        errors: dict[str, Msg] = {}
        for name, value in clean.items():
            spec = defn.field(name)
            if spec is None:
                continue
            if spec.type == "unit" and session.exec(select(Unit).where(Unit.code == value)).first() is None:
                errors[name] = Msg(_("unknown unit '{unit}'"), unit=value)
            if spec.type == "user" and session.exec(select(User).where(User.username == value)).first() is None:
                errors[name] = Msg(_("unknown user '{user}'"), user=value)
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
            case = self._case_of(s, number, actor)
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
        case = CaseRecord.of(case)  # an ORM row (the scheduler's): work on a plain copy, write with Core
        loaded = self.workflow(s, case)
        defn = loaded.definition
        as_reporter = permissions.reporter_only(defn, case, actor)
        if not as_reporter:
            # no word about the case's state, actions, outcome, unit or version to whoever may not read it
            permissions.ensure_access(defn, case, actor)
        if expected_version is not None and expected_version != case.version:
            raise ConcurrentChange(case.number)
        if as_reporter:
            # a tracking code, or the employee who filed from their account: the reporter's words
            t, role = self._reporter_transition(defn, case, trigger, actor)
        else:
            t = self._transition(defn, case, trigger)
            role = permissions.authorise(defn, case, t, actor)
        clean = fields.validate(
            [defn.field(n) for n in (*t.requires, *t.optional)],
            data,
            required=t.requires,
            today=now.astimezone(self.settings.zone).date(),  # dates people declare: not after today
        )
        self._check_references(s, defn, clean)
        reason = (reason or "").strip()
        if not textsafe.storable(reason):
            raise ValidationFailed({"alasan": fields.UNSTORABLE})
        if t.reason and len(reason) < 5:
            raise ValidationFailed({"alasan": _("required (at least 5 characters)")})
        ctx = FireContext(
            session=s, case=case, actor=actor, data=clean, now=now, definition=defn, transition=t, office=self
        )
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
        writepath.write_case(s, case)
        if plain:
            writepath.write_terms(s, case.id, case.number, case.data)
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
        ids, current = writepath.read_clocks(s, case.id)
        changes = clocks.on_transition(
            defn.clocks, current, from_state, to_state, now, cal, self._clock_data(case, clean), final=st.final
        )
        if t.extends:
            spec = defn.clocks[t.extends.clock]
            cur = current.get(t.extends.clock)
            if cur is None or not cur.is_open:
                raise InvalidTransition(_("Time limit '{clock}' is not running."), clock=OfficeText(spec.label))
            if cur.extensions >= t.extends.max_times:
                raise InvalidTransition(
                    _("Time limit '{clock}' was already extended {extensions} times (max {max})."),
                    clock=OfficeText(spec.label),
                    extensions=cur.extensions,
                    max=t.extends.max_times,
                )
            changes.append(clocks.ClockChange(cur.name, "extended", clocks.extend(spec, cur, t.extends.by, cal)))
        payload["clocks"] = writepath.write_clocks(s, case.id, changes, ids)
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="transition",
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            # the reporter is "pelapor" in the trail, also the employee who filed from their account
            actor="pelapor" if role == "pelapor" else actor.username,
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
    def post_message(self, number: str, actor: Actor, body: str, *, internal: bool = False) -> int:
        """A message on a case: from the reporter (receipt code) to the handlers, or from a handler to the
        reporter. The text is stored encrypted; the audit event records that a message was sent, not its text.

        ``internal``: a note among the handlers, never shown or sent to the reporter: a staff message with
        ``to_reporter`` false (:func:`is_internal_note`), its event saying ``internal: true``, no e-mail. Only
        staff who may post on the case write notes; the reporter (also an employee on their own report) may
        not."""
        now = self.now()
        body = (body or "").strip()
        if not 2 <= len(body) <= 5000:
            raise ValidationFailed({"pesan": _("write 2–5000 characters")})
        if not textsafe.storable(body):
            raise ValidationFailed({"pesan": fields.UNSTORABLE})
        with unit_of_work(self.db) as s:
            self.check_keys_in(s)
            if actor.kind == "reporter":
                self._case_of(s, number, actor)  # another case's number: the tracking page's answer
            case = self.get_case(s, number, lock=True)
            defn = self.workflow(s, case).definition
            from_reporter, role = permissions.message_role(defn, case, actor)
            if internal and from_reporter:
                raise NotAllowed(
                    _("{user} may not write internal notes on case {number}."), user=actor.username, number=case.number
                )
            if case.final:
                raise InvalidTransition(_("Case {number} is closed."), number=case.number)
            writepath.bump_version(s, case)
            msg = Message(
                case_id=case.id,
                # the reporter is "pelapor", also the employee who filed from their account: the message is
                # shown to staff who may not know who reported (rahasia)
                author="pelapor" if from_reporter else actor.username,
                to_reporter=not from_reporter and not internal,
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
                actor_role=role,
                now=now,
                payload={
                    "message_id": msg.id,
                    "to_reporter": msg.to_reporter,
                    "length": len(body),
                    # the sealed text's digest: a message removed, swapped or rewritten in the table is found
                    "body_sha256": hashlib.sha256(msg.body_enc.encode()).hexdigest(),
                    **({"internal": True} if internal else {}),
                    "case_version": case.version,
                },
            )
            if not internal:  # a note tells no one: the handlers read it on the case page
                notify.on_message(s, self, defn, case, from_reporter, now)
            return msg.id

    def messages(self, session: Session, case: Case) -> list[dict[str, Any]]:
        """The case's messages, oldest first, each with ``internal`` (:func:`is_internal_note`)."""
        rows = session.exec(select(Message).where(Message.case_id == case.id).order_by(Message.id)).all()
        key = self.case_key(case) if rows else None
        filer = filer_username(session, case) if rows else None
        return [
            {
                "id": m.id,
                "author": m.author,
                "to_reporter": m.to_reporter,
                "internal": is_internal_note(m, filer),
                "at": m.created_at.isoformat(),
                "body": key.open(m.body_enc),
            }
            for m in rows
        ]

    def _case_of(self, s: Session, number: str, actor: Actor) -> CaseRecord:
        """The case to write, locked. A reporter (tracking code) reaches only their own case, and any other
        number gets the tracking page's answer: a code cannot be used to learn which other cases exist."""
        if actor.kind != "reporter":
            return writepath.case_for_write(s, number)
        try:
            case = writepath.case_for_write(s, number)
        except NotFound:
            case = None
        if case is None or case.id != actor.case_id:
            raise NotFound(_("Tracking code not found; check how it is written."))
        return case

    def _reporter_transition(
        self, defn: WorkflowDef, case: Any, trigger: str, actor: Actor
    ) -> tuple[TransitionSpec, str]:
        """A reporter's action on their own case; a refusal names only what they may do, in their words."""
        t = None if case.final else defn.transition(trigger, case.state)
        if t is not None and permissions.may_fire(defn, case, t, actor) is not None:
            return t, "pelapor"
        mine = [x.label for x in defn.transitions_from(case.state) if "pelapor" in x.roles and not case.final]
        stage = OfficeText(defn.states[case.state].reporter_label)
        if mine:
            raise InvalidTransition(
                _("This action is not available on your report now ({stage}). What you can do: {actions}."),
                stage=stage,
                actions=Joined(OfficeText(x) for x in mine),
            )
        raise InvalidTransition(_("This action is not available on your report now ({stage})."), stage=stage)

    def _transition(self, defn: WorkflowDef, case: Case, trigger: str) -> TransitionSpec:
        if case.final:
            raise InvalidTransition(
                _("Case {number} is closed ({state})."),
                number=case.number,
                state=OfficeText(defn.states[case.state].label),
            )
        t = defn.transition(trigger, case.state)
        if t is not None:
            return t
        here = ", ".join(x.trigger for x in defn.transitions_from(case.state)) or "-"
        if any(x.trigger == trigger for x in defn.transitions):
            raise InvalidTransition(
                _("Action '{trigger}' is not possible in state '{state}'. Available actions: {available}."),
                trigger=trigger,
                state=OfficeText(defn.states[case.state].label),
                available=here,
            )
        raise InvalidTransition(
            _("Unknown action '{trigger}' in workflow {workflow}. Available actions: {available}."),
            trigger=trigger,
            workflow=defn.key,
            available=here,
        )

    def _clock_data(self, case: Case, clean: dict[str, Any]) -> dict[str, Any]:
        return {**(case.data or {}), **clean}
