"""The staff case page of a case whose content retention destroyed: shown, with the sentence, never an error
(its attachments cannot be listed any more)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.integration.test_retention import add_admin, closed_case
from tests.web.conftest import sign_in
from wbs_engine.retention import ALL_DUE, destroy


def test_the_case_page_of_a_destroyed_case_says_so(web_engine, browser, clock):
    admin = add_admin(web_engine)
    c = closed_case(web_engine, clock, with_file=True)
    clock.now = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)
    destroy(web_engine, ALL_DUE, admin, "JRA Perka ANRI 22/2015")
    sign_in(browser, "pengelola", clock=clock)
    res = browser.get(f"/staf/perkara/{c.number}")
    assert res.status_code == 200
    assert "Isi perkara ini telah dimusnahkan pada akhir masa retensinya" in browser.page
    assert "Siti Aminah" not in browser.page
