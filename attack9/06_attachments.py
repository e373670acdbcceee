"""files.attach / list_attachments / open_attachment.

Attacks: crafted names (../, NUL, RTL override, 300 characters, full-width path characters), crafted contents
(a zip bomb and a zip of executables dressed as DOCX, a 3-byte JPEG prefix over a PE executable, an HTML/SVG
page as .txt, a PDF/ZIP polyglot, a file whose first 8 KiB is text and then binary), size and count limits
(at, over, racing), encryption at rest, tampering on disk, and who may open what (another unit's handler, a
recused official, the front desk in a WBS, a reporter's code on another case), and whether a refusal says
that a case or file exists."""

import io
import os
import stat
import threading
import zipfile
import zlib
from datetime import timedelta

from common import check, done, fresh, user

from wbs_engine import files
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotFound, WbsError
from wbs_engine.models import Attachment, CaseEvent as Event
from sqlmodel import select

eng = fresh("06", {"WBS_MAX_ATTACHMENTS": "20"})
for u, g in [("telaah", "tim_telaah"), ("budi", "tim_telaah"), ("atasan", "atasan"), ("pengelola", "pengelola"),
             ("auditor", "auditor"), ("petugas.umum", "unit:UMUM"), ("petugas.layanan", "unit:LAYANAN"),
             ("pegawai", "pegawai")]:
    user(eng, u, g)
A = lambda n: eng.load_actor(n)  # noqa: E731
telaah, atasan = A("telaah"), A("atasan")


def reporter_of(created):
    with unit_of_work(eng.db, write=False) as s:
        return eng.reporter(s, created.receipt_code)[0]


def new_wbs():
    c = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Pejabat X",
                               "apa": "Pejabat X meminta uang pelicin untuk setiap izin usaha."})
    return c, reporter_of(c)


def attach(number, actor, name, data):
    try:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        return "ok", files.attach(eng, number, actor, name, stream)
    except WbsError as exc:
        return getattr(exc, "reason", exc.code), exc


c, rep = new_wbs()
N = c.number

# --- names ------------------------------------------------------------------------------------------
names = {
    "../../etc/passwd.txt": False, "..\\..\\boot.ini.txt": False, "a\x00.txt": False,
    "laporan\u202etxt.exe.txt": False, "x" * 296 + ".txt": False, "bukti\u200b.txt": False,
    "..txt": False, ".txt": False, "bukti": False, "bukti.": False,
    "\uff0e\uff0e\uff0fetc\uff0fpasswd.txt": None,   # full-width ../ : NFKC turns it into ../etc/passwd.txt
    "evil\u2215..\u2215x.txt": None,                     # DIVISION SLASH
    "CON.txt": None, "bukti\u3164\u3164\u3164\u3164.txt": None,  # Windows device name; HANGUL FILLER (invisible)
}
for name, expect in names.items():
    r = attach(N, rep, name, b"isi bukti\n")
    if expect is False:
        check(f"name refused: {name[:40]!r}", r[0] == "name", f"{r[0]}")
    else:
        print(f"NOTE   name {name!r}: {r[0]}" + (f" -> kept as {r[1].filename!r}" if r[0] == "ok" else ""))

# --- contents ----------------------------------------------------------------------------------------
def docx_bomb(gib=1):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            block = b"\0" * (1 << 24)
            for _ in range(gib * 64):
                f.write(block)
    return buf.getvalue()


def docx_smuggler():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("Faktur_Pajak.exe", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + os.urandom(2000))
        z.writestr("run.bat", "@echo off\r\npowershell -enc AAAA\r\n")
    return buf.getvalue()


bomb = docx_bomb(1)
r = attach(N, rep, "bukti.docx", bomb)
check("an archive (zip bomb) dressed as DOCX is refused (archives: 'content unchecked, zip bombs')",
      r[0] != "ok", f"{len(bomb):,} bytes upload inflating to 1 GiB (ratio {2**30 // len(bomb)}:1) -> {r[0]}"
      + (f" stored as {r[1].content_type}" if r[0] == "ok" else ""))
