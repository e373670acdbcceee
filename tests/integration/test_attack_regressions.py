"""Each break an attacker's review found (branch ``attack``, scripts ``attack/*.py``), replayed the way the
attacker did it, and what must hold instead. Most run on SQLite and PostgreSQL (``wbs`` fixture)."""

import hashlib
import shutil
import smtplib
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT, run_wbs
from wbs_engine import audit, notify
from wbs_engine.crypto import CryptoError
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed
from wbs_engine.models import AuditCheckpoint, AuditHead, Case, CaseCounter, CaseEvent, Clock, Message, Outbox
from wbs_engine.scheduler import deliver_outbox, sweep
from wbs_engine.users import create_or_update_user, parse_grant
from wbs_engine.views import case_view

REPO = Path(__file__).resolve().parents[2]
CASES, EVENTS, HEADS, CPS = Case.__table__, CaseEvent.__table__, AuditHead.__table__, AuditCheckpoint.__table__


def problems(wbs, **kw):
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring, **kw)
    return {p.code for p in res.problems}, res


def seal(wbs):
    with unit_of_work(wbs.db) as s:
        return audit.checkpoint(s, wbs.now(), wbs.keyring)


def wbs_report(wbs, who="pengelola", **extra):
    data = {
        "kategori": "korupsi",
        "apa": "Bendahara memalsukan kuitansi perjalanan dinas selama 2026.",
        "siapa": "Bendahara Pengeluaran",
        "nama": "Siti Whistleblower",
        "telepon": "0812 7777 1234",
        **extra,
    }
    c = wbs.create_case("wbs", data, identity_mode="rahasia")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor(who), {"petugas": "telaah"})
    return c


def test_h1_a_recused_official_can_no_longer_read_the_case(wbs):
    create_or_update_user(wbs, "kabag", [parse_grant("atasan")], password=None)
    c = wbs_report(wbs)
    assert case_view(wbs, c.number, wbs.load_actor("kabag"))["fields"]["nama"] == "Siti Whistleblower"
    wbs.fire(
        c.number,
        "kecualikan_pejabat",
        wbs.load_actor("atasan"),
        {"pejabat_terkait": "kabag"},
        reason="Kabag ini adalah terlapor.",
    )
    kabag = wbs.load_actor("kabag")
    with pytest.raises(NotAllowed, match="tidak berwenang melihat"):
        case_view(wbs, c.number, kabag, lang="en")
    assert wbs.available_actions(c.number, kabag) == []
    with pytest.raises(NotAllowed):
        wbs.post_message(c.number, kabag, "Saya ingin tahu siapa pelapornya.")


def test_h2_moving_the_filer_or_the_tracking_digest_is_found(wbs):
    victim = wbs_report(wbs)
    mine = wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    with wbs.db.begin() as conn:
        pegawai = conn.execute(sa.text("SELECT id FROM user_account WHERE username = 'pegawai'")).scalar()
        conn.execute(CASES.update().where(CASES.c.number == victim.number).values(filed_by_user_id=pegawai))
    found, res = problems(wbs)
    assert found == {"case_row_mismatch"} and "its filer" in res.problems[0].message("en")
    with wbs.db.begin() as conn:
        conn.execute(CASES.update().where(CASES.c.number == victim.number).values(filed_by_user_id=None))
        digest = conn.execute(sa.select(CASES.c.receipt_hash).where(CASES.c.number == mine.number)).scalar()
        conn.execute(CASES.update().where(CASES.c.number == mine.number).values(receipt_hash=None))
        conn.execute(CASES.update().where(CASES.c.number == victim.number).values(receipt_hash=digest))
    found, res = problems(wbs)
    assert "tracking-code digest" in " ".join(p.message("en") for p in res.problems)


def test_h3_a_chain_kept_out_of_the_seals_is_found_and_sealed_again(wbs, clock):
    c = wbs_report(wbs)
    seal(wbs)
    with wbs.db.begin() as conn:
        conn.execute(HEADS.update().where(HEADS.c.chain == c.number).values(sealed_seq=10**9))
    found, res = problems(wbs)
    assert "head_seal_edited" in found
    clock.advance(minutes=1)
    wbs.post_message(c.number, wbs.load_actor("telaah"), "Mohon kirim bukti kuitansi.")
    clock.advance(minutes=1)
    cp = seal(wbs)
    assert c.number in cp.heads  # not kept out: the next checkpoint seals it again
    assert problems(wbs)[1].ok


