"""The engine operations the web will call, on SQLite and PostgreSQL: the intake form, what an actor may do
now, a case's history for auditors with its verification, reads of sealed data recorded, and errors that
carry their HTTP meaning."""

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.errors import ConcurrentChange, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from wbs_engine.models import CaseEvent
from wbs_engine.permissions import Actor
from wbs_engine.views import SEALED, case_history, case_view


def test_intake_form_follows_the_yaml_and_the_identity_mode(wbs):
    form = wbs.intake_form("pengaduan")
    assert form.identity_mode == "anonim"  # the most private the workflow allows
    names = [f.name for f in form.fields]
    assert "nama" not in names and "email" not in names  # no identity asked of an anonymous reporter
    assert "email_kontak" in names  # a contact for updates still is
    assert names.index("layanan") < names.index("uraian")  # the file's order
    assert [c.mode for c in form.identity_modes] == ["anonim", "rahasia", "terbuka"]
    assert "kode pelacakan" in form.identity_modes[0].explanation
    open_form = wbs.intake_form("pengaduan", "terbuka", lang="en")
    nama = next(f for f in open_form.fields if f.name == "nama")
    assert (nama.label, nama.required, nama.identity, nama.sealed) == ("Full name", True, True, True)
    kategori = next(f for f in open_form.fields if f.name == "kategori")
    assert kategori.type == "select" and ("ringan", "Minor") in kategori.options and not kategori.sealed
    with pytest.raises(ValidationFailed):
        wbs.intake_form("gratifikasi", "anonim")  # not offered by that workflow
    with pytest.raises(NotFound):
        wbs.intake_form("tidak_ada")


def test_available_actions_are_exactly_what_may_fire(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pel, atasan, auditor = (wbs.load_actor(u) for u in ("pengelola", "atasan", "auditor"))
    assert [a.trigger for a in wbs.available_actions(c.number, pel)] == ["mulai_verifikasi"]
    assert wbs.available_actions(c.number, auditor) == []  # reads, never acts
    wbs.fire(c.number, "mulai_verifikasi", pel)
    actions = {a.trigger: a for a in wbs.available_actions(c.number, pel, lang="en")}
    assert set(actions) == {"minta_informasi", "disposisi", "bukan_wewenang", "arsipkan"}
    disposisi = actions["disposisi"]
    assert [(f.name, f.required, f.type) for f in disposisi.fields] == [
        ("unit_tujuan", True, "unit"),
        ("instruksi", True, "textarea"),
    ]
    assert actions["arsipkan"].reason and not disposisi.reason and disposisi.to_state == "Sent to a unit"
    assert {a.trigger for a in wbs.available_actions(c.number, atasan)} == {"disposisi"}
    # every listed action fires for that actor; a trigger not listed is refused
    wbs.fire(c.number, "minta_informasi", pel, {"pesan": "Mohon sebutkan jam kejadiannya."})
    with unit_of_work(wbs.db, write=False) as s:
        reporter = wbs.reporter(s, c.receipt_code)[0]
    [answer] = wbs.available_actions(c.number, reporter)
    assert answer.trigger == "beri_informasi" and answer.role == "pelapor"
    assert [f.name for f in answer.fields] == ["jawaban_pelapor"]
    # recusal: an official kept off the case is offered nothing
    with wbs.db.begin() as conn:
        case_id = conn.execute(sa.text("SELECT id FROM case_file WHERE number = :n"), {"n": c.number}).scalar()
        uid = conn.execute(sa.text("SELECT id FROM user_account WHERE username = 'pengelola'")).scalar()
        conn.execute(
            sa.text("INSERT INTO case_recusal (case_id, user_id, created_at) VALUES (:c, :u, :t)"),
            {"c": case_id, "u": uid, "t": wbs.now()},
        )
    assert wbs.available_actions(c.number, pel) == []
    closed = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    wbs.fire(closed.number, "mulai_verifikasi", pel)
    wbs.fire(closed.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    assert wbs.available_actions(closed.number, pel) == []  # a closed case offers nothing
    assert wbs.available_actions(closed.number, Actor.system()) == []


def test_a_guard_that_refuses_hides_the_action_and_can_say_why(wbs):
    """``not_own_case``: the employee who filed a WBS report is also on the review team."""
    from wbs_engine.users import create_or_update_user, parse_grant

    create_or_update_user(wbs, "ganda", [parse_grant("tim_telaah"), parse_grant("pegawai")], password=None)
    ganda = wbs.load_actor("ganda")
    c = wbs.create_case(
        "wbs",
        {"kategori": "korupsi", "apa": "Pemotongan honor kegiatan tanpa dasar hukum yang jelas.", "siapa": "Bendahara"},
        identity_mode="rahasia",
        filed_by=ganda,
    )
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), {"petugas": "telaah"})
    offered = {a.trigger for a in wbs.available_actions(c.number, ganda)}
    assert "lengkap" not in offered and "minta_informasi" in offered
    blocked = {a.trigger: a.blocked for a in wbs.available_actions(c.number, ganda, include_blocked=True)}
    assert "sendiri" in blocked["lengkap"]


