"""One filing, one case: issue_filing_token / create_case(idempotency_token=).

Attacks: replay, another spelling of the same token (padding, junk characters that lenient base64 drops,
case of letters), a token for another case type, an expired token, a forged/edited one, a token signed by
another office's keyring, garbage of every shape, and — on PostgreSQL (ATK9_PG=host:port) — N threads
racing one token. A second attempt must get AlreadyFiled with the number, never the tracking code."""

import os
import threading
from datetime import timedelta

from common import check, done, fresh

from wbs_engine import filing
from wbs_engine.errors import WbsError
from wbs_engine.models import Case, FilingToken
from wbs_engine.db import unit_of_work
from sqlmodel import func, select

eng = fresh("04")
DATA = {"kategori": "korupsi", "siapa": "Pejabat X", "apa": "Pejabat X meminta uang pelicin untuk izin usaha."}


def file(token, case_type="wbs"):
    try:
        return "ok", eng.create_case(case_type, DATA, idempotency_token=token)
    except WbsError as exc:
        return type(exc).__name__, exc


def n_cases():
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(select(func.count()).select_from(Case)).one()


tok = eng.issue_filing_token("wbs")
first = file(tok)
second = file(tok)
d = second[1].to_dict("en") if second[0] != "ok" else {}
check("replay of a used token: AlreadyFiled with the number, no tracking code",
      first[0] == "ok" and second[0] == "AlreadyFiled" and first[1].receipt_code not in repr(d)
      and d.get("params", {}).get("number") == first[1].number, f"second attempt: {d}")

body, mac = tok.split(".")
variants = {
    "padding added": f"{body}==.{mac}==",
    "junk chars inside (lenient base64)": f"{body[:5]}!!{body[5:]}.{mac}",
    "surrounding whitespace": f"  {tok}\n",
    "standard alphabet": tok.replace("-", "+").replace("_", "/"),
}
for label, v in variants.items():
    r = file(v)
    check(f"another spelling of a used token ({label}) does not file a second case", r[0] != "ok", r[0])

# cross-type: a pengaduan token on a wbs filing
pt = eng.issue_filing_token("pengaduan")
r = file(pt, "wbs")
check("a token for another case type is refused", r[0] == "FilingTokenInvalid", r[0])

# expired: issued 25 hours ago
old = eng.with_clock(lambda: eng.now() - timedelta(hours=25)).issue_filing_token("wbs")
r = file(old)
check("an expired token is refused", r[0] == "FilingTokenInvalid", f"{r[0]}: {r[1].message('en') if r[0] != 'ok' else ''}")

# edited body (change the type to 'wbs' from 'pengaduan' keeping the MAC)
import base64  # noqa: E402
b, m = pt.split(".")
raw = base64.urlsafe_b64decode(b + "=" * (-len(b) % 4))
forged_body = base64.urlsafe_b64encode(raw[:24] + b"wbs").decode().rstrip("=")
r = file(f"{forged_body}.{m}")
check("an edited token (type changed) is refused", r[0] == "FilingTokenInvalid", r[0])
# far-future expiry with the old MAC
forged = base64.urlsafe_b64encode(raw[:16] + (2**62).to_bytes(8, "big") + b"wbs").decode().rstrip("=")
r = file(f"{forged}.{m}")
check("an edited token (expiry pushed) is refused", r[0] == "FilingTokenInvalid", r[0])

# a token from another office (its own keyring)
other = fresh("04b")
r = file(other.issue_filing_token("wbs"))
check("a token signed by another office's keyring is refused", r[0] == "FilingTokenInvalid", r[0])

bad = ["", " ", ".", "a.b", "x" * 301, "\x00.\x00", "é.é", tok.split(".")[0], "." + mac, 12345, None, b"bytes"]
outs = []
for g in bad:
    try:
        r = file(g)
    except Exception as exc:  # noqa: BLE001 — anything not a WbsError is a crash a user can cause
        r = ("CRASH " + type(exc).__name__, exc)
    outs.append((repr(g)[:20], r[0]))
check("garbage tokens are refused with FilingTokenInvalid (no crash, no case)",
      all(o[1] in ("FilingTokenInvalid", "ok") for o in outs) and all(o[1] != "ok" for o in outs[:-2] if o[0] != "None"),
      str(outs))

before = n_cases()
# race: several threads, one fresh token (meaningful on PostgreSQL; SQLite serialises writers)
tok2 = eng.issue_filing_token("wbs")
results = []
barrier = threading.Barrier(6)


def racer():
    barrier.wait()
    results.append(file(tok2)[0])


ts = [threading.Thread(target=racer) for _ in range(6)]
[t.start() for t in ts]
[t.join() for t in ts]
after = n_cases()
check(f"racing 6 filings with one token on {eng.db.dialect.name}: exactly one case",
      results.count("ok") == 1 and after - before == 1 and all(x in ("ok", "AlreadyFiled") for x in results),
      f"results={sorted(results)}, new cases={after - before}")

with unit_of_work(eng.db, write=False) as s:
    rows = s.exec(select(FilingToken)).all()
    check("a used token is stored only as a hash (no token text in the table)",
          all(tok.split(".")[0] not in repr(r) and tok2.split(".")[0] not in repr(r) for r in rows), f"{len(rows)} rows")
done()
