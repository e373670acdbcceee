"""Workflow definitions: the YAML schema (pydantic models), loading, and the linter.

A workflow file is data an office's admin edits; the engine trusts only what passed :func:`lint_file`.
Every problem the linter finds is reported with the file, the line where the YAML says it, and a plain
explanation, so that a non-programmer can fix the file. The explanations are catalogue messages
(:class:`LintIssue` renders them in the reader's language, Indonesian by default); where pydantic explains a
value in words this module does not know, its English text is shown as it is. The format is documented in
``docs/workflow-format.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .i18n import DEFAULT_LOCALE, LOCALES, N_, Msg, lang_of, render
from .i18n import gettext_noop as _

Phase = Literal["intake", "verification", "follow_up", "closure"]
FieldType = Literal[
    "text", "textarea", "date", "datetime", "number", "money", "email", "phone", "select", "boolean", "unit", "user"
]
IdentityMode = Literal["anonim", "rahasia", "terbuka"]
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: identity modes from the most private to the least: a case gets the most private one its workflow allows
#: unless the reporter chooses another
PRIVACY_ORDER: tuple[str, ...] = ("anonim", "rahasia", "terbuka")
#: field types that hold free text (sealed unless the workflow marks them ``plain: true``)
FREE_TEXT_TYPES = frozenset({"text", "textarea", "email", "phone"})

#: the kinds of file a workflow may allow attaching (``attachments.allowed_types``); what each one means (its
#: MIME type, its extensions) is in :data:`wbs_engine.files.KINDS`, which detects them from the content
AttachmentKind = Literal["pdf", "jpeg", "png", "webp", "text", "docx", "xlsx", "odt"]

#: written in a clock's ``source`` right after a limit, article or starting point that could not be confirmed
#: in the regulation's text; the README lists every clock that carries it (tests/unit/test_sources.py)
UNVERIFIED_MARK = "(belum terverifikasi)"
#: written in a clock's ``source`` when the office set the limit itself (no regulation sets it)
OFFICE_POLICY_MARK = "(kebijakan kantor)"

if TYPE_CHECKING:
    import yaml


class SchemaProblem(ValueError):
    """A validator's refusal as a catalogue message (``msg``); pydantic reports it as a ``value_error``
    and :func:`parse_document` shows the message in the reader's language."""

    def __init__(self, msgid: str, /, **params: Any):
        self.msg = Msg(msgid, **params)
        super().__init__(self.msg.render(LOCALES[1]))


