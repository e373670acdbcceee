"""What an accepted file's content must be, beyond its first bytes: the checks :mod:`wbs_engine.files` makes once
a whole upload is at hand (pure functions over bytes; no I/O).

The type of a file is detected from its first bytes (:mod:`wbs_engine.files`). That alone lets through files that
start like an accepted kind and are something else as well (docs/decisions.md, Files):

* **Documents (DOCX, XLSX, ODT) are ZIP archives.** :func:`check_document` opens the archive's directory and
  refuses: more than :data:`MAX_ENTRIES` entries; an entry whose name is a path (absolute, ``..``, ``\\``),
  repeated, or outside the parts the format has (``word/`` for DOCX, ``xl/`` for XLSX, and their package
  parts; ``content.xml``, ``Pictures/`` … for ODT); a program, script or macro part (``.exe``, ``.bat``,
  ``.js``, ``vbaProject.bin`` …, or an entry whose bytes start like a program); another archive inside (by name
  or by its first bytes), except an Office workbook or document embedded in an OOXML document (a chart's data,
  ``…/embeddings/*.xlsx``), which is checked by the same rules one level deep and no deeper; encrypted entries
  and compression methods other than stored and deflate; an entry that inflates more than
  :data:`MAX_RATIO` times its compressed size (when it inflates to more than :data:`RATIO_FLOOR`), or a
  total over :data:`MAX_UNPACKED` (200 MiB) or over :data:`MAX_RATIO` times the file (when over
  :data:`RATIO_FLOOR`) — a "zip bomb". Every entry is then inflated, at most to the size its directory
  declares, and checked against its CRC: a directory that lies about sizes fails there.
* **Images (JPEG, PNG, WebP) must be well formed to their end marker** (JPEG: markers and segment lengths up to
  EOI, its scans skipped as entropy-coded data; PNG: chunks up to IEND; WebP: the RIFF length), and what follows
  the image data may not start with a program's or an archive's signature (``MZ``, ELF, Mach-O, ``#!``, ZIP,
  RAR, 7z, gzip, bzip2, xz, CAB) after any zero padding. Other trailing data stays accepted: phones append a
  short video to "motion photos".
* **No image or PDF may open as a ZIP archive**: a ZIP reader looks for the archive's end record in the last
  64 KiB of a file, so :func:`opens_as_zip` refuses a file holding that record (``PK\\x05\\x06``) there (an
  image or PDF with a ZIP appended, a "polyglot").

Each check returns None or a :class:`Problem` (a catalogue message with its parameters); the caller raises it
as its own refusal.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from . import textsafe
from .i18n import gettext_noop as _

MIB = 1024 * 1024
#: entries a document may hold
MAX_ENTRIES = 5000
#: the most a document may unpack to, in all
MAX_UNPACKED = 200 * MIB
#: how many times its compressed size an entry (and the whole document) may inflate ...
MAX_RATIO = 100
#: ... once it inflates to more than this (small, very regular parts compress far better and harm nobody)
RATIO_FLOOR = 1 * MIB
#: how far from the end a ZIP reader looks for the archive's end record (22 bytes + the longest comment)
ZIP_TAIL = 22 + 65535

_EOCD = b"PK\x05\x06"
#: the first bytes of programs and archives: never the start of a document's part or of what follows an image
_SIGNATURES: tuple[bytes, ...] = (
    b"MZ",  # Windows programs (PE), DOS
    b"\x7fELF",  # Linux programs
    b"\xfe\xed\xfa\xce",  # Mach-O (macOS programs), both byte orders, 32 and 64 bit, and universal
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",  # scripts
    b"PK\x03\x04",  # ZIP (and everything built on it: jar, apk, docx …)
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"MSCF",  # Windows cabinet
)
_PROGRAM_SIGNATURES = _SIGNATURES[:8]

#: names (by extension) of programs, scripts and shortcuts: never inside a document
_PROGRAMS = frozenset(
    "exe dll com scr pif cpl msi msp msc sys drv ocx bat cmd ps1 psm1 psd1 vbs vbe js jse mjs wsf wsh wsc hta "
    "lnk url scf reg inf jar class apk app dmg pkg deb rpm sh bash zsh csh ksh py pyc pyw pl rb php elf so "
    "dylib ko bin-exe gadget application appref-ms xbap".split()
)
#: names of archives and of documents that are archives themselves
_ARCHIVES = frozenset(
    "zip zipx rar 7z gz tgz gzip bz2 tbz tbz2 xz txz lz lzma lzh lha arj cab z zst tar iso img vhd vhdx wim "
    "docx docm dotx dotm xlsx xlsm xlsb xltx xltm pptx pptm ppsx ppsm potx potm odt ods odp odg odf ott ots "
    "epub".split()
)
#: macro projects: a ``.docx``/``.xlsx`` that holds one is a macro-enabled file renamed
_MACROS = frozenset({"vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin", "vbaprojectsignatureagile.bin"})
#: Office files an OOXML document may embed (a chart's data): checked like the outer one, one level deep
_EMBEDDED_OFFICE = {"xlsx": "xlsx", "docx": "docx"}

#: the parts each document format has: package parts (shared) and the format's own folder
_OOXML_SHARED = ("[Content_Types].xml", "_rels/", "docProps/", "docMetadata/", "customXml/")
_PARTS: dict[str, tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]] = {
    "docx": ((*_OOXML_SHARED, "word/"), ()),
    "xlsx": ((*_OOXML_SHARED, "xl/"), ()),
    "odt": (
        (
            "mimetype",
            "META-INF/",
            "content.xml",
            "styles.xml",
            "meta.xml",
            "settings.xml",
            "manifest.rdf",
            "Pictures/",
            "Thumbnails/",
            "Configurations2/",
            "ObjectReplacements/",
            "layout-cache",
        ),
        (re.compile(r"Object \d+/"),),  # embedded objects (charts, formulas)
    ),
}
#: the part that makes the archive that format
_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "odt": "content.xml"}


@dataclass(frozen=True)
class Problem:
    """Why a file's content is refused: a catalogue message (``msgid``, marked with ``_``) and its parameters."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


