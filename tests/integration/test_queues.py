"""The staff queues (``wbs_engine.queries``) on SQLite and PostgreSQL: who sees which case, counts, order,
keyset pages, search, due buckets, and the ``next_due_at`` every writer of clock rows keeps."""

from dataclasses import fields
from datetime import UTC, date

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from tests.integration.test_workflows import GIFT, REPO
from wbs_engine import audit, queries, scheduler
from wbs_engine.db import unit_of_work
from wbs_engine.demo import sample_value
from wbs_engine.lint import load_workflow
from wbs_engine.models import Case, CaseRecusal, CaseTerm, Clock
from wbs_engine.permissions import Actor
from wbs_engine.users import create_or_update_user, parse_grant, set_holiday
from wbs_engine.views import case_view

CASES = Case.__table__
CLOCKS = Clock.__table__


def walk(wbs, who, queue, *, limit=2, **kw):
    """Every case of a queue, page by page (numbers in order); also checks each page's size."""
    actor = who if isinstance(who, Actor) else wbs.load_actor(who)
    out, cursor = [], None
    for _ in range(1000):
        page = queries.page(wbs, actor, queue, cursor=cursor, limit=limit, **kw)
        assert len(page.items) <= limit
        assert page.items or cursor is None, "a cursor was given for an empty page"
        out += [i.number for i in page.items]
        if page.next_cursor is None:
            return out
        assert len(page.items) == limit
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


def in_queue(wbs, who, queue="unassigned", **kw):
    return set(walk(wbs, who, queue, **kw))


def complaint(wbs, unit=None, **data):
    return wbs.create_case("pengaduan", {**COMPLAINT, **data}, unit_code=unit).number


def to_unit(wbs, number, unit):
    pel = wbs.load_actor("pengelola")
    wbs.fire(number, "mulai_verifikasi", pel)
    wbs.fire(number, "disposisi", pel, {"unit_tujuan": unit, "instruksi": "Mohon ditindaklanjuti segera."})


REGISTER = {
    "fungsi_utama": "Pengadaan barang dan jasa",
    "risiko": "Penyedia adalah kerabat pejabat pembuat komitmen.",
    "sumber_risiko": "keluarga",
    "tingkat_risiko": "tinggi",
    "mitigasi": "Pejabat yang berkerabat tidak ikut menilai penawaran.",
    "penanggung_jawab": "Kepala Subbagian Umum",
}


def register_entry(wbs):
    """A register entry in ``draf``: no clock runs there (no due date); ``fungsi_utama`` is plain text."""
    return wbs.create_case("identifikasi_bk", REGISTER, filed_by=wbs.load_actor("pengelola")).number


def wbs_report(wbs):
    defn = load_workflow(REPO / "workflows" / "wbs.yaml")
    data = {f.name: sample_value(f, 0) for f in defn.intake if f.required}
    return wbs.create_case("wbs", data, identity_mode="anonim").number


def next_due_consistent(wbs):
    """The cases whose next_due_at is not the earliest due_at of their running or breached clocks."""
    with wbs.db.connect() as c:
        have = dict(c.execute(sa.select(CASES.c.id, CASES.c.next_due_at)).all())
        want = dict.fromkeys(have)
        for clock in c.execute(sa.select(CLOCKS.c.case_id, CLOCKS.c.status, CLOCKS.c.due_at)):
            if clock.status in ("running", "breached") and clock.due_at is not None:
                known = want[clock.case_id]
                want[clock.case_id] = clock.due_at if known is None else min(known, clock.due_at)
    return {k: (have[k], want[k]) for k in have if _utc(have[k]) != _utc(want[k])}


def _utc(v):
    """An instant, whatever the driver handed back (Core reads through the UTC column type: aware)."""
    return None if v is None else v.astimezone(UTC)


