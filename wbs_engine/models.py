"""SQLModel tables. The schema itself is created by the Alembic migrations in ``db/migrations``.

Rows hold data only: the workflow rules live in the definitions and the engine (see docs/architecture.md), and
no method here commits. Times are stored in UTC (:class:`UTCDateTime` hands back aware datetimes on both
SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import class_mapper, relationship
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; returns aware UTC datetimes (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dt(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    #: the unit's atasan (head): proposed first when a case of the unit needs an atasan's decision
    #: (no foreign key: SQLite adds one only by rebuilding the table; the admin code checks the user exists)
    atasan_user_id: int | None = None


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    lang: str = Field(default="id", max_length=5)
    created_at: datetime = _dt()
    last_login_at: datetime | None = _dt(nullable=True)
    #: the TOTP secret (second factor), sealed with the office key; NULL until the user enrols
    totp_secret_enc: str | None = Field(default=None, sa_type=sa.Text)
    totp_enrolled_at: datetime | None = _dt(nullable=True)
    #: SHA-256 digests of the unused recovery codes (each works once)
    recovery_codes: list = Field(default_factory=list, sa_type=sa.JSON().with_variant(postgresql.JSONB(), "postgresql"))
    #: the last TOTP time step accepted (a code is never accepted twice)
    totp_last_step: int | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in staff session. The browser's cookie holds only the random id (signed); the row is what makes
    sign-out and the idle limit real on the server: a copied cookie dies with its row."""

    __tablename__ = "staff_session"
    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the random session id kept in the cookie (never the id)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = _dt()
    last_seen_at: datetime = _dt()
    #: set at sign-out, on idle expiry, or when an admin deactivates the account
    ended_at: datetime | None = _dt(nullable=True)
    #: password checked but the second factor not yet given: the session may only finish signing in
    pending_second_factor: bool = False


class ApiToken(SQLModel, table=True):
    """A personal token for the JSON API (``/api/v1``); acts with its user's grants. Stored hashed."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    #: SHA-256 of the token (the token itself is shown once, when made)
    token_hash: str = Field(max_length=64, unique=True)
    #: the first characters of the token, to tell tokens apart in a list
    prefix: str = Field(max_length=12)
    created_at: datetime = _dt()
    expires_at: datetime | None = _dt(nullable=True)
    last_used_at: datetime | None = _dt(nullable=True)
    revoked_at: datetime | None = _dt(nullable=True)


class OfficeSetting(SQLModel, table=True):
    """An office-wide setting an admin changes in the web (e.g. which roles must use a second factor)."""

    __tablename__ = "office_setting"
    key: str = Field(primary_key=True, max_length=60)
    value: Any = Field(default=None, sa_type=sa.JSON)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _dt()


class ReplyTemplate(SQLModel, table=True):
    """An office's standard answer for a case type, offered when a handler writes to a reporter."""

    __tablename__ = "reply_template"
    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    active: bool = True
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _dt()


class RoleGrant(SQLModel, table=True):
    """A user holds a role, for one unit or all (``unit_code`` NULL) and one case type or all."""

    __tablename__ = "role_grant"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "unit_code", "case_type", name="uq_role_grant"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=32)
    unit_code: str | None = Field(default=None, max_length=32)
    case_type: str | None = Field(default=None, max_length=40)


