"""Search terms: what the queues' text search can find, and how a search text becomes one index range.

A case's terms are its number and its **plain** field values (``case_file.data``), each normalised (NFKC,
case-folded, ``_`` and runs of white space made one space) and cut at the start of every word: ``Layanan legalisir
ijazah`` gives ``layanan legalisir ijazah``, ``legalisir ijazah`` and ``ijazah``; ``PGD-2026-000123`` gives
``pgd-2026-000123``, ``2026-000123``, ``000123`` and ``123`` (a number's leading zeros may be left out, or
given in any count: ``0123`` is searched as ``123``). A search text matches a case when it begins one of
its terms, i.e. when it appears in the number or a plain value **starting at the beginning of a word**.
That is a prefix, so a search is one range on the index of ``case_term`` (``term >= text AND term <
successor(text)``) whatever the number of cases, where a substring search (``LIKE '%text%'``) would read
every case.

Sealed values (identity, contacts, free text, confidential fields) are never in ``case_file.data``, so they
are never terms: a search cannot reveal them, not even by telling whether a case contains a word.

Pure functions, no I/O: the write path (:func:`wbs_engine.writepath.write_terms`), the queues
(:mod:`wbs_engine.queries`) and migration 0004 use the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

#: longest term kept (the column's length); a longer value is findable by its first 100 characters
MAX_TERM = 100
#: words of one value that start a term; the rest of a long value is still inside the earlier terms
MAX_WORDS = 30

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; '_' separates words (choice values)


def normalize(text: str) -> str:
    """Compatibility-normalised, case-folded, ``_`` read as a space (choice values such as
    ``tidak_berkadar_pengawasan`` are found as the words people type), white space collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())  # ≈ NFKC_Casefold
    return " ".join(folded.replace("_", " ").split())


def _starts(text: str) -> Iterator[str]:
    for n, m in enumerate(_WORD.finditer(text)):
        if n >= MAX_WORDS:
            return
        yield text[m.start() :][:MAX_TERM]
        word = m.group()
        bare = word.lstrip("0")
        if word.isdigit() and bare and bare != word:
            # 000123 is also found as 123 (how people say a case number)
            yield text[m.start() + len(word) - len(bare) :][:MAX_TERM]


def _values(value: Any) -> Iterator[str]:
    if value is None or isinstance(value, bool | dict):
        return
    if isinstance(value, list | tuple):
        for v in value:
            yield from _values(v)
        return
    yield str(value)


def terms(number: str, plain: Mapping[str, Any]) -> set[str]:
    """The terms of a case with this number and these plain values (never pass a sealed value)."""
    out = set(_starts(normalize(number)))
    for value in plain.values():
        for text in _values(value):
            out.update(_starts(normalize(text)))
    return out


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix`` (code-point order), or
    None when there is none (the prefix is all U+10FFFF)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = 0xE000 if 0xD800 <= last + 1 <= 0xDFFF else last + 1  # skip the surrogates
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None


def prefix_of(text: str) -> str | None:
    """The prefix a search text stands for: normalised, from its first letter or digit (terms start at a
    word), without the leading zeros of a first word of digits (``004`` finds ``000004``, which is also a
    term as ``4``), at most :data:`MAX_TERM` long. None when it holds no letter or digit (it matches
    nothing)."""
    q = normalize(text)
    m = _WORD.search(q)
    if m is None:
        return None
    word = m.group()
    bare = word.lstrip("0")
    start = m.start() + (len(word) - len(bare) if word.isdigit() and bare else 0)
    return q[start:][:MAX_TERM]


def rows(case_id: int, number: str, plain: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``case_term`` rows for one case, in a stable order."""
    return [{"case_id": case_id, "term": t} for t in sorted(terms(number, plain))]


__all__ = ["normalize", "terms", "successor", "prefix_of", "rows", "MAX_TERM"]