sm = docx_smuggler()
r = attach(N, rep, "surat.docx", sm)
check("a zip of executables dressed as DOCX is refused (programs and scripts are refused)",
      r[0] != "ok", f"entries {zipfile.ZipFile(io.BytesIO(sm)).namelist()} -> {r[0]}")
pe = b"\xff\xd8\xff" + b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + os.urandom(9000)
r = attach(N, rep, "foto.jpg", pe)
check("3 JPEG magic bytes over a PE executable are not a JPEG", r[0] != "ok", f"-> {r[0]}")
r = attach(N, rep, "catatan.txt", b"<html><body><script>alert(document.cookie)</script>\n<svg onload=alert(1)>\n")
print(f"NOTE   HTML/SVG text named .txt: {r[0]}" + (f" stored as {r[1].content_type}" if r[0] == "ok" else ""))
r = attach(N, rep, "catatan.txt", b"A" * 9000 + b"\x00\x01binary")
check("text whose first 8 KiB are text but later bytes are binary is refused", r[0] == "type", f"-> {r[0]}")
r = attach(N, rep, "catatan.txt", b"A" * 70000 + b"\xc3")
check("text ending in a cut UTF-8 sequence is refused", r[0] == "type", f"-> {r[0]}")
r = attach(N, rep, "foto.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
check("a PNG named .pdf is refused (extension must agree)", r[0] == "extension", r[0])
r = attach(N, rep, "kosong.txt", b"")
check("an empty file is refused", r[0] == "empty", r[0])

# --- size ---------------------------------------------------------------------------------------------
MIB = 1 << 20
r = attach(N, rep, "besar.txt", b"a" * (10 * MIB))
check("a file of exactly the limit (10 MiB) is accepted", r[0] == "ok", r[0])


class Counting(io.RawIOBase):
    def __init__(self, n):
        self.n, self.read_bytes = n, 0

    def readable(self):
        return True

    def read(self, k=-1):
        k = min(k if k > 0 else 1 << 16, self.n - self.read_bytes)
        self.read_bytes += k
        return b"a" * k


big = Counting(10 * (1 << 30))
r = attach(N, rep, "besar.txt", big)
check("a 10 GiB upload is refused after limit+1 bytes, without reading the rest",
      r[0] == "too_large" and big.read_bytes <= 10 * MIB + 1 + (1 << 16), f"{r[0]} after reading {big.read_bytes:,} bytes")
parts = sorted(p for p in eng.settings.attachments_path.rglob("*") if p.is_file())
with unit_of_work(eng.db, write=False) as s:
    rows = s.exec(select(Attachment)).all()
check("refusals leave no file behind", len(parts) == len(rows), f"{len(parts)} files on disk, {len(rows)} rows")

# --- encryption at rest -------------------------------------------------------------------------------
c2, rep2 = new_wbs()
secret = b"REKENING-BENDAHARA-1234567890 transfer ke Pejabat X\n"
r = attach(c2.number, rep2, "rekening_bendahara.txt", secret)
with unit_of_work(eng.db, write=False) as s:
    row = s.exec(select(Attachment).where(Attachment.id == r[1].id)).one()
    ev = s.exec(select(Event).where(Event.kind == "attachment_added", Event.chain == c2.number)).one()
p = files.storage_path(eng.settings, row.file_id)
blob = p.read_bytes()
mode_f, mode_d = stat.S_IMODE(p.stat().st_mode), stat.S_IMODE(p.parent.stat().st_mode)
dbtext = repr(row) + repr(ev.payload)
check("the file on disk holds no plaintext; 0600 file, 0700 folder; name and SHA-256 not plain in row or event",
      b"REKENING" not in blob and mode_f == 0o600 and mode_d == 0o700 and "rekening_bendahara" not in dbtext
      and r[1].sha256 not in dbtext, f"file mode {oct(mode_f)}, folder {oct(mode_d)}")

# --- who may open --------------------------------------------------------------------------------------
aid = r[1].id
eng.fire(c2.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(c2.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "budi"}, reason="Budi adalah ipar terlapor")


def try_open(number, attachment_id, actor):
    try:
        info, it = files.open_attachment(eng, number, attachment_id, actor)
        return "served", b"".join(it)
    except WbsError as exc:
        return f"{exc.status} {exc.code}", exc.message("en")


for who, should in [("telaah", True), ("atasan", True), ("auditor", True), ("budi", False),
                    ("pengelola", False), ("petugas.umum", False), ("pegawai", False)]:
    got = try_open(c2.number, aid, A(who))
    check(f"open by {who}: {'served' if should else 'refused'}", (got[0] == "served") == should, f"{got[0]}")
got = try_open(c2.number, aid, rep)  # another case's reporter
check("a reporter's code cannot open a file of another case", got[0] != "served", got[0])
got = try_open(c2.number, aid, rep2)
check("the reporter opens their own upload", got[0] == "served" and got[1] == secret, got[0])

# refusal must read the same whether the case / file exists
peg = A("pegawai")
variants = {
    "existing case, existing file": (c2.number, aid),
    "existing case, no such file": (c2.number, 999999),
    "no such case": ("WBS-2026-999999", aid),
    "malformed number": ("../../x", aid),
}
answers = {k: try_open(n, i, peg) for k, (n, i) in variants.items()}
shape = {k: (a[0], a[1].replace(str(variants[k][0]), "N").replace(str(variants[k][1]), "ID")) for k, a in answers.items()}
check("open_attachment: a staff refusal reads the same whether the case or file exists",
      len(set(shape.values())) == 1, "\n       ".join(f"{k}: {v}" for k, v in shape.items()))


def try_list(number, actor):
    try:
        files.list_attachments(eng, number, actor)
        return "listed"
    except WbsError as exc:
        return f"{exc.status} {exc.code}: {exc.message('en')}"


la, lb = try_list(c2.number, peg), try_list("WBS-2026-999999", peg)
check("list_attachments: refusal reads the same whether the case exists", la.split(":")[0] == lb.split(":")[0],
      f"existing: {la}\n       missing:  {lb}")

# tampering on disk: swap two files of one case
c3, rep3 = new_wbs()
r1 = attach(c3.number, rep3, "a.txt", b"satu\n")[1]
r2 = attach(c3.number, rep3, "b.txt", b"dua\n")[1]
with unit_of_work(eng.db, write=False) as s:
    f1 = s.get(Attachment, r1.id).file_id
    f2 = s.get(Attachment, r2.id).file_id
p1, p2 = files.storage_path(eng.settings, f1), files.storage_path(eng.settings, f2)
d1, d2 = p1.read_bytes(), p2.read_bytes()
p1.write_bytes(d2)
p2.write_bytes(d1)
got = try_open(c3.number, r1.id, rep3)
check("two stored files swapped on disk: reported damaged, not served", "served" != got[0], got[0])

# count limit racing on one case (meaningful on PostgreSQL)
c4, rep4 = new_wbs()
for i in range(19):
    attach(c4.number, rep4, f"f{i}.txt", b"isi\n")
res = []
bar = threading.Barrier(4)


def racer(i):
    bar.wait()
    res.append(attach(c4.number, rep4, f"r{i}.txt", b"isi\n")[0])


ts = [threading.Thread(target=racer, args=(i,)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
with unit_of_work(eng.db, write=False) as s:
    n = len(s.exec(select(Attachment).where(Attachment.case_id == s.exec(
        select(Attachment.case_id).where(Attachment.id == r1.id)).one() + 1)).all())
lst = files.list_attachments(eng, c4.number, rep4)
check(f"4 uploads racing for the last free place ({eng.db.dialect.name}): the case ends with 20 files",
      len(lst) == 20 and res.count("ok") == 1, f"results={sorted(res)}, files={len(lst)}")
done()
