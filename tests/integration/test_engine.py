"""Engine rules on a real database: the same tests on a SQLite file and on the PostgreSQL server."""

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.errors import ConcurrentChange, GuardFailed, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from wbs_engine.models import Case, CaseEvent, CaseRecusal, Clock, Outbox
from wbs_engine.permissions import Actor


def new_case(wbs, **kw):
    return wbs.create_case(
        "pengaduan", {**COMPLAINT, **kw.pop("data", {})}, identity_mode=kw.pop("identity", "rahasia"), **kw
    )


def actor(wbs, name):
    return wbs.load_actor(name)


def test_create_gives_number_and_receipt_and_starts_clock(wbs):
    c = new_case(wbs)
    assert re.fullmatch(r"PGD-2026-\d{6}", c.number)
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", c.receipt_code)
    c2 = new_case(wbs)
    assert int(c2.number[-6:]) == int(c.number[-6:]) + 1
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert case.state == "diterima" and case.version == 1
        assert "uraian" not in case.data and "nama" not in case.data  # sealed
        assert "Petugas meminta" not in (case.confidential_enc or "")
        clock = s.exec(select(Clock).where(Clock.case_id == case.id)).one()
        assert clock.name == "verifikasi" and clock.status == "running"
        assert str(clock.due_date) == "2026-03-05"  # Mon 2 Mar 09:00 WIB + 3 HK
        kinds = [e.kind for e in s.exec(select(CaseEvent).where(CaseEvent.chain == c.number).order_by(CaseEvent.seq))]
        assert kinds == ["created"]
        assert s.exec(
            select(Outbox).where(Outbox.case_id == case.id, Outbox.recipient == "pengelola@kantor.test")
        ).first()


def test_anonymous_report_keeps_no_identity(wbs):
    c = new_case(wbs, identity="anonim")
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert case.identity_enc is None
        created = s.exec(select(CaseEvent).where(CaseEvent.chain == c.number, CaseEvent.seq == 1)).one()
        assert "Siti" not in str(created.payload) and "siti@" not in str(created.payload)
        # free text is sealed with the case's own key (private by default), the category stays plain
        assert wbs.case_key(case).open(case.confidential_enc) == {
            "uraian": COMPLAINT["uraian"],
            "layanan": COMPLAINT["layanan"],
        }
        assert case.data == {"kategori": "normatif"}


def test_bad_intake_is_refused_with_every_problem(wbs):
    with pytest.raises(ValidationFailed) as exc:
        wbs.create_case(
            "pengaduan",
            {"nama": "X", "email": "bukan-email", "kategori": "aneh", "uraian": "pendek"},
            identity_mode="terbuka",
        )
    assert set(exc.value.errors) == {"email", "kategori", "uraian", "layanan"}
    assert "minimal 30 karakter" in exc.value.field_errors("id")["uraian"]
    with pytest.raises(NotFound):
        wbs.create_case("tidak_ada", {})
    with pytest.raises(ValidationFailed):
        new_case(wbs, identity="samaran")


