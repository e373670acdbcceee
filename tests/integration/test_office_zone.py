"""An office outside Jakarta time (WBS_TIMEZONE): the engine, its clocks and the scheduler count in the
office's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from tests.helpers import COMPLAINT, seed_people
from wbs_engine import scheduler
from wbs_engine.db import unit_of_work
from wbs_engine.errors import ValidationFailed
from wbs_engine.models import Clock

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


@pytest.fixture
def office(make_wbs, tmp_path):
    """An engine for an office in ``zone`` (each on its own SQLite file)."""

    def build(zone: str):
        eng = make_wbs(f"sqlite:///{tmp_path / zone.replace('/', '_')}.sqlite3", timezone=zone)
        seed_people(eng, staff=[("pengelola", ["pengelola"]), ("pegawai", ["pegawai"])])
        return eng

    return build


def verification_clock(eng, number):
    with unit_of_work(eng.db, write=False) as s:
        case = eng.get_case(s, number)
        return s.exec(select(Clock).where(Clock.case_id == case.id, Clock.name == "verifikasi")).one()


def test_complaint_at_1530_jakarta_time_is_after_hours_in_makassar(office, clock):
    clock.now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # Mon 15:30 WIB = 16:30 WITA
    jakarta, makassar = office("Asia/Jakarta"), office("Asia/Makassar")
    in_jakarta = verification_clock(jakarta, jakarta.create_case("pengaduan", COMPLAINT).number)
    in_makassar = verification_clock(makassar, makassar.create_case("pengaduan", COMPLAINT).number)
    assert (in_jakarta.counted_from, in_jakarta.due_date) == (date(2026, 3, 2), date(2026, 3, 5))
    # after the 16:00 close in Makassar: day 1 is Wed 4 Mar, 3 HK end on Fri 6 Mar
    assert (in_makassar.counted_from, in_makassar.due_date) == (date(2026, 3, 3), date(2026, 3, 6))
    # and it has passed at midnight in Makassar, 16:00 UTC
    assert in_makassar.due_at == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)


def test_case_number_takes_the_year_of_the_office_zone(office, clock):
    clock.now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 23:30 on 31 Dec in Jakarta, 00:30 on 1 Jan in Makassar
    assert office("Asia/Jakarta").create_case("pengaduan", COMPLAINT).number.startswith("PGD-2026-")
    assert office("Asia/Makassar").create_case("pengaduan", COMPLAINT).number.startswith("PGD-2027-")


def test_a_gift_received_today_is_today_in_the_office_zone(office, clock):
    """'Not after today' uses the office's today: at 01:30 WIT on 3 Mar it is still 2 Mar in Jakarta."""
    clock.now = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    gift = {**GIFT, "tanggal_penerimaan": "2026-03-03"}
    jayapura = office("Asia/Jayapura")
    created = jayapura.create_case("gratifikasi", gift, filed_by=jayapura.load_actor("pegawai"))
    assert created.number.startswith("GRT-2026-")
    jakarta = office("Asia/Jakarta")
    with pytest.raises(ValidationFailed) as info:
        jakarta.create_case("gratifikasi", gift, filed_by=jakarta.load_actor("pegawai"))
    assert info.value.field_errors("en")["tanggal_penerimaan"] == "must not be after today (2026-03-02)"


@pytest.mark.parametrize("day", ["9999-12-01", "0001-01-01", "2026-03-03"])
def test_gift_date_out_of_range_is_refused_before_any_clock_starts(office, clock, day):
    eng = office("Asia/Jakarta")
    with pytest.raises(ValidationFailed) as info:
        eng.create_case("gratifikasi", {**GIFT, "tanggal_penerimaan": day}, filed_by=eng.load_actor("pegawai"))
    assert set(info.value.errors) == {"tanggal_penerimaan"}


def test_nan_value_is_refused_by_the_engine(office):
    eng = office("Asia/Jakarta")
    for raw in ("nan", float("inf"), "1e999"):
        with pytest.raises(ValidationFailed) as info:
            eng.create_case(
                "gratifikasi",
                {**GIFT, "nilai_taksiran": raw, "tanggal_penerimaan": "2026-02-27"},
                filed_by=eng.load_actor("pegawai"),
            )
        assert info.value.field_errors("id") == {
            "nilai_taksiran": "harus berupa angka terhingga (bukan NaN atau tak hingga)"
        }
        assert info.value.field_errors("en") == {"nilai_taksiran": "must be a finite number (not NaN or infinity)"}


def test_scheduler_daily_jobs_run_in_the_office_zone(office):
    sched = scheduler.build_scheduler(office("Asia/Jayapura"), blocking=False)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert str(jobs["digest"].trigger.timezone) == "Asia/Jayapura" and "hour='7'" in str(jobs["digest"].trigger)
    assert jobs["digest"].name == "daily digest (07:00 WIT)"
    assert jobs["checkpoint"].name == "signed audit checkpoint (every 10 min)"  # an interval: no zone
