"""Attacks on the audit trail by someone who can write to the database but does not hold the signing key.

Each test performs one attack the way a database administrator would (plain SQL on the real SQLite file or
PostgreSQL server, recomputing whatever can be recomputed without the keyring) and asserts that
``audit.verify`` finds it and names it. The limits (changes after the last checkpoint made consistently;
someone holding the signing key) are documented in ``wbs_engine/audit.py`` and ``docs/decisions.md``.
"""

import hashlib
import json
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.helpers import COMPLAINT
from wbs_engine import audit
from wbs_engine.crypto import Keyring
from wbs_engine.db import make_engine, unit_of_work
from wbs_engine.models import AuditCheckpoint, AuditHead, Case, CaseCounter, CaseEvent

EV = CaseEvent.__table__
HEADS = AuditHead.__table__
CPS = AuditCheckpoint.__table__
CASES = Case.__table__
COUNTERS = CaseCounter.__table__
DELETE_ACTIONS = "DELETE FROM clock_action WHERE clock_id IN (SELECT id FROM case_clock WHERE case_id = :c)"


def seal(wbs):
    with unit_of_work(wbs.db) as s:
        cp = audit.checkpoint(s, wbs.now(), wbs.keyring)
    return cp


def codes(wbs, db=None, **kw):
    with unit_of_work(db or wbs.db, write=False) as s:
        res = audit.verify(s, keyring=wbs.keyring, **kw)
    return {p.code for p in res.problems}, res


@pytest.fixture
def pg_or_none(request, db_url):
    return request.getfixturevalue("pg_server") if db_url.startswith("postgresql") else None


@pytest.fixture
def trail(wbs, clock):
    """Three complaints moved along, a signed checkpoint, then a fourth case and more work after it."""
    pel = wbs.load_actor("pengelola")
    numbers = []
    for i in range(3):
        clock.advance(minutes=5)
        n = wbs.create_case("pengaduan", {**COMPLAINT, "layanan": f"Layanan {i}"}, identity_mode="rahasia").number
        wbs.fire(n, "mulai_verifikasi", pel)
        wbs.fire(n, "minta_informasi", pel, {"pesan": "Mohon sebutkan jam kejadiannya."})
        numbers.append(n)
    clock.advance(minutes=10)
    first = seal(wbs)
    clock.advance(minutes=5)
    recent = wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim").number
    wbs.fire(numbers[0], "tutup_tanpa_jawaban", pel)
    assert codes(wbs)[1].ok
    return {"numbers": numbers, "recent": recent, "first": first}


def rows_of(conn, chain):
    return [dict(r._mapping) for r in conn.execute(sa.select(EV).where(EV.c.chain == chain).order_by(EV.c.seq))]


def rehash(conn, chain, *, from_seq=1):
    """What an attacker without the key can do: recompute every hash of a chain from ``from_seq`` on, and
    move its head to match."""
    rows = rows_of(conn, chain)
    prev = audit.GENESIS if from_seq == 1 else rows[from_seq - 2]["hash"]
    for r in rows[from_seq - 1 :]:
        r["prev_hash"] = prev
        r["hash"] = audit.event_hash(type("E", (), r))
        conn.execute(EV.update().where(EV.c.id == r["id"]).values(prev_hash=r["prev_hash"], hash=r["hash"]))
        prev = r["hash"]
    last = rows[-1]
    conn.execute(HEADS.update().where(HEADS.c.chain == chain).values(seq=last["seq"], hash=last["hash"]))


def test_edited_event_is_found_and_named(wbs, trail):
    n = trail["numbers"][1]
    with wbs.db.begin() as conn:
        row = rows_of(conn, n)[1]
        payload = {**row["payload"], "data": {"note": "diubah"}}
        conn.execute(EV.update().where(EV.c.id == row["id"]).values(actor="orang_lain", payload=payload))
    found, res = codes(wbs)
    assert "event_edited" in found
    assert any(p.event_id == row["id"] and n in p.message("en") for p in res.problems)


def test_deleted_middle_event_is_found(wbs, trail):
    n = trail["numbers"][1]
    with wbs.db.begin() as conn:
        conn.execute(EV.delete().where(EV.c.chain == n, EV.c.seq == 2))
    assert "event_missing" in codes(wbs)[0]


