"""Text from the public made safe to print on an officer's terminal.

A report, a message or an answer is typed by anyone. Printed raw, an ESC sequence in it can clear the
screen, recolour or hide lines, retitle the window or (on some terminals) inject keystrokes; a carriage
return can overwrite what was printed before it; a bidi control (U+202E) can reorder what follows so the
text reads differently from what it is. The helpers here render every such character *visibly* instead:

* C0 controls and DEL become their Unicode "control pictures": ESC → ``␛``, BEL → ``␇``, a lone CR →
  ``␍``, TAB → ``␉``, NUL → ``␀``, DEL → ``␡``. They are one column wide, so tables stay aligned, and an
  officer sees that the text held a control character and which one.
* C1 controls (U+0080–U+009F, e.g. U+009B, the one-character CSI), format characters (Unicode category
  Cf: bidi embeddings, overrides and isolates, zero-width spaces, the BOM, invisible tags), the line and
  paragraph separators U+2028/U+2029 and lone surrogates become ``<U+202E>``: they have no control
  picture, and the code point is what one needs to look them up. The one exception is U+200D
  (ZERO WIDTH JOINER), which joins emoji such as 👨‍👩‍👧 and moves nothing on a terminal.
* A newline (``\\n``, or ``\\r\\n`` as browsers send a textarea) stays a line break; :func:`block` indents
  the lines after the first so a multi-line value stays under its label, :func:`line` shows it as ``␊``
  where one line is promised (an error message).

The rendering is for reading only and is not reversible (a reporter who typed a literal ``␛`` looks the
same); ``--json`` output keeps the exact text, with these characters as JSON ``\\uXXXX`` escapes
(:func:`json_text`). The module is pure.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["block", "json_text", "line", "storable", "visible"]

_PICTURE_BASE = 0x2400  # U+2400 SYMBOL FOR NULL .. U+241F SYMBOL FOR UNIT SEPARATOR
_DEL_PICTURE = "\u2421"  # ␡
_NEWLINE_PICTURE = "\u240a"  # ␊
_KEPT = {"\u200d"}  # ZERO WIDTH JOINER: emoji sequences


def digits(text: str) -> bool:
    """Is ``text`` a whole number ``int()`` reads as typed: ASCII digits only (``"²".isdigit()`` is true, and
    ``int("²")`` fails; Arabic-Indic digits are read by ``int()`` but are not what a form field or a setting
    takes)."""
    return text.isascii() and text.isdigit()


def _unsafe(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return True
    if cp < 0xA0:
        return False
    return ch not in _KEPT and unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cs", "Cc")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Can ``text`` be stored and sent at all? Not when it holds a NUL (PostgreSQL refuses it in text and
    JSON) or a lone surrogate (no UTF-8 encoding exists: JSON from a browser may carry ``"\\ud800"``).
    Every text a person gives is checked with this before it reaches the database, a seal or a search."""
    return _UNSTORABLE.search(text) is None


def _render(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x20:
        return chr(_PICTURE_BASE + cp)
    if cp == 0x7F:
        return _DEL_PICTURE
    return f"<U+{cp:04X}>"


def visible(text: object, *, newline: str = "\n") -> str:
    """``text`` (anything, shown with ``str``) with every unsafe character rendered visibly; a newline
    (``\\n`` or ``\\r\\n``) becomes ``newline``."""
    s = str(text)
    if s.isascii() and s.isprintable():  # the common case: nothing to do
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "\r" and i + 1 < n and s[i + 1] == "\n":
            out.append(newline)
            i += 2
            continue
        if ch == "\n":
            out.append(newline)
        elif _unsafe(ch):
            out.append(_render(ch))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def block(text: object, indent: str = "    ") -> str:
    """For a value printed after a label: safe, with its later lines indented by ``indent``."""
    return visible(text, newline="\n" + indent)


def line(text: object) -> str:
    """For one line of output (an error message): safe, and a newline shows as ``␊``."""
    return visible(text, newline=_NEWLINE_PICTURE)


#: what XML 1.0 does not allow (controls but tab/newline/CR, surrogates, U+FFFE and U+FFFF), written as the
#: set itself: its complement ``[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]`` is the same set but
#: takes ~8 ms to compile, at the start of every ``wbs`` command (tests/unit/test_textsafe.py compares them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by U+FFFD: for what goes into an XML file (an
    XLSX sheet, an SVG chart), which one such character would make unreadable."""
    return _NOT_XML.sub("\ufffd", text)


def json_text(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with DEL, C1 controls and the format characters
    :func:`visible` renders written as ``\\uXXXX`` escapes: the same JSON value, but nothing in it acts on a
    terminal.

    ``json.dumps`` escapes only the C0 controls, so any C0 character in its output is the layout's own
    whitespace and is kept; the others can only occur inside JSON strings, where an escape means the same
    character."""
    if text.isascii() and "\x7f" not in text:
        return text
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if cp < 0x20 or not _unsafe(ch):
            out.append(ch)
        elif cp > 0xFFFF:  # a surrogate pair, as JSON writes characters outside the BMP
            cp -= 0x10000
            out.append(f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
        else:
            out.append(f"\\u{cp:04x}")
    return "".join(out)