class _Strict(BaseModel):
    # defer_build: pydantic builds a model's validator when it first validates, not when this module is
    # imported; most modules import these classes only as types, and most ``wbs`` commands never read a
    # workflow (docs/decisions.md, "Loading workflows")
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Label(_Strict):
    """Text shown to people, in Bahasa Indonesia (``id``) and English (``en``); both are required."""

    id: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``id`` for anything but ``en``)."""
        return self.en if lang_of(lang) == LOCALES[1] else self.id


class Duration(_Strict):
    """A length of time: exactly one of working days (HK) or calendar days."""

    working_days: int | None = Field(default=None, ge=0)
    calendar_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Duration:
        if (self.working_days is None) == (self.calendar_days is None):
            raise SchemaProblem(_("give exactly one of working_days or calendar_days"))
        return self

    @property
    def days(self) -> int:
        return self.working_days if self.working_days is not None else self.calendar_days  # type: ignore[return-value]

    @property
    def unit(self) -> Literal["working", "calendar"]:
        return "working" if self.working_days is not None else "calendar"

    def describe(self, lang: str = "id") -> str:
        """The duration in ``lang``: ``3 HK`` / ``3 working days``, ``60 hari kalender`` / ``60 calendar days``."""
        if self.unit == "working":
            return render(_("{days} working days"), lang, days=self.days)
        return render(_("{days} calendar days"), lang, days=self.days)


class Option(_Strict):
    value: str
    label: Label


class FieldSpec(_Strict):
    """A piece of data a form asks for (intake) or a transition requires."""

    name: str
    type: FieldType = "text"
    label: Label
    help: Label | None = None
    required: bool = False
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    min_value: float | None = None
    max_value: float | None = None
    options: list[Option] = []
    #: sealed even though its type would be plain (a choice, a number, a date): readable only by the roles in
    #: ``visibility.confidential_fields``
    confidential: bool = False
    #: part of the reporter's identity; readable only by ``visibility.identity`` roles; never asked from, nor
    #: kept for, an anonymous reporter
    identity: bool = False
    #: a way to reach the reporter (an e-mail for status updates): sealed as identity, and the one identity
    #: field an anonymous reporter may still give; then it is used only to send status mail, shown to nobody
    contact: bool = False
    #: free text left unsealed on purpose (e.g. an official document number that must be searchable)
    plain: bool = False
    #: meant for the reporter: shown on the tracking page once filled in (a question to them, an answer,
    #: the information the office chose to give)
    reporter: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise SchemaProblem(_("field names use lowercase letters, digits and _ and start with a letter"))
        return v

    @model_validator(mode="after")
    def _options(self) -> FieldSpec:
        if self.type == "select" and not self.options:
            raise SchemaProblem(_("field '{name}' is a select but has no options"), name=self.name)
        return self

    @property
    def is_identity(self) -> bool:
        """Kept in the case's identity envelope (identity and contact fields)."""
        return self.identity or self.contact

    @property
    def sealed(self) -> bool:
        """Private by default: identities, contacts, free text (unless ``plain``) and ``confidential`` fields."""
        return self.is_identity or self.confidential or (self.type in FREE_TEXT_TYPES and not self.plain)


class StateSpec(_Strict):
    phase: Phase
    label: Label
    #: the state in plain words for the reporter's tracking page (no internal terms, no names)
    reporter_label: Label
    final: bool = False
    description: Label | None = None


class ClockExtension(_Strict):
    """A transition may extend a running clock (e.g. an investigation extended once, with a reason)."""

    clock: str
    by: Duration
    max_times: int = Field(default=1, ge=1)


