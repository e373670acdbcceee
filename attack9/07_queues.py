"""queries.page / counts: a queue never shows a case the actor may not act on; search never matches sealed
text; keyset cursors cannot be forged into other scopes.

Attacks: a unit officer of UMUM asks for LAYANAN's cases (unit filter, search by number, forged cursor);
searches for words that only occur in sealed fields (name, description, location, the reported person);
cursors edited by hand (other queue, far past/future dates, id 0 / negative / 2**70, a dict, non-ASCII, a
date with no zone) — every one must be refused with a QueueError or stay inside the actor's scope."""

import base64
import json
from datetime import timedelta

from common import check, done, fresh, user

from wbs_engine import queries
from wbs_engine.errors import WbsError

eng = fresh("07")
for u, g in [("pengelola", "pengelola"), ("atasan", "atasan"), ("petugas.umum", "unit:UMUM"),
             ("petugas.layanan", "unit:LAYANAN"), ("telaah", "tim_telaah"), ("pegawai", "pegawai")]:
    user(eng, u, g)
A = eng.load_actor
peng = A("pengelola")
SEALED_WORDS = ["Zebrakata", "Ahmadrahasia", "Legalisirku", "Kebonjeruk", "pelapor9@contoh.id"]


def pgd(unit):
    c = eng.create_case("pengaduan", {
        "nama": "Ahmadrahasia Pelapor", "email": "pelapor9@contoh.id", "layanan": "Legalisirku ijazah",
        "kategori": "normatif", "lokasi": "Kebonjeruk Jakarta",
        "uraian": "Zebrakata: petugas loket meminta uang tambahan untuk mempercepat legalisir."})
    eng.fire(c.number, "mulai_verifikasi", peng)
    eng.fire(c.number, "disposisi", peng, {"unit_tujuan": unit, "instruksi": "Tolong tindak lanjuti Zebrakata"})
    return c.number


lay = [pgd("LAYANAN") for _ in range(3)]
umu = [pgd("UMUM") for _ in range(3)]
later = eng.with_clock(lambda: eng.now() + timedelta(days=40))   # everything overdue


def all_pages(e, actor, queue, **kw):
    out, cur = [], None
    for _ in range(50):
        p = queries.page(e, actor, queue, cursor=cur, limit=1, **kw)
        out += [i.number for i in p.items]
        cur = p.next_cursor
        if not cur:
            break
    return out


um = A("petugas.umum")
seen = {q: all_pages(later, um, q) for q in queries.QUEUES}
flat = {n for v in seen.values() for n in v}
check("a UMUM unit officer's queues hold only UMUM cases", flat and flat <= set(umu), f"{seen}")
check("unit filter LAYANAN gives a UMUM officer nothing",
      all(not queries.page(later, um, q, unit="LAYANAN").items for q in queries.QUEUES), "")
check("searching a LAYANAN case's number gives a UMUM officer nothing",
      all(not queries.page(later, um, q, search=lay[0]).items for q in queries.QUEUES)
      and all(c.count == 0 for c in queries.counts(later, um, search=lay[0]).values()), "")
check("a staff member whose role acts nowhere (pegawai) has empty queues",
      not any(queries.page(later, A("pegawai"), q).items for q in queries.QUEUES), "")

# sealed words: the atasan and pengelola act on these cases in some state, so search in everything they see
hits = {}
for who in ("pengelola", "atasan", "petugas.umum", "petugas.layanan"):
    for w in SEALED_WORDS + [w.lower()[:4] for w in SEALED_WORDS]:
        for q in queries.QUEUES:
            got = queries.page(later, A(who), q, search=w).items
            if got:
                hits.setdefault(w, set()).update(i.number for i in got)
check("no search for a word that only appears in sealed fields matches a case", not hits, f"{hits}")
check("(control) a plain value is found: the case number prefix",
      bool(queries.page(later, um, "overdue", search=umu[0][-3:]).items), "")

# forged cursors
p1 = queries.page(later, um, "overdue", limit=1)
cur = p1.next_cursor
raw = json.loads(base64.urlsafe_b64decode(cur + "=" * (-len(cur) % 4)))
print("NOTE   a real cursor decodes to", raw)


def enc(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


forged = {
    "other queue": enc(["unassigned", raw[1], raw[2]]),
    "far past, id 0": enc(["overdue", "1900-01-01T00:00:00+00:00", 0]),
    "no due date, id -5": enc(["overdue", None, -5]),
    "id 2**70": enc(["overdue", raw[1], 2**70]),
    "year 9999": enc(["overdue", "9999-12-31T23:59:59+00:00", 1]),
    "year 1 at +14:00": enc(["overdue", "0001-01-01T00:00:00+14:00", 1]),
    "no zone": enc(["overdue", "2026-01-01T00:00:00", 1]),
    "dict": enc({"overdue": 1, "b": 2, "c": 3}),
    "bool id": enc(["overdue", raw[1], True]),
    "not base64": "%%%",
    "huge": "A" * 200000,
}
bad = []
for label, c in forged.items():
    try:
        got = [i.number for i in queries.page(later, um, "overdue", cursor=c, limit=50).items]
        if not set(got) <= set(umu):
            bad.append((label, "LEAK", got))
        else:
            print(f"NOTE   cursor {label}: served {len(got)} in-scope rows")
    except queries.QueueError as exc:
        print(f"NOTE   cursor {label}: refused ({exc.message('en')[:50]})")
    except WbsError as exc:
        print(f"NOTE   cursor {label}: {exc.code}")
    except Exception as exc:  # noqa: BLE001 — a crash a hand-edited URL can cause
        bad.append((label, "CRASH", f"{type(exc).__name__}: {str(exc)[:90]}"))
check("forged cursors never leave the actor's scope and never crash the request (WbsError or in-scope page)",
      not bad, "\n       ".join(map(str, bad)))
done()
