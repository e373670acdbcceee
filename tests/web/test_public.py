"""The public pages through Flask's test client: the landing page, filing forms, the receipt, tracking.

Each test states what a visitor sees and what is (or is not) stored; the browser tests (tests/browser)
repeat the main paths in a real Chromium."""

from __future__ import annotations

import io
import logging
import re
import threading

import pytest

from tests.web.conftest import Browser, count_cases
from wbs_engine.tracking import tracking_view
from webapp import security

COMPLAINT = {
    "layanan": "Pembuatan KTP elektronik",
    "kategori": "ringan",
    "uraian": "Petugas loket meminta uang tambahan tanpa kuitansi resmi untuk mempercepat KTP.",
}
RECEIPT = re.compile(r'id="kode" class="code" type="text" value="([^"]+)"')
NUMBER = re.compile(r'<strong class="number">([A-Z]+-\d{4}-\d{6})</strong>')


def file_complaint(browser: Browser, mode: str = "anonim", **extra) -> tuple[str, str]:
    browser.get(f"/lapor/pengaduan?identitas={mode}")
    res = browser.post("/lapor/pengaduan", {"identitas": mode, **COMPLAINT, **extra})
    assert res.status_code == 303 and res.headers["Location"].endswith("/tanda-terima"), browser.page[:2000]
    browser.get("/tanda-terima")
    return NUMBER.search(browser.page).group(1), RECEIPT.search(browser.page).group(1)


# --- landing page ---------------------------------------------------------------------------------------------


def test_landing_page_offers_the_public_channels_with_their_steps_and_limits(browser, web_engine):
    res = browser.get("/")
    page = browser.page
    assert res.status_code == 200 and '<html lang="id">' in page
    for case_type in ("pengaduan", "wbs", "benturan_kepentingan"):
        assert f'href="/lapor/{case_type}"' in page
    assert 'href="/lapor/gratifikasi"' not in page  # employees only
    assert "Pelaporan Gratifikasi" in page and "bukan di halaman publik ini" in page
    # the complaint tiers, each with its own limit, and the identity modes explained
    assert "<li>Ringan: 2 HK</li>" in page and "<li>Berkadar pengawasan: 60 hari kalender</li>" in page
    assert "standar pelayanan kantor sendiri, bukan aturan nasional" in page
    assert "Anonim" in page and "tidak diminta dan tidak disimpan" in page
    assert 'href="/lacak/"' in page
    # no counts of cases anywhere (a channel's activity is itself sensitive)
    assert "perkara tercatat" not in page and "cases recorded" not in page


def test_landing_page_tags_office_policy_and_unverified_limits_as_the_files_do(browser, web_engine):
    page = browser.get("/").get_data(as_text=True)
    public = [
        web_engine.registry.latest(k).definition
        for k in web_engine.registry.keys
        if "public" in web_engine.registry.latest(k).definition.filed_by
    ]
    clocks = [c for d in public for c in d.clocks.values()]
    assert page.count('<span class="tag kantor">') == sum(c.office_policy for c in clocks) + 1  # + the legend
    assert page.count('<span class="tag belum">') == sum(c.unverified for c in clocks) + 1


def test_the_language_switch_is_remembered(browser):
    indonesian = browser.get("/").get_data(as_text=True)
    assert 'hreflang="en"' in indonesian and "Lacak laporan" in indonesian
    english = browser.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Track a report" in english and "3 working days" in english
    # the cookie keeps it for the next page, the form included
    form = browser.get("/lapor/pengaduan").get_data(as_text=True)
    assert '<html lang="en">' in form and "Send the report" in form and "Description of the complaint" in form
    assert '<html lang="id">' in browser.get("/?lang=id").get_data(as_text=True)
    assert '<html lang="id">' in Browser(browser.app).get("/?lang=fr").get_data(as_text=True)


def test_security_headers_and_cookie_flags(browser):
    res = browser.get("/lapor/wbs")
    csp = res.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert res.headers["Referrer-Policy"] == "no-referrer" and res.headers["X-Content-Type-Options"] == "nosniff"
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http://127.0.0.1
    assert "<script>" not in browser.page and " style=" not in browser.page and "onclick" not in browser.page


