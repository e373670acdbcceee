"""Identity on request in the staff web (webapp/identity.py): a reviewer asks (a short reason comes back with
what was typed), an atasan approves from the approvers' list, the reviewer's panel says until when, the
reporter's tracking page names the role and never the person; refusals for those without access, a form
without CSRF, a bad decision value."""

from __future__ import annotations

import pytest

from tests.web.conftest import Browser
from wbs_engine.users import create_or_update_user, parse_grant

PASSWORD = "rahasia-demo-123"
REASON = "Perlu menghubungi pelapor untuk memastikan dokumen bukti pengadaan."
REPORT = {
    "nama": "Rina Pelapor",
    "email": "rina.pelapor@contoh.id",
    "kategori": "pengadaan",
    "apa": "Panitia pengadaan menerima uang dari penyedia sebelum pengumuman pemenang lelang.",
    "siapa": "Ketua panitia pengadaan",
}


@pytest.fixture
def office(web_engine):
    create_or_update_user(
        web_engine,
        "rudi.h",
        [parse_grant("tim_telaah")],
        full_name="Rudi Hartono",
        email="rudi.h@kantor.test",
        password=PASSWORD,
    )
    return web_engine


def signed_in(app, username: str) -> Browser:
    b = Browser(app)
    b.get("/staf/masuk")
    res = b.post("/staf/masuk", {"username": username, "password": PASSWORD})
    assert res.status_code == 303, b.page
    b.get("/staf/")
    return b


def test_ask_approve_and_what_the_reporter_sees(app, office):
    created = office.create_case("wbs", REPORT, identity_mode="rahasia")
    n = created.number
    rudi = signed_in(app, "rudi.h")
    page = f"/staf/perkara/{n}/identitas"
    assert rudi.get(page).status_code == 200
    assert 'name="alasan"' in rudi.page and "Minta melihat identitas" in rudi.page
    # the menu link is for approvers only
    assert "/staf/identitas" not in rudi.page.replace(page, "")

    # too short: the form comes back with what was typed and the error, in the reader's language
    res = rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": "perlu", "next": page})
    assert res.status_code == 422
    assert ">perlu</textarea>" in rudi.page and rudi.errors()["alasan"].startswith("tuliskan mengapa")
    # without the CSRF token: refused, nothing written
    res = rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON}, keep_hidden=False)
    assert res.status_code == 400
    rudi.get(page)
    res = rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON, "next": page})
    assert res.status_code == 303 and res.headers["Location"].endswith(page)
    rudi.get(page)
    assert "menunggu keputusan" in rudi.page and REASON in rudi.page and "Tarik permintaan saya" in rudi.page
    # a second request while one is pending: 409 with the engine's message
    res = rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON})
    assert res.status_code == 409 and "tunggu keputusannya" in rudi.page

    boss = signed_in(app, "atasan")
    assert "/staf/identitas" in boss.page  # menu link
    boss.get("/staf/identitas")
    assert n in boss.page and "rudi.h" in boss.page and REASON in boss.page
    req_id = int(boss.page.split(f"/staf/perkara/{n}/identitas/")[1].split("/")[0])
    res = boss.post(f"/staf/perkara/{n}/identitas/{req_id}/putuskan", {"keputusan": "mungkin", "dari": "daftar"})
    assert res.status_code == 422 and "pilih setujui atau tolak" in boss.page
    boss.get("/staf/identitas")
    res = boss.post(
        f"/staf/perkara/{n}/identitas/{req_id}/putuskan", {"keputusan": "setujui", "catatan": "", "dari": "daftar"}
    )
    assert res.status_code == 303 and res.headers["Location"].endswith("/staf/identitas?selesai=disetujui")
    boss.get(res.headers["Location"])
    assert "Permintaan disetujui." in boss.page and "Tidak ada permintaan" in boss.page

    rudi.get(page)
    assert "Permintaan Anda disetujui" in rudi.page and "Rina Pelapor" in rudi.page
    assert "rina.pelapor@contoh.id" in rudi.page
    # another reader of the report: the request's existence, never the identity
    other = signed_in(app, "investigator")
    create_or_update_user(office, "investigator", [parse_grant("tim_telaah")])
    other.get(page)
    assert "Rina Pelapor" not in other.page and "rudi.h" in other.page and REASON not in other.page

    # the reporter's tracking page: the role, when, until when; never who
    reader = Browser(app)
    reader.get("/lacak/")
    reader.post("/lacak/", {"kode": created.receipt_code})
    res = reader.get("/lacak/perkara")
    assert res.status_code == 200 and "Identitas Anda" in reader.page and "Tim telaah" in reader.page
    lowered = reader.page.lower()
    assert "rudi" not in lowered and "hartono" not in lowered and "atasan" not in lowered


def test_who_may_not_ask_or_decide(app, office):
    n = office.create_case("wbs", REPORT, identity_mode="rahasia").number
    # no access at all: the usual refusal
    upg = signed_in(app, "upg")
    assert upg.get(f"/staf/perkara/{n}/identitas").status_code == 403
    upg.get("/staf/")
    assert upg.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON}).status_code == 403
    # the WBS pengelola registers reports but does not read them: no panel, and a request is refused
    front = signed_in(app, "pengelola")
    front.get(f"/staf/perkara/{n}/identitas")
    assert 'name="alasan"' not in front.page
    res = front.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON})
    assert res.status_code == 403
    # an anonymous report: nothing to ask for
    anon = office.create_case(
        "wbs", {k: v for k, v in REPORT.items() if k not in ("nama", "email")}, identity_mode="anonim"
    ).number
    rudi = signed_in(app, "rudi.h")
    rudi.get(f"/staf/perkara/{anon}/identitas")
    assert 'name="alasan"' not in rudi.page and "anonim" in rudi.page
    res = rudi.post(f"/staf/perkara/{anon}/identitas/minta", {"alasan": REASON})
    assert res.status_code == 409
    # the requester cannot decide; a request of another case is not found here; bad ids are 404
    rudi.get(f"/staf/perkara/{n}/identitas")
    rudi.post(f"/staf/perkara/{n}/identitas/minta", {"alasan": REASON})
    rudi.get(f"/staf/perkara/{n}/identitas")
    req_id = int(rudi.page.split(f"/staf/perkara/{n}/identitas/")[1].split("/")[0])
    assert rudi.post(f"/staf/perkara/{n}/identitas/{req_id}/putuskan", {"keputusan": "setujui"}).status_code == 403
    assert rudi.post(f"/staf/perkara/{anon}/identitas/{req_id}/tarik").status_code == 404
    assert rudi.post(f"/staf/perkara/{n}/identitas/abc/tarik").status_code == 404
    # an open redirect through `next` is not possible
    res = rudi.post(f"/staf/perkara/{n}/identitas/{req_id}/tarik", {"next": "https://jahat.example/"})
    assert res.status_code == 303 and res.headers["Location"] == "/staf/"
    # the engine's messages in English with ?lang=en
    rudi.get(f"/staf/perkara/{anon}/identitas?lang=en")
    assert "anonymous" in rudi.page
