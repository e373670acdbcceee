"""Field validation: the ranges of declared dates and the refusal of numbers that are not finite."""

from __future__ import annotations

import json
from datetime import date

import pytest

from wbs_engine.definition import FieldSpec
from wbs_engine.errors import ValidationFailed
from wbs_engine.fields import FieldInvalid, clean_value, date_window, validate

TODAY = date(2026, 3, 2)
LABEL = {"id": "Isian", "en": "Field"}


def spec(name: str, type_: str, **kw) -> FieldSpec:
    return FieldSpec(name=name, type=type_, label=LABEL, **kw)


RECEIVED = spec("tanggal_penerimaan", "date")
HAPPENED = spec("waktu_kejadian", "datetime")
DEADLINE = spec("batas_waktu_mitigasi", "date")  # a planned date
AMOUNT = spec("nilai_taksiran", "money")
NUMBER = spec("jumlah", "number", min_value=0, max_value=100)


def refused(s: FieldSpec, raw, today=TODAY) -> tuple[str, str]:
    """Why ``raw`` is refused, in Indonesian and in English (a catalogue message, a ValueError too)."""
    with pytest.raises(ValueError) as info:
        clean_value(s, raw, today=today)
    assert isinstance(info.value, FieldInvalid)
    return info.value.msg.render("id"), info.value.msg.render("en")


# -- dates ------------------------------------------------------------------------------------------------


def test_dates_up_to_today_and_back_fifty_years_are_accepted():
    assert clean_value(RECEIVED, "2026-03-02", today=TODAY) == "2026-03-02"
    assert clean_value(RECEIVED, "1976-03-02", today=TODAY) == "1976-03-02"
    assert clean_value(RECEIVED, date(2026, 1, 5), today=TODAY) == "2026-01-05"


@pytest.mark.parametrize("raw", ["2026-03-03", "2099-01-01", "9999-12-01", "9999-12-31"])
def test_a_declared_date_after_today_is_refused(raw):
    id_text, en_text = refused(RECEIVED, raw)
    assert id_text == "tidak boleh setelah hari ini (2026-03-02)"
    assert en_text == "must not be after today (2026-03-02)"


@pytest.mark.parametrize("raw", ["1976-03-01", "1900-01-01", "0001-01-01", "0026-03-02"])
def test_a_declared_date_more_than_fifty_years_back_is_refused(raw):
    id_text, en_text = refused(RECEIVED, raw)
    assert id_text == "tidak boleh sebelum 1976-03-02 (lebih dari 50 tahun yang lalu)"
    assert en_text == "must not be before 1976-03-02 (more than 50 years ago)"


def test_datetime_fields_have_the_same_range():
    assert clean_value(HAPPENED, "2026-03-02T23:59", today=TODAY) == "2026-03-02T23:59:00"
    assert "setelah hari ini" in refused(HAPPENED, "2026-03-03T00:00")[0]
    assert "sebelum 1976-03-02" in refused(HAPPENED, "0001-01-01T00:00")[0]
    assert "setelah hari ini" in refused(HAPPENED, "9999-12-31T23:59:59")[0]


def test_planned_dates_may_lie_up_to_ten_years_ahead():
    assert clean_value(DEADLINE, "2026-06-30", today=TODAY) == "2026-06-30"
    assert clean_value(DEADLINE, "2036-03-02", today=TODAY) == "2036-03-02"
    id_text, en_text = refused(DEADLINE, "9999-12-01")
    assert id_text == "tidak boleh setelah 2036-03-02 (lebih dari 10 tahun ke depan)"
    assert en_text == "must not be after 2036-03-02 (more than 10 years ahead)"
    assert "50 tahun" in refused(DEADLINE, "0001-01-01")[0]


def test_without_today_only_the_calendar_range_holds():
    """A caller that has no 'today' still cannot pass a date the clocks would overflow on."""
    assert clean_value(RECEIVED, "2090-01-01") == "2090-01-01"
    assert refused(RECEIVED, "9999-12-01", today=None) == (
        "harus antara 1950-01-01 dan 2100-12-31",
        "must be between 1950-01-01 and 2100-12-31",
    )


def test_window_on_a_leap_day():
    assert date_window(date(2028, 2, 29)) == (date(1978, 2, 28), date(2028, 2, 29))
    assert date_window(date(2028, 2, 29), planned=True)[1] == date(2038, 2, 28)


def test_validate_threads_today_and_reports_every_field():
    with pytest.raises(ValidationFailed) as info:
        validate(
            [RECEIVED, DEADLINE],
            {"tanggal_penerimaan": "9999-12-01", "batas_waktu_mitigasi": "0001-01-01"},
            today=TODAY,
        )
    assert set(info.value.errors) == {"tanggal_penerimaan", "batas_waktu_mitigasi"}
    assert "tanggal_penerimaan: tidak boleh setelah hari ini" in info.value.message("id")
    assert "tanggal_penerimaan: must not be after today" in info.value.message("en")


# -- numbers ----------------------------------------------------------------------------------------------

NOT_FINITE = (
    "harus berupa angka terhingga (bukan NaN atau tak hingga)",
    "must be a finite number (not NaN or infinity)",
)


@pytest.mark.parametrize(
    "raw",
    ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", float("nan"), float("inf"), float("-inf")],
    ids=repr,
)
@pytest.mark.parametrize("s", [AMOUNT, NUMBER, spec("skor", "number")], ids=lambda s: s.name)
def test_nan_and_infinity_are_refused(s, raw):
    assert refused(s, raw) == NOT_FINITE


def test_nan_given_as_json_is_refused():
    data = json.loads('{"skor": NaN, "nilai_taksiran": Infinity}')  # what Python's json accepts
    with pytest.raises(ValidationFailed) as info:
        validate([spec("skor", "number"), AMOUNT], data)
    assert info.value.field_errors("id") == {"skor": NOT_FINITE[0], "nilai_taksiran": NOT_FINITE[0]}
    assert info.value.field_errors("en") == {"skor": NOT_FINITE[1], "nilai_taksiran": NOT_FINITE[1]}


def test_ordinary_numbers_still_pass():
    assert clean_value(AMOUNT, "Rp 1.500.000") == 1_500_000
    assert clean_value(AMOUNT, 750000.0) == 750000
    assert clean_value(NUMBER, "2,5") == 2.5
    assert clean_value(spec("skor", "number"), "1e300") == int(1e300)  # big but finite
    assert refused(AMOUNT, "sejuta") == ("harus berupa angka", "must be a number")


# -- messages ---------------------------------------------------------------------------------------------


def test_a_refusal_carries_its_values_as_parameters():
    """ValidationFailed holds a catalogue message per field; the values (here the maximum) are parameters."""
    title = spec("judul", "text", max_length=5)
    with pytest.raises(ValidationFailed) as info:
        validate([title, NUMBER], {"judul": "terlalu panjang", "jumlah": "101", "lain": "x"}, required=["jumlah2"])
    m = info.value.errors["judul"]
    assert (m.msgid, m.params) == ("at most {max} characters", {"max": 5})
    assert info.value.field_errors("id") == {
        "judul": "maksimal 5 karakter",
        "jumlah": "maksimal 100",
        "lain": "isian tidak dikenal di sini",
        "jumlah2": "wajib diisi",
    }
    assert info.value.field_errors("en") == {
        "judul": "at most 5 characters",
        "jumlah": "at most 100",
        "lain": "not a field of this form",
        "jumlah2": "is required",
    }
    assert info.value.to_dict("en")["params"]["fields"]["judul"] == "at most 5 characters"
