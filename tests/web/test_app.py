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


def test_embedded_scheduler_starts_with_its_jobs(make_wbs, tmp_path):
    eng = make_wbs(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    app = create_app(eng.settings.with_(scheduler="embedded"), engine=eng)
    sched = app.extensions["wbs_scheduler"]
    try:
        assert sched.running
        assert {j.id for j in sched.get_jobs()} >= {"sweep", "digest", "checkpoint"}
    finally:
        sched.shutdown(wait=False)
