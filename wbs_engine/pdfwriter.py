"""A small PDF writer: enough for a one- or few-page document of text, filled rectangles and links.

Used for the proof of filing (:mod:`wbs_engine.receipts`). It writes PDF 1.4 with the built-in Type 1 fonts
Helvetica, Helvetica-Bold and Courier in ``WinAnsiEncoding`` (nothing embedded), uncompressed content
streams (anyone can read the file in a text editor, and the tests read the text back without a PDF
library), one cross-reference table, and nothing that depends on the time or the machine: the same input
gives the same bytes.

Text: WinAnsi is Windows-1252, so Indonesian text (Latin letters, é, ü, the Rupiah's digits) shows as it
is. A character the fonts cannot show is replaced (:func:`winansi`): accents that Windows-1252 lacks are
dropped (ă → a), a few typographic signs get an ASCII spelling (→ ``->``, ≥ ``>=``), controls and invisible
format characters (a bidi override, a zero-width space) are written visibly as ``<U+202E>``, anything else
becomes ``?``. Wrapping (:func:`wrap`) measures with the fonts' Adobe metrics.

The module is pure: no database, no engine, no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: A4 in points (portrait; a page may be turned: :meth:`Document.new_page`)
PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89

FONTS = {"regular": ("F1", "Helvetica"), "bold": ("F2", "Helvetica-Bold"), "mono": ("F3", "Courier")}

# Advance widths (1/1000 em) of the WinAnsi characters 32..255, from Adobe's AFM files of the core fonts
# (Helvetica, Helvetica-Bold; Courier is 600 throughout); 0 where Windows-1252 has no character.
# fmt: off
_HELVETICA = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
    556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
    556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, 334, 260, 334, 584, 0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611,
    0, 0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 556,
    834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722,
    778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 500,
    556, 556, 556, 556, 278, 278, 278, 278, 556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500,
    556, 500,
]
_HELVETICA_BOLD = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722,
    611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556,
    611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
    556, 556, 500, 389, 280, 389, 584, 0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611,
    0, 0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556,
    834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722,
    778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 556,
    556, 556, 556, 556, 278, 278, 278, 278, 611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556,
    611, 556,
]
# fmt: on
_WIDTHS = {"regular": _HELVETICA, "bold": _HELVETICA_BOLD, "mono": [600] * 224}

#: ASCII spellings of signs WinAnsi lacks (what people paste from word processors and phones)
_SPELLED = {
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2043": "-",
    "\u2032": "'",
    "\u2033": '"',
    "\u2190": "<-",
    "\u2192": "->",
    "\u2194": "<->",
    "\u21d2": "=>",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2713": "v",
    "\u2714": "v",
    "\u2007": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u3000": " ",
}
REPLACEMENT = "?"


def _is_control(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return True
    return cp >= 0xA0 and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")


def winansi(text: str) -> bytes:
    """``text`` (one line: no newline) as WinAnsi bytes the core fonts can show; see the module docstring for
    what is replaced and how. A tab is a space."""
    out = bytearray()
    for ch in text:
        if ch == "\t":
            out += b" "
            continue
        if _is_control(ch):
            out += f"<U+{ord(ch):04X}>".encode("ascii")
            continue
        if ch in _SPELLED:
            out += _SPELLED[ch].encode("ascii")
            continue
        try:
            out += ch.encode("cp1252")
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            out += base.encode("cp1252") if base and not any(_is_control(c) for c in base) else b"?"
        except UnicodeEncodeError:
            out += REPLACEMENT.encode("ascii")
    return bytes(out)


def width(data: bytes, style: str, size: float) -> float:
    """The width in points of WinAnsi ``data`` in font ``style`` at ``size``."""
    table = _WIDTHS[style]
    return sum(table[b - 32] if b >= 32 else 0 for b in data) * size / 1000


def _fits(data: bytes, style: str, size: float, max_width: float) -> int:
    """How many bytes of ``data`` fit in ``max_width`` (at least one, so that a line always moves on)."""
    table, used = _WIDTHS[style], 0.0
    for i, b in enumerate(data):
        used += (table[b - 32] if b >= 32 else 0) * size / 1000
        if used > max_width:
            return max(i, 1)
    return len(data)


def wrap(text: str, style: str, size: float, max_width: float) -> list[bytes]:
    """``text`` as lines of WinAnsi bytes no wider than ``max_width``: broken at spaces, a word longer than a
    line broken where it must; each newline of ``text`` starts a new line (an empty line stays empty)."""
    lines: list[bytes] = []
    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        words = winansi(para).split(b" ")
        line = b""
        for word in words:
            candidate = word if not line else line + b" " + word
            if width(candidate, style, size) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
                line = b""
            while width(word, style, size) > max_width:
                cut = _fits(word, style, size, max_width)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _literal(data: bytes) -> bytes:
    """A PDF literal string: ``(`` ``)`` ``\\`` escaped, bytes outside printable ASCII as octal escapes."""
    out = bytearray(b"(")
    for b in data:
        if b in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([b])
        elif 0x20 <= b < 0x7F:
            out.append(b)
        else:
            out += b"\\%03o" % b
    return bytes(out + b")")


def _utf16(text: str) -> bytes:
    """A PDF text string for the document information (any Unicode): UTF-16BE with its BOM, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _num(x: float) -> bytes:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").encode("ascii")


