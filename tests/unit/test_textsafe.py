"""Rendering text from the public so that it shows, rather than acts, on a terminal."""

from __future__ import annotations

import json

import pytest

from wbs_engine.textsafe import block, json_text, line, visible


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[2J\x1b[31mmerah", "␛[2J␛[31mmerah"),  # clear screen, red
        ("tersimpan\rDIHAPUS", "tersimpan␍DIHAPUS"),  # a lone CR would overwrite the line
        ("bel\x07", "bel␇"),
        ("nul\x00 tab\t del\x7f", "nul␀ tab␉ del␡"),
        ("\x9b31m", "<U+009B>31m"),  # C1 CSI
        ("abc\u202edcba", "abc<U+202E>dcba"),  # right-to-left override
        ("\u2066iso\u2069 \u200bzw \ufeffbom", "<U+2066>iso<U+2069> <U+200B>zw <U+FEFF>bom"),
        ("pisah\u2028baris", "pisah<U+2028>baris"),
        ("tag\U000e0041", "tag<U+E0041>"),
        ("\udcff", "<U+DCFF>"),  # a lone surrogate (bytes that were not UTF-8) cannot even be printed raw
    ],
)
def test_controls_are_rendered_visibly(raw, shown):
    assert visible(raw) == shown


def test_ordinary_text_is_untouched():
    for text in (
        "Pungutan liar di loket 3",
        "Rp 1.500.000 — sudah dikembalikan",
        "ümlaut 中文 عربى",
        "👨\u200d👩\u200d👧",
    ):
        assert visible(text) == text


def test_newlines_stay_line_breaks_indented_under_the_label():
    assert block("baris 1\nbaris 2\r\nbaris 3", "    ") == "baris 1\n    baris 2\n    baris 3"


def test_one_line_shows_newlines():
    assert line("a\nb\r\nc") == "a␊b␊c"


def test_non_strings_are_shown_with_str():
    assert visible(1500000) == "1500000" and visible(None) == "None"


def test_json_text_escapes_what_json_dumps_leaves_raw():
    value = {"x": "a\x1b[2J\u202eb\x9bc\x7f\U000e0041 ü"}
    text = json_text(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(text) == value
    assert all(ch not in text for ch in "\x1b\u202e\x9b\x7f\U000e0041")
    assert "\\u202e" in text and "\\udb40\\udc41" in text and "ü" in text


def test_xml_text_replaces_exactly_what_xml_forbids():
    """The pattern is written as the forbidden set (cheap to compile); it matches exactly the complement of
    XML 1.0's Char production, over every code point."""
    import re

    from wbs_engine.textsafe import xml_text

    allowed = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    every = "".join(map(chr, range(0x110000)))
    assert xml_text(every) == allowed.sub("\ufffd", every)
    assert xml_text(every).count("\ufffd") == 32 - 3 + 0x800 + 2 + 1  # and U+FFFD itself, kept