def test_membership_follows_roles_units_types_and_recusal(wbs, clock):
    create_or_update_user(wbs, "pengelola.pgd", [parse_grant("pengelola::pengaduan")])
    create_or_update_user(wbs, "pengelola.lay", [parse_grant("pengelola:LAYANAN")])
    create_or_update_user(wbs, "telaah2", [parse_grant("tim_telaah")])
    a = complaint(wbs, "PUSAT")
    b = complaint(wbs, "LAYANAN")
    d = complaint(wbs)
    to_unit(wbs, d, "LAYANAN")
    e = complaint(wbs)
    to_unit(wbs, e, "UMUM")
    f = complaint(wbs)
    wbs.fire(f, "mulai_verifikasi", wbs.load_actor("pengelola"))
    wbs.fire(f, "arsipkan", wbs.load_actor("pengelola"), reason="Bukan pengaduan: pertanyaan informasi.")
    g = wbs.create_case("gratifikasi", {**GIFT, "tanggal_penerimaan": "2026-02-27"}, filed_by=wbs.load_actor("pegawai"))
    g = g.number
    w = wbs_report(wbs)

    assert in_queue(wbs, "pengelola") == {a, b, w}  # diterima: pengelola; disposisi: the unit; f is closed
    assert in_queue(wbs, "pengelola.pgd") == {a, b}  # one case type
    assert in_queue(wbs, "pengelola.lay") == {b}  # one unit
    assert in_queue(wbs, "petugas") == {d}  # unit:LAYANAN, on the case sent there
    assert in_queue(wbs, "petugas.umum") == {e}
    assert in_queue(wbs, "upg") == {g}
    assert in_queue(wbs, "telaah") == in_queue(wbs, "telaah2") == {w}
    for nobody in ("atasan", "auditor", "pegawai"):
        assert in_queue(wbs, nobody) == set()
    for other in (Actor.reporter(1), Actor.system()):
        assert queries.page(wbs, other, "unassigned").items == ()
        assert {q: c.count for q, c in queries.counts(wbs, other).items()} == dict.fromkeys(queries.QUEUES, 0)
    # the filters narrow what the grants allow, never widen it
    assert in_queue(wbs, "pengelola", unit="LAYANAN") == {b}
    assert in_queue(wbs, "pengelola", case_type="wbs") == {w}
    assert in_queue(wbs, "pengelola.lay", unit="PUSAT") == set()
    assert in_queue(wbs, "petugas", case_type="gratifikasi") == set()

    # assigned to telaah: in telaah's own queue, no longer unassigned
    wbs.fire(w, "mulai_verifikasi", wbs.load_actor("telaah"), {"petugas": "telaah"})
    assert walk(wbs, "telaah", "mine") == [w]
    assert w not in in_queue(wbs, "telaah2")
    assert walk(wbs, "telaah2", "mine") == []
    # recused: off telaah's queues (and unassigned by the effect), still in everybody else's
    wbs.fire(
        w,
        "kecualikan_pejabat",
        wbs.load_actor("atasan"),
        {"pejabat_terkait": "telaah"},
        reason="Pejabat terkait dengan terlapor.",
    )
    assert walk(wbs, "telaah", "mine") == [] and in_queue(wbs, "telaah") == set()
    assert in_queue(wbs, "telaah2") == {w} and w in in_queue(wbs, "atasan")
    counts = queries.counts(wbs, wbs.load_actor("telaah"), cap=None)
    assert {q: c.count for q, c in counts.items()} == dict.fromkeys(queries.QUEUES, 0)


def test_recusal_is_a_row_written_with_the_fire_and_checked_against_the_trail(wbs):
    w = wbs_report(wbs)
    wbs.fire(w, "mulai_verifikasi", wbs.load_actor("telaah"), {"petugas": "telaah"})
    atasan = wbs.load_actor("atasan")
    why = "Pejabat terkait dengan terlapor."
    wbs.fire(w, "kecualikan_pejabat", atasan, {"pejabat_terkait": "telaah"}, reason=why)
    wbs.fire(w, "kecualikan_pejabat", atasan, {"pejabat_terkait": "telaah"}, reason=why)  # twice: one row
    telaah = wbs.load_actor("telaah")
    with unit_of_work(wbs.db, write=False) as s:
        case = wbs.get_case(s, w)
        rows = s.exec(sa.select(CaseRecusal.user_id).where(CaseRecusal.case_id == case.id)).all()
        assert [r[0] for r in rows] == [telaah.user_id]
        assert case.recused == {telaah.user_id} and case.assigned_user_id is None
        assert telaah.is_recused(case) and not atasan.is_recused(case)
        assert audit.verify(s, keyring=wbs.keyring).ok
    assert case_view(wbs, w, atasan)["recused"] == ["telaah"]
    # who is kept off the case can say who is implicated: the front desk (and the console) do not see it
    assert case_view(wbs, w, None)["recused"] == {"sealed": True}
    assert case_view(wbs, w, wbs.load_actor("pengelola"))["recused"] == {"sealed": True}

    def problems():
        with unit_of_work(wbs.db, write=False) as s:
            return [p.message("en") for p in audit.verify(s, keyring=wbs.keyring).problems]

    table = CaseRecusal.__table__
    with wbs.db.begin() as c:  # someone deletes the recusal behind the trail's back
        c.execute(table.delete().where(table.c.user_id == telaah.user_id))
    assert any("recusals differ" in m for m in problems())
    with wbs.db.begin() as c:  # … or adds one the trail never recorded
        c.execute(
            table.insert().values(case_id=case.id, user_id=telaah.user_id, created_at=wbs.now()),
        )
        c.execute(
            table.insert().values(case_id=case.id, user_id=wbs.load_actor("pengelola").user_id, created_at=wbs.now())
        )
    assert any("recusals differ" in m for m in problems())


