"""SVG charts (wbs_engine/charts.py): a still image with no script and no external reference, the same bytes for
the same input, a title and a description, labels as text, numbers the language's way."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from wbs_engine import charts
from wbs_engine.reportmodel import Chart

from .samples import recap

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"&', "é “kutip” 🚀", "</text><script>x()</script>"]


def hostile(kind: str = "bar") -> Chart:
    return Chart(
        title='Perkara <script>alert("t")</script>',
        kind=kind,
        labels=HOSTILE,
        series=[("Masuk <b>", [1234.0, 12.5, 0.0, 3.0]), ("Selesai", [1000.0, 2.0, 0.0, 1.0])],
        unit="perkara",
    )


def all_sample_charts() -> list[Chart]:
    return [s.chart for s in recap().sections if s.chart is not None] + [hostile("bar"), hostile("stacked")]


@pytest.mark.parametrize("chart", all_sample_charts(), ids=lambda c: f"{c.kind}-{c.title[:12]}")
def test_a_chart_is_a_complete_svg_without_script_or_external_reference(chart):
    out = charts.svg(chart)
    root = ET.fromstring(out.encode("utf-8"))  # well-formed
    assert root.tag == f"{SVG}svg"
    tags = {el.tag.removeprefix(SVG) for el in root.iter() if isinstance(el.tag, str)}
    assert "script" not in tags and "foreignObject" not in tags and "a" not in tags and "image" not in tags
    assert "<script" not in out.lower()
    for el in root.iter():
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), name
            assert "href" not in name.lower(), name
            assert "javascript:" not in value.lower()
    # no attribute or style refers elsewhere (a label's text may mention a URL: it is text); the namespace name
    # is the only URL in the markup, and nothing loads it
    attributes = " ".join(v for el in root.iter() for v in el.attrib.values())
    styles = " ".join(el.text or "" for el in root.iter(f"{SVG}style"))
    assert not re.search(r"https?:|//|url\(|@import", attributes + styles)
    assert re.findall(r'xmlns(?::\w+)?="([^"]*)"', out) == ["http://www.w3.org/2000/svg"]
    assert "<!--" not in out  # pygal's comments (one carries today's date) are gone
    # a title and a description for screen readers, first in the document
    assert root[0].tag == f"{SVG}title" and root[0].text == chart.title
    assert root[1].tag == f"{SVG}desc" and root[1].text
    assert root.get("role") == "img"


def test_the_same_chart_gives_the_same_bytes():
    assert charts.svg(hostile()) == charts.svg(hostile())
    small = {"width": 400, "height": 200}
    assert charts.svg(hostile("stacked"), **small) == charts.svg(hostile("stacked"), **small)
    assert 'id=""' not in charts.svg(hostile()) and "chart-" in charts.svg(hostile())


def test_labels_come_out_as_text():
    out = charts.svg(hostile())
    root = ET.fromstring(out.encode("utf-8"))
    texts = [el.text for el in root.iter(f"{SVG}text")]
    for label in HOSTILE:
        assert label in texts, label
    assert 'Perkara <script>alert("t")</script>' in texts
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert '"&amp;' in out


def test_numbers_are_written_the_languages_way():
    chart = Chart(title="T", kind="bar", labels=["a", "b"], series=[("s", [1234.0, 12.5])])
    indonesian = ET.fromstring(charts.svg(chart, lang="id").encode("utf-8"))
    desc = indonesian.find(f"{SVG}desc").text
    assert "1.234" in desc and "12,5" in desc
    axis = {el.text for el in indonesian.iter(f"{SVG}text")}
    assert any(t and re.fullmatch(r"1\.\d{3}", t) for t in axis), axis
    english = ET.fromstring(charts.svg(chart, lang="en").encode("utf-8")).find(f"{SVG}desc").text
    assert "1,234" in english and "12.5" in english


def test_empty():
    assert charts.empty(Chart(title="T", kind="bar", labels=[], series=[]))
    assert charts.empty(Chart(title="T", kind="bar", labels=["a"], series=[("s", [0.0])]))
    assert not charts.empty(Chart(title="T", kind="bar", labels=["a", "b"], series=[("s", [0.0, 0.5])]))
    # an empty chart still renders (a page may ask), saying so
    out = charts.svg(Chart(title="T", kind="stacked", labels=[], series=[("s", [])]), lang="id")
    assert "Tidak ada data" in out and "<script" not in out


def test_the_content_security_policy_allows_no_script():
    assert "script" not in charts.CHART_CSP
    assert charts.CHART_CSP.startswith("default-src 'none'")
    assert charts.MEDIA_TYPE == "image/svg+xml"
