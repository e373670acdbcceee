"""The public statistics (*statistik publik*): what the office publishes about its integrity processes, as
the Zona Integritas evaluation asks (results reported *and published*). A read model: no Flask, no writes.

:func:`public_statistics` gives, for one year (cases **filed** in that year, in the office's zone, as they
stand now) and per reported case type:

* **counts per stage**, in the words a citizen understands: received, being verified, being followed up,
  closed (the state's ``phase``; ``final`` states are closed);
* **counts per month filed**;
* **the share of the closed cases that were closed within their limits**: a closed case is *within its
  limits* when none of its clocks that measure the office missed its deadline: no clock was ever breached
  (``breached_at``), none stopped at or after its deadline, none still open past its deadline when the case
  closed. Only the clocks that measure the office count (:meth:`WorkflowDef.clock_measures`): a clock whose
  breach ``fire``\\ s a transition (the wait for a reporter's answer or confirmation, a report lapsing when
  not completed) is the workflow closing the wait by itself, and a clock that measures the reporter (the
  employee's own limits to report a gift, a wait for the reporter's answer) is not the office being late. A
  closed case without any counted clock missed no limit;
* **the satisfaction index per quarter** (:func:`wbs_engine.survey.survey_results`, PermenPANRB 14/2017) for
  each quarter of the year that has **ended**: a quarter still running would change from day to day, and two
  looks a day apart could isolate the rating given that day (docs/decisions.md, "differencing");
* **the latest signed audit head** and the office's **public key**, so that anyone can keep them and later
  check with ``wbs verify-audit --against FILE`` that history was not rewritten.

What it promises (tests/integration/test_statistics.py tries each):

* **No small numbers.** Every count under :data:`MIN_COUNT` (zero included) is given as ``"< 5"`` with no
  value at all in the result (the template cannot show what it never receives). Where a total is shown and
  a hidden count of 1–4 in a row could be worked out from it (one hidden count, or hidden counts that could
  only be all 4), the next smallest count is hidden too, shown as ``"≥ 5"`` (true, and not exact). A zero
  that can be worked out (every case of the year in March) is left so: it points at no one. A
  share is given only over at least five closed cases; when the on-time or the late count is under five,
  only a bound (``"≥ 80%"``, ``"≤ 20%"``), and nothing when both are.
* **No personal data, no free text.** Only counts by type, phase, month and clock outcome are read: no
  field of a case, no name, no unit, no number.
* Which case types: those someone *reports* (``filed_by`` names ``public`` or ``pegawai``); an office's
  internal register (``identifikasi_bk``, filed only by its officials) is not a report and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from . import audit, survey
from .calendar import MIN_DATE
from .db import unit_of_work
from .definition import WorkflowDef
from .engine import WbsEngine
from .errors import ValidationFailed
from .i18n import Msg, render
from .i18n import gettext_noop as _
from .models import Case, Clock

#: below this a count is not shown
MIN_COUNT = 5
#: who files a case type that is a *report* (and so is on the public page)
REPORTERS = frozenset({"public", "pegawai"})
#: the stages a citizen reads, in order (a workflow state's ``phase``; ``final`` states are ``closed``)
PHASES: tuple[tuple[str, str], ...] = (
    ("intake", _("Received")),
    ("verification", _("Being verified")),
    ("follow_up", _("Being followed up")),
    ("closed", _("Closed")),
)
SMALL = "< 5"
HIDDEN = "≥ 5"

_CASES = Case.__table__
_CLOCKS = Clock.__table__


# --- small counts ---------------------------------------------------------------------------------------


@dataclass
class _Cell:
    value: int
    hidden: str | None = None  # None (shown), "small" (< 5) or "secondary" (≥ 5, hidden to protect a small one)

    def public(self) -> dict[str, Any]:
        if self.hidden == "small":
            return {"value": None, "text": SMALL, "suppressed": True}
        if self.hidden == "secondary":
            return {"value": None, "text": HIDDEN, "suppressed": True}
        return {"value": self.value, "text": str(self.value), "suppressed": False}


def cell(value: int) -> dict[str, Any]:
    """One count as the page may show it: ``{"value", "text", "suppressed"}``; under :data:`MIN_COUNT`
    no value, the text ``"< 5"``."""
    return _Cell(value, "small" if value < MIN_COUNT else None).public()


def _forced(cells: list[_Cell], total: int) -> bool:
    """Could a hidden small count (1–4) be worked out from the total and the shown counts? Hidden small
    counts lie in 0..4, hidden secondary ones in 5.. ; a small one is forced when its range given the others
    is one value above zero (a zero that can be worked out points at no one)."""
    hidden = [c for c in cells if c.hidden]
    rest = total - sum(c.value for c in cells if not c.hidden)
    for i, c in enumerate(hidden):
        if c.hidden != "small":
            continue
        others = hidden[:i] + hidden[i + 1 :]
        lo_others = sum(MIN_COUNT for o in others if o.hidden == "secondary")
        if any(o.hidden == "secondary" for o in others):
            lo = 0
        else:
            lo = max(0, rest - (MIN_COUNT - 1) * len(others))
        hi = min(MIN_COUNT - 1, rest - lo_others)
        if lo == hi and lo > 0:
            return True
    return False


def suppress_row(values: list[int], total: int) -> list[dict[str, Any]]:
    """Counts that add up to ``total`` (shown when ≥ 5): the small ones hidden, and more hidden (smallest
    first) while a hidden one could be worked out from the total."""
    return _suppressed(values, total)[0]


def _suppressed(values: list[int], total: int) -> tuple[list[dict[str, Any]], bool]:
    """:func:`suppress_row`, and whether the row still gives a small count away through its total (every part
    hidden and still forced, e.g. 4 + 4 = 8): then the total itself must be hidden too."""
    cells = [_Cell(v, "small" if v < MIN_COUNT else None) for v in values]
    if total >= MIN_COUNT:
        while any(c.hidden for c in cells) and _forced(cells, total):
            shown = [c for c in cells if not c.hidden]
            if not shown:
                return [c.public() for c in cells], True
            min(shown, key=lambda c: c.value).hidden = "secondary"
    return [c.public() for c in cells], False


def _hidden_total(value: int) -> dict[str, Any]:
    """A total hidden because its parts would give a small count away (shown as "≥ 5" when it is)."""
    return _Cell(value, "small" if value < MIN_COUNT else "secondary").public()


def share(on_time: int, late: int, lang: str = "id") -> dict[str, Any]:
    """The share closed within the limits, ``{"percent", "bound", "text"}``: exact (rounded half up to a whole
    percent) when both counts are ≥ 5; a bound when one of them is small (``at_least``/``at_most``); nothing
    (``text`` says why) when both are small or fewer than five cases closed."""
    closed = on_time + late
    if closed < MIN_COUNT or (on_time < MIN_COUNT and late < MIN_COUNT):
        return {"percent": None, "bound": None, "text": render(_("too few closed cases to show"), lang)}
    if late < MIN_COUNT:  # on time ≥ closed - 4
        pct = (closed - (MIN_COUNT - 1)) * 100 // closed
        return {"percent": pct, "bound": "at_least", "text": f"≥ {pct}%"}
    if on_time < MIN_COUNT:  # on time ≤ 4
        pct = -(-(MIN_COUNT - 1) * 100 // closed)
        return {"percent": pct, "bound": "at_most", "text": f"≤ {pct}%"}
    pct = (on_time * 200 + closed) // (2 * closed)
    return {"percent": pct, "bound": "exact", "text": f"{pct}%"}


# --- the figures ------------------------------------------------------------------------------------------


def reported_types(engine: WbsEngine) -> list[WorkflowDef]:
    """The case types on the public page, in the order of the workflow files."""
    return [
        d for d in (engine.registry.latest(k).definition for k in engine.registry.keys) if REPORTERS & set(d.filed_by)
    ]


def _utc(engine: WbsEngine, day: date) -> datetime:
    return datetime.combine(day, time(0), engine.settings.zone).astimezone(UTC)


def today(engine: WbsEngine) -> date:
    return engine.now().astimezone(engine.settings.zone).date()


def years(engine: WbsEngine) -> list[int]:
    """The years the page offers, newest first: from the first year a reported case was filed to this year."""
    this = today(engine).year
    keys = [d.key for d in reported_types(engine)]
    with unit_of_work(engine.db, write=False) as s:
        first = (
            s.connection()
            .execute(sa.select(sa.func.min(_CASES.c.created_at)).where(_CASES.c.case_type.in_(keys)))
            .scalar()
        )
    start = first.astimezone(engine.settings.zone).year if first is not None else this
    return list(range(this, min(start, this) - 1, -1))


def _check_year(engine: WbsEngine, year: Any) -> int:
    this = today(engine).year
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_DATE.year <= year <= this:
        raise ValidationFailed(
            {"tahun": Msg(_("choose a year from {first} to {last}"), first=MIN_DATE.year, last=this)}
        )
    return year


def _late_cases(engine: WbsEngine, s: Any, keys: list[str], start: datetime, end: datetime) -> dict[str, set[int]]:
    """Per case type, the closed cases filed in [start, end) with at least one counted clock past its limit."""
    c, k = _CASES, _CLOCKS
    late = sa.or_(
        k.c.breached_at.is_not(None),
        sa.and_(k.c.stopped_at.is_not(None), k.c.due_at.is_not(None), k.c.stopped_at >= k.c.due_at),
        sa.and_(k.c.stopped_at.is_(None), k.c.due_at.is_not(None), k.c.due_at <= c.c.closed_at),
    )
    rows = s.connection().execute(
        sa.select(c.c.id, c.c.case_type, c.c.workflow_version, k.c.name)
        .join(k, k.c.case_id == c.c.id)
        .where(c.c.case_type.in_(keys), c.c.final.is_(True), c.c.created_at >= start, c.c.created_at < end, late)
    )
    counted: dict[tuple[str, int], set[str]] = {}
    found: dict[str, set[int]] = {}
    for case_id, ctype, version, name in rows:
        if (ctype, version) not in counted:
            defn = engine.registry.get(s, ctype, version).definition
            counted[(ctype, version)] = {n for n in defn.clocks if defn.clock_measures(n) == "office"}
        if name in counted[(ctype, version)]:
            found.setdefault(ctype, set()).add(case_id)
    return found


def _quarters(engine: WbsEngine, defn: WorkflowDef, year: int, lang: str) -> list[dict[str, Any]]:
    """The satisfaction index of each quarter of ``year`` that has ended (ratings given in it)."""
    out = []
    last_day = today(engine) - timedelta(days=1)
    for q in range(1, 5):
        since = date(year, 3 * q - 2, 1)
        until = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
        label = render(_("Quarter {n} {year}"), lang, n=q, year=year)
        if until > last_day:
            out.append(
                {
                    "quarter": q,
                    "label": label,
                    "ended": False,
                    "responses": None,
                    "index": None,
                    "category": None,
                    "category_label": None,
                    "note": render(_("this quarter has not ended yet"), lang),
                }
            )
            continue
        res = survey.survey_results(engine, case_type=defn.key, since=since, until=until)
        out.append(
            {
                "quarter": q,
                "label": label,
                "ended": True,
                "responses": res.responses,  # None below five
                "index": str(res.index) if res.index is not None else None,
                "index_value": float(res.index) if res.index is not None else None,
                "category": res.category,
                "category_label": survey.category_label(res.category, lang),
                "note": render(survey.TOO_FEW, lang, min=res.min_responses) if res.suppressed else None,
            }
        )
    return out


def _month_names(lang: str) -> dict[int, str]:
    from babel.dates import get_month_names  # only the web page needs it

    return dict(get_month_names("abbreviated", locale=lang))


def head(engine: WbsEngine) -> dict[str, Any] | None:
    """The latest signed checkpoint as the line ``wbs audit-head`` prints, with its facts; None before the
    first checkpoint."""
    with unit_of_work(engine.db, write=False) as s:
        cp = audit.latest_checkpoint(s)
    if cp is None:
        return None
    return {
        "line": audit.head_line(cp, engine.keyring.public_b64),
        "seq": cp.seq,
        "at": cp.created_at.astimezone(engine.settings.zone),
        "hash": cp.hash,
    }


def public_statistics(engine: WbsEngine, year: int | None = None, lang: str = "id") -> dict[str, Any]:
    """The public statistics of ``year`` (None: this year, in the office's zone) in ``lang``; see the module's
    docstring for what each figure means. A year before 1950 or after this one is :class:`ValidationFailed`
    (``tahun``). Every count is a :func:`cell` (no value under five)."""
    year = today(engine).year if year is None else _check_year(engine, year)
    defs = reported_types(engine)
    keys = [d.key for d in defs]
    start, end = _utc(engine, date(year, 1, 1)), _utc(engine, date(year + 1, 1, 1))
    month_starts = [_utc(engine, date(year, m, 1)) for m in range(2, 13)]
    c = _CASES
    month = sa.case(*[(c.c.created_at < b, m) for m, b in enumerate(month_starts, 1)], else_=12)
    stage = sa.case((c.c.final.is_(True), "closed"), (c.c.phase == "closure", "closed"), else_=c.c.phase)
    in_year = sa.and_(c.c.case_type.in_(keys), c.c.created_at >= start, c.c.created_at < end)
    inner = sa.select(c.c.case_type.label("t"), stage.label("p"), month.label("m")).where(in_year).subquery()
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        conn = s.connection()
        by_stage: dict[tuple[str, str], int] = {
            (t, p): n
            for t, p, n in conn.execute(sa.select(inner.c.t, inner.c.p, sa.func.count()).group_by(inner.c.t, inner.c.p))
        }
        by_month: dict[tuple[str, int], int] = {
            (t, m): n
            for t, m, n in conn.execute(sa.select(inner.c.t, inner.c.m, sa.func.count()).group_by(inner.c.t, inner.c.m))
        }
        late = _late_cases(engine, s, keys, start, end)
    months = _month_names(lang)
    types = []
    for d in defs:
        phases = [by_stage.get((d.key, p), 0) for p, _label in PHASES]
        total = sum(phases)
        per_month = [by_month.get((d.key, m), 0) for m in range(1, 13)]
        closed = phases[-1]
        n_late = len(late.get(d.key, ()))
        shown_phases, phases_forced = _suppressed(phases, total)
        shown_months, months_forced = _suppressed(per_month, total)
        # a total whose parts would give a small count away is hidden as well
        shown_total = _hidden_total(total) if (phases_forced or months_forced) else cell(total)
        # closed: the stage table's own cell (a fresh one would show what that table hid); its parts likewise
        shown_closed = shown_phases[-1] if not phases_forced else _hidden_total(closed)
        parts, parts_forced = _suppressed([closed - n_late, n_late], closed)
        if shown_closed["suppressed"] or parts_forced:
            parts = [_hidden_total(v) for v in (closed - n_late, n_late)]
            if parts_forced and not shown_closed["suppressed"]:
                shown_closed = _hidden_total(closed)
        top = max([m["value"] or 0 for m in shown_months] + [1])
        types.append(
            {
                "case_type": d.key,
                "label": d.label.get(lang),
                "total": shown_total,
                "phases": [
                    {"key": p, "label": render(label, lang), "count": shown}
                    for (p, label), shown in zip(PHASES, shown_phases, strict=True)
                ],
                "months": [
                    {
                        "month": m,
                        "label": months[m],
                        "count": shown,
                        "bar": round(100 * shown["value"] / top) if shown["value"] else 0,
                    }
                    for m, shown in enumerate(shown_months, 1)
                ],
                "limits": {
                    "closed": shown_closed,
                    # on time + late = closed: a small one must not follow from the other (or from the total)
                    **dict(zip(("on_time", "late"), parts, strict=True)),
                    "share": share(closed - n_late, n_late, lang)
                    if not shown_closed["suppressed"]
                    else {"percent": None, "bound": None, "text": render(_("too few closed cases to show"), lang)},
                },
                "survey": _quarters(engine, d, year, lang) if d.survey is not None else None,
            }
        )
    return {
        "year": year,
        "years": years(engine),
        "min_count": MIN_COUNT,
        "zone": engine.settings.zone_label,
        "types": types,
        "head": head(engine),
        "public_key": f"wbs-audit-key/1 id={engine.keyring.key_id} key={engine.keyring.public_b64}",
    }