def test_counts_order_and_pages_visit_every_case_once(wbs, clock):
    pel = wbs.load_actor("pengelola")
    made = []
    for i in range(7):
        if i % 3 == 0:
            clock.advance(days=1)  # different due dates, and ties between cases filed together
        made.append(complaint(wbs))
    undated = register_entry(wbs)
    made.insert(2, undated)
    wbs.fire(made[4], "mulai_verifikasi", pel)
    with wbs.db.connect() as c:
        rows = c.execute(sa.select(CASES.c.number, CASES.c.next_due_at, CASES.c.id)).all()
    want = [r.number for r in sorted(rows, key=lambda r: (r.next_due_at is None, _utc(r.next_due_at) or 0, r.id))]
    assert want[-1] == undated and len({_utc(r.next_due_at) for r in rows}) < len(rows)  # a NULL, and ties
    for limit in (1, 2, 3, 50):
        got = walk(wbs, "pengelola", "unassigned", limit=limit)
        assert got == want and len(set(got)) == len(got)
    page = queries.page(wbs, pel, "unassigned", limit=50)
    assert [i.next_due_at for i in page.items][-1] is None
    counts = queries.counts(wbs, pel, cap=None)
    for q in queries.QUEUES:
        assert counts[q].count == len(walk(wbs, "pengelola", q)), q
        assert not counts[q].capped
    assert counts["unassigned"].count == 8
    assert queries.counts(wbs, pel)["unassigned"].count == 8  # under the default cap: exact
    capped = queries.counts(wbs, pel, cap=3)["unassigned"]
    assert (capped.count, capped.capped, str(capped)) == (3, True, "3+")
    assert not next_due_consistent(wbs)


def test_due_soon_and_overdue_follow_the_nearest_deadline(wbs, clock):
    pel = wbs.load_actor("pengelola")
    n = complaint(wbs)  # Monday 2 March 09:00 WIB: verifikasi 3 HK, due Thursday 5 March
    item = queries.page(wbs, pel, "unassigned").items[0]
    assert item.due_status == "ok" and item.next_due_at.date() == date(2026, 3, 5)
    assert walk(wbs, "pengelola", "due_soon") == [] and walk(wbs, "pengelola", "overdue") == []
    assert walk(wbs, "pengelola", "due_soon", due_within=3) == [n]
    clock.advance(days=1)  # Tuesday: due within 2 working days
    assert walk(wbs, "pengelola", "due_soon") == [n]
    assert queries.page(wbs, pel, "due_soon").items[0].due_status == "due_soon"
    clock.advance(days=3)  # Friday: past due, not yet swept
    assert walk(wbs, "pengelola", "overdue") == [n] and walk(wbs, "pengelola", "due_soon") == []
    scheduler.sweep(wbs)  # breached: still overdue, next_due_at unchanged
    with unit_of_work(wbs.db, write=False) as s:
        statuses = {c.status for c in s.exec(sa.select(Clock).where(Clock.case_id == wbs.get_case(s, n).id)).scalars()}
    assert statuses == {"breached"}
    assert walk(wbs, "pengelola", "overdue") == [n]
    assert queries.page(wbs, pel, "overdue").items[0].due_status == "overdue"
    assert not next_due_consistent(wbs)
    # the breached clock stops on disposisi; the unit's clocks start: the case is not overdue any more
    to_unit(wbs, n, "LAYANAN")
    assert walk(wbs, "petugas", "overdue") == [] and walk(wbs, "petugas", "unassigned") == [n]
    assert not next_due_consistent(wbs)


def test_next_due_at_follows_every_writer_of_clocks(wbs, clock):
    pel = wbs.load_actor("pengelola")
    n = complaint(wbs)

    def due():
        with wbs.db.connect() as c:
            return _utc(c.execute(sa.select(CASES.c.next_due_at).where(CASES.c.number == n)).scalar())

    first = due()
    assert first is not None and not next_due_consistent(wbs)
    set_holiday(wbs, date(2026, 3, 4), "closed", "Libur kantor")  # inside the window: one working day later
    assert due() > first and not next_due_consistent(wbs)
    wbs.fire(n, "mulai_verifikasi", pel)
    wbs.fire(n, "minta_informasi", pel, {"pesan": "Mohon sebutkan jam kejadiannya."})
    # verifikasi paused, keterangan_pelapor (10 HK) running
    assert due() is not None and due() > first and not next_due_consistent(wbs)
    wbs.fire(n, "tutup_tanpa_jawaban", pel)  # final: every clock stops
    assert due() is None and not next_due_consistent(wbs)
    assert walk(wbs, "pengelola", "unassigned") == []


