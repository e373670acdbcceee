"""The proof of filing: a PDF the reporter downloads right after filing, signed with the office's key, and the
checks that tell whether a proof is genuine and still matches the office's audit trail.

**Why.** Once a report is filed, the office could deny having received it: someone who can write the
database can remove a case within the minutes before the next signed checkpoint (``audit.py``, "what it
does not protect against"). The reporter's proof closes that gap for filings: it carries the office's
signature over the case number, the time of receipt and the hash of the case's ``created`` audit event, so
the office can later neither deny the filing nor claim it said something else.

**What is signed** (formats in ``docs/audit-format.md``, "Proofs of filing"):

* a **statement**, the machine-readable facts: ``{"v": 1, "number", "type", "received_at" (UTC), "event" (the
  hash of the created event), "due" (the first step's due date or null), "key" (the signing key's id)}``,
  signed as ``Ed25519("wbs-proof-statement/1:" + JCS(statement))``. It is the line after the PDF header
  (``%wbs-proof-statement/1 {json} sig=…``) and the QR code's link carries it, so the verification page
  checks a proof without the file;
* the **whole document**: the last line of the file, after ``%%EOF``, is ``%wbs-proof-signature/1 key=…
  sig=…``, ``Ed25519("wbs-proof/1:" + hex(SHA-256(every byte before that line)))``. Any changed, added or
  removed byte (the text shown, the statement, the header, even a space) fails it.

Two signatures because the link cannot carry the document, and the document must be bound to every byte a
person reads (the facts shown and, when included, the report's text).

**What a check answers** (:class:`ProofCheck`): ``genuine``; ``altered`` (the statement is the office's but
the file is not the one it issued); ``forged`` (no valid signature of this office's keys: never issued here,
or its signed facts were changed); ``unknown_case`` (signed here, but the office has no such case: it was
removed); ``trail_mismatch`` (signed here, but the case's ``created`` event is not the one signed, or the
case's chain, its sealed checkpoint or its row no longer verify); ``unreadable``. A check tells the facts
the proof itself carries (number, time of receipt) and nothing else about the case; it writes nothing.

**Privacy.** The proof never holds the tracking code. What the reporter wrote is in it only when the
workflow says so (``proof_includes_text``: pengaduan and benturan kepentingan yes, WBS no) or the reporter
asks; identity and contact fields only on an open (``terbuka``) report. Anonymous reports: nothing that
identifies the reporter. No IP address or user agent is known to the engine, so none can be in it.

**Keys.** Signed with the keyring's Ed25519 key (the one that signs audit checkpoints). Verified with every
key :meth:`~wbs_engine.crypto.Keyring.verification_keys` knows: the current one and the public halves of
earlier ones kept in the keyring file (``retired_signing``), so proofs outlive a key change. ``wbs
rotate-key`` changes the encryption key only; proofs are unaffected.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from sqlmodel import select

from . import audit, pdfwriter
from .crypto import CryptoError, verify_signature
from .db import unit_of_work
from .definition import DefinitionError, WorkflowDef
from .engine import WbsEngine
from .errors import NotFound, WbsError
from .i18n import Msg, lang_of, render
from .i18n import gettext_noop as _
from .models import Case

PROOF_FORMAT = 1
STATEMENT_PREFIX = b"%wbs-proof-statement/1 "
SIGNATURE_PREFIX = b"%wbs-proof-signature/1 "
STATEMENT_CONTEXT = b"wbs-proof-statement/1:"
DOCUMENT_CONTEXT = b"wbs-proof/1:"
#: a proof is a few kilobytes (a long report included: some hundreds); anything far larger is not one
MAX_PROOF_BYTES = 4 * 1024 * 1024
#: the verification page, under ``WBS_BASE_URL``
VERIFY_PATH = "/verifikasi"
#: the link's parameters, in the order the QR code carries them (``d`` is absent when there is no due date)
LINK_PARAMS = ("v", "n", "t", "r", "h", "d", "k", "s")

GENUINE, FORGED, ALTERED, UNKNOWN_CASE, TRAIL_MISMATCH, UNREADABLE = (
    "genuine",
    "forged",
    "altered",
    "unknown_case",
    "trail_mismatch",
    "unreadable",
)
STATUSES = (GENUINE, FORGED, ALTERED, UNKNOWN_CASE, TRAIL_MISMATCH, UNREADABLE)

_STATEMENT_KEYS = {"v", "number", "type", "received_at", "event", "due", "key"}
_NUMBER_RE = re.compile(r"[A-Z]{2,5}-[0-9]{4}-[0-9]{6,9}")
_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_UTC_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_KEY_RE = re.compile(r"[0-9a-f]{16}")
_SIG_RE = re.compile(r"[A-Za-z0-9_-]{86}")
_SIGNATURE_LINE_RE = re.compile(rb"%wbs-proof-signature/1 key=([0-9a-f]{16}) sig=([A-Za-z0-9_-]{86})")
_STATEMENT_LINE_RE = re.compile(rb"%wbs-proof-statement/1 (\{[ -~]*\}) sig=([A-Za-z0-9_-]{86})")
_HEADER = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"

MONTHS = (
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
)


class ProofUnavailable(WbsError):
    """The office's own record of the filing does not verify, so it signs nothing about it."""

    status, code = 409, "proof_unavailable"


