"""The satisfaction survey (*survei kepuasan*): after their case is closed, the reporter rates its handling.

The method is the national one (Survei Kepuasan Masyarakat, PermenPANRB 14/2017; docs/domain.md): each
element (*unsur*) the workflow asks (``survey:`` in its file, see docs/workflow-format.md) is answered on the
scale 1 *tidak baik*, 2 *kurang baik*, 3 *baik*, 4 *sangat baik*; the index is the mean over the elements
×25 (25–100), in the categories A *sangat baik* 88.31–100, B *baik* 76.61–88.30, C *kurang baik*
65.00–76.60, D *tidak baik* 25.00–64.99.

What this module promises (tests/integration/test_survey.py tries to break each):

* **Who, when, how often.** Only the reporter, through the tracking code; only once the case is closed (in a
  final state); only once per case: a second attempt is :class:`AlreadyRated` (409), also when two arrive at
  the same moment (the case's lock, and a unique row per case behind it). The case's own workflow version
  decides whether a survey is asked and which elements (a case filed before the survey was added asks none).
* **What.** Every element answered with a whole number 1–4, nothing else (:class:`ValidationFailed` naming
  each wrong element); an optional comment of at most :data:`COMMENT_MAX` characters. A refusal writes
  nothing.
* **Where.** One ``survey_response`` row and one ``rated`` event on the case's chain, in one transaction under
  the case's lock; the case's version moves on. The scores are plain (in the row and the event: the recap
  counts them); the comment is sealed with the case key (the same ciphertext in the row and the event), so
  destroying the case's key destroys it too. ``wbs verify-audit`` replays the rows from the trail
  (:mod:`wbs_engine.audit`): a row added, removed or changed, or a ``rated`` event the workflow does not allow
  (before closure, twice, other elements or values), is named.
* **The recap.** :func:`survey_results` gives per element the mean and the number of answers, and the index
  and its category, over a period and a case type; below ``min_responses`` answers it gives no figure at all,
  only that there are too few (small numbers could point at one reporter). It cannot stop differencing:
  two periods that differ by one day, each above the threshold, can still isolate a rating given that day.
  Whoever may ask for the recap should be trusted with that.
* **The tracking page** shows whether the survey can be taken now and whether it was taken
  (:func:`status_of`, in :func:`wbs_engine.tracking.tracking_view`), never anyone's scores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from . import audit, writepath
from .db import unit_of_work
from .definition import SURVEY_COMMENT_FIELD, DefinitionError, Label, SurveySpec, WorkflowDef
from .engine import WbsEngine
from .errors import ValidationFailed, WbsError
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Case, SurveyResponse

#: the national scale, each value with its words (PermenPANRB 14/2017)
SCALE: tuple[int, ...] = (1, 2, 3, 4)
SCALE_LABELS: dict[int, str] = {
    1: _("Not good"),
    2: _("Less than good"),
    3: _("Good"),
    4: _("Very good"),
}
#: the index's categories: the lowest index (to two decimals) of each, its letter and its words
CATEGORIES: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("88.31"), "A", SCALE_LABELS[4]),
    (Decimal("76.61"), "B", SCALE_LABELS[3]),
    (Decimal("65.00"), "C", SCALE_LABELS[2]),
    (Decimal("25.00"), "D", SCALE_LABELS[1]),
)
#: the form's field for the comment (no element may use this key; the linter checks it)
COMMENT_FIELD = SURVEY_COMMENT_FIELD
#: the longest comment, in characters
COMMENT_MAX = 2000
#: below this many responses the recap gives no figures
MIN_RESPONSES = 5
#: the audit event's kind
EVENT_KIND = "rated"
#: the most unknown answer names a refusal lists (a form with thousands of made-up names gets a short answer)
_MAX_UNKNOWN = 5
_DIGIT = re.compile(r"^\s*([0-9])\s*$")
_TWO = Decimal("0.01")

#: why the survey cannot be taken now, and what the reporter is told
REASONS: dict[str, str] = {
    "no_survey": _("This kind of report has no satisfaction survey."),
    "not_closed": _("The satisfaction survey opens once your report is closed."),
    "already_rated": _("You already rated the handling of this report. Thank you."),
    "destroyed": _("The satisfaction survey is no longer available for this report."),
}


# --- errors ------------------------------------------------------------------------------------------


class SurveyUnavailable(WbsError):
    """The survey cannot be taken on this case now; ``reason`` is a key of :data:`REASONS` (``no_survey``,
    ``not_closed``, ``destroyed``; ``already_rated`` is :class:`AlreadyRated`)."""

    status, code = 409, "survey_unavailable"

    def __init__(self, reason: str, number: str):
        self.reason = reason
        super().__init__(REASONS[reason], reason=reason, number=number)


class AlreadyRated(SurveyUnavailable):
    """The case was rated already: a case is rated once."""

    code = "already_rated"

    def __init__(self, number: str):
        super().__init__("already_rated", number)


# --- what the tracking page and the form need ---------------------------------------------------------


@dataclass(frozen=True)
class SurveyStatus:
    """Whether the reporter of one case may take the survey now. ``reason`` (a key of :data:`REASONS`) says
    why not; None when they may."""

    number: str
    #: the case's workflow version asks a survey
    offered: bool
    #: the reporter rated the case already
    taken: bool
    rated_at: datetime | None
    reason: str | None

    @property
    def available(self) -> bool:
        return self.reason is None

    def message(self, lang: str = "id") -> str | None:
        """Why the survey cannot be taken, in ``lang`` (None when it can)."""
        return Msg(REASONS[self.reason]).render(lang) if self.reason else None


def status_of(session: Session, case: Case, defn: WorkflowDef) -> SurveyStatus:
    """:class:`SurveyStatus` of ``case`` (running on ``defn``), read in the caller's transaction."""
    rated_at = session.exec(select(SurveyResponse.created_at).where(SurveyResponse.case_id == case.id)).first()
    taken = rated_at is not None
    if defn.survey is None:
        reason: str | None = "no_survey"
    elif taken:
        reason = "already_rated"
    elif not case.final:
        reason = "not_closed"
    elif not case.data_key:
        reason = "destroyed"  # retention destroyed the key: a comment could not be sealed any more
    else:
        reason = None
    return SurveyStatus(case.number, defn.survey is not None, taken, rated_at, reason)