def test_cookies_are_secure_when_the_office_is_served_over_https(web_engine):
    from webapp import create_app

    app = create_app(web_engine.settings.with_(base_url="https://lapor.kantor.go.id"), engine=web_engine)
    res = app.test_client().get("/lapor/wbs", base_url="https://lapor.kantor.go.id")
    assert "Secure" in res.headers["Set-Cookie"] and "max-age" in res.headers["Strict-Transport-Security"]


def test_the_session_key_comes_from_the_keyring_not_the_repo(app, web_engine):
    assert app.config["SECRET_KEY"] == web_engine.keyring.mac("web-session", b"flask session and CSRF tokens")
    assert len(app.config["SECRET_KEY"]) >= 32


def test_unknown_and_employee_only_forms_are_not_found(browser):
    assert browser.get("/lapor/gratifikasi").status_code == 404
    assert browser.get("/lapor/tidak_ada").status_code == 404
    assert "Halaman tidak ditemukan" in browser.page and "Traceback" not in browser.page
    assert browser.get("/lapor/../etc/passwd").status_code == 404


# --- the filing form ------------------------------------------------------------------------------------------


def test_the_form_is_built_from_the_workflow_and_anonymous_asks_no_identity(browser, web_engine):
    anonymous = browser.get("/lapor/pengaduan?identitas=anonim").get_data(as_text=True)
    assert 'name="nama"' not in anonymous and 'name="telepon"' not in anonymous
    assert 'name="uraian"' in anonymous and 'name="email_kontak"' in anonymous  # a contact is not an identity
    opened = browser.get("/lapor/pengaduan?identitas=terbuka").get_data(as_text=True)
    assert 'name="nama"' in opened and 'name="telepon"' in opened
    # the default is the most private mode the workflow allows; an edited link falls back to it
    assert 'name="nama"' not in browser.get("/lapor/pengaduan").get_data(as_text=True)
    assert 'name="nama"' not in browser.get("/lapor/pengaduan?identitas=siapa").get_data(as_text=True)
    form = web_engine.intake_form("pengaduan", "anonim", "id")
    assert [f.name for f in form.fields] == re.findall(r'<(?:input|textarea|select) id="f-([a-z_]+)"', anonymous)[
        : len(form.fields)
    ]


def test_a_citizen_files_a_complaint_and_gets_number_and_code_once(browser, web_engine):
    number, code = file_complaint(browser)
    assert "Simpan kode ini sekarang." in browser.page and code in browser.page
    view = tracking_view(web_engine, code)
    assert view["number"] == number and view["you_wrote"][0]["value"] == COMPLAINT["layanan"]
    # the receipt stays on its page for a while, then "done" removes it for good
    assert browser.get("/tanda-terima").status_code == 200
    browser.post("/tanda-terima/selesai")
    assert browser.get("/tanda-terima").status_code == 404 and code not in browser.page
    # the session cookie never holds the code in the clear
    cookie = browser.client.get_cookie("wbs_session")
    assert cookie is None or code not in cookie.value


def test_bad_input_is_shown_next_to_its_field_and_nothing_typed_is_lost(browser, web_engine):
    browser.get("/lapor/pengaduan?identitas=anonim")
    typed = {"identitas": "anonim", "layanan": "Pajak <b>daerah</b> & retribusi", "kategori": "", "uraian": "pendek"}
    res = browser.post("/lapor/pengaduan", typed)
    assert res.status_code == 422
    errors = browser.errors()
    assert set(errors) == {"kategori", "uraian"}
    assert "wajib diisi" in errors["kategori"] and "minimal 30 karakter" in errors["uraian"]
    assert 'value="Pajak &lt;b&gt;daerah&lt;/b&gt; &amp; retribusi"' in browser.page  # kept, and escaped
    assert ">pendek</textarea>" in browser.page
    assert 'aria-invalid="true"' in browser.page and "Laporan belum terkirim" in browser.page
    assert count_cases(web_engine) == 0
    # corrected, the same form (same filing token) files the case
    res = browser.post("/lapor/pengaduan", {**typed, "kategori": "ringan", "uraian": COMPLAINT["uraian"]})
    assert res.status_code == 303 and count_cases(web_engine) == 1