class WorkflowVersion(SQLModel, table=True):
    """The exact text of every workflow version a case was started on (a case keeps its version)."""

    __tablename__ = "workflow_version"
    __table_args__ = (sa.UniqueConstraint("key", "version", name="uq_workflow_version"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40)
    version: int
    sha256: str = Field(max_length=64)
    source: str = Field(sa_type=sa.Text)
    registered_at: datetime = _dt()


class CaseCounter(SQLModel, table=True):
    """Last number issued per prefix and year (``PGD-2026``)."""

    __tablename__ = "case_counter"
    key: str = Field(primary_key=True, max_length=20)
    last: int = 0


class Case(SQLModel, table=True):
    """A case. The queues (:mod:`wbs_engine.queries`) read it through partial indexes on open cases, declared
    after the class (``ix_case_open_*``)."""

    __tablename__ = "case_file"
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True, index=True)
    case_type: str = Field(max_length=40)
    workflow_version: int
    state: str = Field(max_length=60)
    phase: str = Field(max_length=20)
    final: bool = False
    unit_code: str | None = Field(default=None, max_length=32, index=True)
    assigned_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    filed_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    identity_mode: str = Field(default="terbuka", max_length=10)
    #: HMAC-SHA256 of the tracking code under the keyring's receipt key (never the code itself)
    receipt_hash: str | None = Field(default=None, max_length=64, unique=True)
    #: this case's own data key, wrapped by the office key; every sealed value of the case (row, trail,
    #: messages) is encrypted with it. Destroying it destroys the case's content (retention).
    data_key: str | None = Field(default=None, sa_type=sa.Text)
    #: fields the workflow leaves plain (choices, numbers, dates, units, fields marked ``plain: true``)
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    #: identity and contact fields, sealed with the case key (visible to ``visibility.identity`` roles only)
    identity_enc: str | None = Field(default=None, sa_type=sa.Text)
    #: every other sealed field (free text by default, and ``confidential: true`` ones), sealed with the case key
    confidential_enc: str | None = Field(default=None, sa_type=sa.Text)
    #: names (never values) of the identity and confidential fields this case holds
    sealed_fields: list = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = _dt()
    updated_at: datetime = _dt()
    closed_at: datetime | None = _dt(nullable=True)
    #: optimistic concurrency: every change bumps it; a stale writer loses
    version: int = 1
    #: the earliest ``due_at`` of the case's open clocks that count towards a deadline (running, or breached
    #: and not yet stopped); NULL when there is none. Derived from ``case_clock`` and rewritten by every writer
    #: of clock rows (``writepath.refresh_due``), so that the queues sort and bucket cases (due soon, overdue:
    #: ``next_due_at <= now``) through one indexed column instead of joining the clocks.
    next_due_at: datetime | None = _dt(nullable=True)

    @property
    def recused(self) -> frozenset[int]:
        """Ids of the users kept off this case (``case_recusal``; loaded with the case, one query per batch)."""
        return frozenset(r.user_id for r in (self.recusals or ()))


