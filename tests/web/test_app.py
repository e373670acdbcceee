"""The web app factory: landing page, health check, and the embedded scheduler switch."""

from wbs_engine.users import ensure_unit
from webapp import create_app


def test_landing_page_lists_case_types_and_limits(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    ensure_unit(eng, "PUSAT", "Pusat")
    app = create_app(eng.settings, engine=eng)
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "Pengaduan Masyarakat" in page and "Batas verifikasi" in page and "3 HK" in page
    assert client.get("/healthz").get_json() == {"status": "ok"}  # no counts: a channel's activity is sensitive
    assert "perkara tercatat" not in page


def test_landing_page_marks_office_policy_and_unverified_limits_as_the_files_do(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    page = create_app(eng.settings, engine=eng).test_client().get("/").get_data(as_text=True)
    specs = [c for k in eng.registry.keys for c in eng.registry.latest(k).definition.clocks.values()]
    # one tag per marked clock, plus the legend at the foot of the page
    assert page.count('<span class="tag kantor">') == sum(c.office_policy for c in specs) + 1
    assert page.count('<span class="tag belum">') == sum(c.unverified for c in specs) + 1
    # the complaint tiers, each with its limit, said to be the office's own service standard
    assert "Ringan: 2 HK" in page and "Berkadar pengawasan: 60 hari kalender" in page
    assert page.count("standar pelayanan kantor sendiri, bukan aturan nasional") == 1


def test_landing_page_speaks_english_with_lang_en(make_wbs, tmp_path):
    """The page's texts are catalogue messages: Bahasa Indonesia by default, English with ?lang=en."""
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    client = create_app(eng.settings, engine=eng).test_client()
    indonesian, english = (client.get(url).get_data(as_text=True) for url in ("/", "/?lang=en"))
    assert '<html lang="id">' in indonesian and "Dasar hukum:" in indonesian and "Legal basis:" not in indonesian
    assert '<html lang="en">' in english and "Legal basis:" in english and "Dasar hukum:" not in english
    assert "<title>wbs-engine — Integrity Services</title>" in english and "3 working days" in english
    assert 'Open "source" in the Basis column' in english and 'Buka "sumber" pada kolom Dasar' in indonesian
    for tag in ('<span class="tag kantor">', '<span class="tag belum">'):
        assert english.count(tag) == indonesian.count(tag)
    assert client.get("/?lang=fr").get_data(as_text=True) == indonesian


def test_embedded_scheduler_starts_with_its_jobs(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    app = create_app(eng.settings.with_(scheduler="embedded"), engine=eng)
    sched = app.extensions["wbs_scheduler"]
    try:
        assert sched.running
        assert {j.id for j in sched.get_jobs()} >= {"sweep", "digest", "checkpoint"}
    finally:
        sched.shutdown(wait=False)


def test_the_app_refuses_to_start_with_a_keyring_that_is_not_the_databases(make_wbs, tmp_path):
    import pytest

    from wbs_engine.crypto import CryptoError, Keyring
    from wbs_engine.engine import WbsEngine

    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    stranger = WbsEngine(eng.settings, db=eng.db, keyring=Keyring.generate())
    with pytest.raises(CryptoError, match="bukan milik basis data ini"):
        create_app(eng.settings, engine=stranger)