def survey_status(engine: WbsEngine, code: str) -> SurveyStatus:
    """:class:`SurveyStatus` of the case whose tracking code is ``code`` (:class:`NotFound` for a wrong code,
    the tracking page's answer)."""
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
        return status_of(s, case, engine.workflow(s, case).definition)


@dataclass(frozen=True)
class FormElement:
    """One element to rate, in the reader's language."""

    key: str
    label: str
    help: str | None


@dataclass(frozen=True)
class SurveyForm:
    """What the survey form asks: every element on the same scale, and an optional comment."""

    number: str
    type_label: str
    elements: list[FormElement]
    #: (value, words) from 1 to 4
    scale: list[tuple[int, str]]
    comment_field: str = COMMENT_FIELD
    comment_max_length: int = COMMENT_MAX

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "type_label": self.type_label,
            "elements": [{"key": e.key, "label": e.label, "help": e.help} for e in self.elements],
            "scale": [{"value": v, "label": label} for v, label in self.scale],
            "comment_field": self.comment_field,
            "comment_max_length": self.comment_max_length,
        }


def scale(lang: str = "id") -> list[tuple[int, str]]:
    """The answers 1–4 with their words in ``lang``."""
    return [(v, Msg(SCALE_LABELS[v]).render(lang)) for v in SCALE]


def survey_form(engine: WbsEngine, code: str, lang: str = "id") -> SurveyForm | None:
    """The survey to show for the case whose tracking code is ``code``, or None when it cannot be taken now
    (its workflow version asks none, the case is not closed, it was rated already): :func:`survey_status`
    or the tracking view's ``survey`` says which. A wrong code is :class:`NotFound`, as on the tracking page."""
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
        defn = engine.workflow(s, case).definition
        if not status_of(s, case, defn).available or defn.survey is None:
            return None
        return SurveyForm(
            number=case.number,
            type_label=defn.label.get(lang),
            elements=[
                FormElement(e.key, e.label.get(lang), e.help.get(lang) if e.help else None)
                for e in defn.survey.elements
            ],
            scale=scale(lang),
        )


