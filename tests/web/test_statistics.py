"""The public statistics page (/statistik) through Flask's test client: an anonymous visitor gets it in both
languages; counts under five are never printed; no name, text, e-mail or case number of any case appears;
the head shown is the latest checkpoint's; bad years get one clear message, never a 500."""

from __future__ import annotations

import html
import re

import pytest

from tests.integration.test_statistics import SECRET_NAME, SECRET_TEXT, archive, build, complaint
from wbs_engine import audit
from wbs_engine.db import unit_of_work


@pytest.fixture
def filled(web_engine, clock):
    late, on_time = build(web_engine, clock)
    with unit_of_work(web_engine.db) as s:
        cp = audit.checkpoint(s, web_engine.now(), web_engine.keyring)
    return {"late": late, "on_time": on_time, "checkpoint": cp}


def numbers_in_cells(page: str) -> list[str]:
    return [html.unescape(x).strip() for x in re.findall(r"<td>([^<]*)</td>", page)]


@pytest.mark.parametrize("lang, words", [("id", "Statistik publik 2026"), ("en", "Public statistics 2026")])
def test_anonymous_visitor_sees_the_page_in_both_languages(browser, filled, lang, words):
    res = browser.get(f"/statistik?lang={lang}")
    assert res.status_code == 200
    page = browser.page
    assert words in page and f'<html lang="{lang}">' in page
    assert "<script" not in page
    assert "<svg" in page  # the charts are in the page
    # the pengaduan's figures: 24 filed, 13 closed, 54 % within the limits
    assert "24" in numbers_in_cells(page) and "13" in numbers_in_cells(page)
    assert "54%" in page


def test_no_personal_data_or_free_text(browser, filled, web_engine):
    for lang in ("id", "en"):
        browser.get(f"/statistik?lang={lang}")
        page = browser.page
        for secret in (SECRET_NAME, "Kwitansi fiktif", "Tanjungpriok", "siti@contoh.id", "legalisir", "PGD-", "WBS-"):
            assert secret not in page
        for c in filled["late"] + filled["on_time"]:
            assert c.number not in page and c.receipt_code not in page
    assert SECRET_TEXT  # (the texts are in the cases: tests/integration/test_statistics.py build)


def test_small_counts_are_never_printed(browser, filled):
    for lang in ("id", "en"):
        browser.get(f"/statistik?lang={lang}")
        cells = numbers_in_cells(browser.page)
        assert "< 5" in cells
        for text in cells:
            if text.isdigit():
                assert int(text) >= 5, text
        # the two WBS reports: their section has no digit but the year and the limits' words
        wbs_section = browser.page.split('id="jenis-wbs"')[1].split("</section>")[0]
        assert not re.search(r">\s*[0-4]\s*<", wbs_section)
        assert "%" not in wbs_section


def test_a_year_of_few_cases_shows_no_share(browser, web_engine, clock):
    for _ in range(3):
        archive(web_engine, complaint(web_engine).number)
    browser.get("/statistik?lang=en")
    section = browser.page.split('id="jenis-pengaduan"')[1].split("</section>")[0]
    assert "%" not in section and "too few closed cases" in section
    assert not re.search(r"<td>\s*[0-4]\s*</td>", section)


def test_the_head_shown_is_the_latest_checkpoints(browser, filled, web_engine, clock):
    complaint(web_engine)
    clock.advance(minutes=5)
    with unit_of_work(web_engine.db) as s:
        newer = audit.checkpoint(s, web_engine.now(), web_engine.keyring)
    assert newer.seq > filled["checkpoint"].seq
    browser.get("/statistik")
    shown = re.search(r'<pre class="example" id="kepala-audit">([^<]+)</pre>', browser.page).group(1)
    assert html.unescape(shown) == audit.head_line(newer, web_engine.keyring.public_b64)
    assert web_engine.keyring.public_b64 in browser.page
    assert "wbs verify-audit --against FILE" in browser.page


def test_the_year_selector_and_bad_years(browser, filled):
    assert browser.get("/statistik?tahun=2026&lang=en").status_code == 200
    assert '<option value="2026" selected>' in browser.page
    for bad in ("1800", "2999", "abc", "2026.0", "٢٠٢٦", "-1", "9" * 40):
        res = browser.get(f"/statistik?tahun={bad}&lang=en")
        assert res.status_code == 422, bad
        assert "year" in browser.page and "Traceback" not in browser.page


def test_the_landing_page_links_to_it(browser):
    browser.get("/")
    assert 'href="/statistik"' in browser.page
