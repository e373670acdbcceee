"""The reporter sees only their view: stage, dates, what they wrote, messages, fields marked `reporter: true`;
"never staff names or internal findings" (README, Rules the code keeps).

Attack: an employee who filed a WBS report from their account (rahasia) is staff too, so the web's staff
page (views.case_view) is open to them. Does it show them the review team's internal summary, the reasons,
who is recused, and the officers' names? Also: a tracking-code actor handed to case_view."""

from common import check, done, fresh, user

from wbs_engine import tracking, views

eng = fresh("02")
user(eng, "wati", "pegawai")
user(eng, "telaah", "tim_telaah")
user(eng, "atasan", "atasan")
user(eng, "budi", "tim_telaah")      # a colleague the atasan recuses

wati = eng.load_actor("wati")
c = eng.create_case(
    "wbs",
    {"nama": "Wati", "kategori": "korupsi", "siapa": "Kepala Seksi Y",
     "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin yang diterbitkan kantor."},
    identity_mode="rahasia", filed_by=wati,
)
telaah, atasan = eng.load_actor("telaah"), eng.load_actor("atasan")
eng.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(c.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "budi"}, reason="Budi adalah ipar terlapor")
eng.fire(c.number, "lengkap", telaah)
SECRET = "Terlapor kemungkinan besar bersalah; saksi kunci adalah bendahara, periksa rekening pribadinya."
eng.fire(c.number, "mulai_investigasi", atasan, {"ringkasan_telaah": SECRET, "petugas": "telaah"})

v = views.case_view(eng, c.number, wati, "en")
text = repr(v)
check(
    "employee-reporter on the staff page does not see internal findings (ringkasan_telaah)",
    SECRET not in text,
    f"fields.ringkasan_telaah = {v['fields'].get('ringkasan_telaah')!r}",
)
check(
    "employee-reporter does not see reasons / recused officials / staff names",
    "ipar terlapor" not in text and "budi" not in text,
    f"recused = {v['recused']!r}; actors in history = {sorted({e['actor'] for e in v['history']})}",
)

# the same through an actor made from the tracking code
from wbs_engine.db import unit_of_work  # noqa: E402
c2 = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Pejabat Z",
                             "apa": "Pejabat Z menerima suap dari rekanan proyek jalan desa."})
eng.fire(c2.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
eng.fire(c2.number, "lengkap", telaah)
eng.fire(c2.number, "mulai_investigasi", atasan, {"ringkasan_telaah": SECRET, "petugas": "telaah"})
with unit_of_work(eng.db, write=False) as s:
    rep, _ = eng.reporter(s, c2.receipt_code)
try:
    v2 = views.case_view(eng, c2.number, rep, "en")
    check("tracking-code actor cannot open the staff page", False,
          f"case_view(reporter) returned ringkasan_telaah={v2['fields'].get('ringkasan_telaah')!r:.60}")
except Exception as exc:  # noqa: BLE001
    check("tracking-code actor cannot open the staff page", True, f"{type(exc).__name__}")
done()
