"""Notifications through the outbox: rows written in the same transaction as the event they announce.

Delivery (SMTP, retries) is :func:`deliver`. What goes into an e-mail is chosen so that nothing leaks: a
handler's e-mail names the case number, type, state and due date, never the reporter's identity or the
report's text; a reporter's e-mail carries the status only and sends them to the tracking page. Reporter
addresses are stored encrypted in the outbox (``vault:`` prefix) and decrypted only to send.

Each kind of mail is a Jinja template, ``templates/mail/<kind>.txt`` (a ``subject`` and a ``body`` block),
whose sentences are ``{% trans %}`` messages of the catalogue: :func:`render` writes it in the recipient's
language, and the outbox row keeps (and seals) the text as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlmodel import Session

from .config import Settings
from .crypto import SEALED_PREFIX, CaseKey, Keyring
from .db import upsert_insert
from .definition import TransitionSpec, WorkflowDef
from .i18n import LOCALES, lang_of, translations
from .models import Case, Outbox, RoleGrant, User

if TYPE_CHECKING:  # Jinja is imported when the first mail is rendered, not by every command
    import jinja2


class Office(Protocol):
    """What notifications need of the engine (structural: :class:`~wbs_engine.engine.WbsEngine` is one).
    Declared here so that this module does not depend on the engine."""

    settings: Settings
    keyring: Keyring

    def staff_directory(self, session: Session) -> list[Staff]: ...

    def case_key(self, case: Case) -> CaseKey: ...


VAULT_PREFIX = SEALED_PREFIX

#: One Jinja template per kind of mail: ``templates/mail/<kind>.txt``, with a ``subject`` and a ``body`` block.
MAIL_TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"


@lru_cache(maxsize=len(LOCALES))
def mail_environment(lang: str) -> jinja2.Environment:
    """The Jinja environment that renders mail in ``lang``: the ``{% trans %}`` texts come from the message
    catalogue (:func:`wbs_engine.i18n.translations`; English is the msgids themselves).

    Plain text, so no HTML escaping; the values are always passed as variables, never put into a
    template's source, so nothing a person typed can act as template syntax. A value a template names but
    is not given is an error (as a missing ``str.format`` key was), not an empty string."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(MAIL_TEMPLATES),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(kind: str, lang: str, **values: Any) -> tuple[str, str]:
    """The subject and body of a mail of ``kind`` in ``lang`` (``id``, or ``en``; anything else is ``id``)."""
    template = mail_environment(lang_of(lang)).get_template(f"{kind}.txt")
    context = template.new_context(values)
    subject = "".join(template.blocks["subject"](context))
    body = "".join(template.blocks["body"](context))
    return subject, body


def seal_of(
    keyring: Keyring,
    *,
    kind: str,
    case_id: int | None,
    recipient: str,
    lang: str,
    subject: str,
    body: str,
    dedupe_key: str | None,
) -> str:
    """The office's seal over what an outbox row says; delivery sends only rows whose seal verifies."""
    import json

    data = json.dumps([kind, case_id, recipient, lang, subject, body, dedupe_key], ensure_ascii=False)
    return keyring.mac("outbox", data.encode())


def queue(
    session: Session,
    *,
    keyring: Keyring,
    kind: str,
    recipient: str,
    lang: str,
    now: datetime,
    case_id: int | None,
    dedupe_key: str | None = None,
    **values: Any,
) -> bool:
    """Add one notification, sealed (:func:`seal_of`); False when a row with the same ``dedupe_key``
    already exists."""
    subject, body = render(kind, lang, **values)
    seal = seal_of(
        keyring,
        kind=kind,
        case_id=case_id,
        recipient=recipient,
        lang=lang,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
    )
    conn = session.connection()
    stmt = (
        upsert_insert(conn.dialect.name)(_outbox)
        .values(
            case_id=case_id,
            kind=kind,
            recipient=recipient,
            lang=lang,
            subject=subject,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            dedupe_key=dedupe_key,
            seal=seal,
        )
        .on_conflict_do_nothing()
        .returning(_outbox.c.id)
    )
    # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT that returns rows
    return conn.execute(stmt).first() is not None


_outbox = Outbox.__table__


@dataclass(frozen=True)
class Staff:
    """A staff member as notifications need them (plain data, safe to cache between transactions)."""

    id: int
    username: str
    full_name: str
    email: str | None
    lang: str
    grants: tuple[tuple[str, str | None, str | None], ...]  # (role, unit_code, case_type)


