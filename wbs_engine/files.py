"""Attachments: files the reporter and the staff add to a case, kept sealed outside the database.

The web layer only translates HTTP: it hands :func:`attach` the upload's stream and name, and sends what
:func:`open_attachment` yields. What this module promises:

* **Where and how a file is kept.** Streamed in 64 KiB pieces (never read whole into memory) to
  ``WBS_ATTACHMENTS_DIR`` (default ``instance/attachments``, never inside the web app's folders), under a
  random name (``<2 hex>/<32 hex>``), encrypted with a key derived from the case's data key in the chunked
  format of :mod:`wbs_engine.sealedfile`. The person's file name is user text: it is sealed with the case key,
  with the file's SHA-256, in the ``attachment`` row and in the ``attachment_added`` event (the same
  ciphertext, so ``verify-audit`` compares them without a key). Size and detected type stay plain.
* **What is accepted.** The type is detected from the content (the ``filetype`` package, plus a UTF-8 check
  for plain text), never from the name or the type the browser declared; the name's extension must agree
  with the content. Limits per workflow (``attachments:`` in its file) or from the settings
  (``WBS_MAX_ATTACHMENT_MB``, ``WBS_MAX_ATTACHMENTS``). Every refusal is an :class:`AttachmentRejected` with
  a catalogue message (shown in the reader's language), and leaves no file and no row behind.
* **Who.** Attach: the reporter on their own open case, staff who work on the case
  (:func:`~wbs_engine.permissions.attach_role`); never a recused official. Open: staff who may read the
  case's sealed text open every file, the reporter the files they uploaded
  (:func:`~wbs_engine.permissions.attachment_sight`). A refusal says the same whether or not the file exists.
* **Every open is in the trail.** ``attachment_opened`` (who, which file, and whether it was served,
  damaged or destroyed) is committed before the first byte is given out; a staff member's refused attempt
  is recorded too (``attachment_refused``). A file altered on disk is reported (:class:`AttachmentDamaged`),
  not served.
* **Crypto-shredding.** A case whose data key was destroyed cannot open its files any more: deleting the key
  is enough (:class:`AttachmentDestroyed`).

What is wrong with a damaged file (:attr:`AttachmentDamaged.problem`, and the texts of
:class:`~wbs_engine.sealedfile.SealedFileError`) is a diagnosis for the admin who restores it, kept in English
like the log; the message the person reads is in the catalogue.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.fernet import Fernet
from sqlmodel import Session, func, select

from . import audit, content, permissions, sealedfile, textsafe, writepath
from .config import Settings
from .crypto import CaseKey, CryptoError
from .db import unit_of_work
from .definition import WorkflowDef
from .engine import WbsEngine
from .errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed, WbsError
from .i18n import Msg
from .i18n import gettext_noop as _
from .models import Attachment, Case, CaseEvent
from .permissions import Actor

MIB = 1024 * 1024
#: bytes of the beginning of a file the type is detected from (``filetype`` reads at most this many)
SNIFF = 8192
#: longest file name accepted, in characters
MAX_NAME = 200


@dataclass(frozen=True)
class FileKind:
    """A kind of file that can be accepted: its name in a workflow, MIME type, extensions and label."""

    name: str
    mime: str
    extensions: tuple[str, ...]
    label: str


#: Every kind a workflow may allow (``definition.AttachmentKind``), each detected from the content. Chosen for
#: evidence people have and staff can open safely: documents (PDF, Word, Excel, OpenDocument text), photos
#: and screenshots (JPEG, PNG, WebP) and UTF-8 plain text. Not accepted: archives (their content cannot be
#: checked), executables and scripts, HTML and SVG (active content), legacy Office files (macros), audio and
#: video (size). See ``docs/decisions.md``, Files.
KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        FileKind("pdf", "application/pdf", ("pdf",), "PDF"),
        FileKind("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG"),
        FileKind("png", "image/png", ("png",), "PNG"),
        FileKind("webp", "image/webp", ("webp",), "WebP"),
        FileKind("text", "text/plain", ("txt",), "teks/text (UTF-8)"),
        FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",), "DOCX"),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",), "XLSX"),
        FileKind("odt", "application/vnd.oasis.opendocument.text", ("odt",), "ODT"),
    )
}
_BY_MIME = {k.mime: k for k in KINDS.values()}


# --- errors ------------------------------------------------------------------------------------------


class AttachmentRejected(ValidationFailed):
    """A file refused before anything is kept. ``reason``: ``name``, ``empty``, ``too_large``, ``too_many``,
    ``type`` (not allowed or not recognised) or ``extension`` (the name disagrees with the content); then the
    catalogue message (marked with ``_``) and its parameters, reported on the field ``lampiran``. ``content``:
    the whole file is not what its kind must be (a document holding a program, another archive or a zip bomb;
    an image with a program or an archive after its data; see :mod:`wbs_engine.content`)."""

    def __init__(self, reason: str, msgid: str, /, **params: Any):
        self.reason = reason
        super().__init__({"lampiran": Msg(msgid, **params)})


class AttachmentUnavailable(WbsError):
    """A file that may be opened but cannot be served (409: the file's state, not the request, is wrong)."""

    status, code = 409, "attachment_unavailable"


class AttachmentDamaged(AttachmentUnavailable):
    """The file on disk is not the one stored (altered, cut short, swapped, missing); ``problem`` says how (in
    English, for the admin's log: an attribute of the error, never in its message or :meth:`to_dict`, which
    the person who asked for the file reads)."""

    code = "attachment_damaged"

    def __init__(self, attachment_id: int, problem: str):
        self.problem = problem
        super().__init__(
            _(
                "Attachment {attachment_id} is damaged or was altered in storage and is not served; tell the admin "
                "(the audit trail records it)."
            ),
            attachment_id=attachment_id,
        )


class AttachmentDestroyed(AttachmentUnavailable):
    """The case's data key was destroyed (retention): its files cannot be opened any more."""

    code = "attachment_destroyed"

    def __init__(self, number: str):
        super().__init__(
            _("The content of case {number} was destroyed (retention); its attachments cannot be opened any more."),
            number=number,
        )


def _refused(number: str, attachment_id: Any, actor: Actor) -> NotAllowed:
    """The one refusal for opening a file, whether it exists or not."""
    return NotAllowed(
        _("Attachment {attachment_id} of case {number} is not available to {username}."),
        attachment_id=textsafe.line(attachment_id)[:40],
        number=textsafe.line(number)[:40],
        username=actor.username,
    )


# --- limits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    max_count: int
    max_bytes: int
    kinds: tuple[str, ...]

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MIB


def limits_for(defn: WorkflowDef, settings: Settings) -> Limits:
    """The workflow's ``attachments:`` where it says, else the settings; every kind unless it narrows them."""
    spec = defn.attachments
    return Limits(
        max_count=spec.max_count if spec.max_count is not None else settings.max_attachments,
        max_bytes=(spec.max_size_mb if spec.max_size_mb is not None else settings.max_attachment_mb) * MIB,
        kinds=tuple(spec.allowed_types) if spec.allowed_types else tuple(KINDS),
    )


# --- names -------------------------------------------------------------------------------------------

#: control, format (bidi overrides, zero-width), surrogate, private-use and unassigned characters, and the
#: line/paragraph separators: none belongs in a file name, several can disguise one (``gpj.exe`` shown as
#: ``exe.jpg``)
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: invisible characters of other categories (Unicode's default-ignorable letters and marks, fillers, the blank
#: Braille pattern): a name padded with them looks shorter or different than it is
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))  # variation selectors
)
#: characters drawn like a slash or a backslash that Unicode normalisation does not turn into one
_SLASHES = frozenset("\u2044\u2215\u2216\u2571\u2572\u27cb\u27cd\u29f5\u29f8\u29f9\u2afb\u2afd\u3033\u3035")
#: device names Windows reserves in any folder, with any extension (``CON.txt`` cannot be saved or opened)
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{dev}{n}" for dev in ("com", "lpt") for n in (*"0123456789", "\u00b9", "\u00b2", "\u00b3")]
)