# -- dates people read ---------------------------------------------------------------------------------


def long_date(d: date, lang: str = "id") -> str:
    """``3 Desember 2026`` / ``3 December 2026``."""
    return f"{d.day} {render(MONTHS[d.month - 1], lang)} {d.year}"


def long_time(moment: datetime, zone: tzinfo, zone_label: str, lang: str = "id") -> str:
    """``3 Desember 2026 09:14 WIB``: ``moment`` in the office's zone."""
    local = moment.astimezone(zone)
    return f"{long_date(local.date(), lang)} {local:%H:%M} {zone_label}"


class _Moment(Msg):
    """A time or date as a message parameter, written in the reader's language when rendered."""

    __slots__ = ("value", "zone", "zone_label")

    def __init__(self, value: datetime | date, zone: tzinfo | None = None, zone_label: str = ""):
        super().__init__("")
        self.value, self.zone, self.zone_label = value, zone, zone_label

    def render(self, lang: str | None = None) -> str:
        lang = lang_of(lang)
        if isinstance(self.value, datetime):
            return long_time(self.value, self.zone or UTC, self.zone_label, lang)
        return long_date(self.value, lang)


# -- the statement ---------------------------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _first_due(payload: dict) -> tuple[str | None, str | None]:
    """The earliest due date among the clocks the filing started running, and that clock's name."""
    best: tuple[str | None, str | None] = (None, None)
    for entry in payload.get("clocks") or []:
        if not isinstance(entry, dict) or entry.get("status") != "running" or not entry.get("due_date"):
            continue
        if best[0] is None or str(entry["due_date"]) < best[0]:
            best = (str(entry["due_date"]), str(entry.get("clock")))
    return best


def statement_of(created: audit.EventRow, key_id: str) -> dict[str, Any]:
    """The statement a proof of the case whose ``created`` event is ``created`` signs."""
    payload = created.payload or {}
    return {
        "v": PROOF_FORMAT,
        "number": created.chain,
        "type": payload.get("type"),
        "received_at": _utc_text(created.occurred_at),
        "event": created.hash,
        "due": _first_due(payload)[0],
        "key": key_id,
    }


def _statement_bytes(statement: dict[str, Any]) -> bytes:
    return audit.canonical(statement)


