"""The JSON API (/api/v1) and the token page: every endpoint's happy path and its refusal, tokens that do not
work (none, unknown, revoked, expired), a browser session that never works, CSRF not needed with a token,
what a unit officer's token can and cannot read, and one JSON error shape everywhere."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from tests.helpers import COMPLAINT
from wbs_engine import apitokens, audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import ApiToken, RoleGrant, User

API = "/api/v1"
PASSWORD = "rahasia-demo-123"


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def tokens(web_engine):
    made = {}

    def token_of(username: str) -> str:
        if username not in made:
            made[username] = apitokens.create_token(web_engine, username, "uji")
        return made[username]

    return token_of


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def case(web_engine):
    """A rahasia pengaduan sent to unit LAYANAN (the pengelola verified it and disposed it)."""
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pengelola = web_engine.load_actor("pengelola")
    web_engine.fire(made.number, "mulai_verifikasi", pengelola)
    web_engine.fire(
        made.number,
        "disposisi",
        pengelola,
        {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti segera."},
    )
    return made.number


def events(eng, number, kind):
    with unit_of_work(eng.db, write=False) as s:
        return [e for e in audit.chain_events(s, number) if e.kind == kind]


def error_shape(res, status, code):
    assert res.status_code == status, res.get_data(as_text=True)
    assert res.mimetype == "application/json"
    body = res.get_json()
    assert set(body) == {"code", "message", "params"} and body["code"] == code and body["message"]
    return body


# --- authentication -------------------------------------------------------------------------------------------


def test_no_token_unknown_revoked_or_expired_is_401(web_engine, client, tokens, clock):
    good = tokens("pengelola")
    assert client.get(f"{API}/queues", headers=bearer(good)).status_code == 200
    for headers in (
        {},
        {"Authorization": good},  # without the scheme
        {"Authorization": f"Basic {good}"},
        bearer("wbs_" + "A" * 40),
        bearer(good[:-1]),
    ):
        res = client.get(f"{API}/queues", headers=headers)
        body = error_shape(res, 401, "unauthorized")
        assert res.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token" in body["message"].lower()
    token_id = apitokens.list_tokens(web_engine, "pengelola")[0].id
    apitokens.revoke_token(web_engine, "pengelola", token_id)
    error_shape(client.get(f"{API}/queues", headers=bearer(good)), 401, "unauthorized")
    short = apitokens.create_token(web_engine, "pengelola", "sebentar", days=1)
    assert client.get(f"{API}/queues", headers=bearer(short)).status_code == 200
    clock.advance(days=1)
    error_shape(client.get(f"{API}/queues", headers=bearer(short)), 401, "unauthorized")


def test_a_browser_session_alone_never_works(browser, case):
    browser.get("/staf/masuk")
    assert browser.post("/staf/masuk", {"username": "pengelola", "password": PASSWORD}).status_code == 303
    assert browser.get("/staf/").status_code == 200  # signed in
    error_shape(browser.client.get(f"{API}/queues"), 401, "unauthorized")
    error_shape(browser.client.get(f"{API}/cases/{case}"), 401, "unauthorized")
    # a page on another site can make the browser POST with its cookies (and even a CSRF token it never has):
    res = browser.client.post(
        f"{API}/cases/{case}/messages",
        json={"body": "Dikirim dari halaman lain"},
        headers={"X-CSRFToken": browser.hidden().get("csrf_token", "")},
    )
    error_shape(res, 401, "unauthorized")


def test_no_csrf_token_is_needed_with_a_token(web_engine, client, tokens, case):
    res = client.post(
        f"{API}/cases/{case}/messages", json={"body": "Mohon dokumen pendukung."}, headers=bearer(tokens("pengelola"))
    )
    assert res.status_code == 201 and isinstance(res.get_json()["id"], int)


def test_other_blueprints_still_need_csrf(browser):
    browser.get("/staf/masuk")
    browser.post("/staf/masuk", {"username": "pengelola", "password": PASSWORD})
    res = browser.post("/staf/akun/token/", {"name": "x", "days": "90"}, keep_hidden=False)
    assert res.status_code == 400


# --- scope: a token sees what its user may see ---------------------------------------------------------------


def test_a_unit_officers_token_reads_its_units_case_only(web_engine, client, tokens, case):
    mine = client.get(f"{API}/cases/{case}", headers=bearer(tokens("petugas")))
    assert mine.status_code == 200 and mine.get_json()["unit"] == "LAYANAN"
    other = client.get(f"{API}/cases/{case}", headers=bearer(tokens("petugas.umum")))
    body = error_shape(other, 403, "not_allowed")
    text = other.get_data(as_text=True)
    assert "tindak_lanjut" not in text and "disposisi" not in text and "LAYANAN" not in text
    assert body["params"] == {"user": "petugas.umum", "number": case}
    for path in ("history", "actions", "messages", "attachments"):
        error_shape(
            client.get(f"{API}/cases/{case}/{path}", headers=bearer(tokens("petugas.umum"))), 403, "not_allowed"
        )
    res = client.post(
        f"{API}/cases/{case}/fire",
        json={"trigger": "terima_disposisi", "expected_version": 3},
        headers=bearer(tokens("petugas.umum")),
    )
    error_shape(res, 403, "not_allowed")
    # not in their queues either
    page = client.get(f"{API}/queues/unassigned", headers=bearer(tokens("petugas.umum"))).get_json()
    assert case not in [i["number"] for i in page["items"]]


def test_a_revoked_grant_takes_effect_for_the_token_at_once(web_engine, client, tokens, case):
    token = tokens("petugas")
    assert client.get(f"{API}/cases/{case}", headers=bearer(token)).status_code == 200
    with unit_of_work(web_engine.db) as s:
        user = s.exec(select(User).where(User.username == "petugas")).one()
        for g in s.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all():
            s.delete(g)
    error_shape(client.get(f"{API}/cases/{case}", headers=bearer(token)), 403, "not_allowed")


def test_sealed_fields_only_for_the_roles_the_workflow_names(client, tokens, case):
    handler = client.get(f"{API}/cases/{case}", headers=bearer(tokens("pengelola"))).get_json()
    assert handler["fields"]["nama"] == {"sealed": True}  # rahasia: the identity is for the atasan only
    assert handler["fields"]["uraian"] == COMPLAINT["uraian"]  # the report's text: the handlers read it
    assert COMPLAINT["nama"] not in str(handler)
    atasan = client.get(f"{API}/cases/{case}", headers=bearer(tokens("atasan"))).get_json()
    assert atasan["fields"]["nama"] == COMPLAINT["nama"]


# --- endpoints ------------------------------------------------------------------------------------------------


def test_queues_counts_and_pages(web_engine, client, tokens, case):
    for _ in range(3):
        web_engine.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    h = bearer(tokens("pengelola"))
    counts = client.get(f"{API}/queues", headers=h).get_json()["queues"]
    assert [c["queue"] for c in counts] == ["mine", "unassigned", "due_soon", "overdue"]
    assert next(c for c in counts if c["queue"] == "unassigned")["count"] == 3
    assert client.get(f"{API}/queues?type=gratifikasi", headers=h).get_json()["queues"][1]["count"] == 0
    first = client.get(f"{API}/queues/unassigned?limit=2", headers=h).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    item = first["items"][0]
    assert set(item) >= {"number", "state", "version", "due_status", "next_due_at"} and "fields" not in item
    second = client.get(
        f"{API}/queues/unassigned", query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=h
    )
    numbers = [i["number"] for i in first["items"] + second.get_json()["items"]]
    assert len(set(numbers)) == 3 and second.get_json()["next_cursor"] is None
    error_shape(client.get(f"{API}/queues/semua", headers=h), 422, "queue_error")
    body = error_shape(client.get(f"{API}/queues/mine?limit=0", headers=h), 422, "invalid_input")
    assert "limit" in body["params"]["fields"]
    error_shape(client.get(f"{API}/queues/mine?cursor=bukan-kursor", headers=h), 422, "queue_error")


def test_case_history_and_actions(client, tokens, case):
    h = bearer(tokens("petugas"))
    view = client.get(f"{API}/cases/{case}", headers=h).get_json()
    assert view["number"] == case and view["state"] == "disposisi" and view["version"] >= 1
    history = client.get(f"{API}/cases/{case}/history", headers=h).get_json()
    assert [e["kind"] for e in history["events"]][:3] == ["created", "transition", "transition"]
    assert history["check"]["ok"] is True
    actions = client.get(f"{API}/cases/{case}/actions", headers=h).get_json()["actions"]
    assert [a["trigger"] for a in actions] == ["terima_disposisi"]
    pengelola = client.get(f"{API}/cases/{case}/actions", headers=bearer(tokens("atasan"))).get_json()["actions"]
    assert pengelola == []  # the atasan has nothing to do while the unit holds it
    error_shape(client.get(f"{API}/cases/PGD-2026-999999", headers=h), 404, "not_found")


def test_actions_carry_the_field_specs(web_engine, client, tokens):
    made = web_engine.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    web_engine.fire(made.number, "mulai_verifikasi", web_engine.load_actor("pengelola"))
    actions = client.get(f"{API}/cases/{made.number}/actions", headers=bearer(tokens("pengelola"))).get_json()[
        "actions"
    ]
    disposisi = next(a for a in actions if a["trigger"] == "disposisi")
    fields = {f["name"]: f for f in disposisi["fields"]}
    assert fields["unit_tujuan"]["required"] and fields["instruksi"]["min_length"] == 10
    assert {"value": "LAYANAN", "label": "Unit LAYANAN"} in fields["unit_tujuan"]["options"] or fields["unit_tujuan"][
        "type"
    ] == "unit"
    assert next(a for a in actions if a["trigger"] == "arsipkan")["reason"] is True


def test_fire_happy_stale_invalid_and_not_allowed(web_engine, client, tokens, case):
    h = bearer(tokens("petugas"))
    version = client.get(f"{API}/cases/{case}", headers=h).get_json()["version"]
    res = client.post(
        f"{API}/cases/{case}/fire", json={"trigger": "terima_disposisi", "expected_version": version}, headers=h
    )
    assert res.status_code == 200, res.get_json()
    fired = res.get_json()
    assert fired["to_state"] == "tindak_lanjut" and fired["version"] == version + 1 and fired["role"] == "unit"
    # the same form again: the case moved on
    stale = client.post(
        f"{API}/cases/{case}/fire",
        json={
            "trigger": "catat_tindak_lanjut",
            "data": {"catatan_tindak_lanjut": "Sudah dipanggil petugasnya."},
            "expected_version": version,
        },
        headers=h,
    )
    body = error_shape(stale, 409, "changed_meanwhile")
    assert body["params"] == {"number": case}
    assert events(web_engine, case, "transition")[-1].trigger == "terima_disposisi"  # nothing written
    # a required field missing: 422 with the field, in the asked language
    bad = client.post(
        f"{API}/cases/{case}/fire",
        json={
            "trigger": "catat_tindak_lanjut",
            "data": {"catatan_tindak_lanjut": "pendek"},
            "expected_version": version + 1,
        },
        headers={**h, "Accept-Language": "en-GB,en;q=0.9"},
    )
    body = error_shape(bad, 422, "invalid_input")
    assert "catatan_tindak_lanjut" in body["params"]["fields"] and "Invalid data" in body["message"]
    # a role that may not: 403; an unknown action: 409
    error_shape(
        client.post(
            f"{API}/cases/{case}/fire",
            json={"trigger": "jawab", "data": {}, "expected_version": version + 1},
            headers=bearer(tokens("auditor")),
        ),
        403,
        "not_allowed",
    )
    error_shape(
        client.post(
            f"{API}/cases/{case}/fire", json={"trigger": "terbang", "expected_version": version + 1}, headers=h
        ),
        409,
        "invalid_transition",
    )
    # a body that does not match the description: 422 with each field
    body = error_shape(client.post(f"{API}/cases/{case}/fire", json={"trigger": 5}, headers=h), 422, "invalid_input")
    assert set(body["params"]["fields"]) == {"trigger", "expected_version"}
    assert body["params"]["fields"]["expected_version"] == "wajib diisi"


def test_messages_get_and_post(web_engine, client, tokens, case):
    h = bearer(tokens("pengelola"))
    res = client.post(f"{API}/cases/{case}/messages", json={"body": "Mohon kirimkan bukti pembayaran."}, headers=h)
    assert res.status_code == 201
    got = client.get(f"{API}/cases/{case}/messages", headers=h).get_json()["messages"]
    assert [m["body"] for m in got] == ["Mohon kirimkan bukti pembayaran."] and got[0]["to_reporter"] is True
    body = error_shape(client.post(f"{API}/cases/{case}/messages", json={"body": "x"}, headers=h), 422, "invalid_input")
    assert "pesan" in body["params"]["fields"]
    error_shape(
        client.post(
            f"{API}/cases/{case}/messages",
            json={"body": "Halo dari unit lain."},
            headers=bearer(tokens("petugas.umum")),
        ),
        403,
        "not_allowed",
    )
    error_shape(
        client.post(
            f"{API}/cases/{case}/messages", data="{bukan json", headers={**h, "Content-Type": "application/json"}
        ),
        400,
        "bad_request",
    )


def test_attachments_upload_list_download(web_engine, client, tokens, case):
    h = bearer(tokens("petugas"))
    res = client.post(
        f"{API}/cases/{case}/attachments",
        data={"file": (io.BytesIO(b"Berita acara klarifikasi.\n"), "berita acara.txt")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert res.status_code == 201, res.get_json()
    info = res.get_json()
    assert info["filename"] == "berita acara.txt" and info["content_type"].startswith("text/plain")
    listed = client.get(f"{API}/cases/{case}/attachments", headers=h).get_json()["attachments"]
    assert [a["id"] for a in listed] == [info["id"]]
    got = client.get(f"{API}/cases/{case}/attachments/{info['id']}", headers=h)
    assert got.status_code == 200 and got.data == b"Berita acara klarifikasi.\n"
    assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''berita%20acara.txt"
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Cache-Control"] == "no-store"
    assert [e.payload["attachment_id"] for e in events(web_engine, case, "attachment_opened")] == [info["id"]]
    # refusals: another unit, a file that is not what it says, no file at all
    error_shape(
        client.get(f"{API}/cases/{case}/attachments/{info['id']}", headers=bearer(tokens("petugas.umum"))),
        403,
        "not_allowed",
    )
    assert events(web_engine, case, "attachment_refused")
    bad = client.post(
        f"{API}/cases/{case}/attachments",
        data={"file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "surat.pdf")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert error_shape(bad, 422, "invalid_input")["params"]["fields"]
    missing = client.post(f"{API}/cases/{case}/attachments", data={}, headers=h, content_type="multipart/form-data")
    assert "file" in error_shape(missing, 422, "invalid_input")["params"]["fields"]


# --- errors and the description -------------------------------------------------------------------------------


def test_errors_are_json_in_the_asked_language(client, tokens):
    h = bearer(tokens("pengelola"))
    id_ = error_shape(client.get(f"{API}/tidak-ada", headers=h), 404, "not_found")
    en = error_shape(client.get(f"{API}/tidak-ada?lang=en", headers=h), 404, "not_found")
    assert en["message"] == "There is no such address in the API." and id_["message"] != en["message"]
    assert error_shape(client.get(f"{API}/tidak-ada", headers={**h, "Accept-Language": "en"}), 404, "not_found") == en
    error_shape(client.get(f"{API}/tidak-ada"), 404, "not_found")  # no route: said without a token too
    res = client.delete(f"{API}/queues", headers=h)
    error_shape(res, 405, "method_not_allowed")
    assert "GET" in res.headers["Allow"]
    unauth = error_shape(client.get(f"{API}/queues", headers={"Accept-Language": "en"}), 401, "unauthorized")
    assert unauth["message"] == "A valid API token is required."
    # the pages keep their HTML errors
    page = client.get("/tidak-ada")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_bug_is_a_json_500_without_a_trace(app, client, tokens, monkeypatch):
    from wbs_engine import queries

    def broken(*a, **k):
        raise RuntimeError("rahasia internal")

    monkeypatch.setattr(queries, "counts", broken)
    res = client.get(f"{API}/queues", headers=bearer(tokens("pengelola")))
    body = error_shape(res, 500, "server_error")
    assert "rahasia internal" not in res.get_data(as_text=True) and "Traceback" not in res.get_data(as_text=True)
    assert body["params"] == {}


def test_the_description_is_public_and_generated(client):
    res = client.get(f"{API}/openapi.json")
    assert res.status_code == 200
    spec = res.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    paths = set(spec["paths"])
    assert {
        "/api/v1/queues",
        "/api/v1/queues/{queue}",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/history",
        "/api/v1/cases/{number}/actions",
        "/api/v1/cases/{number}/fire",
        "/api/v1/cases/{number}/messages",
        "/api/v1/cases/{number}/attachments",
        "/api/v1/cases/{number}/attachments/{attachment_id}",
    } <= paths
    fire = spec["components"]["schemas"]["Fire"]
    assert set(fire["required"]) == {"trigger", "expected_version"}
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"code", "message", "params"}


# --- the token page -----------------------------------------------------------------------------------------


def _sign_in(browser, username="pengelola"):
    browser.get("/staf/masuk")
    assert browser.post("/staf/masuk", {"username": username, "password": PASSWORD}).status_code == 303


def test_the_token_page_makes_shows_once_and_revokes(web_engine, browser):
    assert browser.get("/staf/akun/token/").status_code == 303  # signed out: to the sign-in page
    _sign_in(browser)
    page = browser.get("/staf/akun/token/")
    assert page.status_code == 200 and "Token API" in browser.page or "token" in browser.page.lower()
    assert 'href="/staf/akun/token/"' in browser.page  # in the staff menu
    res = browser.post("/staf/akun/token/", {"name": "skrip laporan", "days": "30"})
    assert res.status_code == 201 and res.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(wbs_[A-Za-z0-9_-]{40})"', browser.page).group(1)
    assert browser.app.test_client().get(f"{API}/queues", headers=bearer(token)).status_code == 200
    again = browser.get("/staf/akun/token/")
    assert again.status_code == 200 and token not in browser.page and token[:12] in browser.page
    assert "skrip laporan" in browser.page
    with unit_of_work(web_engine.db, write=False) as s:
        row = s.exec(select(ApiToken)).one()
    assert (row.expires_at - row.created_at).days == 30
    res = browser.post(f"/staf/akun/token/{row.id}/cabut")
    assert res.status_code == 303
    browser.get(res.headers["Location"])
    assert "dicabut" in browser.page
    assert browser.app.test_client().get(f"{API}/queues", headers=bearer(token)).status_code == 401


def test_the_token_page_refuses_bad_input_and_others_tokens(web_engine, browser):
    other = apitokens.create_token(web_engine, "petugas", "milik petugas")
    other_id = apitokens.list_tokens(web_engine, "petugas")[0].id
    _sign_in(browser)
    browser.get("/staf/akun/token/")
    res = browser.post("/staf/akun/token/", {"name": "", "days": "30"})
    assert res.status_code == 422 and "err-name" in browser.page and 'value="30" selected' in browser.page
    browser.get("/staf/akun/token/")
    res = browser.post("/staf/akun/token/", {"name": "skrip <b>tebal</b>", "days": "7"})
    assert res.status_code == 422 and "err-days" in browser.page and "skrip &lt;b&gt;tebal&lt;/b&gt;" in browser.page
    assert apitokens.list_tokens(web_engine, "pengelola") == []
    assert "milik petugas" not in browser.get("/staf/akun/token/").get_data(as_text=True)
    res = browser.post(f"/staf/akun/token/{other_id}/cabut")
    assert res.status_code == 404
    assert apitokens.actor_for_token(web_engine, other) is not None