def load_directory(session: Session) -> list[Staff]:
    users, grants = User.__table__, RoleGrant.__table__
    rows = (
        session.connection()
        .execute(
            sa.select(
                users.c.id,
                users.c.username,
                users.c.full_name,
                users.c.email,
                users.c.lang,
                grants.c.role,
                grants.c.unit_code,
                grants.c.case_type,
            )
            .join(grants, grants.c.user_id == users.c.id)
            .where(users.c.active == sa.true())
            .order_by(users.c.id)
        )
        .all()
    )
    out: dict[int, Staff] = {}
    for r in rows:
        prev = out.get(r.id)
        g = (*(prev.grants if prev else ()), (r.role, r.unit_code, r.case_type))
        out[r.id] = Staff(r.id, r.username, r.full_name or "", r.email, r.lang or "id", g)
    return list(out.values())


def users_with_roles(
    session: Session, roles: set[str], case: Case, directory: list[Staff] | None = None
) -> list[Staff]:
    """Active users holding one of ``roles`` for the case's unit and type, minus recused officials."""
    if not roles:
        return []
    recused = case.recused  # user ids (case_recusal)
    return [
        u
        for u in (directory if directory is not None else load_directory(session))
        if u.id not in recused
        and any(
            role in roles and unit in (None, case.unit_code) and ctype in (None, case.case_type)
            for role, unit, ctype in u.grants
        )
    ]


def _case_values(engine: Office, defn: WorkflowDef, case: Case, lang: str) -> dict[str, Any]:
    return {
        "number": case.number,
        "type": defn.label.get(lang),
        "state": defn.states[case.state].label.get(lang),
        "link": f"{engine.settings.base_url}/staf/perkara/{case.number}",
        "track": f"{engine.settings.base_url}/lacak",
    }


def _reporter_values(engine: Office, defn: WorkflowDef, case: Case, lang: str) -> dict[str, Any]:
    """What a mail to the reporter may say: the stage in the reporter's words (``reporter_label``), never
    the staff's name for it."""
    vals = _case_values(engine, defn, case, lang)
    vals["state"] = defn.states[case.state].reporter_label.get(lang)
    vals.pop("link", None)  # the staff page is not theirs
    return vals


#: the values every staff mail about a case may use (number, type, state, link) / what a mail to the reporter
#: may say (the stage in their words, no staff link)
case_values = _case_values
reporter_values = _reporter_values


def acting_roles(defn: WorkflowDef, state: str) -> set[str]:
    """Staff roles that can act on a case in ``state`` (its queue)."""
    return {r for t in defn.transitions_from(state) for r in t.roles} - {"pelapor", "system"}


def notify_staff(
    session: Session,
    engine: Office,
    defn: WorkflowDef,
    case: Case,
    roles: set[str],
    *,
    kind: str,
    now: datetime,
    dedupe: str,
    **extra: Any,
) -> list[Staff]:
    """Queue ``kind`` to each active user holding one of ``roles`` for the case (those with an e-mail), in
    their language, once per ``dedupe`` key. ``extra`` values may be callables of the user (for labels in
    the user's language). Returns every user found, with or without an e-mail."""
    users = users_with_roles(session, roles, case, engine.staff_directory(session))
    for user in users:
        if not user.email:
            continue
        vals = _case_values(engine, defn, case, user.lang)
        vals["name"] = user.full_name or user.username
        vals.update({k: v(user) if callable(v) else v for k, v in extra.items()})
        queue(
            session,
            keyring=engine.keyring,
            kind=kind,
            recipient=user.email,
            lang=user.lang,
            now=now,
            case_id=case.id,
            dedupe_key=f"{dedupe}:{user.id}",
            **vals,
        )
    return users


def _notify_next_actors(session: Session, engine: Office, defn: WorkflowDef, case: Case, now: datetime) -> None:
    notify_staff(
        session,
        engine,
        defn,
        case,
        acting_roles(defn, case.state),
        kind="queue",
        now=now,
        dedupe=f"queue:{case.id}:{case.version}",
        due="",
    )


