"""WbsError.status / code / to_dict and the message catalogue.

1. Every error a user can cause has an HTTP status among 404, 403, 409, 422 and a machine-readable code
   (README: "HTTP status (404, 403, 409, 422), a machine-readable code with parameters").
2. to_dict never carries another case's data: a staff member with no role on a case fires a made-up or a
   real trigger on it — does the refusal tell them the case's state, its unit, its outcome?
3. Can user input reach str.format as a format string, or Jinja as template source? Format-like text in
   every parameter a user controls (case number, trigger, field names, queue, attachment id, search, a
   staff member's full name that ends up in a mail)."""

import io
from datetime import timedelta

from common import check, done, fresh, user

from wbs_engine import files, filing, queries
from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError
from wbs_engine.models import Outbox
from sqlmodel import select

eng = fresh("05")
for u, g in [("telaah", "tim_telaah"), ("atasan", "atasan"), ("investigator", "tim_investigasi"),
             ("pegawai", "pegawai"), ("petugas.umum", "unit:UMUM"), ("pengelola", "pengelola")]:
    user(eng, u, g)
A = eng.load_actor
telaah, atasan = A("telaah"), A("atasan")


def err(fn):
    try:
        fn()
        return None
    except WbsError as exc:
        return exc


# --- 1. codes and statuses ------------------------------------------------------------------------
c = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Kepala Seksi Y",
                           "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."})
tok = eng.issue_filing_token("wbs")
eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Kepala Seksi Y",
                        "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."}, idempotency_token=tok)
samples = {
    "AlreadyFiled": err(lambda: eng.create_case("wbs", {}, idempotency_token=tok)),
    "FilingTokenInvalid": err(lambda: eng.create_case("wbs", {}, idempotency_token="x.y")),
    "QueueError": err(lambda: queries.page(eng, A("pegawai"), "mine", cursor="%%")),
}
with unit_of_work(eng.db, write=False) as s:
    rep = eng.reporter(s, c.receipt_code)[0]
f = files.attach(eng, c.number, rep, "a.txt", io.BytesIO(b"isi\n"))
with unit_of_work(eng.db, write=False) as s:
    from wbs_engine.models import Attachment  # noqa: E402
    fid = s.get(Attachment, f.id).file_id
files.storage_path(eng.settings, fid).write_bytes(b"WBSATT garbage")
samples["AttachmentDamaged"] = err(lambda: files.open_attachment(eng, c.number, f.id, rep))
bad = {k: (e.status, e.code) for k, e in samples.items() if e is None or e.status not in (403, 404, 409, 422)
       or e.code == "error"}
check("every user-caused error has status 404/403/409/422 and its own code", not bad,
      f"{bad}; AttachmentDamaged.to_dict params={samples['AttachmentDamaged'].to_dict('en')['params']}")

# --- 2. what a refusal tells a staff member with no role on the case ------------------------------
eng.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(c.number, "lengkap", telaah)
eng.fire(c.number, "mulai_investigasi", atasan, {"ringkasan_telaah": "x" * 40, "petugas": "investigator"})
peg = A("pegawai")   # the reported Kepala Seksi Y, say: an ordinary employee with no role on WBS cases
e1 = err(lambda: eng.fire(c.number, "apa_saja", peg))
e2 = err(lambda: eng.fire(c.number, "lengkap", peg))
d1, d2 = e1.to_dict("en"), e2.to_dict("en")
check("a staff member with no role on a case is not told its state or what can be done on it",
      "investigat" not in repr(d1).lower() and "investigat" not in repr(d2).lower(),
      f"made-up trigger -> {d1['status']} {d1['message']!r}\n       real trigger -> {d2['status']} {d2['message']!r}")
pgd = eng.create_case("pengaduan", {"nama": "N", "layanan": "Legalisir", "kategori": "ringan",
                                     "uraian": "Petugas loket meminta uang tambahan untuk legalisir."})