def _part(name: str) -> str:
    """An entry's name as a message may show it: visible, one line, short."""
    return textsafe.line(name)[:80]


def _ext(name: str) -> str:
    base = name.rsplit("/", 1)[-1].lower()
    return base.rsplit(".", 1)[-1] if "." in base else ""


def _in_format(kind: str, name: str) -> bool:
    prefixes, patterns = _PARTS[kind]
    return any(name == p or (p.endswith("/") and name.startswith(p)) for p in prefixes) or any(
        p.match(name) for p in patterns
    )


#: what zipfile raises for an archive it cannot read: damaged, truncated, or using a feature it does not
#: implement (it raises the built-in NotImplementedError for those); each means "damaged" to the reporter
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError)


@dataclass
class _Budget:
    """What the archives opened so far (the outer one and any embedded one) may still unpack to."""

    left: int = MAX_UNPACKED


def check_document(kind: str, data: bytes, label: str) -> Problem | None:
    """A DOCX, XLSX or ODT file (``kind``; ``label`` names it in messages) checked as the module says."""
    return _check_archive(kind, data, label, _Budget(), depth=0)


def _check_archive(kind: str, data: bytes, label: str, budget: _Budget, depth: int) -> Problem | None:  # noqa: C901
    damaged = Problem(_("the file is damaged or is not a valid {kind} file"), {"kind": label})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _UNREADABLE:
        return damaged
    if len(infos) > MAX_ENTRIES:
        return Problem(_("the document holds more than {max} parts"), {"max": MAX_ENTRIES})
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename
        if (
            not textsafe.storable(name)
            or "\\" in name
            or name.startswith("/")
            or ".." in name.split("/")
            or name.casefold() in seen
        ):
            return damaged
        seen.add(name.casefold())
        if info.flag_bits & 0x1:
            return Problem(_("the document is encrypted or protected with a password; send it without one"))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return damaged
        ext, base = _ext(name), name.rsplit("/", 1)[-1].lower()
        if ext in _PROGRAMS or base in _MACROS:
            return Problem(
                _("the document holds a program, script or macro ({part}); such files are not accepted"),
                {"part": _part(name)},
            )
        embedded = _EMBEDDED_OFFICE.get(ext) if kind != "odt" and "/embeddings/" in name and depth == 0 else None
        if ext in _ARCHIVES and embedded is None:
            return Problem(
                _("the document holds another archive or document ({part}); send that file on its own"),
                {"part": _part(name)},
            )
        if not _in_format(kind, name):
            return Problem(
                _("the document holds a part that a {kind} file does not have ({part}); it is not accepted"),
                {"kind": label, "part": _part(name)},
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return _bomb()
        declared += info.file_size
    if _MAIN_PART[kind].casefold() not in seen:
        return damaged
    if declared > budget.left or (declared > RATIO_FLOOR and declared > MAX_RATIO * len(data)):
        return _bomb()
    budget.left -= declared
    for info in infos:
        if info.is_dir():
            continue
        try:
            with archive.open(info) as part:
                head = part.read(8)
                if head.startswith(_PROGRAM_SIGNATURES):
                    return Problem(
                        _("the document holds a program, script or macro ({part}); such files are not accepted"),
                        {"part": _part(info.filename)},
                    )
                embedded = _EMBEDDED_OFFICE.get(_ext(info.filename)) if depth == 0 and kind != "odt" else None
                if head.startswith(_SIGNATURES) and not (embedded and "/embeddings/" in info.filename):
                    return Problem(
                        _("the document holds another archive or document ({part}); send that file on its own"),
                        {"part": _part(info.filename)},
                    )
                # the rest, never more than the directory declared (zipfile stops there), CRC checked at the end
                rest = [head]
                while chunk := part.read(1 << 16):
                    if embedded:
                        rest.append(chunk)
        except _UNREADABLE:
            return damaged
        if embedded and "/embeddings/" in info.filename:
            inner = _check_archive(embedded, b"".join(rest), embedded.upper(), budget, depth + 1)
            if inner is not None:
                return inner
    return None


def _bomb() -> Problem:
    return Problem(
        _("the document unpacks to far more than its size (over {max} MB, or {ratio} times); it is not accepted"),
        {"max": MAX_UNPACKED // MIB, "ratio": MAX_RATIO},
    )


# --- images ------------------------------------------------------------------------------------------------


def _jpeg_end(d: bytes) -> int | None:
    """Where a JPEG's data ends (after EOI), the end of the file when it is cut short inside a scan, or None
    when its markers are not a JPEG's."""
    n = len(d)
    if d[:2] != b"\xff\xd8":
        return None
    i = 2
    while True:
        if i >= n or d[i] != 0xFF:
            return None
        while i < n and d[i] == 0xFF:  # fill bytes before a marker
            i += 1
        if i >= n:
            return None
        marker = d[i]
        i += 1
        if marker == 0xD9:  # EOI
            return i
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM, RSTn: no length
            continue
        if marker < 0xC0 or marker == 0xD8:
            return None
        if i + 2 > n:
            return None
        length = int.from_bytes(d[i : i + 2], "big")
        if length < 2 or i + length > n:
            return None
        i += length
        if marker == 0xDA:  # a scan: entropy-coded data up to the next marker (FF00 is a stuffed FF, RSTn inside)
            while True:
                j = d.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return n  # cut short inside the scan: nothing follows the image
                nxt = d[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7:
                    i = j + 2
                elif nxt == 0xFF:
                    i = j + 1
                else:
                    i = j
                    break


def _png_end(d: bytes) -> int | None:
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    i, n = 8, len(d)
    while True:
        if i + 8 > n:
            return None
        length = int.from_bytes(d[i : i + 4], "big")
        kind = d[i + 4 : i + 8]
        if length > 0x7FFFFFFF or not kind.isalpha() or i + 12 + length > n:
            return None
        i += 12 + length
        if kind == b"IEND":
            return i


def _webp_end(d: bytes) -> int | None:
    if d[:4] != b"RIFF" or d[8:12] != b"WEBP":
        return None
    size = int.from_bytes(d[4:8], "little")
    end = 8 + size + (size & 1)
    return end if size >= 4 and end <= len(d) + (size & 1) else None


_IMAGE_END = {"jpeg": _jpeg_end, "png": _png_end, "webp": _webp_end}


def check_image(kind: str, data: bytes, label: str) -> Problem | None:
    """A JPEG, PNG or WebP file (``kind``) checked as the module says."""
    end = _IMAGE_END[kind](data)
    if end is None:
        return Problem(_("the file is damaged or is not a valid {kind} file"), {"kind": label})
    if data[end:].lstrip(b"\x00").startswith(_SIGNATURES):
        return _hidden(label)
    return None


def opens_as_zip(tail: bytes) -> bool:
    """Would a ZIP reader open a file whose last :data:`ZIP_TAIL` bytes are ``tail`` as an archive?"""
    return _EOCD in tail


def hidden_archive(label: str) -> Problem:
    """The refusal for a file that is also a ZIP archive (:func:`opens_as_zip`)."""
    return _hidden(label)


def _hidden(label: str) -> Problem:
    return Problem(
        _("the file has a program or an archive hidden in it after its {kind} data; it is not accepted"),
        {"kind": label},
    )
