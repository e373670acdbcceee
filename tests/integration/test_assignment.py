"""Claim, release and assign (``wbs_engine.assignment``) and internal notes (``post_message(internal=True)``), on
SQLite and PostgreSQL: who may do what, the case's lock and version, the trail and verify-audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import assignment, audit, notify, scheduler, tracking
from wbs_engine.db import unit_of_work
from wbs_engine.errors import ConcurrentChange, InvalidTransition, NotAllowed, ValidationFailed
from wbs_engine.models import Case, CaseRecusal, Message, User
from wbs_engine.users import create_or_update_user, parse_grant
from wbs_engine.views import case_view

CASES = Case.__table__


def complaint(wbs, unit="LAYANAN"):
    return wbs.create_case("pengaduan", dict(COMPLAINT), unit_code=unit)


def to_unit(wbs, number, unit="LAYANAN"):
    pel = wbs.load_actor("pengelola")
    wbs.fire(number, "mulai_verifikasi", pel)
    wbs.fire(number, "disposisi", pel, {"unit_tujuan": unit, "instruksi": "Mohon ditindaklanjuti segera."})


def assigned(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        case = s.exec(sa.select(Case).where(Case.number == number)).scalars().one()
        return s.get(User, case.assigned_user_id).username if case.assigned_user_id else None


def verify_ok(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring)
    return res.ok, [p.message("en") for p in res.problems]


def test_claim_release_assign_and_the_trail(wbs):
    n = complaint(wbs).number
    pel = wbs.load_actor("pengelola")
    v0 = case_view(wbs, n, pel)["version"]
    v1 = assignment.assign(wbs, n, pel, "pengelola", expected_version=v0)
    assert v1 == v0 + 1 and assigned(wbs, n) == "pengelola"
    # the same again changes nothing
    assert assignment.assign(wbs, n, pel, "pengelola") == v1
    v2 = assignment.assign(wbs, n, pel, "atasan", expected_version=v1)
    assert assigned(wbs, n) == "atasan"
    v3 = assignment.assign(wbs, n, pel, None, expected_version=v2)
    assert v3 == v2 + 1 and assigned(wbs, n) is None
    with unit_of_work(wbs.db, write=False) as s:
        events = [e for e in audit.chain_events(s, n) if e.kind == "assigned"]
    assert [e.payload for e in events] == [
        {"assigned_to": "pengelola", "case_version": v1},
        {"assigned_to": "atasan", "case_version": v2},
        {"assigned_to": None, "case_version": v3},
    ]
    assert verify_ok(wbs) == (True, [])


def test_verify_audit_finds_an_assignment_changed_behind_its_back(wbs):
    n = complaint(wbs).number
    assignment.assign(wbs, n, wbs.load_actor("pengelola"), "atasan")
    assert verify_ok(wbs)[0]
    with unit_of_work(wbs.db) as s:
        uid = s.exec(sa.select(User.id).where(User.username == "petugas")).scalar_one()
        s.connection().execute(sa.update(CASES).where(CASES.c.number == n).values(assigned_user_id=uid))
    ok, problems = verify_ok(wbs)
    assert not ok and any("assigned officer" in p for p in problems)


def test_stale_version_changes_nothing(wbs):
    n = complaint(wbs).number
    pel = wbs.load_actor("pengelola")
    v = case_view(wbs, n, pel)["version"]
    wbs.post_message(n, pel, "Mohon lengkapi kronologi.")  # someone else moves the case on
    with pytest.raises(ConcurrentChange):
        assignment.assign(wbs, n, pel, "pengelola", expected_version=v)
    assert assigned(wbs, n) is None


def test_only_pengelola_or_atasan_assign_others_a_unit_officer_claims(wbs):
    n = complaint(wbs).number
    to_unit(wbs, n)
    unit = wbs.load_actor("petugas")
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, n, unit, "pengelola")
    assert assignment.assignable_users(wbs, n, unit) == []  # nobody to offer: they may only claim
    assignment.assign(wbs, n, unit, "petugas")
    assert assigned(wbs, n) == "petugas"
    # another unit's officer cannot even see it; the auditor reads but does not assign
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, n, wbs.load_actor("petugas.umum"), "petugas.umum")
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, n, wbs.load_actor("auditor"), "auditor")
    # a colleague of the same unit may not take it over; a pengelola may
    create_or_update_user(wbs, "petugas2", [parse_grant("unit:LAYANAN")], email="p2@kantor.test", password="x" * 12)
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, n, wbs.load_actor("petugas2"), "petugas2")
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, n, wbs.load_actor("petugas2"), None)
    assignment.assign(wbs, n, wbs.load_actor("pengelola"), "petugas2")
    assert assigned(wbs, n) == "petugas2"
    assignment.assign(wbs, n, wbs.load_actor("petugas2"), None)  # the assignee releases
    assert assigned(wbs, n) is None


def test_assignee_must_work_on_the_case(wbs):
    n = complaint(wbs).number
    pel = wbs.load_actor("pengelola")
    for who in ("petugas.umum", "auditor", "pegawai", "tidak-ada"):
        with pytest.raises(ValidationFailed) as exc:
            assignment.assign(wbs, n, pel, who)
        assert "petugas" in exc.value.errors
    offered = {c.username: c.offered for c in assignment.assignable_users(wbs, n, pel)}
    assert offered["pengelola"] and offered["atasan"] and offered["petugas"]
    assert "petugas.umum" not in offered and "auditor" not in offered


def test_recused_official_is_neither_assigned_nor_assigning(wbs):
    n = complaint(wbs).number
    pel = wbs.load_actor("pengelola")
    with unit_of_work(wbs.db) as s:
        case_id = s.exec(sa.select(Case.id).where(Case.number == n)).scalar_one()
        atasan = s.exec(sa.select(User.id).where(User.username == "atasan")).scalar_one()
        s.add(CaseRecusal(case_id=case_id, user_id=atasan, created_at=wbs.now()))
    with pytest.raises(ValidationFailed) as exc:
        assignment.assign(wbs, n, pel, "atasan")
    assert "conflict of interest" in exc.value.errors["petugas"].render("en")
    listed = {c.username: c for c in assignment.assignable_users(wbs, n, pel)}
    assert listed["atasan"].offered is False
    assert "conflict of interest" in listed["atasan"].why_not.render("en")
    # the recused official gets the refusal of anyone without access
    with pytest.raises(NotAllowed) as refused:
        assignment.assign(wbs, n, wbs.load_actor("atasan"), "atasan")
    assert refused.value.message("en") == f"atasan may not see case {n}."
    assert assigned(wbs, n) is None


def test_closed_case_is_not_assigned(wbs):
    n = complaint(wbs).number
    pel = wbs.load_actor("pengelola")
    wbs.fire(n, "mulai_verifikasi", pel)
    wbs.fire(n, "arsipkan", pel, reason="Bukan pengaduan, hanya pertanyaan.")
    with pytest.raises(InvalidTransition):
        assignment.assign(wbs, n, pel, "pengelola")


def test_internal_note_never_reaches_the_reporter(wbs, smtp_sink):
    created = wbs.create_case("pengaduan", {**COMPLAINT, "email_kontak": "siti@contoh.id"}, unit_code="LAYANAN")
    n = created.number
    pel = wbs.load_actor("pengelola")
    wbs.post_message(n, pel, "Terima kasih, laporan sedang kami periksa.")
    wbs.post_message(n, pel, "CATATAN-INTERNAL: pelaku diduga kerabat kepala unit.", internal=True)
    view = tracking.tracking_view(wbs, created.receipt_code, "en")
    bodies = [m["body"] for m in view["messages"]]
    assert bodies == ["Terima kasih, laporan sedang kami periksa."]
    assert "CATATAN-INTERNAL" not in repr(view)
    staff = case_view(wbs, n, pel, "en")["messages"]
    assert [m["internal"] for m in staff] == [False, True]
    with unit_of_work(wbs.db, write=False) as s:
        ev = [e for e in audit.chain_events(s, n) if e.kind == "message"]
        row = s.exec(sa.select(Message).order_by(Message.id.desc())).scalars().first()
    assert ev[-1].payload["internal"] is True and "internal" not in ev[0].payload
    assert row.to_reporter is False and row.author == "pengelola"
    # the reporter's mail: one for the real message, none for the note, and no mail holds the note's text
    scheduler.deliver_outbox(wbs, notify.Mailer(smtp_sink.url, "wbs@kantor.test"))
    to_reporter = [m for m in smtp_sink.messages if "siti@contoh.id" in m.rcpt_tos]
    assert len(to_reporter) == 1  # the office's message; the note sent nothing
    assert not any("CATATAN-INTERNAL" in m.text() for m in smtp_sink.messages)
    # the reporter cannot write notes
    with unit_of_work(wbs.db, write=False) as s:
        actor, _case = wbs.reporter(s, created.receipt_code)
    with pytest.raises(NotAllowed):
        wbs.post_message(n, actor, "Ini catatan saya.", internal=True)
    assert verify_ok(wbs) == (True, [])


def test_a_handler_claims_only_a_case_their_role_acts_on_at_its_stage(wbs):
    """After disposisi a complaint waits for the unit: the pengelola, who has nothing to do there, is not
    offered the claim and is refused it; the unit's officer may take it."""
    created = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pengelola = wbs.load_actor("pengelola")
    wbs.fire(created.number, "mulai_verifikasi", pengelola)
    wbs.fire(created.number, "disposisi", pengelola, {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti."})
    assert not assignment.abilities(wbs, created.number, pengelola).claim
    with pytest.raises(NotAllowed):
        assignment.assign(wbs, created.number, pengelola, "pengelola")
    petugas = wbs.load_actor("petugas")
    assert assignment.abilities(wbs, created.number, petugas).claim
    assignment.assign(wbs, created.number, petugas, "petugas")