# --- rating ---------------------------------------------------------------------------------------------


def _score(raw: Any) -> int | None:
    """A score 1–4 from a number or its text (a form sends ``"3"``); None for anything else (``True``, 2.5,
    ``"3.0"``, ``"tiga"``)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and (m := _DIGIT.match(raw)):
        value = int(m.group(1))
    else:
        return None
    return value if value in SCALE else None


def _empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def check_answers(spec: SurveySpec, answers: Any, comment: Any) -> tuple[dict[str, int], str | None]:
    """The scores (element key -> 1..4, in the survey's order) and the comment (trimmed; None when empty), or
    :class:`ValidationFailed` naming every element that is missing or wrong, every answer to a question the
    survey does not ask, and a comment that is too long or not text."""
    errors: dict[str, Msg] = {}
    given: Mapping[Any, Any] = answers if isinstance(answers, Mapping) else {}
    keys = spec.keys
    unknown = [str(k) for k in given if k not in keys]
    for name in unknown[:_MAX_UNKNOWN]:
        errors[name[:60]] = Msg(_("not a question of this survey"))
    clean: dict[str, int] = {}
    for k in keys:
        raw = given.get(k)
        if _empty(raw):
            errors[k] = Msg(_("is required"))
            continue
        value = _score(raw)
        if value is None:
            errors[k] = Msg(_("choose a whole number from {low} to {high}"), low=SCALE[0], high=SCALE[-1])
            continue
        clean[k] = value
    text: str | None = None
    if comment is not None:
        if not isinstance(comment, str):
            errors[COMMENT_FIELD] = Msg(_("must be text"))
        else:
            text = comment.strip() or None
            if text is not None and len(text) > COMMENT_MAX:
                errors[COMMENT_FIELD] = Msg(_("at most {max} characters"), max=COMMENT_MAX)
            elif text is not None and not _is_utf8(text):
                errors[COMMENT_FIELD] = Msg(_("must be text"))
    if errors:
        raise ValidationFailed(errors)
    return clean, text


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not text any browser sends
        return False
    return True


def _locked(session: Session, case_id: int) -> Case:
    """The case row, read again with its write lock (the tracking-code lookup read it without one)."""
    return session.exec(
        select(Case).where(Case.id == case_id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ).one()


def rate_case(engine: WbsEngine, code: str, answers: Mapping[str, Any], comment: str | None = None) -> None:
    """The reporter of the case whose tracking code is ``code`` rates its handling: ``answers`` maps each
    element key of the case's survey to a score 1–4 (numbers, or their text from a form), ``comment`` is
    optional free text (at most :data:`COMMENT_MAX` characters, sealed with the case key).

    Refused, writing nothing: a wrong code (:class:`~wbs_engine.errors.NotFound`, the tracking page's answer);
    no survey for this case's workflow version, a case not closed yet, a destroyed case
    (:class:`SurveyUnavailable`, 409); a case rated already (:class:`AlreadyRated`, 409); an element missing
    or not 1–4, an answer to something not asked, a comment too long (:class:`ValidationFailed`, 422, per
    element and ``komentar``). Otherwise the row and its ``rated`` event are written in one transaction under
    the case's lock, and the case's version moves on. The time recorded is the engine's clock."""
    now = engine.now()
    with unit_of_work(engine.db) as s:
        engine.check_keys_in(s)
        _actor, found = engine.reporter(s, code)
        case = _locked(s, found.id)
        defn = engine.workflow(s, case).definition
        status = status_of(s, case, defn)
        if status.reason == "already_rated":
            raise AlreadyRated(case.number)
        if status.reason is not None or defn.survey is None:
            raise SurveyUnavailable(status.reason or "no_survey", case.number)
        scores, text = check_answers(defn.survey, answers, comment)
        sealed = engine.case_key(case).seal({"comment": text}) if text else None
        writepath.bump_version(s, case)
        row = SurveyResponse(case_id=case.id, answers=scores, comment_enc=sealed, created_at=now)
        s.add(row)
        s.flush()
        payload: dict[str, Any] = {"response_id": row.id, "answers": scores}
        if sealed is not None:
            payload["sealed"] = sealed  # the row's comment_enc, byte for byte: compared without a key
        payload["case_version"] = case.version
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind=EVENT_KIND,
            actor="pelapor",
            actor_role="pelapor",
            now=now,
            payload=payload,
        )


# --- the recap ------------------------------------------------------------------------------------------


def category(index: Decimal | None) -> str | None:
    """The letter (A–D) of an index already rounded to two decimals; None for None."""
    if index is None:
        return None
    for low, letter, _words in CATEGORIES:
        if index >= low:
            return letter
    return CATEGORIES[-1][1]  # below 25 cannot happen with scores 1–4


def category_label(letter: str | None, lang: str = "id") -> str | None:
    """The words of a category (``A`` → *sangat baik* / very good) in ``lang``."""
    words = next((w for _low, x, w in CATEGORIES if x == letter), None)
    return Msg(words).render(lang) if words else None


def to_index(mean: Fraction) -> Decimal:
    """A mean score (1–4) as the index 25–100, rounded half up to two decimals (as the categories are
    published). Exact: the mean is a fraction, not a float."""
    hundredths = mean * 25 * 100
    whole, rest = divmod(hundredths.numerator, hundredths.denominator)
    if 2 * rest >= hundredths.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2)


