"""The satisfaction survey (wbs_engine/survey.py) on SQLite and PostgreSQL: each promise of the module's
docstring, tried the way a reporter, a form, a concurrent double submit and a database writer would break it."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT, run_wbs, seed_people
from wbs_engine import audit, survey
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotFound, ValidationFailed
from wbs_engine.models import AuditHead, Case, CaseEvent, SurveyResponse
from wbs_engine.survey import (
    AlreadyRated,
    SurveyUnavailable,
    category,
    rate_case,
    survey_form,
    survey_results,
    survey_status,
    to_index,
)
from wbs_engine.tracking import tracking_view
from wbs_engine.views import SEALED, case_history, case_view

REPO = Path(__file__).resolve().parents[2]
EV = CaseEvent.__table__
RATINGS = SurveyResponse.__table__
HEADS = AuditHead.__table__
CASES = Case.__table__
ANSWERS = {"prosedur": 4, "waktu": 3, "perilaku": 4, "jawaban": 3, "penanganan": 4}
COMMENT = "Petugas ramah, tetapi jawabannya datang terlambat dua hari."


def closed_complaint(wbs, clock, **complaint):
    """A complaint filed and archived (a final state): its tracking code and number."""
    c = wbs.create_case("pengaduan", {**COMPLAINT, **complaint}, identity_mode="rahasia")
    pel = wbs.load_actor("pengelola")
    clock.advance(minutes=5)
    wbs.fire(c.number, "mulai_verifikasi", pel)
    clock.advance(minutes=5)
    wbs.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    clock.advance(minutes=5)
    return c


def closed_wbs_report(wbs, clock):
    data = {
        "kategori": "korupsi",
        "apa": "Pemotongan honor kegiatan oleh bendahara tanpa dasar yang jelas.",
        "siapa": "Bendahara kegiatan",
    }
    c = wbs.create_case("wbs", data)
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"), {"petugas": "telaah"})
    clock.advance(minutes=5)
    wbs.fire(
        c.number,
        "hentikan",
        wbs.load_actor("telaah"),
        {"informasi_untuk_pelapor": "Laporan tidak memuat cukup keterangan untuk ditelaah."},
        reason="Tidak cukup keterangan.",
    )
    clock.advance(minutes=5)
    return c


def row_of(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        conn = s.connection()
        case_id = conn.execute(sa.select(CASES.c.id).where(CASES.c.number == number)).scalar_one()
        row = conn.execute(sa.select(RATINGS).where(RATINGS.c.case_id == case_id)).first()
        return dict(row._mapping) if row is not None else None


def events_of(wbs, number, kind=None):
    with unit_of_work(wbs.db, write=False) as s:
        stmt = sa.select(EV).where(EV.c.chain == number).order_by(EV.c.seq)
        rows = [dict(r._mapping) for r in s.connection().execute(stmt)]
    return [r for r in rows if kind is None or r["kind"] == kind]


def version_of(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        return wbs.get_case(s, number).version


def verify(wbs, **kw):
    with unit_of_work(wbs.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in wbs.registry.versions(s)}
        res = audit.verify(s, keyring=wbs.keyring, workflows=workflows, **kw)
    return {p.code for p in res.problems}, res


def verify_one(wbs, number):
    with unit_of_work(wbs.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in wbs.registry.versions(s)}
        return audit.verify_case(s, number, keyring=wbs.keyring, workflows=workflows)


# --- who, when, how often --------------------------------------------------------------------------------


def test_rating_before_closure_is_refused_and_writes_nothing(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    wbs.fire(c.number, "mulai_verifikasi", wbs.load_actor("pengelola"))
    before = (version_of(wbs, c.number), len(events_of(wbs, c.number)))
    assert survey_form(wbs, c.receipt_code) is None
    assert survey_status(wbs, c.receipt_code).reason == "not_closed"
    with pytest.raises(SurveyUnavailable) as exc:
        rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    assert exc.value.status == 409 and exc.value.reason == "not_closed" and exc.value.code == "survey_unavailable"
    assert exc.value.message("en") == "The satisfaction survey opens once your report is closed."
    assert exc.value.message("id") == "Survei kepuasan dibuka setelah laporan Anda selesai."
    assert row_of(wbs, c.number) is None and (version_of(wbs, c.number), len(events_of(wbs, c.number))) == before


def test_a_wrong_code_gets_the_tracking_pages_answer(wbs, clock):
    closed_complaint(wbs, clock)
    for call in (
        lambda: survey_form(wbs, "AAAA-BBBB-CCCC-DDDD"),
        lambda: survey_status(wbs, "AAAA-BBBB-CCCC-DDDD"),
        lambda: rate_case(wbs, "AAAA-BBBB-CCCC-DDDD", ANSWERS),
    ):
        with pytest.raises(NotFound) as exc:
            call()
        assert exc.value.message("en") == "Tracking code not found; check how it is written."
    with unit_of_work(wbs.db, write=False) as s:
        assert s.exec(sa.select(sa.func.count()).select_from(RATINGS)).one()[0] == 0


def test_a_closed_case_offers_its_elements_in_the_readers_language(wbs, clock):
    c = closed_complaint(wbs, clock)
    form = survey_form(wbs, c.receipt_code.lower().replace("-", " "), "en")  # written as people write it
    defn = wbs.registry.latest("pengaduan").definition
    assert [e.key for e in form.elements] == defn.survey.keys == list(ANSWERS)
    assert form.elements[2].label == "Staff behaviour" and form.elements[2].help.startswith("Were the staff")
    assert form.scale == [(1, "Not good"), (2, "Less than good"), (3, "Good"), (4, "Very good")]
    indonesian = survey_form(wbs, c.receipt_code, "id")
    assert indonesian.elements[2].label == "Sikap petugas"
    assert [w for _v, w in indonesian.scale] == ["Tidak baik", "Kurang baik", "Baik", "Sangat baik"]
    assert form.to_dict()["comment_field"] == "komentar" and form.to_dict()["comment_max_length"] == 2000
    assert json.dumps(form.to_dict())  # what the web renders is plain JSON


def test_rated_once_a_second_attempt_is_a_clear_409(wbs, clock):
    c = closed_complaint(wbs, clock)
    version = version_of(wbs, c.number)
    rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    assert version_of(wbs, c.number) == version + 1  # the rating is a change of the case
    clock.advance(minutes=1)
    for answers in (ANSWERS, {"prosedur": 1}):  # valid or not, the answer is that it was rated already
        with pytest.raises(AlreadyRated) as exc:
            rate_case(wbs, c.receipt_code, answers, "Sekali lagi")
        assert exc.value.status == 409 and exc.value.code == "already_rated"
        assert exc.value.to_dict("en")["message"] == "You already rated the handling of this report. Thank you."
    assert survey_form(wbs, c.receipt_code) is None and survey_status(wbs, c.receipt_code).reason == "already_rated"
    assert row_of(wbs, c.number)["answers"] == ANSWERS and len(events_of(wbs, c.number, "rated")) == 1
    assert version_of(wbs, c.number) == version + 1


def test_two_ratings_at_the_same_moment_make_one(wbs, clock):
    """A form sent twice at once (two browser tabs): the case's lock orders them, the second is refused."""
    c = closed_complaint(wbs, clock)
    start = threading.Barrier(2)
    results: list = []

    def rate(score):
        start.wait()
        try:
            rate_case(wbs, c.receipt_code, dict.fromkeys(ANSWERS, score))
            results.append("ok")
        except AlreadyRated:
            results.append("already")

    threads = [threading.Thread(target=rate, args=(s,)) for s in (2, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["already", "ok"]
    assert len(events_of(wbs, c.number, "rated")) == 1
    assert verify(wbs)[1].ok


def test_a_case_filed_before_the_survey_existed_keeps_its_version_and_asks_none(make_wbs, db_url, tmp_path, clock):
    """Open cases keep their workflow version: a complaint filed on a version without ``survey:`` is not
    surveyed when it closes after the office added one; a complaint filed afterwards is."""
    wf = tmp_path / "wf"
    wf.mkdir()
    text = (REPO / "workflows" / "pengaduan.yaml").read_text()
    v = int(next(line for line in text.splitlines() if line.startswith("version: ")).split()[1])
    without = text[: text.index("\n# Satisfaction survey")].replace(f"version: {v}\n", f"version: {v - 1}\n", 1)
    (wf / "pengaduan.yaml").write_text(without)
    old_engine = make_wbs(db_url, workflows_dir=wf)
    seed_people(old_engine)
    old = old_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    shutil.copy(REPO / "workflows" / "pengaduan.yaml", wf / "pengaduan.yaml")
    eng = make_wbs(db_url, workflows_dir=wf)
    pel = eng.load_actor("pengelola")
    eng.fire(old.number, "mulai_verifikasi", pel)
    eng.fire(old.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    new = closed_complaint(eng, clock)
    assert survey_form(eng, old.receipt_code) is None
    status = survey_status(eng, old.receipt_code)
    assert (status.offered, status.reason) == (False, "no_survey")
    assert tracking_view(eng, old.receipt_code)["survey"]["offered"] is False
    with pytest.raises(SurveyUnavailable) as exc:
        rate_case(eng, old.receipt_code, ANSWERS)
    assert exc.value.reason == "no_survey" and exc.value.status == 409
    rate_case(eng, new.receipt_code, ANSWERS)  # the new version's case is surveyed
    assert verify(eng)[1].ok


def test_a_destroyed_case_is_not_surveyed(wbs, clock):
    c = closed_complaint(wbs, clock)
    with wbs.db.begin() as conn:
        conn.execute(CASES.update().where(CASES.c.number == c.number).values(data_key=None))
    assert survey_status(wbs, c.receipt_code).reason == "destroyed" and survey_form(wbs, c.receipt_code) is None
    with pytest.raises(SurveyUnavailable):
        rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    assert row_of(wbs, c.number) is None


# --- what is accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, comment, wrong",
    [
        ({"waktu": None}, None, {"waktu": "is required"}),
        ({"waktu": "  "}, None, {"waktu": "is required"}),
        ({"waktu": 0}, None, {"waktu": "from 1 to 4"}),
        ({"waktu": 5, "jawaban": -1}, None, {"waktu": "from 1 to 4", "jawaban": "from 1 to 4"}),
        ({"waktu": "tiga"}, None, {"waktu": "from 1 to 4"}),
        ({"waktu": "3.0"}, None, {"waktu": "from 1 to 4"}),
        ({"waktu": 2.5}, None, {"waktu": "from 1 to 4"}),
        ({"waktu": True}, None, {"waktu": "from 1 to 4"}),  # a bool is an int in Python, never a score
        ({"waktu": [3]}, None, {"waktu": "from 1 to 4"}),
        ({"kecepatan": 4}, None, {"kecepatan": "not a question of this survey"}),
        ({}, "x" * 2001, {"komentar": "at most 2000 characters"}),
        ({}, 42, {"komentar": "must be text"}),
        ({}, "Komentar \udc80 rusak", {"komentar": "must be text"}),
    ],
)
def test_bad_answers_are_refused_per_element_and_write_nothing(wbs, clock, change, comment, wrong):
    c = closed_complaint(wbs, clock)
    version = version_of(wbs, c.number)
    answers = {k: v for k, v in {**ANSWERS, **change}.items() if v is not None}
    with pytest.raises(ValidationFailed) as exc:
        rate_case(wbs, c.receipt_code, answers, comment)
    errors = exc.value.field_errors("en")
    assert set(errors) == set(wrong), errors
    for name, words in wrong.items():
        assert words in errors[name]
    assert exc.value.status == 422 and exc.value.field_errors("id")[next(iter(wrong))] != errors[next(iter(wrong))]
    assert row_of(wbs, c.number) is None and version_of(wbs, c.number) == version
    assert events_of(wbs, c.number, "rated") == [] and survey_status(wbs, c.receipt_code).available


def test_nothing_answered_names_every_element(wbs, clock):
    c = closed_complaint(wbs, clock)
    for answers in ({}, None, "4,4,4,4,4"):
        with pytest.raises(ValidationFailed) as exc:
            rate_case(wbs, c.receipt_code, answers)
        assert set(exc.value.errors) == set(ANSWERS)


def test_many_made_up_answers_get_a_short_refusal(wbs, clock):
    c = closed_complaint(wbs, clock)
    with pytest.raises(ValidationFailed) as exc:
        rate_case(wbs, c.receipt_code, {**ANSWERS, **{f"x{i}": 4 for i in range(1000)}})
    assert len(exc.value.errors) == 5


def test_scores_as_a_form_sends_them_and_an_empty_comment(wbs, clock):
    c = closed_complaint(wbs, clock)
    rate_case(
        wbs, c.receipt_code, {"prosedur": "4", "waktu": " 3 ", "perilaku": 2.0, "jawaban": 1, "penanganan": 4}, "  "
    )
    row = row_of(wbs, c.number)
    assert row["answers"] == {"prosedur": 4, "waktu": 3, "perilaku": 2, "jawaban": 1, "penanganan": 4}
    assert row["comment_enc"] is None and "sealed" not in events_of(wbs, c.number, "rated")[0]["payload"]


# --- where: sealed, in the trail, verified ----------------------------------------------------------------


def test_the_comment_is_sealed_in_the_row_and_the_trail_and_the_scores_are_plain(wbs, clock):
    c = closed_complaint(wbs, clock)
    rate_case(wbs, c.receipt_code, ANSWERS, f"  {COMMENT}\n")
    row = row_of(wbs, c.number)
    (event,) = events_of(wbs, c.number, "rated")
    assert COMMENT not in json.dumps(row, default=str) and COMMENT not in json.dumps(event, default=str)
    assert row["answers"] == ANSWERS and event["payload"]["answers"] == ANSWERS
    assert event["payload"]["sealed"] == row["comment_enc"]  # the same ciphertext: compared without a key
    assert (event["actor"], event["actor_role"], event["payload"]["response_id"]) == ("pelapor", "pelapor", row["id"])
    assert event["payload"]["case_version"] == version_of(wbs, c.number)
    with unit_of_work(wbs.db, write=False) as s:
        key = wbs.case_key(wbs.get_case(s, c.number))
    assert key.open(row["comment_enc"]) == {"comment": COMMENT}  # trimmed
    if wbs.db.dialect.name == "postgresql":  # and not in any text column PostgreSQL keeps
        with wbs.db.connect() as conn:
            dump = conn.execute(sa.text("SELECT string_agg(payload::text, '') FROM case_event")).scalar_one()
        assert COMMENT not in dump


def test_readers_of_the_report_see_the_comment_and_the_read_is_recorded(wbs, clock):
    c = closed_complaint(wbs, clock)
    rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    history = case_history(wbs, c.number, wbs.load_actor("auditor"), lang="en")
    (rated,) = [e for e in history["events"] if e["kind"] == "rated"]
    assert rated["payload"]["comment"] == COMMENT and rated["payload"]["answers"] == ANSWERS
    assert history["check"]["ok"]
    reads = [e for e in events_of(wbs, c.number, "case_read") if e["payload"].get("survey_comment")]
    assert reads and reads[0]["actor"] == "auditor"


def test_who_may_not_read_the_report_sees_the_comment_sealed(wbs, clock):
    c = closed_wbs_report(wbs, clock)
    rate_case(wbs, c.receipt_code, {**ANSWERS, "kerahasiaan": 4}, COMMENT)
    view = case_view(wbs, c.number, wbs.load_actor("pengelola"))  # WBS: the pengelola never reads the report
    (rated,) = [e for e in view["history"] if e["kind"] == "rated"]
    shown = rated["payload"].get("comment", rated["payload"].get("sealed"))  # not opened at all for them
    assert shown == SEALED and COMMENT not in json.dumps(view, default=str)
    assert not [e for e in events_of(wbs, c.number, "case_read") if e["actor"] == "pengelola"]  # nothing read


def test_verify_audit_is_clean_after_rating_and_after_a_checkpoint(wbs, clock):
    c = closed_complaint(wbs, clock)
    other = closed_complaint(wbs, clock)
    rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    rate_case(wbs, other.receipt_code, dict.fromkeys(ANSWERS, 1))
    found, res = verify(wbs, deep=True)
    assert res.ok, [p.message("en") for p in res.problems]
    assert verify_one(wbs, c.number).ok
    clock.advance(minutes=10)
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    assert verify(wbs)[1].ok and verify_one(wbs, c.number).ok


# --- attacks on the ratings by someone who can write the database ------------------------------------------


@pytest.fixture
def rated(wbs, clock):
    """Two rated complaints, one closed and unrated, one open; a signed checkpoint; the trail is clean."""
    a, b, unrated = (closed_complaint(wbs, clock) for _ in range(3))
    rate_case(wbs, a.receipt_code, ANSWERS, COMMENT)
    rate_case(wbs, b.receipt_code, dict.fromkeys(ANSWERS, 2), "Lambat sekali.")
    opened = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    clock.advance(minutes=10)
    with unit_of_work(wbs.db) as s:
        audit.checkpoint(s, wbs.now(), wbs.keyring)
    assert verify(wbs)[1].ok
    return {"a": a, "b": b, "unrated": unrated, "open": opened}


def _case_id(conn, number):
    return conn.execute(sa.select(CASES.c.id).where(CASES.c.number == number)).scalar_one()


@pytest.mark.parametrize(
    "edit",
    [
        {"answers": {**ANSWERS, "perilaku": 1}},  # a low score for staff raised… or lowered
        {"comment_enc": None},  # the comment removed
        "swap_comment",  # another case's comment put in its place
        "move_in_time",  # moved into another period of the recap
    ],
)
def test_an_edited_rating_row_is_found(wbs, rated, edit):
    a, b = rated["a"].number, rated["b"].number
    with wbs.db.begin() as conn:
        if edit == "swap_comment":
            other = conn.execute(sa.select(RATINGS.c.comment_enc).where(RATINGS.c.case_id == _case_id(conn, b)))
            values = {"comment_enc": other.scalar_one()}
        elif edit == "move_in_time":
            at = conn.execute(sa.select(RATINGS.c.created_at).where(RATINGS.c.case_id == _case_id(conn, a)))
            values = {"created_at": at.scalar_one() - timedelta(days=40)}
        else:
            values = edit
        conn.execute(RATINGS.update().where(RATINGS.c.case_id == _case_id(conn, a)).values(**values))
    found, res = verify(wbs)
    assert found == {"survey_mismatch"}
    assert a in res.problems[0].message("en") and "differs from what its trail recorded" in res.problems[0].message(
        "en"
    )
    assert not verify_one(wbs, a).ok


def test_a_deleted_rating_row_is_found(wbs, rated):
    with wbs.db.begin() as conn:
        conn.execute(RATINGS.delete().where(RATINGS.c.case_id == _case_id(conn, rated["b"].number)))
    found, res = verify(wbs)
    assert found == {"survey_missing"} and "its row is gone" in res.problems[0].message("en")


def test_a_forged_rating_row_is_found(wbs, rated):
    """A rating inserted for a closed case nobody rated (to lift the recap)."""
    n = rated["unrated"].number
    with wbs.db.begin() as conn:
        conn.execute(
            RATINGS.insert().values(case_id=_case_id(conn, n), answers=dict.fromkeys(ANSWERS, 4), created_at=wbs.now())
        )
    found, res = verify(wbs)
    assert found == {"survey_unrecorded"} and n in res.problems[0].message("en")
    assert "no rated event" in res.problems[0].message("en")


def test_a_rating_moved_to_another_case_is_found(wbs, rated):
    with wbs.db.begin() as conn:
        conn.execute(
            RATINGS.update()
            .where(RATINGS.c.case_id == _case_id(conn, rated["a"].number))
            .values(case_id=_case_id(conn, rated["unrated"].number))
        )
    assert verify(wbs)[0] == {"survey_missing", "survey_unrecorded"}


def _append(conn, number, payload, at, *, actor="pelapor"):
    """What a writer without the signing key can do after the last checkpoint: append a ``rated`` event with a
    correct hash and move the head (the chain alone then looks intact)."""
    head = conn.execute(sa.select(HEADS).where(HEADS.c.chain == number)).first()
    values = {
        "case_id": _case_id(conn, number),
        "chain": number,
        "seq": head.seq + 1,
        "kind": "rated",
        "trigger": None,
        "from_state": None,
        "to_state": None,
        "actor": actor,
        "actor_role": actor,
        "occurred_at": at,
        "payload": payload,
        "prev_hash": head.hash,
    }
    values["hash"] = audit.event_hash(type("E", (), values))
    conn.execute(EV.insert().values(**values))
    conn.execute(HEADS.update().where(HEADS.c.chain == number).values(seq=values["seq"], hash=values["hash"]))


def _forge(conn, number, answers, at, *, actor="pelapor"):
    """A consistent forgery: the row, its event (hashed and chained), the case's version moved on."""
    case_id = _case_id(conn, number)
    rid = conn.execute(
        RATINGS.insert().returning(RATINGS.c.id).values(case_id=case_id, answers=answers, created_at=at)
    ).scalar_one()
    version = conn.execute(sa.select(CASES.c.version).where(CASES.c.id == case_id)).scalar_one() + 1
    conn.execute(CASES.update().where(CASES.c.id == case_id).values(version=version))
    _append(conn, number, {"response_id": rid, "answers": answers, "case_version": version}, at, actor=actor)


def test_a_consistent_forgery_on_an_open_case_is_found_by_the_workflow(wbs, rated, clock):
    """Row, rehashed event and case version all agree, after the last checkpoint: only the rule that a case
    is rated after closure gives it away."""
    n = rated["open"].number
    with wbs.db.begin() as conn:
        _forge(conn, n, dict.fromkeys(ANSWERS, 4), clock.advance(minutes=1))
    found, res = verify(wbs)
    assert found == {"rating_not_allowed"}
    assert "still open ('diterima')" in res.problems[0].message("en")


@pytest.mark.parametrize(
    "answers, words",
    [
        ({**ANSWERS, "perilaku": 9}, "each from 1 to 4"),
        ({"prosedur": 4}, "each from 1 to 4"),
        ({**ANSWERS, "tambahan": 4}, "each from 1 to 4"),
        ({**ANSWERS, "perilaku": True}, "each from 1 to 4"),
    ],
)
def test_a_consistent_forgery_with_other_scores_is_found(wbs, rated, clock, answers, words):
    with wbs.db.begin() as conn:
        _forge(conn, rated["unrated"].number, answers, clock.advance(minutes=1))
    found, res = verify(wbs)
    assert found == {"rating_not_allowed"} and words in res.problems[0].message("en")


def test_a_second_rated_event_is_found(wbs, rated, clock):
    n = rated["a"].number
    with wbs.db.begin() as conn:
        conn.execute(RATINGS.delete().where(RATINGS.c.case_id == _case_id(conn, n)))
        _forge(conn, n, dict.fromkeys(ANSWERS, 1), clock.advance(minutes=1))
    found, res = verify(wbs)
    assert "rating_not_allowed" in found
    assert any("rated a second time" in p.message("en") for p in res.problems)


def test_a_rated_event_by_someone_else_is_found(wbs, rated, clock):
    """A handler rating the case themselves (through the database), consistently."""
    with wbs.db.begin() as conn:
        _forge(conn, rated["unrated"].number, dict.fromkeys(ANSWERS, 4), clock.advance(minutes=1), actor="pengelola")
    found, res = verify(wbs)
    assert found == {"rating_not_allowed"} and "not rated by the reporter" in res.problems[0].message("en")


def test_an_edited_rated_event_breaks_the_chain(wbs, rated):
    n = rated["a"].number
    with wbs.db.begin() as conn:
        (ev,) = [r for r in conn.execute(sa.select(EV).where(EV.c.chain == n)) if r.kind == "rated"]
        conn.execute(
            EV.update().where(EV.c.id == ev.id).values(payload={**ev.payload, "answers": dict.fromkeys(ANSWERS, 4)})
        )
    assert "event_edited" in verify(wbs)[0]


# --- the recap ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mean, index, letter",
    [
        (Fraction(4), "100.00", "A"),
        (Fraction(35324, 10000), "88.31", "A"),
        (Fraction(35322, 10000), "88.31", "A"),  # 88.305: half up, as published figures are rounded
        (Fraction(3532, 1000), "88.30", "B"),
        (Fraction(30644, 10000), "76.61", "B"),
        (Fraction(3064, 1000), "76.60", "C"),
        (Fraction(13, 5), "65.00", "C"),
        (Fraction(25996, 10000), "64.99", "D"),
        (Fraction(1), "25.00", "D"),
        (Fraction(10, 3), "83.33", "B"),
    ],
)
def test_index_and_category_boundaries(mean, index, letter):
    got = to_index(mean)
    assert str(got) == index and category(got) == letter


def test_category_words_in_both_languages():
    assert [survey.category_label(x, "id") for x in "ABCD"] == ["Sangat baik", "Baik", "Kurang baik", "Tidak baik"]
    assert survey.category_label("A", "en") == "Very good" and survey.category_label(None) is None


def test_results_are_suppressed_below_five_responses(wbs, clock):
    codes = [closed_complaint(wbs, clock).receipt_code for _ in range(5)]
    for code in codes[:4]:
        rate_case(wbs, code, ANSWERS)
    res = survey_results(wbs)
    assert res.suppressed and res.responses is None and res.index is None and res.category is None
    assert all(e.suppressed and e.mean is None for e in res.elements)
    d = res.to_dict("en")
    assert d["note"] == "too few responses (fewer than 5): no figures are shown"
    assert d["responses"] is None and not any(ch.isdigit() for e in d["elements"] for ch in str(e["mean"] or ""))
    rate_case(wbs, codes[4], ANSWERS)
    res = survey_results(wbs)
    assert not res.suppressed and res.responses == 5
    assert survey_results(wbs, min_responses=6).suppressed


def test_results_per_element_index_and_category_on_a_boundary(wbs, clock):
    """Five reporters: every element's mean is 13/5 = 2.6, the index exactly 65.00, category C; one element
    varies to show the means are per element."""
    scores = [3, 3, 3, 2, 2]
    for i, score in enumerate(scores):
        code = closed_complaint(wbs, clock).receipt_code
        rate_case(wbs, code, {**dict.fromkeys(ANSWERS, score), "perilaku": 4 if i else 1})
    res = survey_results(wbs, case_type="pengaduan")
    by_key = {e.key: e for e in res.elements}
    assert [e.key for e in res.elements] == list(ANSWERS)  # in the survey's order
    assert str(by_key["waktu"].mean) == "2.60" and str(by_key["waktu"].index) == "65.00"
    assert by_key["waktu"].category == "C" and by_key["waktu"].responses == 5
    assert str(by_key["perilaku"].mean) == "3.40" and str(by_key["perilaku"].index) == "85.00"
    assert by_key["perilaku"].category == "B"
    # the index weighs the elements equally: (4 × 2.6 + 3.4) / 5 = 2.76 → 69.00
    assert str(res.index) == "69.00" and res.category == "C" and res.responses == 5
    d = res.to_dict("id")
    assert d["category_label"] == "Kurang baik" and d["elements"][2]["label"] == "Sikap petugas"


def test_results_by_period_in_office_time_and_by_type(wbs, clock):
    codes = [closed_complaint(wbs, clock).receipt_code for _ in range(6)]
    wbs_codes = [closed_wbs_report(wbs, clock).receipt_code for _ in range(2)]
    clock.now = clock.now.replace(hour=16, minute=30)  # 23:30 WIB on Monday 2 March: still the 2nd in office time
    for code in codes[:5]:
        rate_case(wbs, code, dict.fromkeys(ANSWERS, 4))
    for code in wbs_codes:
        rate_case(wbs, code, {**dict.fromkeys(ANSWERS, 1), "kerahasiaan": 1})
    clock.advance(hours=1)  # 00:30 WIB on the 3rd
    rate_case(wbs, codes[5], dict.fromkeys(ANSWERS, 1))
    day = date(2026, 3, 2)
    assert survey_results(wbs, case_type="pengaduan", since=day, until=day).responses == 5
    assert survey_results(wbs, case_type="pengaduan", until=day).index == to_index(Fraction(4))
    assert survey_results(wbs, case_type="pengaduan", since=day + timedelta(days=1)).suppressed
    assert survey_results(wbs, case_type="pengaduan").responses == 6
    assert survey_results(wbs, case_type="wbs").suppressed  # two WBS reports: too few to show
    everything = survey_results(wbs, until=day)  # 5 + 2 responses; kerahasiaan only twice: left out
    assert everything.responses == 7
    by_key = {e.key: e for e in everything.elements}
    assert by_key["kerahasiaan"].suppressed and by_key["kerahasiaan"].label.en == "Protection of your identity"
    assert str(by_key["waktu"].mean) == "3.14"  # (5 × 4 + 2 × 1) / 7
    assert everything.index == to_index(Fraction(22, 7))
    assert survey_results(wbs, since=day + timedelta(days=30)).suppressed


def test_bad_recap_requests_are_clear_errors(wbs):
    with pytest.raises(NotFound):
        survey_results(wbs, case_type="tidak_ada")
    with pytest.raises(ValidationFailed) as exc:
        survey_results(wbs, since=date(2026, 3, 2), until=date(2026, 3, 1), min_responses=0)
    assert set(exc.value.errors) == {"since", "min_responses"}
    assert survey_results(wbs, case_type="gratifikasi").suppressed  # a type without a survey: nothing


# --- the tracking page ----------------------------------------------------------------------------------


def test_tracking_view_says_whether_the_survey_can_be_taken_and_was_taken(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    other = closed_complaint(wbs, clock)
    view = tracking_view(wbs, c.receipt_code, "en")["survey"]
    assert view == {
        "offered": True,
        "available": False,
        "taken": False,
        "rated": None,
        "status": "not_closed",
        "note": "The satisfaction survey opens once your report is closed.",
    }
    pel = wbs.load_actor("pengelola")
    wbs.fire(c.number, "mulai_verifikasi", pel)
    wbs.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    view = tracking_view(wbs, c.receipt_code)["survey"]
    assert (view["available"], view["taken"], view["status"], view["note"]) == (True, False, "available", None)
    clock.advance(hours=2)
    rate_case(wbs, c.receipt_code, ANSWERS, COMMENT)
    page = tracking_view(wbs, c.receipt_code)
    view = page["survey"]
    assert (view["available"], view["taken"], view["status"]) == (False, True, "already_rated")
    assert view["rated"]["date"] == "2026-03-02" and view["rated"]["time"] == "11:15"  # office time
    assert view["note"] == "Anda sudah menilai penanganan laporan ini. Terima kasih."
    text = json.dumps(page, ensure_ascii=False)
    assert COMMENT not in text and "answers" not in text and "perilaku" not in text  # never the scores
    assert len(page["steps"]) == len(tracking_view(wbs, other.receipt_code)["steps"])  # not a step of the case
    other_view = tracking_view(wbs, other.receipt_code)["survey"]  # another case is untouched
    assert other_view["available"] and not other_view["taken"]


def test_tracking_view_of_a_type_without_a_survey(wbs, clock):
    c = wbs.create_case(
        "identifikasi_bk",
        {
            "fungsi_utama": "Pengadaan barang dan jasa",
            "risiko": "Pejabat pengadaan memiliki hubungan keluarga dengan penyedia.",
            "sumber_risiko": "keluarga",
            "tingkat_risiko": "sedang",
            "mitigasi": "Pejabat pengadaan diganti untuk paket penyedia tersebut.",
            "penanggung_jawab": "Kepala Subbagian Umum",
        },
        filed_by=wbs.load_actor("pengelola"),
    )
    view = tracking_view(wbs, c.receipt_code, "en")["survey"]
    assert (view["offered"], view["available"], view["status"]) == (False, False, "no_survey")


# --- the command ----------------------------------------------------------------------------------------


def test_cli_survey_results_in_both_languages(make_wbs, tmp_path, clock):
    instance = tmp_path / "instance"
    eng = make_wbs(f"sqlite:///{instance / 'wbs.sqlite3'}")
    seed_people(eng)
    env = {"WBS_INSTANCE_DIR": str(instance), "WBS_DATABASE_URL": ""}
    codes = [closed_complaint(eng, clock).receipt_code for _ in range(5)]
    for code in codes[:4]:
        rate_case(eng, code, dict.fromkeys(ANSWERS, 3))
    res = run_wbs("survey", "results", env=env)
    assert res.exit_code == 0, res.stderr
    assert "responden terlalu sedikit (kurang dari 5)" in res.stdout and "75" not in res.stdout
    rate_case(eng, codes[4], {**dict.fromkeys(ANSWERS, 3), "perilaku": 4})
    res = run_wbs("survey", "results", "--type", "pengaduan", "--since", "2026-03-01", env=env)
    assert res.exit_code == 0, res.stderr
    assert "Survei kepuasan: Pengaduan Masyarakat, sejak 2026-03-01" in res.stdout
    assert "Responden: 5" in res.stdout and "Sikap petugas" in res.stdout
    assert "3,20" in res.stdout and "80,00" in res.stdout  # perilaku: (4 × 3 + 4) / 5
    assert "Indeks kepuasan: 76,00 — mutu C (Kurang baik)" in res.stdout  # (4 × 3 + 3.2) / 5 = 3.04
    en = run_wbs("--lang", "en", "survey", "results", "--until", "2026-03-31", env=env)
    assert "Satisfaction survey: every case type, until 2026-03-31" in en.stdout
    assert "Staff behaviour" in en.stdout and "3.20" in en.stdout
    data = json.loads(run_wbs("survey", "results", "--json", env=env).stdout)
    assert data["responses"] == 5 and data["elements"][0]["key"] == "prosedur"
    bad = run_wbs("survey", "results", "--type", "tidak_ada", env=env)
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    bad = run_wbs("survey", "results", "--since", "kemarin", env=env)
    assert bad.exit_code == 2 and "kemarin" in bad.stderr
    bad = run_wbs("--lang", "en", "survey", "results", "--since", "2026-03-05", "--until", "2026-03-01", env=env)
    assert bad.exit_code == 2 and "must not be after 2026-03-01" in bad.stderr


def test_cli_shows_the_survey_on_the_reporters_page_and_the_rating_in_the_history(make_wbs, tmp_path, clock):
    instance = tmp_path / "instance"
    eng = make_wbs(f"sqlite:///{instance / 'wbs.sqlite3'}")
    seed_people(eng)
    env = {"WBS_INSTANCE_DIR": str(instance), "WBS_DATABASE_URL": ""}
    c = closed_complaint(eng, clock)
    page = run_wbs("--lang", "en", "case", "show", c.number, "--as", f"pelapor:{c.receipt_code}", env=env).stdout
    assert "Satisfaction survey: you can now rate how your report was handled." in page
    rate_case(eng, c.receipt_code, ANSWERS, "Terima kasih\x1b[31m")
    page = run_wbs("--lang", "en", "case", "show", c.number, "--as", f"pelapor:{c.receipt_code}", env=env).stdout
    assert "Satisfaction survey: You already rated the handling of this report. Thank you." in page
    staff = run_wbs("--lang", "en", "case", "show", c.number, "--as", "auditor", env=env).stdout
    assert "scores: prosedur 4, waktu 3, perilaku 4, jawaban 3, penanganan 4" in staff
    assert "comment: Terima kasih␛[31m" in staff  # people's text with its control characters made visible
    assert run_wbs("verify-audit", env=env).exit_code == 0
