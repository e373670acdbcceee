"""The proof of filing (wbs_engine/receipts.py): a signed PDF per public case type that verifies; any changed
byte refused; another office's signature refused; a case whose trail was changed, or that was removed, named
as such; the report's text left out of a WBS proof unless asked for; nothing identifying in an anonymous
one; the text in Indonesian and English; the QR code's link; the CLI. On SQLite and PostgreSQL."""

import json
import re
import shutil
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_wbs, seed_people
from wbs_engine import audit, receipts
from wbs_engine.crypto import Keyring
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotFound
from wbs_engine.models import AuditHead, Case, CaseEvent, Clock, ClockAction, OfficeKey
from wbs_engine.pdfwriter import page_texts
from wbs_engine.provision import rotate_encryption_key

#: Thursday 3 December 2026, 09:14 WIB
FILED_AT = datetime(2026, 12, 3, 2, 14, tzinfo=UTC)

SECRET_WHAT = "Bendahara Kertajaya memotong honor kegiatan sebesar sepuluh persen setiap bulan."
SECRET_WHO = "Bendahara Kertajaya, bagian keuangan"
REPORTER_NAME = "Rahmawati Sukmawijaya"
REPORTER_MAIL = "rahma.sukma@contoh.id"
CONTACT_MAIL = "kabari.saya@contoh.id"

DATA = {
    "pengaduan": {
        "nama": REPORTER_NAME,
        "email": REPORTER_MAIL,
        "layanan": "Layanan legalisir ijazah",
        "kategori": "normatif",
        "uraian": "Petugas loket meminta uang tambahan (di luar tarif) saat legalisir; kuitansi tidak diberikan.",
    },
    "wbs": {
        "nama": REPORTER_NAME,
        "email": REPORTER_MAIL,
        "email_kontak": CONTACT_MAIL,
        "kategori": "korupsi",
        "apa": SECRET_WHAT,
        "siapa": SECRET_WHO,
    },
    "benturan_kepentingan": {
        "jalur": "laporan_pihak_lain",
        "jenis": "aktual",
        "sumber": "keluarga",
        "nama_pejabat": "Kepala Seksi Pengadaan Wiradinata",
        "kegiatan": "Pengadaan alat tulis kantor 2026",
        "uraian": "Pemenang pengadaan adalah perusahaan milik adik kandung kepala seksi yang memimpin panitia.",
        "nama": REPORTER_NAME,
    },
}
PUBLIC_TYPES = list(DATA)


@pytest.fixture
def office(wbs, clock):
    clock.now = FILED_AT
    return wbs


def file(eng, case_type, identity=None, **changes):
    return eng.create_case(case_type, {**DATA[case_type], **changes}, identity_mode=identity)


def text_of(pdf: bytes) -> str:
    """Every line the PDF shows, joined with spaces (wrapped lines rejoin)."""
    return " ".join(" ".join(page_texts(pdf)).split())


