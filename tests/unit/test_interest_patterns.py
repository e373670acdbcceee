"""The wider net of conflict-of-interest routing (``interests.loose_pattern``): every filing checks every active
declaration, and only those whose loose pattern matches the new case's full text are looked at further (the
declarant's account loaded, the text they may read built). That is only right if the net is never narrower:
wherever a declaration's pattern matches what some declarant may read, its loose pattern matches the full text."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from wbs_engine import interests

WORDS = st.sampled_from(
    [
        "Budi",
        "budi",
        "BUDI",
        "Santoso",
        "PT",
        "Maju",
        "Jaya",
        "Rp.",
        "O'Hara",
        "x",
        "ÄÖ",
        "äö",
        "李",
        "Straße",
        "STRASSE",
        "İstanbul",
        "istanbul",
        "ǅ",
        "K",
    ]
)
SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \n ", "", ",", ".", "-"])
TEXT = st.lists(st.tuples(WORDS, SPACE), max_size=8).map(lambda ws: "".join(w + s for w, s in ws))
NAME = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(
    parts=st.lists(st.tuples(TEXT, st.booleans()), min_size=1, max_size=6),
    names=st.lists(NAME, min_size=1, max_size=3),
)
def test_the_loose_pattern_matches_the_full_text_wherever_the_pattern_matches_a_readable_part(parts, names):
    names = interests.names_in(", ".join(names))
    strict, loose = interests.pattern(names), interests.loose_pattern(names)
    if strict is None:
        assert loose is None
        return
    readable = "\n".join(text for text, may_read in parts if may_read)
    full = "\n".join(text for text, _ in parts)
    if strict.search(readable):
        assert loose.search(full), (names, readable, full)


def test_a_name_split_over_two_fields_read_side_by_side_is_still_caught():
    names = ["Budi Santoso"]
    assert interests.pattern(names).search("surat dari Budi\nSantoso datang")
    assert interests.loose_pattern(names).search("surat dari Budi\nfield tersembunyi\nSantoso datang")
    assert not interests.loose_pattern(names).search("Budiman Santosova")


def test_the_wider_net_runs_in_linear_time_on_a_text_of_repeated_words():
    """Only literal words: a text of 60,000 repeated words against a name of many words that never completes
    there is one pass (a pattern allowing anything between a name's words would backtrack for hours here)."""
    assert not interests.loose_pattern(["aaa bbb ccc dddd"]).search("aaa bbb ccc " * 20_000)


def test_the_remembered_names_follow_what_the_declaration_holds(monkeypatch):
    """Names are remembered by what they are read from (the declaration's value and its sealed blobs and
    wrapped key): unchanged, it is not opened again; changed or destroyed, it is read afresh."""

    class Keyring:
        pass

    opened = []

    def declared_names(engine, spec, row):  # stands for opening the sealed value
        opened.append(row.confidential_enc)
        return [] if row.data_key is None else interests.names_in(row.confidential_enc.decode())

    monkeypatch.setattr(interests, "_declared_names", declared_names)
    engine = SimpleNamespace(keyring=Keyring())
    spec = SimpleNamespace(field="pihak_terkait")

    def row(value, key=b"wrapped"):
        return SimpleNamespace(id=7, data={}, data_key=key, confidential_enc=value, identity_enc=None)

    assert interests._names_of(engine, spec, row(b"PT Maju Jaya")).names == ("PT Maju Jaya",)
    assert interests._names_of(engine, spec, row(b"PT Maju Jaya")).names == ("PT Maju Jaya",)
    assert opened == [b"PT Maju Jaya"]  # the second time from memory
    assert interests._names_of(engine, spec, row(b"CV Lain, Budi")).names == ("CV Lain", "Budi")
    assert interests._names_of(engine, spec, row(b"PT Maju Jaya", key=None)).names == ()  # destroyed
    assert interests._names_of(engine, spec, row(b"PT Maju Jaya", key=None)).loose is None
    assert len(opened) == 3
    other = SimpleNamespace(keyring=Keyring())  # another office's keyring remembers on its own
    assert interests._names_of(other, spec, row(b"PT Maju Jaya")).names == ("PT Maju Jaya",)
    assert len(opened) == 4