class CaseRecusal(SQLModel, table=True):
    """An official kept off a case (benturan kepentingan: recusal). A row per (case, user), written by the
    effect ``recuse_official`` in the fire's transaction; the queues exclude these cases with an indexed
    ``NOT IN`` on ``user_id``, which a JSON list on the case row could not give."""

    __tablename__ = "case_recusal"
    __table_args__ = (sa.UniqueConstraint("case_id", "user_id", name="uq_case_recusal"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = _dt()


class CaseTerm(SQLModel, table=True):
    """Search terms of a case: its number and its *plain* field values from the start of each word
    (:func:`wbs_engine.search.terms`), so that a search is an indexed prefix range instead of a scan. Sealed values are
    never written here."""

    __tablename__ = "case_term"
    __table_args__ = (sa.Index("ix_case_term_term", "term", "case_id"),)
    case_id: int = Field(foreign_key="case_file.id", primary_key=True)
    #: compared byte by byte (``COLLATE "C"`` on PostgreSQL) so that a prefix is one index range
    term: str = Field(
        primary_key=True,
        max_length=100,
        sa_type=sa.String(100).with_variant(sa.String(100, collation="C"), "postgresql"),
    )


def _open_case_index(name: str, *columns: str) -> sa.Index:
    """A partial index over open cases only (``final = false``): closed cases, most of a database in time,
    never enter the queues. A query uses it only if it says ``final = false`` literally (SQLite proves the
    index applies from the query's own terms), which :mod:`wbs_engine.queries` does."""
    t = Case.__table__
    return sa.Index(
        name,
        *(t.c[c] for c in columns),
        sqlite_where=sa.text("final = 0"),
        postgresql_where=sa.text("final = false"),
    )


# Columns after ``id`` change no order; they let the queues read everything they test from the index alone
# (no table lookup): the unassigned filter, a unit, and ``final`` itself, which SQLite (3.40) still reads from
# the table unless the index holds it, although the partial index's WHERE already fixes it.
IX_CASE_OPEN_STATE = _open_case_index(
    "ix_case_open_state", "case_type", "state", "next_due_at", "id", "assigned_user_id", "final"
)
IX_CASE_OPEN_UNIT = _open_case_index(
    "ix_case_open_unit", "unit_code", "case_type", "state", "next_due_at", "id", "assigned_user_id", "final"
)
IX_CASE_OPEN_ASSIGNED = _open_case_index(
    "ix_case_open_assigned", "assigned_user_id", "case_type", "state", "next_due_at", "id", "unit_code", "final"
)
class_mapper(Case).add_property(
    # view only: recusals are written with Core in the fire's transaction (writepath.write_case)
    "recusals",
    relationship(CaseRecusal, lazy="selectin", viewonly=True, order_by=CaseRecusal.id),
)


class CaseEvent(SQLModel, table=True):
    """One entry of the audit trail. ``chain`` is the case number (or ``system``); rows are hash-chained."""

    __tablename__ = "case_event"
    __table_args__ = (sa.UniqueConstraint("chain", "seq", name="uq_case_event_chain_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    chain: str = Field(max_length=40)
    seq: int
    kind: str = Field(max_length=40)
    trigger: str | None = Field(default=None, max_length=60)
    from_state: str | None = Field(default=None, max_length=60)
    to_state: str | None = Field(default=None, max_length=60)
    actor: str = Field(max_length=64)
    actor_role: str | None = Field(default=None, max_length=32)
    occurred_at: datetime = _dt()
    payload: dict = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The last event of each chain; lets ``verify-audit`` notice rows deleted from a chain's end."""

    __tablename__ = "audit_head"
    chain: str = Field(primary_key=True, max_length=40)
    seq: int
    hash: str = Field(max_length=64)
    #: the seq last sealed by a checkpoint; heads with seq above it go into the next checkpoint
    sealed_seq: int = Field(default=0, index=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed seal over the chain heads that moved since the previous checkpoint and over the case-number
    counters, committing to the previous checkpoint (see ``audit.py`` and ``docs/audit-format.md``).

    Deleting a whole case (all its events and its head) is detected because an earlier checkpoint still
    names that chain's head; the seal is incremental, so its size follows activity, not the database. Two
    checkpoints can never extend the same predecessor (unique ``prev_hash``)."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    created_at: datetime = _dt()
    heads: dict = Field(default_factory=dict, sa_type=sa.JSON)
    counters: dict = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64)
    #: Ed25519 signature (base64url) over the hash, by the keyring's signing key
    signature: str = Field(max_length=100)
    key_id: str = Field(max_length=16)


class OfficeKey(SQLModel, table=True):
    """Fingerprints (never the keys) of the keyring a database belongs to; see :mod:`wbs_engine.keystore`."""

    __tablename__ = "office_key"
    __table_args__ = (sa.UniqueConstraint("purpose", "fingerprint", name="uq_office_key"),)
    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=20)  # encryption | receipt | signing
    fingerprint: str = Field(max_length=16)
    created_at: datetime = _dt()


class Clock(SQLModel, table=True):
    """An SLA clock of a case. ``next_action_at`` is what the scheduler's indexed sweep looks at."""

    __tablename__ = "case_clock"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "name", name="uq_case_clock"),
        # the daily digest reads breached clocks by status; the sweep running ones by status and due time
        sa.Index("ix_case_clock_status", "status", "next_action_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    name: str = Field(max_length=60)
    status: str = Field(max_length=12)  # running | paused | stopped | breached
    limit_days: int
    limit_unit: str = Field(max_length=10)  # working | calendar
    counted_from: date
    started_at: datetime = _dt()
    due_date: date | None = None
    due_at: datetime | None = _dt(nullable=True)
    paused_at: datetime | None = _dt(nullable=True)
    remaining_days: int | None = None
    stopped_at: datetime | None = _dt(nullable=True)
    breached_at: datetime | None = _dt(nullable=True)
    extensions: int = 0
    reminders_done: list = Field(default_factory=list, sa_type=sa.JSON)
    next_action: str | None = Field(default=None, max_length=20)
    next_action_at: datetime | None = _dt(nullable=True, index=True)


class ClockAction(SQLModel, table=True):
    """Each reminder/breach action done once: unique per (clock, action, due time)."""

    __tablename__ = "clock_action"
    __table_args__ = (sa.UniqueConstraint("clock_id", "action", "due_at", name="uq_clock_action"),)
    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(foreign_key="case_clock.id", index=True)
    action: str = Field(max_length=30)
    due_at: datetime = _dt()
    done_at: datetime = _dt()
    result: str = Field(default="", max_length=200)


class Attachment(SQLModel, table=True):
    """A file attached to a case (see :mod:`wbs_engine.files`). The file itself lies outside the database and
    any web root, encrypted with a key derived from the case's data key, under its random ``file_id``;
    nothing a person typed (the original name) is kept in the clear."""

    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    #: 32 random hex digits: the file's name on disk and the id bound into each of its encrypted chunks
    file_id: str = Field(max_length=32, unique=True)
    #: {"filename", "sha256"} sealed with the case key; the same ciphertext as in its ``attachment_added`` event
    meta_enc: str = Field(sa_type=sa.Text)
    #: the type detected from the content (a MIME type of :data:`wbs_engine.files.KINDS`)
    content_type: str = Field(max_length=100)
    size: int
    #: uploaded by the reporter (who sees only these), else by staff
    by_reporter: bool
    #: the staff member's username, or ``pelapor`` for the reporter (never the account a reporter filed from)
    uploaded_by: str = Field(max_length=64)
    created_at: datetime = _dt()


class FilingToken(SQLModel, table=True):
    """A filing form's token once used (see :mod:`wbs_engine.filing`): unique, so a form sent twice files one
    case. Tokens are signed, not stored, until they are used; the row is kept until the token expires."""

    __tablename__ = "filing_token"
    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the token's random part (never the token)
    token_hash: str = Field(max_length=64, unique=True)
    case_type: str = Field(max_length=40)
    #: the case it filed (set in the same transaction as the case)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    used_at: datetime = _dt()
    expires_at: datetime = _dt(index=True)


class Message(SQLModel, table=True):
    """A message between the handlers and the reporter (who answers through the receipt code)."""

    __tablename__ = "message"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    author: str = Field(max_length=64)
    to_reporter: bool
    body_enc: str = Field(sa_type=sa.Text)
    created_at: datetime = _dt()


class SurveyResponse(SQLModel, table=True):
    """A reporter's rating of how their closed case was handled (the satisfaction survey, see
    :mod:`wbs_engine.survey`): one per case (unique ``case_id``), written with its ``rated`` event on the case's
    chain under the case's lock. The scores are plain (the recap counts them); the comment is the reporter's
    free text, sealed with the case key: the same ciphertext as in the event, so ``verify-audit`` compares
    them without a key."""

    __tablename__ = "survey_response"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", unique=True)
    #: element key -> score 1..4 (1 tidak baik, 2 kurang baik, 3 baik, 4 sangat baik)
    answers: dict = Field(default_factory=dict, sa_type=sa.JSON)
    #: {"comment": text} sealed with the case key; NULL without a comment
    comment_enc: str | None = Field(default=None, sa_type=sa.Text)
    #: when it was rated (the recap's period is counted on it)
    created_at: datetime = _dt(index=True)


class Outbox(SQLModel, table=True):
    """Notifications written in the same transaction as the event; delivered later by SMTP."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_pending", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    kind: str = Field(max_length=40)
    #: an address, or ``vault:`` and the address sealed with the office key (a reporter's)
    recipient: str = Field(sa_type=sa.Text)
    lang: str = Field(default="id", max_length=5)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    status: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _dt()
    created_at: datetime = _dt()
    sent_at: datetime | None = _dt(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    #: the office's HMAC over what the row says (``notify.seal_of``); delivery sends only rows it verifies
    seal: str | None = Field(default=None, max_length=64)


class IdentityRequest(SQLModel, table=True):
    """A handler's request to see the identity of a *rahasia* reporter: asked with a reason, approved or refused
    by a role the workflow names (``visibility.identity_approvers``); an approval opens the identity to the
    asker until ``expires_at``. Every step is also an event on the case's chain."""

    __tablename__ = "identity_request"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    requested_by: int = Field(foreign_key="user_account.id", index=True)
    requester_role: str = Field(max_length=32)
    #: the reason, sealed with the case key
    reason_enc: str = Field(sa_type=sa.Text)
    status: str = Field(default="pending", max_length=10)  # pending | approved | refused | withdrawn
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decider_role: str | None = Field(default=None, max_length=32)
    #: the decision's note, sealed with the case key
    note_enc: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _dt()
    decided_at: datetime | None = _dt(nullable=True)
    #: an approval opens the identity to the asker until then
    expires_at: datetime | None = _dt(nullable=True)


class Holiday(SQLModel, table=True):
    """An office-specific change to the calendar: a day off added, or a national one made a working day."""

    __tablename__ = "holiday"
    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True, index=True)
    kind: str = Field(max_length=10)  # closed | open
    name: str = Field(max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = _dt()


ALL_TABLES = SQLModel.metadata