@dataclass
class Page:
    ops: list[bytes] = field(default_factory=list)
    links: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    width: float = PAGE_WIDTH
    height: float = PAGE_HEIGHT

    def text(
        self, x: float, y: float, data: bytes, style: str = "regular", size: float = 10, *, gray: float = 0
    ) -> None:
        """One line of WinAnsi ``data`` (from :func:`winansi` or :func:`wrap`) with its baseline at (x, y), in
        ``gray`` (0 black, 1 white)."""
        name = FONTS[style][0].encode("ascii")
        head = b"BT %s g /%s %s Tf %s %s Td " % (_num(gray), name, _num(size), _num(x), _num(y))
        self.ops.append(head + _literal(data) + b" Tj ET 0 g")

    def rects(
        self,
        boxes: Iterable[tuple[float, float, float, float]],
        gray: float = 0,
        *,
        rgb: tuple[float, float, float] | None = None,
    ) -> None:
        """Filled rectangles (x, y, width, height), in one fill: ``gray`` (0 black, 1 white), or the colour
        ``rgb`` (each 0..1) when given."""
        parts = [b"%s %s %s rg" % tuple(_num(c) for c in rgb) if rgb is not None else _num(gray) + b" g"]
        parts += [b" ".join((_num(x), _num(y), _num(w), _num(h), b"re")) for x, y, w, h in boxes]
        self.ops.append(b"\n".join([*parts, b"f", b"0 g"]))

    def modules(self, matrix: Sequence[Sequence[int]], x: float, y_top: float, module: float) -> None:
        """A QR code's ``matrix`` drawn as filled rectangles, ``module`` points a side, its top-left corner at
        (x, y_top): one scaled coordinate system, whole numbers inside it (:func:`qr_boxes`)."""
        bottom = y_top - len(matrix) * module
        head = b"q %s 0 0 %s %s %s cm 0 g" % (_num(module), _num(module), _num(x), _num(bottom))
        body = [b"%d %d %d %d re" % box for box in qr_boxes(matrix)]
        self.ops.append(b"\n".join([head, *body, b"f Q"]))

    def rule(self, x1: float, y: float, x2: float, gray: float = 0.6, line_width: float = 0.5) -> None:
        self.ops.append(
            b"%s G %s w %s %s m %s %s l S 0 G" % (_num(gray), _num(line_width), _num(x1), _num(y), _num(x2), _num(y))
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, gray: float = 0.6, line_width: float = 0.5
    ) -> None:
        """A straight line from (x1, y1) to (x2, y2)."""
        self.ops.append(
            b"%s G %s w %s %s m %s %s l S 0 G"
            % (_num(gray), _num(line_width), _num(x1), _num(y1), _num(x2), _num(y2))
        )

    def link(self, x: float, y: float, w: float, h: float, uri: str) -> None:
        """A clickable area opening ``uri`` (ASCII)."""
        self.links.append((x, y, w, h, uri))