def check_filename(name: Any) -> str:
    """The file name as it will be kept (Unicode NFC, surrounding spaces removed), or
    :class:`AttachmentRejected`. The name is never used on disk; it is refused anyway when it carries a path
    (``/``, ``\\``, ``..``, also written with full-width or other look-alike characters), a control or
    invisible character (fillers and spaces other than the plain one included), a character that imitates a
    dot or a slash, a device name Windows reserves (``CON``, ``NUL``, ``COM1`` …), or is too long, so that it
    cannot mislead whoever downloads the file later."""

    if not isinstance(name, str):
        raise AttachmentRejected("name", _("file name missing"))
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        raise AttachmentRejected("name", _("file name is empty"))
    if len(text) > MAX_NAME:
        raise AttachmentRejected("name", _("file name is too long (at most {max} characters)"), max=MAX_NAME)
    if any(
        unicodedata.category(ch) in _BAD_CATEGORIES
        or (ch in _INVISIBLE and not (ch == "\ufe0f" and i and unicodedata.category(text[i - 1]) == "So"))
        or (ch != " " and unicodedata.category(ch) == "Zs")
        for i, ch in enumerate(text)
    ):
        raise AttachmentRejected("name", _("file name contains control or invisible characters; rename the file"))
    folded = unicodedata.normalize("NFKC", text)  # full-width ／ and ．．, the small reverse solidus … as ASCII
    if (
        "/" in folded
        or "\\" in folded
        or folded in (".", "..")
        or folded.startswith("..")
        or any(ch in _SLASHES for ch in text)
    ):
        raise AttachmentRejected(
            "name", _("file name must not contain a folder path (/, \\, ..); send the file itself")
        )
    if any(not ch.isascii() and unicodedata.normalize("NFKC", ch) in (".", ":") for ch in text):
        raise AttachmentRejected(
            "name", _("file name contains a character that imitates a dot; rename the file with plain dots")
        )
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem.strip(" .") or not ext:
        raise AttachmentRejected("name", _("file name must end in the file's type, e.g. report.pdf"))
    if text.split(".", 1)[0].rstrip(" ").casefold() in _RESERVED:
        raise AttachmentRejected(
            "name", _("file name is a device name Windows reserves (CON, NUL, COM1 …); rename the file")
        )
    return text


