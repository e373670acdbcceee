"""One filing, one case (wbs_engine.filing): a form sent twice files one case; unknown, altered, foreign and
expired tokens are refused; simultaneous submissions with one token on PostgreSQL file exactly one case."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.helpers import COMPLAINT
from wbs_engine import filing
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotFound, ValidationFailed, WbsError
from wbs_engine.filing import AlreadyFiled, FilingTokenInvalid
from wbs_engine.models import Case, FilingToken
from wbs_engine.users import ensure_unit


@pytest.fixture
def office(make_wbs, db_url):
    eng = make_wbs(db_url)
    ensure_unit(eng, "PUSAT", "Unit PUSAT")
    return eng


def cases(eng) -> int:
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(select(sa.func.count()).select_from(Case)).one()


def file(eng, token, data=None):
    return eng.create_case("pengaduan", data or COMPLAINT, identity_mode="anonim", idempotency_token=token)


def test_a_form_sent_twice_files_one_case(office):
    token = office.issue_filing_token("pengaduan")
    first = file(office, token)
    with pytest.raises(AlreadyFiled) as err:
        file(office, token)
    assert err.value.number == first.number and cases(office) == 1
    for lang in ("id", "en"):
        text = err.value.message(lang)
        assert first.number in text and first.receipt_code not in text
        assert first.receipt_code.replace("-", "") not in text.replace("-", "")
    assert "sudah diterima" in err.value.message("id") and "shown once" in err.value.message("en")
    assert isinstance(err.value, WbsError)
    with unit_of_work(office.db, write=False) as s:
        row = s.exec(select(FilingToken)).one()
        assert row.case_id == office.get_case(s, first.number).id
        assert token not in row.token_hash and len(row.token_hash) == 64
    # another spelling of the same token (base64 is lenient) is the same token
    body, mac = token.split(".")
    with pytest.raises(AlreadyFiled):
        file(office, f"{body[:5]}!{body[5:]}.{mac}")
    # a fresh token files a second case, and no token at all (the CLI) still works
    assert file(office, office.issue_filing_token("pengaduan")).number != first.number
    assert office.create_case("pengaduan", COMPLAINT, identity_mode="anonim").number
    assert cases(office) == 3


def test_issuing_a_token_writes_nothing(office):
    tokens = {office.issue_filing_token("pengaduan") for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) < 120 for t in tokens)
    with unit_of_work(office.db, write=False) as s:
        assert s.exec(select(FilingToken)).all() == []
    with pytest.raises(NotFound, match="tidak dikenal"):
        office.issue_filing_token("gaib")


def flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


@pytest.mark.parametrize(
    "make",
    [
        lambda t: "",
        lambda t: "bukan-token",
        lambda t: "x" * 500,
        lambda t: t.split(".")[0],
        lambda t: flip(t, 3),  # the random part
        lambda t: flip(t, len(t) - 3),  # the signature
        lambda t: t.split(".")[0] + "." + "A" * 43,
    ],
)
def test_unknown_or_altered_tokens_are_refused(office, make):
    token = make(office.issue_filing_token("pengaduan"))
    with pytest.raises(FilingTokenInvalid) as err:
        file(office, token)
    assert "muat ulang halaman formulir" in err.value.message("id") and "reload the form" in err.value.message("en")
    assert cases(office) == 0


def test_a_token_from_another_keyring_or_for_another_type_is_refused(office):
    from wbs_engine.crypto import Keyring

    foreign = filing.issue(Keyring.generate(), "pengaduan", office.now())
    with pytest.raises(FilingTokenInvalid):
        file(office, foreign)
    with pytest.raises(FilingTokenInvalid, match="tidak dikenali"):
        file(office, office.issue_filing_token("wbs"))
    assert cases(office) == 0


def test_an_expired_token_is_refused_with_what_to_do(office, clock):
    token = office.issue_filing_token("pengaduan")
    clock.advance(hours=23, minutes=59)
    file(office, token)
    late = office.issue_filing_token("pengaduan")
    clock.advance(hours=24)
    with pytest.raises(FilingTokenInvalid) as err:
        file(office, late)
    assert "kedaluwarsa" in err.value.message("id") and "expired" in err.value.message("en")
    assert "already received a tracking code" in err.value.message("en")
    with pytest.raises(FilingTokenInvalid, match="kedaluwarsa"):  # also once used: expiry is checked first
        file(office, token)
    assert cases(office) == 1


def test_a_refused_filing_leaves_its_token_usable(office):
    token = office.issue_filing_token("pengaduan")
    with pytest.raises(ValidationFailed):
        file(office, token, {**COMPLAINT, "kategori": "bukan-pilihan"})
    with unit_of_work(office.db, write=False) as s:
        assert s.exec(select(FilingToken)).all() == []
    assert file(office, token).number and cases(office) == 1


def test_purge_deletes_only_expired_rows(office, clock):
    file(office, office.issue_filing_token("pengaduan"))
    clock.advance(hours=12)
    file(office, office.issue_filing_token("pengaduan"))
    with unit_of_work(office.db) as s:
        assert filing.purge(s, clock.now + timedelta(hours=13)) == 1
    with unit_of_work(office.db, write=False) as s:
        assert len(s.exec(select(FilingToken)).all()) == 1


def race(eng, token: str, n: int) -> list[object]:
    """``n`` threads send the same form at the same moment; each result is a case number or AlreadyFiled."""
    gate = threading.Barrier(n)
    results: list[object] = []

    def submit():
        gate.wait(10)
        try:
            results.append(file(eng, token).number)
        except AlreadyFiled as exc:
            results.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
def test_simultaneous_submissions_with_one_token_file_exactly_one_case(make_wbs, pg_server):
    eng = make_wbs(pg_server.create_database())
    ensure_unit(eng, "PUSAT", "Unit PUSAT")
    eng.create_case("pengaduan", COMPLAINT, identity_mode="anonim")  # warm: workflow registered, keys checked
    for _round in range(3):
        results = race(eng, eng.issue_filing_token("pengaduan"), 6)
        numbers = [r for r in results if isinstance(r, str)]
        refused = [r for r in results if isinstance(r, AlreadyFiled)]
        assert len(results) == 6 and len(numbers) == 1 and len(refused) == 5, results
        assert {r.number for r in refused} == set(numbers)
    assert cases(eng) == 1 + 3
