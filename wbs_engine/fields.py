"""Validation of the data a form or a command gives for a case: one clear message per wrong field.

Values come in as text (a form, ``--field k=v``) or JSON values; what comes out is JSON-ready (dates as
ISO strings, money as whole Rupiah). Checks that need the database (a unit or user exists) are the
engine's. The module is pure: "today" (in the office's zone) is passed in by the caller.

Ranges:

* Numbers and money must be finite: ``nan``, ``inf``, ``1e999`` (and NaN or infinity given as JSON) are
  refused; they would pass every ``min``/``max`` comparison and poison sums and the audit trail's JSON.
* A date or date-time a person declares (when a gift was received, when something happened) must not lie
  after today and not more than :data:`PAST_LIMIT_YEARS` (50) years before it: older events are outside
  any reporting period this system serves, and a typo such as 0026 or 9999 must not start an SLA clock.
  A *planned* date (:data:`PLANNED_DATE_FIELDS`: a deadline, a target, a planned decision) may lie up to
  :data:`FUTURE_LIMIT_YEARS` (10) years ahead instead. Without ``today`` only the working-day calendar's
  range (1950–2100) is enforced, so no value can make the clocks overflow either way.
* A date-time is checked by its date as written (no zone conversion): a form sends office wall-clock time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from .calendar import MAX_DATE, MIN_DATE
from .definition import FieldSpec
from .errors import ValidationFailed

#: How far back a declared date may lie, in years before today.
PAST_LIMIT_YEARS = 50
#: How far ahead a planned date may lie, in years after today.
FUTURE_LIMIT_YEARS = 10
#: Date fields that hold a plan rather than something that happened, so they may lie in the future.
#: The workflow schema (definition.FieldSpec) has no attribute for this yet; until it does, the planned
#: date fields of the shipped workflows are named here. Any other date field is "not after today".
PLANNED_DATE_FIELDS = frozenset({"tanggal_keputusan", "batas_waktu_mitigasi", "target_penyelesaian"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{6,20}$")
_TRUE = {"1", "true", "ya", "yes", "y", "on"}
_FALSE = {"0", "false", "tidak", "no", "n", "off"}


def _years_from(d: date, years: int) -> date:
    """``d`` moved by whole years (29 February becomes 28 February in a common year)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def date_window(today: date | None, *, planned: bool = False) -> tuple[date, date]:
    """The first and last date a field may hold (see the module docstring)."""
    if today is None:
        return MIN_DATE, MAX_DATE
    low = max(MIN_DATE, _years_from(today, -PAST_LIMIT_YEARS))
    high = min(MAX_DATE, _years_from(today, FUTURE_LIMIT_YEARS)) if planned else today
    return low, high


def _check_date(spec: FieldSpec, d: date, today: date | None) -> None:
    planned = spec.name in PLANNED_DATE_FIELDS
    low, high = date_window(today, planned=planned)
    if today is None and not low <= d <= high:
        raise ValueError(
            f"harus antara {low.isoformat()} dan {high.isoformat()}",
            f"must be between {low.isoformat()} and {high.isoformat()}",
        )
    if d > high:
        if planned:
            raise ValueError(
                f"tidak boleh setelah {high.isoformat()} (lebih dari {FUTURE_LIMIT_YEARS} tahun ke depan)",
                f"must not be after {high.isoformat()} (more than {FUTURE_LIMIT_YEARS} years ahead)",
            )
        raise ValueError(
            f"tidak boleh setelah hari ini ({high.isoformat()})",
            f"must not be after today ({high.isoformat()})",
        )
    if d < low:
        raise ValueError(
            f"tidak boleh sebelum {low.isoformat()} (lebih dari {PAST_LIMIT_YEARS} tahun yang lalu)",
            f"must not be before {low.isoformat()} (more than {PAST_LIMIT_YEARS} years ago)",
        )


_NOT_FINITE = (
    "harus berupa angka terhingga (bukan NaN atau tak hingga)",
    "must be a finite number (not NaN or infinity)",
)


def _refuse_non_finite(raw: Any) -> None:
    """Raise the NaN/infinity message if ``raw`` is, or spells, a number that is not finite."""
    if isinstance(raw, bool):
        return
    try:
        f = float(raw) if isinstance(raw, int | float) else float(str(raw).strip().replace(",", "."))
    except (ValueError, TypeError, OverflowError):  # not a number at all, or an int too big for a float
        return
    if not math.isfinite(f):
        raise ValueError(*_NOT_FINITE)


