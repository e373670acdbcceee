"""Recused officials are kept off a case; in the WBS "who is kept off the case can say who is implicated; the
pengelola must not learn it" (wbs.yaml). The recused official is usually the reported person or close to them.

Attack: the recused official (a tim_telaah member) walks the case numbers (they are sequential) and tries a
trigger, a message and a file on each. Does the refusal differ between "recused" and "simply not allowed",
so that they learn which report concerns them?  Also check that every other door stays shut (HELD lines)."""

import io

from common import check, done, fresh, user

from wbs_engine import files, queries, views
from wbs_engine.errors import WbsError

eng = fresh("03")
user(eng, "telaah", "tim_telaah")
user(eng, "budi", "tim_telaah")      # will be recused on case A only
user(eng, "atasan", "atasan")
user(eng, "pegawai", "pegawai")
telaah, atasan = eng.load_actor("telaah"), eng.load_actor("atasan")

def new_case(who):
    c = eng.create_case("wbs", {"kategori": "korupsi", "siapa": who,
                               "apa": f"{who} meminta uang pelicin untuk setiap izin yang diterbitkan."})
    eng.fire(c.number, "mulai_verifikasi", telaah, {"petugas": "telaah"})
    return c.number

a = new_case("Budi sendiri")   # budi is the reported person: recused
b = new_case("Orang lain")     # budi simply works on it
z = new_case("Orang ketiga")   # budi could work on it too
eng.fire(a, "kecualikan_pejabat", atasan, {"pejabat_terkait": "budi"}, reason="Budi adalah terlapor")
budi = eng.load_actor("budi")
# make case z one budi's role does NOT act on in its state... for comparison use an employee without a role
peg = eng.load_actor("pegawai")

def outcome(fn):
    try:
        fn()
        return "ok"
    except WbsError as exc:
        return f"{exc.code}: {exc.message('en')}"

for label, fn_a, fn_other in [
    ("fire", lambda: eng.fire(a, "lengkap", budi), lambda: eng.fire(b, "lengkap", peg)),
    ("post_message", lambda: eng.post_message(a, budi, "halo"), lambda: eng.post_message(b, peg, "halo")),
    ("attach", lambda: files.attach(eng, a, budi, "x.txt", io.BytesIO(b"x\n")),
     lambda: files.attach(eng, b, peg, "x.txt", io.BytesIO(b"x\n"))),
]:
    ra, rb = outcome(fn_a), outcome(fn_other)
    check(f"{label}: a recused official's refusal does not reveal the recusal",
          "recused" not in ra.lower(), f"recused official on {a}: {ra!r}\n       unrelated employee on {b}: {rb!r}")

# the doors that must stay shut: three weeks later every case is overdue for tim_telaah
from datetime import timedelta  # noqa: E402
later = eng.with_clock(lambda: eng.now() + timedelta(days=21))
pages = [queries.page(later, budi, q) for q in queries.QUEUES]
listed = {i.number for p in pages for i in p.items}
seen_by_telaah = {i.number for i in queries.page(later, telaah, "overdue").items}
q2 = queries.page(later, budi, "overdue", search=a)
check("the recused official's queues never list the case (also by searching its number)",
      a not in listed and not q2.items and {b, z} <= listed,
      f"budi's queues={sorted(listed)} (telaah's overdue={sorted(seen_by_telaah)}); search={[i.number for i in q2.items]}")
cnt = queries.counts(later, budi, search=a)
check("counts with the case number as search give 0 to the recused official", all(x.count == 0 for x in cnt.values()),
      f"{ {k: str(v) for k, v in cnt.items()} }")
check("the recused official gets no actions", eng.available_actions(a, budi) == [], "")
check("the recused official cannot open the case page", outcome(lambda: views.case_view(eng, a, budi)) != "ok",
      outcome(lambda: views.case_view(eng, a, budi)))
done()