def created_event(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return audit.chain_events(s, number)[0]


def link_of(pdf: bytes) -> str:
    return re.search(rb"/URI \((http[^)]*)\)", pdf).group(1).decode()


# -- every public case type --------------------------------------------------------------------------------


@pytest.mark.parametrize("case_type", PUBLIC_TYPES)
def test_a_proof_for_each_public_case_type_verifies(office, case_type):
    identity = "terbuka"
    c = file(office, case_type, identity)
    pdf = receipts.proof_of_filing(office, c.receipt_code)
    assert pdf.startswith(b"%PDF-1.4\n") and b"\n%%EOF\n%wbs-proof-signature/1 key=" in pdf
    check = receipts.verify_proof(office, pdf)
    assert check.status == "genuine" and check.genuine
    assert (check.number, check.case_type, check.received_at) == (c.number, case_type, FILED_AT)
    assert check.key_id == office.keyring.key_id
    ev = created_event(office, c.number)
    running = [e for e in ev.payload["clocks"] if e["status"] == "running"]
    first_due = min(e["due_date"] for e in running)
    assert check.due_date.isoformat() == first_due
    assert c.number in check.message("id") and "3 Desember 2026 09:14 WIB" in check.message("id")
    assert check.message("id").startswith("Asli") and check.message("en").startswith("Genuine")
    assert check.to_dict("en")["received"] == "3 December 2026 09:14 WIB"

    text = text_of(pdf)
    defn = office.registry.latest(case_type).definition
    assert defn.label.get("id") in text and c.number in text
    assert "3 Desember 2026 09:14 WIB" in text
    day = int(first_due[-2:])
    assert f"{day} Desember 2026" in text
    assert ev.hash in text and office.keyring.key_id in text
    statement_line = pdf.split(b"\n")[2].decode()
    signature = statement_line.rsplit(" sig=", 1)[1]
    assert signature in text.replace(" ", "")
    statement = json.loads(statement_line.split(" ", 1)[1].rsplit(" sig=", 1)[0])
    assert statement == {
        "v": 1,
        "number": c.number,
        "type": case_type,
        "received_at": "2026-12-03T02:14:00.000000Z",
        "event": ev.hash,
        "due": first_due,
        "key": office.keyring.key_id,
    }
    # the same case, language and choice: the same bytes (a download repeated is the same proof)
    assert receipts.proof_of_filing(office, c.receipt_code) == pdf


def test_the_proof_reads_in_indonesian_and_english(office):
    c = file(office, "pengaduan", "terbuka")
    id_text = text_of(receipts.proof_of_filing(office, c.receipt_code, "id"))
    en_text = text_of(receipts.proof_of_filing(office, c.receipt_code, "en"))
    for phrase in (
        "BUKTI PENERIMAAN LAPORAN",
        "Dokumen ini membuktikan bahwa kantor telah menerima laporan di bawah ini.",
        "Jenis laporan Pengaduan Masyarakat",
        f"Nomor perkara {c.number}",
        "Diterima kantor 3 Desember 2026 09:14 WIB",
        "Batas waktu langkah pertama 8 Desember 2026 (Batas verifikasi)",
        "Bukti digital",
        "Cara memeriksa",
        "http://127.0.0.1:5000/verifikasi",
        "Kode pelacakan Anda tidak ada dalam dokumen ini",
        "Yang Anda laporkan",
        "Kategori pengaduan Normatif",
        f"{c.number} - halaman 1 dari 1",
    ):
        assert phrase in id_text, phrase
    for phrase in (
        "PROOF OF FILING",
        "This document proves that the office received the report below.",
        "Report type Public complaint",
        f"Case number {c.number}",
        "Received by the office 3 December 2026 09:14 WIB",
        "First step due by 8 December 2026",
        "How to verify",
        "What you reported",
        f"{c.number} - page 1 of 1",
    ):
        assert phrase in en_text, phrase
    assert "PROOF OF FILING" not in id_text and "BUKTI PENERIMAAN" not in en_text


def test_the_office_name_heads_the_proof_when_the_settings_have_one(office):
    c = file(office, "pengaduan", "terbuka")
    assert text_of(receipts.proof_of_filing(office, c.receipt_code)).startswith("BUKTI PENERIMAAN LAPORAN")
    named = office.with_clock(office._clock)
    named.settings = office.settings.with_(office_name="Inspektorat Kota Contoh — Unit Kepatuhan")
    pdf = receipts.proof_of_filing(named, c.receipt_code)
    assert text_of(pdf).startswith("Inspektorat Kota Contoh — Unit Kepatuhan BUKTI PENERIMAAN LAPORAN")
    assert receipts.verify_proof(office, pdf).genuine


def test_a_wrong_code_gets_trackings_answer(office):
    file(office, "pengaduan")
    with pytest.raises(NotFound) as err:
        receipts.proof_of_filing(office, "AAAA-BBBB-CCCC-DDDD")
    assert err.value.message("en") == "Tracking code not found; check how it is written."


def test_an_employees_gratuity_report_gets_a_proof_too_without_its_text(office):
    """Gratifikasi is filed by an employee signed in; they get a tracking code and so a proof. Its workflow does
    not say proof_includes_text: off, as for every workflow that does not ask."""
    from wbs_engine.demo import sample_value

    defn = office.registry.latest("gratifikasi").definition
    data = {f.name: sample_value(f, 0, today=FILED_AT.date()) for f in defn.intake if f.required}
    data["uraian"] = "Parsel berisi jam tangan dari rekanan pengadaan, diterima di rumah."
    c = office.create_case("gratifikasi", data, filed_by=office.load_actor("pegawai"))
    pdf = receipts.proof_of_filing(office, c.receipt_code, "en")
    assert receipts.verify_proof(office, pdf).genuine
    text = text_of(pdf)
    assert "Report type Gratuity report" in text and "jam tangan" not in text
    assert "The report's text is left out of this proof to protect you." in text
    assert "jam tangan" in text_of(receipts.proof_of_filing(office, c.receipt_code, "en", include_text=True))


def test_the_first_due_date_is_the_earliest_running_clock():
    first = receipts._first_due
    assert first({}) == (None, None) and first({"clocks": None}) == (None, None)
    clocks = [
        {"clock": "a", "action": "started", "status": "running", "due_date": "2026-12-10"},
        {"clock": "b", "action": "started", "status": "breached", "due_date": "2026-12-01"},
        {"clock": "c", "action": "started", "status": "running", "due_date": "2026-12-08"},
        {"clock": "d", "action": "stopped", "status": "stopped", "due_date": "2026-12-02"},
        {"clock": "e", "action": "paused", "status": "paused", "remaining_days": 3},
        "not a clock",
    ]
    assert first({"clocks": clocks}) == ("2026-12-08", "c")
    assert first({"clocks": clocks[1:2] + clocks[3:]}) == (None, None)


# -- tamper evidence ---------------------------------------------------------------------------------------


@pytest.fixture
def proof(office):
    c = file(office, "wbs", "anonim")
    return c, receipts.proof_of_filing(office, c.receipt_code)


def test_every_changed_byte_is_refused(make_wbs, tmp_path, clock):
    """Every byte of the header, the statement, the cross-reference table, the trailer and the signature line
    changed three ways; the body (the text shown, the QR code) at every 13th byte and 300 random places. No
    database is read for a proof that fails its signatures, so SQLite alone."""
    import random

    office = make_wbs(f"sqlite:///{tmp_path / 'flip.sqlite3'}")
    seed_people(office)
    clock.now = FILED_AT
    c = file(office, "wbs", "anonim")
    pdf = receipts.proof_of_filing(office, c.receipt_code)
    statement_end = pdf.index(b"\n", pdf.index(b"%wbs-proof-statement/1"))
    tail = pdf.rindex(b"xref\n")
    last_line = pdf.rindex(b"\n", 0, len(pdf) - 1)
    rng = random.Random(20261203)
    body = sorted({*range(statement_end + 1, tail, 13), *rng.sample(range(statement_end + 1, tail), 300)})
    places = [*range(statement_end + 1), *body, *range(tail, len(pdf))]
    seen = {}
    for i in places:
        for mask in (0x01, 0x20, 0x80) if i <= statement_end or i >= tail else (0x01,):
            changed = bytearray(pdf)
            changed[i] ^= mask
            status = receipts.verify_proof(office, bytes(changed)).status
            assert status != "genuine", (i, mask)
            seen.setdefault(status, i)
            if statement_end < i < last_line:  # after the statement, before the signature line
                assert status in ("altered", "unreadable"), (i, mask, status)
    assert {"altered", "forged", "unreadable"} <= set(seen)
    # removed or added bytes
    for changed in (pdf[:-1], pdf[1:], pdf + b"\n", pdf + b"x", pdf[:100] + pdf[101:], pdf.replace(b"(", b"( ", 1)):
        assert receipts.verify_proof(office, changed).status != "genuine"
    assert receipts.verify_proof(office, pdf).genuine


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_proofs_and_links_are_refused_never_an_error(fuzz_office, data):
    office, pdf, link = fuzz_office
    start = data.draw(st.integers(0, len(pdf)))
    end = data.draw(st.integers(start, min(len(pdf), start + 64)))
    insert = data.draw(st.binary(max_size=64))
    changed = pdf[:start] + insert + pdf[end:]
    check = receipts.verify_proof(office, changed)
    assert check.status in receipts.STATUSES
    assert check.genuine == (changed == pdf)
    check.message("id"), check.to_dict("en")
    query = parse_qs(urlsplit(link).query)
    params = {k: v[0] for k, v in query.items()}
    name = data.draw(st.sampled_from([*params, "x"]))
    value = data.draw(st.one_of(st.text(max_size=100), st.lists(st.text(max_size=20), max_size=3)))
    check = receipts.verify_link(office, {**params, name: value})
    changed_param = name in receipts.LINK_PARAMS and value not in (params.get(name), [params.get(name)])
    assert check.status in receipts.STATUSES and not (check.genuine and changed_param)
    assert receipts.verify_link(office, data.draw(st.text(max_size=300))).status in receipts.STATUSES


@pytest.fixture
def fuzz_office(make_wbs, tmp_path, clock):
    office = make_wbs(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}")
    seed_people(office)
    clock.now = FILED_AT
    c = file(office, "pengaduan", "anonim")
    pdf = receipts.proof_of_filing(office, c.receipt_code)
    return office, pdf, link_of(pdf)


def test_a_changed_fact_is_refused_even_with_a_matching_statement(office, proof):
    c, pdf = proof
    other = file(office, "wbs", "anonim")
    # the shown number changed in the body: the document's signature fails
    assert receipts.verify_proof(office, pdf.replace(c.number.encode(), other.number.encode())).status in (
        "altered",
        "forged",
    )
    lines = pdf.split(b"\n")
    forged_statement = lines[2].replace(c.number.encode(), other.number.encode())
    assert receipts.verify_proof(office, b"\n".join([*lines[:2], forged_statement, *lines[3:]])).status == "forged"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.4\n",
        b"not a pdf at all",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%%EOF\n",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"x" * (receipts.MAX_PROOF_BYTES + 1),
        "a string, not bytes",
    ],
)
def test_what_is_not_a_proof_is_unreadable_never_an_error(office, data):
    check = receipts.verify_proof(office, data)
    assert check.status == "unreadable" and check.number is None
    assert check.message("id").startswith("Bukan bukti penerimaan")


