"""The staff's pages (webapp/staff.py): queues, the case page and what is done on it, per role: what each
audience sees and what it cannot do."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import assignment, queries
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case

PASSWORD = "rahasia-demo-123"

WBS_REPORT = {
    "nama": "Budi Santoso",
    "email": "budi@contoh.id",
    "uraian": "RAHASIA-WBS: pejabat pengadaan menerima uang dari penyedia jasa kebersihan gedung.",
}


def sign_in(browser, username):
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": username, "password": PASSWORD})
    assert res.status_code == 303, browser.page
    return browser


@pytest.fixture
def as_user(app):
    from tests.web.conftest import Browser

    def make(username):
        return sign_in(Browser(app), username)

    return make


def complaint(eng, unit="LAYANAN", **data):
    return eng.create_case("pengaduan", {**COMPLAINT, **data}, unit_code=unit)


def version(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(sa.select(Case.version).where(Case.number == number)).scalar_one()


def state(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(sa.select(Case.state).where(Case.number == number)).scalar_one()


def numbers_on(page):
    return set(re.findall(r'class="number" href="/staf/perkara/([A-Z0-9-]+)"', page))


# --- queues ---------------------------------------------------------------------------------------------------


def test_queue_lists_what_the_engine_lists_for_that_user_only(web_engine, as_user):
    layanan = [complaint(web_engine, "LAYANAN").number for _ in range(3)]
    umum = complaint(web_engine, "UMUM").number
    pel = web_engine.load_actor("pengelola")
    for n in [*layanan, umum]:
        web_engine.fire(n, "mulai_verifikasi", pel)
        web_engine.fire(n, "disposisi", pel, {"unit_tujuan": web_engine and ("UMUM" if n == umum else "LAYANAN"),
                                              "instruksi": "Mohon ditindaklanjuti segera."})
    b = as_user("petugas")
    res = b.get("/staf/antrian?q=unassigned")
    assert res.status_code == 200
    expected = {i.number for i in queries.page(web_engine, web_engine.load_actor("petugas"), "unassigned").items}
    assert numbers_on(b.page) == expected == set(layanan)
    assert umum not in b.page  # another unit's case never shows
    # a unit filter the user does not hold is refused, not widened
    res = b.get("/staf/antrian?q=unassigned&unit=UMUM")
    assert res.status_code == 422 and umum not in b.page


def test_queue_search_pages_and_marks(web_engine, as_user):
    made = [complaint(web_engine, layanan=f"Layanan nomor {i}").number for i in range(30)]
    b = as_user("pengelola")
    b.get("/staf/antrian?q=unassigned")
    first = numbers_on(b.page)
    assert len(first) == 25
    nxt = re.search(r'href="([^"]+)" rel="next"', b.page).group(1).replace("&amp;", "&")
    b.get(nxt)
    second = numbers_on(b.page)
    assert len(second) == 5 and not first & second and first | second == set(made)
    prev = re.search(r'href="([^"]+)" rel="prev"', b.page).group(1).replace("&amp;", "&")
    b.get(prev)
    assert numbers_on(b.page) == first
    # search by number
    b.get(f"/staf/antrian?q=unassigned&cari={made[7]}")
    assert numbers_on(b.page) == {made[7]}
    b.get("/staf/antrian?q=unassigned&cari=tidakadasamasekali")
    assert numbers_on(b.page) == set() and "cocok" in b.page
    # a hand-edited cursor: a message, no 500
    res = b.get("/staf/antrian?q=unassigned&c=rusak")
    assert res.status_code == 422
    # marks: text, not colour alone
    b.get("/staf/antrian?q=mine")
    assert "Antrean ini kosong." in b.page or "kosong" in b.page


def test_overdue_mark_is_text(web_engine, as_user, clock):
    n = complaint(web_engine).number
    clock.advance(days=40)
    b = as_user("pengelola")
    b.get("/staf/antrian?q=overdue")
    assert n in numbers_on(b.page)
    assert '<span class="tag overdue">Lewat batas waktu</span>' in b.page
