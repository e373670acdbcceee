"""A whistleblower who files from their staff account in identity mode *rahasia* must stay unknown to every
role outside `visibility.identity` (WBS: only the atasan; BK: only pengelola and auditor).

Attack: the reviewer (tim_telaah) / the front desk (pengelola) / the deciding atasan (BK) open the staff page
(views.case_view, case_history) and read the history: who created the case, who posted the message, who
uploaded the file."""

import io

from common import check, done, fresh, user

from wbs_engine import files, views

eng = fresh("01")
user(eng, "wati", "pegawai")          # the whistleblower, an employee filing from her account
user(eng, "telaah", "tim_telaah")
user(eng, "pengelola", "pengelola")
user(eng, "atasan", "atasan")
user(eng, "auditor", "auditor")

wati = eng.load_actor("wati")
c = eng.create_case(
    "wbs",
    {"nama": "Wati Whistleblower", "email": "wati@kantor.go.id", "kategori": "korupsi",
     "apa": "Pejabat X meminta uang pelicin untuk setiap izin yang diterbitkan kantor.", "siapa": "Pejabat X"},
    identity_mode="rahasia", filed_by=wati,
)
eng.post_message(c.number, wati, "Saya punya bukti tambahan, kapan bisa dikirim?")
files.attach(eng, c.number, wati, "bukti.txt", io.BytesIO(b"kwitansi pelicin\n"))

for who in ("telaah", "pengelola"):
    v = views.case_view(eng, c.number, eng.load_actor(who), "en")
    ident_hidden = v["fields"].get("nama") == views.SEALED
    leaks = [(e["kind"], e["actor"], e["payload"].get("filed_by")) for e in v["history"]
             if "wati" in (e["actor"], e["payload"].get("filed_by"))]
    msg_leak = [m["author"] for m in v["messages"] if m["author"] == "wati"]
    check(
        f"WBS rahasia filed from an account: {who} (not in visibility.identity) cannot learn the reporter",
        not leaks and not msg_leak,
        f"nama shown as sealed: {ident_hidden}; history entries naming the reporter: {leaks}; message authors: {msg_leak}",
    )
    h = views.case_history(eng, c.number, eng.load_actor(who), "en")
    leaks_h = [(e["kind"], e["actor"]) for e in h["events"] if e["actor"] == "wati"]
    check(f"WBS rahasia: case_history for {who} does not name the reporter", not leaks_h, f"{leaks_h}")

# Benturan kepentingan: a pegawai reports someone else's conflict, rahasia: identity only for pengelola/auditor,
# explicitly NOT the atasan who decides (often the reporter's own superior)
b = eng.create_case(
    "benturan_kepentingan",
    {"jalur": "laporan_pihak_lain", "jenis": "aktual", "sumber": "keluarga", "nama_pejabat": "Pak Kepala",
     "kegiatan": "Pengadaan laptop 2026", "uraian": "Pak Kepala menunjuk perusahaan milik adiknya sebagai pemenang.",
     "nama": "Wati Whistleblower"},
    identity_mode="rahasia", filed_by=wati,
)
v = views.case_view(eng, b.number, eng.load_actor("atasan"), "en")
leaks = [(e["kind"], e["actor"], e["payload"].get("filed_by")) for e in v["history"]
         if "wati" in (e["actor"], e["payload"].get("filed_by"))]
check(
    "BK rahasia filed from an account: the deciding atasan (not in visibility.identity) cannot learn the reporter",
    not leaks,
    f"nama shown as {v['fields'].get('nama')}; history entries naming the reporter: {leaks}",
)
done()
