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

Every refusal is a catalogue message with its values as parameters (:class:`FieldInvalid` from
:func:`clean_value`, a :class:`~wbs_engine.i18n.Msg` per field in :class:`~wbs_engine.errors.ValidationFailed`
from :func:`validate`), rendered in the reader's language where it is shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from . import textsafe
from .calendar import MAX_DATE, MIN_DATE
from .definition import FieldSpec
from .errors import ValidationFailed
from .i18n import Msg
from .i18n import gettext_noop as _

#: How far back a declared date may lie, in years before today.
PAST_LIMIT_YEARS = 50
#: How far ahead a planned date may lie, in years after today.
FUTURE_LIMIT_YEARS = 10
#: Date fields that hold a plan rather than something that happened, so they may lie in the future.
#: The workflow schema (definition.FieldSpec) has no attribute for this yet; until it does, the planned
#: date fields of the shipped workflows are named here. Any other date field is "not after today".
PLANNED_DATE_FIELDS = frozenset({"tanggal_keputusan", "batas_waktu_mitigasi", "target_penyelesaian"})

#: one address, and only one: a local part of the characters RFC 5322 allows unquoted (no comma, semicolon,
#: quote, angle bracket or space, which a mail header reads as a list or a display name), then a domain of
#: letter/digit/hyphen labels with at least one dot. The status mail goes to exactly the address typed.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{6,20}$")
_TRUE = {"1", "true", "ya", "yes", "y", "on"}
_FALSE = {"0", "false", "tidak", "no", "n", "off"}


class FieldInvalid(ValueError):
    """What is wrong with one value: ``msg``, a catalogue message with its parameters (``FieldInvalid(_("at
    most {max} characters"), max=500)``). A :class:`ValueError`, so a caller may catch either."""

    def __init__(self, msgid: str, /, **params: Any):
        self.msg = Msg(msgid, **params)
        super().__init__(self.msg)


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
        raise FieldInvalid(_("must be between {low} and {high}"), low=low.isoformat(), high=high.isoformat())
    if d > high:
        if planned:
            raise FieldInvalid(
                _("must not be after {high} (more than {years} years ahead)"),
                high=high.isoformat(),
                years=FUTURE_LIMIT_YEARS,
            )
        raise FieldInvalid(_("must not be after today ({today})"), today=high.isoformat())
    if d < low:
        raise FieldInvalid(
            _("must not be before {low} (more than {years} years ago)"), low=low.isoformat(), years=PAST_LIMIT_YEARS
        )


#: the largest whole number canonical JSON (RFC 8785, the audit trail's hashing) holds exactly: 2**53 - 1
MAX_SAFE_INTEGER = 2**53 - 1