def test_h5_messages_removed_swapped_or_rewritten_are_found(wbs):
    c = wbs_report(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        reporter = wbs.reporter(s, c.receipt_code)[0]
    wbs.post_message(c.number, reporter, "Saya bersedia bersaksi; saksi lain: Pak Joko.")
    wbs.post_message(c.number, wbs.load_actor("telaah"), "Terima kasih, kami akan menghubungi Anda.")
    seal(wbs)
    msgs = Message.__table__
    with wbs.db.begin() as conn:
        rows = conn.execute(sa.select(msgs).order_by(msgs.c.id)).all()
        conn.execute(msgs.update().where(msgs.c.id == rows[0].id).values(body_enc=rows[1].body_enc))
    found, _ = problems(wbs)
    assert found == {"message_mismatch"}
    with wbs.db.begin() as conn:
        conn.execute(msgs.update().where(msgs.c.id == rows[0].id).values(body_enc=rows[0].body_enc))
        conn.execute(msgs.delete().where(msgs.c.id == rows[0].id))
    assert problems(wbs)[0] == {"message_mismatch"}


def test_h6_an_edited_stored_workflow_is_refused_and_its_traces_are_found(make_wbs, db_url, tmp_path):
    from tests.helpers import seed_people

    wf = tmp_path / "wf"
    shutil.copytree(REPO / "workflows", wf)
    eng = make_wbs(db_url, workflows_dir=wf)
    seed_people(eng)
    c = wbs_report(eng)
    # the office raises the version (a limit changed): the old case now runs on the stored text
    text = (wf / "wbs.yaml").read_text()
    old = int(text.split("\nversion: ", 1)[1].split("\n", 1)[0])
    (wf / "wbs.yaml").write_text(text.replace(f"\nversion: {old}\n", f"\nversion: {old + 1}\n", 1))
    eng2 = make_wbs(db_url, workflows_dir=wf)
    versions = eng2.registry.versions
    wv = sa.table("workflow_version", sa.column("key"), sa.column("version"), sa.column("source"), sa.column("sha256"))
    with eng2.db.begin() as conn:
        src = conn.execute(sa.select(wv.c.source).where(wv.c.key == "wbs", wv.c.version == old)).scalar()
        evil = src.replace("  identity: [atasan]\n", "  identity: [atasan, pegawai]\n")
        assert evil != src
        conn.execute(wv.update().where(wv.c.key == "wbs", wv.c.version == old).values(source=evil))
    eng3 = make_wbs(db_url, workflows_dir=wf)  # a fresh process: nothing cached
    with pytest.raises(Exception, match="edited in the database|diubah di basis data"):
        case_view(eng3, c.number, eng3.load_actor("pegawai"))
    with eng2.db.begin() as conn:  # the attacker updates the hash column too
        conn.execute(
            wv.update()
            .where(wv.c.key == "wbs", wv.c.version == old)
            .values(sha256=hashlib.sha256(evil.encode()).hexdigest())
        )
    eng4 = make_wbs(db_url, workflows_dir=wf)
    with unit_of_work(eng4.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in eng4.registry.versions(s)}
        res = audit.verify(s, keyring=eng4.keyring, workflows=workflows)
    assert any("not the one it was filed on" in p.message("en") for p in res.problems)
    assert versions  # (the registry of the second engine saw both versions)


def test_h7_a_refused_address_never_leaves_its_seal(wbs, clock):
    c = wbs.create_case("wbs", {**_wbs_data(), "email_kontak": "rahasia.pelapor@contoh.id"}, identity_mode="anonim")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), {"petugas": "telaah"})

    class Refusing:
        def send(self, recipient, *a):
            raise smtplib.SMTPRecipientsRefused({recipient: (550, f"5.1.1 <{recipient}>: User unknown".encode())})

    report = deliver_outbox(wbs, Refusing())
    assert report.retried or report.failed
    text = " ".join(report.errors)
    with unit_of_work(wbs.db, write=False) as s:
        text += " ".join(r.last_error or "" for r in s.exec(sa.select(Outbox)).scalars())
    assert "rahasia.pelapor" not in text and "SMTPRecipientsRefused: 550" in text


