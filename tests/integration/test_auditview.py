"""The auditor's read models (wbs_engine/auditview.py) on SQLite and PostgreSQL: the search covers open and
closed cases within the auditor's grants only, pages by keyset newest first, filters by type, unit, state and
period; the access list names fields, never values."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import COMPLAINT
from wbs_engine import auditview, views
from wbs_engine.errors import NotAllowed
from wbs_engine.users import create_or_update_user, parse_grant

WBS_REPORT = {
    "kategori": "gratifikasi_suap",
    "apa": "Kepala seksi menerima uang dari rekanan proyek jalan desa agar pemenang lelang diatur.",
    "siapa": "Kepala seksi sarana",
    "nama": "Rahmat Pelapor",
}


def _close(wbs, number):
    p = wbs.load_actor("pengelola")
    wbs.fire(number, "mulai_verifikasi", p, {})
    wbs.fire(number, "arsipkan", p, {}, reason="Bukan pengaduan: hanya pertanyaan umum tentang jadwal layanan.")


def numbers(page):
    return [i.number for i in page.items]


def test_search_covers_open_and_closed_newest_first_in_pages(wbs, clock):
    made = [wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="LAYANAN").number for _ in range(5)]
    _close(wbs, made[1])
    auditor = wbs.load_actor("auditor")
    first = auditview.search_cases(wbs, auditor, limit=2)
    assert numbers(first) == made[::-1][:2] and first.next_cursor
    second = auditview.search_cases(wbs, auditor, limit=2, cursor=first.next_cursor)
    third = auditview.search_cases(wbs, auditor, limit=2, cursor=second.next_cursor)
    assert numbers(first) + numbers(second) + numbers(third) == made[::-1] and third.next_cursor is None
    closed = auditview.search_cases(wbs, auditor, state="diarsipkan")
    assert numbers(closed) == [made[1]] and closed.items[0].final and closed.items[0].closed_at is not None
    # the staff queues list open cases only; the audit search by number finds the closed one too
    assert numbers(auditview.search_cases(wbs, auditor, text=made[1].lower())) == [made[1]]
    assert numbers(auditview.search_cases(wbs, auditor, text="normatif"))[0] == made[-1]


def test_filters_by_type_unit_and_period(wbs, clock):
    a = wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="LAYANAN").number
    clock.advance(days=3)
    b = wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="UMUM").number
    c = wbs.create_case("wbs", WBS_REPORT, identity_mode="rahasia").number
    auditor = wbs.load_actor("auditor")
    assert numbers(auditview.search_cases(wbs, auditor, case_type="wbs")) == [c]
    assert numbers(auditview.search_cases(wbs, auditor, unit="UMUM")) == [b]
    # 2026-03-02 09:00 WIB and 2026-03-05 09:00 WIB: a period of office days, both ends included
    assert numbers(auditview.search_cases(wbs, auditor, filed_from=date(2026, 3, 2), filed_to=date(2026, 3, 2))) == [a]
    assert set(numbers(auditview.search_cases(wbs, auditor, filed_from=date(2026, 3, 5)))) == {b, c}
    with pytest.raises(auditview.AuditSearchError):
        auditview.search_cases(wbs, auditor, filed_from=date(2026, 3, 5), filed_to=date(2026, 3, 1))
    with pytest.raises(auditview.AuditSearchError):
        auditview.search_cases(wbs, auditor, cursor="not-a-cursor")
    with pytest.raises(auditview.AuditSearchError):
        auditview.search_cases(wbs, auditor, text="a\x00b")
    assert auditview.search_cases(wbs, auditor, text="---").items == ()


def test_an_auditor_limited_to_one_unit_sees_that_unit_only(wbs, clock):
    create_or_update_user(wbs, "auditor.umum", [parse_grant("auditor:UMUM")], password="rahasia-demo-123")
    mine = wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="UMUM").number
    other = wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="LAYANAN").number
    limited = wbs.load_actor("auditor.umum")
    assert numbers(auditview.search_cases(wbs, limited)) == [mine]
    assert numbers(auditview.search_cases(wbs, limited, text=other)) == []
    assert numbers(auditview.search_cases(wbs, limited, unit="LAYANAN")) == []
    auditview.ensure_auditor(wbs, mine, limited)
    with pytest.raises(NotAllowed):
        auditview.ensure_auditor(wbs, other, limited)
    with pytest.raises(NotAllowed):
        auditview.access_log(wbs, other, limited)
    # a user without any auditor grant finds nothing and reads no case as an auditor
    assert auditview.search_cases(wbs, wbs.load_actor("pengelola")).items == ()
    with pytest.raises(NotAllowed):
        auditview.ensure_auditor(wbs, mine, wbs.load_actor("pengelola"))


def test_a_type_limited_auditor_and_a_recused_auditor(wbs, clock):
    create_or_update_user(wbs, "auditor.wbs", [parse_grant("auditor::wbs")], password="rahasia-demo-123")
    complaint = wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="UMUM").number
    report = wbs.create_case("wbs", WBS_REPORT, identity_mode="rahasia").number
    assert numbers(auditview.search_cases(wbs, wbs.load_actor("auditor.wbs"))) == [report]
    assert [k for k, _l in auditview.search_filters(wbs, wbs.load_actor("auditor.wbs"))["types"]] == ["wbs"]
    with pytest.raises(NotAllowed):
        auditview.ensure_auditor(wbs, complaint, wbs.load_actor("auditor.wbs"))


def test_the_access_list_names_who_read_which_fields_never_values(wbs, clock):
    n = wbs.create_case("wbs", WBS_REPORT, identity_mode="rahasia").number
    views.case_view(wbs, n, wbs.load_actor("telaah"))
    log = auditview.access_log(wbs, n, wbs.load_actor("auditor"))
    reads = [e for e in log["events"] if e["kind"] == "case_read"]
    assert reads and reads[0]["actor"] == "telaah" and reads[0]["role"] == "tim_telaah"
    assert "apa" in reads[0]["what"]["fields"]
    text = repr(log)
    assert "Rahmat" not in text and "rekanan" not in text
    assert all(e["kind"] in auditview.ACCESS_KINDS for e in log["events"])


def test_whole_check_and_head(wbs, clock):
    from wbs_engine import audit
    from wbs_engine.db import unit_of_work

    wbs.create_case("pengaduan", dict(COMPLAINT), unit_code="UMUM")
    assert auditview.head_text(wbs) is None
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    check = auditview.whole_check(wbs)
    assert check["ok"] and check["events"] >= 1 and check["checkpoints"] == 1
    assert check["head"].startswith(audit.HEAD_PREFIX) and audit.parse_heads(check["head"])[0].signature_ok()
    assert check["key_line"].startswith("wbs-audit-key/1 ")
