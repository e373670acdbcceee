"""Identity on request (wbs_engine/identity.py): a reader of a rahasia report asks, an atasan decides, the
identity opens to that one handler on that one case until the approval expires; every refusal; the trail; and
what the reporter learns (the role, never the name). SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from wbs_engine import audit, identity, tracking
from wbs_engine.db import unit_of_work
from wbs_engine.errors import InvalidTransition, NotAllowed, ValidationFailed
from wbs_engine.models import CaseEvent, IdentityRequest, Outbox
from wbs_engine.users import create_or_update_user, parse_grant
from wbs_engine.views import SEALED, case_view

REASON = "Perlu menghubungi pelapor untuk memastikan dokumen bukti pengadaan."
REPORT = {
    "nama": "Rina Pelapor",
    "email": "rina.pelapor@contoh.id",
    "kategori": "pengadaan",
    "apa": "Panitia pengadaan menerima uang dari penyedia sebelum pengumuman pemenang lelang.",
    "siapa": "Ketua panitia pengadaan",
}


@pytest.fixture
def office(wbs):
    # a reviewer whose username and full name must never reach the reporter
    create_or_update_user(
        wbs, "rudi.h", [parse_grant("tim_telaah")], full_name="Rudi Hartono", email="rudi.h@kantor.test"
    )
    create_or_update_user(wbs, "atasan2", [parse_grant("atasan")], full_name="Atasan Dua", email="atasan2@kantor.test")
    return wbs


def wbs_case(eng, mode="rahasia", **extra):
    data = {**REPORT, **extra}
    if mode == "anonim":
        data = {k: v for k, v in data.items() if k not in ("nama", "email")}
    created = eng.create_case("wbs", data, identity_mode=mode)
    return created


def events(eng, number, kind):
    with unit_of_work(eng.db, write=False) as s:
        return [e for e in audit.chain_events(s, number) if e.kind == kind]


def test_request_approve_open_until_expiry(office, clock):
    eng = office
    c = wbs_case(eng)
    rudi, atasan, inv = (eng.load_actor(u) for u in ("rudi.h", "atasan", "investigator"))
    assert case_view(eng, c.number, rudi)["fields"]["nama"] == SEALED
    assert identity.panel(eng, c.number, rudi)["can_request"] is True

    rid = identity.request_identity(eng, c.number, rudi, REASON)
    # one pending request per user and case
    with pytest.raises(identity.AlreadyRequested):
        identity.request_identity(eng, c.number, rudi, REASON)
    assert case_view(eng, c.number, rudi)["fields"]["nama"] == SEALED  # not before the decision
    # the approvers got a mail, without the reason
    with unit_of_work(eng.db, write=False) as s:
        mails = s.exec(select(Outbox).where(Outbox.kind == "identity_request")).all()
        row = s.get(IdentityRequest, rid)
        assert REASON not in row.reason_enc and row.status == "pending"
    assert {m.recipient for m in mails} == {"atasan@kantor.test", "atasan2@kantor.test"}
    assert all("memastikan dokumen" not in m.body and c.number in m.subject for m in mails)

    # the list: the reason to the requester and the approvers, not to another reader of the report
    assert identity.identity_requests(eng, c.number, rudi)[0]["reason"] == REASON
    assert identity.identity_requests(eng, c.number, atasan)[0]["reason"] == REASON
    listed = identity.identity_requests(eng, c.number, inv)
    assert listed[0]["reason"] is None and listed[0]["requested_by"] == "rudi.h"
    assert [p["id"] for p in identity.pending_for_approver(eng, atasan)] == [rid]
    assert identity.pending_for_approver(eng, rudi) == []

    identity.decide_identity_request(eng, c.number, rid, atasan, True, "Disetujui untuk klarifikasi")
    with pytest.raises(InvalidTransition):  # decided once
        identity.decide_identity_request(eng, c.number, rid, eng.load_actor("atasan2"), False)

    view = case_view(eng, c.number, rudi)
    assert view["fields"]["nama"] == "Rina Pelapor" and view["fields"]["email"] == "rina.pelapor@contoh.id"
    assert len(events(eng, c.number, "identity_opened")) == 1
    # another handler who reads the report: never
    assert case_view(eng, c.number, inv)["fields"]["nama"] == SEALED
    assert identity.panel(eng, c.number, rudi)["granted_until"] is not None

    clock.advance(hours=71)
    assert case_view(eng, c.number, rudi)["fields"]["nama"] == "Rina Pelapor"
    assert len(events(eng, c.number, "identity_opened")) == 2  # each view through the approval
    clock.advance(hours=2)  # 73 h after the approval: expired
    assert case_view(eng, c.number, rudi)["fields"]["nama"] == SEALED
    assert len(events(eng, c.number, "identity_opened")) == 2
    assert identity.identity_requests(eng, c.number, rudi)[0]["status"] == "expired"
    # after expiry a new request may be made
    assert identity.request_identity(eng, c.number, rudi, REASON) != rid

    kinds = [e.kind for e in events(eng, c.number, "identity_requested")]
    assert kinds == ["identity_requested", "identity_requested"]
    decided = events(eng, c.number, "identity_request_decided")[0]
    assert decided.payload["decision"] == "approved" and decided.actor == "atasan"
    assert "Disetujui" not in json.dumps(decided.payload)
    with unit_of_work(eng.db, write=False) as s:
        res = audit.verify(s, keyring=eng.keyring)
    assert res.ok, [str(p) for p in res.problems]


def test_the_reporter_sees_the_role_never_the_name(office):
    eng = office
    c = wbs_case(eng)
    rudi, atasan = eng.load_actor("rudi.h"), eng.load_actor("atasan")
    rid = identity.request_identity(eng, c.number, rudi, REASON)
    identity.decide_identity_request(eng, c.number, rid, atasan, True)
    case_view(eng, c.number, rudi)
    for lang, label in (("id", "Tim telaah"), ("en", "Review team")):
        view = tracking.tracking_view(eng, c.receipt_code, lang)
        opened = view["identity_opened"]
        assert [o["role_label"] for o in opened] == [label] and opened[0]["open"] is True
        assert opened[0]["at"] and opened[0]["until"] > opened[0]["at"]
        text = json.dumps(view, ensure_ascii=False).lower()
        for secret in ("rudi", "hartono", "atasan"):
            assert secret not in text, secret
    # the reporter's e-mails: the role, never who
    with unit_of_work(eng.db, write=False) as s:
        mails = s.exec(select(Outbox).where(Outbox.case_id == eng.get_case(s, c.number).id)).all()
    to_reporter = [m for m in mails if m.recipient.startswith("vault:")]
    assert any(m.kind == "reporter_identity" for m in to_reporter)
    for m in to_reporter:
        text = (m.subject + m.body).lower()
        assert "rudi" not in text and "hartono" not in text and "alasan" not in text
    body = next(m.body for m in to_reporter if m.kind == "reporter_identity")
    assert "Tim telaah" in body and c.number in body
    # the requester's decision mail
    assert any(m.kind == "identity_approved" and m.recipient == "rudi.h@kantor.test" for m in mails)


def test_refusals(office):
    eng = office
    rudi, atasan, atasan2 = (eng.load_actor(u) for u in ("rudi.h", "atasan", "atasan2"))
    # an anonymous case has no identity; an open one is open already
    anon = wbs_case(eng, "anonim")
    with pytest.raises(InvalidTransition) as err:
        identity.request_identity(eng, anon.number, rudi, REASON)
    assert "anonim" in err.value.message("id")
    open_ = wbs_case(eng, "terbuka")
    with pytest.raises(InvalidTransition):
        identity.request_identity(eng, open_.number, rudi, REASON)
    c = wbs_case(eng)
    # a short reason; a reader who does not read the report (the WBS pengelola); no access at all
    with pytest.raises(ValidationFailed):
        identity.request_identity(eng, c.number, rudi, "perlu")
    with pytest.raises(NotAllowed):
        identity.request_identity(eng, c.number, eng.load_actor("pengelola"), REASON)
    with pytest.raises(NotAllowed) as err:
        identity.request_identity(eng, c.number, eng.load_actor("petugas"), REASON)
    assert "may not see" in err.value.message("en")
    # who already sees the identity
    with pytest.raises(InvalidTransition):
        identity.request_identity(eng, c.number, atasan, REASON)
    # a reporter (tracking code) gets the tracking page's answer
    rid = identity.request_identity(eng, c.number, rudi, REASON)
    # a non-approver may not decide; the requester may not withdraw someone else's
    with pytest.raises(NotAllowed):
        identity.decide_identity_request(eng, c.number, rid, eng.load_actor("investigator"), True)
    with pytest.raises(NotAllowed):
        identity.withdraw_identity_request(eng, c.number, rid, eng.load_actor("investigator"))
    # a recused approver: the same refusal as anyone without access
    eng.fire(c.number, "mulai_verifikasi", eng.load_actor("pengelola"), {"petugas": "rudi.h"})
    eng.fire(c.number, "kecualikan_pejabat", atasan, {"pejabat_terkait": "atasan2"}, reason="terlapor atasan2")
    with pytest.raises(NotAllowed) as err:
        identity.decide_identity_request(eng, c.number, rid, atasan2, True)
    assert "may not see" in err.value.message("en")
    assert identity.pending_for_approver(eng, atasan2) == []
    # the requester withdraws; then nothing is left to decide
    identity.withdraw_identity_request(eng, c.number, rid, rudi)
    with pytest.raises(InvalidTransition):
        identity.decide_identity_request(eng, c.number, rid, atasan, True)
    assert [e.kind for e in events(eng, c.number, "identity_request_withdrawn")] == ["identity_request_withdrawn"]
    # a request id of another case is not found on this one
    other = wbs_case(eng)
    rid2 = identity.request_identity(eng, other.number, rudi, REASON)
    with pytest.raises(Exception) as err:
        identity.decide_identity_request(eng, c.number, rid2, atasan, True)
    assert err.value.status == 404


def test_an_approver_never_decides_their_own_request(office):
    """A pengaduan pengelola asks; later the same account is made atasan (so may approve): still not their own."""
    eng = office
    from tests.helpers import COMPLAINT

    create_or_update_user(eng, "dua.peran", [parse_grant("pengelola")], email="dua@kantor.test")
    c = eng.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    asker = eng.load_actor("dua.peran")
    assert case_view(eng, c.number, asker)["fields"]["nama"] == SEALED
    rid = identity.request_identity(eng, c.number, asker, REASON)
    create_or_update_user(eng, "dua.peran", [parse_grant("atasan")])
    with pytest.raises(NotAllowed) as err:
        identity.decide_identity_request(eng, c.number, rid, eng.load_actor("dua.peran"), True)
    assert "own request" in err.value.message("en")
    # the BK type has no identity requests
    bk = eng.create_case(
        "benturan_kepentingan",
        {
            "jalur": "laporan_pihak_lain",
            "jenis": "potensial",
            "sumber": "keluarga",
            "nama_pejabat": "Pejabat X",
            "kegiatan": "Rekrutmen",
            "uraian": "Pejabat X menilai rekrutmen yang diikuti adik kandungnya sendiri.",
            "nama": "Pelapor BK",
        },
        identity_mode="rahasia",
    )
    with pytest.raises(InvalidTransition):
        identity.request_identity(eng, bk.number, eng.load_actor("atasan"), REASON)
    assert identity.panel(eng, bk.number, eng.load_actor("atasan")) is None


def test_events_hold_no_reason_or_note(office):
    eng = office
    c = wbs_case(eng)
    rid = identity.request_identity(eng, c.number, eng.load_actor("rudi.h"), REASON)
    identity.decide_identity_request(eng, c.number, rid, eng.load_actor("atasan"), False, "Belum cukup alasan")
    with unit_of_work(eng.db, write=False) as s:
        rows = s.exec(select(CaseEvent).where(CaseEvent.chain == c.number)).all()
        text = json.dumps([r.payload for r in rows])
        assert "memastikan" not in text and "Belum cukup" not in text
        assert s.get(IdentityRequest, rid).status == "refused"
    assert case_view(eng, c.number, eng.load_actor("rudi.h"))["fields"]["nama"] == SEALED