def _refuse_non_finite(raw: Any) -> None:
    """Raise the NaN/infinity message if ``raw`` is, or spells, a number that is not finite."""
    if isinstance(raw, bool):
        return
    try:
        f = float(raw) if isinstance(raw, int | float) else float(str(raw).strip().replace(",", "."))
    except (ValueError, TypeError, OverflowError):  # not a number at all, or an int too big for a float
        return
    if not math.isfinite(f):
        raise FieldInvalid(_("must be a finite number (not NaN or infinity)"))


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
    """Return the cleaned value or raise :class:`FieldInvalid` (its ``msg`` says what is wrong).

    ``today`` is the date in the office's zone; dates and date-times are checked against it (module
    docstring). Without it only the calendar's supported range is checked."""
    t = spec.type
    if t in ("text", "textarea", "unit", "user"):
        text = str(raw).strip()
        if spec.min_length and len(text) < spec.min_length:
            raise FieldInvalid(_("at least {min} characters (now {length})"), min=spec.min_length, length=len(text))
        max_len = spec.max_length or (20000 if t == "textarea" else 500)
        if len(text) > max_len:
            raise FieldInvalid(_("at most {max} characters"), max=max_len)
        return text
    if t == "date":
        if isinstance(raw, date) and not isinstance(raw, datetime):
            d = raw
        else:
            try:
                d = date.fromisoformat(str(raw).strip())
            except ValueError:
                raise FieldInvalid(_("not a valid date; use YYYY-MM-DD, e.g. 2026-03-13")) from None
        _check_date(spec, d, today)
        return d.isoformat()
    if t == "datetime":
        try:
            dt = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
        except ValueError:
            raise FieldInvalid(_("not a valid date-time; use YYYY-MM-DDThh:mm")) from None
        _check_date(spec, dt.date(), today)
        return dt.isoformat()
    if t in ("number", "money"):
        _refuse_non_finite(raw)
        try:
            value: float = _money(raw) if t == "money" else float(str(raw).strip().replace(",", "."))
        except (ValueError, TypeError, OverflowError):
            raise FieldInvalid(_("must be a number")) from None
        if t == "money" and value < 0:
            raise FieldInvalid(_("must not be negative"))
        if t == "money" and value > MAX_SAFE_INTEGER:  # the trail's canonical JSON holds no larger integer
            raise FieldInvalid(_("at most {max}"), max=f"{MAX_SAFE_INTEGER}")
        if spec.min_value is not None and value < spec.min_value:
            raise FieldInvalid(_("at least {min}"), min=f"{spec.min_value:g}")
        if spec.max_value is not None and value > spec.max_value:
            raise FieldInvalid(_("at most {max}"), max=f"{spec.max_value:g}")
        return int(value) if t == "money" or float(value).is_integer() else value
    if t == "email":
        text = str(raw).strip()
        if not _EMAIL.fullmatch(text) or len(text) > 200:
            raise FieldInvalid(_("not a valid e-mail address"))
        return text
    if t == "phone":
        text = str(raw).strip()
        if not _PHONE.match(text):
            raise FieldInvalid(_("not a valid phone number"))
        return text
    if t == "select":
        text = str(raw).strip()
        allowed = [o.value for o in spec.options]
        if text not in allowed:
            raise FieldInvalid(_("choose one of: {choices}"), choices=", ".join(allowed))
        return text
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldInvalid(_("answer yes or no"))
    raise FieldInvalid(_("unknown field type"))  # unreachable: the schema forbids it


#: a text that holds a NUL or a lone surrogate (:func:`wbs_engine.textsafe.storable`): refused wherever people type
UNSTORABLE = _("contains a character that cannot be kept (NUL or a broken Unicode character); remove it")


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

    ``today`` (the date in the office's zone; the engine passes it) bounds the dates people declare.
    Every wrong field is reported at once: :class:`~wbs_engine.errors.ValidationFailed` with a
    :class:`~wbs_engine.i18n.Msg` per field."""
    specs = {s.name: s for s in specs}
    must = set(required) | {n for n, s in specs.items() if s.required}
    errors: dict[str, Msg] = {}
    out: dict[str, Any] = {}
    for name, raw in data.items():
        spec = specs.get(name)
        if spec is None:
            if not allow_unknown:
                # the name is the caller's text too: shown visibly, never a NUL or a lone surrogate
                errors[textsafe.line(name)[:60] if isinstance(name, str) else str(name)] = Msg(
                    _("not a field of this form")
                )
            continue
        if _empty(raw):
            continue
        if isinstance(raw, str) and not textsafe.storable(raw):
            errors[name] = Msg(UNSTORABLE)
            continue
        try:
            out[name] = clean_value(spec, raw, today=today)
        except FieldInvalid as exc:
            errors[name] = exc.msg
        except ValueError:  # not one of the checks above (none is known to get here)
            errors[name] = Msg(_("invalid"))
    for name in sorted(must):
        if name not in out and name not in errors:
            errors[name] = Msg(_("is required"))
    if errors:
        raise ValidationFailed(errors)
    return out
