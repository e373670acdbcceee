"""Validation of the data a form or a command gives for a case: one clear message per wrong field.

Values come in as text (a form, ``--field k=v``) or JSON values; what comes out is JSON-ready (dates as
ISO strings, money as whole Rupiah). Checks that need the database (a unit or user exists) are the
engine's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from .definition import FieldSpec
from .errors import ValidationFailed

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{6,20}$")
_TRUE = {"1", "true", "ya", "yes", "y", "on"}
_FALSE = {"0", "false", "tidak", "no", "n", "off"}


def _money(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float):
        return int(raw)
    text = str(raw).strip().lower().removeprefix("rp").strip().replace(" ", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):  # 1.500.000 or 1,500,000
        text = re.sub(r"[.,]", "", text)
    return int(text)


def clean_value(spec: FieldSpec, raw: Any) -> Any:
    """Return the cleaned value or raise ``ValueError(id_text, en_text)``."""
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
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(
                "tanggal tidak valid; gunakan format TTTT-BB-HH, mis. 2026-03-13",
                "not a valid date; use YYYY-MM-DD, e.g. 2026-03-13",
            ) from None
    if t == "datetime":
        try:
            return datetime.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(
                "waktu tidak valid; gunakan format TTTT-BB-HHTjj:mm", "not a valid date-time; use YYYY-MM-DDThh:mm"
            ) from None
    if t in ("number", "money"):
        try:
            value: float = _money(raw) if t == "money" else float(str(raw).strip().replace(",", "."))
        except (ValueError, TypeError):
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
    specs: Iterable[FieldSpec], data: Mapping[str, Any], *, required: Iterable[str] = (), allow_unknown: bool = False
) -> dict[str, Any]:
    """Validate ``data`` against ``specs``; names in ``required`` are required whatever the spec says."""
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
            out[name] = clean_value(spec, raw)
        except ValueError as exc:
            id_text, en_text = (exc.args + (exc.args[0],))[:2] if exc.args else ("tidak valid", "invalid")
            errors[name] = (id_text, en_text)
    for name in sorted(must):
        if name not in out and name not in errors:
            errors[name] = ("wajib diisi", "is required")
    if errors:
        raise ValidationFailed(errors)
    return out