def test_deleted_last_event_with_its_head_moved_back_is_found(wbs, trail):
    """Sealed chain: the checkpoint names the deleted event. The case row also says another version."""
    n = trail["numbers"][1]
    with wbs.db.begin() as conn:
        rows = rows_of(conn, n)
        conn.execute(EV.delete().where(EV.c.id == rows[-1]["id"]))
        conn.execute(HEADS.update().where(HEADS.c.chain == n).values(seq=rows[-2]["seq"], hash=rows[-2]["hash"]))
    found, res = codes(wbs)
    assert "sealed_event_gone" in found and "case_row_mismatch" in found
    assert any("ends at #" in p.message("en") for p in res.problems)


def test_unsealed_last_event_deleted_and_head_moved_back_is_found_by_the_case_row(wbs, trail):
    """After the last checkpoint: no seal names the event, but the case row's version and state still say
    it happened."""
    n = trail["numbers"][0]  # its last event (tutup_tanpa_jawaban) came after the checkpoint
    with wbs.db.begin() as conn:
        rows = rows_of(conn, n)
        assert rows[-1]["trigger"] == "tutup_tanpa_jawaban"
        conn.execute(EV.delete().where(EV.c.id == rows[-1]["id"]))
        conn.execute(HEADS.update().where(HEADS.c.chain == n).values(seq=rows[-2]["seq"], hash=rows[-2]["hash"]))
    found, res = codes(wbs)
    assert found == {"case_row_mismatch", "clock_mismatch"}  # the clocks the closing stopped say so too
    assert any("trail ends in 'menunggu_pelapor'" in p.message("en") for p in res.problems)


def test_whole_recent_case_deleted_leaves_a_gap_in_the_numbers(wbs, trail):
    """A case filed after the last checkpoint, deleted with everything that points at it."""
    recent = trail["recent"]
    with wbs.db.begin() as conn:
        case_id = conn.execute(sa.select(CASES.c.id).where(CASES.c.number == recent)).scalar_one()
        for table in ("clock_action", "case_clock", "outbox", "message", "case_term", "case_recusal"):
            if table == "clock_action":
                conn.execute(sa.text(DELETE_ACTIONS), {"c": case_id})
            else:
                conn.execute(sa.text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case_id})
        conn.execute(EV.delete().where(EV.c.chain == recent))
        conn.execute(HEADS.delete().where(HEADS.c.chain == recent))
        conn.execute(CASES.delete().where(CASES.c.id == case_id))
    found, res = codes(wbs)
    assert found == {"number_gap"}
    assert recent in res.problems[0].message("en")