def test_fire_moves_case_and_checks_role_unit_fields(wbs):
    c = new_case(wbs)
    with pytest.raises(NotAllowed, match="perlu peran: pengelola"):
        wbs.fire(c.number, "mulai_verifikasi", actor(wbs, "auditor"))
    r = wbs.fire(c.number, "mulai_verifikasi", actor(wbs, "pengelola"))
    assert (r.from_state, r.to_state, r.version, r.role) == ("diterima", "verifikasi", 2, "pengelola")
    with pytest.raises(ValidationFailed) as exc:
        wbs.fire(c.number, "disposisi", actor(wbs, "pengelola"), {"unit_tujuan": "LAYANAN"})
    assert set(exc.value.errors) == {"instruksi"}
    with pytest.raises(ValidationFailed, match="tidak dikenal"):
        wbs.fire(
            c.number,
            "disposisi",
            actor(wbs, "pengelola"),
            {"unit_tujuan": "GAIB", "instruksi": "Mohon ditindaklanjuti segera."},
        )
    wbs.fire(
        c.number,
        "disposisi",
        actor(wbs, "pengelola"),
        {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti segera."},
    )
    # the unit role is checked against the case's unit; another unit's officer may not read the case, so the
    # refusal names neither its unit nor its state
    with pytest.raises(NotAllowed, match="tidak berwenang melihat perkara") as refused:
        wbs.fire(c.number, "terima_disposisi", actor(wbs, "petugas.umum"))
    assert "LAYANAN" not in repr(refused.value.to_dict("en")) and "verif" not in refused.value.message("en").lower()
    wbs.fire(c.number, "terima_disposisi", actor(wbs, "petugas"))
    with pytest.raises(InvalidTransition, match="Aksi yang tersedia: catat_tindak_lanjut, jawab"):
        wbs.fire(c.number, "konfirmasi", actor(wbs, "petugas"))
    with pytest.raises(InvalidTransition, match="tidak dikenal"):
        wbs.fire(c.number, "terbang", actor(wbs, "petugas"))


def test_reporter_acts_only_on_own_case_through_receipt_code(wbs):
    c = new_case(wbs)
    other = new_case(wbs)
    pel = actor(wbs, "pengelola")
    for n in (c.number, other.number):
        wbs.fire(n, "mulai_verifikasi", pel)
        wbs.fire(n, "minta_informasi", pel, {"pesan": "Mohon sebutkan tanggal dan jam kejadian."})
    with unit_of_work(wbs.db, write=False) as s:
        reporter, case = wbs.reporter(s, c.receipt_code.lower().replace("-", " "))
    assert case.number == c.number
    # another case's number: the same answer as a wrong code (a code cannot probe which cases exist)
    with pytest.raises(NotFound, match="Kode pelacakan tidak ditemukan"):
        wbs.fire(other.number, "beri_informasi", reporter, {"jawaban_pelapor": "Tanggal 1 Maret pukul 10."})
    with pytest.raises(NotFound, match="Kode pelacakan tidak ditemukan"):
        wbs.fire("PGD-2026-999999", "beri_informasi", reporter, {"jawaban_pelapor": "Tanggal 1 Maret pukul 10."})
    with pytest.raises(NotFound, match="Kode pelacakan tidak ditemukan"):
        wbs.post_message(other.number, reporter, "Apakah laporan ini ada?")
    # on their own case a refusal names only what they may do, never staff actions, roles or units
    with pytest.raises(InvalidTransition) as refused:
        wbs.fire(c.number, "disposisi", reporter, {})
    text = refused.value.message("id")
    assert "Kirim keterangan tambahan" in text and "disposisi" not in text and "pengelola" not in text
    r = wbs.fire(c.number, "beri_informasi", reporter, {"jawaban_pelapor": "Tanggal 1 Maret pukul 10."})
    assert r.role == "pelapor" and r.to_state == "verifikasi"
    with unit_of_work(wbs.db, write=False) as s, pytest.raises(NotFound):
        wbs.reporter(s, "AAAA-BBBB-CCCC-DDDD")


def test_guard_and_recusal(wbs):
    c = new_case(wbs)
    pel = actor(wbs, "pengelola")
    with unit_of_work(wbs.db) as s:
        case = wbs.get_case(s, c.number)
        s.add(CaseRecusal(case_id=case.id, user_id=pel.user_id, created_at=wbs.now()))
    with pytest.raises(NotAllowed, match="tidak berwenang melihat perkara") as refused:  # as anyone without a role
        wbs.fire(c.number, "mulai_verifikasi", actor(wbs, "pengelola"))
    assert "recus" not in refused.value.message("en")
    from wbs_engine.hooks import GUARDS, FireContext  # the guard itself refuses too

    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        ctx = FireContext(s, case, actor(wbs, "pengelola"), {}, wbs.now(), None, None)  # type: ignore[arg-type]
        with pytest.raises(GuardFailed):
            GUARDS["not_recused"](ctx)


def test_reason_required_and_closed_case_refuses(wbs):
    c = new_case(wbs)
    pel = actor(wbs, "pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    with pytest.raises(ValidationFailed, match="alasan"):
        wbs.fire(c.number, "arsipkan", pel)
    wbs.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan: hanya pertanyaan informasi.")
    with pytest.raises(InvalidTransition, match="sudah ditutup"):
        wbs.fire(c.number, "mulai_verifikasi", pel)
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert case.final and case.closed_at is not None
        assert {r.status for r in s.exec(select(Clock).where(Clock.case_id == case.id))} == {"stopped"}


def test_failed_fire_changes_nothing(wbs):
    c = new_case(wbs)
    pel = actor(wbs, "pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    with unit_of_work(wbs.db, write=False) as s:
        before = s.exec(sa.select(sa.func.count()).select_from(CaseEvent)).one()[0]
    with pytest.raises(ValidationFailed):  # effect assign_unit refuses after the state moved in memory
        wbs.fire(c.number, "disposisi", pel, {"unit_tujuan": "GAIB", "instruksi": "Mohon ditindaklanjuti segera."})
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert (case.state, case.version) == ("verifikasi", 2)
        assert s.exec(sa.select(sa.func.count()).select_from(CaseEvent)).one()[0] == before


def test_stale_version_loses(wbs):
    c = new_case(wbs)
    wbs.fire(c.number, "mulai_verifikasi", actor(wbs, "pengelola"), expected_version=1)
    with pytest.raises(ConcurrentChange, match="muat ulang"):
        wbs.fire(
            c.number,
            "minta_informasi",
            actor(wbs, "pengelola"),
            {"pesan": "Mohon lengkapi datanya."},
            expected_version=1,
        )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_fires_on_sqlite_queue_and_the_second_reads_what_the_first_committed(wbs, monkeypatch):
    """SQLite's part of "two fires at once": every writing transaction begins with ``BEGIN IMMEDIATE``
    (wbs_engine/db.py), which takes the database's single write lock before the case is read. A second
    fire that starts while the first holds its uncommitted write therefore reads only after the first has
    committed; with the version it was shown (``expected_version=1``) it is refused before writing anything.
    Two fires can never both read the same version, so SQLite needs no test of the conditional write-back;
    PostgreSQL, where they can, has one with the interleaving forced (test_case_lock.py)."""
    from wbs_engine import writepath
    from wbs_engine.engine import Fired

    pel = actor(wbs, "pengelola")
    c = new_case(wbs)
    written, release, second_begins = threading.Event(), threading.Event(), threading.Event()
    writers: list[str] = []
    real_write_case = writepath.write_case

    def write_case(s, case):
        writers.append(threading.current_thread().name)
        real_write_case(s, case)
        if threading.current_thread().name == "first":
            written.set()
            assert release.wait(60)  # hold the write lock, uncommitted

    def _begin(conn, cursor, statement, *args):  # the second fire is about to wait for the write lock
        if statement == "BEGIN IMMEDIATE" and threading.current_thread().name == "second":
            second_begins.set()

    sa.event.listen(wbs.db, "before_cursor_execute", _begin)

    monkeypatch.setattr(writepath, "write_case", write_case)
    results: dict = {}

    def go():
        name = threading.current_thread().name
        try:
            results[name] = wbs.fire(c.number, "mulai_verifikasi", pel, expected_version=1)
        except ConcurrentChange as exc:
            results[name] = exc

    first = threading.Thread(target=go, name="first")
    second = threading.Thread(target=go, name="second")
    first.start()
    try:
        assert written.wait(60)
        second.start()
        assert second_begins.wait(60)
    finally:
        release.set()
        first.join(120)
        if second.ident is not None:
            second.join(120)
    sa.event.remove(wbs.db, "before_cursor_execute", _begin)
    assert isinstance(results["first"], Fired) and results["first"].version == 2
    assert isinstance(results["second"], ConcurrentChange), results
    assert writers == ["first"]  # the second was refused by its check, having read version 2
    with unit_of_work(wbs.db, write=False) as s:
        assert wbs.get_case(s, c.number).version == 2
        transitions = s.exec(select(CaseEvent).where(CaseEvent.chain == c.number, CaseEvent.kind == "transition"))
        assert len(transitions.all()) == 1
        assert audit.verify(s).ok


def test_system_actor_and_roles(wbs, clock):
    c = new_case(wbs)
    pel = actor(wbs, "pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    wbs.fire(c.number, "disposisi", pel, {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti segera."})
    wbs.fire(c.number, "terima_disposisi", actor(wbs, "petugas"))
    wbs.fire(c.number, "jawab", actor(wbs, "petugas"), {"jawaban": "Petugas telah ditegur dan uang dikembalikan."})
    with pytest.raises(NotAllowed):
        wbs.fire(c.number, "tutup_otomatis", pel)
    clock.advance(days=20)
    r = wbs.fire(c.number, "tutup_otomatis", Actor.system())
    assert r.to_state == "selesai" and r.role == "system"


def test_audit_chain_detects_edit_delete_and_swap(wbs):
    c = new_case(wbs)
    pel = actor(wbs, "pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    wbs.fire(c.number, "minta_informasi", pel, {"pesan": "Mohon sebutkan tanggal kejadian."})
    with unit_of_work(wbs.db) as s:
        assert audit.checkpoint(s, wbs.now(), wbs.keyring) is not None
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring)
        assert res.ok and res.events >= 6 and res.checkpoints == 1
    ev = CaseEvent.__table__

    def tamper(stmt_fn):
        with wbs.db.begin() as conn:
            stmt_fn(conn)
        with unit_of_work(wbs.db, write=False) as s:
            return audit.verify(s, keyring=wbs.keyring)

    def snapshot():
        with wbs.db.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(ev).order_by(ev.c.id))]

    original = snapshot()
    heads = sa.table("audit_head", sa.column("chain"), sa.column("seq"), sa.column("hash"), sa.column("sealed_seq"))
    with wbs.db.connect() as conn:
        original_heads = [dict(r._mapping) for r in conn.execute(sa.select(heads))]

    def restore():
        with wbs.db.begin() as conn:
            conn.execute(ev.delete())
            conn.execute(ev.insert(), original)
            conn.execute(heads.delete())
            conn.execute(heads.insert(), original_heads)

    rows = [r for r in original if r["chain"] == c.number]
    # edit
    res = tamper(lambda conn: conn.execute(ev.update().where(ev.c.id == rows[2]["id"]).values(actor="orang_lain")))
    assert not res.ok and "edited" in res.problem.message("en") and res.event_id == rows[2]["id"]
    restore()
    # delete a middle row
    res = tamper(lambda conn: conn.execute(ev.delete().where(ev.c.id == rows[1]["id"])))
    assert not res.ok and "missing" in res.problem.message("en")
    restore()
    # delete the last row of the chain
    res = tamper(lambda conn: conn.execute(ev.delete().where(ev.c.id == rows[-1]["id"])))
    assert not res.ok and "head" in res.problem.message("en")
    restore()

    # swap two rows (their places in the chain)
    def swap(conn):
        a, b = rows[1], rows[2]
        conn.execute(ev.update().where(ev.c.id == a["id"]).values(seq=-1))
        conn.execute(ev.update().where(ev.c.id == b["id"]).values(seq=a["seq"]))
        conn.execute(ev.update().where(ev.c.id == a["id"]).values(seq=b["seq"]))

    res = tamper(swap)
    assert not res.ok
    restore()

    # delete a whole case's trail, head included: the checkpoint still names it
    def wipe(conn):
        conn.execute(ev.delete().where(ev.c.chain == c.number))
        conn.execute(sa.text("DELETE FROM audit_head WHERE chain = :c"), {"c": c.number})

    res = tamper(wipe)
    assert not res.ok and any("checkpoint" in p.message("en") for p in res.problems)
    restore()
    with unit_of_work(wbs.db, write=False) as s:
        assert audit.verify(s, keyring=wbs.keyring).ok