def test_errors_speak_english_on_the_english_form(browser):
    browser.get("/lapor/pengaduan?identitas=anonim&lang=en")
    browser.post("/lapor/pengaduan", {"identitas": "anonim", "layanan": "x", "kategori": "", "uraian": "short"})
    errors = browser.errors()
    assert errors["kategori"] == "is required" and errors["uraian"].startswith("at least 30 characters")


def test_post_without_csrf_token_is_refused_and_saves_nothing(browser, web_engine):
    browser.get("/lapor/pengaduan?identitas=anonim")
    token = browser.hidden()["token"]
    res = browser.post(
        "/lapor/pengaduan", {"token": token, "identitas": "anonim", **COMPLAINT}, keep_hidden=False
    )
    assert res.status_code == 400 and "Muat ulang halaman" in browser.page
    assert count_cases(web_engine) == 0
    # a token from another session is refused too
    other = Browser(browser.app)
    other.get("/lapor/pengaduan")
    res = browser.post(
        "/lapor/pengaduan",
        {"csrf_token": other.hidden()["csrf_token"], "token": token, "identitas": "anonim", **COMPLAINT},
        keep_hidden=False,
    )
    assert res.status_code == 400 and count_cases(web_engine) == 0


def test_a_double_submit_files_one_case(browser, web_engine):
    browser.get("/lapor/pengaduan?identitas=anonim")
    hidden = browser.hidden()
    form = {**hidden, "identitas": "anonim", **COMPLAINT}
    first = browser.client.post("/lapor/pengaduan", data=form)
    second = browser.client.post("/lapor/pengaduan", data=form)
    assert first.status_code == second.status_code == 303  # the same browser: back to its receipt
    assert count_cases(web_engine) == 1
    # the same form sent from another browser (a copied request): told the number, never the code
    other = Browser(browser.app)
    other.get("/lapor/pengaduan")
    res = other.post("/lapor/pengaduan", {"token": hidden["token"], "identitas": "anonim", **COMPLAINT})
    assert res.status_code == 409 and "sudah diterima sebagai perkara PGD-" in other.page
    assert count_cases(web_engine) == 1
    assert not RECEIPT.search(other.page)


