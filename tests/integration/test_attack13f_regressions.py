"""Regressions from the attacker's review of the fast write path and canonical JSON (branch attack13f)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work


@pytest.mark.parametrize(
    "form",
    [
        "{d}T{t}",  # ISO 'T' instead of the space
        "{d} {t}+00:00",  # with a zone
        "{d}T{t}Z",
    ],
)
def test_an_event_time_stored_in_another_text_form_is_named_by_verify_audit(make_wbs, tmp_path, form):
    """The hash covers the instant, not the text; SQLite compares times as text, so a writer who restores an
    event's time as ``…T…`` (same instant) would make it sort apart in every time filter. verify-audit and the
    one-case check name it."""
    eng = make_wbs(f"sqlite:///{tmp_path / 'wbs.sqlite3'}")
    c = eng.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    with unit_of_work(eng.db) as s:
        audit.checkpoint(s, eng.now(), eng.keyring)
        conn = s.connection()
        event_id, raw = conn.execute(
            sa.text("SELECT id, occurred_at FROM case_event WHERE chain = :c"), {"c": c.number}
        ).one()
        d, t = raw.split(" ")
        conn.execute(
            sa.text("UPDATE case_event SET occurred_at = :v WHERE id = :i"), {"v": form.format(d=d, t=t), "i": event_id}
        )
    with unit_of_work(eng.db, write=False) as s:
        whole = audit.verify(s, keyring=eng.keyring)
        one = audit.verify_case(s, c.number, keyring=eng.keyring)
    assert [(p.code, p.event_id) for p in whole.problems] == [("event_time_edited", event_id)]
    assert ("event_time_edited", event_id) in [(p.code, p.event_id) for p in one.problems]
    assert c.number in whole.problems[0].message("en")


def test_the_engine_writes_every_event_time_in_the_one_form(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'wbs.sqlite3'}")
    for _ in range(3):
        eng.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    with unit_of_work(eng.db, write=False) as s:
        assert audit.verify(s, keyring=eng.keyring).ok
