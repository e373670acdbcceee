"""Demo data: units, one account per role, and cases of every type at every state, back-dated.

The walk is generic: for every state of every workflow it finds the shortest route from the initial
state and fires it with sample values, so a new workflow file gets demo cases without code. Case ages
are spread so queues show new, due-soon and overdue work at once. Also used by tests that walk every
path of every workflow.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import audit
from .accounts import totp_roles
from .db import unit_of_work
from .definition import FieldSpec, TransitionSpec, WorkflowDef
from .engine import WbsEngine
from .i18n import DEFAULT_LOCALE, render
from .i18n import gettext_noop as _
from .permissions import Actor
from .users import create_or_update_user, ensure_unit

DEMO_UNITS = [
    ("PUSAT", "Sekretariat / Unit Pengaduan"),
    ("LAYANAN", "Seksi Layanan Penjaminan Mutu"),
    ("UMUM", "Subbagian Umum"),
]

#: demo account per role: (username, full name, grants)
DEMO_USERS = [
    ("pengelola", "Sri Pengelola", ["pengelola"]),
    ("atasan", "Rina Atasan", ["atasan"]),
    ("petugas.layanan", "Budi Petugas Layanan", ["unit:LAYANAN"]),
    ("petugas.umum", "Dewi Petugas Umum", ["unit:UMUM"]),
    ("upg", "Agus UPG", ["upg", "pengelola::gratifikasi"]),
    ("telaah", "Tono Tim Telaah", ["tim_telaah"]),
    ("investigator", "Ika Tim Investigasi", ["tim_investigasi"]),
    ("pegawai", "Wati Pegawai", ["pegawai"]),
    ("auditor", "Hadi Auditor", ["auditor"]),
    ("admin", "Admin Sistem", ["admin"]),
]

SAMPLE_TEXT = {
    "nama": "Ahmad Pelapor Contoh",
    "nip": "198501012010011001",
    "jabatan": "Analis Kebijakan",
    "layanan": "Layanan fasilitasi penjaminan mutu sekolah",
    "lokasi": "Kantor BPMP, Jakarta Selatan",
}


def sample_value(
    spec: FieldSpec,
    i: int = 0,
    *,
    units: list[str] | None = None,
    users: list[str] | None = None,
    today: date | None = None,
) -> Any:
    """A valid value for ``spec`` (used by demo data and by tests that walk the workflows)."""
    today = today or date(2026, 1, 5)
    if spec.name in SAMPLE_TEXT and spec.type == "text":
        return SAMPLE_TEXT[spec.name]
    if spec.type == "select":
        return spec.options[i % len(spec.options)].value
    if spec.type == "date":
        return (today - timedelta(days=3)).isoformat()
    if spec.type == "datetime":
        return datetime(today.year, today.month, today.day, 9, 0).isoformat()
    if spec.type in ("number", "money"):
        low = spec.min_value or 0
        return int(max(low, 750000 if spec.type == "money" else 1))
    if spec.type == "email":
        return f"pelapor{i}@contoh.id"
    if spec.type == "phone":
        return "081234567890"
    if spec.type == "boolean":
        return False
    if spec.type == "unit":
        return (units or ["LAYANAN"])[i % len(units or ["LAYANAN"])]
    if spec.type == "user":
        return (users or ["pegawai"])[0]
    text = f"Contoh {spec.label.id.lower()} untuk perkara demo nomor {i + 1}."
    want = max(spec.min_length or 0, 10 if spec.type == "textarea" else 0)
    while len(text) < want:
        text += " Keterangan tambahan untuk melengkapi uraian."
    return text[: spec.max_length] if spec.max_length else text


def user_for(defn: WorkflowDef, t: TransitionSpec, users_by_role: dict[str, str]) -> str:
    """The username a ``user`` field of transition ``t`` gets in a walk: for a step that assigns a handler
    (effect ``assign_handler``) someone who acts in the state it leads to; otherwise (e.g. the official who
    steps aside in a recusal) the employee."""
    if "assign_handler" in t.effects:
        roles = [r for nt in defn.transitions_from(t.dest) for r in nt.roles if r not in ("pelapor", "system")]
        handler = next((users_by_role[r] for r in roles if r in users_by_role), None)
        if handler is not None:
            return handler
    return users_by_role.get("pegawai", "pegawai")


def routes(defn: WorkflowDef) -> dict[str, list[TransitionSpec]]:
    """Shortest route (list of transitions) from the initial state to every reachable state."""
    out: dict[str, list[TransitionSpec]] = {defn.initial: []}
    todo = deque([defn.initial])
    while todo:
        state = todo.popleft()
        for t in defn.transitions_from(state):
            if t.dest not in out and not t.internal:
                out[t.dest] = [*out[state], t]
                todo.append(t.dest)
    return out


def all_paths(defn: WorkflowDef) -> list[list[TransitionSpec]]:
    """Every simple path from the initial state to a final state (no state visited twice)."""
    paths: list[list[TransitionSpec]] = []

    def walk(state: str, seen: set[str], path: list[TransitionSpec]) -> None:
        if defn.states[state].final:
            paths.append(path)
            return
        for t in defn.transitions_from(state):
            if t.internal or t.dest in seen:
                continue
            walk(t.dest, seen | {t.dest}, [*path, t])

    walk(defn.initial, {defn.initial}, [])
    return paths


@dataclass
class Walker:
    """Drives one case along transitions with a user who holds the needed role."""

    engine: WbsEngine
    users_by_role: dict[str, str]
    units: list[str]

    def actor_for(self, t: TransitionSpec, receipt: str, filer: str | None) -> Actor:
        for role in t.roles:
            if role == "system":
                return Actor.system()
            if role == "pelapor":
                if filer:
                    return self.engine.load_actor(filer)
                with unit_of_work(self.engine.db, write=False) as s:
                    return self.engine.reporter(s, receipt)[0]
            if role in self.users_by_role:
                return self.engine.load_actor(self.users_by_role[role])
        raise LookupError(f"no demo user for roles {t.roles}")

    def data_for(self, defn: WorkflowDef, t: TransitionSpec, i: int, today: date) -> dict[str, Any]:
        out = {}
        handler = user_for(defn, t, self.users_by_role)
        for name in (*t.requires, *t.optional):
            spec = defn.field(name)
            if spec is not None:
                out[name] = sample_value(
                    spec,
                    i,
                    units=self.units[1:2] or self.units,
                    users=[handler],
                    today=today,
                )
        return out

    def intake(self, defn: WorkflowDef, i: int, today: date) -> dict[str, Any]:
        return {
            f.name: sample_value(f, i, units=self.units, today=today) for f in defn.intake if f.required or i % 2 == 0
        }

    def filer(self, defn: WorkflowDef) -> str | None:
        if "public" in defn.filed_by:
            return None
        for role in defn.filed_by:
            if role in self.users_by_role:
                return self.users_by_role[role]
        return None

    def create(self, defn: WorkflowDef, i: int, now: datetime) -> tuple[str, str, str | None]:
        filer = self.filer(defn)
        actor = self.engine.load_actor(filer) if filer else None
        identity = defn.identity[i % len(defn.identity)]
        created = self.engine.with_clock(lambda: now).create_case(
            defn.key, self.intake(defn, i, now.date()), identity_mode=identity, filed_by=actor
        )
        return created.number, created.receipt_code, filer

    def walk(
        self,
        defn: WorkflowDef,
        number: str,
        receipt: str,
        filer: str | None,
        path: list[TransitionSpec],
        start: datetime,
        step: timedelta,
        i: int = 0,
    ) -> datetime:
        now = start
        for t in path:
            now += step
            actor = self.actor_for(t, receipt, filer)
            reason = "Alasan contoh untuk data demo." if t.reason else None
            self.engine.with_clock(lambda at=now: at).fire(
                number, t.trigger, actor, self.data_for(defn, t, i, now.date()), reason=reason
            )
        return now


DEMO_MARK = "demo_seeded"


def is_demo_database(engine: WbsEngine) -> bool | None:
    """True: seeded by ``seed-demo``; None: empty (no account, no case); False: it holds real data."""
    import sqlalchemy as sa

    from .models import Case, CaseEvent, User

    with unit_of_work(engine.db, write=False) as s:
        conn = s.connection()
        ev = CaseEvent.__table__
        marked = conn.execute(
            sa.select(ev.c.id).where(ev.c.chain == audit.SYSTEM_CHAIN, ev.c.kind == DEMO_MARK).limit(1)
        ).first()
        if marked is not None:
            return True
        for table in (User.__table__, Case.__table__):
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
                return False
    return None


def seed(engine: WbsEngine, now: datetime, *, cases: bool | None = None, lang: str = DEFAULT_LOCALE) -> str:
    """Idempotent for units and users (passwords are reset and printed). Demo cases are added when the
    database has none (``cases=None``), always (True) or never (False). Returns the report (the accounts
    and their new passwords, what was added) in ``lang``.

    Runs only on a new database or one it seeded before (a ``demo_seeded`` event on the system chain): a
    database with real accounts or cases is refused, so demo data can never be mixed into an office's
    records, nor a real account named like a demo one get a new password."""
    from .errors import WbsError

    state = is_demo_database(engine)
    if state is False:
        raise WbsError(
            _(
                "This database holds real data (accounts or cases seed-demo did not make); seed-demo runs only on "
                "a new database or a demo one."
            )
        )
    if state is None:
        with unit_of_work(engine.db) as s:
            audit.append(s, chain=audit.SYSTEM_CHAIN, kind=DEMO_MARK, actor="seed-demo", now=engine.now(), payload={})
    for code, name in DEMO_UNITS:
        ensure_unit(engine, code, name, email=f"{code.lower()}@kantor.contoh.id")
    lines = [render(_("Demo accounts (new passwords on every seed-demo):"), lang)]
    from .users import parse_grant

    for username, full_name, grants in DEMO_USERS:
        parsed = [g for g in map(parse_grant, grants) if g.case_type in (None, *engine.registry.keys)]
        pw = create_or_update_user(
            engine,
            username,
            parsed,
            full_name=full_name,
            email=f"{username}@kantor.contoh.id",
            password=None,
            reset_password=True,
            actor="seed-demo",
        )
        lines.append(f"  {username:<16} {pw:<18} {', '.join(grants)}")
    lines.append(
        render(
            _(
                "Roles {roles} must use a second factor: at the first sign-in, scan the QR code with an "
                "authenticator app (the admin decides which roles at /staf/admin)."
            ),
            lang,
            roles=", ".join(totp_roles(engine)),
        )
    )
    users_by_role = {
        "pengelola": "pengelola",
        "atasan": "atasan",
        "unit": "petugas.layanan",
        "upg": "upg",
        "tim_telaah": "telaah",
        "tim_investigasi": "investigator",
        "pegawai": "pegawai",
        "auditor": "auditor",
        "admin": "admin",
    }
    walker = Walker(engine, users_by_role, [u[0] for u in DEMO_UNITS])
    if cases is None:
        from sqlmodel import func, select

        from .models import Case

        with unit_of_work(engine.db, write=False) as s:
            cases = s.exec(select(func.count()).select_from(Case)).one() == 0
    if not cases:
        lines.append(render(_("Demo cases already present; none added (use --more-cases to add)."), lang))
        return "\n".join(lines)
    made = 0
    to_try: list[tuple[str, str, str]] = []  # (number, tracking code, state label) for a newcomer to open
    picked: set[tuple[str, str]] = set()
    # ages in calendar days: fresh, due soon, overdue, long overdue
    ages = [0, 2, 4, 9, 20, 45]
    rnd = secrets.SystemRandom()
    for key in engine.registry.keys:
        defn = engine.registry.latest(key).definition
        for j, (_state, path) in enumerate(sorted(routes(defn).items())):
            age = ages[(j + made) % len(ages)]
            start = now - timedelta(days=age, hours=rnd.randint(1, 6))
            step = timedelta(days=age) / (len(path) + 1) if age else timedelta(minutes=10)
            number, receipt, filer = walker.create(defn, made, start)
            walker.walk(defn, number, receipt, filer, path, start, step, made)
            made += 1
            kind = _tracking_kind(defn, _state) if "public" in defn.filed_by else None
            if kind is not None and (defn.key, kind) not in picked:
                picked.add((defn.key, kind))
                to_try.append((number, receipt, defn.states[_state].reporter_label.get(lang)))
    with unit_of_work(engine.db) as s:
        audit.checkpoint(s, max(now, engine.now()), engine.keyring)  # after every event written above
    lines.append(
        render(
            _("Demo cases created: {made} ({types} types, every state)."),
            lang,
            made=made,
            types=len(engine.registry.keys),
        )
    )
    if to_try:
        lines.append(render(_("Tracking codes of demo reports (open them at /lacak):"), lang))
        lines.extend(f"  {number:<18} {code:<21} {label}" for number, code, label in to_try)
    return "\n".join(lines)


def _tracking_kind(defn: WorkflowDef, state: str) -> str | None:
    """Which demo cases ``seed`` prints the codes of: per public case type a new one, one waiting for its
    reporter (a step the reporter takes), and a closed one."""
    if state == defn.initial:
        return "new"
    if defn.states[state].final:
        return "closed"
    if any("pelapor" in t.roles for t in defn.transitions_from(state)):
        return "reporter"
    return None
