"""SVG charts of a report's figures (:class:`~wbs_engine.reportmodel.Chart`), drawn by pygal and cleaned for serving.

pygal (pure Python, writes SVG itself, no native libraries, small) draws the chart; matplotlib would do too but
brings numpy and a font cache for a bar chart. pygal's SVG is interactive through a script it always adds: that
script, its comments (one carries the date) and its empty id are removed here, so that a chart is a still image

* with **no script** and no external reference (the only URLs left are the XML namespace names),
* the same for the same input, byte for byte,
* with a ``<title>`` and a ``<desc>`` (the figures in words) for screen readers,
* its labels escaped by the XML serialiser (a label is text, never markup),
* its numbers written the report language's way (``1.234``, ``12,5`` in Indonesian).

The pages serve each chart from its own URL as ``image/svg+xml`` with :data:`CHART_CSP`. Pure: no I/O.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from .i18n import gettext_noop as _
from .i18n import lang_of, render
from .reportmodel import Chart
from .textsafe import xml_text

#: the Content-Security-Policy of a chart's response: pygal's SVG styles itself with a <style> element and style
#: attributes (inline); nothing else may load and no script may run
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"

MEDIA_TYPE = "image/svg+xml"

#: series colours (told apart in grey too)
COLORS = ("#1f4e79", "#e07b39", "#5b9b3a", "#8e3b8e", "#c9a400", "#4a9fb5", "#a33b3b", "#777777")

_FONT = "Helvetica, Arial, sans-serif"


def format_number(value: float | int | Decimal, lang: str) -> str:
    """``value`` the language's way: grouped thousands, at most two decimals (``1.234``, ``12,5`` in Indonesian)."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal(str(value)), format="#,##0.##", locale=lang_of(lang))


def empty(chart: Chart) -> bool:
    """True when the chart has no non-zero value (the page says "no data" instead of drawing it)."""
    return not any(v for _name, values in chart.series for v in values if v is not None)


def description(chart: Chart, lang: str = "id") -> str:
    """The chart's figures in words, for its ``<desc>`` (and for a page's text alternative)."""
    if empty(chart):
        return render(_("No data"), lang)
    parts = []
    for name, values in chart.series:
        figures = ", ".join(
            f"{label} {format_number(v or 0, lang)}" for label, v in zip(chart.labels, values, strict=True)
        )
        parts.append(f"{name}: {figures}")
    text = "; ".join(parts)
    return f"{text} ({chart.unit})" if chart.unit else text


def _strip(element: ET.Element) -> None:
    """Remove scripts, comments and processing instructions below ``element``, and any attribute that refers
    elsewhere (href) or runs code (on…)."""
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""
        if child.tag in (ET.Comment, ET.ProcessingInstruction) or tag.rsplit("}", 1)[-1] in ("script", "a"):
            element.remove(child)
            continue
        for attr in list(child.attrib):
            local = attr.rsplit("}", 1)[-1].lower()
            if local == "href" or local.startswith("on"):
                del child.attrib[attr]
        _strip(child)


def svg(chart: Chart, *, width: int = 640, height: int = 320, lang: str = "id") -> str:
    """A complete SVG document of ``chart`` (see the module docstring for what it promises)."""
    import pygal

    # a character XML forbids (a control, U+FFFE) in a label typed by staff would make the whole SVG unreadable
    chart = Chart(
        title=xml_text(chart.title),
        kind=chart.kind,
        labels=[xml_text(x) for x in chart.labels],
        series=[(xml_text(name), values) for name, values in chart.series],
        unit=xml_text(chart.unit),
    )
    from pygal.style import Style

    lang = lang_of(lang)
    style = Style(
        background="white",
        plot_background="white",
        foreground="#222222",
        foreground_strong="#111111",
        foreground_subtle="#999999",
        font_family=_FONT,
        label_font_family=_FONT,
        major_label_font_family=_FONT,
        value_font_family=_FONT,
        value_label_font_family=_FONT,
        tooltip_font_family=_FONT,
        title_font_family=_FONT,
        legend_font_family=_FONT,
        no_data_font_family=_FONT,
        colors=COLORS,
        transition="none",
    )
    kind = pygal.StackedBar if chart.kind == "stacked" else pygal.Bar
    # labels that would run into each other under their bars are turned (and long ones shortened)
    room = (width - 90) / max(len(chart.labels), 1)
    crowded = len(chart.labels) > 6 or max((len(x) for x in chart.labels), default=0) * 6.2 > room
    drawing = kind(
        width=width,
        height=height,
        title=chart.title,
        y_title=chart.unit or None,
        js=[],
        no_prefix=True,
        style=style,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(max(len(chart.series), 1), 4),
        show_legend=len(chart.series) > 1,
        truncate_label=28 if crowded else -1,
        truncate_legend=-1,
        x_label_rotation=25 if crowded else 0,
        value_formatter=lambda v: format_number(v, lang),
        no_data_text=render(_("No data"), lang),
        print_values=False,
        disable_xml_declaration=True,
    )
    drawing.x_labels = list(chart.labels)
    # whole counts get whole steps on the axis (never "0,1 perkara")
    values = [v for _name, vals in chart.series for v in vals if v is not None]
    if values and all(float(v).is_integer() for v in values):
        stacked = [sum(v or 0 for _n, vals in chart.series for v in [vals[i]]) for i in range(len(chart.labels))]
        top = int(max([*(stacked if chart.kind == "stacked" else values), 1]))
        step = max(1, -(-top // 8))
        drawing.y_labels = list(range(0, top + step, step))
    for name, values in chart.series:
        drawing.add(name, [0 if v is None else v for v in values])
    root = drawing.render_tree()
    _strip(root)
    root.attrib.pop("id", None)
    root.set("role", "img")
    root.set("aria-labelledby", "chart-title chart-desc")
    title = ET.Element("title", {"id": "chart-title"})
    title.text = chart.title
    desc = ET.Element("desc", {"id": "chart-desc"})
    desc.text = description(chart, lang)
    root.insert(0, desc)
    root.insert(0, title)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return "<?xml version='1.0' encoding='utf-8'?>\n" + body + "\n"
