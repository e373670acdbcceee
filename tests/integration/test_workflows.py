"""The shipped workflows on the real engine, with real 2026 dates (SKB holidays and cuti bersama)."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from wbs_engine.views import case_view

REPO = Path(__file__).resolve().parents[2]


def wib(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh - 7, mm, tzinfo=UTC)


GIFT = {
    "nama": "Wati",
    "nip": "198501012010012001",
    "jabatan": "Analis",
    "unit_kerja": "Seksi Layanan",
    "nama_pemberi": "PT Contoh",
    "hubungan_pemberi": "rekanan_penyedia",
    "jenis": "barang",
    "uraian": "Parsel makanan dan jam tangan",
    "nilai_taksiran": "Rp 2.500.000",
    "tempat_penerimaan": "Kantor",
    "peristiwa": "Hari raya",
    "kronologi": "Paket diantar kurir ke meja kerja tanpa pemberitahuan sebelumnya.",
}


def clocks_of(wbs, number):
    return {c["name"]: c for c in case_view(wbs, number, None)["clocks"]}


def test_complaint_before_idul_fitri_is_due_after_the_holiday_block(wbs, clock):
    clock.now = wib(2026, 3, 17)  # Tuesday; 18 cuti, 19 Nyepi, 20 cuti, 21-22 Idul Fitri, 23-24 cuti
    c = wbs.create_case(
        "pengaduan",
        {
            "nama": "Siti",
            "layanan": "Legalisir",
            "kategori": "normatif",
            "uraian": "Petugas meminta uang tambahan di luar tarif resmi legalisir.",
        },
        identity_mode="rahasia",
    )
    v = clocks_of(wbs, c.number)["verifikasi"]
    assert (v["status"], v["due_date"], v["limit"]) == ("running", "2026-03-27", "3 HK")


def test_gift_clocks_run_at_once_from_the_date_received(wbs, clock):
    clock.now = wib(2026, 3, 10)
    c = wbs.create_case("gratifikasi", {**GIFT, "tanggal_penerimaan": "2026-03-02"}, filed_by=wbs.load_actor("pegawai"))
    cl = clocks_of(wbs, c.number)
    # reported to the UPG 6 HK after 2 Mar: due 16 Mar, checked at filing, in time
    assert (cl["lapor_upg"]["due_date"], cl["lapor_upg"]["status"], cl["lapor_upg"]["outcome"]) == (
        "2026-03-16",
        "stopped",
        "on_time",
    )
    assert (cl["lapor_kpk"]["due_date"], cl["lapor_kpk"]["status"]) == ("2026-04-21", "running")  # 30 HK
    assert (cl["teruskan_upg"]["due_date"], cl["teruskan_upg"]["status"]) == ("2026-03-31", "running")
    upg = wbs.load_actor("upg")
    clock.now = wib(2026, 3, 11)
    wbs.fire(c.number, "mulai_telaah", upg)
    clock.now = wib(2026, 3, 12)
    wbs.fire(c.number, "minta_kelengkapan", upg, {"kekurangan": "Lampirkan foto barang dan kuitansi."})
    cl = clocks_of(wbs, c.number)
    # paused on Thu 12 Mar (that day counts as used): 13, 16, 17, 25, 26, 27, 30, 31 Mar were left
    assert cl["teruskan_upg"]["status"] == "paused" and cl["teruskan_upg"]["remaining_days"] == 8
    assert cl["lapor_kpk"]["status"] == "running"  # the statutory limit does not wait
    assert (cl["kelengkapan"]["status"], cl["kelengkapan"]["due_date"]) == ("running", "2026-04-17")  # 20 HK
    clock.now = wib(2026, 4, 6)
    wbs.fire(c.number, "lengkapi", wbs.load_actor("pegawai"), {"kelengkapan": "Foto dan kuitansi terlampir."})
    cl = clocks_of(wbs, c.number)
    assert cl["kelengkapan"]["status"] == "stopped"
    # resumed on Mon 6 Apr with the 8 HK that were left: 7, 8, 9, 10, 13, 14, 15, 16 Apr
    assert (cl["teruskan_upg"]["status"], cl["teruskan_upg"]["due_date"]) == ("running", "2026-04-16")


def test_late_gift_report_is_recorded_as_late(wbs, clock):
    clock.now = wib(2026, 3, 10)
    c = wbs.create_case("gratifikasi", {**GIFT, "tanggal_penerimaan": "2026-02-02"}, filed_by=wbs.load_actor("pegawai"))
    cl = clocks_of(wbs, c.number)
    # 3,4,5,6,9,10,11,12,13 Feb (9), 16 cuti bersama Imlek, 17 Imlek, 18 Feb (10)
    assert (cl["lapor_upg"]["due_date"], cl["lapor_upg"]["outcome"]) == ("2026-02-18", "late")


def test_wbs_investigation_extends_once(wbs, clock):
    from wbs_engine.demo import all_paths, sample_value
    from wbs_engine.errors import InvalidTransition
    from wbs_engine.lint import load_workflow

    defn = load_workflow(REPO / "workflows" / "wbs.yaml")
    data = {f.name: sample_value(f, 0) for f in defn.intake if f.required}
    c = wbs.create_case("wbs", data, identity_mode="anonim")
    path = next(p for p in all_paths(defn) if any(t.dest == "investigasi" for t in p))
    users = {"pengelola": "pengelola", "tim_telaah": "telaah", "tim_investigasi": "investigator", "atasan": "atasan"}
    for t in path:
        if t.dest == "investigasi":
            break
        who = next(users[r] for r in t.roles if r in users)
        args = {n: sample_value(defn.field(n), 0, users=["telaah"]) for n in (*t.requires, *t.optional)}
        clock.advance(hours=4)
        wbs.fire(c.number, t.trigger, wbs.load_actor(who), args, reason="Alasan pengujian." if t.reason else None)
    inv = next(
        t
        for t in defn.transitions_from(path[[x.dest for x in path].index("investigasi")].source[0])
        if t.dest == "investigasi"
    )
    args = {n: sample_value(defn.field(n), 0, users=["investigator"]) for n in (*inv.requires, *inv.optional)}
    wbs.fire(
        c.number,
        inv.trigger,
        wbs.load_actor(next(users[r] for r in inv.roles if r in users)),
        args,
        reason="Alasan pengujian." if inv.reason else None,
    )
    before = clocks_of(wbs, c.number)["investigasi"]
    ext = next(t for t in defn.transitions if t.extends)
    actor = wbs.load_actor(next(users[r] for r in ext.roles if r in users))
    ext_args = {n: sample_value(defn.field(n), 0) for n in (*ext.requires, *ext.optional)}
    wbs.fire(c.number, ext.trigger, actor, ext_args, reason="Perlu memeriksa dokumen pengadaan tambahan.")
    after = clocks_of(wbs, c.number)["investigasi"]
    assert after["extensions"] == 1
    cal = __import__("wbs_engine.calendar", fromlist=["WorkingCalendar"]).WorkingCalendar()
    assert cal.working_days_between(date.fromisoformat(before["due_date"]), date.fromisoformat(after["due_date"])) == 30
    with pytest.raises(InvalidTransition, match="sudah diperpanjang 1 kali"):
        wbs.fire(c.number, ext.trigger, actor, ext_args, reason="Perpanjangan kedua tidak boleh.")


def test_case_show_json_lists_every_clock_with_due_date_and_status(tmp_path):
    runner = CliRunner()
    env = {"WBS_INSTANCE_DIR": str(tmp_path), "WBS_DATABASE_URL": ""}
    from wbs_engine.cli import cli

    def run(*a):
        r = runner.invoke(cli, list(a), env=env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    run("init-db")
    run("unit", "add", "PUSAT", "Sekretariat")
    run("create-user", "wati", "--role", "pegawai", "--password", "rahasia-demo-123")
    created = json.loads(
        run(
            "case",
            "new",
            "gratifikasi",
            "--as",
            "wati",
            "--json",
            # filed now (the CLI records the real time), two days after the gift: within 10 HK
            *[
                x
                for k, v in {**GIFT, "tanggal_penerimaan": str(date.today() - timedelta(days=2))}.items()
                for x in ("-f", f"{k}={v}")
            ],
        )
    )
    view = json.loads(run("case", "show", created["number"], "--json"))
    running = {c["name"]: c for c in view["clocks"] if c["status"] == "running"}
    assert set(running) == {"lapor_kpk", "teruskan_upg"}
    for c in running.values():
        assert c["due_date"] and c["due_at"] and c["label"] and c["source"]
        assert c["next_action"] == "breach" or c["next_action"].startswith("remind:")
    assert {c["name"]: c["outcome"] for c in view["clocks"] if c["status"] == "stopped"} == {"lapor_upg": "on_time"}
    assert view["notices"] == []  # reported in time: no late-filing notice


def test_case_show_says_a_gift_reported_after_30_hk_may_become_state_property(tmp_path):
    runner = CliRunner()
    env = {"WBS_INSTANCE_DIR": str(tmp_path), "WBS_DATABASE_URL": ""}
    from wbs_engine.cli import cli

    def run(*a):
        r = runner.invoke(cli, list(a), env=env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    run("init-db")
    run("unit", "add", "PUSAT", "Sekretariat")
    run("create-user", "wati", "--role", "pegawai", "--password", "rahasia-demo-123")
    run("create-user", "agus", "--role", "upg", "--password", "rahasia-demo-123")
    late = {**GIFT, "tanggal_penerimaan": str(date.today() - timedelta(days=90))}  # > 30 HK whatever today is
    fields = [x for k, v in late.items() for x in ("-f", f"{k}={v}")]
    created = json.loads(run("case", "new", "gratifikasi", "--as", "wati", "--json", *fields))
    view = json.loads(run("case", "show", created["number"], "--as", "agus", "--json"))
    kpk = next(c for c in view["clocks"] if c["name"] == "lapor_kpk")
    assert kpk["late_notice"] and "dapat ditetapkan menjadi milik negara" in kpk["late_notice"]
    assert view["notices"] == [kpk["late_notice"]]
    text = run("case", "show", created["number"], "--as", "agus")
    assert "Perhatian: Gratifikasi ini dilaporkan lebih dari 30 hari kerja" in text
    assert "may be declared state property" in run("--lang", "en", "case", "show", created["number"], "--as", "agus")


def _gift_forwarded_to_kpk(wbs, clock):
    clock.now = wib(2026, 3, 10)
    c = wbs.create_case("gratifikasi", {**GIFT, "tanggal_penerimaan": "2026-03-02"}, filed_by=wbs.load_actor("pegawai"))
    upg = wbs.load_actor("upg")
    wbs.fire(c.number, "mulai_telaah", upg)
    clock.now = wib(2026, 3, 12, 14)  # a declared date is never in the future: forwarded on the day KPK got it
    wbs.fire(c.number, "teruskan_kpk", upg, {"nomor_laporan_kpk": "KPK-123", "tanggal_laporan_kpk": "2026-03-12"})
    return c.number, upg


def test_kpk_letter_to_the_recipient_is_followed_by_the_upg(wbs, clock):
    """UU 30/2002 ps 17(5): KPK sends its decision within 7 HK; a milik penerima case waits for the letter."""
    from wbs_engine.scheduler import sweep

    number, upg = _gift_forwarded_to_kpk(wbs, clock)
    clock.now = wib(2026, 4, 16)  # the UPG learns on Thu 16 Apr of a decision dated Tue 14 Apr
    decision = {"nomor_keputusan_kpk": "SK-9/2026", "tanggal_keputusan_kpk": "2026-04-14"}
    wbs.fire(number, "keputusan_milik_penerima", upg, decision)
    view = case_view(wbs, number, None)
    assert (view["state"], view["final"]) == ("menunggu_sk_penerima", False)
    cl = {c["name"]: c for c in view["clocks"]}
    assert cl["keputusan_kpk"]["status"] == "stopped"
    letter = cl["penyampaian_keputusan"]
    # 7 HK from the decision's date: 15, 16, 17, 20, 21, 22, 23 Apr
    assert (letter["status"], letter["counted_from"], letter["due_date"]) == ("running", "2026-04-14", "2026-04-23")
    clock.now = wib(2026, 4, 24)
    sweep(wbs)  # the letter has not been recorded: the UPG is told to chase KPK
    breach = next(e for e in case_view(wbs, number, None)["history"] if e["kind"] == "clock_breached")
    assert breach["payload"]["clock"] == "penyampaian_keputusan" and breach["payload"]["escalated_to"] == ["upg"]
    wbs.fire(number, "catat_sk_diterima", upg, {"tanggal_sk_diterima": "2026-04-24"})
    view = case_view(wbs, number, None)
    assert (view["state"], view["final"], view["fields"]["tanggal_sk_diterima"]) == ("selesai", True, "2026-04-24")
    letter = next(c for c in view["clocks"] if c["name"] == "penyampaian_keputusan")
    assert (letter["status"], letter["outcome"]) == ("stopped", "late")


def test_state_property_hand_over_counts_from_the_decision_while_waiting_for_the_letter(wbs, clock):
    number, upg = _gift_forwarded_to_kpk(wbs, clock)
    clock.now = wib(2026, 4, 15)
    decision = {"nomor_keputusan_kpk": "SK-10/2026", "tanggal_keputusan_kpk": "2026-04-14"}
    wbs.fire(number, "keputusan_milik_negara", upg, decision)
    cl = clocks_of(wbs, number)
    assert case_view(wbs, number, None)["state"] == "menunggu_sk_negara"
    assert (cl["penyampaian_keputusan"]["status"], cl["penyampaian_keputusan"]["due_date"]) == ("running", "2026-04-23")
    assert (cl["serah_terima"]["status"], cl["serah_terima"]["due_date"]) == ("running", "2026-04-23")  # ps 17(6)
    clock.now = wib(2026, 4, 17)
    wbs.fire(number, "catat_sk_diterima", upg, {"tanggal_sk_diterima": "2026-04-16"})
    cl = clocks_of(wbs, number)
    assert case_view(wbs, number, None)["state"] == "serah_terima"
    assert (cl["penyampaian_keputusan"]["status"], cl["penyampaian_keputusan"]["outcome"]) == ("stopped", "on_time")
    assert (cl["serah_terima"]["status"], cl["serah_terima"]["due_date"]) == ("running", "2026-04-23")  # not restarted
    clock.now = wib(2026, 4, 20, 14)
    wbs.fire(
        number,
        "catat_serah_terima",
        upg,
        {"tanggal_serah_terima": "2026-04-20", "bentuk_penyerahan": "barang", "nomor_bukti_serah_terima": "BA-1"},
    )
    assert clocks_of(wbs, number)["serah_terima"]["outcome"] == "on_time"


CONFLICT = {
    "jalur": "laporan_pihak_lain",
    "jenis": "aktual",
    "sumber": "keluarga",
    "nama_pejabat": "Budi, Kepala Seksi Layanan",
    "kegiatan": "Pengadaan jasa kebersihan 2026",
    "uraian": "Salah satu penawar pengadaan adalah perusahaan milik adik kandung pejabat pengadaan.",
}


def test_an_atasan_opens_a_conflict_case_without_a_declaration(make_wbs, tmp_path, clock):
    """Permenko Infra 1/2026 ps 24(8): the superior acts even when the official declared nothing."""
    from tests.helpers import seed_people
    from wbs_engine.errors import GuardFailed, NotAllowed

    shipped = make_wbs(f"sqlite:///{tmp_path / 'shipped.sqlite3'}")
    seed_people(shipped)
    c = shipped.create_case("benturan_kepentingan", CONFLICT, filed_by=shipped.load_actor("atasan"))
    assert case_view(shipped, c.number, shipped.load_actor("atasan"))["state"] == "diajukan"
    # without `public` in filed_by too, so that it is the role atasan that lets them file
    text = (REPO / "workflows" / "benturan_kepentingan.yaml").read_text(encoding="utf-8")
    assert "filed_by: [pegawai, atasan, public]\n" in text
    wf = tmp_path / "workflows"
    wf.mkdir()
    (wf / "benturan_kepentingan.yaml").write_text(text.replace("atasan, public]", "atasan]"), encoding="utf-8")
    wbs = make_wbs(f"sqlite:///{tmp_path / 'bk.sqlite3'}", workflows_dir=wf)
    staff = [("pengelola", ["pengelola"]), ("atasan", ["atasan"]), ("atasan.dua", ["atasan"])]
    seed_people(wbs, [*staff, ("petugas", ["unit:LAYANAN"])])
    with pytest.raises(NotAllowed):
        wbs.create_case("benturan_kepentingan", CONFLICT, filed_by=wbs.load_actor("petugas"))
    c = wbs.create_case("benturan_kepentingan", CONFLICT, filed_by=wbs.load_actor("atasan"))
    clock.advance(hours=1)
    wbs.fire(c.number, "teruskan_ke_atasan", wbs.load_actor("atasan"), {"unit_tujuan": "LAYANAN"})
    view = case_view(wbs, c.number, wbs.load_actor("atasan.dua"))
    assert view["state"] == "penilaian_atasan"
    assert "menunda keputusan" in view["state_description"]  # the official holds the decision meanwhile (24(2))
    view_en = case_view(wbs, c.number, wbs.load_actor("atasan.dua"), lang="en")
    assert "suspends the decision" in view_en["state_description"]
    # the atasan who opened it holds the role pelapor on it: another atasan decides
    decision = {"pejabat_pengganti": "Sari, Kepala Subbagian Umum", "pertimbangan": "Hubungan keluarga dengan penawar."}
    with pytest.raises(GuardFailed):
        wbs.fire(c.number, "penugasan_ulang", wbs.load_actor("atasan"), decision)
    wbs.fire(c.number, "penugasan_ulang", wbs.load_actor("atasan.dua"), decision)
    assert case_view(wbs, c.number, None)["state"] == "pemantauan"
