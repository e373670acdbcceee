"""Declared interests: conflict-of-interest aware routing.

A case type with an ``interests:`` block (``benturan_kepentingan.yaml``) holds *declarations*: a case filed by
an official from their account, whose plain fields match ``when`` (``jalur: deklarasi_mandiri``), names in a
free-text field (``pihak_terkait``, sealed) the persons, firms or subjects of the conflict, separated by
commas. While the declaration is in one of ``active_states`` (open, or decided with a conflict: every state
but ``tidak_ada_benturan``), its declarant is **recused** from every other case whose text names one of them:

* a name is matched case-insensitively, as whole words (``PT Maju Jaya`` matches ``pt maju  jaya`` but not
  ``PT Maju Jayanti``), and only names of 3 characters or more count;
* a case's text is what the declarant's own roles may read of it: its plain text values and the sealed
  fields their sight on that case allows (the engine opens them with the case key; messages and attachments
  are not read). Never the fields they may not read (a reporter's identity they were not given): matching
  those would let a declarant learn hidden text by declaring a guess and watching the case disappear;
* the cases checked are the OPEN cases other than the declaration itself, except those the declarant filed
  (their own reports stay theirs) and those they are already recused from;
* a recusal is a ``case_recusal`` row and a ``recused`` event on THAT case's chain, payload
  ``{"recused": username, "basis": "declaration", "declaration": "BK-…"}`` (``wbs verify-audit`` replays it);
  if the declarant was assigned the case, the assignment is dropped in the same event (``assigned_to``) and
  the case's version moves on. Nothing is written on the declaration's chain: its declarant learns nothing
  about other cases. A recusal is never lifted automatically (a declaration closing later keeps it).

When: (a) a case is filed — :func:`on_case_filed`, from ``engine.create_case``: the new case against every
active declaration, and, if it is an active declaration itself, (b) every open case against it; (b) again
when an atasan decides the declaration with a conflict (effect ``recuse_declared_interests``), so that text
added to other cases since the filing counts too.

Cost: (a) decrypts each active declaration's field once per filing (a few hundred declarations: a few ms);
(b) reads every open case once, in pages of :data:`PAGE` by id, decrypting each case's two sealed envelopes
(about 0.1 ms a case: some 0.1 s per thousand open cases, 10 s per hundred thousand) inside the filing's
transaction. Fine for an office's thousands of open cases; a very large install would move (b) to the
scheduler.

This module never imports the engine (the engine calls it): ``engine`` is the
:class:`~wbs_engine.engine.WbsEngine` (``keyring``, ``workflow``, ``registry``, ``now``, ``db``).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from . import audit, permissions, writepath
from .db import prepared, unit_of_work
from .definition import InterestsSpec, WorkflowDef
from .errors import NotFound
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Case, CaseRecusal, User
from .permissions import Actor

#: a name must have at least this many characters to count
MIN_NAME = 3
#: a name is cut to this many words and characters (see :func:`names_in`)
MAX_NAME_WORDS = 12
MAX_NAME_CHARS = 120
#: open cases read per page in (b)
PAGE = 500

_cases = Case.__table__
_recusals = CaseRecusal.__table__
_users = User.__table__
_SPLIT = re.compile(r"[,;\n]+")


def names_in(text: Any) -> list[str]:
    """The names a declaration lists: split on commas (semicolons and new lines too), spaces collapsed,
    3 characters or more, each once (ignoring case as the patterns do), in the declarant's order and words.
    A name is cut to its first :data:`MAX_NAME_WORDS` words, and to fewer while longer than
    :data:`MAX_NAME_CHARS` characters (a firm's or a person's name is far shorter): every filing matches
    every active declaration's names against the new case's text, and a name of hundreds of words would make
    that slow for everyone. A cut name matches at
    least what the whole one did (more, never less: the declarant is kept off rather than let on)."""
    if not isinstance(text, str):
        return []
    out: list[str] = []
    seen: set[str] = set()
    for part in _SPLIT.split(text):
        words = part.split()[:MAX_NAME_WORDS]
        while len(words) > 1 and len(" ".join(words)) > MAX_NAME_CHARS:
            words.pop()
        name = " ".join(words)  # one very long word stays whole: a literal costs little, and cut it would not match
        if len(name) >= MIN_NAME and _same_to_patterns(name) not in seen:
            seen.add(_same_to_patterns(name))
            out.append(name)
    return out


def _same_to_patterns(name: str) -> str:
    """What two names have in common when the patterns (``re.IGNORECASE``: one character's simple lower case
    for one) treat them alike: their lower case, where it keeps every character one character (not so for
    e.g. "İ"; "Straße" and "STRASSE" stay two names, as they are two patterns)."""
    low = name.lower()
    return low if len(low) == len(name) else name


def pattern(names: list[str]) -> re.Pattern[str] | None:
    """One regular expression matching any of ``names`` as whole words, in any case, any run of white space
    between their words."""
    if not names:
        return None
    alts = sorted((r"\s+".join(re.escape(w) for w in n.split()) for n in names), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE)


def loose_pattern(names: list[str]) -> re.Pattern[str] | None:
    """A wider net than :func:`pattern`, for the full text of a case (every field, sealed ones opened, in
    :func:`case_text`'s order): the longest word of each name, as a whole word, in any case. Wherever
    :func:`pattern` matches what a declarant may read of a case (some of those fields in the same order,
    joined by new lines), every word of the matched name stands there between white space or the text's ends,
    so its longest word matches the full text too: declarations this does not match need not be looked at
    further (see :func:`on_case_filed`). Literal alternatives only, so it runs in linear time on any text."""
    if not names:
        return None
    words = sorted({max(n.split(), key=len) for n in names}, key=len, reverse=True)  # as typed: re's own case rule
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class _Names:
    names: tuple[str, ...]
    regex: re.Pattern[str] | None
    loose: re.Pattern[str] | None


#: the names each declaration lists, opened and compiled, per keyring; keyed by what they are read from (the
#: declaration's id, its plain value and sealed blobs and wrapped key as read in the caller's transaction), so
#: an edited or destroyed declaration is read afresh. Every filing checks every active declaration: without
#: this, one decryption and two regular-expression compilations each, every time.
_NAMES: dict[int, OrderedDict[tuple, _Names]] = {}  # id(keyring) -> memo; dropped with the keyring
_NAMES_LOCK = threading.Lock()
_NAMES_MAX = 4096


def case_text(engine: Any, s: Session, row: Any, declarant: Actor) -> str:
    """What ``declarant`` may read of a case in words: the plain string values and the sealed fields their
    roles on it may read (``permissions.Sight``), opened with its key; empty when they may not read it at all
    (a case they cannot reach needs no recusal, and reading more would make the recusal an oracle)."""
    defn = engine.registry.get(s, row.case_type, row.workflow_version).definition
    roles = permissions.readable_roles(defn, declarant.roles_for(row))
    if not roles:
        return ""
    sight = permissions.Sight(defn, row, roles)
    parts = [v for k, v in (row.data or {}).items() if isinstance(v, str) and sight.may_read(k)]
    if row.data_key and sight.anything:
        key = engine.keyring.case_key(row.data_key)
        for blob in (row.identity_enc, row.confidential_enc):
            parts.extend(v for k, v in (key.open(blob) or {}).items() if isinstance(v, str) and sight.may_read(k))
    return "\n".join(parts)


@dataclass(frozen=True)
class Declaration:
    case_id: int
    number: str
    user_id: int
    username: str
    names: tuple[str, ...]
    regex: re.Pattern[str]


def _is_declaration(defn: WorkflowDef, row: Any) -> InterestsSpec | None:
    spec = defn.interests
    if spec is None or row.filed_by_user_id is None:
        return None
    if any((row.data or {}).get(k) != v for k, v in spec.when.items()):
        return None
    return spec


def is_active(defn: WorkflowDef, row: Any) -> bool:
    """Is ``row`` a declaration that keeps its declarant off other cases now?"""
    spec = _is_declaration(defn, row)
    return spec is not None and row.state in spec.active_states


def _declared_names(engine: Any, spec: InterestsSpec, row: Any) -> list[str]:
    if not row.data_key:
        return []
    key = engine.keyring.case_key(row.data_key)
    for blob in (row.confidential_enc, row.identity_enc):
        value = (key.open(blob) or {}).get(spec.field)
        if value:
            return names_in(value)
    return names_in((row.data or {}).get(spec.field))


def _names_of(engine: Any, spec: InterestsSpec, row: Any) -> _Names:
    """:func:`_declared_names` with its two patterns, remembered (see ``_NAMES``)."""
    plain = (row.data or {}).get(spec.field)
    key = (
        row.id,
        spec.field,
        plain if isinstance(plain, str) else None,
        row.data_key,
        row.confidential_enc,
        row.identity_enc,
    )
    with _NAMES_LOCK:
        memo = _NAMES.get(id(engine.keyring))
        if memo is None:
            memo = _NAMES[id(engine.keyring)] = OrderedDict()
            weakref.finalize(engine.keyring, _NAMES.pop, id(engine.keyring), None)
        got = memo.get(key)
        if got is not None:
            memo.move_to_end(key)
            return got
    names = _declared_names(engine, spec, row)
    got = _Names(tuple(names), pattern(names), loose_pattern(names))
    with _NAMES_LOCK:
        memo[key] = got
        while len(memo) > _NAMES_MAX:
            memo.popitem(last=False)
    return got


def _declaration(s: Session, engine: Any, defn: WorkflowDef, row: Any, state: str | None = None) -> Declaration | None:
    spec = _is_declaration(defn, row)
    if spec is None or (state or row.state) not in spec.active_states:
        return None
    names = _names_of(engine, spec, row)
    regex = names.regex
    if regex is None:
        return None
    username = s.connection().execute(sa.select(_users.c.username).where(_users.c.id == row.filed_by_user_id)).scalar()
    if username is None:
        return None
    return Declaration(row.id, row.number, row.filed_by_user_id, username, names.names, regex)


_DECLARATIONS: dict[tuple[str, ...], sa.Select] = {}


def _declarations_stmt(keys: tuple[str, ...]) -> sa.Select:
    """The rows of every case of the declaration types ``keys`` filed from an account, built once per set of
    types (it runs in every filing, on the DB-API cursor: :class:`wbs_engine.db.Prepared`)."""
    stmt = _DECLARATIONS.get(keys)
    if stmt is None:
        types = [sa.bindparam(f"type_{i}", k) for i, k in enumerate(keys)]
        stmt = _DECLARATIONS[keys] = (
            sa.select(_cases)
            .where(_cases.c.case_type.in_(types), _cases.c.filed_by_user_id.is_not(None))
            .order_by(_cases.c.id)
        )
    return stmt


def _declaration_rows(s: Session, engine: Any) -> list[tuple[WorkflowDef, Any]]:
    keys = [k for k in engine.registry.keys if engine.registry.latest(k).definition.interests is not None]
    if not keys:
        return []
    out = []
    for row in prepared(_declarations_stmt(tuple(keys))).all(s):
        out.append((engine.registry.get(s, row.case_type, row.workflow_version).definition, row))
    return out


def _full_text(engine: Any, row: Any) -> str:
    """Every string value of a case, sealed ones opened, in :func:`case_text`'s order: the most any declarant
    could read of it."""
    parts = [v for v in (row.data or {}).values() if isinstance(v, str)]
    if row.data_key:
        key = engine.keyring.case_key(row.data_key)
        for blob in (row.identity_enc, row.confidential_enc):
            parts.extend(v for v in (key.open(blob) or {}).values() if isinstance(v, str))
    return "\n".join(parts)


def _recused_ids(s: Session, case_id: int) -> set[int]:
    return set(s.connection().execute(sa.select(_recusals.c.user_id).where(_recusals.c.case_id == case_id)).scalars())


def _event(s: Session, number: str, case_id: int, d: Declaration, now: datetime, extra: dict[str, Any]) -> None:
    audit.append(
        s,
        chain=number,
        case_id=case_id,
        kind="recused",
        actor="system",
        actor_role="system",
        now=now,
        payload={"recused": d.username, "basis": "declaration", "declaration": d.number, **extra},
    )


def on_case_filed(s: Session, engine: Any, defn: WorkflowDef, case: Case, now: datetime) -> list[str]:
    """(a) the new ``case`` against every active declaration; (b) if it is an active declaration, every open
    case against it. Called by ``create_case`` after the ``created`` event, in its transaction. Returns the
    usernames recused from the new case."""
    recused = []
    full: str | None = None
    for ddefn, row in _declaration_rows(s, engine):
        if row.id == case.id or row.filed_by_user_id == case.filed_by_user_id:
            continue
        spec = _is_declaration(ddefn, row)
        if spec is None or row.state not in spec.active_states:
            continue
        loose = _names_of(engine, spec, row).loose
        if full is None:
            full = _full_text(engine, case)
        if loose is None or not loose.search(full):
            continue  # no text of this case any declarant may read names them: no account to load
        d = _declaration(s, engine, ddefn, row)
        if d is None:
            continue
        text = case_text(engine, s, case, permissions.load_actor(s, d.username))
        if d.regex.search(text) and d.user_id not in _recused_ids(s, case.id):
            # a new case: nobody holds its version yet and nobody is assigned, so no version change
            s.connection().execute(sa.insert(_recusals), {"case_id": case.id, "user_id": d.user_id, "created_at": now})
            _event(s, case.number, case.id, d, now, {})
            recused.append(d.username)
    if recused:
        s.expire(case, ["recusals"])  # the notices that follow skip the recused (case.recused)
    mine = _declaration(s, engine, defn, case)
    if mine is not None:
        recuse_from_open_cases(s, engine, mine, now)
    return recused


def recuse_from_open_cases(s: Session, engine: Any, d: Declaration, now: datetime) -> list[str]:
    """(b) every open case other than the declaration that names one of ``d``'s names keeps its declarant
    off. Returns the numbers of the cases newly recused from (for tests and logs: never shown to the
    declarant)."""
    conn = s.connection()
    already = sa.select(_recusals.c.case_id).where(_recusals.c.user_id == d.user_id)
    declarant = permissions.load_actor(s, d.username)
    cols = (
        _cases.c.id,
        _cases.c.number,
        _cases.c.case_type,
        _cases.c.workflow_version,
        _cases.c.unit_code,
        _cases.c.filed_by_user_id,
        _cases.c.identity_mode,
        _cases.c.data,
        _cases.c.data_key,
        _cases.c.identity_enc,
        _cases.c.confidential_enc,
    )
    matched: list[str] = []
    last = 0
    while True:
        page = conn.execute(
            sa.select(*cols)
            .where(
                _cases.c.final == sa.false(),
                _cases.c.id > last,
                _cases.c.id != d.case_id,
                sa.or_(_cases.c.filed_by_user_id.is_(None), _cases.c.filed_by_user_id != d.user_id),
                _cases.c.id.not_in(already),
            )
            .order_by(_cases.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            break
        last = page[-1].id
        matched.extend(row.number for row in page if d.regex.search(case_text(engine, s, row, declarant)))
    done = []
    for number in matched:
        rec = writepath.case_for_write(s, number)  # locked; then checked again under the lock
        if d.user_id in rec.recused or rec.final:
            continue
        rec.recused = frozenset(rec.recused) | {d.user_id}
        extra: dict[str, Any] = {}
        if rec.assigned_user_id == d.user_id:
            rec.assigned_user_id = None
            extra["assigned_to"] = None  # recorded, so that the case row still agrees with its trail
        writepath.write_case(s, rec)
        extra["case_version"] = rec.version
        _event(s, rec.number, rec.id, d, now, extra)
        done.append(rec.number)
    return done


def after_decision(s: Session, engine: Any, defn: WorkflowDef, case: Any, dest: str, now: datetime) -> list[str]:
    """The effect ``recuse_declared_interests``: the declaration ``case`` is entering ``dest``; if it is an
    active declaration there, (b) again."""
    d = _declaration(s, engine, defn, case, state=dest)
    return recuse_from_open_cases(s, engine, d, now) if d is not None else []


def summary(engine: Any, number: str, actor: Any) -> Msg | None:
    """For the declarant's own declaration page ("my reports"): while the declaration is active, "you are
    kept off cases that name: …" in their own words; None for anyone else, another case or an inactive
    declaration. Says nothing about which cases."""
    with unit_of_work(engine.db, write=False) as s:
        try:
            case = engine.get_case(s, number)
        except NotFound:  # the same answer as another's case: no probing of numbers
            return None
        if getattr(actor, "user_id", None) is None or case.filed_by_user_id != actor.user_id:
            return None
        defn = engine.workflow(s, case).definition
        d = _declaration(s, engine, defn, case)
        if d is None:
            return None
        return Msg(
            _("While this declaration is active you are kept off cases that name: {names}."),
            names="; ".join(d.names),
        )


def recusal_reasons(engine: Any, number: str, viewer: Any, lang: str = "id") -> dict[str, Msg]:
    """Why each official is kept off case ``number``, for a viewer who may read its recusals (the
    ``recused`` list of ``views.case_view`` is shown to them): username → message. A declaration names the
    declaration's number; a recusal decided on the case (``recuse_official``) says so. Empty for anyone
    else (a recusal must not be learnt by trying)."""
    from .permissions import Sight, has_access, readable_roles

    with unit_of_work(engine.db, write=False) as s:
        case = engine.get_case(s, number)
        defn = engine.workflow(s, case).definition
        if not has_access(defn, case, viewer):
            return {}
        if not Sight(defn, case, readable_roles(defn, viewer.roles_for(case))).secret:
            return {}
        out: dict[str, Msg] = {}
        for e in audit.chain_events(s, case.number):
            p = e.payload or {}
            who = p.get("recused")
            if not who or who in out:
                continue
            if p.get("basis") == "declaration":
                out[who] = Msg(
                    _("kept off: their declaration of interests {declaration} names someone or something in this case"),
                    declaration=p.get("declaration"),
                )
            else:
                out[who] = Msg(_("kept off: recused on this case because of a conflict of interest"))
        return out