# --- what a stored file is ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment as its viewer may know it (the name and SHA-256 unsealed)."""

    id: int
    number: str
    filename: str
    content_type: str
    kind: str
    size: int
    sha256: str
    uploaded_at: datetime
    by_reporter: bool
    #: ``pelapor`` for every upload of the reporter (also one who filed from their account), else the username
    uploaded_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "filename": self.filename,
            "content_type": self.content_type,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at.isoformat(),
            "by_reporter": self.by_reporter,
            "uploaded_by": self.uploaded_by,
        }


def _info(row: Attachment, number: str, key: CaseKey) -> AttachmentInfo:
    meta = key.open(row.meta_enc) or {}
    kind = _BY_MIME.get(row.content_type)
    return AttachmentInfo(
        id=row.id,
        number=number,
        filename=str(meta.get("filename", "")),
        content_type=row.content_type,
        kind=kind.name if kind else "",
        size=row.size,
        sha256=str(meta.get("sha256", "")),
        uploaded_at=row.created_at,
        by_reporter=row.by_reporter,
        uploaded_by=row.uploaded_by,
    )


def storage_path(settings: Settings, file_id: str) -> Path:
    """Where a file lies: ``<WBS_ATTACHMENTS_DIR>/<first 2 hex digits>/<file id>``."""
    if not re.fullmatch(r"[0-9a-f]{32}", file_id):
        raise ValueError("not a file id")
    return settings.attachments_path / file_id[:2] / file_id


# --- receiving a file ---------------------------------------------------------------------------------


class _TextCheck:
    """Is everything so far UTF-8 text without control characters (tab, newlines and form feed allowed)?"""

    _BAD = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.ok = True

    def feed(self, data: bytes, final: bool = False) -> bool:
        if self.ok:
            try:
                self.ok = not self._BAD.search(self._decoder.decode(data, final))
            except UnicodeDecodeError:
                self.ok = False
        return self.ok


