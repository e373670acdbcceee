"""open_attachment records a staff member's refused attempt on the case's chain (attachment_refused, with
"the id asked for", cut at 40 characters). Who can make the engine write to a case's trail, and what?

Attack: an employee with no role on a WBS case (the reported person, say) calls open_attachment on it with
chosen text as the attachment id, many times. Each call takes the case's write lock and appends an event
whose plain payload carries the text, which every reader of the case then sees in its history."""

import time

from common import check, done, fresh, user

from wbs_engine import audit, files, views
from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError

eng = fresh("12")
user(eng, "pegawai", "pegawai")
user(eng, "telaah", "tim_telaah")
c = eng.create_case("wbs", {"kategori": "korupsi", "siapa": "Kepala Seksi Y",
                           "apa": "Kepala Seksi Y meminta uang pelicin untuk setiap izin usaha."})
peg = eng.load_actor("pegawai")
MSG = "SAYA TAHU SIAPA PELAPORNYA. HATI-HATI."[:40]
t0 = time.time()
for i in range(200):
    try:
        files.open_attachment(eng, c.number, MSG if i == 0 else f"{i}", peg)
    except WbsError:
        pass
dt = time.time() - t0
with unit_of_work(eng.db, write=False) as s:
    evs = [e for e in audit.chain_events(s, c.number) if e.kind == "attachment_refused"]
hist = views.case_view(eng, c.number, eng.load_actor("telaah"), "en")["history"]
shown = [e["payload"] for e in hist if e["kind"] == "attachment_refused"][:1]
check("a staff member with no role on a case cannot append chosen text to its audit trail at will",
      len(evs) < 200 and not any(MSG in repr(e.payload) for e in evs),
      f"{len(evs)} attachment_refused events appended in {dt:.1f}s, no file exists on the case; "
      f"the investigators' page shows {shown}")
done()
