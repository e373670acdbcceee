"""The reports (wbs_engine/reports.py) on SQLite and PostgreSQL: every total against a direct count of the
database, the stage figures on a hand-computed example, who may see which unit, bad input, and the promise that
no sealed value ever reaches a report."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import audit, reports
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, ValidationFailed
from wbs_engine.models import Case, CaseEvent, Clock
from wbs_engine.permissions import Actor, Grant
from wbs_engine.retention import ALL_DUE, destroy
from wbs_engine.users import create_or_update_user, parse_grant

CASES = Case.__table__
CLOCKS = Clock.__table__
EVENTS = CaseEvent.__table__
SINCE, UNTIL = date(2026, 1, 1), date(2026, 12, 31)

GIFT = {
    "nama": "Budi Santoso Rahasia",
    "nip": "198001012005011001",
    "jabatan": "Analis Kepegawaian Rahasia",
    "unit_kerja": "Biro Umum",
    "nama_pemberi": "Pemberi Rahasia Sekali",
    "hubungan_pemberi": "rekanan_penyedia",
    "jenis": "barang",
    "uraian": "Jam tangan mewah merek rahasia-uraian-xyz dari rekanan.",
    "nilai_taksiran": 2500000,
    "tanggal_penerimaan": "2026-02-27",
    "tempat_penerimaan": "Kantor rahasia-tempat",
    "peristiwa": "Peristiwa rahasia-peristiwa",
    "kronologi": "Kronologi rahasia-kronologi: diberikan setelah rapat pengadaan barang di kantor.",
}
SECRETS = [
    "Budi Santoso Rahasia",
    "198001012005011001",
    "Analis Kepegawaian Rahasia",
    "Pemberi Rahasia Sekali",
    "rahasia-uraian-xyz",
    "rahasia-tempat",
    "rahasia-peristiwa",
    "rahasia-kronologi",
    "rekanan_penyedia",
    # the complaint's sealed values (tests/helpers.COMPLAINT)
    "Siti Aminah",
    "siti@contoh.id",
    "meminta uang tambahan",
    "Alasan-arsip-rahasia",
]


def scalar(wbs, stmt):
    with unit_of_work(wbs.db, write=False) as s:
        return s.connection().execute(stmt).scalar_one()


def rows(wbs, stmt):
    with unit_of_work(wbs.db, write=False) as s:
        return s.connection().execute(stmt).all()


def complaint(wbs, clock, unit=None, close=False):
    c = wbs.create_case("pengaduan", COMPLAINT, unit_code=unit)
    if close:
        pel = wbs.load_actor("pengelola")
        clock.advance(minutes=5)
        wbs.fire(c.number, "mulai_verifikasi", pel)
        clock.advance(minutes=5)
        wbs.fire(c.number, "arsipkan", pel, reason="Alasan-arsip-rahasia bukan pengaduan.")
    clock.advance(minutes=5)
    return c


def some_complaints(wbs, clock):
    made = [
        complaint(wbs, clock, "LAYANAN"),
        complaint(wbs, clock, "LAYANAN", close=True),
        complaint(wbs, clock, "UMUM"),
        complaint(wbs, clock, "UMUM", close=True),
        complaint(wbs, clock, None),
    ]
    clock.advance(days=10)  # the verification limit (3 HK) of the open ones is past now
    made.append(complaint(wbs, clock, "LAYANAN"))  # one still within its limit
    return made


def gift(wbs, clock, **data):
    c = wbs.create_case("gratifikasi", {**GIFT, **data}, filed_by=wbs.load_actor("pegawai"), unit_code="UMUM")
    clock.advance(minutes=5)
    return c


def auditor_for(wbs, name, *grants):
    create_or_update_user(wbs, name, [parse_grant(g) for g in grants], password="rahasia-demo-123")
    return wbs.load_actor(name)


# --- totals against the database ----------------------------------------------------------------------------


def test_recap_totals_equal_the_database(wbs, clock):
    some_complaints(wbs, clock)
    rep = reports.build_report(wbs, wbs.load_actor("auditor"), "recap", since=SINCE, until=UNTIL, case_type="pengaduan")
    in_type = CASES.c.case_type == "pengaduan"
    total = scalar(wbs, sa.select(sa.func.count()).where(in_type))
    closed = scalar(wbs, sa.select(sa.func.count()).where(in_type, CASES.c.final.is_(True)))
    summary = rep.section("summary")
    assert summary.total[1:] == [total, total - closed, closed] == [6, 4, 2]
    assert sum(summary.values("received")) == total
    per_unit = dict(rows(wbs, sa.select(CASES.c.unit_code, sa.func.count()).where(in_type).group_by(CASES.c.unit_code)))
    # (a case filed without a unit goes to the office's default unit, PUSAT)
    assert dict(zip(summary.values("unit"), summary.values("received"), strict=True)) == {
        (f"Unit {code}" if code else "—"): n for code, n in per_unit.items()
    }
    assert summary.chart.kind == "stacked" and len(summary.chart.labels) == 3
    months = rep.section("months")
    assert len(months.rows) == 12 and months.total[1:] == [total, closed]
    assert months.values("received")[2] == total  # all filed in March 2026
    # clocks: every clock row of the period's cases is counted once
    n_clocks = scalar(wbs, sa.select(sa.func.count()).select_from(CLOCKS.join(CASES, CASES.c.id == CLOCKS.c.case_id)))
    limits = rep.section("limits")
    assert limits.total[limits.column("clocks")] == n_clocks
    within, over, running = (limits.total[limits.column(k)] for k in ("within", "over", "running"))
    assert within + over + running == n_clocks
    # verification (3 HK): two stopped in time (archived), three open past due, one open before due
    ver = limits.rows[0]
    assert ver[0] == wbs.registry.latest("pengaduan").definition.clocks["verifikasi"].label.get("id")
    assert [ver[limits.column(k)] for k in ("within", "over", "over_open", "running")] == [2, 3, 3, 1]
    assert ver[limits.column("share_within")] == Decimal("40.0")
    assert ver[limits.column("measures")] == "kantor"
    closure = rep.section("closure")
    by_state = dict(
        rows(wbs, sa.select(CASES.c.state, sa.func.count()).where(in_type, CASES.c.final.is_(True)).group_by("state"))
    )
    assert closure.total[1] == closed and sum(closure.values("count")) == closed
    assert by_state == {"diarsipkan": 2}
    label = dict(zip(closure.values("reason"), closure.values("count"), strict=True))
    assert label["Diarsipkan (bukan pengaduan)"] == 2
    assert [s.key for s in rep.sections] == ["summary", "months", "limits", "stages", "closure", "survey"]
    survey = rep.section("survey")
    assert survey.rows == [] and "5" in survey.note  # too few ratings: no figures


def test_period_bounds_in_the_office_zone(wbs, clock):
    # 31 Dec 2026 23:30 WIB is 16:30 UTC: in 2026's report, not in 2027's
    clock.now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    complaint(wbs, clock, "UMUM")
    aud = wbs.load_actor("auditor")
    kw = {"case_type": "pengaduan"}
    assert reports.build_report(wbs, aud, "recap", since=SINCE, until=UNTIL, **kw).section("summary").total[1] == 1
    clock.advance(days=1)
    nxt = reports.build_report(wbs, aud, "recap", since=date(2027, 1, 1), until=date(2027, 1, 31), **kw)
    assert nxt.section("summary").total[1] == 0


def test_clock_measures_the_reporter_or_the_office(wbs):
    from wbs_engine.reports import clock_measures

    def measures(key):
        d = wbs.registry.latest(key).definition
        return {n: clock_measures(d, n) for n in d.clocks}

    g = measures("gratifikasi")
    assert g["lapor_upg"] == g["lapor_kpk"] == g["kelengkapan"] == "reporter"
    assert g["teruskan_upg"] == "office"
    p = measures("pengaduan")
    assert p["keterangan_pelapor"] == p["konfirmasi_pelapor"] == "reporter" and p["verifikasi"] == "office"
    assert measures("wbs")["jawaban_pelapor"] == "reporter" and measures("wbs")["telaah"] == "office"


# --- stages -----------------------------------------------------------------------------------------------


def test_p90_nearest_rank():
    assert reports.p90([]) is None
    assert reports.p90([7]) == Decimal("7.0")
    assert reports.p90(list(range(1, 11))) == Decimal("9.0")  # ceil(0.9*10) = 9th
    assert reports.p90(list(range(1, 12))) == Decimal("10.0")  # ceil(0.9*11) = 10th
    assert reports.p90([5, 1, 3]) == Decimal("5.0")  # ceil(2.7) = 3rd


def test_stage_mean_and_p90_hand_computed(wbs, clock):
    pel = wbs.load_actor("pengelola")
    # Mon 2 Mar 2026 09:00 WIB; received → verification after 0, 1, 2 and 3 working days (Tue, Wed, Thu)
    made = []
    for _ in range(4):
        made.append(wbs.create_case("pengaduan", COMPLAINT, unit_code="UMUM"))
    clock.advance(minutes=30)
    wbs.fire(made[0].number, "mulai_verifikasi", pel)  # same day: 0
    for n, c in enumerate(made[1:], 1):
        clock.now = datetime(2026, 3, 2 + n, 3, 0, tzinfo=UTC)  # 10:00 WIB on Tue, Wed, Thu
        wbs.fire(c.number, "mulai_verifikasi", pel)
    # one leaves verification (archived) on Fri: it entered Thu 10:00 → 1 working day
    clock.now = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)
    wbs.fire(made[3].number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    rep = reports.build_report(wbs, wbs.load_actor("auditor"), "recap", since=SINCE, until=UNTIL, case_type="pengaduan")
    stages = rep.section("stages")
    by = {r[0]: r[1:] for r in stages.rows}
    # diterima: 0, 1, 2, 3 → mean 1.5, p90 = ceil(3.6) = 4th = 3
    assert by["Diterima"] == [4, Decimal("1.5"), Decimal("3.0")]
    # verifikasi: only the completed stay (three cases are still in it)
    assert by["Sedang diverifikasi"] == [1, Decimal("1.0"), Decimal("1.0")]
    assert by["Didisposisikan ke unit"] == [0, None, None]
    assert "Selesai" not in by  # final states are not stages
    assert stages.chart.series[0][1][0] == 1.5


# --- who sees what ----------------------------------------------------------------------------------------


def test_a_unit_limited_auditor_sees_only_their_unit(wbs, clock):
    some_complaints(wbs, clock)
    aud = auditor_for(wbs, "aud.layanan", "auditor:LAYANAN")
    rep = reports.build_report(wbs, aud, "recap", since=SINCE, until=UNTIL, case_type="pengaduan")
    summary = rep.section("summary")
    assert summary.values("unit") == ["Unit LAYANAN"] and summary.total[1] == 3
    assert rep.section("months").total[1] == 3
    n = scalar(
        wbs,
        sa.select(sa.func.count())
        .select_from(CLOCKS.join(CASES, CASES.c.id == CLOCKS.c.case_id))
        .where(CASES.c.unit_code == "LAYANAN"),
    )
    assert rep.section("limits").total[rep.section("limits").column("clocks")] == n
    # the satisfaction index covers every unit: not shown to a unit-limited viewer
    assert rep.section("survey").rows == [] and rep.section("survey").total is None
    own = reports.build_report(wbs, aud, "recap", since=SINCE, until=UNTIL, case_type="pengaduan", unit="LAYANAN")
    assert own.section("summary").total[1] == 3
    with pytest.raises(NotAllowed):
        reports.build_report(wbs, aud, "recap", since=SINCE, until=UNTIL, case_type="pengaduan", unit="UMUM")
    assert reports.report_scope(wbs, aud)["units"] == [("LAYANAN", "Unit LAYANAN")]
    # a whole-office auditor limited to one unit filter sees that unit only
    full = reports.build_report(
        wbs, wbs.load_actor("auditor"), "recap", since=SINCE, until=UNTIL, case_type="pengaduan", unit="UMUM"
    )
    assert full.section("summary").values("unit") == ["Unit UMUM"] and full.section("summary").total[1] == 2


def test_cases_without_a_unit_count_only_for_a_whole_office_grant(wbs, clock):
    c = complaint(wbs, clock, "LAYANAN")
    complaint(wbs, clock, "LAYANAN")
    with unit_of_work(wbs.db) as s:  # a case with no unit (an office without a default unit files such cases)
        s.connection().execute(sa.update(CASES).where(CASES.c.number == c.number).values(unit_code=None))
    kw = {"since": SINCE, "until": UNTIL, "case_type": "pengaduan"}
    full = reports.build_report(wbs, wbs.load_actor("auditor"), "recap", **kw).section("summary")
    assert dict(zip(full.values("unit"), full.values("received"), strict=True)) == {"Unit LAYANAN": 1, "—": 1}
    assert full.rows[-1][0] == "—"  # the no-unit row last
    limited = reports.build_report(wbs, auditor_for(wbs, "aud.l", "auditor:LAYANAN"), "recap", **kw)
    assert limited.section("summary").total[1] == 1


def test_a_type_limited_grant_and_others_are_refused(wbs, clock):
    complaint(wbs, clock, "UMUM")
    kw = {"since": SINCE, "until": UNTIL}
    for who in ("pegawai", "petugas", "telaah"):
        with pytest.raises(NotAllowed) as err:
            reports.build_report(wbs, wbs.load_actor(who), "recap", case_type="pengaduan", **kw)
        assert who in err.value.msg.render("en")
        assert reports.report_scope(wbs, wbs.load_actor(who)) == {"types": [], "units": []}
    upg = wbs.load_actor("upg")
    assert reports.build_report(wbs, upg, "gratifikasi", **kw).section("register").rows == []
    wbs_only = auditor_for(wbs, "aud.wbs", "auditor:*:wbs")
    with pytest.raises(NotAllowed):
        reports.build_report(wbs, wbs_only, "recap", case_type="pengaduan", **kw)
    assert [k for k, _l in reports.report_scope(wbs, wbs_only)["types"]] == ["wbs"]
    with pytest.raises(NotAllowed):
        reports.build_report(wbs, Actor.reporter(1), "recap", case_type="pengaduan", **kw)
    with pytest.raises(NotAllowed):
        reports.build_report(wbs, Actor("x", grants=(Grant("admin"),)), "recap", case_type="pengaduan", **kw)


@pytest.mark.parametrize(
    "kwargs, field, en, id_",
    [
        ({"kind": "bogus"}, "jenis", "choose one of", "pilih salah satu"),
        ({"case_type": None}, "tipe", "choose a case type", None),
        ({"case_type": "nope"}, "tipe", "unknown case type", None),
        ({"kind": "gratifikasi", "case_type": "pengaduan"}, "tipe", "always of case type gratifikasi", None),
        ({"since": date(2026, 2, 1), "until": date(2026, 1, 1)}, "sampai", "must not be before 2026-02-01", None),
        ({"since": date(2020, 1, 1), "until": date(2026, 1, 1)}, "sampai", "at most 1098 days", None),
        ({"since": date(1900, 1, 1)}, "dari", "choose a date from 1950-01-01", None),
        ({"since": "2026-01-01"}, "dari", "enter a date", None),
        ({"until": datetime(2026, 1, 1, tzinfo=UTC)}, "sampai", "enter a date", None),
        ({"unit": "NOWHERE"}, "unit", "unknown unit", None),
    ],
)
def test_bad_input_says_what_is_wrong_in_both_languages(wbs, kwargs, field, en, id_):
    args = {"kind": "recap", "since": SINCE, "until": UNTIL, "case_type": "pengaduan", **kwargs}
    kind = args.pop("kind")
    with pytest.raises(ValidationFailed) as err:
        reports.build_report(wbs, wbs.load_actor("auditor"), kind, **args)
    assert set(err.value.errors) == {field}
    assert en in err.value.field_errors("en")[field]
    text_id = err.value.field_errors("id")[field]
    assert text_id != err.value.field_errors("en")[field]  # translated
    if id_:
        assert id_ in text_id.lower()


# --- the registers --------------------------------------------------------------------------------------


def test_gratuity_register_totals_equal_the_database(wbs, clock):
    upg = wbs.load_actor("upg")
    a = gift(wbs, clock)
    gift(wbs, clock, jenis="uang", nilai_taksiran=1000000, penolakan=True)
    c = gift(wbs, clock, nilai_taksiran=300000)
    wbs.fire(c.number, "mulai_telaah", upg)
    clock.advance(days=1)
    wbs.fire(c.number, "teruskan_kpk", upg, {"nomor_laporan_kpk": "KPK/123/2026", "tanggal_laporan_kpk": "2026-03-03"})
    clock.advance(days=1)
    wbs.fire(
        c.number,
        "keputusan_milik_negara",
        upg,
        {"nomor_keputusan_kpk": "SK-KPK-9", "tanggal_keputusan_kpk": "2026-03-04"},
    )
    rep = reports.build_report(wbs, wbs.load_actor("auditor"), "gratifikasi", since=SINCE, until=UNTIL, lang="en")
    reg = rep.section("register")
    datas = [d for (d,) in rows(wbs, sa.select(CASES.c.data).where(CASES.c.case_type == "gratifikasi"))]
    assert len(reg.rows) == len(datas) == 3
    assert reg.total[reg.column("value")] == sum(int(d["nilai_taksiran"]) for d in datas) == 3800000
    row = {r[0]: r for r in reg.rows}
    assert row[a.number][reg.column("kind")] == "Goods" and row[a.number][reg.column("refused")] == "no"
    got = row[c.number]
    assert got[reg.column("decision")] == "State property" and got[reg.column("decision_number")] == "SK-KPK-9"
    assert got[reg.column("kpk_number")] == "KPK/123/2026" and got[reg.column("kpk_date")] == date(2026, 3, 3)
    assert got[reg.column("received")] == date(2026, 2, 27)
    by_kind = rep.section("by_kind")
    assert by_kind.total[1:] == [3, 3800000] and sum(by_kind.values("count")) == 3
    assert dict(zip(by_kind.values("kind"), by_kind.values("value"), strict=True))["Goods"] == 2800000
    by_dec = rep.section("by_decision")
    assert dict(zip(by_dec.values("decision"), by_dec.values("count"), strict=True)) == {
        "State property": 1,
        "Recipient's property": 0,
        "no KPK decision": 2,
    }
    assert by_dec.chart is not None and by_kind.chart is not None


def test_conflict_registers(wbs, clock):
    aud = wbs.load_actor("auditor")
    for kind in ("benturan_kepentingan", "identifikasi_bk"):
        rep = reports.build_report(wbs, aud, kind, since=SINCE, until=UNTIL)
        assert rep.section("register").rows == []
    bk = reports.build_report(wbs, aud, "benturan_kepentingan", since=SINCE, until=UNTIL)
    assert [s.key for s in bk.sections] == ["register", "by_source"] and bk.section("by_source").total[-1] == 0
    ib = reports.build_report(wbs, aud, "identifikasi_bk", since=SINCE, until=UNTIL, lang="en")
    assert [s.key for s in ib.sections] == ["register", "by_function"]
    levels = wbs.registry.latest("identifikasi_bk").definition.field("tingkat_risiko").options
    assert [c.label for c in ib.section("by_function").columns][1:4] == [o.label.get("en") for o in levels]


def test_every_kind_runs_on_the_demo_data(make_wbs, db_url, clock):
    from wbs_engine import demo

    eng = make_wbs(db_url)
    demo.seed(eng, clock.now)
    aud = eng.load_actor("auditor")
    counted = {}
    for key in eng.registry.keys:
        rep = reports.build_report(eng, aud, "recap", since=date(2025, 1, 1), until=date(2026, 12, 31), case_type=key)
        counted[key] = rep.section("summary").total[1]
        json.dumps(rep.to_dict())
    with unit_of_work(eng.db, write=False) as s:
        db = dict(s.connection().execute(sa.select(CASES.c.case_type, sa.func.count()).group_by("case_type")).all())
    assert counted == {k: db.get(k, 0) for k in eng.registry.keys} and sum(counted.values()) > 0
    for kind, key in reports.REGISTER_TYPES.items():
        rep = reports.build_report(eng, aud, kind, since=date(2025, 1, 1), until=date(2026, 12, 31), lang="en")
        assert len(rep.section("register").rows) == db.get(key, 0)
        json.dumps(rep.to_dict())


# --- privacy --------------------------------------------------------------------------------------------


def test_sealed_values_never_reach_a_report(wbs, clock):
    """The auditor may read these sealed values on the case page (visibility); a report never shows them."""
    complaint(wbs, clock, "UMUM", close=True)
    complaint(wbs, clock, None)
    g = gift(wbs, clock, penolakan=False)
    aud = wbs.load_actor("auditor")
    from wbs_engine.views import case_view

    view = case_view(wbs, g.number, aud, "id")
    assert view["fields"]["nama_pemberi"] == "Pemberi Rahasia Sekali"  # readable there
    for kind in reports.REPORT_KINDS:
        types = list(wbs.registry.keys) if kind == "recap" else [None]
        for t in types:
            for lang in ("id", "en"):
                rep = reports.build_report(wbs, aud, kind, since=SINCE, until=UNTIL, case_type=t, lang=lang)
                text = json.dumps(rep.to_dict(), ensure_ascii=False)
                for secret in SECRETS:
                    assert secret not in text, (kind, t, secret)


def test_plain_reads_only_unsealed_fields(wbs):
    defn = wbs.registry.latest("gratifikasi").definition
    forged = {"nama_pemberi": "leaked", "uraian": "leaked", "jenis": "barang", "unknown": "x"}
    assert reports.plain(defn, forged, "nama_pemberi") is None
    assert reports.plain(defn, forged, "uraian") is None
    assert reports.plain(defn, forged, "unknown") is None
    assert reports.plain(defn, forged, "jenis") == "barang"


def test_a_destroyed_case_shows_only_number_date_and_that_it_was_destroyed(wbs, clock):
    create_or_update_user(wbs, "admin", [parse_grant("admin")], password="rahasia-demo-123")
    upg = wbs.load_actor("upg")
    g = gift(wbs, clock)
    wbs.fire(g.number, "mulai_telaah", upg)
    wbs.fire(g.number, "nyatakan_tidak_wajib_lapor", upg, {"dasar_pengecualian": "keluarga"}, reason="Keluarga.")
    keep = gift(wbs, clock, nilai_taksiran=100000)
    clock.now = datetime(2031, 3, 5, 1, 0, tzinfo=UTC)
    assert destroy(wbs, ALL_DUE, wbs.load_actor("admin"), "JRA").numbers == [g.number]
    rep = reports.build_report(wbs, wbs.load_actor("auditor"), "gratifikasi", since=SINCE, until=UNTIL, lang="en")
    reg = rep.section("register")
    row = {r[0]: r for r in reg.rows}[g.number]
    assert row[reg.column("filed")] == date(2026, 3, 2) and row[reg.column("state")] == "destroyed (retention)"
    assert [v for i, v in enumerate(row) if i not in (0, reg.column("filed"), reg.column("state"))] == [None] * 14
    assert reg.total[reg.column("value")] == 100000 and len(reg.rows) == 2
    assert keep.number in {r[0] for r in reg.rows}


# --- the export event -----------------------------------------------------------------------------------


def test_record_export_is_one_event_without_content_and_verify_accepts_it(wbs, clock):
    gift(wbs, clock)
    aud = wbs.load_actor("auditor")
    rep = reports.build_report(wbs, aud, "gratifikasi", since=SINCE, until=UNTIL)
    before = scalar(wbs, sa.select(sa.func.count()).select_from(EVENTS))
    assert before == scalar(wbs, sa.select(sa.func.count()).select_from(EVENTS))  # build_report wrote nothing
    reports.record_export(wbs, aud, rep, "xlsx")
    with unit_of_work(wbs.db, write=False) as s:
        ev = audit.chain_events(s, audit.SYSTEM_CHAIN)[-1]
        assert (ev.kind, ev.actor, ev.actor_role) == ("report_exported", "auditor", "auditor")
        assert ev.payload == {
            "report": "gratifikasi",
            "case_type": "gratifikasi",
            "unit": None,
            "since": "2026-01-01",
            "until": "2026-12-31",
            "format": "xlsx",
            "via": "web",
            "rows": {"register": 1, "by_kind": 4, "by_decision": 3},
        }
        assert "2500000" not in json.dumps(ev.payload)
        assert audit.verify(s, keyring=wbs.keyring).ok
    with pytest.raises(ValidationFailed) as err:
        reports.record_export(wbs, aud, rep, "docx")
    assert set(err.value.errors) == {"format"}
    assert scalar(wbs, sa.select(sa.func.count()).select_from(EVENTS)) == before + 1
