"""``audit.canonical`` writes the bytes of RFC 8785 (JCS) as the ``rfc8785`` package does, through the C JSON
encoder where the two provably agree and through ``rfc8785`` elsewhere: a differential test against the
function as it was (``rfc8785.dumps`` of the normalised value) over nested JSON values with odd Unicode, lone
surrogates, big integers and every kind of float, plus the cases where JCS and Python's ``json`` differ."""

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbs_engine import audit


def old_canonical(obj):
    """``audit.canonical`` before the fast path (the reference)."""
    try:
        return rfc8785.dumps(audit._norm(obj))
    except rfc8785.CanonicalizationError as exc:
        raise audit.CanonicalError(str(exc)) from exc


def outcome(fn, value):
    try:
        return "bytes", fn(value)
    except Exception as exc:  # noqa: BLE001 - the same failure, or the same bytes
        return "error", type(exc)


def same(value):
    assert outcome(audit.canonical, value) == outcome(old_canonical, value), repr(value)


#: characters where JCS, Python's json and UTF-8/UTF-16 part ways: controls, the escaped ones, DEL, line and
#: paragraph separators, lone surrogates, the private use area (sorts after supplementary characters in
#: UTF-16), the last BMP character, supplementary characters
ODD = (
    '\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x20"\\/\x7f\x80\xe9\u2028\u2029'
    "\ud7ff\ud800\udbff\udc00\udfff\ue000\ufeff\uffff\U00010000\U0001f600\U0010ffff"
)
chars = st.one_of(st.sampled_from(ODD), st.characters(exclude_categories=()), st.characters(max_codepoint=0x7F))
text = st.text(chars, max_size=8)
FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    -0.5,
    1e-4,
    9.999e-5,
    1e-6,
    1e-7,
    1e15,
    1e16,
    9999999999999998.0,
    1e20,
    1e21,
    1e22,
    2.0**53,
    2.0**53 + 2,
    5e-324,
    1.7976931348623157e308,
    123456.789,
    1 / 3,
    float("nan"),
    float("inf"),
    -float("inf"),
]
INTS = [0, -1, 2**53 - 1, -(2**53 - 1), 2**53, -(2**53), 2**64, -(2**70)]
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**53) - 3, max_value=2**53 + 3),
    st.sampled_from(INTS),
    st.floats(),
    st.floats(min_value=-1e17, max_value=1e17),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.sampled_from(FLOATS),
)
moments = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3))])),
    st.datetimes(),  # naive: refused
    st.dates(),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text, moments)
keys = st.one_of(text, st.integers(-3, 3), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=6),
    ),
    max_leaves=30,
)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_the_same_bytes_or_the_same_refusal_as_rfc8785(value):
    same(value)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(text, st.one_of(st.none(), numbers, text), min_size=2, max_size=8))
def test_key_order_is_by_utf16_code_units(value):
    same(value)


@pytest.mark.parametrize("number", FLOATS + INTS)
def test_numbers_where_ecmascript_and_repr_differ(number):
    same(number)
    same({"n": number, "in": [number, -number if number == number else number]})


@pytest.mark.parametrize(
    "value, expected",
    [
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (5e-324, b"5e-324"),
        (1e20, b"100000000000000000000"),
        (-0.0, b"0"),
        (2.0, b"2"),
        (0.1, b"0.1"),
        (2**53 - 1, b"9007199254740991"),
        ({"\ue000": 1, "\U0001f600": 2, "b": 3, "a": 4}, '{"a":4,"b":3,"\U0001f600":2,"\ue000":1}'.encode()),
        ('\x00\x1f\x7f"\\\b\f\n\r\t\u2028', b'"\\u0000\\u001f\x7f\\"\\\\\\b\\f\\n\\r\\t\xe2\x80\xa8"'),
        (datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=7))), b'"2026-03-02T02:00:00.000000+00:00"'),
        ((date(2026, 3, 2), (1, "x")), b'["2026-03-02",[1,"x"]]'),
        ({1: "a", None: "c", 2.5: "d"}, b'{"1":"a","2.5":"d","None":"c"}'),
    ],
)
def test_fixed_cases(value, expected):
    assert audit.canonical(value) == expected
    same(value)


class Colour(enum.StrEnum):
    RED = "merah"


class Size(enum.IntEnum):
    BIG = 2**60


class Shade(str, enum.Enum):  # noqa: UP042 - the mixin's own __str__ is the point
    DARK = "gelap"


@pytest.mark.parametrize(
    "value",
    [
        2**53,
        -(2**53),
        float("nan"),
        float("inf"),
        "\ud800",
        {"\udc00": 1},
        {"a": "b\udfffc"},
        datetime(2026, 3, 2),  # naive
        Decimal("1.5"),
        {1, 2},
        b"bytes",
        object(),
        Colour.RED,
        {Colour.RED: Shade.DARK},
        {Shade.DARK: 1},
        Size.BIG,
        [Size.BIG],
    ],
)
def test_refusals_and_subclasses_as_before(value):
    same(value)


def test_deep_nesting_and_cycles_fail_as_before():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    same(deep)
    cyclic: dict = {}
    cyclic["self"] = cyclic
    same(cyclic)


def test_an_event_takes_the_fast_path(monkeypatch):
    """What the engine appends (ASCII keys, text, small integers, times) never reaches ``rfc8785``."""
    monkeypatch.setattr(rfc8785, "dumps", lambda *_a: pytest.fail("slow path"))
    body = {
        "case_id": 7,
        "chain": "PGD-2026-000007",
        "seq": 3,
        "kind": "transition",
        "trigger": "mulai",
        "from": "baru",
        "to": "verifikasi",
        "actor": "pengelola",
        "role": "pengelola",
        "at": datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        "payload": {
            "data": {"uraian": "Pungutan liar di loket — Rp 50.000 😀", "nilai": 50000},
            "case_version": 2,
            "clocks": [{"clock": "verifikasi", "status": "running", "due_date": "2026-03-16"}],
        },
        "prev": "0" * 64,
    }
    out = audit.canonical(body)
    assert json.loads(out)["payload"]["data"]["nilai"] == 50000
    monkeypatch.undo()
    assert out == old_canonical(body)