def test_a_proof_signed_by_another_office_is_forged(office, make_wbs, tmp_path, clock):
    other = make_wbs(f"sqlite:///{tmp_path / 'other.sqlite3'}", keyring_file=tmp_path / "other" / "keyring.json")
    seed_people(other)
    assert other.keyring.key_id != office.keyring.key_id
    mine = file(office, "pengaduan")
    theirs = file(other, "pengaduan")  # the same number, PGD-2026-000001, in another office
    assert theirs.number == mine.number
    pdf = receipts.proof_of_filing(other, theirs.receipt_code)
    assert receipts.verify_proof(other, pdf).genuine
    check = receipts.verify_proof(office, pdf)
    assert check.status == "forged" and check.number is None and mine.number not in check.message("en")
    assert receipts.verify_link(office, link_of(pdf)).status == "forged"
    # their statement with our key id written in: still no signature of ours
    ours = receipts.proof_of_filing(office, mine.receipt_code)
    mixed = pdf.replace(other.keyring.key_id.encode(), office.keyring.key_id.encode())
    assert receipts.verify_proof(office, mixed).status == "forged"
    # our statement and their document: the signature line names their key
    head, _sig_line = ours.rsplit(b"%wbs-proof-signature/1", 1)
    their_line = pdf.rsplit(b"%wbs-proof-signature/1", 1)[1]
    assert receipts.verify_proof(office, head + b"%wbs-proof-signature/1" + their_line).status == "forged"


