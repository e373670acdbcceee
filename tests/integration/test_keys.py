"""Keys: created only by init-db (gen-key, rotate-key), never forked, rotated without losing data; a data key
per case (destroying it destroys the content while the trail still verifies); keyed receipt digests;
everything a person wrote sealed in the database, the trail included."""

import hashlib
import json
import sqlite3

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT, run_wbs
from wbs_engine import audit
from wbs_engine.config import Settings
from wbs_engine.crypto import CryptoError, Keyring
from wbs_engine.db import unit_of_work
from wbs_engine.engine import WbsEngine
from wbs_engine.models import Case
from wbs_engine.tracking import tracking_view
from wbs_engine.views import SEALED, case_view

REASON = "Terlapor Budi Santoso adalah ipar kepala seksi."


@pytest.fixture
def wbs_cli(tmp_path):
    """``wbs`` in-process, with main()'s error handling (one line, exit 2)."""
    base = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": "", "WBS_KEYRING": ""}

    def run(*args, ok=True, **env):
        res = run_wbs(*args, env={**base, **env})
        if ok:
            assert res.exit_code == 0, res.output
        return res

    return run


def _tables(path):
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("case_file", "case_event")}
    finally:
        db.close()


def test_no_command_but_init_db_creates_keys(wbs_cli, tmp_path):
    inst = tmp_path / "instance"
    res = wbs_cli("case", "show", "PGD-2026-000001", ok=False)
    assert res.exit_code == 2 and "wbs init-db" in res.output
    assert not (inst / "keyring.json").exists()
    wbs_cli("init-db")
    ring = (inst / "keyring.json").read_text()
    assert oct((inst / "keyring.json").stat().st_mode & 0o777) == "0o600"
    wbs_cli("init-db")  # again: the same keyring, registered once
    assert (inst / "keyring.json").read_text() == ring


def test_a_keyring_that_is_not_the_databases_is_refused_and_nothing_is_written(wbs_cli, tmp_path):
    wbs_cli("init-db")
    wbs_cli("unit", "add", "PUSAT", "Pusat")
    wbs_cli("case", "new", "pengaduan", "-f", "layanan=X", "-f", "kategori=ringan", "-f", "uraian=" + "u" * 40)
    other = tmp_path / "other.json"
    wbs_cli("gen-key", "--out", str(other))
    before = _tables(tmp_path / "instance" / "wbs.sqlite3")
    for args in (
        ["case", "new", "pengaduan", "-f", "layanan=X", "-f", "kategori=ringan", "-f", "uraian=" + "u" * 40],
        ["case", "show", "PGD-2026-000001"],
        ["verify-audit"],
        ["sweep"],
    ):
        res = wbs_cli(*args, ok=False, WBS_KEYRING=str(other))
        assert res.exit_code == 2, res.output
        assert "WBS_KEYRING" in res.output and "bukan milik basis data ini" in res.output
        assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert _tables(tmp_path / "instance" / "wbs.sqlite3") == before
    # init-db with the wrong keyring does not register it either
    assert wbs_cli("init-db", ok=False, WBS_KEYRING=str(other)).exit_code == 2
    # a lost keyring is not replaced by a new one
    (tmp_path / "instance" / "keyring.json").rename(tmp_path / "lost.json")
    res = wbs_cli("init-db", ok=False)
    assert res.exit_code == 2 and "pulihkan keyring dari cadangannya" in res.output
    assert "restore the keyring" in wbs_cli("--lang", "en", "init-db", ok=False).output
    assert not (tmp_path / "instance" / "keyring.json").exists()


def test_the_old_single_key_setting_is_refused_with_directions(wbs_cli):
    res = wbs_cli("init-db", ok=False, WBS_ENCRYPTION_KEY="x" * 44)
    assert res.exit_code == 2 and "WBS_KEYRING" in res.output