def test_case_keeps_its_workflow_version(make_wbs, db_url, tmp_path):
    import shutil

    from wbs_engine.errors import WbsError
    from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant

    wf = tmp_path / "wf"
    wf.mkdir()
    shutil.copy(__import__("pathlib").Path(__file__).resolve().parents[2] / "workflows" / "pengaduan.yaml", wf)
    eng = make_wbs(db_url, workflows_dir=wf)
    ensure_unit(eng, "PUSAT", "Pusat")
    create_or_update_user(eng, "pengelola", [parse_grant("pengelola")], password="rahasia-demo-123")
    old = eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    text = (wf / "pengaduan.yaml").read_text()
    changed = text.replace("limit: {working_days: 3}", "limit: {working_days: 4}", 1)
    (wf / "pengaduan.yaml").write_text(changed)
    eng2 = make_wbs(db_url, workflows_dir=wf)
    with pytest.raises(WbsError, match="naikkan 'version'"):
        eng2.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    v = int(re.search(r"^version: (\d+)$", text, re.M).group(1))  # whatever version the shipped file is at
    (wf / "pengaduan.yaml").write_text(
        changed.replace(f"version: {v}\n", f"version: {v + 1}\n", 1).replace(
            "trigger: mulai_verifikasi,", "trigger: verifikasi_mulai,", 1
        )
    )
    eng3 = make_wbs(db_url, workflows_dir=wf)
    new = eng3.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pel = eng3.load_actor("pengelola")
    eng3.fire(old.number, "mulai_verifikasi", pel)  # v1 trigger on the v1 case
    eng3.fire(new.number, "verifikasi_mulai", pel)  # v2 trigger on the v2 case
    with pytest.raises(InvalidTransition):
        eng3.fire(new.number, "mulai_verifikasi", pel)
    with unit_of_work(eng3.db, write=False) as s:
        assert wbs_versions(s, old.number, new.number) == (v, v + 1)