def test_a_tampered_created_event_is_a_trail_mismatch(office, proof):
    c, pdf = proof
    link = link_of(pdf)
    with unit_of_work(office.db) as s:
        s.connection().execute(
            sa.update(CaseEvent.__table__)
            .where(CaseEvent.__table__.c.chain == c.number, CaseEvent.__table__.c.seq == 1)
            .values(occurred_at=datetime(2026, 12, 4, 2, 14, tzinfo=UTC))
        )
    for check in (receipts.verify_proof(office, pdf), receipts.verify_link(office, link)):
        assert check.status == "trail_mismatch"
        assert check.number == c.number and check.received_at == FILED_AT  # what the proof says, no more
        assert "no longer matches" in check.message("en") and "tidak lagi cocok" in check.message("id")
    with pytest.raises(receipts.ProofUnavailable):
        receipts.proof_of_filing(office, c.receipt_code)


def test_a_created_event_rehashed_by_a_database_writer_is_a_trail_mismatch(office, proof):
    """Someone who can write the database recomputes the edited event's hash and every later link: the chain
    is whole again, but it is not the filing the office signed."""
    c, pdf = proof
    with unit_of_work(office.db) as s:
        conn = s.connection()
        events = CaseEvent.__table__
        rows = audit.chain_events(s, c.number)
        prev = audit.GENESIS
        for ev in rows:
            if ev.seq == 1:
                ev.payload = {**ev.payload, "unit": "UMUM"}
            ev.prev_hash = prev
            ev.hash = audit.event_hash(ev)
            conn.execute(
                sa.update(events)
                .where(events.c.id == ev.id)
                .values(payload=ev.payload, prev_hash=ev.prev_hash, hash=ev.hash)
            )
            prev = ev.hash
        conn.execute(sa.update(AuditHead.__table__).where(AuditHead.__table__.c.chain == c.number).values(hash=prev))
    assert receipts.verify_proof(office, pdf).status == "trail_mismatch"