def reporter_email(engine: Office, defn: WorkflowDef, case: Case) -> str | None:
    """Where the reporter gets status mail: a contact field first (given for updates, also by anonymous
    reporters), else an identity e-mail. Both are sealed in the case's identity envelope."""
    held = case.sealed_fields
    emails = sorted(
        (
            f
            for f in (*defn.intake, *defn.fields)
            if f.type == "email" and f.is_identity and (held is None or f.name in held)
        ),
        key=lambda f: not f.contact,
    )
    if not emails or not case.identity_enc or not case.data_key:
        # decrypt only when an address can be there: ``sealed_fields`` names every value the envelope holds
        return None
    values = engine.case_key(case).open(case.identity_enc) or {}
    for f in emails:
        if values.get(f.name):
            return str(values[f.name])
    return None


def on_created(session: Session, engine: Office, defn: WorkflowDef, case: Case, data: dict, now: datetime) -> None:
    _notify_next_actors(session, engine, defn, case, now)


def on_transition(
    session: Session,
    engine: Office,
    defn: WorkflowDef,
    case: Case,
    t: TransitionSpec,
    from_state: str,
    data: dict,
    now: datetime,
) -> None:
    if case.state != from_state:
        _notify_next_actors(session, engine, defn, case, now)
        email = reporter_email(engine, defn, case)
        if email:
            lang = "id"
            vals = _reporter_values(engine, defn, case, lang)
            queue(
                session,
                keyring=engine.keyring,
                kind="reporter_status",
                recipient=VAULT_PREFIX + engine.keyring.seal_office(email),
                lang=lang,
                now=now,
                case_id=case.id,
                dedupe_key=f"reporter:{case.id}:{case.version}",
                **vals,
            )


def on_message(
    session: Session, engine: Office, defn: WorkflowDef, case: Case, from_reporter: bool, now: datetime
) -> None:
    """A reporter's message goes to whoever can act on the case now; a handler's to the reporter's e-mail."""
    if from_reporter:
        notify_staff(
            session,
            engine,
            defn,
            case,
            acting_roles(defn, case.state),
            kind="reporter_message",
            now=now,
            dedupe=f"msg:{case.id}:{case.version}",
        )
        return
    email = reporter_email(engine, defn, case)
    if email:
        vals = _reporter_values(engine, defn, case, "id")
        queue(
            session,
            keyring=engine.keyring,
            kind="reporter_reply",
            recipient=VAULT_PREFIX + engine.keyring.seal_office(email),
            lang="id",
            now=now,
            case_id=case.id,
            dedupe_key=f"reporter:{case.id}:{case.version}",
            **vals,
        )


# --- delivery ------------------------------------------------------------------------------------

BACKOFF = (60, 300, 900, 3600, 4 * 3600, 12 * 3600)  # seconds; then the row is marked failed


class Mailer:
    """Sends one message over SMTP; ``smtp://host:port`` or ``smtps://user:pass@host:port``."""

    def __init__(self, url: str, sender: str):
        u = urlparse(url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise ValueError(f"WBS_SMTP_URL must look like smtp://host:25, not {url!r}")
        self.host, self.port = u.hostname, u.port or (465 if u.scheme == "smtps" else 25)
        self.tls = u.scheme == "smtps"
        self.user, self.password = u.username, u.password
        self.sender = sender

    def send(self, recipient: str, subject: str, body: str, lang: str) -> None:
        import smtplib  # here: only the deliverer sends mail, and every command imports this module
        import ssl

        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, recipient, subject
        msg.set_content(body)
        msg["Content-Language"] = lang  # after set_content, which resets the content headers
        cls = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        kwargs = {"context": ssl.create_default_context()} if self.tls else {}
        with cls(self.host, self.port, timeout=20, **kwargs) as smtp:
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


def describe_failure(exc: BaseException, recipient: str | None) -> str:
    """What a failed send is recorded as (``outbox.last_error``, logs, the CLI): the exception's class and
    the SMTP reply code, never the server's text, which names the recipient (a refused address is repeated
    in it), nor the recipient in any other error's text. A reporter's address must never leave its seal."""
    import re
    import smtplib

    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _msg in exc.recipients.values()})
        return f"{name}: {', '.join(codes) or '-'}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: {exc.smtp_code}"
    text = str(exc)
    if recipient:
        text = re.sub(re.escape(recipient), "<recipient>", text, flags=re.IGNORECASE)
        local = recipient.split("@", 1)[0]
        if len(local) >= 3:
            text = re.sub(re.escape(local), "<recipient>", text, flags=re.IGNORECASE)
    return f"{name}: {text}"[:500]


def next_attempt(now: datetime, attempts: int) -> datetime | None:
    if attempts > len(BACKOFF):
        return None
    return now + timedelta(seconds=BACKOFF[attempts - 1])
