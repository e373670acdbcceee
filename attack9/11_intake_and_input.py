"""intake_form and create_case: the form for each identity mode; anonymous reports keep no identity; and
"raises a WbsError for anything a user can cause" (README, Engine operations) with hostile text:
NUL characters, lone surrogates (valid JSON: "\\ud800"), very long values, 10,000 unknown keys,
Unicode confusables in select values. Run on PostgreSQL too (ATK9_PG=host:port): it refuses NUL in text."""

import time

from common import check, done, fresh, user

from wbs_engine import queries
from wbs_engine.db import unit_of_work
from wbs_engine.errors import WbsError
from wbs_engine.models import Case
from sqlmodel import select

eng = fresh("11")
user(eng, "pengelola", "pengelola")
user(eng, "telaah", "tim_telaah")
A = eng.load_actor

f = eng.intake_form("wbs", None, "en")
check("the default mode is the most private (WBS: anonim) and its form asks no identity",
      f.identity_mode == "anonim" and not any(x.identity for x in f.fields), f"{f.identity_mode}")
f2 = eng.intake_form("benturan_kepentingan", None, "xx")
check("BK default is rahasia; an unknown lang falls back to id", f2.identity_mode == "rahasia"
      and f2.label == "Benturan Kepentingan", f"{f2.identity_mode} / {f2.label}")
try:
    eng.intake_form("wbs", "terbuka\u200b")
    check("an identity mode the workflow does not offer is refused", False, "accepted")
except WbsError as exc:
    check("an identity mode the workflow does not offer is refused", exc.status == 422, exc.code)

c = eng.create_case("wbs", {"nama": "Nama Asli Pelapor", "telepon": "081234567890", "kategori": "korupsi",
                           "siapa": "Pejabat X", "apa": "Pejabat X meminta uang pelicin untuk setiap izin."},
                    identity_mode="anonim", filed_by=A("pengelola"))
with unit_of_work(eng.db, write=False) as s:
    row = s.exec(select(Case).where(Case.number == c.number)).one()
    key = eng.case_key(row)
    stored = repr(row.data) + repr(key.open(row.identity_enc) if row.identity_enc else None) + \
        repr(key.open(row.confidential_enc))
check("an anonymous report keeps no identity, not linked to the filing account",
      "Nama Asli" not in stored and "0812" not in stored and row.filed_by_user_id is None, f"sealed_fields={row.sealed_fields}")

BASE = {"kategori": "korupsi", "siapa": "Pejabat X", "apa": "Pejabat X meminta uang pelicin untuk setiap izin."}
probes = {
    "NUL in a sealed textarea": ("wbs", {**BASE, "apa": "Pejabat X meminta\x00 uang pelicin untuk izin usaha."}),
    "lone surrogate in a textarea": ("wbs", {**BASE, "apa": "Pejabat X meminta uang \ud800 pelicin untuk izin usaha."}),
    "NUL in a select": ("wbs", {**BASE, "kategori": "korupsi\x00"}),
    "confusable select (Cyrillic о)": ("wbs", {**BASE, "kategori": "k\u043erupsi"}),
    "NUL in a date": ("wbs", {**BASE, "kapan": "2026-01-01\x00"}),
    "NUL in a unit": ("pengaduan", None),
    "10,000 unknown keys": ("wbs", {**BASE, **{f"k{i}": "v" for i in range(10000)}}),
    "1 MB textarea": ("wbs", {**BASE, "bagaimana": "a" * 1_000_000}),
    "NUL in a field name": ("wbs", {**BASE, "ap\x00a": "x"}),
}
bad = []
for label, (ctype, data) in probes.items():
    t0 = time.time()
    try:
        if data is None:
            eng.create_case("pengaduan", {"nama": "N", "layanan": "L", "kategori": "ringan",
                                          "uraian": "Petugas loket meminta uang tambahan untuk legalisir."},
                            unit_code="PUSAT\x00")
        else:
            eng.create_case(ctype, data)
        outcome = "accepted"
    except WbsError as exc:
        outcome = f"{exc.status} {exc.code}"
    except Exception as exc:  # noqa: BLE001
        outcome = f"CRASH {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
        bad.append((label, outcome))
    print(f"NOTE   {label}: {outcome} ({time.time() - t0:.2f}s)")
# staff-side user input on the same paths
c2 = eng.create_case("wbs", BASE)
for label, fn in {
    "NUL in a case number (URL)": lambda: eng.available_actions(c2.number + "\x00", A("telaah")),
    "NUL in a user-type field": lambda: eng.fire(c2.number, "mulai_verifikasi", A("telaah"), {"petugas": "telaah\x00"}),
    "NUL in a search": lambda: queries.page(eng, A("telaah"), "unassigned", search="wbs\x00"),
    "lone surrogate in a search": lambda: queries.page(eng, A("telaah"), "unassigned", search="wbs\ud800"),
    "NUL in a tracking code": lambda: __import__("wbs_engine.tracking", fromlist=["x"]).tracking_view(eng, "AB\x00CD"),
    "lone surrogate in a tracking code": lambda: __import__("wbs_engine.tracking", fromlist=["x"]).tracking_view(eng, "\ud800"),
    "lone surrogate in a message": lambda: eng.post_message(c2.number, A("telaah"), "halo \ud800 pelapor"),
}.items():
    try:
        fn()
        outcome = "accepted"
    except WbsError as exc:
        outcome = f"{exc.status} {exc.code}"
    except Exception as exc:  # noqa: BLE001
        outcome = f"CRASH {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
        bad.append((label, outcome))
    print(f"NOTE   {label}: {outcome}")
check(f"hostile text gives a WbsError, never a crash ({eng.db.dialect.name})", not bad, "\n       ".join(map(str, bad)))
done()