def _money(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float):
        return int(raw)
    text = str(raw).strip().lower().removeprefix("rp").strip().replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):  # 1.500.000 or 1,500,000
        text = re.sub(r"[.,]", "", text)
    return int(text)


def clean_value(spec: FieldSpec, raw: Any, *, today: date | None = None) -> Any:
    """Return the cleaned value or raise ``ValueError(id_text, en_text)``.

    ``today`` is the date in the office's zone; dates and date-times are checked against it (module
    docstring). Without it only the calendar's supported range is checked."""
    t = spec.type
    if t in ("text", "textarea", "unit", "user"):
        text = str(raw).strip()
        if spec.min_length and len(text) < spec.min_length:
            raise ValueError(
                f"minimal {spec.min_length} karakter (sekarang {len(text)})",
                f"at least {spec.min_length} characters (now {len(text)})",
            )
        max_len = spec.max_length or (20000 if t == "textarea" else 500)
        if len(text) > max_len:
            raise ValueError(f"maksimal {max_len} karakter", f"at most {max_len} characters")
        return text
    if t == "date":
        if isinstance(raw, date) and not isinstance(raw, datetime):
            d = raw
        else:
            try:
                d = date.fromisoformat(str(raw).strip())
            except ValueError:
                raise ValueError(
                    "tanggal tidak valid; gunakan format TTTT-BB-HH, mis. 2026-03-13",
                    "not a valid date; use YYYY-MM-DD, e.g. 2026-03-13",
                ) from None
        _check_date(spec, d, today)
        return d.isoformat()
    if t == "datetime":
        try:
            dt = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValueError(
                "waktu tidak valid; gunakan format TTTT-BB-HHTjj:mm", "not a valid date-time; use YYYY-MM-DDThh:mm"
            ) from None
        _check_date(spec, dt.date(), today)
        return dt.isoformat()
    if t in ("number", "money"):
        _refuse_non_finite(raw)
        try:
            value: float = _money(raw) if t == "money" else float(str(raw).strip().replace(",", "."))
        except (ValueError, TypeError, OverflowError):
            raise ValueError("harus berupa angka", "must be a number") from None
        if t == "money" and value < 0:
            raise ValueError("tidak boleh negatif", "must not be negative")
        if spec.min_value is not None and value < spec.min_value:
            raise ValueError(f"minimal {spec.min_value:g}", f"at least {spec.min_value:g}")
        if spec.max_value is not None and value > spec.max_value:
            raise ValueError(f"maksimal {spec.max_value:g}", f"at most {spec.max_value:g}")
        return int(value) if t == "money" or float(value).is_integer() else value
    if t == "email":
        text = str(raw).strip()
        if not _EMAIL.match(text) or len(text) > 200:
            raise ValueError("alamat e-mail tidak valid", "not a valid e-mail address")
        return text
    if t == "phone":
        text = str(raw).strip()
        if not _PHONE.match(text):
            raise ValueError("nomor telepon tidak valid", "not a valid phone number")
        return text
    if t == "select":
        text = str(raw).strip()
        allowed = [o.value for o in spec.options]
        if text not in allowed:
            raise ValueError(f"pilih salah satu: {', '.join(allowed)}", f"choose one of: {', '.join(allowed)}")
        return text
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("isi ya atau tidak", "answer yes or no")
    raise ValueError("jenis isian tidak dikenal", "unknown field type")  # unreachable: schema forbids it


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def validate(
    specs: Iterable[FieldSpec],
    data: Mapping[str, Any],
    *,
    required: Iterable[str] = (),
    allow_unknown: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
    """Validate ``data`` against ``specs``; names in ``required`` are required whatever the spec says.

    ``today`` (the date in the office's zone; the engine passes it) bounds the dates people declare."""
    specs = {s.name: s for s in specs}
    must = set(required) | {n for n, s in specs.items() if s.required}
    errors: dict[str, tuple[str, str]] = {}
    out: dict[str, Any] = {}
    for name, raw in data.items():
        spec = specs.get(name)
        if spec is None:
            if not allow_unknown:
                errors[name] = ("isian tidak dikenal di sini", "not a field of this form")
            continue
        if _empty(raw):
            continue
        try:
            out[name] = clean_value(spec, raw, today=today)
        except ValueError as exc:
            id_text, en_text = (exc.args + (exc.args[0],))[:2] if exc.args else ("tidak valid", "invalid")
            errors[name] = (id_text, en_text)
    for name in sorted(must):
        if name not in out and name not in errors:
            errors[name] = ("wajib diisi", "is required")
    if errors:
        raise ValidationFailed(errors)
    return out
