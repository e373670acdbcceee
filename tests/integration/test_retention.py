"""Retention (wbs_engine/retention.py) on SQLite and PostgreSQL: what is due, what destroying does and keeps,
the destruction record, the views of a destroyed case, who may, and that a second apply does nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT, run_wbs, seed_people
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, ValidationFailed
from wbs_engine.files import AttachmentDestroyed, attach, list_attachments, open_attachment
from wbs_engine.models import Attachment, Case, CaseEvent, Message
from wbs_engine.retention import ALL_DUE, NotDue, add_years, destroy, due_for_destruction
from wbs_engine.tracking import tracking_view
from wbs_engine.users import create_or_update_user, parse_grant
from wbs_engine.views import SEALED, case_history, case_view

CASES, EVENTS, FILES, MESSAGES = Case.__table__, CaseEvent.__table__, Attachment.__table__, Message.__table__


def add_admin(eng):
    create_or_update_user(eng, "admin", [parse_grant("admin")], email="admin@kantor.test", password="rahasia-demo-123")
    return eng.load_actor("admin")


def closed_case(eng, clock, *, with_file=False):
    """A complaint filed, worked on (a message, optionally a file) and archived: a final state."""
    c = eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pel = eng.load_actor("pengelola")
    clock.advance(minutes=5)
    eng.fire(c.number, "mulai_verifikasi", pel)
    eng.post_message(c.number, pel, "Mohon kirim bukti pembayaran.")
    if with_file:
        from tests.integration.test_files import pdf

        attach(eng, c.number, pel, "bukti.pdf", io.BytesIO(pdf()))
    clock.advance(minutes=5)
    eng.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    clock.advance(minutes=5)
    return c


def stored_files(eng):
    root = eng.settings.attachments_path
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def verify_ok(eng):
    with unit_of_work(eng.db, write=False) as s:
        res = audit.verify(s, keyring=eng.keyring)
    assert res.problems == [], [p.message("en") for p in res.problems]


def counts(eng):
    with unit_of_work(eng.db, write=False) as s:
        c = s.connection()
        return tuple(
            c.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (CASES, FILES, MESSAGES)
        )


def test_add_years_never_destroys_early():
    assert add_years(date(2026, 3, 2), 5) == date(2031, 3, 2)
    assert add_years(date(2028, 2, 29), 5) == date(2033, 3, 1)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_dry_run_lists_exactly_the_due_cases(wbs, clock):
    first = closed_case(wbs, clock)  # closed 2026-03-02 (office time)
    clock.now = datetime(2026, 3, 2, 16, 50, tzinfo=UTC)  # 23:50 WIB on 2 March
    second = closed_case(wbs, clock)  # closed 3 March 00:05 WIB: a day later in the office's zone
    open_one = wbs.create_case("pengaduan", COMPLAINT)
    assert due_for_destruction(wbs, date(2031, 3, 1)) == []
    due = due_for_destruction(wbs, date(2031, 3, 2))
    assert [d.number for d in due] == [first.number]
    assert (due[0].case_type, due[0].closed_on, due[0].retention_years, due[0].due_on) == (
        "pengaduan",
        date(2026, 3, 2),
        5,
        date(2031, 3, 2),
    )
    assert [d.number for d in due_for_destruction(wbs, date(2031, 3, 3))] == [first.number, second.number]
    assert open_one.number not in [d.number for d in due_for_destruction(wbs, date(2040, 1, 1))]


def test_apply_destroys_content_keeps_rows_and_trail_and_writes_one_record(wbs, clock):
    admin = add_admin(wbs)
    a = closed_case(wbs, clock, with_file=True)
    b = closed_case(wbs, clock)
    files_before = stored_files(wbs)
    assert len(files_before) == 1
    rows_before = counts(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        events_before = s.connection().execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one()
    clock.now = datetime(2031, 3, 2, 1, 0, tzinfo=UTC)
    rec = destroy(wbs, ALL_DUE, admin, "  JRA Perka ANRI\n22/2015 ")
    assert rec.numbers == sorted([a.number, b.number]) and rec.count == 2
    assert rec.basis == "JRA Perka ANRI 22/2015" and rec.by == "admin" and rec.files_deleted == 1
    # files gone, rows kept, the trail only grew
    assert stored_files(wbs) == set()
    assert counts(wbs) == rows_before
    with unit_of_work(wbs.db, write=False) as s:
        conn = s.connection()
        assert conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one() == events_before + 3
        keys = conn.execute(sa.select(CASES.c.data_key, CASES.c.identity_enc)).all()
        assert all(k is None and enc for k, enc in keys)  # the key gone, the ciphertext kept (noise)
        record = audit.chain_events(s, audit.SYSTEM_CHAIN)[-1]
        assert (record.kind, record.actor, record.actor_role) == ("destruction_recorded", "admin", "admin")
        assert record.payload == {"cases": rec.numbers, "count": 2, "basis": "JRA Perka ANRI 22/2015"}
        assert (record.seq, record.hash) == (rec.seq, rec.hash)
        last = audit.chain_events(s, a.number)[-1]
        assert (last.kind, last.actor, last.actor_role) == ("content_destroyed", "admin", "admin")
        assert last.payload["record"] == rec.seq and last.payload["attachments"] == 1
    verify_ok(wbs)
    # sealed values unreadable, for everyone, and said so
    auditor = wbs.load_actor("auditor")
    view = case_view(wbs, a.number, wbs.load_actor("pengelola"), "en")
    assert view["destroyed"] is True and "destroyed at the end of its retention period" in view["destroyed_note"]
    assert view["fields"]["nama"] == SEALED and view["fields"]["uraian"] == SEALED and view["messages"] == []
    assert view["fields"]["kategori"] == "normatif"  # plain fields stay
    hist = case_history(wbs, a.number, auditor, "id")
    assert hist["destroyed"] is True and "dimusnahkan" in hist["destroyed_note"] and hist["check"]["ok"]
    assert hist["events"][-1]["kind"] == "content_destroyed"
    page = tracking_view(wbs, a.receipt_code, "en")
    assert page["destroyed"] is True and page["destroyed_note"]
    assert all(m["body"] is None for m in page["messages"]) and "uraian" not in {
        f.get("name") for f in page["you_wrote"]
    }
    with pytest.raises(AttachmentDestroyed):
        list_attachments(wbs, a.number, wbs.load_actor("pengelola"))
    with unit_of_work(wbs.db, write=False) as s:
        file_id = s.connection().execute(sa.select(FILES.c.id)).scalar_one()
    with pytest.raises(AttachmentDestroyed):
        open_attachment(wbs, a.number, file_id, wbs.load_actor("pengelola"))
    verify_ok(wbs)
    # a case never destroyed says so too
    fresh = wbs.create_case("pengaduan", COMPLAINT)
    assert case_view(wbs, fresh.number, auditor, "en")["destroyed"] is False


def test_apply_twice_does_nothing_the_second_time(wbs, clock):
    admin = add_admin(wbs)
    c = closed_case(wbs, clock)
    clock.now = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)
    assert destroy(wbs, ALL_DUE, admin, "JRA").count == 1
    with unit_of_work(wbs.db, write=False) as s:
        n = s.connection().execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one()
    again = destroy(wbs, ALL_DUE, admin, "JRA")
    assert (again.count, again.seq, again.already) == (0, None, [])
    named = destroy(wbs, [c.number], admin, "JRA")
    assert (named.count, named.already) == (0, [c.number])
    with unit_of_work(wbs.db, write=False) as s:
        assert s.connection().execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one() == n
    assert due_for_destruction(wbs) == []
    verify_ok(wbs)


def test_only_an_admin_with_a_basis_destroys_and_only_what_is_due(wbs, clock):
    admin = add_admin(wbs)
    c = closed_case(wbs, clock)
    open_one = wbs.create_case("pengaduan", COMPLAINT)
    clock.now = datetime(2031, 3, 1, 1, 0, tzinfo=UTC)
    for who in ("pengelola", "auditor", "atasan"):
        with pytest.raises(NotAllowed):
            destroy(wbs, ALL_DUE, wbs.load_actor(who), "JRA")
    with pytest.raises(NotAllowed):
        destroy(wbs, ALL_DUE, None, "JRA")
    for basis in ("", "   ", None, "x" * 501):
        with pytest.raises(ValidationFailed):
            destroy(wbs, ALL_DUE, admin, basis)
    with pytest.raises(NotDue, match="2031-03-02"):  # a day early
        destroy(wbs, [c.number], admin, "JRA")
    with pytest.raises(NotDue):
        destroy(wbs, [open_one.number], admin, "JRA")
    with pytest.raises(ValidationFailed):
        destroy(wbs, "everything", admin, "JRA")
    with unit_of_work(wbs.db, write=False) as s:
        assert all(k for k in s.connection().execute(sa.select(CASES.c.data_key)).scalars())
        assert audit.chain_events(s, audit.SYSTEM_CHAIN)[-1].kind != "destruction_recorded"
    verify_ok(wbs)


def test_a_key_deleted_without_the_record_is_still_found(wbs, clock):
    c = closed_case(wbs, clock)
    with unit_of_work(wbs.db) as s:
        s.connection().execute(sa.update(CASES).where(CASES.c.number == c.number).values(data_key=None))
    with unit_of_work(wbs.db, write=False) as s:
        assert [p.code for p in audit.verify(s, keyring=wbs.keyring).problems] == ["case_row_mismatch"]


def test_the_admins_digest_counts_what_is_due_and_never_destroys(wbs, clock):
    from wbs_engine.models import Outbox
    from wbs_engine.scheduler import daily_digest

    add_admin(wbs)
    closed_case(wbs, clock)
    daily_digest(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        assert s.exec(sa.select(Outbox.kind).where(Outbox.kind == "retention_due")).all() == []
    clock.now = datetime(2031, 3, 2, 0, 0, tzinfo=UTC)  # 07:00 WIB
    daily_digest(wbs)
    daily_digest(wbs)  # once a day
    with unit_of_work(wbs.db, write=False) as s:
        mails = s.exec(sa.select(Outbox).where(Outbox.kind == "retention_due")).all()
        assert [m[0].recipient for m in mails] == ["admin@kantor.test"]
        assert "1" in mails[0][0].subject and "wbs retention --apply" in mails[0][0].body
        assert all(k for k in s.connection().execute(sa.select(CASES.c.data_key)).scalars())


def test_cli_dry_run_and_apply(make_wbs, tmp_path, clock):
    instance = tmp_path / "instance"
    eng = make_wbs(f"sqlite:///{instance / 'wbs.sqlite3'}")
    seed_people(eng)
    add_admin(eng)
    env = {"WBS_INSTANCE_DIR": str(instance), "WBS_DATABASE_URL": ""}
    young = closed_case(eng, clock)  # closed 2 March 2026: kept until 2031 (the command runs on today's date)
    clock.now = datetime.now(UTC) - timedelta(days=6 * 366)  # the command has no --now: a case closed 6 years ago
    old = closed_case(eng, clock, with_file=True)
    res = run_wbs("--lang", "en", "retention", "--dry-run", env=env)
    assert res.exit_code == 0, res.stderr
    assert old.number in res.stdout and "pengaduan" in res.stdout and young.number not in res.stdout
    assert "Due for destruction: 1. Nothing was destroyed (dry run)." in res.stdout
    assert json.loads(run_wbs("retention", "--json", env=env).stdout)[0]["number"] == old.number
    for args, words in (
        (("retention", "--apply", "--basis", "JRA"), "--as"),
        (("retention", "--apply", "--as", "admin"), "--basis"),
        (("retention", "--apply", "--as", "pengelola", "--basis", "JRA"), "Only an administrator"),
        (("retention", "--apply", "--as", "admin", "--basis", " "), "legal basis"),
        (("retention", "--dry-run", "--apply"), "cannot be used together"),
        (("retention", "--apply", "--as", "admin", "--basis", "JRA", "--case", young.number), "kept until 2031-03-02"),
    ):
        bad = run_wbs("--lang", "en", *args, env=env)
        assert bad.exit_code == 2 and words in bad.stderr, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    assert len(stored_files(eng)) == 1
    res = run_wbs("--lang", "en", "retention", "--apply", "--as", "admin", "--basis", "JRA Perka ANRI 22/2015", env=env)
    assert res.exit_code == 0, res.stderr
    assert "Destruction record (berita acara pemusnahan), system event #" in res.stdout
    assert "Basis: JRA Perka ANRI 22/2015" in res.stdout and f"Cases (1): {old.number}" in res.stdout
    assert "By: admin" in res.stdout and "Files deleted: 1" in res.stdout
    assert stored_files(eng) == set()
    again = run_wbs("--lang", "en", "retention", "--apply", "--as", "admin", "--basis", "JRA", env=env)
    assert again.exit_code == 0 and "nothing was done" in again.stdout
    shown = run_wbs("--lang", "en", "case", "show", old.number, "--as", "auditor", env=env)
    assert shown.exit_code == 0 and "DESTROYED: The content of this case was destroyed" in shown.stdout
    page = run_wbs("case", "show", old.number, "--as", f"pelapor:{old.receipt_code}", env=env)
    assert page.exit_code == 0 and "DIMUSNAHKAN: Isi perkara ini telah dimusnahkan" in page.stdout
    assert "DESTROYED" not in run_wbs("--lang", "en", "case", "show", young.number, env=env).stdout
    assert run_wbs("verify-audit", env=env).exit_code == 0


def test_destruction_empties_the_case_mail_too(wbs, clock):
    """A reporter's address waits in the outbox sealed with the office key (so that it can be sent): deleting the
    case key alone would leave it readable. Destruction empties the case's outbox rows and sends nothing more."""
    import sqlalchemy as sa

    from wbs_engine import retention
    from wbs_engine.db import unit_of_work
    from wbs_engine.models import Outbox

    created = wbs.create_case("pengaduan", {**COMPLAINT_WITH_MAIL}, identity_mode="terbuka")
    pengelola = wbs.load_actor("pengelola")
    wbs.fire(created.number, "mulai_verifikasi", pengelola)
    wbs.fire(created.number, "arsipkan", pengelola, reason="Bukan pengaduan: permintaan informasi.")
    with unit_of_work(wbs.db, write=False) as s:
        case_id = wbs.get_case(s, created.number).id
        rows = s.exec(sa.select(Outbox).where(Outbox.case_id == case_id)).scalars().all()
    assert rows and any(r.recipient.startswith("vault:") for r in rows)
    clock.advance(days=366 * 6)
    retention.destroy(wbs, [created.number], add_admin(wbs), "JRA Perka ANRI 22/2015")
    with unit_of_work(wbs.db, write=False) as s:
        rows = s.exec(sa.select(Outbox).where(Outbox.case_id == case_id)).scalars().all()
    assert rows and all(r.recipient == "-" and r.body == "" and r.status != "pending" for r in rows)


COMPLAINT_WITH_MAIL = {
    "nama": "Siti Aminah",
    "email": "siti@contoh.id",
    "layanan": "Layanan legalisir ijazah",
    "kategori": "normatif",
    "uraian": "Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
}
