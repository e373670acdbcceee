"""Attachments (wbs_engine.files): stored sealed and streamed, checked from their content, limited, opened
only by who may, every open in the trail, a file altered on disk reported instead of served.

Tests where the database matters run on SQLite and PostgreSQL (``wbs``); file-format and input checks run on
SQLite only (``office``)."""

import hashlib
import io
import os
import shutil
import struct
import threading
import zipfile
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.helpers import COMPLAINT, seed_people
from wbs_engine import audit, files
from wbs_engine.db import unit_of_work
from wbs_engine.errors import GuardFailed, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from wbs_engine.files import (
    AttachmentDamaged,
    AttachmentDestroyed,
    AttachmentRejected,
    attach,
    list_attachments,
    open_attachment,
)
from wbs_engine.models import Attachment, Case, CaseEvent
from wbs_engine.sealedfile import CHUNK

REPO = Path(__file__).resolve().parents[2]


# --- small valid files, built here ---------------------------------------------------------------------


def png(width: int = 4, height: int = 4, noise: bool = False) -> bytes:
    """A valid RGB PNG; ``noise`` makes it incompressible (so its size follows width × height)."""
    rows = b"".join(b"\x00" + (os.urandom(width * 3) if noise else bytes([200, 30, 30]) * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf(text: str = "Bukti pungutan liar") -> bytes:
    """A valid one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def jpeg(scan: int = 500) -> bytes:
    """A JPEG as its markers go (the checks read the structure, not the picture): SOI, APP0 (JFIF), a scan of
    random entropy-coded bytes (each FF stuffed as FF 00), EOI."""
    data = os.urandom(scan).replace(b"\xff", b"\xff\x00")
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sos = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sos + data + b"\xff\xd9"


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buf.getvalue()


class Upload(io.RawIOBase):
    """A client's upload: records how much is asked for at a time and in all."""

    def __init__(self, data: bytes):
        self._src = io.BytesIO(data)
        self.reads: list[int] = []
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        data = self._src.read(n)
        self.taken += len(data)
        return data


# --- fixtures ------------------------------------------------------------------------------------------
# Seeding the staff (argon2 for each account) is the slow part of an engine test: one office per module and
# database, shared by the tests, each on cases of its own. Tests that need their own settings or workflow
# build a small office (one account).


def _build(url, instance: Path, clock, **settings):
    from wbs_engine.config import Settings
    from wbs_engine.engine import WbsEngine
    from wbs_engine.provision import init_database

    s = Settings(
        instance_dir=instance,
        database_url=url,
        workflows_dir=settings.pop("workflows_dir", REPO / "workflows"),
        **settings,
    )
    init_database(s, now=clock.now)
    return WbsEngine(s, clock=clock)


@pytest.fixture(scope="module")
def _module_clock():
    from datetime import UTC, datetime

    from tests.conftest import FixedClock

    return FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def wbs(request, tmp_path_factory, _module_clock):
    """One office per database for the module (SQLite and PostgreSQL)."""
    base = tmp_path_factory.mktemp(f"files-{request.param}")
    url = (
        f"sqlite:///{base / 'wbs.sqlite3'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_server").create_database()
    )
    eng = _build(url, base / "instance", _module_clock)
    seed_people(eng)
    yield eng
    eng.db.dispose()


@pytest.fixture(scope="module")
def office(tmp_path_factory, _module_clock):
    """One office on SQLite for the tests where the database does not matter."""
    base = tmp_path_factory.mktemp("files-office")
    eng = _build(f"sqlite:///{base / 'wbs.sqlite3'}", base / "instance", _module_clock)
    seed_people(eng)
    yield eng
    eng.db.dispose()


@pytest.fixture
def small(tmp_path, clock):
    """``small(url=None, **settings)``: an office of its own with one unit and the account ``pengelola``."""
    from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant

    made = []

    def build(url=None, **settings):
        eng = _build(url or f"sqlite:///{tmp_path / 'small.sqlite3'}", tmp_path / "instance", clock, **settings)
        ensure_unit(eng, "PUSAT", "Unit PUSAT")
        create_or_update_user(eng, "pengelola", [parse_grant("pengelola")], password="rahasia-demo-123")
        made.append(eng)
        return eng

    yield build
    for eng in made:
        eng.db.dispose()


def new_case(eng, **kw):
    return eng.create_case("pengaduan", COMPLAINT, identity_mode=kw.pop("identity", "rahasia"), **kw)


def reporter(eng, code):
    with unit_of_work(eng.db, write=False) as s:
        return eng.reporter(s, code)[0]


def stored_files(eng) -> set[Path]:
    root = eng.settings.attachments_path
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def rows(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        case = eng.get_case(s, number)
        return s.exec(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()


def events(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return audit.chain_events(s, number)


def version(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return eng.get_case(s, number).version


def read(eng, number, aid, who):
    info, chunks = open_attachment(eng, number, aid, who)
    return info, b"".join(chunks)


def problems(eng, number):
    """What ``verify-audit`` finds about this case (other tests' cases share the database)."""
    with unit_of_work(eng.db, write=False) as s:
        return [p for p in audit.verify(s, keyring=eng.keyring).problems if p.chain == number]


def recuse(eng, number, username):
    """Keep ``username`` off the case the way the recusal effect does (a ``case_recusal`` row)."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    with unit_of_work(eng.db) as s:
        case = eng.get_case(s, number)
        uid = (
            s.connection().execute(sa.text("SELECT id FROM user_account WHERE username = :u"), {"u": username}).scalar()
        )
        s.connection().execute(
            sa.text("INSERT INTO case_recusal (case_id, user_id, created_at) VALUES (:c, :u, :t)"),
            {"c": case.id, "u": uid, "t": datetime.now(UTC)},
        )


# --- round trip, trail, at rest ----------------------------------------------------------------------------


def test_round_trip_of_a_png_and_a_pdf_with_the_sha256_in_the_trail(wbs):
    c = new_case(wbs)
    me = reporter(wbs, c.receipt_code)
    pel = wbs.load_actor("pengelola")
    photo, letter = png(), pdf()
    a = attach(wbs, c.number, me, "foto bukti.PNG", io.BytesIO(photo), declared_type="application/pdf")
    b = attach(wbs, c.number, pel, "Nota Dinas.pdf", io.BytesIO(letter))
    assert (a.kind, a.content_type, a.size, a.by_reporter, a.uploaded_by) == (
        "png",
        "image/png",
        len(photo),
        True,
        "pelapor",
    )
    assert (b.kind, b.filename, b.by_reporter, b.uploaded_by) == ("pdf", "Nota Dinas.pdf", False, "pengelola")
    assert a.sha256 == hashlib.sha256(photo).hexdigest() and a.filename == "foto bukti.PNG"
    assert read(wbs, c.number, a.id, pel)[1] == photo
    info, body = read(wbs, c.number, b.id, wbs.load_actor("auditor"))
    assert body == letter and info == b
    assert version(wbs, c.number) == 3  # each attachment changes the case; opening does not

    added = [e for e in events(wbs, c.number) if e.kind == "attachment_added"]
    assert [(e.actor, e.actor_role) for e in added] == [("pelapor", "pelapor"), ("pengelola", "pengelola")]
    with unit_of_work(wbs.db, write=False) as s:
        key = wbs.case_key(wbs.get_case(s, c.number))
    for e, data, name, kind in (
        (added[0], photo, "foto bukti.PNG", "png"),
        (added[1], letter, "Nota Dinas.pdf", "pdf"),
    ):
        p = e.payload
        assert (p["size"], p["type"], p["case_version"]) == (len(data), files.KINDS[kind].mime, e.seq)
        assert key.open(p["sealed"]) == {"filename": name, "sha256": hashlib.sha256(data).hexdigest()}
        assert name not in str(p) and hashlib.sha256(data).hexdigest() not in str(p)  # sealed, not plain
    assert [r.meta_enc for r in rows(wbs, c.number)] == [e.payload["sealed"] for e in added]
    assert problems(wbs, c.number) == []


def test_the_guard_has_attachment_counts_them(office):
    from wbs_engine.hooks import GUARDS, FireContext

    c = new_case(office)

    def guard():
        with unit_of_work(office.db, write=False) as s:
            case = office.get_case(s, c.number)
            ctx = FireContext(s, case, office.load_actor("pengelola"), {}, office.now(), None, None)  # type: ignore[arg-type]
            return GUARDS["has_attachment"](ctx)

    with pytest.raises(GuardFailed):
        guard()
    attach(office, c.number, office.load_actor("pengelola"), "a.pdf", io.BytesIO(pdf()))
    assert guard() is True


def test_nothing_a_person_wrote_is_in_clear_on_disk_or_in_the_database(office):
    c = new_case(office)
    me = reporter(office, c.receipt_code)
    before = stored_files(office)
    secret_text = b"Kepala Seksi Budi meminta Rp 5.000.000 untuk izin\n" * 50
    attach(office, c.number, me, "kronologi-budi.txt", io.BytesIO(secret_text))
    attach(office, c.number, me, "rahasia-budi.png", io.BytesIO(png()))
    on_disk = stored_files(office) - before
    assert len(on_disk) == 2
    for path in on_disk:
        assert len(path.name) == 32 and int(path.name, 16) >= 0 and path.parent.name == path.name[:2]
        assert "budi" not in str(path).lower()
        blob = path.read_bytes()
        assert blob.startswith(b"WBSATT") and b"Budi" not in blob and b"\x89PNG" not in blob and b"IHDR" not in blob
        assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0  # owner only
    assert office.settings.attachments_path.stat().st_mode & 0o077 == 0
    assert office.settings.attachments_path == office.settings.instance_dir / "attachments"
    # the database: rows and events hold no name in clear
    with unit_of_work(office.db, write=False) as s:
        dump = " ".join(str(r) for r in s.connection().execute(sa.text("SELECT * FROM attachment")))
        dump += " ".join(str(r) for r in s.connection().execute(sa.text("SELECT * FROM case_event")))
    assert "budi" not in dump.lower() and "kronologi" not in dump


def test_large_files_are_streamed_in_chunks_both_ways(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    big = png(300, 300, noise=True)  # ~270 KB: five chunks
    assert len(big) > 4 * CHUNK
    upload = Upload(big)
    a = attach(office, c.number, pel, "besar.png", upload)
    assert upload.taken == len(big) and max(upload.reads) <= CHUNK  # never asked for the whole file
    info, chunks = open_attachment(office, c.number, a.id, pel)
    pieces = list(chunks)
    assert len(pieces) == -(-len(big) // CHUNK) and all(len(p) <= CHUNK for p in pieces)
    assert b"".join(pieces) == big and info.size == len(big)
    # exactly at the chunk boundaries, and from an iterable of pieces of any size
    for size in (CHUNK, 2 * CHUNK):
        text = (b"a" * 99 + b"\n") * (size // 100) + b"z" * (size % 100)
        t = attach(office, c.number, pel, f"t{size}.txt", (text[i : i + 1000] for i in range(0, size, 1000)))
        assert read(office, c.number, t.id, pel)[1] == text


def test_other_accepted_kinds_and_text_that_looks_like_a_bitmap(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    assert attach(office, c.number, pel, "surat.docx", io.BytesIO(docx())).kind == "docx"
    # ``filetype`` alone takes any text starting with "BM" for a bitmap
    assert attach(office, c.number, pel, "bmkg.txt", io.BytesIO(b"BMKG: gempa 5,1 SR\n")).kind == "text"
    assert attach(office, c.number, pel, "foto.jpeg", io.BytesIO(jpeg())).kind == "jpeg"


# --- bad input: a clear refusal, nothing left behind ------------------------------------------------------


def nothing_left(eng, number, files_before):
    assert stored_files(eng) == files_before
    assert rows(eng, number) == [] and version(eng, number) == 1
    assert [e.kind for e in events(eng, number)] == ["created"]


BAD_NAMES = [
    ("../../etc/passwd", "jalur folder", "folder path"),
    ("a/b.pdf", "jalur folder", "folder path"),
    ("a\\b.pdf", "jalur folder", "folder path"),
    ("..", "jalur folder", "folder path"),
    ("bukti\x00.pdf", "karakter kendali", "control or invisible"),
    ("bukti\n.pdf", "karakter kendali", "control or invisible"),
    ("\u202efdp.exe", "karakter kendali", "control or invisible"),  # shows as "exe.pdf"
    ("x" * 250 + ".pdf", "terlalu panjang", "too long"),
    ("", "kosong", "empty"),
    ("   ", "kosong", "empty"),
    ("laporan", "berakhiran jenis berkas", "must end in the file's type"),
    (".pdf", "berakhiran jenis berkas", "must end in the file's type"),
    (None, "tidak ada", "missing"),
]


@pytest.mark.parametrize("name, id_text, en_text", BAD_NAMES)
def test_bad_names_are_refused_before_anything_is_read(office, name, id_text, en_text):
    c = new_case(office)
    before = stored_files(office)
    upload = Upload(pdf())
    with pytest.raises(AttachmentRejected) as err:
        attach(office, c.number, office.load_actor("pengelola"), name, upload)
    assert err.value.reason == "name" and upload.taken == 0
    assert id_text in err.value.message("id") and en_text in err.value.message("en")
    assert isinstance(err.value, ValidationFailed) and "lampiran" in err.value.errors
    nothing_left(office, c.number, before)


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501


@pytest.mark.parametrize(
    "name, data, reason, id_text, en_text",
    [
        ("kosong.pdf", b"", "empty", "berkas kosong", "the file is empty"),
        ("foto.gif", GIF, "type", "jenis berkas GIF tidak diterima", "files of type GIF are not accepted"),
        ("setup.exe", b"MZ\x90\x00" + os.urandom(2000), "type", "jenis berkas EXE", "type EXE"),
        ("arsip.zip", b"PK\x03\x04" + os.urandom(2000), "type", "ZIP tidak diterima", "ZIP are not accepted"),
        ("data.pdf", os.urandom(3000), "type", "tidak dikenali dari isinya", "cannot be recognised"),
        ("foto.pdf", png(), "extension", "berakhiran .pdf tetapi isinya PNG", "ends in .pdf but its content is PNG"),
        ("surat.txt", pdf(), "extension", "beri nama berakhiran .pdf", "name it with .pdf"),
        ("skrip.png", b"<script>alert(1)</script>\n", "extension", "isinya teks", "content is teks"),
        ("setengah.txt", [b"teks biasa\n" * 1000, b"\x00\x01\x02" * 10], "type", "bukan teks biasa", "not plain text"),
        ("biner.txt", b"teks biasa\n" * 1000 + b"\x00\x01\x02", "type", "tidak dikenali", "cannot be recognised"),
        ("latin1.txt", "Pelapor: Jos\xe9".encode("latin-1"), "type", "tidak dikenali", "cannot be recognised"),
    ],
)
def test_bad_files_are_refused_and_leave_nothing(office, name, data, reason, id_text, en_text):
    c = new_case(office)
    before = stored_files(office)
    stream = iter(data) if isinstance(data, list) else io.BytesIO(data)
    with pytest.raises(AttachmentRejected) as err:
        attach(office, c.number, office.load_actor("pengelola"), name, stream)
    assert err.value.reason == reason, err.value.message("en")
    assert id_text in err.value.message("id") and en_text in err.value.message("en")
    nothing_left(office, c.number, before)


def test_a_refused_type_stops_reading_at_the_first_bytes(office):
    c = new_case(office)
    before = stored_files(office)
    upload = Upload(b"MZ\x90\x00" + os.urandom(5 * CHUNK))
    with pytest.raises(AttachmentRejected, match="EXE"):
        attach(office, c.number, office.load_actor("pengelola"), "setup.exe", upload)
    assert upload.taken <= CHUNK
    nothing_left(office, c.number, before)


def test_a_client_that_goes_away_leaves_nothing(office):
    c = new_case(office)
    before = stored_files(office)

    def upload():
        yield png(300, 300, noise=True)[: CHUNK * 2]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        attach(office, c.number, office.load_actor("pengelola"), "putus.png", upload())
    nothing_left(office, c.number, before)


def test_a_case_closed_while_the_file_arrives_refuses_it_and_keeps_nothing(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    office.fire(c.number, "mulai_verifikasi", pel)
    before = stored_files(office)

    def upload():
        yield pdf()[:100]
        office.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan, hanya pertanyaan.")
        yield pdf()[100:]

    with pytest.raises(InvalidTransition, match="sudah ditutup"):
        attach(office, c.number, pel, "terlambat.pdf", upload())
    assert stored_files(office) == before and rows(office, c.number) == []
    assert [e.kind for e in events(office, c.number)] == ["created", "transition", "transition"]
    upload_later = Upload(pdf())
    with pytest.raises(InvalidTransition, match="sudah ditutup"):  # and later, before a byte is read
        attach(office, c.number, reporter(office, c.receipt_code), "b.pdf", upload_later)
    assert upload_later.taken == 0


def test_a_failed_transaction_removes_the_stored_file(office, monkeypatch):
    c = new_case(office)
    before = stored_files(office)

    def broken(*_a, **_k):
        raise RuntimeError("database went away")

    monkeypatch.setattr(files.audit, "append", broken)
    with pytest.raises(RuntimeError):
        attach(office, c.number, office.load_actor("pengelola"), "a.pdf", io.BytesIO(pdf()))
    monkeypatch.undo()
    nothing_left(office, c.number, before)


# --- limits: the workflow's, else the settings' ------------------------------------------------------------


def workflow_dir(tmp_path, attachments: str) -> Path:
    wf = tmp_path / "wf"
    wf.mkdir(exist_ok=True)
    text = (REPO / "workflows" / "pengaduan.yaml").read_text()
    assert "\nvisibility:" in text
    (wf / "pengaduan.yaml").write_text(text.replace("\nvisibility:", f"\nattachments: {attachments}\nvisibility:", 1))
    return wf


def test_limits_from_the_workflow_override_the_settings(small, tmp_path):
    wf = workflow_dir(tmp_path, "{max_count: 2, max_size_mb: 1, allowed_types: [pdf, text]}")
    eng = small(workflows_dir=wf, max_attachments=5, max_attachment_mb=20)
    c = new_case(eng)
    pel = eng.load_actor("pengelola")
    with pytest.raises(AttachmentRejected, match=r"PNG tidak diterima \(yang diterima: PDF, teks/text") as err:
        attach(eng, c.number, pel, "a.png", io.BytesIO(png()))
    assert "(accepted: PDF, teks/text (UTF-8))" in err.value.message("en")
    upload = Upload(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    with pytest.raises(AttachmentRejected) as err:
        attach(eng, c.number, pel, "a.pdf", upload)
    assert err.value.reason == "too_large" and upload.taken == 1024 * 1024 + 1  # stopped reading at the limit
    assert "lebih besar dari 1 MB" in err.value.message("id") and "larger than 1 MB" in err.value.message("en")
    assert stored_files(eng) == set() and rows(eng, c.number) == []
    exactly = b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 9)
    assert attach(eng, c.number, pel, "pas.pdf", io.BytesIO(exactly)).size == 1024 * 1024
    attach(eng, c.number, reporter(eng, c.receipt_code), "b.txt", io.BytesIO(b"catatan\n"))
    upload = Upload(pdf())
    with pytest.raises(AttachmentRejected) as err:
        attach(eng, c.number, pel, "c.pdf", upload)
    assert err.value.reason == "too_many" and upload.taken == 0
    assert "sudah memiliki 2 lampiran" in err.value.message("id") and "already has 2" in err.value.message("en")
    assert len(stored_files(eng)) == 2


def test_without_a_workflow_limit_the_settings_apply(small):
    eng = small(max_attachments=1, max_attachment_mb=1)
    c = new_case(eng)
    pel = eng.load_actor("pengelola")
    with pytest.raises(AttachmentRejected, match="lebih besar dari 1 MB"):
        attach(eng, c.number, pel, "a.pdf", io.BytesIO(b"%PDF-1.4\n" + b"0" * (1024 * 1024)))
    attach(eng, c.number, pel, "a.pdf", io.BytesIO(pdf()))
    with pytest.raises(AttachmentRejected, match="sudah memiliki 1 lampiran"):
        attach(eng, c.number, pel, "b.pdf", io.BytesIO(pdf()))


def test_a_workflow_can_take_no_attachments(small, tmp_path):
    eng = small(workflows_dir=workflow_dir(tmp_path, "{max_count: 0}"))
    c = new_case(eng)
    with pytest.raises(AttachmentRejected, match="tidak menerima lampiran"):
        attach(eng, c.number, eng.load_actor("pengelola"), "a.pdf", io.BytesIO(pdf()))


# --- who may attach, who may open -------------------------------------------------------------------------


def test_permission_matrix(wbs):
    c = new_case(wbs)
    other = new_case(wbs)
    me = reporter(wbs, c.receipt_code)
    someone_else = reporter(wbs, other.receipt_code)
    pel, auditor = wbs.load_actor("pengelola"), wbs.load_actor("auditor")
    upg, petugas = wbs.load_actor("upg"), wbs.load_actor("petugas")  # unrelated role; another unit's officer
    mine = attach(wbs, c.number, me, "saya.pdf", io.BytesIO(pdf("dari pelapor")))
    theirs = attach(wbs, c.number, pel, "kantor.pdf", io.BytesIO(pdf("dari kantor")))

    # attach: the reporter and the handler; not the auditor, unrelated staff, another case's reporter
    for who in (auditor, upg, petugas, someone_else):
        upload = Upload(pdf())
        # another case's tracking code: the tracking page's answer, as for a case that does not exist
        refusal = NotFound if who is someone_else else NotAllowed
        with pytest.raises(refusal, match="Kode pelacakan" if who is someone_else else "tidak berwenang melampirkan"):
            attach(wbs, c.number, who, "x.pdf", upload)
        assert upload.taken == 0
    # open: handler and auditor everything; the reporter only what they uploaded
    for who in (pel, auditor):
        assert [a.id for a in list_attachments(wbs, c.number, who)] == [mine.id, theirs.id]
        assert read(wbs, c.number, theirs.id, who)[1] == pdf("dari kantor")
    assert [a.id for a in list_attachments(wbs, c.number, me)] == [mine.id]
    assert read(wbs, c.number, mine.id, me)[1] == pdf("dari pelapor")
    refused = {}
    for label, who, number, aid in [
        ("reporter, the office's file", me, c.number, theirs.id),
        ("reporter, no such file", me, c.number, 999_999),
        ("reporter, another case's file", me, c.number, "x"),
        ("another case's reporter", someone_else, c.number, mine.id),
        ("unrelated role", upg, c.number, theirs.id),
        ("another unit", petugas, c.number, theirs.id),
        ("another unit, no such file", petugas, c.number, 999_999),
        ("no such case", pel, "PGD-2026-999999", theirs.id),
    ]:
        with pytest.raises(NotAllowed) as err:
            open_attachment(wbs, number, aid, who)
        refused[label] = err.value.message("en").replace(number, "N").replace(str(aid), "#").replace(who.username, "@")
    # the same words whether the file (or the case) exists or not
    assert len(set(refused.values())) == 1, refused
    for who in (upg, petugas):
        with pytest.raises(NotAllowed):
            list_attachments(wbs, c.number, who)
    with pytest.raises(NotFound, match="Kode pelacakan"):  # another case's code: as for a missing case
        list_attachments(wbs, c.number, someone_else)

    # a recused official: neither attach nor open, not even what they uploaded before
    recuse(wbs, c.number, "pengelola")
    with pytest.raises(NotAllowed, match="tidak berwenang melampirkan"):  # as anyone without a role: no "recused"
        attach(wbs, c.number, pel, "y.pdf", Upload(pdf()))
    with pytest.raises(NotAllowed, match="tidak tersedia"):
        open_attachment(wbs, c.number, theirs.id, pel)
    with pytest.raises(NotAllowed):
        list_attachments(wbs, c.number, pel)


def test_an_employee_who_filed_in_their_name_attaches_as_the_reporter(wbs):
    pegawai = wbs.load_actor("pegawai")
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia", filed_by=pegawai)
    a = attach(wbs, c.number, pegawai, "bukti.pdf", io.BytesIO(pdf()))
    assert a.by_reporter and a.uploaded_by == "pelapor"  # staff reading the list may not know who reported
    assert [x.id for x in list_attachments(wbs, c.number, pegawai)] == [a.id]
    added = [e for e in events(wbs, c.number) if e.kind == "attachment_added"]
    # the trail names the reporter "pelapor" too; the account that filed is only in `created`'s filed_by
    assert (added[0].actor, added[0].actor_role) == ("pelapor", "pelapor")


def test_every_open_is_in_the_trail_and_a_staff_refusal_too(wbs):
    c = new_case(wbs)
    pel, auditor, upg = wbs.load_actor("pengelola"), wbs.load_actor("auditor"), wbs.load_actor("upg")
    me = reporter(wbs, c.receipt_code)
    a = attach(wbs, c.number, pel, "a.pdf", io.BytesIO(pdf("rahasia sekali")))
    before = version(wbs, c.number)
    info, chunks = open_attachment(wbs, c.number, a.id, auditor)
    last = events(wbs, c.number)[-1]  # committed before a byte is read
    assert (last.kind, last.actor, last.actor_role) == ("attachment_opened", "auditor", "auditor")
    assert last.payload == {"attachment_id": a.id, "result": "served"}
    assert b"".join(chunks) == pdf("rahasia sekali")
    with pytest.raises(NotAllowed):
        open_attachment(wbs, c.number, a.id, upg)
    last = events(wbs, c.number)[-1]
    assert (last.kind, last.actor, last.actor_role, last.payload) == (
        "attachment_refused",
        "upg",
        None,
        {"attachment_id": a.id},
    )
    with pytest.raises(NotAllowed):  # a reporter's refusal is not written on the case's chain
        open_attachment(wbs, c.number, a.id, me)
    assert events(wbs, c.number)[-1].kind == "attachment_refused"
    assert version(wbs, c.number) == before
    assert "rahasia sekali" not in str([e.payload for e in events(wbs, c.number)])
    assert problems(wbs, c.number) == []


# --- damage, destruction, the trail's check of the rows -------------------------------------------------


def damage(path: Path, how: str, other: Path | None = None) -> None:
    blob = bytearray(path.read_bytes())
    if how == "flip":
        blob[len(blob) // 2] ^= 0x40
        path.write_bytes(bytes(blob))
    elif how == "truncate":
        path.write_bytes(bytes(blob[: len(blob) // 2]))
    elif how == "delete":
        path.unlink()
    elif how == "swap":
        shutil.copyfile(other, path)


@pytest.mark.parametrize(
    "how, problem",
    [
        ("flip", "chunk"),
        ("truncate", "cut short"),
        ("delete", "missing from storage"),
        ("swap", "belongs to another attachment"),
    ],
)
def test_a_file_altered_on_disk_is_reported_not_served(office, how, problem):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    a = attach(office, c.number, pel, "a.png", io.BytesIO(png(200, 200, noise=True)))
    b = attach(office, c.number, pel, "b.png", io.BytesIO(png(200, 200, noise=True)))
    paths = {r.id: files.storage_path(office.settings, r.file_id) for r in rows(office, c.number)}
    damage(paths[a.id], how, paths[b.id])
    with pytest.raises(AttachmentDamaged) as err:
        open_attachment(office, c.number, a.id, pel)
    assert problem in err.value.problem and "rusak" in err.value.message("id")
    last = events(office, c.number)[-1]
    assert (last.kind, last.payload) == ("attachment_opened", {"attachment_id": a.id, "result": "damaged"})
    assert read(office, c.number, b.id, pel)[1]  # the other file is untouched


def test_a_file_id_altered_in_the_database_is_reported_not_followed(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    a = attach(office, c.number, pel, "a.pdf", io.BytesIO(pdf()))
    with unit_of_work(office.db) as s:
        s.connection().execute(sa.update(Attachment.__table__).where(Attachment.id == a.id).values(file_id="../../x"))
    with pytest.raises(AttachmentDamaged) as err:
        open_attachment(office, c.number, a.id, pel)
    assert "file id" in err.value.problem


def test_a_file_replaced_while_it_is_served_stops_the_stream(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    a = attach(office, c.number, pel, "a.png", io.BytesIO(png(300, 300, noise=True)))
    info, chunks = open_attachment(office, c.number, a.id, pel)
    first = next(chunks)
    assert len(first) == CHUNK
    damage(files.storage_path(office.settings, rows(office, c.number)[0].file_id), "truncate")
    with pytest.raises(AttachmentDamaged):
        list(chunks)


def test_crypto_shredding_deleting_the_case_key_is_enough(office):
    c = new_case(office)
    pel = office.load_actor("pengelola")
    before = stored_files(office)
    a = attach(office, c.number, pel, "a.pdf", io.BytesIO(pdf()))
    with unit_of_work(office.db) as s:  # what retention will do: destroy the case's one key
        s.connection().execute(
            sa.update(Case.__table__).where(Case.__table__.c.number == c.number).values(data_key=None)
        )
    with pytest.raises(AttachmentDestroyed, match="dimusnahkan"):
        open_attachment(office, c.number, a.id, pel)
    assert events(office, c.number)[-1].payload == {"attachment_id": a.id, "result": "destroyed"}
    with pytest.raises(AttachmentDestroyed):
        list_attachments(office, c.number, pel)
    with pytest.raises(AttachmentDestroyed):
        attach(office, c.number, pel, "b.pdf", io.BytesIO(pdf()))
    assert len(stored_files(office) - before) == 1  # the file is still there: noise without the key


@pytest.mark.parametrize(
    "change, code",
    [
        ("DELETE FROM attachment WHERE case_id = :id", "attachment_missing"),
        ("UPDATE attachment SET size = size + 1 WHERE case_id = :id", "attachment_mismatch"),
        ("UPDATE attachment SET by_reporter = NOT by_reporter WHERE case_id = :id", "attachment_mismatch"),
        ("UPDATE attachment SET meta_enc = 'x' WHERE case_id = :id", "attachment_mismatch"),
        (
            "INSERT INTO attachment (case_id, file_id, meta_enc, content_type, size, by_reporter, uploaded_by,"
            " created_at) SELECT case_id, 'ab' || substr(file_id, 3), meta_enc, content_type, size, by_reporter,"
            " uploaded_by, created_at FROM attachment WHERE case_id = :id",
            "attachment_unrecorded",
        ),
    ],
)
def test_verify_audit_finds_attachment_rows_that_disagree_with_the_trail(wbs, change, code):
    c = new_case(wbs)
    attach(wbs, c.number, wbs.load_actor("pengelola"), "a.pdf", io.BytesIO(pdf()))
    assert problems(wbs, c.number) == []
    with unit_of_work(wbs.db) as s:
        s.connection().execute(sa.text(change), {"id": wbs.get_case(s, c.number).id})
    assert [p.code for p in problems(wbs, c.number)] == [code]


@pytest.mark.postgres
def test_two_uploads_at_once_keep_the_count(small, pg_server):
    eng = small(pg_server.create_database(), max_attachments=1)
    c = new_case(eng)
    pel = eng.load_actor("pengelola")
    gate = threading.Barrier(2)
    results: list[object] = []

    def upload():
        gate.wait(10)  # both passed the first check before either records its file
        yield pdf()

    def run():
        try:
            results.append(attach(eng, c.number, pel, "a.pdf", upload()))
        except AttachmentRejected as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(r).__name__ for r in results) == ["AttachmentInfo", "AttachmentRejected"]
    assert len(rows(eng, c.number)) == 1 and len(stored_files(eng)) == 1
    with unit_of_work(eng.db, write=False) as s:
        assert len(s.exec(select(CaseEvent).where(CaseEvent.kind == "attachment_added")).all()) == 1


def test_the_case_history_names_the_file_to_those_who_may_open_it(office):
    from wbs_engine.views import SEALED, case_view

    c = new_case(office)
    attach(office, c.number, office.load_actor("pengelola"), "Nota Dinas.pdf", io.BytesIO(pdf()))
    seen = {}
    for who in ("pengelola", "auditor", None):
        history = case_view(office, c.number, office.load_actor(who) if who else None)["history"]
        (added,) = [h for h in history if h["kind"] == "attachment_added"]
        payload = added["payload"]
        assert "sha256" not in str(payload)
        seen[who] = payload["filename"] if who else payload["sealed"]  # the console opens nothing sealed
    assert seen == {"pengelola": "Nota Dinas.pdf", "auditor": "Nota Dinas.pdf", None: SEALED}


def test_the_reporters_view_lists_the_files_they_attached_only(office):
    from wbs_engine.tracking import tracking_view

    c = new_case(office)
    attach(office, c.number, reporter(office, c.receipt_code), "bukti saya.png", io.BytesIO(png()))
    attach(office, c.number, office.load_actor("pengelola"), "memo internal.pdf", io.BytesIO(pdf()))
    view = tracking_view(office, c.receipt_code)
    assert [(f["filename"], f["type"], f["size"]) for f in view["your_files"]] == [
        ("bukti saya.png", "image/png", len(png()))
    ]
    assert "memo internal" not in str(view) and "pengelola" not in str(view)