eng.fire(pgd.number, "mulai_verifikasi", A("pengelola"))
eng.fire(pgd.number, "disposisi", A("pengelola"), {"unit_tujuan": "LAYANAN", "instruksi": "tindak lanjuti segera"})
e3 = err(lambda: eng.fire(pgd.number, "terima_disposisi", A("petugas.umum")))
check("a unit officer of UMUM is not told which unit a case was sent to",
      "LAYANAN" not in repr(e3.to_dict("en")), f"{e3.to_dict('en')['message']!r}")
closed = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Kepala Seksi Y",
                                "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."})
eng.fire(closed.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(closed.number, "hentikan", telaah, {"informasi_untuk_pelapor": "Laporan tidak dapat ditindaklanjuti."},
         reason="bukti tidak cukup sama sekali")
e4 = err(lambda: eng.fire(closed.number, "lengkap", peg))
check("a staff member with no role is not told how someone else's WBS case ended",
      "pursued" not in e4.message("en") and "ditindaklanjuti" not in e4.message("id"), f"{e4.message('en')!r}")

# --- 3. format strings and templates --------------------------------------------------------------
FMT = "{number.__class__.__mro__}{0}{!r}%(x)s{{7*7}}{% raw %}"
crashes, rendered = [], []
probes = {
    "case number": lambda: eng.available_actions(FMT, peg),
    "trigger": lambda: eng.fire(c.number, FMT, atasan),
    "field name": lambda: eng.create_case("wbs", {FMT: "x", "kategori": "korupsi"}),
    "field value": lambda: eng.create_case("wbs", {"kategori": FMT}),
    "unit": lambda: eng.create_case("wbs", {"kategori": "korupsi", "siapa": "abc",
                                            "apa": "x" * 40}, unit_code=FMT),
    "queue": lambda: queries.page(eng, peg, FMT),
    "attachment id": lambda: files.open_attachment(eng, c.number, FMT, peg),
    "file name": lambda: files.attach(eng, c.number, rep, FMT + ".exe", io.BytesIO(b"x")),
    "tracking code": lambda: __import__("wbs_engine.tracking", fromlist=["x"]).tracking_view(eng, FMT),
    "username": lambda: eng.load_actor(FMT),
}
for label, fn in probes.items():
    try:
        fn()
        rendered.append((label, "accepted"))
    except WbsError as exc:
        for lang in ("id", "en"):
            try:
                text = repr(exc.to_dict(lang))
            except Exception as inner:  # noqa: BLE001
                crashes.append((label, type(inner).__name__, str(inner)[:80]))
                break
            if "__mro__" in FMT and "class 'object'" in text:
                crashes.append((label, "format evaluated", text[:120]))
        rendered.append((label, exc.code))
    except Exception as exc:  # noqa: BLE001
        crashes.append((label, type(exc).__name__, str(exc)[:80]))
check("format-like user text in every parameter renders literally (no str.format evaluation, no crash)",
      not crashes, f"{crashes or rendered}")

# a staff full name that goes into every mail they get
from wbs_engine.users import create_or_update_user  # noqa: E402
from wbs_engine.permissions import Grant  # noqa: E402
create_or_update_user(eng, "atasan2", [Grant("atasan")], full_name="{{ 7*7 }} {% if true %}X{% endif %} %(number)s {number}",
                      email="a2@kantor.go.id", password="y" * 12)
eng.invalidate_directory()
c5 = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Kepala Seksi Y",
                            "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."})
eng.fire(c5.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
with unit_of_work(eng.db, write=False) as s:
    bodies = [o.body for o in s.exec(select(Outbox).where(Outbox.recipient == "a2@kantor.go.id")).all()]
check("a value that looks like Jinja or %-format in a mail is written literally",
      bodies and all("{{ 7*7 }}" in b and "%(number)s" in b and "49" not in b for b in bodies),
      repr(bodies[0].splitlines()[0]) if bodies else "no mail queued")
done()
