"""A trail written by ``audit.canonical`` as it was (``rfc8785`` for every value) verifies with the fast
path, and the other way round: the bytes, hence the hashes, are the same (tests/unit/test_canonical.py is the
differential test of the function itself)."""

import pytest
import rfc8785

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.db import unit_of_work

NEW = audit.canonical

ODD_TEXT = 'Pungutan liar — Rp 50.000,5 😀 \u2028 \ue000 \x7f "kutip" \\ garis\tmiring'


def old_canonical(obj):
    try:
        return rfc8785.dumps(audit._norm(obj))
    except rfc8785.CanonicalizationError as exc:
        raise audit.CanonicalError(str(exc)) from exc


def verify(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        return audit.verify(s, keyring=wbs.keyring)


def work(wbs, clock):
    pel = wbs.load_actor("pengelola")
    numbers = []
    for i in range(2):
        clock.advance(minutes=3)
        data = {**COMPLAINT, "uraian": f"{ODD_TEXT} {i}", "layanan": "Layanan ☃ \U0001f600"}
        n = wbs.create_case("pengaduan", data, identity_mode="rahasia").number
        wbs.fire(n, "mulai_verifikasi", pel)
        wbs.fire(n, "minta_informasi", pel, {"pesan": f"Mohon jam kejadiannya {ODD_TEXT}"})
        numbers.append(n)
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    return numbers


@pytest.mark.parametrize("written_by", ["old", "new"])
def test_a_trail_verifies_whichever_function_wrote_it(wbs, clock, monkeypatch, written_by):
    slow = []
    if written_by == "old":
        monkeypatch.setattr(audit, "canonical", lambda obj: slow.append(1) or old_canonical(obj))
    work(wbs, clock)
    assert written_by == "new" or slow  # the old function did write it
    monkeypatch.undo()
    if written_by == "new":
        monkeypatch.setattr(audit, "canonical", old_canonical)
    res = verify(wbs)
    assert res.ok, [p.code for p in res.problems]
    assert res.events > 6
    with unit_of_work(wbs.db, write=False) as s:
        events = list(audit._all_events(s))
    for ev in events:
        body = audit.event_body(ev)
        assert old_canonical(body) == NEW(body)