def _two(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(_TWO, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ElementResult:
    """One element over the responses counted: None figures when too few answered it."""

    key: str
    #: the element's label from the newest workflow version that asks it
    label: Label | None
    responses: int | None
    #: mean score 1–4, two decimals
    mean: Decimal | None
    #: the mean ×25, two decimals, and its category
    index: Decimal | None
    category: str | None

    @property
    def suppressed(self) -> bool:
        return self.responses is None


@dataclass(frozen=True)
class SurveyResults:
    """The recap of the satisfaction survey over ``since``–``until`` (dates in the office's zone, both
    included) and ``case_type`` (None: every type). With fewer than ``min_responses`` responses, ``suppressed``
    and no figure at all (``responses``, ``index``, each element's figures: None)."""

    case_type: str | None
    since: date | None
    until: date | None
    min_responses: int
    responses: int | None
    elements: list[ElementResult] = field(default_factory=list)
    #: the mean of the elements' means ×25 (two decimals) over the elements with enough answers
    index: Decimal | None = None
    category: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.responses is None

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        def num(d: Decimal | None) -> str | None:
            return str(d) if d is not None else None

        return {
            "case_type": self.case_type,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "min_responses": self.min_responses,
            "suppressed": self.suppressed,
            "note": Msg(TOO_FEW, min=self.min_responses).render(lang) if self.suppressed else None,
            "responses": self.responses,
            "index": num(self.index),
            "category": self.category,
            "category_label": category_label(self.category, lang),
            "elements": [
                {
                    "key": e.key,
                    "label": e.label.get(lang) if e.label else e.key,
                    "suppressed": e.suppressed,
                    "responses": e.responses,
                    "mean": num(e.mean),
                    "index": num(e.index),
                    "category": e.category,
                    "category_label": category_label(e.category, lang),
                }
                for e in self.elements
            ],
        }


#: what the recap says instead of figures
TOO_FEW = _("too few responses (fewer than {min}): no figures are shown")


def _bounds(engine: WbsEngine, since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The period's first moment and the moment after it, in UTC, counted in the office's zone."""
    zone = engine.settings.zone
    start = datetime.combine(since, time(0), zone).astimezone(UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), zone).astimezone(UTC) if until else None
    return start, end


def survey_results(
    engine: WbsEngine,
    *,
    case_type: str | None = None,
    since: date | None = None,
    until: date | None = None,
    min_responses: int = MIN_RESPONSES,
) -> SurveyResults:
    """The recap of the ratings given from ``since`` to ``until`` (dates in the office's zone, both included;
    None: no bound) on cases of ``case_type`` (None: every type): per element the number of answers and the
    mean score, the index (mean ×25) and its category; overall the number of responses and the index (the
    mean of the elements' means ×25, as PermenPANRB 14/2017 weighs the elements equally) and its category.

    Small numbers are not shown: with fewer than ``min_responses`` responses in all, no figure at all (only
    that there are too few); an element answered fewer times (elements changed between workflow versions)
    gets no figures and is left out of the index. An unknown ``case_type`` is
    :class:`~wbs_engine.errors.NotFound`; ``since`` after ``until``, or ``min_responses`` below 1, is
    :class:`ValidationFailed`."""
    errors: dict[str, Msg] = {}
    if since is not None and until is not None and since > until:
        errors["since"] = Msg(_("must not be after {until}"), until=until.isoformat())
    if isinstance(min_responses, bool) or not isinstance(min_responses, int) or min_responses < 1:
        errors["min_responses"] = Msg(_("at least {min}"), min=1)
    if errors:
        raise ValidationFailed(errors)
    start, end = _bounds(engine, since, until)
    responses = SurveyResponse.__table__
    cases = Case.__table__
    stmt = sa.select(responses.c.answers, cases.c.case_type, cases.c.workflow_version).join(
        cases, cases.c.id == responses.c.case_id
    )
    if start is not None:
        stmt = stmt.where(responses.c.created_at >= start)
    if end is not None:
        stmt = stmt.where(responses.c.created_at < end)
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        if case_type is not None:
            known = (
                engine.registry.knows(case_type)
                or s.exec(sa.select(cases.c.id).where(cases.c.case_type == case_type).limit(1)).first()
            )
            if not known:
                engine.registry.latest(case_type)  # NotFound naming the known types
            stmt = stmt.where(cases.c.case_type == case_type)
        counts: dict[str, int] = {}
        sums: dict[str, int] = {}
        versions: dict[tuple[str, int], int] = {}
        total = 0
        for answers, ctype, version in s.connection().execute(stmt):
            scores = {
                k: v
                for k, v in (answers if isinstance(answers, dict) else {}).items()
                if isinstance(v, int) and not isinstance(v, bool) and v in SCALE
            }
            if not scores:
                continue
            total += 1
            versions[(ctype, version)] = versions.get((ctype, version), 0) + 1
            for k, v in scores.items():
                counts[k] = counts.get(k, 0) + 1
                sums[k] = sums.get(k, 0) + v
        labels, order = _labels(engine, s, versions, case_type)
    keys = sorted(counts, key=lambda k: (order.get(k, len(order)), k))
    if total < min_responses:
        return SurveyResults(
            case_type,
            since,
            until,
            min_responses,
            None,
            [ElementResult(k, labels.get(k), None, None, None, None) for k in keys],
        )
    elements, means = [], []
    for k in keys:
        if counts[k] < min_responses:
            elements.append(ElementResult(k, labels.get(k), None, None, None, None))
            continue
        mean = Fraction(sums[k], counts[k])
        means.append(mean)
        idx = to_index(mean)
        elements.append(ElementResult(k, labels.get(k), counts[k], _two(mean), idx, category(idx)))
    index = to_index(sum(means, Fraction(0)) / len(means)) if means else None
    return SurveyResults(case_type, since, until, min_responses, total, elements, index, category(index))


def _labels(
    engine: WbsEngine, s: Session, versions: dict[tuple[str, int], int], case_type: str | None
) -> tuple[dict[str, Label], dict[str, int]]:
    """Each element key's label and the order to list the keys in: from the workflow versions the responses
    were given on (the type with the most responses first, its newest version first), then from the files
    (an element none of those versions asks keeps its key as its name)."""
    per_type: dict[str, int] = {}
    for (ctype, _version), n in versions.items():
        per_type[ctype] = per_type.get(ctype, 0) + n
    loaded = []
    for ctype, version in sorted(versions, key=lambda tv: (-per_type[tv[0]], tv[0], -tv[1])):
        try:
            loaded.append(engine.registry.get(s, ctype, version).definition)
        except (WbsError, DefinitionError):
            continue  # a version that cannot be read: its keys are listed by name
    for ctype in [case_type] if case_type else engine.registry.keys:
        if engine.registry.knows(ctype):
            loaded.append(engine.registry.latest(ctype).definition)
    labels: dict[str, Label] = {}
    order: dict[str, int] = {}
    for defn in loaded:
        for e in defn.survey.elements if defn.survey else ():
            labels.setdefault(e.key, e.label)
            order.setdefault(e.key, len(order))
    return labels, order