def test_rotation_keeps_old_data_readable_and_rewrap_moves_every_case_key(wbs, tmp_path):
    old = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    from wbs_engine.provision import rotate_encryption_key

    fp, n = rotate_encryption_key(wbs.settings, rewrap=False)
    rotated = WbsEngine(wbs.settings, db=wbs.db, clock=wbs._clock)
    rotated.check_keys()
    new = rotated.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    newest_only = Keyring(rotated.keyring.encryption[:1], rotated.keyring.receipt, rotated.keyring.signing)
    with unit_of_work(wbs.db, write=False) as s:
        old_row, new_row = rotated.get_case(s, old.number), rotated.get_case(s, new.number)
        assert rotated.case_key(old_row).open(old_row.confidential_enc)["uraian"] == COMPLAINT["uraian"]
        newest_only.case_key(new_row.data_key)  # new data keys are wrapped by the new key
        with pytest.raises(CryptoError):
            newest_only.case_key(old_row.data_key)
    _fp, n = rotate_encryption_key(wbs.settings, rewrap=True)
    assert n == 2
    again = WbsEngine(wbs.settings, db=wbs.db, clock=wbs._clock)
    newest_only = Keyring(again.keyring.encryption[:1], again.keyring.receipt, again.keyring.signing)
    with unit_of_work(wbs.db, write=False) as s:
        for number in (old.number, new.number):
            row = again.get_case(s, number)
            assert newest_only.case_key(row.data_key).open(row.confidential_enc)["uraian"] == COMPLAINT["uraian"]
        assert audit.verify(s, keyring=again.keyring, deep=True).ok
    assert len(again.keyring.encryption) == 3  # older keys stay: what they wrapped elsewhere stays readable


def test_destroying_a_case_key_destroys_its_content_the_chain_verifies_and_an_unrecorded_destruction_is_named(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"))
    wbs.fire(c.number, "arsipkan", wbs.load_actor("pengelola"), reason=REASON)
    with wbs.db.begin() as conn:
        conn.execute(sa.update(Case.__table__).where(Case.__table__.c.number == c.number).values(data_key=None))
    view = case_view(wbs, c.number, wbs.load_actor("atasan"))
    assert view["fields"]["uraian"] == SEALED and view["fields"]["nama"] == SEALED
    assert all(e["payload"].get("reason") in (None, SEALED) for e in view["history"])
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring)
    # the chain still verifies; a key deleted without a destruction record in the trail is named
    assert [p.code for p in res.problems] == ["case_row_mismatch"]
    assert "without a destruction record" in res.problems[0].message("en")
    assert tracking_view(wbs, c.receipt_code)["state_label"]  # the reporter still sees the stage


def test_receipt_codes_are_stored_as_keyed_digests(wbs):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    with unit_of_work(wbs.db, write=False) as s:
        stored = wbs.get_case(s, c.number).receipt_hash
    code = c.receipt_code.replace("-", "")
    for guess in (code, c.receipt_code, "wbs-receipt:" + code):
        assert stored != hashlib.sha256(guess.encode()).hexdigest()  # no offline search without the keyring
    assert stored == wbs.keyring.receipt_digest(c.receipt_code)