def test_a_later_event_tampered_is_a_trail_mismatch(office, proof):
    c, pdf = proof
    office.fire(c.number, "mulai_verifikasi", office.load_actor("pengelola"), {"petugas": "telaah"})
    assert receipts.verify_proof(office, pdf).genuine
    with unit_of_work(office.db) as s:
        events = CaseEvent.__table__
        s.connection().execute(
            sa.update(events).where(events.c.chain == c.number, events.c.seq == 2).values(actor="atasan")
        )
    assert receipts.verify_proof(office, pdf).status == "trail_mismatch"


def test_a_removed_case_is_unknown_but_the_proof_still_proves_the_filing(office, proof):
    c, pdf = proof
    with unit_of_work(office.db) as s:
        conn = s.connection()
        case_id = office.get_case(s, c.number).id
        clocks = sa.select(Clock.__table__.c.id).where(Clock.__table__.c.case_id == case_id)
        conn.execute(sa.delete(ClockAction.__table__).where(ClockAction.__table__.c.clock_id.in_(clocks)))
        for table in Case.metadata.sorted_tables:
            if "case_id" in table.c and table.name != "case_file":
                conn.execute(sa.delete(table).where(table.c.case_id == case_id))
        conn.execute(sa.delete(AuditHead.__table__).where(AuditHead.__table__.c.chain == c.number))
        conn.execute(sa.delete(Case.__table__).where(Case.__table__.c.id == case_id))
    check = receipts.verify_proof(office, pdf)
    assert check.status == "unknown_case" and check.number == c.number
    assert "has no record of that case" in check.message("en")
    assert receipts.verify_link(office, link_of(pdf)).status == "unknown_case"


def test_proofs_survive_a_key_rotation_and_a_retired_signing_key_still_verifies(office, proof):
    c, pdf = proof
    rotate_encryption_key(office.settings, rewrap=True, now=FILED_AT)
    rotated = office.with_clock(office._clock)
    rotated.keyring = Keyring.load(office.settings.keyring_path)
    assert rotated.keyring.key_id == office.keyring.key_id  # rotate-key changes the encryption key only
    assert receipts.verify_proof(rotated, pdf).genuine

    # a signing key replaced by hand: the old public half kept in the keyring's retired_signing
    new = Keyring(
        encryption=rotated.keyring.encryption, receipt=rotated.keyring.receipt, signing=Keyring.generate().signing
    )
    with unit_of_work(office.db) as s:
        keys = OfficeKey.__table__
        s.connection().execute(
            sa.update(keys)
            .where(keys.c.purpose == "signing", keys.c.fingerprint == office.keyring.key_id)
            .values(fingerprint=new.key_id)
        )
    replaced = office.with_clock(office._clock)
    replaced.keyring, replaced._keys_checked = new, False
    assert receipts.verify_proof(replaced, pdf).status == "forged"
    new.retired_signing = [office.keyring.public_b64]
    assert receipts.verify_proof(replaced, pdf).genuine
    assert receipts.verify_link(replaced, link_of(pdf)).genuine
    # and what the new key signs verifies too
    fresh = receipts.proof_of_filing(replaced, file(replaced, "pengaduan").receipt_code)
    assert receipts.verify_proof(replaced, fresh).genuine


