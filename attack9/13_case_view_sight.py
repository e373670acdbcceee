"""views.case_view / case_history: sealed values only to readers, each by the workflow's visibility lists.

Checks (expected to hold): the gratuity atasan (identity only) sees who reported but not the gift, the
giver, the reasons or the messages; the WBS front desk (pengelola) sees none of the report, not who is
recused, not who it is assigned to after a recusal; an anonymous reporter's contact address is shown to
nobody; case_history's "changed" fields follow the same rules."""

from common import check, done, fresh, user

from wbs_engine import views
from wbs_engine.db import unit_of_work

eng = fresh("13")
for u, g in [("wati", "pegawai"), ("upg", "upg"), ("atasan", "atasan"), ("pengelola", "pengelola"),
             ("telaah", "tim_telaah"), ("budi", "tim_telaah"), ("auditor", "auditor")]:
    user(eng, u, g)
A = eng.load_actor
from datetime import timedelta  # noqa: E402
day = (eng.now() - timedelta(days=2)).date().isoformat()
g = eng.create_case("gratifikasi", {
    "nama": "Wati Pegawai", "nip": "198501012010011001", "jabatan": "Analis", "unit_kerja": "Layanan",
    "nama_pemberi": "PT RAHASIA PEMBERI", "hubungan_pemberi": "rekanan_penyedia", "jenis": "uang", "uraian": "Amplop uang tunai",
    "nilai_taksiran": 5000000, "tanggal_penerimaan": day, "tempat_penerimaan": "Lobi kantor",
    "peristiwa": "Rapat pengadaan", "kronologi": "Diberikan setelah rapat pengadaan oleh direktur PT tersebut."},
    identity_mode="terbuka", filed_by=A("wati"))
eng.fire(g.number, "mulai_telaah", A("upg"))
eng.post_message(g.number, A("upg"), "Mohon kirim foto amplopnya.")
v = views.case_view(eng, g.number, A("atasan"), "en")
f = v["fields"]
check("gratuity atasan: identity shown, gift/giver sealed, no messages",
      f.get("nip") == "198501012010011001" and f.get("nama_pemberi") == views.SEALED and f.get("uraian") == views.SEALED
      and v["messages"] == [] and "PT RAHASIA" not in repr(v),
      f"nip={f.get('nip')!r} nama_pemberi={f.get('nama_pemberi')} messages={len(v['messages'])}")

w = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Budi", "email_kontak": "anon@proton.me",
                           "apa": "Budi meminta uang pelicin untuk setiap izin usaha yang diterbitkan."})
eng.fire(w.number, "mulai_verifikasi", A("telaah"), {"petugas": "budi"})
eng.fire(w.number, "kecualikan_pejabat", A("atasan"), {"pejabat_terkait": "budi"}, reason="Budi adalah terlapor")
v = views.case_view(eng, w.number, A("pengelola"), "en")
h = views.case_history(eng, w.number, A("pengelola"), "en")
text = repr(v) + repr(h)
check("WBS pengelola: no report text, no recused official, no reason, no assignee after recusal",
      "budi" not in text.lower() and "terlapor" not in text and "pelicin" not in text,
      f"recused={v['recused']}; fields={ {k: v2 for k, v2 in v['fields'].items()} }\n       recusal event as the "
      f"pengelola sees it: {[(e['trigger'], e['payload']) for e in v['history'] if e['trigger'] == 'kecualikan_pejabat']}"
      "\n       (the recused official was the assignee, and the plain field petugas still names him)")
for who in ("atasan", "telaah", "auditor"):
    vv = views.case_view(eng, w.number, A(who), "en")
    check(f"an anonymous reporter's contact is shown to nobody ({who})", "anon@proton.me" not in repr(vv),
          f"email_kontak={vv['fields'].get('email_kontak')}")
done()