def wbs_versions(s, a, b):
    get = lambda n: s.exec(select(Case).where(Case.number == n)).one().workflow_version  # noqa: E731
    return get(a), get(b)


def test_timestamps_are_utc_and_aware(wbs, clock):
    c = new_case(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert case.created_at == clock.now and case.created_at.utcoffset() == timedelta(0)


def test_anonymous_report_by_signed_in_employee_is_not_linked_to_the_account(wbs):
    data = {
        "apa": "Pengadaan barang dipecah agar di bawah batas lelang oleh panitia pengadaan kantor.",
        "siapa": "Panitia pengadaan",
        "kapan": "2026-02-20",
    }
    from wbs_engine.lint import load_workflow

    defn = load_workflow(__import__("pathlib").Path(__file__).resolve().parents[2] / "workflows" / "wbs.yaml")
    from wbs_engine.demo import sample_value

    full = {f.name: sample_value(f, 0) for f in defn.intake if f.required and not f.identity}
    full.update({k: v for k, v in data.items() if defn.field(k)})
    c = wbs.create_case("wbs", full, identity_mode="anonim", filed_by=actor(wbs, "pegawai"))
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        assert case.filed_by_user_id is None and case.identity_enc is None
        ev = s.exec(select(CaseEvent).where(CaseEvent.chain == c.number, CaseEvent.seq == 1)).one()
        assert ev.actor == "pelapor"


def test_messages_between_reporter_and_handlers(wbs):
    c = new_case(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        reporter, _ = wbs.reporter(s, c.receipt_code)
    wbs.post_message(c.number, reporter, "Saya punya bukti foto kuitansi tambahan.")
    wbs.post_message(c.number, actor(wbs, "pengelola"), "Terima kasih, silakan kirim melalui halaman pelacakan.")
    with pytest.raises(NotAllowed):
        wbs.post_message(c.number, actor(wbs, "auditor"), "Auditor hanya membaca.")
    with pytest.raises(ValidationFailed):
        wbs.post_message(c.number, reporter, " ")
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, c.number)
        msgs = wbs.messages(s, case)
        assert [(m["author"], m["to_reporter"]) for m in msgs] == [("pelapor", False), ("pengelola", True)]
        assert "kuitansi" not in str(s.exec(select(CaseEvent).where(CaseEvent.kind == "message")).all())
        mails = s.exec(select(Outbox).where(Outbox.kind.in_(["reporter_message", "reporter_reply"]))).all()
        assert {m.kind for m in mails} == {"reporter_message", "reporter_reply"}
        assert all("kuitansi" not in m.body for m in mails)
        assert audit.verify(s).ok


def test_who_sees_identity_and_confidential_fields(wbs):
    from wbs_engine.views import SEALED, case_view

    open_case = new_case(wbs, identity="terbuka")
    secret_case = new_case(wbs)  # rahasia
    for number, pengelola_sees_name in ((open_case.number, True), (secret_case.number, False)):
        as_pengelola = case_view(wbs, number, actor(wbs, "pengelola"))["fields"]
        as_atasan = case_view(wbs, number, actor(wbs, "atasan"))["fields"]
        console = case_view(wbs, number, None)["fields"]
        assert as_pengelola["uraian"] == COMPLAINT["uraian"]
        assert (as_pengelola["nama"] == "Siti Aminah") is pengelola_sees_name
        assert as_atasan["nama"] == "Siti Aminah"  # visibility.identity: [atasan]
        assert console["nama"] == console["uraian"] == SEALED
        assert "telepon" not in console  # never given: not shown as sealed either
    with pytest.raises(NotAllowed):
        case_view(wbs, open_case.number, actor(wbs, "upg"))  # no grant covering this case type's work


def test_case_number_uses_the_year_in_jakarta(wbs, clock):
    from datetime import UTC, datetime

    clock.now = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # 1 Jan 2027, 01:00 WIB
    assert new_case(wbs).number.startswith("PGD-2027-")