class TransitionSpec(_Strict):
    trigger: str
    source: list[str]
    dest: str
    roles: list[str] = Field(min_length=1)
    label: Label
    requires: list[str] = []
    optional: list[str] = []
    reason: bool = False
    guards: list[str] = []
    effects: list[str] = []
    extends: ClockExtension | None = None

    @field_validator("source", "roles", "requires", "optional", "guards", "effects", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("trigger")
    @classmethod
    def _trigger_name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise SchemaProblem(_("trigger names use lowercase letters, digits and _ and start with a letter"))
        return v

    @property
    def internal(self) -> bool:
        """A self-loop (``dest`` equal to its only source) records work without leaving the state."""
        return self.source == [self.dest]


class ClockStart(_Strict):
    on_enter: list[str] = Field(min_length=1)
    #: count from the date in this case field (e.g. the date a gift was received) instead of the event time
    from_field: str | None = None

    @field_validator("on_enter", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class ClockStop(_Strict):
    on_enter: list[str] = []
    on_exit: list[str] = []

    @field_validator("on_enter", "on_exit", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class LimitByField(_Strict):
    """Choose the limit from a case field (e.g. complaint tiers: ringan 2 HK, normatif 5 HK, ...)."""

    field: str
    values: dict[str, Duration]


class Reminder(_Strict):
    before: Duration


class Breach(_Strict):
    escalate_to: list[str] = []
    fire: str | None = None

    @field_validator("escalate_to", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class ClockSpec(_Strict):
    label: Label
    starts: ClockStart
    stops: ClockStop
    pauses: list[str] = []
    limit: Duration
    limit_by: LimitByField | None = None
    #: where the limit comes from (regulation, article) — shown to auditors; carries UNVERIFIED_MARK and/or
    #: OFFICE_POLICY_MARK where they apply
    source: str = Field(min_length=1)
    remind: list[Reminder] = []
    on_breach: Breach = Field(default_factory=Breach)  # a factory: an instance here would build a validator
    #: an event after office hours counts from the next working day
    after_hours_next_day: bool = True
    #: shown on the filing form and on the case when the clock was already past its limit when it started
    #: (possible only for a clock counted ``from_field``, e.g. a gift reported after the legal limit)
    late_notice: Label | None = None

    @property
    def unverified(self) -> bool:
        """The source says that part of it could not be confirmed (``(belum terverifikasi)``)."""
        return UNVERIFIED_MARK in self.source

    @property
    def office_policy(self) -> bool:
        """The source says the office set the limit itself (``(kebijakan kantor)``)."""
        return OFFICE_POLICY_MARK in self.source


class IdentityOnRequest(_Strict):
    """``visibility.identity_on_request``: a handler who may read a *rahasia* report but not who wrote it asks
    to see the identity, with a reason; a holder of one of ``approvers`` decides; an approval opens the
    identity to that handler alone, on that case alone, for ``hours`` (:mod:`wbs_engine.identity`)."""

    approvers: list[str] = Field(min_length=1)
    #: how long an approval lasts (the linter keeps it to 1..720, 30 days)
    hours: int

    @field_validator("approvers", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


#: the range of ``visibility.identity_on_request.hours``: an hour to thirty days
IDENTITY_HOURS = (1, 720)


class Visibility(_Strict):
    identity: list[str] = []
    confidential_fields: list[str] = []
    #: None: nobody can ask to see the identity on cases of this type
    identity_on_request: IdentityOnRequest | None = None


class InterestsSpec(_Strict):
    """``interests``: cases of this type that are *declarations* of a conflict of interest. While a declaration
    is in one of ``active_states`` and its plain fields match ``when``, the persons, firms and subjects its
    ``field`` names (separated by commas) keep the official who filed it off every other case whose text
    names one of them (:mod:`wbs_engine.interests`)."""

    #: the free-text field that names them (comma-separated)
    field: str
    #: plain (select) field → value a case must have to be a declaration (e.g. ``jalur: deklarasi_mandiri``)
    when: dict[str, str] = {}
    #: the states in which a declaration keeps its declarant off (open, or decided with a conflict)
    active_states: list[str] = Field(min_length=1)


class AttachmentsSpec(_Strict):
    """Limits on the files attached to a case of this type. What a workflow leaves out comes from the settings
    (``WBS_MAX_ATTACHMENTS``, ``WBS_MAX_ATTACHMENT_MB``, every kind in :data:`AttachmentKind`)."""

    #: files per case (all uploaders together); 0: this type takes no attachments
    max_count: int | None = Field(default=None, ge=0, le=100)
    #: largest file, in MiB
    max_size_mb: int | None = Field(default=None, ge=1, le=100)
    #: kinds of file accepted, detected from the content
    allowed_types: list[AttachmentKind] | None = Field(default=None, min_length=1)

    @field_validator("allowed_types", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


#: the most elements a survey may ask (PermenPANRB 14/2017 names nine; a short survey gets answered)
MAX_SURVEY_ELEMENTS = 20
#: the name under which a survey form carries the comment: no element may be called so
SURVEY_COMMENT_FIELD = "komentar"


class SurveyElement(_Strict):
    """One element (*unsur*) of the satisfaction survey, rated 1–4 by the reporter."""

    key: str
    label: Label
    help: Label | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise SchemaProblem(_("survey element keys use lowercase letters, digits and _ and start with a letter"))
        return v


class SurveySpec(_Strict):
    """The satisfaction survey a reporter may take once their case is closed (``survey:``; see
    :mod:`wbs_engine.survey`): the elements asked, each on the national 1–4 scale, and a free comment."""

    elements: list[SurveyElement] = Field(min_length=1)

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.elements]

    def element(self, key: str) -> SurveyElement | None:
        return next((e for e in self.elements if e.key == key), None)


class WorkflowDef(_Strict):
    key: str
    version: int = Field(ge=1)
    number_prefix: str = Field(pattern=r"^[A-Z]{2,5}$")
    label: Label
    basis: str = Field(min_length=1)
    description: Label | None = None
    identity: list[IdentityMode] = ["terbuka"]
    #: who may file a case: "public" (web form, receipt code) and/or staff roles
    filed_by: list[str] = ["public"]
    retention_years: int = Field(default=5, ge=1)
    intake: list[FieldSpec] = []
    fields: list[FieldSpec] = []
    states: dict[str, StateSpec]
    initial: str
    transitions: list[TransitionSpec]
    clocks: dict[str, ClockSpec] = {}
    visibility: Visibility = Field(default_factory=Visibility)
    attachments: AttachmentsSpec = Field(default_factory=AttachmentsSpec)
    #: the satisfaction survey offered to the reporter after closure; None: this type asks none
    survey: SurveySpec | None = None
    #: declared interests (conflict-of-interest aware routing); None: this type declares none
    interests: InterestsSpec | None = None
    #: whether the reporter's proof of filing (a PDF) carries what they wrote, unless they choose otherwise;
    #: off by default: a proof found on a reporter's phone must not tell what they reported
    proof_includes_text: bool = False
    settings: dict[str, Any] = {}

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise SchemaProblem(_("the key uses lowercase letters, digits and _ and starts with a letter"))
        return v

    @field_validator("filed_by", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    # -- lookups used by the engine and the web layer ---------------------------------------------
    def field(self, name: str) -> FieldSpec | None:
        for f in (*self.intake, *self.fields):
            if f.name == name:
                return f
        return None

    def transition(self, trigger: str, state: str) -> TransitionSpec | None:
        for t in self.transitions:
            if t.trigger == trigger and state in t.source:
                return t
        return None

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if state in t.source]

    def clock_measures(self, name: str) -> str:
        """Whom clock ``name`` measures: ``reporter`` when its breach fires a transition (the workflow closes
        the wait by itself), when it counts from a date the reporter gave at filing (gratifikasi ``lapor_upg``,
        ``lapor_kpk``), or when it starts only in states where another clock pauses (a wait for the reporter's
        answer); else ``office``. A missed limit of the office is what the recap and the public statistics call
        late; a reporter's is not. Derived from the workflow, so a new workflow needs no extra key."""
        spec = self.clocks[name]
        if spec.on_breach.fire:
            return "reporter"
        if spec.starts.from_field and spec.starts.from_field in {f.name for f in self.intake}:
            return "reporter"
        paused = {st for other, o in self.clocks.items() if other != name for st in o.pauses}
        if spec.starts.on_enter and all(st in paused for st in spec.starts.on_enter):
            return "reporter"
        return "office"

    @property
    def default_identity(self) -> str:
        """The most private identity mode this workflow allows."""
        return min(self.identity, key=PRIVACY_ORDER.index)

    @property
    def final_states(self) -> set[str]:
        return {n for n, s in self.states.items() if s.final}

    @property
    def ident(self) -> str:
        return f"{self.key}@{self.version}"


# ---------------------------------------------------------------------------------------------------
# Loading with line numbers


@dataclass(frozen=True, eq=False)
class LintIssue:
    """One problem of a workflow file: the file, the line, the place in the YAML (``where``) and what is
    wrong (``msg``: a catalogue message, or a text that is shown as it is).

    :meth:`render` gives the line a person reads in ``lang`` (``str()``: in Indonesian, the default);
    :attr:`message` is the explanation in English, stable text for tests and logs. Two issues are equal when
    they say the same thing at the same place."""

    file: str
    line: int | None
    where: str
    msg: Msg | str

    def text(self, lang: str | None = None) -> str:
        """The explanation alone, in ``lang``."""
        return self.msg.render(lang) if isinstance(self.msg, Msg) else self.msg

    @property
    def message(self) -> str:
        """The explanation in English (the catalogue's msgid with its values)."""
        return self.text(LOCALES[1])

    def render(self, lang: str | None = None) -> str:
        """``FILE:LINE: WHERE: explanation``, the explanation in ``lang``."""
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc}: {self.where}: {self.text(lang)}" if self.where else f"{loc}: {self.text(lang)}"

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)

    def _key(self) -> tuple[str, int | None, str, str]:
        return self.file, self.line, self.where, self.message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LintIssue) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class DefinitionError(Exception):
    """A workflow file that cannot be used; ``issues`` says every reason."""

    def __init__(self, issues: list[LintIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map each path in the YAML document (keys and list indexes) to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if node.id == "mapping":  # the node's kind, without importing yaml for isinstance
        for k, v in node.value:
            key = k.value
            out[(*path, key)] = k.start_mark.line + 1
            line_map(v, (*path, key), out)
    elif node.id == "sequence":
        for i, v in enumerate(node.value):
            line_map(v, (*path, i), out)
    return out


class LineMap(Mapping[tuple, int]):
    """:func:`line_map` of a document, worked out on first use.

    Only a problem needs a line: a good file (the usual case) is read without walking its nodes again."""

    def __init__(self, node: yaml.Node):
        self._node = node
        self._lines: dict[tuple, int] | None = None

    def _map(self) -> dict[tuple, int]:
        if self._lines is None:
            self._lines = line_map(self._node)
        return self._lines

    def __getitem__(self, path: tuple) -> int:
        return self._map()[path]

    def __contains__(self, path: object) -> bool:
        return path in self._map()

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


def line_for(lines: Mapping[tuple, int], path: tuple) -> int | None:
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def yaml_path(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


#: pydantic's explanations of a wrong value that the catalogue translates: the error's type -> the msgid
#: (pydantic's English words, its ``ctx`` values as placeholders). Any other type is shown in pydantic's words.
_PYDANTIC: dict[str, str] = {
    "greater_than_equal": _("Input should be greater than or equal to {ge}"),
    "less_than_equal": _("Input should be less than or equal to {le}"),
    "int_type": _("Input should be a valid integer"),
    "int_parsing": _("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": _("Input should be a valid integer, got a number with a fractional part"),
    "float_type": _("Input should be a valid number"),
    "float_parsing": _("Input should be a valid number, unable to parse string as a number"),
    "bool_type": _("Input should be a valid boolean"),
    "bool_parsing": _("Input should be a valid boolean, unable to interpret input"),
    "string_type": _("Input should be a valid string"),
    "string_pattern_mismatch": _("String should match pattern '{pattern}'"),
    "list_type": _("Input should be a valid list"),
    "dict_type": _("Input should be a valid dictionary"),
    "model_type": _("Input should be a valid dictionary or instance of {class_name}"),
    "literal_error": _("Input should be {expected}"),
}
#: the same for explanations with a count (pydantic says "1 character", "2 characters")
_PYDANTIC_PLURAL: dict[str, tuple[str, str]] = {
    "string_too_short": N_("String should have at least {n} character", "String should have at least {n} characters"),
    "too_short": N_(
        "List should have at least {n} item after validation, not {actual_length}",
        "List should have at least {n} items after validation, not {actual_length}",
    ),
}


#: what a Label lacking one of its keys misses
_LABEL_MISSING = {"id": _("missing the Indonesian label 'id'"), "en": _("missing the English label 'en'")}


def _pydantic_msg(err: dict) -> Msg | str:
    """pydantic's explanation of ``err`` from the catalogue when it is one :data:`_PYDANTIC` knows and the
    catalogue's English is word for word pydantic's (else pydantic's own English text)."""
    kind, text, ctx = err.get("type", ""), err.get("msg", "invalid value"), dict(err.get("ctx") or {})
    msg: Msg | None = None
    try:
        if kind in _PYDANTIC:
            if kind == "literal_error":  # "'a', 'b' or 'c'": the "or" is translated too
                first, sep, last = str(ctx.get("expected", "")).rpartition(" or ")
                if sep:
                    ctx["expected"] = Msg(_("{first} or {last}"), first=first, last=last)
            msg = Msg(_PYDANTIC[kind], **ctx)
        elif kind in _PYDANTIC_PLURAL and ctx.get("field_type", "List") == "List":
            n = ctx.pop("min_length")
            ctx.pop("field_type", None)
            msg = Msg.count(_PYDANTIC_PLURAL[kind], n, **ctx)
        if msg is not None and msg.render(LOCALES[1]) == text:
            return msg
    except (KeyError, IndexError, ValueError):  # a pydantic that words or fills it otherwise
        pass
    return text


def _explain(err: dict) -> Msg | str:
    kind = err.get("type", "")
    if kind == "missing":
        name = err["loc"][-1] if err["loc"] else "value"
        if name in _LABEL_MISSING:  # a Label without one of its languages
            return Msg(_LABEL_MISSING[name])
        return Msg(_("required key '{name}' is missing"), name=name)
    if kind == "extra_forbidden":
        return Msg(_("unknown key '{key}' (check the spelling; see docs/workflow-format.md)"), key=err["loc"][-1])
    problem = (err.get("ctx") or {}).get("error")
    if kind == "value_error" and isinstance(problem, SchemaProblem):
        return problem.msg
    if kind == "value_error":
        return err.get("msg", "invalid value").removeprefix("Value error, ")
    return _pydantic_msg(err)


def yaml_loader(pure: bool = False) -> type:
    """The PyYAML loader that reads workflow files: libyaml's ``CSafeLoader`` when PyYAML was built with it
    (parsing in C is some 15 times faster than in Python, and every ``wbs`` command that needs a workflow
    waits for it), else the pure-Python ``SafeLoader``; ``pure`` asks for the latter.

    Both give the same nodes, lines and data for a file they accept (tests/unit/test_loading.py)."""
    import yaml

    return yaml.CSafeLoader if yaml.__with_libyaml__ and not pure else yaml.SafeLoader


def _compose_and_construct(text: str, loader: type) -> tuple[yaml.Node | None, Any]:
    """One pass over the text: the node tree (whose marks are the lines the linter reports) and the data
    constructed from that same tree (``yaml.compose`` and ``yaml.safe_load`` read it twice)."""
    reader = loader(text)
    try:
        node = reader.get_single_node()
        return node, (reader.construct_document(node) if node is not None else None)
    finally:
        reader.dispose()


def parse_document(
    text: str, filename: str = "<workflow>", *, loader: type | None = None
) -> tuple[WorkflowDef | None, list[LintIssue], LineMap | None]:
    """:func:`parse_text`, and the lines of the document for the semantic checks (None if not YAML).

    ``loader``: the PyYAML loader class (default :func:`yaml_loader`)."""
    import yaml

    loader = loader or yaml_loader()
    try:
        try:
            node, raw = _compose_and_construct(text, loader)
        except Exception:
            if loader is yaml.SafeLoader:
                raise
            # libyaml words its errors its own way (and refuses some text with an exception that is not a
            # YAMLError): a file it refuses is read again in Python, so the linter says what it always said
            node, raw = _compose_and_construct(text, yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = Msg(_("not valid YAML: {problem}"), problem=str(getattr(exc, "problem", exc)))
        return None, [LintIssue(filename, line, "", problem)], None
    if not isinstance(raw, dict) or node is None:
        not_mapping = Msg(_("a workflow file must be a YAML mapping (key: value ...)"))
        return None, [LintIssue(filename, 1, "", not_mapping)], None
    lines = LineMap(node)
    try:
        return WorkflowDef.model_validate(raw), [], lines
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            issues.append(LintIssue(filename, line_for(lines, loc), yaml_path(loc), _explain(err)))
        return None, issues, lines


def parse_text(
    text: str, filename: str = "<workflow>", *, loader: type | None = None
) -> tuple[WorkflowDef | None, list[LintIssue]]:
    """Parse and validate the schema; returns the definition or the schema problems (never both)."""
    defn, issues, _lines = parse_document(text, filename, loader=loader)
    return defn, issues