# -- privacy -----------------------------------------------------------------------------------------------


def test_a_wbs_proof_leaves_the_report_out_unless_asked(office):
    c = file(office, "wbs", "rahasia")
    assert receipts.includes_text_by_default(office, c.receipt_code) is False
    with pytest.raises(NotFound):
        receipts.includes_text_by_default(office, "AAAA-BBBB-CCCC-DDDD")
    default = receipts.proof_of_filing(office, c.receipt_code)
    for secret in (SECRET_WHAT, SECRET_WHO, "Kertajaya", REPORTER_NAME, REPORTER_MAIL, CONTACT_MAIL):
        assert secret not in text_of(default) and secret.encode() not in default
    assert "Isi laporan tidak dicantumkan dalam bukti ini untuk melindungi Anda." in text_of(default)
    assert receipts.proof_of_filing(office, c.receipt_code, include_text=False) == default

    asked = receipts.proof_of_filing(office, c.receipt_code, include_text=True)
    text = text_of(asked)
    assert SECRET_WHAT in text and SECRET_WHO in text and "Korupsi / kerugian negara" in text
    # a rahasia report: the identity stays out even when the text is in
    for secret in (REPORTER_NAME, REPORTER_MAIL, CONTACT_MAIL):
        assert secret not in text and secret.encode() not in asked
    assert receipts.verify_proof(office, asked).genuine


def test_pengaduan_and_bk_proofs_carry_the_text_unless_left_out(office):
    for case_type, sample in (("pengaduan", "kuitansi tidak diberikan"), ("benturan_kepentingan", "adik kandung")):
        c = file(office, case_type, "terbuka")
        assert receipts.includes_text_by_default(office, c.receipt_code) is True
        assert sample in text_of(receipts.proof_of_filing(office, c.receipt_code))
        assert REPORTER_NAME in text_of(receipts.proof_of_filing(office, c.receipt_code))  # open: their own name
        left_out = receipts.proof_of_filing(office, c.receipt_code, include_text=False)
        assert sample not in text_of(left_out) and REPORTER_NAME not in text_of(left_out)


@pytest.mark.parametrize("case_type", ["pengaduan", "wbs"])
def test_an_anonymous_proof_holds_nothing_that_identifies(office, case_type):
    c = file(office, case_type, "anonim", email_kontak=CONTACT_MAIL)
    for include in (None, True):
        pdf = receipts.proof_of_filing(office, c.receipt_code, "en", include_text=include)
        text = text_of(pdf)
        assert "Anonymous report: this document holds nothing that identifies you." in text
        for secret in (REPORTER_NAME, REPORTER_MAIL, CONTACT_MAIL, "pelapor", "Mozilla", "127.0.0.1 "):
            assert secret not in text and secret.encode() not in pdf, secret
        code = c.receipt_code
        for spelling in (code, code.replace("-", ""), code.lower()):
            assert spelling.encode() not in pdf


def test_no_proof_holds_the_tracking_code(office):
    for case_type in PUBLIC_TYPES:
        c = file(office, case_type, "terbuka")
        for lang in ("id", "en"):
            pdf = receipts.proof_of_filing(office, c.receipt_code, lang, include_text=True)
            flat = re.sub(rb"[^A-Z0-9]", b"", pdf.upper())
            assert c.receipt_code.replace("-", "").encode() not in flat


