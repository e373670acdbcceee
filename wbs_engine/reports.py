"""The reports (*rekapitulasi*, *register*): the figures a unit needs for its own follow-up and for the Zona
Integritas evidence folder, as :class:`~wbs_engine.reportmodel.Report` objects that the pages, the charts
(:mod:`wbs_engine.charts`) and the export files (:mod:`wbs_engine.exports`) show. A read model: no Flask, and
:func:`build_report` writes nothing (:func:`record_export` is the one write, called by whoever hands a file out).

Kinds (:data:`REPORT_KINDS`):

* ``recap``: one case type: received / in progress / closed per unit (``summary``), per month (``months``),
  the outcome of each clock (``limits``), working days per stage (``stages``), reasons of closure
  (``closure``) and the satisfaction index (``survey``, only when the workflow asks for ratings);
* ``gratifikasi``: the gratuity register (objects, values, KPK decisions, hand-overs; ``register``,
  ``by_kind``, ``by_decision``);
* ``benturan_kepentingan``: the conflict-of-interest register (``register``, ``by_source``);
* ``identifikasi_bk``: the register of potential conflicts per main function (``register``, ``by_function``).

How it counts (also in every report's ``notes``, in words):

* **Which cases**: filed (``created_at``) from ``since`` to ``until``, both included, days in the office's
  zone; as they stand now (a case filed in the period and closed after it counts as closed).
* **Whose**: only cases a viewer's grant in :data:`REPORT_ROLES` covers (unit and case type). A grant for
  one unit never covers a case of another unit, nor a case **with no unit**: those are counted only for a
  viewer whose grant covers every unit. Cases the viewer is recused from are left out.
* **Clocks** (``limits``): one row per case and clock (``case_clock`` keeps one row per clock; a clock that
  started again counts by its latest run). *Within*: stopped before its due time, never breached. *Over*:
  breached, stopped at or after its due time, or still open past its due time (of which *still open*). *Running*:
  still open before its due time. Share within = within / (within + over). A clock *measures the reporter*
  (not the office being late) when its breach fires a transition (the workflow closes the wait itself), when
  it counts from a date the reporter gave at filing (an employee's legal limit), or when it runs only in
  states where another clock of the workflow pauses (the office waits for the reporter).
* **Stages**: a stay is an entry into a non-final state (an event whose ``to_state`` differs from the state
  before) up to the next event that leaves it; only completed stays count. Working days from the day entered
  to the day left, both taken as the clocks take them (after office hours or on a day off: the next working
  day); 0 when left the same day. Mean to one decimal; 90th percentile by the nearest-rank method
  (the ⌈0.9·n⌉-th smallest).
* **Only plain values**: values come from ``case_file.data`` (the fields the workflow leaves plain) and are
  read only when the workflow's field is not sealed; nothing is ever decrypted, whatever the viewer may read
  on the case page. A destroyed case (retention) shows only its number, date filed and "destroyed".
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from . import audit, survey
from .calendar import MAX_DATE, MIN_DATE
from .db import unit_of_work
from .definition import WorkflowDef
from .engine import WbsEngine
from .errors import NotAllowed, ValidationFailed
from .i18n import Msg, render
from .i18n import gettext_noop as _
from .models import Case, CaseEvent, CaseRecusal, Clock, Unit
from .permissions import Actor, Grant, readable_roles
from .reportmodel import Chart, Column, Report, Section, Value

REPORT_KINDS = ("recap", "gratifikasi", "benturan_kepentingan", "identifikasi_bk")
REPORT_ROLES = frozenset({"auditor", "pengelola", "atasan", "upg"})
#: the registers' fixed case types
REGISTER_TYPES = {
    "gratifikasi": "gratifikasi",
    "benturan_kepentingan": "benturan_kepentingan",
    "identifikasi_bk": "identifikasi_bk",
}
#: the longest period a report covers
MAX_DAYS = 366 * 3
EXPORT_FORMATS = ("csv", "xlsx", "pdf")
NONE_UNIT = "—"

_C = Case.__table__
_K = Clock.__table__
_E = CaseEvent.__table__
_R = CaseRecusal.__table__
_U = Unit.__table__
_ONE = Decimal("0.1")

TITLES = {
    "recap": _("Recapitulation of {type}"),
    "gratifikasi": _("Gratuity register"),
    "benturan_kepentingan": _("Conflict-of-interest register"),
    "identifikasi_bk": _("Register of potential conflicts of interest per main function"),
}
DESTROYED = _("destroyed (retention)")
NOTE_CASES = _(
    "Cases filed from {since} to {until} (both included, office time), as they stand now; only the units the "
    "viewer's grants cover (cases without a unit only for a grant covering every unit); cases the viewer is "
    "recused from are left out."
)
NOTE_PLAIN = _(
    "Only plain values are shown: identities, confidential fields and free text never appear in a report. "
    "A case whose content was destroyed (retention) shows only its number, date filed and that it was destroyed."
)


# --- input and scope ----------------------------------------------------------------------------------------


def _report_grants(viewer: Actor, defn: WorkflowDef | None = None) -> list[Grant]:
    """The viewer's grants that give reports (of ``defn``'s case type, when given). A grant counts for a case
    type only when its role may read that type's cases at all (:func:`permissions.readable_roles`): the UPG
    gets no recap of complaints or WBS reports, a pengelola no gratuity register, as on the case pages."""
    if viewer.kind == "system":  # the installation's operator (``wbs export`` without --as): the whole office
        return [Grant("system")]
    if viewer.kind != "user":
        return []
    grants = [g for g in viewer.grants if g.role in REPORT_ROLES]
    if defn is None:
        return grants
    return [g for g in grants if g.case_type in (None, defn.key) and readable_roles(defn, {g.role})]


def report_scope(engine: WbsEngine, viewer: Actor, lang: str = "id") -> dict[str, list[tuple[str, str]]]:
    """The case types and units the viewer's grants in :data:`REPORT_ROLES` cover (a grant with unit or case
    type None covers every one), each (key, label), for the filters of the reports page."""
    types: list[tuple[str, str]] = []
    grants: list[Grant] = []
    for k in engine.registry.keys:
        defn = engine.registry.latest(k).definition
        if found := _report_grants(viewer, defn):
            types.append((k, defn.label.get(lang)))
            grants += found
    held_units = {g.unit_code for g in grants}
    with unit_of_work(engine.db, write=False) as s:
        units = s.connection().execute(sa.select(_U.c.code, _U.c.name).order_by(_U.c.code)).all()
    return {
        "types": types,
        "units": [(c, n) for c, n in units if grants and (None in held_units or c in held_units)],
    }


def _check(
    engine: WbsEngine, kind: Any, since: Any, until: Any, case_type: Any, unit: Any, known_units: set[str]
) -> str:
    errors: dict[str, Any] = {}
    ctype = case_type
    if kind not in REPORT_KINDS:
        errors["jenis"] = Msg(_("choose one of: {choices}"), choices=", ".join(REPORT_KINDS))
    elif kind == "recap":
        if case_type is None or case_type == "":
            errors["tipe"] = _("choose a case type")
        elif case_type not in engine.registry.keys:
            errors["tipe"] = Msg(
                _("unknown case type; choose one of: {choices}"), choices=", ".join(engine.registry.keys)
            )
    else:
        fixed = REGISTER_TYPES[kind]
        if case_type not in (None, "", fixed):
            errors["tipe"] = Msg(_("this register is always of case type {type}"), type=fixed)
        ctype = fixed
    good = {}
    for name, value in (("dari", since), ("sampai", until)):
        if not isinstance(value, date) or isinstance(value, datetime):
            errors[name] = _("enter a date (YYYY-MM-DD)")
        elif not MIN_DATE <= value <= MAX_DATE:
            errors[name] = Msg(
                _("choose a date from {first} to {last}"), first=MIN_DATE.isoformat(), last=MAX_DATE.isoformat()
            )
        else:
            good[name] = value
    if len(good) == 2:
        if since > until:
            errors["sampai"] = Msg(_("must not be before {since}"), since=since.isoformat())
        elif (until - since).days + 1 > MAX_DAYS:
            errors["sampai"] = Msg(_("a report covers at most {days} days"), days=MAX_DAYS)
    if unit is not None and (not isinstance(unit, str) or unit not in known_units):
        errors["unit"] = Msg(_("unknown unit {unit}"), unit=str(unit)[:40])
    if errors:
        raise ValidationFailed(errors)
    return ctype


def _refused(viewer: Actor, defn: WorkflowDef, lang: str) -> NotAllowed:
    return NotAllowed(_("{user} may not see reports of {type}."), user=viewer.username, type=defn.label.get(lang))


def _utc(engine: WbsEngine, day: date) -> datetime:
    return datetime.combine(day, time(0), engine.settings.zone).astimezone(UTC)


class _Scope:
    """The cases a report counts: a WHERE clause on ``case_file``."""

    def __init__(self, engine: WbsEngine, viewer: Actor, ctype: str, unit: str | None, since: date, until: date):
        grants = _report_grants(viewer, engine.registry.latest(ctype).definition)
        self.all_units = unit is None and any(g.unit_code is None for g in grants)
        self.start, self.end = _utc(engine, since), _utc(engine, until + timedelta(days=1))
        conds = [_C.c.case_type == ctype, _C.c.created_at >= self.start, _C.c.created_at < self.end]
        if unit is not None:
            conds.append(_C.c.unit_code == unit)
        elif not self.all_units:
            conds.append(_C.c.unit_code.in_(sorted({g.unit_code for g in grants})))
        if viewer.user_id is not None:
            conds.append(~sa.exists().where(_R.c.case_id == _C.c.id, _R.c.user_id == viewer.user_id))
        self.where = sa.and_(*conds)


# --- helpers ------------------------------------------------------------------------------------------------


def _fmt_date(d: date, lang: str) -> str:
    from babel.dates import format_date

    return format_date(d, "d MMM y", locale=lang)


def _month_names(lang: str) -> dict[int, str]:
    from babel.dates import get_month_names

    return dict(get_month_names("abbreviated", locale=lang))


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(_ONE, rounding=ROUND_HALF_UP)


def p90(values: list[int]) -> Decimal | None:
    """The 90th percentile by the nearest-rank method: the ⌈0.9·n⌉-th smallest value (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(Decimal(9) * len(ordered) / Decimal(10))
    return Decimal(ordered[max(rank, 1) - 1]).quantize(_ONE)


def _share(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(_ONE, rounding=ROUND_HALF_UP)


def _c(key: str, msgid: str, lang: str, kind: str = "text") -> Column:
    return Column(key, render(msgid, lang), kind)


class _Defs:
    """Workflow definitions by version (a case keeps the version it started on), for labels."""

    def __init__(self, engine: WbsEngine, s: Any, ctype: str):
        self.engine, self.s, self.ctype = engine, s, ctype
        self.latest = engine.registry.latest(ctype).definition
        self._by: dict[int, WorkflowDef] = {}

    def of(self, version: int) -> WorkflowDef:
        if version not in self._by:
            try:
                self._by[version] = self.engine.registry.get(self.s, self.ctype, version).definition
            except Exception:  # a version no longer on file: the newest labels
                self._by[version] = self.latest
        return self._by[version]

    def state_label(self, version: int, state: str, lang: str) -> str:
        st = self.of(version).states.get(state) or self.latest.states.get(state)
        return st.label.get(lang) if st is not None else state


def plain(defn: WorkflowDef, data: dict | None, name: str) -> Any:
    """A field's value from a case's plain data, only when the workflow declares the field and does not seal
    it (a sealed value is never in ``data``; this makes sure a report never shows one even if it were)."""
    spec = defn.field(name)
    if spec is None or spec.sealed or not data:
        return None
    return data.get(name)


def _option(defn: WorkflowDef, name: str, value: Any, lang: str) -> str | None:
    if value is None or value == "":
        return None
    spec = defn.field(name)
    if spec is not None:
        for o in spec.options:
            if o.value == value:
                return o.label.get(lang)
    return str(value)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _money(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(Decimal(str(value)))
    except Exception:
        return None


def clock_measures(defn: WorkflowDef, name: str) -> str:
    """``reporter`` or ``office``: :meth:`WorkflowDef.clock_measures` (the rule is the workflow's)."""
    return defn.clock_measures(name)


# --- the recap ----------------------------------------------------------------------------------------------


def _summary(conn: Any, scope: _Scope, units: dict[str, str], lang: str) -> Section:
    rows_db = conn.execute(
        sa.select(_C.c.unit_code, _C.c.final, sa.func.count()).where(scope.where).group_by(_C.c.unit_code, _C.c.final)
    ).all()
    per: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for code, final, n in rows_db:
        per[code][1 if final else 0] += n
    order = sorted(per, key=lambda c: (c is None, units.get(c or "", c or "")))
    rows: list[list[Value]] = []
    for code in order:
        open_, closed = per[code]
        name = units.get(code, code) if code is not None else NONE_UNIT
        rows.append([name, open_ + closed, open_, closed])
    tot = [sum(per[c][0] for c in per), sum(per[c][1] for c in per)]
    labels = [str(r[0]) for r in rows]
    return Section(
        key="summary",
        title=render(_("Received, in progress and closed per unit"), lang),
        columns=[
            _c("unit", _("Unit"), lang),
            _c("received", _("Received"), lang, "int"),
            _c("in_progress", _("In progress"), lang, "int"),
            _c("closed", _("Closed"), lang, "int"),
        ],
        rows=rows,
        total=[render(_("Total"), lang), tot[0] + tot[1], tot[0], tot[1]],
        chart=Chart(
            title=render(_("Cases per unit"), lang),
            kind="stacked",
            labels=labels,
            series=[
                (render(_("In progress"), lang), [float(r[2]) for r in rows]),
                (render(_("Closed"), lang), [float(r[3]) for r in rows]),
            ],
            unit=render(_("cases"), lang),
        ),
    )


def _month_list(since: date, until: date) -> list[tuple[int, int]]:
    out, y, m = [], since.year, since.month
    while (y, m) <= (until.year, until.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _months(engine: WbsEngine, conn: Any, scope: _Scope, since: date, until: date, lang: str) -> Section:
    months = _month_list(since, until)
    bounds = [_utc(engine, date(y, m, 1)) for y, m in months[1:]]

    def bucket(col: Any) -> Any:
        if not bounds:
            return sa.literal(0)
        return sa.case(*[(col < b, i) for i, b in enumerate(bounds)], else_=len(bounds))

    filed = dict(
        conn.execute(
            sa.select(bucket(_C.c.created_at).label("b"), sa.func.count()).where(scope.where).group_by(sa.text("b"))
        ).all()
    )
    closed_in = sa.and_(scope.where, _C.c.final.is_(True), _C.c.closed_at >= scope.start, _C.c.closed_at < scope.end)
    closed = dict(
        conn.execute(
            sa.select(bucket(_C.c.closed_at).label("b"), sa.func.count()).where(closed_in).group_by(sa.text("b"))
        ).all()
    )
    names = _month_names(lang)
    rows: list[list[Value]] = [
        [f"{names[m]} {y}", filed.get(i, 0), closed.get(i, 0)] for i, (y, m) in enumerate(months)
    ]
    return Section(
        key="months",
        title=render(_("Received and closed per month"), lang),
        columns=[
            _c("month", _("Month"), lang),
            _c("received", _("Received"), lang, "int"),
            _c("closed", _("Closed"), lang, "int"),
        ],
        rows=rows,
        total=[render(_("Total"), lang), sum(filed.values()), sum(closed.values())],
        note=render(
            _(
                "Received: cases filed in the month. Closed: cases of the period closed in the month (a case closed "
                "after the period is not in this table)."
            ),
            lang,
        ),
        chart=Chart(
            title=render(_("Cases per month"), lang),
            kind="bar",
            labels=[str(r[0]) for r in rows],
            series=[
                (render(_("Received"), lang), [float(r[1]) for r in rows]),
                (render(_("Closed"), lang), [float(r[2]) for r in rows]),
            ],
            unit=render(_("cases"), lang),
        ),
    )


def clock_outcome(now: datetime) -> Any:
    """SQL: a clock row's outcome: within | over | over_open | running."""
    k = _K
    late_stop = sa.or_(k.c.breached_at.is_not(None), sa.and_(k.c.due_at.is_not(None), k.c.stopped_at >= k.c.due_at))
    return sa.case(
        (sa.and_(k.c.stopped_at.is_not(None), late_stop), "over"),
        (k.c.stopped_at.is_not(None), "within"),
        (sa.or_(k.c.breached_at.is_not(None), sa.and_(k.c.due_at.is_not(None), k.c.due_at <= now)), "over_open"),
        else_="running",
    )


def _limits(engine: WbsEngine, conn: Any, scope: _Scope, defn: WorkflowDef, lang: str) -> Section:
    outcome = clock_outcome(engine.now()).label("o")
    inner = sa.select(_K.c.name.label("n"), outcome).join(_C, _C.c.id == _K.c.case_id).where(scope.where).subquery()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, o, n in conn.execute(sa.select(inner.c.n, inner.c.o, sa.func.count()).group_by(inner.c.n, inner.c.o)):
        counts[name][o] += n
    names = list(defn.clocks) + sorted(n for n in counts if n not in defn.clocks)
    rows: list[list[Value]] = []
    by_measure = {"office": render(_("office"), lang), "reporter": render(_("reporter"), lang)}
    for name in names:
        c = counts.get(name, {})
        within, over_open = c.get("within", 0), c.get("over_open", 0)
        over = c.get("over", 0) + over_open
        spec = defn.clocks.get(name)
        rows.append(
            [
                spec.label.get(lang) if spec else name,
                spec.limit.describe(lang) if spec else None,
                by_measure[clock_measures(defn, name)] if spec else None,
                within,
                over,
                over_open,
                c.get("running", 0),
                within + over + c.get("running", 0),
                _share(within, within + over),
            ]
        )
    tw, to, too, tr = (sum(int(r[i]) for r in rows) for i in (3, 4, 5, 6))  # type: ignore[arg-type]
    return Section(
        key="limits",
        title=render(_("Within and over each limit"), lang),
        columns=[
            _c("clock", _("Limit"), lang),
            _c("limit", _("Time allowed"), lang),
            _c("measures", _("Measures"), lang),
            _c("within", _("Within"), lang, "int"),
            _c("over", _("Over"), lang, "int"),
            _c("over_open", _("Over, still open"), lang, "int"),
            _c("running", _("Running, not yet due"), lang, "int"),
            _c("clocks", _("Clocks"), lang, "int"),
            _c("share_within", _("Share within"), lang, "percent"),
        ],
        rows=rows,
        total=[render(_("Total"), lang), None, None, tw, to, too, tr, tw + to + tr, _share(tw, tw + to)],
        note=render(
            _(
                "One row per case and limit (a limit started again counts by its latest run). Within: stopped before "
                "its due time. Over: breached, stopped at or after its due time, or still open past it. Share within "
                '= within / (within + over). "Measures: reporter": the limit measures the reporter or the workflow '
                "closes the wait by itself; it does not say the office was late."
            ),
            lang,
        ),
        chart=Chart(
            title=render(_("Within and over each limit"), lang),
            kind="stacked",
            labels=[str(r[0]) for r in rows],
            series=[
                (render(_("Within"), lang), [float(r[3]) for r in rows]),  # type: ignore[arg-type]
                (render(_("Over"), lang), [float(r[4]) for r in rows]),  # type: ignore[arg-type]
            ],
            unit=render(_("clocks"), lang),
        ),
    )


def stage_days(engine: WbsEngine, s: Any, scope: _Scope) -> dict[str, list[int]]:
    """Per state, the working days of every completed stay of the cases in ``scope`` (finals included; the
    recap shows the non-final ones)."""
    cal = engine.calendar(s)
    conn = s.connection()
    stmt = (
        sa.select(_E.c.case_id, _E.c.to_state, _E.c.occurred_at)
        .join(_C, _C.c.id == _E.c.case_id)
        .where(scope.where, _E.c.to_state.is_not(None), _E.c.chain == _C.c.number)
        .order_by(_E.c.case_id, _E.c.seq)
    )
    days_of: dict[tuple[date, date], int] = {}
    eff: dict[datetime, date] = {}

    def day(moment: datetime) -> date:
        if moment not in eff:
            eff[moment] = cal.effective_date(moment)
        return eff[moment]

    out: dict[str, list[int]] = defaultdict(list)
    case_id, state, entered = None, None, None
    for cid, to_state, at in conn.execute(stmt):
        if cid != case_id:
            case_id, state, entered = cid, to_state, at
            continue
        if to_state == state:
            continue  # a transition that stays in the state is not a new stay
        if state is not None and entered is not None:
            a, b = day(entered), day(at)
            if (a, b) not in days_of:
                days_of[(a, b)] = max(cal.working_days_between(a, b), 0)
            out[state].append(days_of[(a, b)])
        state, entered = to_state, at
    return out


def _stages(engine: WbsEngine, s: Any, scope: _Scope, defn: WorkflowDef, lang: str) -> Section:
    stays = stage_days(engine, s, scope)
    rows: list[list[Value]] = []
    for name, st in defn.states.items():
        if st.final:
            continue
        values = stays.get(name, [])
        rows.append([st.label.get(lang), len(values), _mean(values), p90(values)])
    return Section(
        key="stages",
        title=render(_("Working days per stage"), lang),
        columns=[
            _c("stage", _("Stage"), lang),
            _c("stays", _("Stays"), lang, "int"),
            _c("mean", _("Mean working days"), lang, "days"),
            _c("p90", _("90th percentile"), lang, "days"),
        ],
        rows=rows,
        note=render(
            _(
                "Completed stays only (a case still in a stage is not counted), from the day it entered to the day it "
                "left, in working days as the limits count them. 90th percentile by the nearest-rank method."
            ),
            lang,
        ),
        chart=Chart(
            title=render(_("Mean working days per stage"), lang),
            kind="bar",
            labels=[str(r[0]) for r in rows],
            series=[(render(_("Mean working days"), lang), [float(r[2] or 0) for r in rows])],
            unit=render(_("working days"), lang),
        ),
    )


def _closure(conn: Any, scope: _Scope, defn: WorkflowDef, lang: str) -> Section:
    counts = dict(
        conn.execute(
            sa.select(_C.c.state, sa.func.count()).where(scope.where, _C.c.final.is_(True)).group_by(_C.c.state)
        ).all()
    )
    total = sum(counts.values())
    finals = [n for n, st in defn.states.items() if st.final] + sorted(n for n in counts if n not in defn.states)
    rows: list[list[Value]] = []
    for name in finals:
        st = defn.states.get(name)
        n = counts.get(name, 0)
        rows.append([st.label.get(lang) if st else name, n, _share(n, total)])
    return Section(
        key="closure",
        title=render(_("Reasons of closure"), lang),
        columns=[
            _c("reason", _("Closed as"), lang),
            _c("count", _("Cases"), lang, "int"),
            _c("share", _("Share of closed"), lang, "percent"),
        ],
        rows=rows,
        total=[render(_("Total"), lang), total, _share(total, total)],
        chart=Chart(
            title=render(_("Reasons of closure"), lang),
            kind="bar",
            labels=[str(r[0]) for r in rows],
            series=[(render(_("Cases"), lang), [float(r[1]) for r in rows])],  # type: ignore[arg-type]
            unit=render(_("cases"), lang),
        ),
    )


def _survey(engine: WbsEngine, scope: _Scope, defn: WorkflowDef, since: date, until: date, lang: str) -> Section:
    columns = [
        _c("element", _("Element"), lang),
        _c("responses", _("Responses"), lang, "int"),
        _c("index", _("Index"), lang, "index"),
        _c("category", _("Category"), lang),
    ]
    title = render(_("Satisfaction index"), lang)
    if not scope.all_units:
        return Section(
            key="survey",
            title=title,
            columns=columns,
            rows=[],
            note=render(
                _(
                    "The satisfaction index is computed over every unit; it is shown only to a viewer whose grant "
                    "covers every unit, and not for one unit."
                ),
                lang,
            ),
        )
    res = survey.survey_results(engine, case_type=defn.key, since=since, until=until)
    if res.suppressed:
        return Section(
            key="survey",
            title=title,
            columns=columns,
            rows=[],
            note=render(survey.TOO_FEW, lang, min=res.min_responses),
        )

    def cat(letter: str | None) -> str | None:
        return f"{letter} ({survey.category_label(letter, lang)})" if letter else None

    rows: list[list[Value]] = [
        [e.label.get(lang) if e.label else e.key, e.responses, e.index, cat(e.category)] for e in res.elements
    ]
    return Section(
        key="survey",
        title=title,
        columns=columns,
        rows=rows,
        total=[render(_("Satisfaction index"), lang), res.responses, res.index, cat(res.category)],
        note=render(
            _("Ratings given from {since} to {until} (PermenPANRB 14/2017: the mean of the elements' means ×25)."),
            lang,
            since=since.isoformat(),
            until=until.isoformat(),
        ),
    )


# --- the registers ----------------------------------------------------------------------------------------


def _case_rows(conn: Any, scope: _Scope) -> list[Any]:
    return conn.execute(
        sa.select(
            _C.c.id,
            _C.c.number,
            _C.c.workflow_version,
            _C.c.state,
            _C.c.final,
            _C.c.unit_code,
            _C.c.created_at,
            _C.c.closed_at,
            _C.c.data,
            (_C.c.data_key.is_(None)).label("destroyed"),
        )
        .where(scope.where)
        .order_by(_C.c.created_at, _C.c.id)
    ).all()


def _local(engine: WbsEngine, moment: datetime | None) -> date | None:
    return moment.astimezone(engine.settings.zone).date() if moment is not None else None


def _destroyed_row(engine: WbsEngine, r: Any, width: int, date_col: int, state_col: int, lang: str) -> list[Value]:
    row: list[Value] = [None] * width
    row[0], row[date_col], row[state_col] = r.number, _local(engine, r.created_at), render(DESTROYED, lang)
    return row


DECISIONS = {
    "keputusan_milik_negara": _("State property"),
    "keputusan_milik_penerima": _("Recipient's property"),
}


def _gratifikasi(engine: WbsEngine, s: Any, scope: _Scope, defs: _Defs, lang: str, units: dict) -> list[Section]:
    conn = s.connection()
    cases = _case_rows(conn, scope)
    decided: dict[int, str] = {}
    for cid, trig in conn.execute(
        sa.select(_E.c.case_id, _E.c.trigger)
        .join(_C, _C.c.id == _E.c.case_id)
        .where(scope.where, _E.c.trigger.in_(list(DECISIONS)))
        .order_by(_E.c.case_id, _E.c.seq)
    ):
        decided[cid] = trig  # the latest decision of each case
    yes, no = render(_("yes"), lang), render(_("no"), lang)
    columns = [
        _c("number", _("Number"), lang),
        _c("filed", _("Date filed"), lang, "date"),
        _c("received", _("Date received"), lang, "date"),
        _c("unit", _("Unit"), lang),
        _c("kind", _("Kind"), lang),
        _c("value", _("Estimated value"), lang, "money"),
        _c("refused", _("Refused"), lang),
        _c("state", _("State"), lang),
        _c("kpk_number", _("KPK report number"), lang),
        _c("kpk_date", _("Date KPK received it"), lang, "date"),
        _c("decision", _("KPK decision"), lang),
        _c("decision_number", _("Decision number"), lang),
        _c("decision_date", _("Decision date"), lang, "date"),
        _c("letter_received", _("Recipient got the decision"), lang, "date"),
        _c("handed_over", _("Hand-over date"), lang, "date"),
        _c("form", _("Form of hand-over"), lang),
        _c("proof", _("Proof number"), lang),
    ]
    rows: list[list[Value]] = []
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    decisions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    none_decided = render(_("no KPK decision"), lang)
    for r in cases:
        if r.destroyed:
            rows.append(_destroyed_row(engine, r, len(columns), 1, 7, lang))
            continue
        d = defs.of(r.workflow_version)
        data = r.data or {}
        value = _money(plain(d, data, "nilai_taksiran"))
        kind = _option(d, "jenis", plain(d, data, "jenis"), lang)
        refused = plain(d, data, "penolakan")
        decision = render(DECISIONS[decided[r.id]], lang) if r.id in decided else None
        rows.append(
            [
                r.number,
                _local(engine, r.created_at),
                _as_date(plain(d, data, "tanggal_penerimaan")),
                units.get(r.unit_code, r.unit_code) if r.unit_code else NONE_UNIT,
                kind,
                value,
                yes if refused is True else no,
                defs.state_label(r.workflow_version, r.state, lang),
                plain(d, data, "nomor_laporan_kpk"),
                _as_date(plain(d, data, "tanggal_laporan_kpk")),
                decision,
                plain(d, data, "nomor_keputusan_kpk"),
                _as_date(plain(d, data, "tanggal_keputusan_kpk")),
                _as_date(plain(d, data, "tanggal_sk_diterima")),
                _as_date(plain(d, data, "tanggal_serah_terima")),
                _option(d, "bentuk_penyerahan", plain(d, data, "bentuk_penyerahan"), lang),
                plain(d, data, "nomor_bukti_serah_terima"),
            ]
        )
        k = kind or NONE_UNIT
        kinds[k][0] += 1
        kinds[k][1] += value or 0
        dk = decision or none_decided
        decisions[dk][0] += 1
        decisions[dk][1] += value or 0
    total_value = sum(int(r[5]) for r in rows if r[5] is not None)  # type: ignore[arg-type]
    total: list[Value] = [None] * len(columns)
    total[0], total[5] = render(_("Total: {n} reports"), lang, n=len(rows)), total_value
    register = Section(
        key="register",
        title=render(_("Gratuity register"), lang),
        columns=columns,
        rows=rows,
        total=total,
        note=render(_("Values are the reporter's estimate in Rupiah; a destroyed case has no value."), lang),
    )
    spec = defs.latest.field("jenis")
    kind_order = [o.label.get(lang) for o in spec.options] if spec else []
    kind_order += sorted(k for k in kinds if k not in kind_order)
    by_kind_rows: list[list[Value]] = [[k, kinds[k][0], kinds[k][1]] for k in kind_order]
    dec_order = [render(m, lang) for m in DECISIONS.values()] + [none_decided]
    by_dec_rows: list[list[Value]] = [
        [k, decisions[k][0] if k in decisions else 0, decisions[k][1] if k in decisions else 0] for k in dec_order
    ]
    count_money = [
        _c("count", _("Reports"), lang, "int"),
        _c("value", _("Estimated value"), lang, "money"),
    ]
    n_live = sum(int(r[1]) for r in by_kind_rows)  # type: ignore[arg-type]
    return [
        register,
        Section(
            key="by_kind",
            title=render(_("Per kind of gift"), lang),
            columns=[_c("kind", _("Kind"), lang), *count_money],
            rows=by_kind_rows,
            total=[render(_("Total"), lang), n_live, total_value],
            chart=Chart(
                title=render(_("Reports per kind of gift"), lang),
                kind="bar",
                labels=[str(r[0]) for r in by_kind_rows],
                series=[(render(_("Reports"), lang), [float(r[1]) for r in by_kind_rows])],  # type: ignore[arg-type]
                unit=render(_("reports"), lang),
            ),
        ),
        Section(
            key="by_decision",
            title=render(_("Per KPK decision"), lang),
            columns=[_c("decision", _("KPK decision"), lang), *count_money],
            rows=by_dec_rows,
            total=[render(_("Total"), lang), n_live, total_value],
            chart=Chart(
                title=render(_("Reports per KPK decision"), lang),
                kind="bar",
                labels=[str(r[0]) for r in by_dec_rows],
                series=[(render(_("Reports"), lang), [float(r[1]) for r in by_dec_rows])],  # type: ignore[arg-type]
                unit=render(_("reports"), lang),
            ),
        ),
    ]


def _outcome(defs: _Defs, r: Any, lang: str) -> str:
    return defs.state_label(r.workflow_version, r.state, lang)


def _benturan(engine: WbsEngine, s: Any, scope: _Scope, defs: _Defs, lang: str, units: dict) -> list[Section]:
    cases = _case_rows(s.connection(), scope)
    columns = [
        _c("number", _("Number"), lang),
        _c("filed", _("Date filed"), lang, "date"),
        _c("unit", _("Unit"), lang),
        _c("route", _("Route"), lang),
        _c("kind", _("Kind"), lang),
        _c("source", _("Source"), lang),
        _c("state", _("State"), lang),
        _c("outcome", _("Outcome"), lang),
        _c("decided", _("Date of the decision concerned"), lang, "date"),
        _c("measures_due", _("Measures due by"), lang, "date"),
        _c("closed", _("Date closed"), lang, "date"),
    ]
    rows: list[list[Value]] = []
    grid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    in_progress = render(_("in progress"), lang)
    for r in cases:
        if r.destroyed:
            rows.append(_destroyed_row(engine, r, len(columns), 1, 6, lang))
            continue
        d = defs.of(r.workflow_version)
        data = r.data or {}
        kind_v, source_v = plain(d, data, "jenis"), plain(d, data, "sumber")
        rows.append(
            [
                r.number,
                _local(engine, r.created_at),
                units.get(r.unit_code, r.unit_code) if r.unit_code else NONE_UNIT,
                _option(d, "jalur", plain(d, data, "jalur"), lang),
                _option(d, "jenis", kind_v, lang),
                _option(d, "sumber", source_v, lang),
                _outcome(defs, r, lang),
                _outcome(defs, r, lang) if r.final else in_progress,
                _as_date(plain(d, data, "tanggal_keputusan")),
                _as_date(plain(d, data, "batas_waktu_mitigasi")),
                _local(engine, r.closed_at),
            ]
        )
        grid[source_v or ""][kind_v or ""] += 1
    latest = defs.latest
    sources = _choices(latest.field("sumber"), grid, lang)
    kinds = _choices(latest.field("jenis"), {k for g in grid.values() for k in g}, lang)
    by_rows: list[list[Value]] = []
    for v, label in sources:
        counts = [grid.get(v, {}).get(k, 0) for k, _l in kinds]
        by_rows.append([label, *counts, sum(counts)])
    return [
        Section(
            key="register",
            title=render(_("Conflict-of-interest register"), lang),
            columns=columns,
            rows=rows,
            total=[render(_("Total: {n} cases"), lang, n=len(rows))] + [None] * (len(columns) - 1),
        ),
        _grid_section(
            "by_source",
            render(_("Per source and kind"), lang),
            _c("source", _("Source"), lang),
            "kind",
            kinds,
            by_rows,
            render(_("Cases per source"), lang),
            render(_("cases"), lang),
            lang,
        ),
    ]


def _choices(spec: Any, seen: Any, lang: str) -> list[tuple[str, str]]:
    """A select field's options (value, label) in the workflow's order, then any other value the cases hold
    (an option an older workflow version had), by value."""
    out = [(o.value, o.label.get(lang)) for o in spec.options] if spec is not None else []
    known = {v for v, _l in out}
    return out + [(v, v or NONE_UNIT) for v in sorted(set(seen)) if v not in known]


def _grid_section(
    key: str,
    title: str,
    first: Column,
    prefix: str,
    choices: list[tuple[str, str]],
    by_rows: list[list[Value]],
    chart_title: str,
    unit_word: str,
    lang: str,
    note: str | None = None,
) -> Section:
    """A count per row and choice (with a total column and row) and its stacked chart."""
    n = len(choices)
    return Section(
        key=key,
        title=title,
        columns=[
            first,
            *(Column(f"{prefix}_{v}", label, "int") for v, label in choices),
            _c("total", _("Total"), lang, "int"),
        ],
        rows=by_rows,
        total=[render(_("Total"), lang)]
        + [sum(int(r[i + 1]) for r in by_rows) for i in range(n)]  # type: ignore[arg-type]
        + [sum(int(r[-1]) for r in by_rows)],  # type: ignore[arg-type]
        note=note,
        chart=Chart(
            title=chart_title,
            kind="stacked",
            labels=[str(r[0]) for r in by_rows],
            series=[(label, [float(r[i + 1]) for r in by_rows]) for i, (_v, label) in enumerate(choices)],  # type: ignore[arg-type]
            unit=unit_word,
        ),
    )


def _identifikasi(engine: WbsEngine, s: Any, scope: _Scope, defs: _Defs, lang: str) -> list[Section]:
    conn = s.connection()
    cases = _case_rows(conn, scope)
    due = dict(
        conn.execute(
            sa.select(_K.c.case_id, _K.c.due_date)
            .join(_C, _C.c.id == _K.c.case_id)
            .where(scope.where, _K.c.name == "reviu_berkala", _K.c.status == "running")
        ).all()
    )
    columns = [
        _c("number", _("Number"), lang),
        _c("filed", _("Date filed"), lang, "date"),
        _c("function", _("Main function"), lang),
        _c("source", _("Source of the risk"), lang),
        _c("risk", _("Risk level"), lang),
        _c("risk_now", _("Level after the latest review"), lang),
        _c("target", _("Target date"), lang, "date"),
        _c("state", _("State"), lang),
        _c("next_review", _("Next review due"), lang, "date"),
    ]
    rows: list[list[Value]] = []
    grid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in cases:
        if r.destroyed:
            rows.append(_destroyed_row(engine, r, len(columns), 1, 7, lang))
            continue
        d = defs.of(r.workflow_version)
        data = r.data or {}
        function = plain(d, data, "fungsi_utama")
        function = function.strip() if isinstance(function, str) else None
        level, level_now = plain(d, data, "tingkat_risiko"), plain(d, data, "tingkat_risiko_terkini")
        rows.append(
            [
                r.number,
                _local(engine, r.created_at),
                function,
                _option(d, "sumber_risiko", plain(d, data, "sumber_risiko"), lang),
                _option(d, "tingkat_risiko", level, lang),
                _option(d, "tingkat_risiko_terkini", level_now, lang),
                _as_date(plain(d, data, "target_penyelesaian")),
                defs.state_label(r.workflow_version, r.state, lang),
                _as_date(due.get(r.id)),
            ]
        )
        grid[function or NONE_UNIT][level_now or level or ""] += 1
    levels = _choices(defs.latest.field("tingkat_risiko"), {k for g in grid.values() for k in g}, lang)
    by_rows: list[list[Value]] = []
    for function in sorted(grid):
        counts = [grid[function].get(v, 0) for v, _l in levels]
        by_rows.append([function, *counts, sum(counts)])
    return [
        Section(
            key="register",
            title=render(_("Register of potential conflicts of interest"), lang),
            columns=columns,
            rows=rows,
            total=[render(_("Total: {n} entries"), lang, n=len(rows))] + [None] * (len(columns) - 1),
        ),
        _grid_section(
            "by_function",
            render(_("Per main function and risk level"), lang),
            _c("function", _("Main function"), lang),
            "level",
            levels,
            by_rows,
            render(_("Entries per main function"), lang),
            render(_("entries"), lang),
            lang,
            note=render(
                _("Risk level: the level after the latest review, or the level set at first when not yet reviewed."),
                lang,
            ),
        ),
    ]


# --- the report ---------------------------------------------------------------------------------------------


def build_report(
    engine: WbsEngine,
    viewer: Actor,
    kind: str,
    *,
    since: date,
    until: date,
    case_type: str | None = None,
    unit: str | None = None,
    lang: str = "id",
) -> Report:
    """The report ``kind`` over the cases filed from ``since`` to ``until`` that ``viewer`` may count (see the
    module's docstring). Bad input is :class:`ValidationFailed` (fields ``jenis``, ``tipe``, ``dari``,
    ``sampai``, ``unit``); a viewer without a grant in :data:`REPORT_ROLES` covering the case type (and
    ``unit`` when given) is :class:`NotAllowed`. Writes nothing."""
    with unit_of_work(engine.db, write=False) as s:
        conn = s.connection()
        units = dict(conn.execute(sa.select(_U.c.code, _U.c.name)).all())
        ctype = _check(engine, kind, since, until, case_type, unit, set(units))
        defn = engine.registry.latest(ctype).definition
        grants = _report_grants(viewer, defn)
        if not grants or (unit is not None and not any(g.unit_code in (None, unit) for g in grants)):
            raise _refused(viewer, defn, lang)
        scope = _Scope(engine, viewer, ctype, unit, since, until)
        defs = _Defs(engine, s, ctype)
        notes = [render(NOTE_CASES, lang, since=since.isoformat(), until=until.isoformat()), render(NOTE_PLAIN, lang)]
        if kind == "recap":
            sections = [
                _summary(conn, scope, units, lang),
                _months(engine, conn, scope, since, until, lang),
                _limits(engine, conn, scope, defn, lang),
                _stages(engine, s, scope, defn, lang),
                _closure(conn, scope, defn, lang),
            ]
            title = render(TITLES["recap"], lang, type=defn.label.get(lang))
        elif kind == "gratifikasi":
            sections = _gratifikasi(engine, s, scope, defs, lang, units)
            title = render(TITLES[kind], lang)
        elif kind == "benturan_kepentingan":
            sections = _benturan(engine, s, scope, defs, lang, units)
            title = render(TITLES[kind], lang)
        else:
            sections = _identifikasi(engine, s, scope, defs, lang)
            title = render(TITLES[kind], lang)
    if kind == "recap" and defn.survey is not None:
        sections.append(_survey(engine, scope, defn, since, until, lang))
    unit_words = f"{units[unit]} ({unit})" if unit is not None else render(_("all units"), lang)
    return Report(
        kind=kind,
        title=title,
        office=engine.settings.office_name or "",
        lang=lang,
        since=since,
        until=until,
        case_type=ctype,
        unit=unit,
        scope=f"{defn.label.get(lang)} · {unit_words} · {_fmt_date(since, lang)} – {_fmt_date(until, lang)}",
        generated_at=engine.now().astimezone(engine.settings.zone),
        generated_by=viewer.username,
        sections=sections,
        notes=notes,
    )


def record_export(engine: WbsEngine, viewer: Actor, report: Report, fmt: str, *, via: str = "web") -> None:
    """Append ``report_exported`` to the ``system`` chain: who exported which report (kind, case type, unit,
    period), in which format, and how many rows each section had; never a figure or a value. Call it in the
    request that hands the file out. An unknown format is :class:`ValidationFailed` (``format``)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed({"format": Msg(_("choose one of: {choices}"), choices=", ".join(EXPORT_FORMATS))})
    defn = engine.registry.latest(report.case_type).definition if report.case_type else None
    roles = sorted({g.role for g in _report_grants(viewer, defn)})
    with unit_of_work(engine.db) as s:
        audit.append(
            s,
            chain=audit.SYSTEM_CHAIN,
            kind="report_exported",
            actor=viewer.username,
            actor_role=("auditor" if "auditor" in roles else roles[0]) if roles else None,
            now=engine.now(),
            payload={
                "report": report.kind,
                "case_type": report.case_type,
                "unit": report.unit,
                "since": report.since.isoformat(),
                "until": report.until.isoformat(),
                "format": fmt,
                # "cli": made at the server's command line (with --as, on that user's behalf)
                "via": via,
                "rows": {sec.key: len(sec.rows) for sec in report.sections},
            },
        )
