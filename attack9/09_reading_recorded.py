"""views.case_view / case_history: sealed values only to readers, and "reading sealed data is an audit event"
(architecture rule 9; README: case_history's "reading itself is recorded"). Files: "every open in the trail".

Attacks: read sealed things through each read operation and count the events each one leaves: the case page,
the auditor's history, the list of attachments (it returns the sealed file names and SHA-256s in clear),
and a case page whose only sealed content is an attachment's name."""

import io

from common import check, done, fresh, user

from wbs_engine import audit, files, views
from wbs_engine.db import unit_of_work

eng = fresh("09")
for u, g in [("telaah", "tim_telaah"), ("atasan", "atasan"), ("auditor", "auditor"), ("pengelola", "pengelola")]:
    user(eng, u, g)
A = eng.load_actor


def events(number):
    with unit_of_work(eng.db, write=False) as s:
        return [(e.kind, e.actor) for e in audit.chain_events(s, number)]


c = eng.create_case("wbs", {"nama": "Wati", "email": "w@x.id", "kategori": "korupsi", "siapa": "Kepala Seksi Y",
                           "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."}, identity_mode="rahasia")
with unit_of_work(eng.db, write=False) as s:
    rep = eng.reporter(s, c.receipt_code)[0]
files.attach(eng, c.number, rep, "rekening_Kepala_Seksi_Y_di_bank_X.txt", io.BytesIO(b"isi\n"))

n0 = len(events(c.number))
v = views.case_view(eng, c.number, A("telaah"), "en")
n1 = len(events(c.number))
check("case_view by a reader of sealed text records a case_read", n1 == n0 + 1 and events(c.number)[-1][0] == "case_read",
      f"{events(c.number)[-1]}")
v = views.case_view(eng, c.number, A("pengelola"), "en")
check("case_view shows sealed fields as [rahasia] to the front desk (WBS pengelola)",
      all(v["fields"][k] == views.SEALED for k in ("apa", "siapa", "nama", "email")), "")
h = views.case_history(eng, c.number, A("auditor"), "en")
n2 = len(events(c.number))
check("case_history by the auditor is recorded", n2 > n1 + 1 - 1 and events(c.number)[-1][1] == "auditor",
      f"last event {events(c.number)[-1]}")
lst = files.list_attachments(eng, c.number, A("atasan"))
n3 = len(events(c.number))
check("list_attachments, which returns the sealed file names and SHA-256 in clear, is recorded",
      n3 > n2, f"returned {lst[0].filename!r} sha256={lst[0].sha256[:12]}…; events before {n2}, after {n3}")
done()