def _pieces(stream: BinaryIO | Iterable[bytes], budget: int) -> Iterator[bytes]:
    """The upload in pieces of at most one chunk; from a file-like object, at most ``budget + 1`` bytes are
    read, so a file over the limit is refused without reading the rest of it."""
    read = getattr(stream, "read", None)
    if read is not None:
        left = budget + 1
        while left > 0:
            data = read(min(sealedfile.CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield bytes(data)
        return
    for data in stream:  # an iterable of bytes: the caller stops at the limit
        if data:
            yield bytes(data)


def _not_allowed_type(what: str, limits: Limits) -> AttachmentRejected:
    allowed = ", ".join(KINDS[k].label for k in limits.kinds)
    return AttachmentRejected(
        "type", _("files of type {type} are not accepted (accepted: {accepted})"), type=what, accepted=allowed
    )


def _unrecognised(limits: Limits) -> AttachmentRejected:
    allowed = ", ".join(KINDS[k].label for k in limits.kinds)
    return AttachmentRejected(
        "type", _("the file's type cannot be recognised from its content (accepted: {accepted})"), accepted=allowed
    )


def _decide(head: bytes, text: _TextCheck, limits: Limits, name: str) -> FileKind:
    """The kind of the file from its first bytes, or a refusal. A strong signature of an accepted kind wins;
    otherwise text that is still text is a candidate for plain text (``filetype`` takes any text starting
    with ``BM`` for a bitmap), checked to its end by the caller."""
    import filetype  # here: what a command that reads no upload does not load

    guess = filetype.guess(head)
    kind = _BY_MIME.get(guess.mime) if guess is not None else None
    if kind is None and text.ok:
        kind = KINDS["text"]
    if kind is None:
        raise _not_allowed_type(guess.extension.upper(), limits) if guess is not None else _unrecognised(limits)
    if kind.name not in limits.kinds:
        raise _not_allowed_type(kind.label, limits)
    ext = name.rpartition(".")[2].lower()
    if ext not in kind.extensions:
        want = " / ".join("." + e for e in kind.extensions)
        raise AttachmentRejected(
            "extension",
            _("the file name ends in .{ext} but its content is {kind}; name it with {wanted}"),
            ext=ext,
            kind=kind.label,
            wanted=want,
        )
    return kind


@dataclass(frozen=True)
class _Received:
    size: int
    sha256: str
    kind: FileKind


#: kinds checked whole once received (:mod:`wbs_engine.content`): their bytes are kept in memory while the upload
#: comes in (at most the size limit; never written anywhere in clear)
_WHOLE = frozenset({"docx", "xlsx", "odt", "jpeg", "png", "webp"})
#: kinds whose last bytes are checked (a ZIP archive appended: :func:`wbs_engine.content.opens_as_zip`)
_TAILED = frozenset({"pdf", "jpeg", "png", "webp"})


class _Inspector:
    """Size, SHA-256 and kind of an upload, piece by piece; raises :class:`AttachmentRejected` as soon as
    a piece shows that the file is refused (too large, a type not accepted, text that is not text), and at the
    end when the whole content is not what its kind must be (:mod:`wbs_engine.content`)."""

    def __init__(self, limits: Limits, name: str):
        self.limits, self.name = limits, name
        self.digest = hashlib.sha256()
        self.text = _TextCheck()
        self.head = bytearray()  # the first bytes until the kind is known; then all of them for _WHOLE kinds
        self.tail = bytearray()  # the last bytes, for a PDF
        self.kind: FileKind | None = None
        self.size = 0

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limits.max_bytes:
            raise AttachmentRejected("too_large", _("the file is larger than {max_mb} MB"), max_mb=self.limits.max_mb)
        self.digest.update(data)
        if self.kind is None or self.kind.name == "text":
            self.text.feed(data)
        if self.kind is None:
            self.head += data
            if len(self.head) >= SNIFF:
                self.kind = _decide(bytes(self.head), self.text, self.limits, self.name)
                if self.kind.name not in _WHOLE:
                    self._keep_tail(self.head)
                    self.head.clear()
        elif self.kind.name in _WHOLE:
            self.head += data
        elif self.kind.name == "text" and not self.text.ok:
            raise AttachmentRejected("type", _("the file is not plain text (UTF-8)"))
        else:
            self._keep_tail(data)

    def _keep_tail(self, data: bytes | bytearray) -> None:
        if self.kind is not None and self.kind.name in _TAILED:
            self.tail += data
            del self.tail[: -content.ZIP_TAIL]

    def finish(self) -> _Received:
        if self.size == 0:
            raise AttachmentRejected("empty", _("the file is empty"))
        self.text.feed(b"", final=True)
        if self.kind is None:
            self.kind = _decide(bytes(self.head), self.text, self.limits, self.name)
            self._keep_tail(self.head if self.kind.name not in _WHOLE else b"")
        elif self.kind.name == "text" and not self.text.ok:
            raise AttachmentRejected("type", _("the file is not plain text (UTF-8)"))
        self._check_content()
        return _Received(size=self.size, sha256=self.digest.hexdigest(), kind=self.kind)

    def _check_content(self) -> None:
        kind = self.kind
        assert kind is not None
        problem = None
        if kind.name in ("docx", "xlsx", "odt"):
            problem = content.check_document(kind.name, bytes(self.head), kind.label)
        elif kind.name in ("jpeg", "png", "webp"):
            problem = content.check_image(kind.name, bytes(self.head), kind.label)
        if problem is None and kind.name in _TAILED:
            tail = self.head[-content.ZIP_TAIL :] if kind.name in _WHOLE else self.tail
            if content.opens_as_zip(bytes(tail)):
                problem = content.hidden_archive(kind.label)
        self.head.clear()
        self.tail.clear()
        if problem is not None:
            raise AttachmentRejected("content", problem.msgid, **problem.params)


def _receive(
    stream: BinaryIO | Iterable[bytes], part: Path, key: Fernet, file_id: bytes, limits: Limits, name: str
) -> _Received:
    """Stream the upload into ``part`` (sealed), checking size and type on the way; the caller deletes
    ``part`` if this raises."""
    for folder in (part.parent.parent, part.parent):  # the storage folder and its shard: owner only
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        writer = sealedfile.Writer(out, key, file_id)
        inspector = _Inspector(limits, name)
        for data in _pieces(stream, limits.max_bytes):
            inspector.feed(data)
            writer.write(data)
        got = inspector.finish()
        writer.close()
        out.flush()
        os.fsync(out.fileno())
    return got


def screen(defn: WorkflowDef, settings: Settings, files: list[tuple[Any, BinaryIO]]) -> None:
    """Check uploads before a case exists (a filing form with files): each ``(filename, stream)`` gets the
    checks :func:`attach` makes (name, count, size, type from the content), nothing is written, and each
    seekable stream is rewound. Raises :class:`AttachmentRejected` for the first file refused, its
    ``errors`` keyed ``lampiran`` like :func:`attach`'s."""
    limits = limits_for(defn, settings)
    if files and limits.max_count == 0:
        raise AttachmentRejected("too_many", _("this type of case takes no attachments"))
    if len(files) > limits.max_count:
        raise AttachmentRejected(
            "too_many", _("at most {max} files can be attached to this case"), max=limits.max_count
        )
    for filename, stream in files:
        inspector = _Inspector(limits, check_filename(filename))
        for data in _pieces(stream, limits.max_bytes):
            inspector.feed(data)
        inspector.finish()
        if hasattr(stream, "seek"):
            stream.seek(0)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the services -------------------------------------------------------------------------------------


def _count(s: Session, case: Case) -> int:
    return s.exec(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)).one()


def _may_attach(s: Session, defn: WorkflowDef, case: Case, actor: Actor, limits: Limits) -> tuple[bool, str]:
    by_reporter, role = permissions.attach_role(defn, case, actor)
    if case.final:
        raise InvalidTransition(_("Case {number} is closed."), number=case.number)
    if not case.data_key:
        raise AttachmentDestroyed(case.number)
    if limits.max_count == 0:
        raise AttachmentRejected("too_many", _("this type of case takes no attachments"))
    if _count(s, case) >= limits.max_count:
        raise AttachmentRejected(
            "too_many", _("this case already has {max} attachments (the most allowed)"), max=limits.max_count
        )
    return by_reporter, role


def attach(
    engine: WbsEngine,
    number: str,
    actor: Actor,
    filename: str,
    stream: BinaryIO | Iterable[bytes],
    *,
    declared_type: str | None = None,
) -> AttachmentInfo:
    """Add a file to case ``number``: stream it to storage sealed, then record it (row, case version, audit
    event ``attachment_added``) in one transaction under the case's lock.

    ``stream``: a binary file-like object (read in 64 KiB pieces) or an iterable of ``bytes``.
    ``declared_type`` (the browser's Content-Type) is accepted so that the web layer can pass it, and is
    deliberately ignored: the content decides. Permission, the case being open and the count are checked
    before a byte is read and again under the lock (the case may have closed meanwhile). Any refusal or
    failure leaves no file and no row."""
    del declared_type  # never trusted, never stored
    name = check_filename(filename)
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        case = engine.case_for(s, number, actor)  # a tracking code: another case reads as a missing one
        defn = engine.workflow(s, case).definition
        limits = limits_for(defn, engine.settings)
        _may_attach(s, defn, case, actor, limits)
        try:
            key = engine.case_key(case)
        except CryptoError:
            raise AttachmentDestroyed(case.number) from None
    raw_id = secrets.token_bytes(sealedfile.FILE_ID_BYTES)
    file_id = raw_id.hex()
    final = storage_path(engine.settings, file_id)
    part = final.with_name(file_id + ".part")
    try:
        got = _receive(stream, part, key.file_key(raw_id), raw_id, limits, name)
        now = engine.now()
        with unit_of_work(engine.db) as s:
            case = engine.get_case(s, number, lock=True)
            by_reporter, role = _may_attach(s, defn, case, actor, limits)
            writepath.bump_version(s, case)
            sealed = key.seal({"filename": name, "sha256": got.sha256})
            # the trail's actor, as for messages: the reporter is "pelapor", also one who filed from their
            # account (staff reading the case may not know who reported)
            author = "pelapor" if by_reporter else actor.username
            row = Attachment(
                case_id=case.id,
                file_id=file_id,
                meta_enc=sealed,
                content_type=got.kind.mime,
                size=got.size,
                by_reporter=by_reporter,
                uploaded_by=author,
                created_at=now,
            )
            s.add(row)
            s.flush()
            audit.append(
                s,
                chain=case.number,
                case_id=case.id,
                kind="attachment_added",
                actor=author,
                actor_role=role,
                now=now,
                payload={
                    "attachment_id": row.id,
                    "file_id": file_id,
                    "size": got.size,
                    "type": got.kind.mime,
                    "by_reporter": by_reporter,
                    "sealed": sealed,
                    "case_version": case.version,
                },
            )
            os.replace(part, final)
            _fsync_dir(final.parent)
            info = _info(row, case.number, key)
        return info
    except BaseException:
        part.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        raise


def _attachment_id(value: Any) -> int | None:
    """An attachment id as a caller gives it (an int, or its decimal digits from a URL), or None for anything
    else (text, a float, a bool, a number no row can have)."""
    if isinstance(value, str) and textsafe.digits(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        return None
    return value


def _visible(s: Session, case: Case, scope: str, attachment_id: Any) -> Attachment | None:
    aid = _attachment_id(attachment_id)
    if aid is None:
        return None
    row = s.get(Attachment, aid)
    if row is None or row.case_id != case.id or (scope == "own" and not row.by_reporter):
        return None
    return row


def list_attachments(engine: WbsEngine, number: str, viewer: Actor) -> list[AttachmentInfo]:
    """The attachments of case ``number`` that ``viewer`` may open (all of them for staff who read its sealed
    text, the reporter's own uploads for the reporter), oldest first.

    The list holds the files' names and SHA-256 in clear, so a staff member's listing that shows any is
    recorded like a case read (``attachments_listed``: who, in which role, which attachment ids; no
    ``case_version``), in the same transaction. A refusal to staff reads the same whether the case exists;
    a tracking code on another case gets the tracking page's answer, as for a missing one."""
    refusal = NotAllowed(
        _("{username} may not see the attachments of case {number}."),
        username=viewer.username,
        number=textsafe.line(number),
    )
    with unit_of_work(engine.db, write=viewer.kind == "user") as s:
        engine.check_keys_in(s)
        try:
            case = engine.case_for(s, number, viewer)
        except NotFound:
            if viewer.kind == "reporter":
                raise
            raise refusal from None
        defn = engine.workflow(s, case).definition
        sight = permissions.attachment_sight(defn, case, viewer)
        if sight is None:
            raise refusal
        stmt = select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        if sight[0] == "own":
            stmt = stmt.where(Attachment.by_reporter == True)  # noqa: E712
        rows = s.exec(stmt).all()
        if not rows:
            return []
        try:
            key = engine.case_key(case)
        except CryptoError:
            raise AttachmentDestroyed(case.number) from None
        listed = [_info(r, case.number, key) for r in rows]
        if sight[0] == "all":  # the reporter's own uploads are theirs: not recorded (nor is the tracking page)
            audit.append(
                s,
                chain=case.number,
                case_id=case.id,
                kind="attachments_listed",
                actor=viewer.username,
                actor_role=sight[1],
                now=engine.now(),
                payload={"attachments": [r.id for r in rows]},
            )
        return listed


def _check_file(path: Path, key: Fernet, raw_id: bytes, size: int, sha256: str) -> str | None:
    """Read the whole stored file once: None if it is the one recorded, else what is wrong."""
    digest, total = hashlib.sha256(), 0
    try:
        with open(path, "rb") as src:
            for data in sealedfile.read_chunks(src, key, raw_id):
                digest.update(data)
                total += len(data)
    except FileNotFoundError:
        return "the file is missing from storage"
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror or exc})"
    except sealedfile.SealedFileError as exc:
        return str(exc)
    if total != size:
        return f"its size is {total} bytes, {size} were stored"
    if digest.hexdigest() != sha256:
        return "its SHA-256 differs from the one recorded when it was stored"
    return None