def _valid_statement(value: Any) -> dict[str, Any] | None:
    """``value`` if it is a statement of the current format, every value well formed; else None."""
    if not isinstance(value, dict) or set(value) != _STATEMENT_KEYS or value["v"] != PROOF_FORMAT:
        return None
    if type(value["v"]) is not int:
        return None
    texts = {k: value[k] for k in ("number", "type", "received_at", "event", "key")}
    if not all(isinstance(v, str) for v in texts.values()):
        return None
    checks = (
        (_NUMBER_RE, value["number"]),
        (_TYPE_RE, value["type"]),
        (_UTC_RE, value["received_at"]),
        (_HASH_RE, value["event"]),
        (_KEY_RE, value["key"]),
    )
    if not all(rx.fullmatch(v) for rx, v in checks):
        return None
    due = value["due"]
    if due is not None and not (isinstance(due, str) and _DATE_RE.fullmatch(due)):
        return None
    try:
        datetime.strptime(value["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        if due is not None:
            date.fromisoformat(due)
    except ValueError:
        return None
    return value


# -- the result of a check --------------------------------------------------------------------------------

_MESSAGES = {
    GENUINE: _(
        "Genuine: this proof of filing was issued by this office for case {number}, received {received}, and it "
        "matches the office's audit trail."
    ),
    ALTERED: _(
        "Altered: this file is not the proof the office issued; it was changed after it was signed (one changed "
        "character is enough). Check the link in its QR code, or ask for the original file."
    ),
    FORGED: _("Not genuine: this proof does not carry a valid signature of this office."),
    UNKNOWN_CASE: _(
        "This proof was signed by this office for case {number}, received {received}, but the office has no record "
        "of that case. Keep the proof and report this to the office's auditor or the inspectorate."
    ),
    TRAIL_MISMATCH: _(
        "This proof was signed by this office for case {number}, received {received}, but the office's audit trail "
        "no longer matches it. Keep the proof and report this to the office's auditor or the inspectorate."
    ),
    UNREADABLE: _("Not a proof of filing that can be read: no signed statement was found, or the file is damaged."),
}


@dataclass(frozen=True)
class ProofCheck:
    """What a check of a proof found. ``number``, ``case_type``, ``received_at`` (UTC), ``due_date`` and
    ``key_id`` are the proof's own signed facts, given only when its statement's signature verified (statuses
    ``genuine``, ``unknown_case``, ``trail_mismatch``); never anything else about the case."""

    status: str
    number: str | None = None
    case_type: str | None = None
    received_at: datetime | None = None
    due_date: date | None = None
    key_id: str | None = None
    zone: tzinfo = UTC
    zone_label: str = "UTC"

    @property
    def genuine(self) -> bool:
        return self.status == GENUINE

    @property
    def msg(self) -> Msg:
        received = _Moment(self.received_at, self.zone, self.zone_label) if self.received_at else ""
        return Msg(_MESSAGES[self.status], number=self.number or "", received=received)

    def message(self, lang: str = "id") -> str:
        """One sentence in ``lang`` (``id`` or ``en``) from the catalogue."""
        return self.msg.render(lang)

    def to_dict(self, lang: str = "id") -> dict[str, Any]:
        """For a page or the JSON API: status, the sentence, and the signed facts (or None)."""
        return {
            "status": self.status,
            "genuine": self.genuine,
            "message": self.message(lang),
            "number": self.number,
            "case_type": self.case_type,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "received": long_time(self.received_at, self.zone, self.zone_label, lang) if self.received_at else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "due": long_date(self.due_date, lang) if self.due_date else None,
        }


def _result(engine: WbsEngine, status: str, statement: dict[str, Any] | None = None) -> ProofCheck:
    settings = engine.settings
    if statement is None or status in (FORGED, ALTERED, UNREADABLE):
        return ProofCheck(status, zone=settings.zone, zone_label=settings.zone_label)
    return ProofCheck(
        status,
        number=statement["number"],
        case_type=statement["type"],
        received_at=datetime.strptime(statement["received_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        due_date=date.fromisoformat(statement["due"]) if statement["due"] else None,
        key_id=statement["key"],
        zone=settings.zone,
        zone_label=settings.zone_label,
    )


# -- verification ------------------------------------------------------------------------------------------


def _against_trail(engine: WbsEngine, statement: dict[str, Any]) -> str:
    """``genuine``, ``unknown_case`` or ``trail_mismatch`` for a statement this office signed."""
    number = statement["number"]
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        events = audit.chain_events(s, number)
        case = s.exec(select(Case).where(Case.number == number)).first()
        if not events and case is None:
            return UNKNOWN_CASE
        first = events[0] if events else None
        if first is None or first.seq != 1 or first.kind != "created" or first.broken is not None:
            return TRAIL_MISMATCH
        if first.hash != statement["event"] or statement_of(first, statement["key"]) != statement:
            return TRAIL_MISMATCH
        workflows = None
        if case is not None:
            try:
                loaded = engine.registry.get(s, case.case_type, case.workflow_version)
                workflows = {(case.case_type, case.workflow_version): loaded}
            except (WbsError, DefinitionError):
                return TRAIL_MISMATCH
        check = audit.verify_case(s, number, keyring=engine.keyring, workflows=workflows)
        return GENUINE if check.ok else TRAIL_MISMATCH


def _check_statement(engine: WbsEngine, statement: dict[str, Any], signature: str) -> str | None:
    """FORGED when the statement is not signed by one of this office's keys; None when it is."""
    public = engine.keyring.verification_keys().get(statement["key"])
    if public is None or not verify_signature(public, STATEMENT_CONTEXT + _statement_bytes(statement), signature):
        return FORGED
    return None


def _canonical_b64(text: str) -> bool:
    """Whether ``text`` is the one base64url spelling of the bytes it decodes to (a signature's last character
    carries unused bits: another letter there would decode to the same signature)."""
    import base64

    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") == text


def verify_proof(engine: WbsEngine, data: bytes) -> ProofCheck:
    """Check a proof of filing (the PDF's bytes): see the module docstring for the statuses. Never raises for
    bad input (any bytes: ``unreadable``); reads the database only for a proof the office signed."""
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_PROOF_BYTES or not data.startswith(_HEADER):
        return _result(engine, UNREADABLE)
    data = bytes(data)
    if not data.endswith(b"\n"):
        return _result(engine, UNREADABLE)
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    signed, last = data[:cut], data[cut:-1]
    final = _SIGNATURE_LINE_RE.fullmatch(last)
    if cut == 0 or final is None or not signed.endswith(b"\n%%EOF\n"):
        return _result(engine, UNREADABLE)
    lines = signed.split(b"\n", 3)
    found = _STATEMENT_LINE_RE.fullmatch(lines[2]) if len(lines) == 4 else None
    if found is None:
        return _result(engine, UNREADABLE)
    try:
        statement = _valid_statement(json.loads(found.group(1)))
    except (ValueError, RecursionError):
        statement = None
    if statement is None or _statement_bytes(statement) != found.group(1):
        return _result(engine, UNREADABLE)
    statement_sig, doc_key, doc_sig = found.group(2).decode(), final.group(1).decode(), final.group(2).decode()
    if not (_canonical_b64(statement_sig) and _canonical_b64(doc_sig)):
        return _result(engine, UNREADABLE)
    if doc_key != statement["key"] or _check_statement(engine, statement, statement_sig) is not None:
        return _result(engine, FORGED)
    public = engine.keyring.verification_keys()[doc_key]
    if not verify_signature(public, DOCUMENT_CONTEXT + hashlib.sha256(signed).hexdigest().encode(), doc_sig):
        return _result(engine, ALTERED)
    return _result(engine, _against_trail(engine, statement), statement)


def _single(params: Mapping[str, Any], name: str) -> str | None:
    getlist = getattr(params, "getlist", None)  # a multi-valued mapping (Flask's request.args): every value
    value = getlist(name) if callable(getlist) else params.get(name)
    if isinstance(value, list | tuple):
        if len(value) != 1:
            return None
        value = value[0]
    return value if isinstance(value, str) else None


def verify_link(engine: WbsEngine, query_params: Mapping[str, Any] | str) -> ProofCheck:
    """Check what the proof's QR code links to: the query's parameters (a mapping such as Flask's
    ``request.args``, whose every value is looked at; values as strings or one-item lists; or the query string,
    or the whole link). Other parameters (a language switch) are ignored; a parameter given twice is
    ``unreadable``. The statuses are :func:`verify_proof`'s except ``altered`` (a changed link is ``forged``).
    Never raises for bad input; reads the database only for a statement the office signed."""
    if isinstance(query_params, str):
        text = query_params.split("?", 1)[1] if "?" in query_params else query_params
        if len(text) > 4096:
            return _result(engine, UNREADABLE)
        try:
            query_params = parse_qs(text, keep_blank_values=True, max_num_fields=32)
        except ValueError:
            return _result(engine, UNREADABLE)
    values = {name: _single(query_params, name) for name in LINK_PARAMS}
    required = [n for n in LINK_PARAMS if n != "d"]
    if any(values[n] is None for n in required) or (values["d"] is None and "d" in query_params):
        return _result(engine, UNREADABLE)
    if values["v"] != str(PROOF_FORMAT) or not _SIG_RE.fullmatch(values["s"] or ""):
        return _result(engine, UNREADABLE)
    statement = _valid_statement(
        {
            "v": PROOF_FORMAT,
            "number": values["n"],
            "type": values["t"],
            "received_at": values["r"],
            "event": values["h"],
            "due": values["d"],
            "key": values["k"],
        }
    )
    if statement is None or not _canonical_b64(values["s"] or ""):
        return _result(engine, UNREADABLE)
    if _check_statement(engine, statement, values["s"] or "") is not None:
        return _result(engine, FORGED)
    return _result(engine, _against_trail(engine, statement), statement)


def verification_link(base_url: str, statement: dict[str, Any], signature: str) -> str:
    """The link a proof's QR code carries: ``{base_url}/verifikasi?v=…&n=…&t=…&r=…&h=…[&d=…]&k=…&s=…``."""
    pairs = [
        ("v", str(statement["v"])),
        ("n", statement["number"]),
        ("t", statement["type"]),
        ("r", statement["received_at"]),
        ("h", statement["event"]),
        *([("d", statement["due"])] if statement["due"] else []),
        ("k", statement["key"]),
        ("s", signature),
    ]
    return f"{_ascii_url(base_url)}{VERIFY_PATH}?" + urlencode(pairs, safe=":", quote_via=quote)


def _ascii_url(base_url: str) -> str:
    """``base_url`` (``WBS_BASE_URL``) without its trailing slash, in ASCII: a host name in other letters as
    IDNA, the path percent-encoded (a link in a PDF and a QR code is ASCII)."""
    parts = urlsplit(base_url.rstrip("/"))
    host = parts.hostname or ""
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        host = host.encode("idna").decode("ascii")
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{quote(parts.path, safe='/%')}"


# -- the proof ----------------------------------------------------------------------------------------------


def _shown(defn: WorkflowDef, name: str, value: Any, lang: str) -> str:
    spec = defn.field(name)
    if spec is None:
        return str(value)
    if spec.type == "select":
        return next((o.label.get(lang) for o in spec.options if o.value == value), str(value))
    if spec.type == "boolean" and isinstance(value, bool):
        return render(_("yes") if value else _("no"), lang)
    if spec.type == "money" and isinstance(value, int | float):
        return "Rp " + f"{int(value):,}".replace(",", ".")
    if spec.type == "date" and isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return long_date(date.fromisoformat(value), lang)
        except ValueError:
            return value
    return str(value)


def _what_they_wrote(
    engine: WbsEngine, case: Case, defn: WorkflowDef, created: audit.EventRow, lang: str
) -> list[tuple[str, str]] | None:
    """(label, value) of each intake field the reporter filled, in the form's order, as the tracking page shows
    what they wrote (the created event's values, sealed ones opened); identity and contact fields only on an
    open (``terbuka``) report. None when the case's content was destroyed (no data key)."""
    if not case.data_key:
        return None
    payload = created.payload or {}
    key = engine.case_key(case)
    opened = (key.open(payload["sealed"]) or {}).get("fields", {}) if payload.get("sealed") else {}
    values = {**(payload.get("data") or {}), **opened}
    rows = []
    for spec in defn.intake:
        if spec.name not in values or values[spec.name] in (None, ""):
            continue
        if (spec.identity or spec.contact) and case.identity_mode != "terbuka":
            continue
        shown = _shown(defn, spec.name, values[spec.name], lang)
        # blank lines kept, but no more than one in a row: a text of newlines must not make a book
        rows.append((spec.label.get(lang), re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", shown.replace("\r\n", "\n"))))
    return rows


class _Flow:
    """Lines placed top to bottom over as many pages as they need."""

    MARGIN = 56.0
    BOTTOM = 64.0

    def __init__(self, doc: pdfwriter.Document):
        self.doc = doc
        self.page = doc.new_page()
        self.y = pdfwriter.PAGE_HEIGHT - self.MARGIN
        self.width = pdfwriter.PAGE_WIDTH - 2 * self.MARGIN

    def need(self, height: float) -> None:
        if self.y - height < self.BOTTOM:
            self.page = self.doc.new_page()
            self.y = pdfwriter.PAGE_HEIGHT - self.MARGIN

    def lines(
        self,
        text: str,
        style: str = "regular",
        size: float = 10,
        *,
        width: float | None = None,
        indent: float = 0,
        gray: float = 0,
        leading: float = 1.3,
        link: str | None = None,
    ) -> None:
        for line in pdfwriter.wrap(text, style, size, (width or self.width) - indent):
            self.need(size * leading)
            self.y -= size * leading
            self.page.text(self.MARGIN + indent, self.y + size * (leading - 1), line, style, size, gray=gray)
            if link:
                self.page.link(self.MARGIN + indent, self.y, pdfwriter.width(line, style, size), size * leading, link)

    def gap(self, height: float) -> None:
        self.y -= height

    def heading(self, text: str) -> None:
        self.need(40)
        self.gap(10)
        self.lines(text, "bold", 12)
        self.page.rule(self.MARGIN, self.y - 3, self.MARGIN + self.width)
        self.gap(8)


def proof_of_filing(engine: WbsEngine, code: str, lang: str = "id", *, include_text: bool | None = None) -> bytes:
    """The proof of filing (a PDF) of the case whose tracking code is ``code``, in ``lang`` (``id`` or ``en``).

    A wrong code gets tracking's answer (:class:`~wbs_engine.errors.NotFound`, the same text). ``include_text``:
    whether what the reporter wrote is in it; None (default) follows the workflow's ``proof_includes_text``.
    The same case, language and choice give the same bytes. Reads only; records nothing. Raises
    :class:`ProofUnavailable` when the case's ``created`` event does not verify (the office signs nothing it
    cannot stand behind)."""
    lang = lang_of(lang)
    settings = engine.settings
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
        defn = engine.workflow(s, case).definition
        events = audit.chain_events(s, case.number)
        created = events[0] if events else None
        if (
            created is None
            or created.kind != "created"
            or created.seq != 1
            or created.broken is not None
            or audit.event_hash(created) != created.hash
        ):
            raise ProofUnavailable(
                _(
                    "The office's record of report {number} does not verify, so no proof of filing can be issued; "
                    "please tell the office."
                ),
                number=case.number,
            )
        include = defn.proof_includes_text if include_text is None else bool(include_text)
        try:
            wrote = _what_they_wrote(engine, case, defn, created, lang) if include else None
        except CryptoError:
            wrote = None
        anonymous = case.identity_mode == "anonim"
        number, type_label = case.number, defn.label.get(lang)
        due, due_clock = _first_due(created.payload or {})
        due_label = defn.clocks[due_clock].label.get(lang) if due_clock in defn.clocks else None
    keyring = engine.keyring
    statement = statement_of(created, keyring.key_id)
    statement_sig = keyring.sign(STATEMENT_CONTEXT + _statement_bytes(statement))
    link = verification_link(settings.base_url, statement, statement_sig)

    def t(msgid: str, /, **params: Any) -> str:
        return Msg(msgid, **params).render(lang)

    doc = pdfwriter.Document(title=t(_("Proof of filing {number}"), number=number))
    flow = _Flow(doc)
    if settings.office_name:
        flow.lines(settings.office_name, "bold", 11)
        flow.gap(4)
    flow.lines(t(_("PROOF OF FILING")), "bold", 18)
    flow.lines(t(_("This document proves that the office received the report below.")), size=10, gray=0.25)
    flow.gap(6)
    flow.page.rule(flow.MARGIN, flow.y, flow.MARGIN + flow.width)
    flow.gap(6)

    # the QR code at the right of the facts
    qr_size = 150.0
    qr_top = flow.y - 4
    matrix = _qr_matrix(link)
    module = qr_size / len(matrix)
    qr_x = flow.MARGIN + flow.width - qr_size
    flow.page.modules(matrix, qr_x, qr_top, module)
    flow.page.link(qr_x, qr_top - qr_size, qr_size, qr_size, link)
    caption_y = qr_top - qr_size - 10
    for line in pdfwriter.wrap(t(_("Scan to check this proof")), "regular", 8, qr_size):
        flow.page.text(qr_x + (qr_size - pdfwriter.width(line, "regular", 8)) / 2, caption_y, line, "regular", 8)
        caption_y -= 10
    left = flow.width - qr_size - 18

    def fact(label: str, value: str, style: str = "regular", size: float = 11) -> None:
        flow.lines(label, "bold", 8.5, width=left, gray=0.35)
        flow.lines(value, style, size, width=left)
        flow.gap(5)

    fact(t(_("Report type")), type_label)
    fact(t(_("Case number")), number, "bold", 15)
    fact(t(_("Received by the office")), long_time(created.occurred_at, settings.zone, settings.zone_label, lang))
    if due:
        when = long_date(date.fromisoformat(due), lang)
        fact(t(_("First step due by")), f"{when} ({due_label})" if due_label else when)
    if anonymous:
        flow.lines(t(_("Anonymous report: this document holds nothing that identifies you.")), size=9, width=left)
    flow.y = min(flow.y, caption_y) - 6

    flow.heading(t(_("Digital proof")))
    flow.lines(t(_("Hash of the filing's audit event (SHA-256)")), "bold", 8.5, gray=0.35)
    flow.lines(created.hash, "mono", 8.5)
    flow.gap(3)
    flow.lines(t(_("The office's signing key")), "bold", 8.5, gray=0.35)
    flow.lines(f"{keyring.key_id} (Ed25519)", "mono", 8.5)
    flow.gap(3)
    flow.lines(t(_("The office's signature")), "bold", 8.5, gray=0.35)
    flow.lines(statement_sig, "mono", 8.5)
    flow.gap(3)
    flow.lines(t(_("Verification link")), "bold", 8.5, gray=0.35)
    flow.lines(link, "mono", 7, link=link)

    flow.heading(t(_("How to verify")))
    flow.lines(
        t(
            _(
                "Scan the QR code or open the link above, or upload this file at {page}. The check says whether this "
                "proof was issued by the office and still matches the office's audit trail; changing a single "
                "character of this file makes it fail. The office's auditors can run `wbs verify-receipt FILE`, and "
                "anyone can check the signature with the office's public key (`wbs audit-key`)."
            ),
            page=f"{_ascii_url(settings.base_url)}{VERIFY_PATH}",
        ),
        size=10,
    )
    flow.gap(4)
    flow.lines(t(_("Your tracking code is not in this document: keep it separately, it opens your report.")), size=10)

    flow.heading(t(_("What you reported")))
    if wrote:
        for label, value in wrote:
            flow.need(30)
            flow.lines(label, "bold", 9)
            flow.lines(value, size=10, indent=8)
            flow.gap(4)
    elif include and wrote is None:
        flow.lines(t(_("The report's text is no longer kept by the office.")), size=10)
    else:
        flow.lines(
            t(
                _(
                    "The report's text is left out of this proof to protect you. You can read it on the tracking page "
                    "with your tracking code."
                )
            ),
            size=10,
        )

    pages = len(doc.pages)
    for i, page in enumerate(doc.pages, 1):
        footer = pdfwriter.winansi(t(_("{number} - page {page} of {pages}"), number=number, page=i, pages=pages))
        page.text(_Flow.MARGIN, 36, footer, "regular", 8, gray=0.4)
    line = STATEMENT_PREFIX + _statement_bytes(statement) + b" sig=" + statement_sig.encode()
    body = doc.render(comments=[line])
    digest = hashlib.sha256(body).hexdigest().encode()
    return (
        body
        + SIGNATURE_PREFIX
        + f"key={keyring.key_id} sig=".encode()
        + keyring.sign(DOCUMENT_CONTEXT + digest).encode()
        + b"\n"
    )


def _qr_matrix(text: str) -> list[bytearray]:
    """The QR code of ``text`` with its quiet zone (4 modules), rows of 0/1 (segno: pure Python)."""
    import segno

    qr = segno.make_qr(text, error="m")
    return [bytearray(row) for row in qr.matrix_iter(scale=1, border=4)]


def includes_text_by_default(engine: WbsEngine, code: str) -> bool:
    """Whether the proof of the case whose tracking code is ``code`` carries what the reporter wrote unless they
    choose otherwise: its workflow version's ``proof_includes_text`` (what a download form ticks by default).
    A wrong code: tracking's :class:`~wbs_engine.errors.NotFound`."""
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
        return engine.workflow(s, case).definition.proof_includes_text


def case_of_code(engine: WbsEngine, code: str, number: str | None = None) -> str:
    """The number of the case whose tracking code is ``code``; with ``number``, it must be that case's (a wrong
    one gets the same answer as a wrong code)."""
    with unit_of_work(engine.db, write=False) as s:
        _actor, case = engine.reporter(s, code)
    if number is not None and case.number != number.strip().upper():
        raise NotFound(_("Tracking code not found; check how it is written."))
    return case.number


__all__ = [
    "ProofCheck",
    "ProofUnavailable",
    "STATUSES",
    "case_of_code",
    "includes_text_by_default",
    "long_date",
    "long_time",
    "proof_of_filing",
    "verification_link",
    "verify_link",
    "verify_proof",
]
