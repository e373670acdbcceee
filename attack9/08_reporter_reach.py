"""tracking_view and every operation a reporter (tracking code) can call: the reporter sees only theirs,
and a code cannot be used to learn which other cases exist ("a wrong code and a right code with another
case's number get the same answer"; engine._case_of).

Attacks: with a valid code for case A, call each operation on case B (exists) and on case Z (does not
exist) and compare the answers; then check the reporter's own page after a full WBS path for staff names,
reasons, internal findings, units and recusals."""

import io

from common import check, done, fresh, user

from wbs_engine import files, tracking, views
from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError

eng = fresh("08")
for u, g in [("telaah", "tim_telaah"), ("atasan", "atasan"), ("investigator", "tim_investigasi"), ("budi", "tim_telaah")]:
    user(eng, u, g)
A = eng.load_actor
telaah, atasan, inv = A("telaah"), A("atasan"), A("investigator")
DATA = {"kategori": "korupsi", "siapa": "Kepala Seksi Y", "apa": "Kepala Seksi Y meminta uang pelicin untuk izin usaha."}
a = eng.create_case("wbs", DATA)
b = eng.create_case("wbs", DATA)
with unit_of_work(eng.db, write=False) as s:
    rep_a = eng.reporter(s, a.receipt_code)[0]
files.attach(eng, b.number, A("telaah"), "b.txt", io.BytesIO(b"isi\n"))
MISSING = "WBS-2026-000999"


def ans(fn):
    try:
        r = fn()
        return f"OK {type(r).__name__}{'(empty)' if r == [] else ''}"
    except WbsError as exc:
        return f"{exc.status} {exc.code}: {exc.message('en')}"


ops = {
    "tracking_view(number=)": lambda n: tracking.tracking_view(eng, a.receipt_code, "en", number=n),
    "fire": lambda n: eng.fire(n, "jawab_pelapor", rep_a, {"jawaban_pelapor": "tambahan"}),
    "post_message": lambda n: eng.post_message(n, rep_a, "halo"),
    "available_actions": lambda n: eng.available_actions(n, rep_a),
    "attach": lambda n: files.attach(eng, n, rep_a, "x.txt", io.BytesIO(b"x\n")),
    "list_attachments": lambda n: files.list_attachments(eng, n, rep_a),
    "open_attachment": lambda n: files.open_attachment(eng, n, 1, rep_a),
    "case_view": lambda n: views.case_view(eng, n, rep_a),
}
for label, fn in ops.items():
    rb = ans(lambda: fn(b.number)).replace(b.number, "N")
    rz = ans(lambda: fn(MISSING)).replace(MISSING, "N")
    reached = rb.startswith("OK") and "empty" not in rb and label not in ("available_actions",)
    check(f"{label}: a reporter's code on another case neither reaches it nor tells it exists",
          rb == rz and not reached, f"other existing case: {rb!r}\n       missing case:        {rz!r}")

# the reporter's own page after a full path
eng.fire(a.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(a.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "budi"}, reason="ALASAN-INTERNAL ipar terlapor")
eng.fire(a.number, "minta_informasi", telaah, {"pesan": "Mohon sebutkan tanggal kejadian."})
eng.fire(a.number, "beri_informasi", rep_a, {"jawaban_pelapor": "Tanggal 3 Maret."})
eng.fire(a.number, "lengkap", telaah)
eng.fire(a.number, "mulai_investigasi", atasan, {"ringkasan_telaah": "TEMUAN-INTERNAL " + "x" * 30, "petugas": "investigator",
                                                  "nomor_surat_tugas": "ST-RAHASIA-01"})
eng.fire(a.number, "catat_hasil", inv, {"hasil_investigasi": "terbukti", "rekomendasi": "REKOMENDASI-INTERNAL hukuman berat"})
eng.fire(a.number, "informasikan_hasil", inv, {"informasi_untuk_pelapor": "Laporan Anda terbukti dan ditindaklanjuti."})
eng.post_message(a.number, inv, "Terima kasih atas laporan Anda.")
files.attach(eng, a.number, inv, "berita_acara_internal.txt", io.BytesIO(b"BA pemeriksaan\n"))
tv = tracking.tracking_view(eng, a.receipt_code, "en")
text = repr(tv)
needles = ["telaah", "atasan", "investigator", "budi", "ALASAN-INTERNAL", "TEMUAN-INTERNAL", "REKOMENDASI-INTERNAL",
           "ST-RAHASIA", "terbukti'", "PUSAT", "berita_acara", "kecualikan", "mulai_investigasi"]
found = [n for n in needles if n in text]
check("the tracking page holds no staff name, reason, internal finding, unit, trigger or office file", not found,
      f"found: {found}")
check("(control) the tracking page shows what is meant for the reporter",
      "Laporan Anda terbukti" in text and "Mohon sebutkan" in text and "Terima kasih" in text, "")
done()
