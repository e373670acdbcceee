"""The public statistics (wbs_engine/statistics.py) on SQLite and PostgreSQL: the counts equal the database's,
closing late and on time is told apart as the module defines it, the satisfaction index is the survey's for
whole ended quarters only, and no count under five (or a figure derived from one) is given."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import audit, statistics
from wbs_engine.db import unit_of_work
from wbs_engine.errors import ValidationFailed
from wbs_engine.models import Case, Clock
from wbs_engine.statistics import public_statistics, share, suppress_row
from wbs_engine.survey import rate_case, survey_results

CASES = Case.__table__
CLOCKS = Clock.__table__
SECRET_NAME = "Zulkarnain Pratamawidjaja"
SECRET_TEXT = "Kwitansi fiktif gudang Tanjungpriok nomor 8841 dipalsukan oleh bendahara."
WBS_DATA = {
    "kategori": "korupsi",
    "apa": "Laporan rahasia: " + SECRET_TEXT,
    "siapa": SECRET_NAME,
}


def complaint(wbs):
    return wbs.create_case("pengaduan", {**COMPLAINT, "nama": SECRET_NAME, "uraian": SECRET_TEXT})


def archive(wbs, number):
    pel = wbs.load_actor("pengelola")
    wbs.fire(number, "mulai_verifikasi", pel)
    wbs.fire(number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")


def build(wbs, clock):
    """March 2026: 6 complaints closed late (after the 3 HK verification limit), 7 on time, 6 being verified,
    5 just received, 2 WBS reports; 5 of the on-time ones rated. Then the clock moves into April (Q1 ends)."""
    late = [complaint(wbs) for _ in range(6)]
    clock.advance(days=8)  # Monday 2 March + 8 days: past the 3 working days
    for c in late:
        archive(wbs, c.number)
    on_time = [complaint(wbs) for _ in range(7)]
    for c in on_time:
        archive(wbs, c.number)
    pel = wbs.load_actor("pengelola")
    for _ in range(6):
        wbs.fire(complaint(wbs).number, "mulai_verifikasi", pel)
    for _ in range(5):
        complaint(wbs)
    for _ in range(2):
        wbs.create_case("wbs", WBS_DATA, identity_mode="anonim")
    for i, c in enumerate(on_time[:5]):
        rate_case(
            wbs, c.receipt_code, dict.fromkeys(["prosedur", "waktu", "perilaku", "jawaban", "penanganan"], 3 + i % 2)
        )
    clock.advance(days=30)  # 10 April 2026
    return late, on_time


def db_counts(wbs, year=2026):
    """(type, stage) and (type, month) counts straight from the rows, in Python."""
    zone = wbs.settings.zone
    stage, month = {}, {}
    with unit_of_work(wbs.db, write=False) as s:
        for ctype, phase, final, created in s.connection().execute(
            sa.select(CASES.c.case_type, CASES.c.phase, CASES.c.final, CASES.c.created_at)
        ):
            local = created.astimezone(zone)
            if local.year != year:
                continue
            key = "closed" if final else phase
            stage[(ctype, key)] = stage.get((ctype, key), 0) + 1
            month[(ctype, local.month)] = month.get((ctype, local.month), 0) + 1
    return stage, month


def late_in_db(wbs):
    """Closed cases with a clock that stopped at or after its deadline or was breached (clocks that fire on
    breach not counted: none here)."""
    with unit_of_work(wbs.db, write=False) as s:
        rows = s.connection().execute(
            sa.select(CASES.c.id, CLOCKS.c.stopped_at, CLOCKS.c.due_at, CLOCKS.c.breached_at)
            .join(CLOCKS, CLOCKS.c.case_id == CASES.c.id)
            .where(CASES.c.final.is_(True))
        )
        return {i for i, stopped, due, breached in rows if breached or (stopped and due and stopped >= due)}


def walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)


def test_counts_equal_the_database(wbs, clock):
    late, on_time = build(wbs, clock)
    stats = public_statistics(wbs, 2026, "en")
    stage, month = db_counts(wbs)
    by_type = {t["case_type"]: t for t in stats["types"]}
    assert list(by_type) == ["benturan_kepentingan", "gratifikasi", "pengaduan", "wbs"] or set(by_type) == {
        "benturan_kepentingan",
        "gratifikasi",
        "pengaduan",
        "wbs",
    }
    assert "identifikasi_bk" not in by_type  # an internal register, not a report
    p = by_type["pengaduan"]
    assert p["total"]["value"] == 24 == sum(n for (t, _k), n in stage.items() if t == "pengaduan")
    for ph in p["phases"]:
        real = stage.get(("pengaduan", ph["key"]), 0)
        if ph["count"]["suppressed"]:
            assert ph["count"]["value"] is None
            assert (ph["count"]["text"] == "< 5") == (real < 5)
        else:
            assert ph["count"]["value"] == real >= 5
    assert {ph["key"]: ph["count"]["text"] for ph in p["phases"]}["closed"] == "13"
    march = p["months"][2]
    assert march["count"]["value"] == month[("pengaduan", 3)] == 24
    assert all(m["count"]["text"] == "< 5" for i, m in enumerate(p["months"]) if i != 2)
    # closed within the limits: 7 on time, 6 late (the verification clock stopped after its deadline)
    assert len(late_in_db(wbs)) == 6
    lim = p["limits"]
    assert (lim["closed"]["value"], lim["on_time"]["value"], lim["late"]["value"]) == (13, 7, 6)
    assert lim["share"] == {"percent": 54, "bound": "exact", "text": "54%"}
    # two WBS reports: every figure suppressed
    w = by_type["wbs"]
    assert w["total"]["text"] == "< 5" and w["total"]["value"] is None
    assert all(ph["count"]["value"] is None for ph in w["phases"])
    assert w["limits"]["share"]["percent"] is None
    # the satisfaction index: Q1 as the survey's recap of the quarter; Q2 not ended yet
    q1, q2 = p["survey"][0], p["survey"][1]
    recap = survey_results(wbs, case_type="pengaduan", since=date(2026, 1, 1), until=date(2026, 3, 31))
    assert q1["responses"] == recap.responses == 5
    assert q1["index"] == str(recap.index) and q1["category"] == recap.category
    assert q2["ended"] is False and q2["index"] is None
    assert by_type["gratifikasi"]["survey"] is None  # no survey for gratuity reports
    assert stats["years"] == [2026]


def test_no_count_under_five_anywhere(wbs, clock):
    build(wbs, clock)
    for lang in ("id", "en"):
        stats = public_statistics(wbs, 2026, lang)
        for d in walk(stats):
            if "suppressed" in d and "value" in d:
                assert d["value"] is None or d["value"] >= 5, d
                assert d["suppressed"] == (d["value"] is None)
        for t in stats["types"]:
            lim = t["limits"]
            if lim["closed"]["value"] is None:
                assert lim["share"]["percent"] is None
            for q in t["survey"] or []:
                assert q["responses"] is None or q["responses"] >= 5
    # four ratings in a quarter: no index at all
    text = json.dumps(public_statistics(wbs, 2026, "en"), default=str)
    assert SECRET_NAME not in text and "Tanjungpriok" not in text and "@contoh.id" not in text


def test_one_quarter_with_four_ratings_shows_no_index(wbs, clock):
    cases = [complaint(wbs) for _ in range(4)]
    for c in cases:
        archive(wbs, c.number)
        rate_case(wbs, c.receipt_code, dict.fromkeys(["prosedur", "waktu", "perilaku", "jawaban", "penanganan"], 4))
    clock.advance(days=40)
    q1 = public_statistics(wbs, 2026)["types"][2]["survey"][0]
    assert q1["ended"] and q1["responses"] is None and q1["index"] is None and q1["note"]


def test_head_is_the_latest_checkpoint(wbs, clock):
    stats = public_statistics(wbs, 2026)
    complaint(wbs)
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    clock.advance(minutes=10)
    complaint(wbs)
    with unit_of_work(wbs.db) as s:
        cp = audit.checkpoint(s, wbs.now(), wbs.keyring)
    stats = public_statistics(wbs, 2026)
    assert stats["head"]["seq"] == cp.seq and stats["head"]["hash"] == cp.hash
    assert stats["head"]["line"] == audit.head_line(cp, wbs.keyring.public_b64)
    assert wbs.keyring.public_b64 in stats["public_key"]
    # the line is one that `wbs verify-audit --against` reads
    assert audit.parse_heads(stats["head"]["line"])[0].seq == cp.seq


@pytest.mark.parametrize("year", [1949, 2027, "2026", True])
def test_a_year_outside_the_range_is_refused(wbs, year):
    with pytest.raises(ValidationFailed) as e:
        public_statistics(wbs, year)
    assert "1950" in e.value.message("en") and "2026" in e.value.message("id")


def test_an_empty_year_shows_nothing_small(wbs):
    stats = public_statistics(wbs, 2025, "id")
    for t in stats["types"]:
        assert t["total"]["text"] == "< 5"
        assert t["limits"]["share"]["percent"] is None
    assert stats["head"] is None or stats["head"]["line"].startswith(audit.HEAD_PREFIX)


# --- the suppression rules themselves (pure) ----------------------------------------------------------


def _texts(values, total):
    return [c["text"] for c in suppress_row(values, total)]


def test_one_hidden_count_beside_a_total_hides_another():
    assert _texts([10, 2, 7], 19) == ["10", "< 5", "≥ 5"]  # else 19 - 10 - 7 = 2
    assert _texts([10, 0, 0], 10) == ["10", "< 5", "< 5"]  # both are 0: a zero points at no one
    assert _texts([10, 4, 4], 18) == ["≥ 5", "< 5", "< 5"]  # else both are 4
    assert _texts([10, 2, 1, 7], 20) == ["10", "< 5", "< 5", "7"]  # 3 between two: not one answer
    assert _texts([3, 1], 4) == ["< 5", "< 5"]


def test_share_gives_only_bounds_beside_a_small_count():
    assert share(10, 2)["text"] == "≥ 66%"  # on time ≥ 8 of 12
    assert share(2, 10)["text"] == "≤ 34%"
    assert share(3, 4)["percent"] is None  # both small
    assert share(2, 1)["percent"] is None  # fewer than five closed
    assert share(6, 6)["text"] == "50%"


def test_month_names_in_both_languages():
    assert statistics._month_names("id")[8] == "Agu"
    assert statistics._month_names("en")[8] == "Aug"


def test_no_small_count_follows_from_the_closed_total_or_a_forced_row(wbs):
    """The attacker's review: 3 received, 8 being verified, 9 followed up, 6 closed. The stage table hides the 3
    and, to protect it, the 6; the "within the limits" paragraph used to print "closed: 6" again, so 26 - 8 - 9 -
    6 gave the 3 away. Closed is now the stage table's own cell everywhere."""
    pengelola, petugas = wbs.load_actor("pengelola"), wbs.load_actor("petugas")
    for _ in range(3):
        complaint(wbs)
    for _ in range(8):
        wbs.fire(complaint(wbs).number, "mulai_verifikasi", pengelola)
    for _ in range(9):
        n = complaint(wbs).number
        wbs.fire(n, "mulai_verifikasi", pengelola)
        wbs.fire(n, "disposisi", pengelola, {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti."})
        wbs.fire(n, "terima_disposisi", petugas)
    for _ in range(6):
        archive(wbs, complaint(wbs).number)
    year = wbs.now().astimezone(wbs.settings.zone).year
    row = next(t for t in public_statistics(wbs, year)["types"] if t["case_type"] == "pengaduan")
    counts = {p["key"]: p["count"] for p in row["phases"]}
    assert counts["closed"]["suppressed"] and row["limits"]["closed"]["suppressed"]
    shown = [c["value"] for c in counts.values() if not c["suppressed"]]
    total = row["total"]["value"]
    # whatever is shown, the hidden stages together are never a single small count
    assert total is None or total - sum(shown) >= 5 or len([c for c in counts.values() if c["suppressed"]]) > 1
    assert row["limits"]["closed"]["value"] is None and row["limits"]["closed"]["text"] != "6"


def test_a_limit_that_measures_the_reporter_is_not_the_office_being_late(wbs, clock):
    """Five gifts reported long after they were received (the employee's own limits, lapor_upg and lapor_kpk,
    were missed before the UPG ever saw them) and closed by the UPG at once: the office was on time."""
    from tests.integration.test_reports import GIFT

    upg = wbs.load_actor("upg")
    for _ in range(5):
        c = wbs.create_case(
            "gratifikasi", {**GIFT, "tanggal_penerimaan": "2025-11-03"}, filed_by=wbs.load_actor("pegawai")
        )
        wbs.fire(c.number, "mulai_telaah", upg)
        wbs.fire(
            c.number,
            "nyatakan_tidak_wajib_lapor",
            upg,
            {"dasar_pengecualian": "keluarga"},
            reason="Pemberian keluarga tanpa benturan kepentingan.",
        )
    defn = wbs.registry.latest("gratifikasi").definition
    assert {n: defn.clock_measures(n) for n in ("lapor_upg", "lapor_kpk", "teruskan_upg")} == {
        "lapor_upg": "reporter",
        "lapor_kpk": "reporter",
        "teruskan_upg": "office",
    }
    late_clocks = {
        name for (name,) in _rows(wbs, sa.select(CLOCKS.c.name).where(CLOCKS.c.due_at <= CLOCKS.c.stopped_at))
    }
    assert "lapor_upg" in late_clocks  # the employee was late indeed
    grt = next(t for t in public_statistics(wbs, 2026)["types"] if t["case_type"] == "gratifikasi")
    assert grt["limits"]["on_time"]["value"] == 5 and grt["limits"]["late"]["text"] == "< 5"


def _rows(wbs, stmt):
    with unit_of_work(wbs.db, write=False) as s:
        return s.connection().execute(stmt).all()