def test_search_finds_numbers_and_plain_values_never_sealed_ones(wbs):
    pel = wbs.load_actor("pengelola")
    a = complaint(wbs, kategori="tidak_berkadar_pengawasan")
    b = complaint(wbs, kategori="ringan")
    c = complaint(wbs, layanan="Legalisir ijazah", uraian="Petugas meminta uang tambahan di luar tarif resmi loket.")
    r = register_entry(wbs)

    def found(text, **kw):
        return set(walk(wbs, pel, "unassigned", search=text, **kw))

    assert found(a) == {a}
    assert found(a.lower()) == {a}
    tail = a.rsplit("-", 1)[1]  # 000001: the first complaint, and the first register entry (IBK-2026-000001)
    assert found(tail) == {a, r} == found(tail.lstrip("0")) == found("0" + tail.lstrip("0"))
    assert found(a.rsplit("-", 2)[0]) == {a, b, c}  # PGD: the start of every complaint's number
    assert found("barang") == {r} == found("PENGADAAN  barang dan") == found(r)  # plain text (plain: true)
    assert found("berkadar") == {a} == found("Tidak Berkadar")  # from the start of a word, any case
    assert found("ringan") == {b}
    assert found("normatif") == {c}
    assert found("kadar") == set()  # not the start of a word
    sealed_words = ("Siti", "Aminah", "siti@contoh.id", "legalisir", "ijazah", "tambahan", "tarif", "kerabat", "Kepala")
    for sealed in sealed_words:
        assert found(sealed) == set(), sealed
    assert found("!!!") == set() and found("  ") == {a, b, c, r}  # nothing to search for: no filter
    with unit_of_work(wbs.db, write=False) as s:
        terms = {t for (t,) in s.exec(sa.select(CaseTerm.term))}
    assert not [
        t for t in terms if any(w in t for w in ("siti", "legalisir", "tambahan", "contoh", "kerabat", "kepala"))
    ]
    counts = queries.counts(wbs, pel, search="berkadar", cap=None)
    assert counts["unassigned"].count == 1 and counts["mine"].count == 0
    # a queue line holds no field value at all, only what the list shows
    assert {f.name for f in fields(queries.QueueItem)} == {
        "number",
        "case_type",
        "type_label",
        "state",
        "state_label",
        "unit",
        "identity_mode",
        "next_due_at",
        "due_status",
        "assigned_to",
        "version",
    }
    item = queries.page(wbs, pel, "unassigned", search=c).items[0]
    assert "Siti" not in repr(item) and "Legalisir" not in repr(item)
    # a later fire's plain values become searchable, and the old ones of the same field stop matching
    wbs.fire(b, "mulai_verifikasi", pel)
    wbs.fire(b, "disposisi", pel, {"unit_tujuan": "UMUM", "instruksi": "Mohon ditindaklanjuti segera."})
    assert set(walk(wbs, "petugas.umum", "unassigned", search="umum")) == {b}


def test_labels_and_assignee_in_the_items(wbs):
    n = wbs_report(wbs)
    wbs.fire(n, "mulai_verifikasi", wbs.load_actor("telaah"), {"petugas": "telaah"})
    (item,) = queries.page(wbs, wbs.load_actor("telaah"), "mine", lang="en").items
    assert (item.number, item.case_type, item.assigned_to, item.state) == (n, "wbs", "telaah", "verifikasi_kelengkapan")
    assert item.type_label and item.state_label and item.version == 2 and item.identity_mode == "anonim"


def test_bad_requests_are_refused_in_both_languages(wbs):
    pel = wbs.load_actor("pengelola")
    for _ in range(3):
        complaint(wbs)
    cursor = queries.page(wbs, pel, "unassigned", limit=1).next_cursor
    assert cursor
    bad = [
        lambda: queries.page(wbs, pel, "everything"),
        lambda: queries.page(wbs, pel, "unassigned", cursor="not-a-cursor"),
        lambda: queries.page(wbs, pel, "unassigned", cursor=cursor[:-3]),
        lambda: queries.page(wbs, pel, "mine", cursor=cursor),  # another queue's
        lambda: queries.page(wbs, pel, "unassigned", limit=0),
        lambda: queries.page(wbs, pel, "unassigned", limit=queries.MAX_LIMIT + 1),
        lambda: queries.page(wbs, pel, "due_soon", due_within=-1),
        lambda: queries.counts(wbs, pel, cap=0),
    ]
    for call in bad:
        with pytest.raises(queries.QueueError) as err:
            call()
        assert err.value.message("id") != err.value.message("en")
