"""Each break the ninth attacker's review of the engine operations found (``attack9/*.py``), replayed the way the
script does it, and what each audience must see instead. Most run on SQLite and PostgreSQL (``wbs`` fixture)."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.helpers import run_wbs
from wbs_engine import audit, files, views
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, WbsError
from wbs_engine.models import Case, CaseEvent

WBS_REPORT = {
    "kategori": "korupsi",
    "siapa": "Kepala Seksi Y",
    "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin yang diterbitkan kantor.",
}
SECRET = "Terlapor kemungkinan besar bersalah; saksi kunci adalah bendahara, periksa rekening pribadinya."


def events(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        return audit.chain_events(s, number)


def verified(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring)
    assert res.ok, [p.message("en") for p in res.problems]


def reporter_of(wbs, created):
    with unit_of_work(wbs.db, write=False) as s:
        return wbs.reporter(s, created.receipt_code)[0]


def refusal(fn):
    try:
        fn()
    except WbsError as exc:
        return exc
    raise AssertionError("not refused")


def staff_pages(wbs, number, who):
    viewer = wbs.load_actor(who)
    return views.case_view(wbs, number, viewer, "en"), views.case_history(wbs, number, viewer, "en")


# --- 1. the filer of a rahasia report is "pelapor" to whoever may not know who reported (01) -----------------


def test_a9_1_a_rahasia_filer_from_an_account_is_pelapor_to_staff_who_may_not_see_the_identity(wbs):
    pegawai = wbs.load_actor("pegawai")  # the whistleblower, filing from her own account
    c = wbs.create_case(
        "wbs",
        {**WBS_REPORT, "nama": "Wati Whistleblower", "email": "wati@kantor.go.id"},
        identity_mode="rahasia",
        filed_by=pegawai,
    )
    wbs.post_message(c.number, pegawai, "Saya punya bukti tambahan, kapan bisa dikirim?")
    files.attach(wbs, c.number, pegawai, "bukti.txt", io.BytesIO(b"kwitansi pelicin\n"))
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), {"petugas": "telaah"})
    wbs.fire(c.number, "minta_informasi", wbs.load_actor("telaah"), {"pesan": "Kapan kejadiannya?"})
    wbs.fire(c.number, "beri_informasi", pegawai, {"jawaban_pelapor": "Bulan Maret."})  # answers as the reporter

    for who in ("telaah", "pengelola"):  # WBS: only the atasan may know who reported
        view, history = staff_pages(wbs, c.number, who)
        assert "pegawai" not in repr(view) + repr(history), who
        created = history["events"][0]
        assert (created["actor"], created["payload"]["filed_by"]) == ("pelapor", views.SEALED)
        mine = [e for e in history["events"] if e["kind"] in ("message", "attachment_added") or e["role"] == "pelapor"]
        assert {e["actor"] for e in mine} == {"pelapor"}
        assert all(m["author"] == "pelapor" for m in view["messages"] if not m["to_reporter"])
    # the atasan (visibility.identity) sees who filed, as the case's identity fields
    view, _history = staff_pages(wbs, c.number, "atasan")
    assert view["history"][0]["payload"]["filed_by"] == "pegawai" and view["fields"]["nama"] == "Wati Whistleblower"

    # the trail itself names the account once, in `created`'s filed_by (what lets the employee act as the
    # reporter, and what verify-audit checks against the case row); every event they made is by "pelapor"
    evs = events(wbs, c.number)
    assert evs[0].payload["filed_by"] == "pegawai"
    assert [e.kind for e in evs if e.actor == "pegawai"] == []
    assert {e.actor for e in evs if e.actor_role == "pelapor"} == {"pelapor"}
    verified(wbs)

    # the CLI prints the same view
    env = {"WBS_INSTANCE_DIR": str(wbs.settings.instance_dir), "WBS_DATABASE_URL": wbs.settings.database_url}
    for who in ("telaah", "pengelola"):
        out = run_wbs("--lang", "en", "case", "show", c.number, "--as", who, env=env)
        assert out.exit_code == 0 and "pegawai" not in out.stdout, out.stdout
        out = run_wbs("case", "show", c.number, "--as", who, "--json", env=env)
        assert out.exit_code == 0 and "pegawai" not in out.stdout


def test_a9_1_bk_rahasia_the_deciding_atasan_does_not_learn_the_filer(wbs):
    pegawai = wbs.load_actor("pegawai")
    b = wbs.create_case(
        "benturan_kepentingan",
        {
            "jalur": "laporan_pihak_lain",
            "jenis": "aktual",
            "sumber": "keluarga",
            "nama_pejabat": "Pak Kepala",
            "kegiatan": "Pengadaan laptop 2026",
            "nama": "Wati Whistleblower",
            "uraian": "Pak Kepala menunjuk perusahaan milik adiknya sebagai pemenang.",
        },
        identity_mode="rahasia",
        filed_by=pegawai,
    )
    view, history = staff_pages(wbs, b.number, "atasan")
    assert "pegawai" not in repr(view) + repr(history) and view["fields"]["nama"] == views.SEALED
    view, _ = staff_pages(wbs, b.number, "pengelola")  # BK: identity for the pengelola and the auditor
    assert view["history"][0]["payload"]["filed_by"] == "pegawai"
    verified(wbs)


def test_a9_1_an_anonymous_report_from_an_account_keeps_no_link_to_it(wbs):
    c = wbs.create_case(
        "wbs", {**WBS_REPORT, "nama": "Nama Asli"}, identity_mode="anonim", filed_by=wbs.load_actor("pegawai")
    )
    with unit_of_work(wbs.db, write=False) as s:
        row = s.exec(select(Case).where(Case.number == c.number)).one()
        assert row.filed_by_user_id is None and row.identity_enc is None
        raw = repr(s.exec(select(CaseEvent).where(CaseEvent.chain == c.number)).all())
    assert "pegawai" not in raw and "Nama Asli" not in raw
    assert events(wbs, c.number)[0].payload["filed_by"] is None
    with pytest.raises(NotAllowed):  # the account is not the reporter of it
        wbs.post_message(c.number, wbs.load_actor("pegawai"), "halo")
    verified(wbs)


# --- 2. a reporter gets no staff page (02) ----------------------------------------------------------------


def test_a9_2_a_reporter_gets_no_staff_page_by_code_or_by_account(wbs):
    pegawai, telaah, atasan = wbs.load_actor("pegawai"), wbs.load_actor("telaah"), wbs.load_actor("atasan")
    c = wbs.create_case("wbs", {**WBS_REPORT, "nama": "Wati"}, identity_mode="rahasia", filed_by=pegawai)
    wbs.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
    wbs.fire(c.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "investigator"}, reason="ipar terlapor")
    wbs.fire(c.number, "lengkap", telaah)
    wbs.fire(c.number, "mulai_investigasi", atasan, {"ringkasan_telaah": SECRET, "petugas": "telaah"})
    before = len(events(wbs, c.number))
    for fn in (views.case_view, views.case_history):
        err = refusal(lambda fn=fn: fn(wbs, c.number, pegawai, "en"))
        assert isinstance(err, NotAllowed) and "tracking page" in err.message("en")
        assert SECRET not in repr(err.to_dict("en"))
    assert len(events(wbs, c.number)) == before  # nothing read, nothing recorded
    # still their case: they act on it as the reporter (the reporter's words, never the staff's)
    err = refusal(lambda: wbs.fire(c.number, "catat_hasil", pegawai))
    assert "your report" in err.message("en") and "catat_hasil" not in err.message("en")
    assert "Available actions" not in err.message("en")  # the stage in the reporter's words, as tracking shows it

    d = wbs.create_case("wbs", WBS_REPORT)  # by the public form: a tracking code only
    rep = reporter_of(wbs, d)
    assert isinstance(refusal(lambda: views.case_view(wbs, d.number, rep)), NotAllowed)
    assert isinstance(refusal(lambda: views.case_history(wbs, d.number, rep)), NotAllowed)


def test_a9_2_a_front_desk_filer_gets_the_front_desk_sight_not_the_reporters(wbs):
    """The WBS pengelola files a report from their account: the staff page is theirs as pengelola (no report
    text, no findings), not more because they are also its reporter."""
    pel = wbs.load_actor("pengelola")
    c = wbs.create_case("wbs", {**WBS_REPORT, "nama": "Pak Pengelola"}, identity_mode="rahasia", filed_by=pel)
    wbs.fire(c.number, "mulai_verifikasi", pel, {"petugas": "telaah"})
    wbs.fire(c.number, "lengkap", wbs.load_actor("telaah"))
    wbs.fire(c.number, "mulai_investigasi", wbs.load_actor("atasan"), {"ringkasan_telaah": SECRET, "petugas": "telaah"})
    view = views.case_view(wbs, c.number, pel, "en")
    assert view["fields"]["ringkasan_telaah"] == views.SEALED and SECRET not in repr(view)
    assert view["recused"] == views.SEALED and view["messages"] == []


# --- 3. the recusal oracle (03) -----------------------------------------------------------------------------


def test_a9_3_a_recused_official_is_refused_like_anyone_without_a_role(wbs):
    telaah, atasan = wbs.load_actor("telaah"), wbs.load_actor("atasan")
    cases = []
    for who in ("Budi sendiri", "Orang lain"):
        c = wbs.create_case("wbs", {**WBS_REPORT, "siapa": who})
        wbs.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
        cases.append(c.number)
    a, b = cases
    wbs.fire(a, "kecualikan_pejabat", atasan, {"pejabat_terkait": "investigator"}, reason="Dia adalah terlapor")
    recused, nobody = wbs.load_actor("investigator"), wbs.load_actor("pegawai")

    def words(fn, number, actor):
        err = refusal(lambda: fn(number, actor))
        return err.status, err.code, err.message("en").replace(number, "N").replace(actor.username, "@")

    for label, fn in [
        ("fire", lambda n, who: wbs.fire(n, "lengkap", who)),
        ("post_message", lambda n, who: wbs.post_message(n, who, "halo")),
        ("attach", lambda n, who: files.attach(wbs, n, who, "x.txt", io.BytesIO(b"x\n"))),
        ("case_view", lambda n, who: views.case_view(wbs, n, who)),
        ("list_attachments", lambda n, who: files.list_attachments(wbs, n, who)),
    ]:
        assert words(fn, a, recused) == words(fn, b, nobody), label
        for lang in ("en", "id"):
            assert "recus" not in refusal(lambda fn=fn: fn(a, recused)).message(lang), label
    assert wbs.available_actions(a, recused) == []


# --- 4. refusals say nothing about a case to whoever may not read it (05) -----------------------------------


def test_a9_4_refusals_keep_state_outcome_and_unit_from_non_readers(wbs):
    telaah, atasan, pel = wbs.load_actor("telaah"), wbs.load_actor("atasan"), wbs.load_actor("pengelola")
    peg = wbs.load_actor("pegawai")
    c = wbs.create_case("wbs", WBS_REPORT)
    wbs.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
    wbs.fire(c.number, "lengkap", telaah)
    wbs.fire(c.number, "mulai_investigasi", atasan, {"ringkasan_telaah": "x" * 40, "petugas": "investigator"})
    made_up = refusal(lambda: wbs.fire(c.number, "apa_saja", peg))
    real = refusal(lambda: wbs.fire(c.number, "lengkap", peg))
    for err in (made_up, real):
        text = repr(err.to_dict("en")) + err.message("id")
        assert err.status == 403 and "investigat" not in text.lower() and "catat_hasil" not in text
    assert made_up.message("en") == real.message("en")
    # nor how often it changed: a wrong version gets the same refusal as a right one
    for version in (1, 4, 99):
        assert refusal(lambda v=version: wbs.fire(c.number, "lengkap", peg, expected_version=v)).code == "not_allowed"

    p = wbs.create_case(
        "pengaduan",
        {
            "nama": "N",
            "layanan": "Legalisir",
            "kategori": "ringan",
            "uraian": "Petugas loket meminta uang tambahan untuk legalisir.",
        },
    )
    wbs.fire(p.number, "mulai_verifikasi", pel)
    wbs.fire(p.number, "disposisi", pel, {"unit_tujuan": "LAYANAN", "instruksi": "tindak lanjuti segera"})
    err = refusal(lambda: wbs.fire(p.number, "terima_disposisi", wbs.load_actor("petugas.umum")))
    assert err.status == 403 and "LAYANAN" not in repr(err.to_dict("en")) + err.message("id")
    wbs.fire(p.number, "terima_disposisi", wbs.load_actor("petugas"))  # (control) LAYANAN's officer takes it

    closed = wbs.create_case("wbs", WBS_REPORT)
    wbs.fire(closed.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
    wbs.fire(
        closed.number,
        "hentikan",
        telaah,
        {"informasi_untuk_pelapor": "Laporan tidak dapat ditindaklanjuti."},
        reason="bukti tidak cukup sama sekali",
    )
    err = refusal(lambda: wbs.fire(closed.number, "lengkap", peg))
    assert "pursued" not in err.message("en") and "ditindaklanjuti" not in err.message("id")
    # a reader of the case (the auditor) is still told why: the case is closed
    assert "closed" in refusal(lambda: wbs.fire(closed.number, "lengkap", wbs.load_actor("auditor"))).message("en")


# --- 5. listing attachments is recorded (09) -----------------------------------------------------------------


def test_a9_5_a_staff_listing_of_the_files_is_recorded_and_verifies(wbs):
    c = wbs.create_case("wbs", {**WBS_REPORT, "nama": "Wati", "email": "w@x.id"}, identity_mode="rahasia")
    rep = reporter_of(wbs, c)
    a = files.attach(wbs, c.number, rep, "rekening_Kepala_Seksi_Y_di_bank_X.txt", io.BytesIO(b"isi\n"))
    n = len(events(wbs, c.number))
    listed = files.list_attachments(wbs, c.number, wbs.load_actor("atasan"))
    assert listed[0].filename.startswith("rekening")
    last = events(wbs, c.number)[-1]
    assert len(events(wbs, c.number)) == n + 1
    assert (last.kind, last.actor, last.actor_role, last.payload) == (
        "attachments_listed",
        "atasan",
        "atasan",
        {"attachments": [a.id]},
    )
    # the reporter's own uploads, and an empty list, put nothing sealed in front of anyone new: not recorded
    assert [x.id for x in files.list_attachments(wbs, c.number, rep)] == [a.id]
    empty = wbs.create_case("wbs", WBS_REPORT)
    assert files.list_attachments(wbs, empty.number, wbs.load_actor("atasan")) == []
    assert len(events(wbs, c.number)) == n + 1 and len(events(wbs, empty.number)) == 1
    # shown in the history, and the trail verifies with it
    history = views.case_history(wbs, c.number, wbs.load_actor("auditor"), "en")
    assert "attachments_listed" in [e["kind"] for e in history["events"]] and history["check"]["ok"]
    verified(wbs)


# --- 7. existence oracles and the trail written by refusals (06, 08, 12) -------------------------------------


def test_a9_7_list_attachments_refuses_staff_alike_whether_the_case_exists(wbs):
    c = wbs.create_case("wbs", WBS_REPORT)
    peg = wbs.load_actor("pegawai")
    got = {n: refusal(lambda n=n: files.list_attachments(wbs, n, peg)) for n in (c.number, "WBS-2026-999999")}
    shapes = {(e.status, e.code, e.message("en").replace(n, "N")) for n, e in got.items()}
    assert len(shapes) == 1 and next(iter(shapes))[0] == 403


def test_a9_7_a_tracking_code_on_another_case_answers_as_for_a_missing_case(wbs):
    a, b = wbs.create_case("wbs", WBS_REPORT), wbs.create_case("wbs", WBS_REPORT)
    rep = reporter_of(wbs, a)
    files.attach(wbs, b.number, wbs.load_actor("telaah"), "b.txt", io.BytesIO(b"isi\n"))
    missing = "WBS-2026-000999"
    ops = {
        "fire": lambda n: wbs.fire(n, "jawab_pelapor", rep, {"jawaban_pelapor": "tambahan"}),
        "post_message": lambda n: wbs.post_message(n, rep, "halo"),
        "available_actions": lambda n: wbs.available_actions(n, rep),
        "attach": lambda n: files.attach(wbs, n, rep, "x.txt", io.BytesIO(b"x\n")),
        "list_attachments": lambda n: files.list_attachments(wbs, n, rep),
        "open_attachment": lambda n: files.open_attachment(wbs, n, 1, rep),
        "case_view": lambda n: views.case_view(wbs, n, rep),
    }
    for label, fn in ops.items():
        there, nowhere = refusal(lambda fn=fn: fn(b.number)), refusal(lambda fn=fn: fn(missing))
        assert (there.status, there.code, there.message("en").replace(b.number, "N")) == (
            nowhere.status,
            nowhere.code,
            nowhere.message("en").replace(missing, "N"),
        ), label


def test_a9_7_refused_opens_write_no_chosen_text_and_no_flood(wbs, clock):
    c = wbs.create_case("wbs", WBS_REPORT)
    peg = wbs.load_actor("pegawai")
    f = files.attach(wbs, c.number, wbs.load_actor("telaah"), "b.txt", io.BytesIO(b"isi\n"))
    message = "SAYA TAHU SIAPA PELAPORNYA. HATI-HATI."
    for attempt in [message, *range(1, 200), f.id, str(f.id), f.id, 2**70, True, 3.0, "1\x00"]:
        with pytest.raises(NotAllowed):
            files.open_attachment(wbs, c.number, attempt, peg)
    refused = [e for e in events(wbs, c.number) if e.kind == "attachment_refused"]
    # one for the real file, one for everything that names no file of this case; no text of the caller's
    assert [e.payload for e in refused] == [{"attachment_id": None}, {"attachment_id": f.id}]
    assert all(message not in repr(e.payload) for e in refused)
    clock.now = clock.now + timedelta(minutes=2)  # a minute later the next attempt is recorded again
    with pytest.raises(NotAllowed):
        files.open_attachment(wbs, c.number, f.id, peg)
    assert len([e for e in events(wbs, c.number) if e.kind == "attachment_refused"]) == 3
    verified(wbs)


# --- 6. container files and images with something else inside (06) ------------------------------------------


def _zip(entries, *, level=None, big=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in entries:
            z.writestr(name, data)
        if big is not None:  # (name, MiB of zeros), streamed: a zip bomb
            info = zipfile.ZipInfo(big[0])
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                for _ in range(big[1]):
                    f.write(bytes(1 << 20))
    return buf.getvalue()


DOCX_PARTS = [
    ("[Content_Types].xml", "<Types/>"),
    ("_rels/.rels", "<Relationships/>"),
    ("word/document.xml", "<w:document/>"),
]
PE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + bytes(range(256)) * 8


def jpeg():
    scan = bytes(range(256)).replace(b"\xff", b"\xff\x00") * 8
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00" + scan + b"\xff\xd9"
    )


def test_a9_6_documents_and_images_with_programs_archives_or_bombs_inside_are_refused(wbs):
    c = wbs.create_case("wbs", WBS_REPORT)
    rep = reporter_of(wbs, c)
    stored = lambda: sorted(p for p in wbs.settings.attachments_path.rglob("*") if p.is_file())  # noqa: E731
    before = stored()
    refused = {
        "bomb.docx": _zip(DOCX_PARTS[:2], big=("word/document.xml", 256)),  # 256 MiB from ~250 KB
        "ratio.docx": _zip(DOCX_PARTS, big=("word/media/blank.xml", 8)),  # 8 MiB of zeros: ratio ~1000
        "surat.docx": _zip([*DOCX_PARTS, ("Faktur_Pajak.exe", PE), ("run.bat", "@echo off\r\n")]),
        "script.docx": _zip([*DOCX_PARTS, ("word/media/image1.png", PE)]),  # a program by its bytes
        "macro.docx": _zip([*DOCX_PARTS, ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")]),
        "nested.docx": _zip([*DOCX_PARTS, ("word/media/arsip.zip", _zip([("a.exe", PE)]))]),
        "deep.docx": _zip(
            [
                *DOCX_PARTS,
                (
                    "word/embeddings/Sheet.xlsx",
                    _zip(
                        [
                            ("[Content_Types].xml", "<Types/>"),
                            ("xl/workbook.xml", "<w/>"),
                            ("xl/embeddings/x.xlsx", _zip([("xl/workbook.xml", "<w/>")])),
                        ]
                    ),
                ),
            ]
        ),
        "outside.docx": _zip([*DOCX_PARTS, ("evil/payload.xml", "<x/>")]),
        "slip.docx": _zip([*DOCX_PARTS, ("word/../../x.xml", "<x/>")]),
        "foto.jpg": b"\xff\xd8\xff" + PE,  # a JPEG signature over a PE program
        "elf.jpg": jpeg() + b"\x00\x00" + b"\x7fELF\x02\x01\x01" + bytes(200),
        "polyglot.jpg": jpeg() + _zip([("a.exe", PE)]),
        "polyglot.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + _zip([("a.exe", PE)]),
    }
    for name, data in refused.items():
        with pytest.raises(files.AttachmentRejected) as err:
            files.attach(wbs, c.number, rep, name, io.BytesIO(data))
        assert err.value.reason == "content", (name, err.value.message("en"))
        fid, fen = err.value.field_errors("id")["lampiran"], err.value.field_errors("en")["lampiran"]
        assert "{" not in fid + fen and fid != fen
    assert stored() == before and files.list_attachments(wbs, c.number, rep) == []
    # the same before a case exists (a filing form with files)
    defn = wbs.registry.latest("wbs").definition
    with pytest.raises(files.AttachmentRejected, match="program"):
        files.screen(defn, wbs.settings, [("surat.docx", io.BytesIO(refused["surat.docx"]))])

    # (control) what is right is still accepted: a document with a chart's workbook inside, a photo with a
    # phone's motion video after it
    chart = _zip(
        [
            *DOCX_PARTS,
            ("word/media/image1.jpeg", jpeg()),
            (
                "word/embeddings/Microsoft_Excel_Worksheet.xlsx",
                _zip([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>")]),
            ),
        ]
    )
    assert files.attach(wbs, c.number, rep, "grafik.docx", io.BytesIO(chart)).kind == "docx"
    motion = jpeg() + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
    assert files.attach(wbs, c.number, rep, "foto.jpg", io.BytesIO(motion)).kind == "jpeg"


# --- 7. the low ones ----------------------------------------------------------------------------------------


def test_a9_7_every_user_caused_error_has_a_status_and_its_own_code(wbs):
    from wbs_engine import queries
    from wbs_engine.models import Attachment

    tok = wbs.issue_filing_token("wbs")
    wbs.create_case("wbs", WBS_REPORT, idempotency_token=tok)
    c = wbs.create_case("wbs", WBS_REPORT)
    rep = reporter_of(wbs, c)
    f = files.attach(wbs, c.number, rep, "a.txt", io.BytesIO(b"isi\n"))
    with unit_of_work(wbs.db, write=False) as s:
        file_id = s.get(Attachment, f.id).file_id
    files.storage_path(wbs.settings, file_id).write_bytes(b"WBSATT garbage")
    got = {
        "already_filed": refusal(lambda: wbs.create_case("wbs", {}, idempotency_token=tok)),
        "filing_token_invalid": refusal(lambda: wbs.create_case("wbs", {}, idempotency_token="x.y")),
        "queue_error": refusal(lambda: queries.page(wbs, wbs.load_actor("pegawai"), "mine", cursor="%%")),
        "attachment_damaged": refusal(lambda: files.open_attachment(wbs, c.number, f.id, rep)),
    }
    assert {code: (e.code, e.status) for code, e in got.items()} == {
        "already_filed": ("already_filed", 409),
        "filing_token_invalid": ("filing_token_invalid", 422),
        "queue_error": ("queue_error", 422),
        "attachment_damaged": ("attachment_damaged", 409),
    }
    damaged = got["attachment_damaged"]
    assert damaged.problem and damaged.to_dict("en")["params"] == {"attachment_id": f.id}  # the diagnosis: admin's


def test_a9_7_hand_edited_queue_cursors_are_refused_not_crashed(wbs):
    import base64
    import json

    from wbs_engine import queries

    def cursor(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    officer = wbs.load_actor("petugas")
    for forged in (
        ["overdue", "2026-12-10T17:00:00+00:00", 2**70],
        ["overdue", "2026-12-10T17:00:00+00:00", 0],
        ["overdue", None, -5],
        ["overdue", "0001-01-01T00:00:00+14:00", 1],
        ["overdue", "9999-12-31T23:59:59-14:00", 1],
    ):
        with pytest.raises(queries.QueueError):
            queries.page(wbs, officer, "overdue", cursor=cursor(forged))
    assert queries.page(wbs, officer, "overdue", cursor=cursor(["overdue", "9999-12-31T23:59:59+00:00", 1])).items == ()


def test_a9_7_nul_and_lone_surrogates_anywhere_are_input_errors(wbs):
    """On PostgreSQL a NUL in text is a DataError and a lone surrogate cannot be encoded at all: each must be a
    WbsError before it gets there."""
    from wbs_engine import queries, tracking

    c = wbs.create_case("wbs", WBS_REPORT)
    telaah = wbs.load_actor("telaah")
    wbs.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})

    def probes(bad):
        return {
            "textarea": lambda: wbs.create_case(
                "wbs", {**WBS_REPORT, "apa": f"Pejabat X meminta{bad} uang pelicin izin."}
            ),
            "plain field": lambda: wbs.create_case(
                "pengaduan",
                {
                    "nama": "N",
                    "layanan": f"Legalisir{bad}",
                    "kategori": "ringan",
                    "uraian": "Petugas loket meminta uang tambahan untuk legalisir.",
                },
            ),
            "field name": lambda: wbs.create_case("wbs", {**WBS_REPORT, f"ap{bad}a": "x"}),
            "unit code": lambda: wbs.create_case("wbs", WBS_REPORT, unit_code=f"PUSAT{bad}"),
            "message": lambda: wbs.post_message(c.number, telaah, f"halo {bad} pelapor"),
            "reason": lambda: wbs.fire(
                c.number,
                "hentikan",
                telaah,
                {"informasi_untuk_pelapor": "Tidak lanjut."},
                reason=f"alasan {bad} panjang",
            ),
            "user field": lambda: wbs.fire(c.number, "minta_informasi", telaah, {"pesan": f"Kapan{bad}?"}),
            "case number": lambda: wbs.available_actions(c.number + bad, telaah),
            "case number, view": lambda: views.case_view(wbs, c.number + bad, telaah),
            "username": lambda: wbs.load_actor(f"telaah{bad}"),
            "search": lambda: queries.page(wbs, telaah, "unassigned", search=f"wbs{bad}"),
            "unit filter": lambda: queries.counts(wbs, telaah, unit=f"PUSAT{bad}"),
            "type filter": lambda: queries.page(wbs, telaah, "overdue", case_type=f"wbs{bad}"),
            "tracking code": lambda: tracking.tracking_view(wbs, f"AB{bad}CD"),
            "attachment": lambda: files.open_attachment(wbs, c.number + bad, f"1{bad}", telaah),
            "file name": lambda: files.attach(wbs, c.number, telaah, f"a{bad}.txt", io.BytesIO(b"x\n")),
        }

    for bad in ("\x00", "\ud800"):
        for label, fn in probes(bad).items():
            err = refusal(fn)
            assert err.status in (403, 404, 409, 422), (label, err)
            # what the person reads and the API returns can be sent: no NUL, nothing that cannot be UTF-8
            text = json.dumps(err.to_dict("en")) + json.dumps(err.message("id"))
            assert "\\u0000" not in text and "\\ud800" not in text, (label, text)
            err.message("en").encode()
    assert [e.kind for e in events(wbs, c.number)] == ["created", "transition"]


def test_a9_7_an_email_field_takes_exactly_one_address():
    from wbs_engine.definition import FieldSpec
    from wbs_engine.fields import FieldInvalid, clean_value

    spec = FieldSpec.model_validate(
        {"name": "email", "type": "email", "identity": True, "label": {"id": "E-mail", "en": "E-mail"}}
    )
    for bad in (
        "kepala.kantor,pelapor@mail.id",
        "pimpinan,inspektorat,x@y.zz",
        '"a"b@c.d',
        "x@y.z;bcc",
        "a@b.c,d@e.f",
        "Nama <a@b.id>",
        "a@b.id bcc@c.id",
        "a@@b.id",
        "a@b",
        ".a@b.id",
        "a..b@c.id",
    ):
        with pytest.raises(FieldInvalid):
            clean_value(spec, bad)
    for good in ("siti@contoh.id", "siti.aminah+wbs@mail.kantor.go.id", "o'neil@x-y.co.id", "A_B@EXAMPLE.COM"):
        assert clean_value(spec, good) == good


@pytest.mark.parametrize(
    "name",
    [
        "\uff0e\uff0e\uff0fetc\uff0fpasswd.txt",
        "evil\u2215..\u2215x.txt",
        "a\ufe68b.txt",
        "CON.txt",
        "nul.tar.gz",
        "com1.pdf",
        "LPT\u00b9.txt",
        "bukti\u3164\u3164\u3164\u3164.txt",
        "bukti\u115f.txt",
        "bukti\u2800.txt",
        "bukti\u00a0.txt",
        "laporan\u2024pdf.txt",
        "a\uff0epdf",
        "bukti\ufe0f.txt",
    ],
)
def test_a9_7_look_alike_paths_dots_device_names_and_fillers_are_refused_as_file_names(name):
    with pytest.raises(files.AttachmentRejected) as err:
        files.check_filename(name)
    assert err.value.reason == "name"


def test_a9_7_ordinary_file_names_stay_accepted():
    for name in (
        "laporan final (2).pdf",
        "Laporan_Maret..pdf",
        "console.txt",
        "ääkköset.docx",
        "日本語.pdf",
        "foto \u2764\ufe0f.jpg",
        "CONTOH.txt",
        "com10.pdf",
    ):
        assert files.check_filename(name) == name


# --- 13. after a recusal, the front desk does not see whom the case was assigned to ---------------------------


def test_a9_13_after_a_recusal_the_front_desk_no_longer_sees_the_assignee(wbs):
    pel, atasan = wbs.load_actor("pengelola"), wbs.load_actor("atasan")
    w = wbs.create_case("wbs", {**WBS_REPORT, "siapa": "Investigator sendiri"})
    wbs.fire(w.number, "mulai_verifikasi", pel, {"petugas": "investigator"})
    before = views.case_view(wbs, w.number, pel, "en")
    assert before["fields"]["petugas"] == "investigator"  # routing is the front desk's work
    wbs.fire(w.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "investigator"}, reason="Dia terlapor")
    view, history = staff_pages(wbs, w.number, "pengelola")
    text = repr(view) + repr(history)
    assert "investigator" not in text and "terlapor" not in text and "pelicin" not in text
    assert view["fields"]["petugas"] == views.SEALED and view["recused"] == views.SEALED
    # those who read the report still see it all
    view = views.case_view(wbs, w.number, wbs.load_actor("telaah"), "en")
    assert view["fields"]["petugas"] == "investigator" and view["recused"] == ["investigator"]
