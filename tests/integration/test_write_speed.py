"""The write path's speed-ups keep their promises (issue 13 part 7): the in-process cache of unwrapped case
keys (:meth:`wbs_engine.crypto.Keyring.case_key`) never opens a destroyed case, in the process that
destroyed it or in another one whose cache is warm."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import COMPLAINT
from tests.integration.test_retention import add_admin, closed_case
from wbs_engine.crypto import CryptoError, Keyring
from wbs_engine.retention import destroy
from wbs_engine.tracking import tracking_view
from wbs_engine.views import SEALED, case_view


def test_a_destroyed_case_cannot_be_read_through_a_warm_key_cache(wbs, make_wbs, db_url, clock):
    other = make_wbs(db_url)  # a second process: the same database and keyring file, its own caches
    assert other.keyring is not wbs.keyring
    admin = add_admin(wbs)
    c = closed_case(wbs, clock)
    for eng in (wbs, other):  # both caches warm: the case's key unwrapped and kept
        view = case_view(eng, c.number, eng.load_actor("pengelola"), "en")
        assert view["fields"]["uraian"] == COMPLAINT["uraian"] and view["messages"]
        assert tracking_view(eng, c.receipt_code, "en")["messages"]
        assert eng.keyring._unwrapped
    clock.now = datetime(2031, 3, 2, 1, 0, tzinfo=UTC)
    assert destroy(wbs, [c.number], admin, "JRA").count == 1
    for eng in (wbs, other):
        view = case_view(eng, c.number, eng.load_actor("pengelola"), "en")
        assert view["destroyed"] is True and view["fields"]["uraian"] == SEALED and view["messages"] == []
        page = tracking_view(eng, c.receipt_code, "en")
        assert page["destroyed"] is True and all(m["body"] is None for m in page["messages"])


def test_the_key_cache_is_keyed_by_the_wrapped_key_and_bounded():
    ring = Keyring.generate()
    key, wrapped = ring.new_case_key()
    sealed = key.seal({"nama": "Siti"})
    assert ring.case_key(wrapped).open(sealed) == {"nama": "Siti"}
    assert ring.case_key(wrapped) is ring.case_key(wrapped)  # the second unwrap is the cached key
    for bad in (None, ""):  # a destroyed case's key: refused, whatever is cached
        with pytest.raises(CryptoError):
            ring.case_key(bad)
    with pytest.raises(CryptoError):  # another wrapped value (another keyring's) is unwrapped, not looked up
        ring.case_key(Keyring.generate().new_case_key()[1])
    for _ in range(Keyring.UNWRAPPED_CACHE + 5):
        ring.case_key(ring.new_case_key()[1])
    assert len(ring._unwrapped) == Keyring.UNWRAPPED_CACHE and wrapped not in ring._unwrapped
    ring.add_encryption_key()  # a new office key: nothing unwrapped under the old list is kept
    assert not ring._unwrapped


def test_prepared_statements_write_and_read_what_sqlalchemy_does(wbs, clock):
    """db.Prepared runs Core statements on the driver cursor: the same values go in and come out (aware UTC
    datetimes, JSON, booleans, dates) as through ``Connection.execute``, and a stale conditional update
    matches no row."""
    import sqlalchemy as sa

    from wbs_engine import writepath
    from wbs_engine.db import Prepared, unit_of_work

    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    with unit_of_work(wbs.db, write=False) as s:
        mine = writepath.case_for_write(s, c.number)
        theirs = s.connection().execute(sa.select(writepath._cases).where(writepath._cases.c.number == c.number)).one()
        assert {k: getattr(mine, k) for k in writepath.COLUMNS} == dict(theirs._mapping)
        assert mine.created_at.tzinfo is not None and isinstance(mine.data, dict) and mine.final is False
        ids, clocks = writepath.read_clocks(s, mine.id)
        rows = s.connection().execute(sa.select(writepath._clocks).where(writepath._clocks.c.case_id == mine.id))
        assert {r.name: r.counted_from for r in rows} == {n: st.counted_from for n, st in clocks.items()}
    with unit_of_work(wbs.db) as s:
        case = writepath.case_for_write(s, c.number)
        case.data = {**case.data, "kategori": "berat"}
        writepath.write_case(s, case)
        case.version -= 1  # a writer that read the old version: its conditional UPDATE matches nothing
        with pytest.raises(Exception, match=c.number):
            writepath.write_case(s, case)
    with unit_of_work(wbs.db, write=False) as s:
        assert wbs.get_case(s, c.number).data["kategori"] == "berat"
    with pytest.raises(TypeError):  # an expanding IN cannot be compiled once
        Prepared(sa.select(writepath._cases.c.id).where(writepath._cases.c.state.in_(["a", "b"])))._form(wbs.db.dialect)


def test_a_prepared_statement_refuses_a_missing_value_instead_of_writing_null(wbs):
    """A bound parameter the caller leaves out is an error, as through ``Connection.execute``: never a NULL
    written in its place."""
    import sqlalchemy as sa

    from wbs_engine import writepath
    from wbs_engine.db import Prepared, unit_of_work

    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    t = writepath._cases
    stmt = sa.update(t).where(t.c.number == sa.bindparam("n")).values(state=sa.bindparam("s"))
    with unit_of_work(wbs.db) as s, pytest.raises(KeyError, match="'s'"):
        Prepared(stmt).run(s, {"n": c.number})
    with unit_of_work(wbs.db, write=False) as s:
        assert wbs.get_case(s, c.number).state == c.state
