"""The small PDF writer (wbs_engine/pdfwriter.py) and the settings the proof of filing reads: WinAnsi text with
what the core fonts cannot show replaced, wrapping by the fonts' metrics, a file a reader can open, the same
bytes for the same input; ``proof_includes_text`` known to the schema and the linter; ``WBS_OFFICE_NAME``;
retired signing keys kept in the keyring."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbs_engine import pdfwriter
from wbs_engine.config import ConfigError, Settings
from wbs_engine.crypto import CryptoError, Keyring
from wbs_engine.lint import lint_file, lint_text

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Laporan diterima", b"Laporan diterima"),
        ("café naïve Müller façade", "café naïve Müller façade".encode("cp1252")),
        ("Rp 1.500.000 – “kutipan” • €", "Rp 1.500.000 – “kutipan” • €".encode("cp1252")),
        ("ă ş ţ ǅ ﬁ", b"a s t Dz fi"),  # accents Windows-1252 lacks dropped; ligatures spelled out
        ("a → b ≥ c ≤ d ≠ e − f", b"a -> b >= c <= d != e - f"),
        ("\u202eterbalik\u200b", b"<U+202E>terbalik<U+200B>"),  # invisible controls made visible
        ("bel\x07 esc\x1b del\x7f c1\x9b", b"bel<U+0007> esc<U+001B> del<U+007F> c1<U+009B>"),
        ("tab\there", b"tab here"),
        ("😀 中文 ł", b"? ?? ?"),
    ],
)
def test_text_the_core_fonts_cannot_show_is_replaced(text, expected):
    assert pdfwriter.winansi(text) == expected


@given(st.text(max_size=200))
def test_any_text_becomes_bytes_the_fonts_have(text):
    data = pdfwriter.winansi(text.replace("\n", " ").replace("\r", " "))
    data.decode("cp1252")  # every byte is a character of WinAnsi
    assert b"\n" not in data and b"\r" not in data


@given(st.text(max_size=400), st.floats(min_value=20, max_value=500))
def test_wrapped_lines_fit(text, max_width):
    for line in pdfwriter.wrap(text, "regular", 10, max_width):
        assert pdfwriter.width(line, "regular", 10) <= max_width or len(line) == 1


def test_wrapping_breaks_at_spaces_and_keeps_paragraphs():
    lines = pdfwriter.wrap("satu dua tiga\n\nempat " + "x" * 300, "regular", 10, 100)
    assert lines[0] == b"satu dua tiga" and lines[1] == b"" and lines[2] == b"empat"
    assert all(set(line) == {ord("x")} for line in lines[3:]) and b"".join(lines[3:]) == b"x" * 300
    assert pdfwriter.width(b"W", "bold", 10) == 9.44 and pdfwriter.width(b"i", "mono", 10) == 6


def _document(title="Judul — Uji"):
    doc = pdfwriter.Document(title)
    page = doc.new_page()
    page.text(56, 780, pdfwriter.winansi("Halo (dunia) \\ naïve"), "bold", 14)
    page.text(56, 760, pdfwriter.winansi("abu-abu"), gray=0.5)
    page.modules([[1, 0, 1], [1, 1, 0], [0, 0, 1]], 300, 700, 5)
    page.rule(56, 740, 500)
    page.link(300, 685, 15, 15, "http://127.0.0.1:5000/verifikasi?v=1&x=(a)")
    doc.new_page().text(56, 780, b"kedua")
    return doc


def test_a_document_is_pdf_1_4_with_a_correct_cross_reference_table():
    pdf = _document().render([b"%catatan satu baris"])
    assert pdf.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%catatan satu baris\n") and pdf.endswith(b"%%EOF\n")
    xref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[xref:].startswith(b"xref\n0 ")
    entries = re.findall(rb"(\d{10}) 00000 n \n", pdf[xref:])
    for n, offset in enumerate(entries, 1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % n)
    assert b"/Size %d " % (len(entries) + 1) in pdf
    assert pdfwriter.page_texts(pdf) == ["Halo (dunia) \\ naïve\nabu-abu", "kedua"]
    assert _document().render([b"%catatan satu baris"]) == pdf  # no time, no randomness
    with pytest.raises(ValueError):
        _document().render([b"bukan komentar"])
    with pytest.raises(ValueError):
        _document().render([b"%dua\nbaris"])


def test_qr_modules_are_merged_runs():
    assert pdfwriter.qr_boxes([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]]) == [
        (0, 2, 2, 1),
        (3, 2, 1, 1),
        (0, 0, 1, 1),
        (2, 0, 2, 1),
    ]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext is not installed (never required)")
def test_a_real_reader_opens_it():
    pdf = _document().render()
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    assert out.stderr == b"" and "Halo (dunia) \\ naïve".encode() in out.stdout and b"kedua" in out.stdout
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Pages:           2" in info and "Judul — Uji" in info and "PDF version:     1.4" in info


# -- the workflow setting -----------------------------------------------------------------------------------


def test_proof_includes_text_is_known_to_the_schema_and_the_linter():
    shipped = {p.stem: lint_file(p)[0] for p in (REPO / "workflows").glob("*.yaml")}
    assert shipped["wbs"].proof_includes_text is False
    assert shipped["pengaduan"].proof_includes_text is True
    assert shipped["benturan_kepentingan"].proof_includes_text is True
    assert shipped["gratifikasi"].proof_includes_text is False  # not said: off (private by default)
    text = (REPO / "workflows" / "wbs.yaml").read_text()
    line = text.splitlines().index("proof_includes_text: false") + 1
    _defn, issues = lint_text(text.replace("proof_includes_text: false", "proof_includes_text: mungkin"), "wbs.yaml")
    assert [(i.line, i.where) for i in issues] == [(line, "proof_includes_text")]
    assert "boolean" in issues[0].render("en")
    _defn, issues = lint_text(text.replace("proof_includes_text: false", "proof_include_text: false"), "wbs.yaml")
    assert "unknown key 'proof_include_text'" in issues[0].render("en")


# -- the office's name ------------------------------------------------------------------------------------


def test_the_office_name_setting():
    assert Settings.from_env({}).office_name == ""
    assert (
        Settings.from_env({"WBS_OFFICE_NAME": "  Inspektorat Kota Contoh  "}).office_name == "Inspektorat Kota Contoh"
    )
    for bad in ("Dua\nbaris", "Kantor \u202eX", "x" * 201):
        with pytest.raises(ConfigError) as err:
            Settings.from_env({"WBS_OFFICE_NAME": bad})
        assert "WBS_OFFICE_NAME" in err.value.message("en") and "WBS_OFFICE_NAME" in err.value.message("id")


# -- retired signing keys ------------------------------------------------------------------------------------


def test_retired_signing_keys_are_kept_in_the_keyring_and_verify(tmp_path):
    old, ring = Keyring.generate(), Keyring.generate()
    assert list(ring.verification_keys()) == [ring.key_id]
    assert "retired_signing" not in ring.to_json()  # a keyring without them keeps its format
    ring.retired_signing = [old.public_b64]
    ring.save(tmp_path / "keyring.json")
    again = Keyring.load(tmp_path / "keyring.json")
    assert again.retired_signing == [old.public_b64]
    keys = again.verification_keys()
    assert set(keys) == {ring.key_id, old.key_id}
    signature = old.sign(b"pesan")
    from wbs_engine.crypto import verify_signature

    assert verify_signature(keys[old.key_id], b"pesan", signature)
    assert again.fingerprints()["signing"] == [ring.key_id]  # a retired key never signs and is not registered
    for bad in ('"bukan daftar"', '["pendek"]', "[1]"):
        text = (tmp_path / "keyring.json").read_text()
        damaged = re.sub(r'"retired_signing": \[[^\]]*\]', f'"retired_signing": {bad}', text)
        (tmp_path / "bad.json").write_text(damaged)
        with pytest.raises(CryptoError) as err:
            Keyring.load(tmp_path / "bad.json")
        assert "damaged" in err.value.message("en")