def test_text_the_fonts_cannot_show_is_replaced_and_the_proof_still_verifies(office):
    odd = "Tanda (kurung) \\ garis; ǅ → ≥ \u202e\u200b naïve café 😀 中文 " + "kata " * 3000
    c = file(office, "pengaduan", "terbuka", uraian=odd)
    pdf = receipts.proof_of_filing(office, c.receipt_code)
    text = text_of(pdf)
    assert "Tanda (kurung) \\ garis; Dz -> >= <U+202E><U+200B> naïve café ? ?? kata" in text
    assert len(page_texts(pdf)) > 1 and receipts.verify_proof(office, pdf).genuine
    if shutil.which("pdftotext"):  # a real reader, where one is installed (never required)
        import subprocess

        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
        assert not out.stderr and c.number.encode() in out.stdout and "naïve".encode() in out.stdout


def test_the_longest_report_makes_a_proof_that_verifies(office):
    """Four long answers, one of them nothing but short lines: runs of blank lines shrink to one, and the file
    stays well under what a check reads."""
    c = file(
        office,
        "wbs",
        "anonim",
        apa="a\n\n\n" * 5000,
        siapa="b\n" * 9999,
        dimana="c" * 300,
        bagaimana="é ) ( \\ " * 2400,
    )
    pdf = receipts.proof_of_filing(office, c.receipt_code, include_text=True)
    assert len(pdf) < receipts.MAX_PROOF_BYTES // 2 and receipts.verify_proof(office, pdf).genuine
    assert "a\n\na\n\n" in page_texts(pdf)[1]


# -- the QR code's link ------------------------------------------------------------------------------------


def test_the_link_verifies_without_the_file(office, proof):
    c, pdf = proof
    link = link_of(pdf)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:5000/verifikasi"
    query = parse_qs(parts.query)
    assert query["n"] == [c.number] and query["t"] == ["wbs"] and query["r"] == ["2026-12-03T02:14:00.000000Z"]
    for form in (link, parts.query, query, {k: v[0] for k, v in query.items()}, {**query, "lang": ["en"]}):
        check = receipts.verify_link(office, form)
        assert check.genuine and check.number == c.number and check.received_at == FILED_AT
    one = {k: v[0] for k, v in query.items()}
    from werkzeug.datastructures import MultiDict  # what Flask's request.args is: every value is looked at

    assert receipts.verify_link(office, MultiDict(one)).genuine
    doubled = MultiDict([*one.items(), ("n", "WBS-2026-000002")])
    assert receipts.verify_link(office, doubled).status == "unreadable"
    assert receipts.verify_link(office, {**one, "n": "WBS-2026-000002"}).status == "forged"
    assert receipts.verify_link(office, {**one, "r": "2026-12-02T02:14:00.000000Z"}).status == "forged"
    assert receipts.verify_link(office, {**one, "d": "2026-12-31"}).status == "forged"
    assert receipts.verify_link(office, {k: v for k, v in one.items() if k != "d"}).status == "forged"
    sig = one["s"]
    assert receipts.verify_link(office, {**one, "s": sig[:-1] + ("B" if sig[-1] == "A" else "A")}).status in (
        "forged",
        "unreadable",
    )
    for broken in (
        {},
        {k: v for k, v in one.items() if k != "h"},
        {**one, "n": ["WBS-2026-000001", "WBS-2026-000002"]},
        {**one, "v": "2"},
        {**one, "r": "kemarin"},
        {**one, "h": "0" * 63},
        {**one, "s": "x" * 500},
        "v=1&" + "x" * 10000,
        "%%%",
    ):
        assert receipts.verify_link(office, broken).status == "unreadable", broken


def test_the_qr_code_is_the_link(office, proof):
    """The rectangles drawn are segno's matrix of the link, module for module."""
    from wbs_engine import pdfwriter

    _c, pdf = proof
    matrix = receipts._qr_matrix(link_of(pdf))
    stream = b"".join(re.findall(rb"stream\n(.*?)endstream", pdf, re.S))
    drawn = [tuple(int(v) for v in m) for m in re.findall(rb"^(\d+) (\d+) (\d+) (\d+) re$", stream, re.M)]
    assert drawn == pdfwriter.qr_boxes(matrix)
    assert sum(w for _x, _y, w, _h in drawn) == sum(sum(row) for row in matrix)