def test_sealed_case_deleted_with_its_counter_turned_back_is_found(wbs, trail):
    """The attacker also lowers the counter so that no gap shows: the checkpoint counted the number."""
    with wbs.db.begin() as conn:
        # delete the newest sealed case and the one after it, then lower the counter to hide both
        for number in (trail["numbers"][2], trail["recent"]):
            case_id = conn.execute(sa.select(CASES.c.id).where(CASES.c.number == number)).scalar_one()
            conn.execute(sa.text(DELETE_ACTIONS), {"c": case_id})
            for table in ("case_clock", "outbox", "message", "case_term", "case_recusal"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE case_id = :c"), {"c": case_id})
            conn.execute(EV.delete().where(EV.c.chain == number))
            conn.execute(HEADS.delete().where(HEADS.c.chain == number))
            conn.execute(CASES.delete().where(CASES.c.id == case_id))
        conn.execute(COUNTERS.update().values(last=COUNTERS.c.last - 2))
    found, _ = codes(wbs)
    assert {"chain_deleted", "counter_rewound"} <= found


def test_swapped_events_are_found(wbs, trail):
    n = trail["numbers"][2]
    with wbs.db.begin() as conn:
        a, b = rows_of(conn, n)[1:3]
        conn.execute(EV.update().where(EV.c.id == a["id"]).values(seq=-1))
        conn.execute(EV.update().where(EV.c.id == b["id"]).values(seq=a["seq"]))
        conn.execute(EV.update().where(EV.c.id == a["id"]).values(seq=b["seq"]))
    assert codes(wbs)[0] & {"event_unlinked", "event_edited", "event_missing"}


@pytest.mark.parametrize("resign", ["keep_old_signatures", "own_key"])
def test_full_rewrite_with_recomputed_hashes_and_resealed_checkpoints_is_found(wbs, trail, resign):
    """The strongest attack without the office's key: change an actor and a reason deep in history, then
    recompute every event hash, every head and every checkpoint hash (re-signed with a key of the
    attacker's own, or left with the old signatures). Every hash now agrees; the signatures do not."""
    n = trail["numbers"][1]
    forged_key = Ed25519PrivateKey.generate()
    with wbs.db.begin() as conn:
        row = rows_of(conn, n)[1]
        conn.execute(EV.update().where(EV.c.id == row["id"]).values(actor="orang_lain"))
        rehash(conn, n)
        prev = audit.GENESIS
        for cp in [dict(r._mapping) for r in conn.execute(sa.select(CPS).order_by(CPS.c.seq))]:
            heads = dict(cp["heads"])
            if n in heads:
                last = rows_of(conn, n)[heads[n][0] - 1]
                heads[n] = [last["seq"], last["hash"]]
            cp.update(heads=heads, prev_hash=prev)
            cp["hash"] = audit.checkpoint_hash(type("C", (), cp))
            values = {"heads": heads, "prev_hash": prev, "hash": cp["hash"]}
            if resign == "own_key":
                forged = Keyring(encryption=[], receipt=b"x" * 32, signing=forged_key)
                values.update(signature=forged.sign(audit.signed_message(cp["hash"])), key_id=forged.key_id)
            conn.execute(CPS.update().where(CPS.c.id == cp["id"]), {**values})
            prev = cp["hash"]
    found, res = codes(wbs)
    assert found == {"checkpoint_signature"}, res.problems
    assert "without the office's signing key" in res.problems[0].message("en")


def test_restored_older_copy_is_found_against_a_head_kept_outside(wbs, trail, db_url, pg_or_none, tmp_path, clock):
    """The database is replaced by a backup taken before later work (or the trail is cut back): everything
    in it verifies, but a head kept outside since then is missing from it."""
    wbs.db.dispose()
    if db_url.startswith("sqlite"):
        path = sa.engine.make_url(db_url).database
        backup_url = f"sqlite:///{tmp_path / 'backup.sqlite3'}"
        shutil.copy(path, tmp_path / "backup.sqlite3")
    else:
        name = sa.engine.make_url(db_url).database
        with make_engine(pg_or_none.admin_url).execution_options(isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(sa.text(f"CREATE DATABASE backup_{name} TEMPLATE {name}"))
        backup_url = pg_or_none.url(f"backup_{name}")
    clock.advance(minutes=5)
    wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")  # work after the backup was taken
    seal(wbs)
    with unit_of_work(wbs.db, write=False) as s:
        kept = audit.parse_heads(audit.head_line(audit.latest_checkpoint(s), wbs.keyring.public_b64))
    assert codes(wbs, against=kept)[1].ok  # the live database agrees with the kept head
    backup = make_engine(backup_url)
    try:
        found, res = codes(wbs, db=backup, against=kept)
        assert found == {"kept_head_missing"}
        assert "older copy" in res.problems[0].message("en")
        assert codes(wbs, db=backup)[1].ok  # without the kept head the old copy looks fine: keep heads outside
    finally:
        backup.dispose()


def test_rewritten_history_resealed_with_the_real_key_is_found_against_a_kept_head(wbs, trail):
    """Someone holding the signing key and the database rewrites and re-signs everything. Only a head kept
    outside before the rewrite can show it, and it does."""
    with unit_of_work(wbs.db, write=False) as s:
        kept = audit.parse_heads(audit.head_line(audit.latest_checkpoint(s), wbs.keyring.public_b64))
    n = trail["numbers"][1]
    with wbs.db.begin() as conn:
        row = rows_of(conn, n)[1]
        conn.execute(EV.update().where(EV.c.id == row["id"]).values(actor="orang_lain"))
        rehash(conn, n)
        prev = audit.GENESIS
        for cp in [dict(r._mapping) for r in conn.execute(sa.select(CPS).order_by(CPS.c.seq))]:
            heads = dict(cp["heads"])
            if n in heads:
                last = rows_of(conn, n)[heads[n][0] - 1]
                heads[n] = [last["seq"], last["hash"]]
            cp.update(heads=heads, prev_hash=prev)
            cp["hash"] = audit.checkpoint_hash(type("C", (), cp))
            sig = wbs.keyring.sign(audit.signed_message(cp["hash"]))
            values = {"heads": heads, "prev_hash": prev, "hash": cp["hash"], "signature": sig}
            conn.execute(CPS.update().where(CPS.c.id == cp["id"]), values)
            prev = cp["hash"]
    assert codes(wbs)[1].ok  # with the key, a rewrite is self-consistent…
    found, res = codes(wbs, against=kept)
    assert found == {"kept_head_mismatch"}  # …but not to a head kept outside before it


@pytest.mark.parametrize(
    "column, value, words",
    [
        ("state", "selesai", "state 'selesai'"),
        ("version", 1, "version 1"),
        ("data", {"kategori": "ringan"}, "plain fields differ"),
        ("final", True, "marked closed"),
        ("sealed_fields", [], "names of its sealed fields"),
        ("unit_code", "UMUM", "unit 'UMUM'"),
        ("identity_mode", "terbuka", "identity mode 'terbuka'"),
    ],
)
def test_case_row_edited_so_it_disagrees_with_its_trail_is_found(wbs, trail, column, value, words):
    n = trail["numbers"][2]
    with wbs.db.begin() as conn:
        conn.execute(CASES.update().where(CASES.c.number == n).values({column: value}))
    defn = wbs.registry.latest("pengaduan").definition
    found, res = codes(wbs, workflows={("pengaduan", defn.version): wbs.registry.latest("pengaduan")})
    text = res.problems[0].message("en")
    assert found == {"case_row_mismatch"} and words in text and n in text


def test_sealed_value_moved_from_another_case_is_found_with_deep(wbs, trail):
    a, b = trail["numbers"][1], trail["numbers"][2]
    with wbs.db.begin() as conn:
        blob = conn.execute(sa.select(CASES.c.confidential_enc).where(CASES.c.number == a)).scalar_one()
        conn.execute(CASES.update().where(CASES.c.number == b).values(confidential_enc=blob))
    assert codes(wbs)[1].ok  # without the keys a swapped ciphertext cannot be seen…
    found, res = codes(wbs, deep=True)
    assert found == {"case_row_mismatch"} and "cannot be checked" in res.problems[0].message("en")  # …with them it can


def test_payload_that_is_not_json_is_a_broken_event_not_a_traceback(wbs, trail, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's json type refuses invalid JSON itself")
    n = trail["numbers"][1]
    with wbs.db.begin() as conn:
        row = rows_of(conn, n)[1]
        conn.exec_driver_sql("UPDATE case_event SET payload = '{\"data\": ' WHERE id = ?", (row["id"],))
    found, res = codes(wbs)
    assert "event_unreadable" in found and "not valid JSON" in res.problems[0].message("en")
    from wbs_engine.views import case_view

    history = case_view(wbs, n, wbs.load_actor("pengelola"))["history"]  # the case page still opens
    assert history[1]["broken"] and history[1]["payload"] == {}


def test_back_dated_event_is_found(wbs, trail, clock):
    """An unsealed event moved to before the one it follows, its hash and head recomputed."""
    n = trail["numbers"][0]
    with wbs.db.begin() as conn:
        rows = rows_of(conn, n)
        earlier = rows[0]["occurred_at"] - timedelta(hours=1)
        conn.execute(EV.update().where(EV.c.id == rows[-1]["id"]).values(occurred_at=earlier))
        rehash(conn, n, from_seq=len(rows))
    found, res = codes(wbs)
    assert "time_backwards" in found


def test_jcs_hashes_can_be_recomputed_by_an_outside_tool(wbs, trail):
    """docs/audit-format.md: SHA-256 over RFC 8785 JSON of the event's fields; recomputed here without the
    engine's helpers, from the row as stored."""
    import rfc8785

    with wbs.db.connect() as conn:
        row = rows_of(conn, trail["numbers"][0])[1]
    body = {
        "case_id": row["case_id"],
        "chain": row["chain"],
        "seq": row["seq"],
        "kind": row["kind"],
        "trigger": row["trigger"],
        "from": row["from_state"],
        "to": row["to_state"],
        "actor": row["actor"],
        "role": row["actor_role"],
        "at": row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        "payload": row["payload"],
        "prev": row["prev_hash"],
    }
    assert hashlib.sha256(rfc8785.dumps(body)).hexdigest() == row["hash"]
    assert json.loads(rfc8785.dumps(body)) == body


def test_nan_has_no_canonical_form():
    with pytest.raises(audit.CanonicalError):
        audit.canonical({"x": float("nan")})
    with pytest.raises(audit.CanonicalError):
        audit.canonical({"x": float("inf")})