def test_free_text_reasons_messages_and_contacts_never_reach_the_database_in_clear(make_wbs, tmp_path, clock):
    from tests.helpers import seed_people

    path = tmp_path / "plain.sqlite3"
    wbs = make_wbs(f"sqlite:///{path}")
    seed_people(wbs)
    secrets_ = {
        "layanan": "Loket legalisir Seksi Sapi Perah",
        "uraian": "Pak Joko Widagdo meminta uang pelicin lima ratus ribu.",
        "lokasi": "Gedung Merah lantai tujuh",
        "email_kontak": "kabar.pelapor.rahasia@contoh.id",
    }
    c = wbs.create_case("pengaduan", {"kategori": "ringan", **secrets_}, identity_mode="anonim")
    pel = wbs.load_actor("pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    question = "Apakah Pak Joko Widagdo meminta di depan saksi?"
    wbs.fire(c.number, "minta_informasi", pel, {"pesan": question})
    with unit_of_work(wbs.db, write=False) as s:
        reporter = wbs.reporter(s, c.receipt_code)[0]
    wbs.post_message(c.number, reporter, "Ada saksi bernama Ibu Ratna Sarimanah.")
    wbs.fire(c.number, "tutup_tanpa_jawaban", pel, reason=REASON)
    wbs.db.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("plain.sqlite3*"))
    for text in (*secrets_.values(), question, "Ratna Sarimanah", REASON, "Budi Santoso"):
        assert text.encode() not in raw, f"{text!r} is stored in clear"
    # …while the roles that may read them do
    view = case_view(wbs, c.number, wbs.load_actor("pengelola"))
    assert view["fields"]["uraian"] == secrets_["uraian"]
    assert view["fields"]["email_kontak"] == SEALED  # an anonymous reporter's contact is for status mail only
    reasons = [e["payload"]["reason"] for e in view["history"] if "reason" in e["payload"]]
    assert reasons == [REASON]
    assert case_view(wbs, c.number, wbs.load_actor("auditor"))["fields"]["uraian"] == secrets_["uraian"]


def test_audit_head_and_key_leave_the_server_and_verify_against_them(wbs_cli, tmp_path):
    wbs_cli("init-db")
    wbs_cli("unit", "add", "PUSAT", "Pusat")
    wbs_cli("case", "new", "pengaduan", "-f", "layanan=X", "-f", "kategori=ringan", "-f", "uraian=" + "u" * 40)
    res = wbs_cli("audit-head", ok=False)
    assert res.exit_code == 2 and "audit-checkpoint" in res.output
    line = wbs_cli("audit-head", "--seal").output.strip()
    assert line.startswith("wbs-audit-head/1 seq=1 ") and len(line.splitlines()) == 1
    key = wbs_cli("audit-key").output.strip()
    assert key.split("key=")[1] == line.split("key=")[1].split()[0]
    assert "BEGIN PUBLIC KEY" in wbs_cli("audit-key", "--pem").output
    kept = tmp_path / "heads.txt"
    kept.write_text("kept by the auditor\n" + line + "\n")
    assert "1 kepala simpanan" in wbs_cli("verify-audit", "--against", str(kept)).output
    # the database is cut back to before that head: found even by someone who holds no key
    db = sqlite3.connect(tmp_path / "instance" / "wbs.sqlite3")
    db.execute("DELETE FROM audit_checkpoint")
    db.execute("UPDATE audit_head SET sealed_seq = 0")
    db.commit()
    db.close()
    res = wbs_cli("verify-audit", "--against", str(kept), ok=False)
    assert res.exit_code == 1 and "salinan lama" in res.output
    bad = tmp_path / "bad.txt"
    bad.write_text("wbs-audit-head/1 seq=x\n")
    assert wbs_cli("verify-audit", "--against", str(bad), ok=False).exit_code == 2


def test_checkpoints_from_two_schedulers_never_fork(wbs, db_url):
    """Two checkpoint writers at once (several schedulers on one database): serialised, and prev_hash is
    unique, so the chain of checkpoints never forks."""
    import threading

    wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    barrier = threading.Barrier(4)
    errors = []

    def writer(i):
        barrier.wait()
        try:
            for _ in range(3):
                with unit_of_work(wbs.db) as s:
                    audit.checkpoint(s, wbs.now(), wbs.keyring)
                wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring)
        assert res.ok, res.problems
        assert res.checkpoints >= 2


def test_settings_need_an_instance_keyring_path(tmp_path):
    s = Settings(instance_dir=tmp_path)
    assert s.keyring_path == tmp_path / "keyring.json"
    assert json.loads(Keyring.generate().to_json())["format"] == 1