# -- the CLI -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli(office, tmp_path, db_url):
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": db_url}

    def run(*args, input=None):
        if input is None:
            return run_wbs(*args, env=env)
        from click.testing import CliRunner

        from tests.helpers import CLEAN_ENV, _Wbs

        return CliRunner().invoke(_Wbs(), list(args), input=input, env={**CLEAN_ENV, **env}, catch_exceptions=False)

    return run


def test_the_cli_writes_and_verifies_a_proof(office, cli, tmp_path):
    c = file(office, "pengaduan", "terbuka")
    out = tmp_path / "bukti.pdf"
    res = cli("case", "proof", c.number, "--code", c.receipt_code, "--out", str(out))
    assert res.exit_code == 0 and res.stdout.strip() == f"Bukti penerimaan laporan {c.number} ditulis ke {out}."
    assert out.read_bytes() == receipts.proof_of_filing(office, c.receipt_code)
    assert oct(out.stat().st_mode & 0o777) == "0o600" and [p.name for p in tmp_path.glob(".bukti*")] == []

    res = cli("verify-receipt", str(out))
    assert res.exit_code == 0 and res.stdout.startswith(
        f"Asli: bukti penerimaan ini diterbitkan kantor ini untuk laporan {c.number}"
    )
    assert res.stdout.count("\n") == 1
    res = cli("--lang", "en", "verify-receipt", str(out))
    assert res.exit_code == 0 and "3 December 2026 09:14 WIB" in res.stdout
    res = cli("verify-receipt", "--json", str(out))
    assert res.exit_code == 0 and json.loads(res.stdout)["status"] == "genuine"
    res = cli("verify-receipt", "--link", link_of(out.read_bytes()))
    assert res.exit_code == 0 and c.number in res.stdout
    res = cli("verify-receipt", "-", input=out.read_bytes())  # from standard input
    assert res.exit_code == 0 and c.number in res.stdout

    changed = bytearray(out.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    bad = tmp_path / "diubah.pdf"
    bad.write_bytes(bytes(changed))
    res = cli("--lang", "en", "verify-receipt", str(bad))
    assert res.exit_code == 1 and res.stdout == "" and res.stderr.startswith("Altered:") and res.stderr.count("\n") == 1
    res = cli("verify-receipt", str(tmp_path / "bukan.pdf"))
    assert res.exit_code == 2 and res.stderr.count("\n") == 1

    # never written over a file, and a wrong code or number gets tracking's answer
    before = out.read_bytes()
    res = cli("case", "proof", c.number, "--code", c.receipt_code, "--out", str(out))
    assert res.exit_code == 2 and "sudah ada" in res.stderr and out.read_bytes() == before
    res = cli("case", "proof", c.number, "--code", "AAAA-BBBB-CCCC-DDDD", "--out", str(tmp_path / "x.pdf"))
    assert res.exit_code == 2 and "Kode pelacakan tidak ditemukan" in res.stderr
    res = cli("case", "proof", "PGD-2026-000099", "--code", c.receipt_code, "--out", str(tmp_path / "x.pdf"))
    assert res.exit_code == 2 and "Kode pelacakan tidak ditemukan" in res.stderr and not (tmp_path / "x.pdf").exists()
    res = cli("verify-receipt")
    assert res.exit_code == 2 and res.stderr.count("\n") == 1


def test_the_cli_chooses_the_text(office, cli, tmp_path):
    c = file(office, "wbs", "anonim")
    with_text, without = tmp_path / "with.pdf", tmp_path / "without.pdf"
    assert (
        cli("case", "proof", c.number, "--code", c.receipt_code, "--out", str(with_text), "--with-text").exit_code == 0
    )
    assert cli("case", "proof", c.number, "--code", c.receipt_code, "--out", str(without)).exit_code == 0
    assert SECRET_WHAT in text_of(with_text.read_bytes()) and SECRET_WHAT not in text_of(without.read_bytes())
    res = cli("--lang", "en", "case", "proof", c.number, "--code", c.receipt_code, "--out", "-")
    assert res.exit_code == 0 and res.stdout_bytes == receipts.proof_of_filing(office, c.receipt_code, "en")
