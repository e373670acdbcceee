"""Search terms (wbs_engine.search): what a case can be found by, and how a search text becomes a range."""

from hypothesis import given
from hypothesis import strategies as st

from wbs_engine.search import MAX_TERM, normalize, prefix_of, successor, terms


def matches(text: str, number: str, plain: dict) -> bool:
    """What the database does: some term lies in [prefix, successor(prefix))."""
    p = prefix_of(text)
    if p is None:
        return False
    hi = successor(p)
    return any(t >= p and (hi is None or t < hi) for t in terms(number, plain))


def test_terms_start_at_every_word_of_the_number_and_the_plain_values():
    got = terms("PGD-2026-000123", {"kategori": "tidak_berkadar_pengawasan", "nilai": 2500000, "ok": True})
    assert got == {
        "pgd-2026-000123",
        "2026-000123",
        "000123",
        "123",
        "tidak berkadar pengawasan",
        "berkadar pengawasan",
        "pengawasan",
        "2500000",
    }


def test_what_a_search_finds():
    number, plain = "WBS-2026-000045", {"fungsi_utama": "Pengadaan  Barang/Jasa", "tanggal": "2026-03-02"}
    for text in ("wbs", "WBS-2026-000045", "2026-0000", "45", "045", "000045", "barang/j", "PENGADAAN barang", "jasa"):
        assert matches(text, number, plain), text
    for text in ("adaan", "45-", "barang pengadaan", "000046", "!!", ""):
        assert not matches(text, number, plain), text


def test_prefix_and_successor():
    assert prefix_of("  #Ｐｇｄ-") == "pgd-"  # NFKC, case-folded, from the first letter or digit
    assert prefix_of("0007") == "7" and prefix_of("0") == "0" and prefix_of("...") is None
    assert successor("abc") == "abd" and successor("a\U0010ffff") == "b" and successor("\U0010ffff") is None
    assert successor("a\ud7ff") == "a\ue000"  # past the surrogates
    assert len(prefix_of("x" * 500)) == MAX_TERM


@given(st.text(min_size=1, max_size=40))
def test_a_value_is_found_by_its_own_text_and_every_word_start(value):
    if prefix_of(value) is None:
        return
    assert matches(value, "X-1", {"f": value})
    norm = normalize(value)
    for i in range(1, len(norm)):
        if norm[i].isalnum() and not norm[i - 1].isalnum() and norm[i - 1] != "_":
            assert matches(norm[i:], "X-1", {"f": value}), norm[i:]


@given(st.text(max_size=20))
def test_successor_bounds_every_extension(prefix):
    hi = successor(prefix)
    for tail in ("", "a", "\U0010ffff", "zz"):
        assert hi is None or prefix + tail < hi