class Document:
    """Pages of text and rectangles, written by :meth:`render` as PDF 1.4."""

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.pages: list[Page] = []

    def new_page(self, *, landscape: bool = False) -> Page:
        """A new A4 page at the end, portrait or ``landscape`` (its ``width`` and ``height`` say which)."""
        page = Page(width=PAGE_HEIGHT, height=PAGE_WIDTH) if landscape else Page()
        self.pages.append(page)
        return page

    def render(self, comments: Sequence[bytes] = ()) -> bytes:
        """The PDF file. ``comments``: lines (ASCII, no newline, each starting with ``%``) written right after the
        header, where a program finds them without parsing the PDF."""
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")  # filled in below, once the page tree's number is known
        fonts = [
            add(b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base.encode("ascii"))
            for _name, base in FONTS.values()
        ]
        names = [FONTS[k][0].encode("ascii") for k in FONTS]
        font_dict = b" ".join(b"/%s %d 0 R" % (name, n) for name, n in zip(names, fonts, strict=True))
        info = add(b"<< /Title " + _utf16(self.title) + b" /Producer (wbs-engine) >>")
        tree = len(objects) + 1
        add(b"")  # the page tree, filled in below
        kids = []
        for page in self.pages:
            stream = b"\n".join(page.ops) + b"\n"
            content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
            annots = []
            for x, y, w, h, uri in page.links:
                annots.append(
                    add(
                        b"<< /Type /Annot /Subtype /Link /Rect [%s %s %s %s] /Border [0 0 0] "
                        b"/A << /S /URI /URI %s >> >>"
                        % (_num(x), _num(y), _num(x + w), _num(y + h), _literal(uri.encode("ascii")))
                    )
                )
            annot_part = b" /Annots [" + b" ".join(b"%d 0 R" % a for a in annots) + b"]" if annots else b""
            kids.append(
                add(
                    b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] "
                    b"/Resources << /Font << %s >> >> /Contents %d 0 R%s >>"
                    % (tree, _num(page.width), _num(page.height), font_dict, content, annot_part)
                )
            )
        objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
        objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % k for k in kids),
            len(kids),
        )
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        for line in comments:
            if not line.startswith(b"%") or b"\n" in line or b"\r" in line:
                raise ValueError("a header comment is one line starting with %")
            out += line + b"\n"
        offsets = []
        for n, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            catalog,
            info,
            xref,
        )
        return bytes(out)


def qr_boxes(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The dark modules of a QR ``matrix`` (rows of 0/1, top row first) as rectangles in module units (column,
    row counted from the bottom, width, height 1), each row's runs of dark modules merged."""
    boxes = []
    n = len(matrix)
    for r, row in enumerate(matrix):
        c, width_ = 0, len(row)
        while c < width_:
            if row[c]:
                start = c
                while c < width_ and row[c]:
                    c += 1
                boxes.append((start, n - 1 - r, c - start, 1))
            else:
                c += 1
    return boxes


def _unescape(m: Any) -> bytes:
    esc = m.group(1)
    return bytes([int(esc, 8)]) if len(esc) == 3 else esc


def page_texts(pdf: bytes) -> list[str]:
    """The text shown on each page of a PDF written by :class:`Document` (uncompressed content streams, one
    ``Tj`` per line), for tests and checks: a reader for this writer's output, not for PDFs in general."""
    import re

    texts = []
    for m in re.finditer(rb"<< /Length (\d+) >>\nstream\n", pdf):
        start = m.end()
        stream = pdf[start : start + int(m.group(1))]
        lines = []
        for lit in re.finditer(rb"\((?:[^()\\]|\\.)*\) Tj", stream, re.S):
            raw = lit.group(0)[1:-4]
            data = re.sub(rb"\\([0-7]{3}|.)", _unescape, raw, flags=re.S)
            lines.append(data.decode("cp1252", errors="replace"))
        texts.append("\n".join(lines))
    return texts