def test_h8_a_forged_outbox_row_is_never_sent(wbs, smtp_sink):
    c = wbs.create_case("wbs", {**_wbs_data(), "email_kontak": "rahasia.pelapor@contoh.id"}, identity_mode="anonim")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), {"petugas": "telaah"})
    with wbs.db.begin() as conn:
        sealed = conn.execute(
            sa.select(Outbox.__table__.c.recipient).where(Outbox.__table__.c.recipient.like("vault:%"))
        ).scalar()
        conn.execute(sa.update(Outbox.__table__).values(status="sent"))
        conn.execute(
            sa.insert(Outbox.__table__).values(
                kind="reporter_status",
                recipient=sealed,
                lang="id",
                subject="Konfirmasi identitas Anda",
                body="Klik http://jahat.example/konfirmasi untuk melanjutkan laporan.",
                status="pending",
                attempts=0,
                next_attempt_at=wbs.now(),
                created_at=wbs.now(),
            )
        )
    report = deliver_outbox(wbs, notify.Mailer(smtp_sink.url, "wbs@kantor.test"))
    assert report.sent == 0 and report.failed == 1 and "without the office's seal" in report.errors[0]
    assert smtp_sink.messages == []


def test_m3_clock_rows_edited_are_found(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    clock.advance(days=6)
    sweep(wbs)  # the 3-HK verification limit breached
    clocks = Clock.__table__
    with wbs.db.begin() as conn:
        conn.execute(clocks.update().values(breached_at=None, status="running"))
    assert problems(wbs)[0] == {"clock_mismatch"}
    with wbs.db.begin() as conn:
        conn.execute(sa.text("UPDATE case_clock SET due_date = '2027-01-04'"))
    assert "due 2027-01-04" in " ".join(p.message("en") for p in problems(wbs)[1].problems)
    assert c.number


def test_m4_grants_and_office_days_added_in_the_database_are_found(wbs):
    with wbs.db.begin() as conn:
        uid = conn.execute(sa.text("SELECT id FROM user_account WHERE username = 'pegawai'")).scalar()
        conn.execute(sa.text("INSERT INTO role_grant (user_id, role) VALUES (:u, 'atasan')"), {"u": uid})
    assert "grant_unrecorded" in problems(wbs)[0]
    with wbs.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM role_grant WHERE user_id = :u AND role = 'atasan'"), {"u": uid})
        conn.execute(
            sa.text(
                "INSERT INTO holiday (day, kind, name, created_by, created_at) "
                "VALUES ('2026-04-07', 'closed', 'Libur palsu', 'admin', :t)"
            ),
            {"t": wbs.now()},
        )
    assert problems(wbs)[0] == {"holiday_mismatch"}


def test_m5_forged_numbers_and_counterless_years_are_found(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    with wbs.db.begin() as conn:
        conn.execute(CASES.update().where(CASES.c.number == c.number).values(number="PGD-2026-00001"))
    assert "number_malformed" in problems(wbs)[0]
    with wbs.db.begin() as conn:
        conn.execute(CASES.update().where(CASES.c.number == "PGD-2026-00001").values(number="PGD-2025-000001"))
    assert "counter_missing" in problems(wbs)[0]


def test_m2_deleted_newest_checkpoints_show_by_their_age_and_unsealed_old_events(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    for _ in range(3):  # the scheduler's heartbeat: a signed checkpoint every interval, even on a quiet day
        clock.advance(minutes=10)
        with unit_of_work(wbs.db) as s:
            assert audit.checkpoint(s, wbs.now(), wbs.keyring, heartbeat=True) is not None
    fresh = problems(wbs, now=wbs.now(), max_age=timedelta(minutes=25))
    assert fresh[1].ok
    with wbs.db.begin() as conn:  # the newest two go, and the case with them
        conn.execute(CPS.delete().where(CPS.c.seq >= 2))
    clock.advance(minutes=10)
    found, _ = problems(wbs, now=wbs.now(), max_age=timedelta(minutes=25))
    assert "checkpoint_stale" in found
    # an event written (or kept) unsealed although a later checkpoint should have sealed it
    with wbs.db.begin() as conn:
        conn.execute(HEADS.update().where(HEADS.c.chain == c.number).values(sealed_seq=0))
        conn.execute(sa.text("UPDATE audit_checkpoint SET heads = '{}' WHERE seq = 1"))
    assert "unsealed_old_event" in problems(wbs)[0]


def test_m7_m8_rotation_completed_by_init_db_and_no_keyring_forked_for_data(wbs, tmp_path):
    from wbs_engine import keystore
    from wbs_engine.crypto import Keyring
    from wbs_engine.provision import init_database

    wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    ring = Keyring.load(wbs.settings.keyring_path)
    ring.add_encryption_key()
    ring.save(wbs.settings.keyring_path, replace=True)  # the rotation died before registering the new key
    with unit_of_work(wbs.db, write=False) as s, pytest.raises(CryptoError, match="bukan milik basis data ini"):
        keystore.check(s, Keyring.load(wbs.settings.keyring_path))
    init_database(wbs.settings)  # completes it
    with unit_of_work(wbs.db, write=False) as s:
        keystore.check(s, Keyring.load(wbs.settings.keyring_path))
    # the office_key table emptied and another (empty) keyring place: no new keyring for data that exists
    with wbs.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM office_key"))
    elsewhere = wbs.settings.with_(keyring_file=tmp_path / "new" / "keyring.json")
    with pytest.raises(CryptoError, match="menyimpan data tersegel") as refused:
        init_database(elsewhere)
    assert "holds sealed data" in refused.value.message("en")
    assert not (tmp_path / "new" / "keyring.json").exists()


def test_m9_seed_demo_refuses_a_real_database_and_back_dating(tmp_path):
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance")}
    assert run_wbs("init-db", env=env).exit_code == 0
    assert run_wbs("create-user", "admin", "--role", "admin", "--password", "rahasia-sekali-1", env=env).exit_code == 0
    res = run_wbs("seed-demo", env=env)
    assert res.exit_code == 2 and "data sungguhan" in res.stderr
    fresh = {"WBS_INSTANCE_DIR": str(tmp_path / "fresh")}
    assert run_wbs("init-db", env=fresh).exit_code == 0
    res = run_wbs("seed-demo", "--now", "2025-02-03T09:00", env=fresh)
    assert res.exit_code == 2 and "WBS_ALLOW_CLOCK_OVERRIDE" in res.stderr


def test_m10_a_huge_counter_is_a_named_gap_not_an_exhausted_machine(wbs):
    wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    with wbs.db.begin() as conn:
        conn.execute(sa.update(CaseCounter.__table__).values(last=10**9))
    found, res = problems(wbs)
    assert found == {"number_gap"} and "999999979 more" in res.problems[0].message("en")


def test_l2_a_damaged_row_is_a_named_problem_not_a_traceback(wbs, db_url):
    wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    seal(wbs)
    bad = "'[1'" if db_url.startswith("sqlite") else "'\"x\"'"
    with wbs.db.begin() as conn:
        conn.execute(sa.text(f"UPDATE audit_checkpoint SET heads = {bad}"))
    found, res = problems(wbs)
    assert found and not res.ok  # named (unreadable or altered), never raised


def test_l3_odd_keyrings_and_settings_are_one_line(tmp_path):
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance")}
    assert run_wbs("init-db", env=env).exit_code == 0
    for content in ("[]", '"kunci"', "[" * 100000):
        (tmp_path / "odd.json").write_text(content)
        res = run_wbs("unit", "list", env={**env, "WBS_KEYRING": str(tmp_path / "odd.json")})
        assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = run_wbs("unit", "list", env={**env, "WBS_CHECKPOINT_MINUTES": "²"})
    assert res.exit_code == 2 and "WBS_CHECKPOINT_MINUTES" in res.stderr


def test_l5_a_wrong_instance_directory_creates_no_database(tmp_path):
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance")}
    assert run_wbs("init-db", env=env).exit_code == 0
    wrong = {"WBS_INSTANCE_DIR": str(tmp_path / "salah"), "WBS_KEYRING": str(tmp_path / "instance" / "keyring.json")}
    res = run_wbs("case", "show", "PGD-2026-000001", env=wrong)
    assert res.exit_code == 2 and "WBS_INSTANCE_DIR" in res.stderr
    assert not (tmp_path / "salah" / "wbs.sqlite3").exists()


def _wbs_data():
    return {
        "kategori": "korupsi",
        "apa": "Bendahara memalsukan kuitansi perjalanan dinas selama 2026.",
        "siapa": "Bendahara Pengeluaran",
    }