def test_reading_sealed_data_is_recorded_and_listed_in_the_history(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"))
    wbs.fire(c.number, "arsipkan", wbs.load_actor("pengelola"), reason="Bukan pengaduan pelayanan publik.")
    case_view(wbs, c.number, None)  # the console opens nothing: nothing to record
    assert _kinds(wbs, c.number).count("case_read") == 0
    clock.advance(minutes=1)
    view = case_view(wbs, c.number, wbs.load_actor("atasan"))
    assert view["fields"]["nama"] == COMPLAINT["nama"]
    reads = _events(wbs, c.number, "case_read")
    assert len(reads) == 1 and reads[0].actor == "atasan" and reads[0].actor_role == "atasan"
    assert reads[0].payload["identity"] is True and "nama" in reads[0].payload["fields"]
    assert COMPLAINT["nama"] not in str(reads[0].payload)  # names of fields, never values
    clock.advance(minutes=1)
    history = case_history(wbs, c.number, wbs.load_actor("auditor"), lang="en")
    kinds = [e["kind"] for e in history["events"]]
    assert kinds == ["created", "transition", "transition", "case_read"]  # the atasan's read
    assert _kinds(wbs, c.number).count("case_read") == 2  # and now the auditor's own
    archive = history["events"][2]
    assert (
        archive["reason"] == "Bukan pengaduan pelayanan publik." and archive["to_label"] == "Archived (not a complaint)"
    )
    assert archive["hash"] and archive["prev_hash"] == history["events"][1]["hash"]
    assert history["events"][0]["changed"]["uraian"] == COMPLAINT["uraian"]  # the auditor may read the report
    assert history["events"][0]["changed"]["nama"] == SEALED  # rahasia: identity for the atasan only
    assert history["check"]["ok"] and history["check"]["unsealed"] == history["check"]["events"]
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    with unit_of_work(wbs.db, write=False) as s:
        check = audit.verify_case(s, c.number, keyring=wbs.keyring)
        assert check.ok and check.checkpoint == 1 and check.unsealed == 0
        assert audit.verify(s, keyring=wbs.keyring).ok  # read events keep the trail and the case row consistent


def test_verify_case_names_a_tampered_event_and_a_forged_checkpoint(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"))
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    ev = CaseEvent.__table__
    with wbs.db.begin() as conn:
        conn.execute(ev.update().where(ev.c.chain == c.number, ev.c.seq == 2).values(actor="orang_lain"))
    with unit_of_work(wbs.db, write=False) as s:
        check = audit.verify_case(s, c.number, keyring=wbs.keyring)
    assert not check.ok and check.problems[0].code == "event_edited"
    with wbs.db.begin() as conn:
        conn.execute(ev.update().where(ev.c.chain == c.number, ev.c.seq == 2).values(actor="pengelola"))
        conn.execute(sa.text("UPDATE audit_checkpoint SET signature = :x"), {"x": "A" * 86})
    with unit_of_work(wbs.db, write=False) as s:
        check = audit.verify_case(s, c.number, keyring=wbs.keyring)
    assert [p.code for p in check.problems] == ["checkpoint_signature"]


def test_errors_carry_their_http_meaning_and_a_code(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    cases = [
        (lambda: wbs.fire("PGD-2026-999999", "mulai_verifikasi", wbs.load_actor("pengelola")), NotFound, 404),
        (lambda: wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("auditor")), NotAllowed, 403),
        (lambda: wbs.fire(c.number, "jawab", wbs.load_actor("pengelola")), InvalidTransition, 409),
        (
            lambda: wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), expected_version=9),
            ConcurrentChange,
            409,
        ),
        (lambda: wbs.create_case("pengaduan", {"kategori": "aneh"}), ValidationFailed, 422),
    ]
    for call, kind, status in cases:
        with pytest.raises(kind) as exc:
            call()
        body = exc.value.to_dict("en")
        assert exc.value.status == status and body["status"] == status and body["error"] == exc.value.code
        assert body["message"] == exc.value.message("en")
    invalid = exc.value.to_dict("id")["params"]["fields"]
    assert set(invalid) == {"kategori", "layanan", "uraian"} and "pilih salah satu" in invalid["kategori"]


def _events(wbs, number, kind):
    with unit_of_work(wbs.db, write=False) as s:
        return [e for e in audit.chain_events(s, number) if e.kind == kind]


def _kinds(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        return [e.kind for e in audit.chain_events(s, number)]