def test_concurrent_double_submit_files_one_case(app, web_engine):
    browser = Browser(app)
    browser.get("/lapor/pengaduan?identitas=anonim")
    form = {**browser.hidden(), "identitas": "anonim", **COMPLAINT}
    cookie = browser.client.get_cookie("wbs_session").value
    codes = []

    def send():
        c = app.test_client()
        c.set_cookie("wbs_session", cookie)
        codes.append(c.post("/lapor/pengaduan", data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count_cases(web_engine) == 1 and 303 in codes and all(c in (303, 409) for c in codes)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("kosong.pdf", b"", "kosong"),
        ("program.exe", b"MZ\x90\x00" + b"\x00" * 200, "tidak diterima"),
        ("foto.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "berakhiran .pdf"),
        ("../../etc/passwd.txt", b"isi berkas teks biasa\n", "nama berkas"),
    ],
)
def test_bad_attachments_are_refused_next_to_the_field_and_nothing_is_saved(
    browser, web_engine, name, content, problem
):
    browser.get("/lapor/pengaduan?identitas=anonim")
    data = {"identitas": "anonim", **COMPLAINT, "lampiran": (io.BytesIO(content), name)}
    res = browser.post("/lapor/pengaduan", data, content_type="multipart/form-data")
    assert res.status_code == 422, browser.page[:500]
    assert problem in browser.errors()["lampiran"]
    assert "pilih lagi berkasnya" in browser.page and COMPLAINT["uraian"] in browser.page
    assert count_cases(web_engine) == 0
    stored = web_engine.settings.attachments_path
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_an_oversized_request_gets_a_page_not_a_crash(browser, web_engine):
    browser.app.config["MAX_CONTENT_LENGTH"] = 4096
    browser.get("/lapor/pengaduan?identitas=anonim")
    data = {"identitas": "anonim", **COMPLAINT, "lampiran": (io.BytesIO(b"%PDF-1.4\n" + b"0" * 10_000), "a.pdf")}
    res = browser.post("/lapor/pengaduan", data, content_type="multipart/form-data")
    assert res.status_code == 413 and "Terlalu besar" in browser.page and count_cases(web_engine) == 0


def test_a_complaint_with_an_attachment_keeps_the_file_for_its_reporter(browser, web_engine):
    browser.get("/lapor/pengaduan?identitas=anonim")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    data = {"identitas": "anonim", **COMPLAINT, "lampiran": (io.BytesIO(pdf), "bukti kuitansi.pdf")}
    assert browser.post("/lapor/pengaduan", data, content_type="multipart/form-data").status_code == 303
    browser.get("/tanda-terima")
    code = RECEIPT.search(browser.page).group(1)
    view = tracking_view(web_engine, code)
    assert [f["filename"] for f in view["your_files"]] == ["bukti kuitansi.pdf"]
    # the reporter downloads it from the tracking page, as a download, never inline
    reader = Browser(browser.app)
    reader.get("/lacak/")
    reader.post("/lacak/", {"kode": code})
    res = reader.client.get(f"/lacak/lampiran/{view['your_files'][0]['id']}")
    assert res.status_code == 200 and res.data == pdf
    assert res.headers["Content-Disposition"].startswith("attachment;") and "bukti%20kuitansi.pdf" in res.headers[
        "Content-Disposition"
    ]


# --- anonymous means anonymous --------------------------------------------------------------------------------


def test_no_address_or_user_agent_is_stored_or_logged(browser, web_engine, caplog):
    addr, agent = "203.0.113.77", "PelaporAgent/9.9 (rahasia)"
    env = {"REMOTE_ADDR": addr}
    headers = {"User-Agent": agent, "X-Forwarded-For": "198.51.100.23"}
    caplog.set_level(logging.DEBUG)
    browser.get("/lapor/wbs?identitas=anonim", environ_base=env, headers=headers)
    form = web_engine.intake_form("wbs", "anonim", "id")
    data = {"identitas": "anonim"}
    for f in form.fields:
        if f.required:
            data[f.name] = f.options[0][0] if f.options else "Pejabat X menerima suap dari rekanan proyek jalan."
    res = browser.post("/lapor/wbs", data, environ_base=env, headers=headers)
    assert res.status_code == 303, browser.errors()
    browser.get("/tanda-terima", environ_base=env, headers=headers)
    code = RECEIPT.search(browser.page).group(1)
    reader = Browser(browser.app)
    reader.get("/lacak/", environ_base=env, headers=headers)
    reader.post("/lacak/", {"kode": "SALAH-KODE"}, environ_base=env, headers=headers)
    reader.post("/lacak/", {"kode": code}, environ_base=env, headers=headers)
    reader.post("/lacak/pesan", {"pesan": "Saya punya dokumen tambahan."}, environ_base=env, headers=headers)
    web_engine.db.dispose()
    instance = web_engine.settings.instance_dir
    for path in [p for p in instance.rglob("*") if p.is_file()]:
        blob = path.read_bytes()
        for secret in (addr, agent, "198.51.100.23", "PelaporAgent"):
            assert secret.encode() not in blob, f"{secret} found in {path}"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert addr not in logged and "PelaporAgent" not in logged and "198.51.100.23" not in logged


def test_the_access_log_of_wbs_run_prints_no_address(app, caplog):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, request_handler=security.QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    try:
        import urllib.request

        port = server.server_port
        req = urllib.request.Request(f"http://127.0.0.1:{port}/lapor/wbs?kode=RAHASIA", headers={"User-Agent": "UA-X"})
        urllib.request.urlopen(req).read()
    finally:
        server.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any('"GET /lapor/wbs' in line and " 200 " in line for line in lines), lines
    assert not any("127.0.0.1" in line or "UA-X" in line or "RAHASIA" in line for line in lines), lines


# --- tracking -------------------------------------------------------------------------------------------------


def test_a_wrong_code_gets_the_same_answer_as_a_code_that_never_existed(browser, web_engine):
    file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    answers = set()
    for code in ("AAAA-BBBB-CCCC-DDDD", "", "x" * 500, "'; DROP TABLE case_file; --"):
        res = browser.post("/lacak/", {"kode": code})
        assert res.status_code == 404
        answers.add(browser.errors()["kode"])
    assert answers == {"Kode pelacakan tidak ditemukan; periksa kembali penulisannya."}


def test_wrong_codes_are_throttled(browser, web_engine):
    _number, code = file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    for _ in range(security.THROTTLE_TRIES):
        assert browser.post("/lacak/", {"kode": "AAAA-BBBB-CCCC-DDDD"}).status_code == 404
    res = browser.post("/lacak/", {"kode": code})  # even the right code waits now
    assert res.status_code == 429 and "Terlalu banyak kode yang salah" in browser.page
    # another client is not held back
    other = Browser(browser.app)
    other.get("/lacak/")
    assert other.post("/lacak/", {"kode": code}, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 303


def test_the_reporter_answers_the_offices_question_and_sees_no_staff_name(browser, web_engine):
    number, code = file_complaint(Browser(browser.app))
    pengelola = web_engine.load_actor("pengelola")
    web_engine.fire(number, "mulai_verifikasi", pengelola)
    web_engine.fire(number, "minta_informasi", pengelola, {"pesan": "Mohon sebutkan tanggal dan nomor loket."})
    browser.get("/lacak/")
    assert browser.post("/lacak/", {"kode": code}).headers["Location"].endswith("/lacak/perkara")
    page = browser.get("/lacak/perkara").get_data(as_text=True)
    assert "Mohon sebutkan tanggal dan nomor loket." in page and "Kirim keterangan tambahan" in page
    assert "pengelola" not in page.lower().replace("pengelola_", "")
    # a too-short answer comes back next to its field, kept
    res = browser.post("/lacak/aksi/beri_informasi", {"jawaban_pelapor": "ok"})
    assert res.status_code == 422 and "jawaban_pelapor" in browser.errors() and ">ok</textarea>" in browser.page
    browser.get("/lacak/perkara")
    res = browser.post("/lacak/aksi/beri_informasi", {"jawaban_pelapor": "Tanggal 2 Maret, loket nomor 3."})
    assert res.status_code == 303
    assert tracking_view(web_engine, code)["state_label"] != "Menunggu keterangan pelapor"
    # a step the reporter may not take (a staff transition, typed by hand) is refused and changes nothing
    before = tracking_view(web_engine, code)["state_label"]
    browser.get("/lacak/perkara")
    assert browser.post("/lacak/aksi/disposisi", {}).status_code == 409
    assert tracking_view(web_engine, code)["state_label"] == before


def test_messages_both_ways(browser, web_engine):
    number, code = file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    browser.get("/lacak/perkara")
    assert browser.post("/lacak/pesan", {"pesan": ""}).status_code == 422 and "pesan" in browser.errors()
    assert browser.post("/lacak/pesan", {"pesan": "Saya punya foto loket."}).status_code == 303
    web_engine.post_message(number, web_engine.load_actor("pengelola"), "Silakan lampirkan fotonya di sini.")
    page = browser.get("/lacak/perkara").get_data(as_text=True)
    assert "Saya punya foto loket." in page and "Silakan lampirkan fotonya di sini." in page
    assert page.index("Saya punya foto loket.") < page.index("Silakan lampirkan fotonya di sini.")


def test_leaving_and_idling_end_the_tracking_session(browser, web_engine, monkeypatch):
    _number, code = file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    assert browser.get("/lacak/perkara").status_code == 200
    browser.post("/lacak/keluar")
    res = browser.get("/lacak/perkara")
    assert res.status_code == 303 and "habis=1" in res.headers["Location"]
    # signed in again, then idle past the limit
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    import time as real_time

    later = real_time.time() + security.TRACK_IDLE_MINUTES * 60 + 5
    monkeypatch.setattr(security.time, "time", lambda: later)
    assert browser.get("/lacak/perkara").status_code == 303
    assert "Sesi pelacakan Anda berakhir" in browser.get("/lacak/?habis=1").get_data(as_text=True)


def test_a_session_cookie_cannot_be_moved_to_another_office(browser, web_engine, make_wbs, tmp_path):
    from webapp import create_app

    _number, code = file_complaint(Browser(browser.app))
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    stolen = browser.client.get_cookie("wbs_session").value
    other = make_wbs(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    other_app = create_app(other.settings, engine=other)
    c = other_app.test_client()
    c.set_cookie("wbs_session", stolen)
    assert c.get("/lacak/perkara").status_code == 303  # signed out: another office's key signed it


def test_after_closure_the_reporter_rates_the_handling_once(browser, web_engine):
    number, code = file_complaint(Browser(browser.app))
    pengelola = web_engine.load_actor("pengelola")
    web_engine.fire(number, "mulai_verifikasi", pengelola)
    browser.get("/lacak/")
    browser.post("/lacak/", {"kode": code})
    assert "Bagaimana laporan Anda ditangani?" not in browser.get("/lacak/perkara").get_data(as_text=True)
    web_engine.fire(number, "minta_informasi", pengelola, {"pesan": "Mohon lengkapi nomor antrean Anda."})
    web_engine.fire(number, "tutup_tanpa_jawaban", pengelola)
    page = browser.get("/lacak/perkara").get_data(as_text=True)
    assert "Bagaimana laporan Anda ditangani?" in page
    elements = re.findall(r'<input type="radio" name="([a-z_]+)" value="1"', page)
    assert len(elements) >= 3
    # one element left out and a score out of range: errors next to those fields, the rest kept
    answers = {k: "4" for k in elements[1:]}
    answers[elements[1]] = "9"
    res = browser.post("/lacak/survei", {**answers, "komentar": "Cepat, tapi kurang jelas."})
    assert res.status_code == 422
    errors = browser.errors()
    assert set(errors) == {elements[0], elements[1]}
    assert 'value="4" checked' in browser.page and "Cepat, tapi kurang jelas." in browser.page
    browser.get("/lacak/perkara")
    res = browser.post("/lacak/survei", {**{k: "3" for k in elements}, "komentar": "Cepat, tapi kurang jelas."})
    assert res.status_code == 303
    page = browser.get("/lacak/perkara?ok=survei").get_data(as_text=True)
    assert "Terima kasih telah menilai" in page and "Anda telah menilai penanganan laporan ini" in page
    assert "Bagaimana laporan Anda ditangani?" not in page
    # a second rating (an old tab) changes nothing
    assert browser.post("/lacak/survei", {k: "1" for k in elements}).status_code == 409
    from wbs_engine import survey

    assert survey.survey_status(web_engine, code).taken


def test_the_receipt_offers_a_signed_proof_that_the_verification_page_accepts(browser, web_engine):
    from wbs_engine import receipts

    number, code = file_complaint(browser)
    assert 'name="dengan_teks" value="1" checked' in browser.page  # pengaduan: the text is in by default
    res = browser.post("/tanda-terima/bukti", {"dengan_teks": "1"})
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    assert res.headers["Content-Disposition"] == 'attachment; filename="bukti-penerimaan.pdf"'
    assert res.headers["Cache-Control"] == "no-store"
    pdf = res.data
    assert receipts.verify_proof(web_engine, pdf).genuine and code.encode() not in pdf
    # the public page: an upload, and the QR code's link
    checker = Browser(browser.app)
    checker.get("/verifikasi")
    res = checker.post("/verifikasi", {"berkas": (io.BytesIO(pdf), "bukti.pdf")}, content_type="multipart/form-data")
    assert res.status_code == 200 and "Asli" in checker.page and number in checker.page
    link = re.search(rb"/URI \((http[^)]+)\)", pdf).group(1).decode()
    res = checker.get(link.split("/verifikasi", 1)[1].join(["/verifikasi", ""]))
    assert res.status_code == 200 and 'class="card result ok"' in checker.page
    # one changed byte: not confirmed, and the page says why
    changed = bytearray(pdf)
    changed[len(pdf) // 2] ^= 0x01
    checker.get("/verifikasi")
    upload = {"berkas": (io.BytesIO(bytes(changed)), "bukti.pdf")}
    checker.post("/verifikasi", upload, content_type="multipart/form-data")
    assert 'class="card result bad"' in checker.page and "Tidak terkonfirmasi" in checker.page
    # a POST without the receipt in the session gets no proof (the code never comes from the request)
    stranger = Browser(browser.app)
    stranger.get("/verifikasi")
    assert stranger.post("/tanda-terima/bukti", {"kode": code}).status_code == 404


def test_a_wbs_proof_leaves_the_report_out_unless_asked_and_tracking_offers_it_too(browser, web_engine):
    from wbs_engine.pdfwriter import page_texts

    browser.get("/lapor/wbs?identitas=anonim")
    form = web_engine.intake_form("wbs", "anonim", "id")
    secret = "Kepala bidang menerima amplop dari rekanan proyek."
    data = {"identitas": "anonim"}
    for f in form.fields:
        if f.required:
            data[f.name] = f.options[0][0] if f.options else secret
    assert browser.post("/lapor/wbs", data).status_code == 303
    browser.get("/tanda-terima")
    assert 'name="dengan_teks" value="1">' in browser.page  # not ticked for WBS
    code = RECEIPT.search(browser.page).group(1)
    without = browser.post("/tanda-terima/bukti", {}).data
    assert secret not in " ".join(page_texts(without))
    reader = Browser(browser.app)
    reader.get("/lacak/")
    reader.post("/lacak/", {"kode": code})
    reader.get("/lacak/perkara")
    assert "Unduh bukti (PDF)" in reader.page
    with_text = reader.post("/lacak/bukti", {"dengan_teks": "1"}).data
    assert secret in " ".join(page_texts(with_text))


def test_proof_checks_are_throttled(browser, web_engine):
    browser.get("/verifikasi")
    for _ in range(security.PROOF_CHECKS):
        assert browser.get("/verifikasi?s=x&n=PGD-2026-000001").status_code == 200
    assert browser.get("/verifikasi?s=x").status_code == 429


def test_a_damaged_attachment_is_refused_and_the_admin_log_says_how(browser, web_engine, caplog):
    browser.get("/lapor/pengaduan?identitas=anonim")
    data = {"identitas": "anonim", **COMPLAINT, "lampiran": (io.BytesIO(b"isi berkas teks\n" * 50), "catatan.txt")}
    assert browser.post("/lapor/pengaduan", data, content_type="multipart/form-data").status_code == 303
    browser.get("/tanda-terima")
    code = RECEIPT.search(browser.page).group(1)
    file_id = tracking_view(web_engine, code)["your_files"][0]["id"]
    stored = [p for p in web_engine.settings.attachments_path.rglob("*") if p.is_file()]
    assert len(stored) == 1
    blob = bytearray(stored[0].read_bytes())
    blob[-10] ^= 0xFF
    stored[0].write_bytes(bytes(blob))
    reader = Browser(browser.app)
    reader.get("/lacak/")
    reader.post("/lacak/", {"kode": code})
    caplog.set_level(logging.ERROR)
    res = reader.get(f"/lacak/lampiran/{file_id}")
    assert res.status_code == 409 and f"lampiran {file_id} rusak" in reader.page
    logged = [r.getMessage() for r in caplog.records if "attachment_damaged" in r.getMessage()]
    assert logged and all(code not in line for line in logged)