def _serve(path: Path, key: Fernet, raw_id: bytes, row_id: int, size: int, sha256: str) -> Iterator[bytes]:
    """The plaintext again, checked chunk by chunk and as a whole (the file was checked just before; this
    catches a file replaced in between)."""
    digest, total = hashlib.sha256(), 0
    try:
        with open(path, "rb") as src:
            for data in sealedfile.read_chunks(src, key, raw_id):
                digest.update(data)
                total += len(data)
                yield data
    except (OSError, sealedfile.SealedFileError) as exc:
        raise AttachmentDamaged(row_id, str(exc)) from None
    if total != size or digest.hexdigest() != sha256:
        raise AttachmentDamaged(row_id, "the file changed while it was being served")


def open_attachment(
    engine: WbsEngine, number: str, attachment_id: int, actor: Actor
) -> tuple[AttachmentInfo, Iterator[bytes]]:
    """Open an attachment for ``actor``: its metadata and an iterator of its plaintext in chunks.

    Refused (:class:`~wbs_engine.errors.NotAllowed`, the same text whether the case or the file exists or
    not) unless the actor may open it; a staff member's refused attempt is recorded on the case's chain
    (``attachment_refused``). A permitted attempt is recorded (``attachment_opened``: who, which file, and
    ``served``, ``damaged`` or ``destroyed``) and committed before anything is returned. The whole file is
    checked (every chunk, size, SHA-256) before that, so a damaged file raises :class:`AttachmentDamaged`
    instead of being served half-way; the iterator checks again as it reads."""
    refusal = _refused(number, attachment_id, actor)
    with unit_of_work(engine.db, write=False) as s:
        engine.check_keys_in(s)
        try:
            case = engine.get_case(s, number)
        except NotFound:
            raise refusal from None
        defn = engine.workflow(s, case).definition
        sight = permissions.attachment_sight(defn, case, actor)
        row = _visible(s, case, sight[0], attachment_id) if sight is not None else None
        key = None
        if row is not None and case.data_key:
            try:
                key = engine.case_key(case)
            except CryptoError:
                key = None
    if row is None:
        if actor.kind == "user":
            _record_refusal(engine, number, actor, attachment_id)
        raise refusal
    problem, info = None, None
    try:
        path, raw_id = storage_path(engine.settings, row.file_id), bytes.fromhex(row.file_id)
    except ValueError:
        path, raw_id, problem = None, b"", "its file id in the database is not one this engine writes (altered)"
    if key is None:
        result = "destroyed"
    else:
        info = _info(row, case.number, key)
        if path is not None:
            problem = _check_file(path, key.file_key(raw_id), raw_id, row.size, info.sha256)
        result = "served" if problem is None else "damaged"

    def still_visible(s: Session, case: Case) -> str:
        sight = permissions.attachment_sight(engine.workflow(s, case).definition, case, actor)
        if sight is None or _visible(s, case, sight[0], row.id) is None:
            raise refusal
        return sight[1]

    _record(engine, number, "attachment_opened", actor, still_visible, {"attachment_id": row.id, "result": result})
    if key is None:
        raise AttachmentDestroyed(case.number)
    if problem is not None or path is None:
        raise AttachmentDamaged(row.id, problem or "")
    return info, _serve(path, key.file_key(raw_id), raw_id, row.id, row.size, info.sha256)


