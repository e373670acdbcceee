"""available_actions / fire: roles × unit × case type, recusal, not_own_case, the reporter's own case only.

Attacks: a unit officer of another unit, a role granted for another case type, the auditor, an employee,
the atasan who opened a BK case deciding it, a staff filer using pelapor rights on a case they did not
file, stale versions; available_actions must list exactly what fire accepts."""

from common import check, done, fresh, user

from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError

eng = fresh("10")
for u, g in [("pengelola", "pengelola"), ("atasan", "atasan"), ("atasan2", "atasan"), ("petugas.umum", "unit:UMUM"),
             ("petugas.layanan", "unit:LAYANAN"), ("upgp", "pengelola::gratifikasi"), ("auditor", "auditor"),
             ("pegawai", "pegawai"), ("upg", "upg"), ("pengelola.umum", "pengelola:UMUM"), ("telaah", "tim_telaah")]:
    user(eng, u, g)
A = eng.load_actor


def res(fn):
    try:
        fn()
        return "ok"
    except WbsError as exc:
        return exc.code


c = eng.create_case("pengaduan", {"nama": "N", "layanan": "Legalisir", "kategori": "ringan",
                                  "uraian": "Petugas loket meminta uang tambahan untuk legalisir."})
n = c.number
cases = [
    ("pengelola for gratifikasi only, on a complaint", "upgp", "mulai_verifikasi", {}),
    ("pengelola of UMUM, on a PUSAT complaint", "pengelola.umum", "mulai_verifikasi", {}),
    ("auditor", "auditor", "mulai_verifikasi", {}),
    ("employee", "pegawai", "mulai_verifikasi", {}),
    ("UPG", "upg", "mulai_verifikasi", {}),
]
for label, who, trig, data in cases:
    acts = [a.trigger for a in eng.available_actions(n, A(who))]
    r = res(lambda: eng.fire(n, trig, A(who), data))
    check(f"{label}: no action offered, fire refused", not acts and r != "ok", f"actions={acts} fire={r}")
eng.fire(n, "mulai_verifikasi", A("pengelola"))
eng.fire(n, "disposisi", A("pengelola"), {"unit_tujuan": "LAYANAN", "instruksi": "tindak lanjuti segera"})
r_um = res(lambda: eng.fire(n, "terima_disposisi", A("petugas.umum")))
acts_lay = [a.trigger for a in eng.available_actions(n, A("petugas.layanan"))]
check("unit officer of UMUM cannot take a case sent to LAYANAN; LAYANAN's can",
      r_um != "ok" and acts_lay == ["terima_disposisi"], f"UMUM fire={r_um}; LAYANAN actions={acts_lay}")
v = eng.fire(n, "terima_disposisi", A("petugas.layanan"), expected_version=None).version
r = res(lambda: eng.fire(n, "catat_tindak_lanjut", A("petugas.layanan"), {"catatan_tindak_lanjut": "sudah ditelpon"},
                         expected_version=v - 1))
check("a stale expected_version is refused (changed_meanwhile)", r == "changed_meanwhile", r)

# BK opened by an atasan: another atasan decides, not them
atasan = A("atasan")
b = eng.create_case("benturan_kepentingan", {"jalur": "laporan_pihak_lain", "jenis": "aktual", "sumber": "keluarga",
                                             "nama_pejabat": "Pak Kepala", "kegiatan": "Pengadaan",
                                             "uraian": "Pak Kepala menunjuk perusahaan adiknya sebagai pemenang."},
                    identity_mode="terbuka", filed_by=atasan)
eng.fire(b.number, "teruskan_ke_atasan", A("pengelola"), {"unit_tujuan": "PUSAT"})
acts = [a.trigger for a in eng.available_actions(b.number, atasan)]
r = res(lambda: eng.fire(b.number, "nyatakan_tidak_ada_benturan", atasan, {"pertimbangan": "x" * 30}))
check("the atasan who opened a BK case may not decide it (not_own_case)", r == "guard_failed" and
      "nyatakan_tidak_ada_benturan" not in acts, f"fire={r}, offered={acts}")
r = res(lambda: eng.fire(b.number, "nyatakan_tidak_ada_benturan", A("atasan2"), {"pertimbangan": "x" * 30}))
check("(control) another atasan decides it", r == "ok", r)

# a staff member tries reporter-only transitions on a case they did not file
w = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Pejabat X", "apa": "Pejabat X meminta uang pelicin izin."})
eng.fire(w.number, "mulai_verifikasi", A("telaah"), {"petugas": "telaah"})
eng.fire(w.number, "minta_informasi", A("telaah"), {"pesan": "Mohon lengkapi tanggalnya."})
r = res(lambda: eng.fire(w.number, "beri_informasi", A("pegawai"), {"jawaban_pelapor": "isian palsu"}))
check("a staff member cannot answer as the reporter of a case they did not file", r != "ok", r)
# the reporter on a staff transition
with unit_of_work(eng.db, write=False) as s:
    rep = eng.reporter(s, w.receipt_code)[0]
r = res(lambda: eng.fire(w.number, "lanjutkan_tanpa_jawaban", rep, reason="saya sendiri saja"))
check("the reporter cannot fire a staff transition on their own case", r != "ok", r)
done()