#: seconds within which a second refused attempt by the same staff member on the same file of a case is not
#: recorded again (the first one is in the trail; a loop must not flood the case's chain)
REFUSAL_QUIET = 60


def _record_refusal(engine: WbsEngine, number: str, actor: Actor, attachment_id: Any) -> None:
    """``attachment_refused`` for a staff member's refused attempt. The id is recorded only when it names a
    file of this case (an int); anything else (text, another case's id, a made-up number) is recorded as
    ``null``, so a caller cannot write chosen text, or chosen numbers, into the case's trail. At most one
    event per staff member, case and id (or ``null``) within :data:`REFUSAL_QUIET` seconds."""
    now = engine.now()
    with unit_of_work(engine.db) as s:
        case = engine.get_case(s, number, lock=True)
        aid = _attachment_id(attachment_id)
        if aid is not None and ((row := s.get(Attachment, aid)) is None or row.case_id != case.id):
            aid = None
        ev = CaseEvent.__table__.c
        recent = (
            s.connection()
            .execute(
                select(ev.payload)
                .where(
                    ev.chain == case.number,
                    ev.kind == "attachment_refused",
                    ev.actor == actor.username,
                    ev.occurred_at >= now - timedelta(seconds=REFUSAL_QUIET),
                )
                .order_by(ev.seq.desc())
                .limit(50)
            )
            .scalars()
        )
        if any(isinstance(p, dict) and p.get("attachment_id") == aid for p in recent):
            return
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind="attachment_refused",
            actor=actor.username,
            actor_role=None,
            now=now,
            payload={"attachment_id": aid},
        )


def _record(engine: WbsEngine, number: str, kind: str, actor: Actor, check: Any, payload: dict[str, Any]) -> None:
    """An access event on the case's chain, in its own transaction under the case's lock. ``check`` (under
    the lock) gives the actor's role or refuses; None records a refusal. Reading does not change the case:
    no ``case_version``."""
    with unit_of_work(engine.db) as s:
        case = engine.get_case(s, number, lock=True)
        role = check(s, case) if check is not None else None
        audit.append(
            s,
            chain=case.number,
            case_id=case.id,
            kind=kind,
            # the reporter is "pelapor", also one who filed from their account (as for files and messages)
            actor="pelapor" if actor.kind == "reporter" or role == "pelapor" else actor.username,
            actor_role=role,
            now=engine.now(),
            payload=payload,
        )
