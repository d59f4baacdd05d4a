"""``{% table_rows table %}`` and ``{% chart_svg chart %}``: an insight table's body and its
chart, written in Python.

The same markup the template loops wrote (``insight/_table.html``, ``insight/_chart.html``
before them), escaped the same way, but without a template node per cell and a filter per
coordinate: a speed page's table of two hundred reps and its charts took most of the page's
time once its numbers were remembered (``insight.answers``)."""

from django import template
from django.utils.html import conditional_escape as esc
from django.utils.safestring import SafeString, mark_safe

from insight.charts import Chart
from insight.tables import Table

register = template.Library()


def _cell(cell, numeric: bool) -> str:
    text = esc(cell.text)
    body = f'<a href="{esc(cell.href)}">{text}</a>' if cell.href else text
    return f'<td class="num">{body}</td>' if numeric else f"<td>{body}</td>"


@register.simple_tag
def table_rows(table: Table) -> SafeString:
    """The ``<tr>`` rows of ``table`` (its ``empty`` line when it has none)."""
    if not table.rows:
        return mark_safe(f'<tr><td colspan="{len(table.columns)}" class="empty">{esc(table.empty)}</td></tr>')
    numeric = table.numeric
    return mark_safe(
        "\n".join(
            "<tr>" + "".join(_cell(cell, i in numeric) for i, cell in enumerate(row)) + "</tr>"
            for row in table.rows
        )
    )


def _n(value: float) -> str:
    return f"{value:.1f}"


@register.simple_tag
def chart_svg(chart: Chart) -> SafeString:
    """The chart's ``<svg>`` (a ``viewBox`` that scales, a title and description for screen
    readers, colours from ``insight.css`` classes) and its legend."""
    key = esc(chart.key)
    out = [
        f'<svg class="chart-svg" viewBox="0 0 {chart.width} {chart.height}" width="100%" role="img"'
        f' aria-labelledby="{key}-title {key}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{key}-title">{esc(chart.title)}</title>',
        f'<desc id="{key}-desc">{esc(chart.description)}</desc>',
    ]
    for y, text in chart.y_ticks:
        out.append(
            f'<line class="grid" x1="{chart.plot_left:g}" x2="{chart.plot_right:g}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{int(chart.plot_left) - 6}" y="{_n(y)}" dy="4" text-anchor="end">{esc(text)}</text>'
        )
    for bar in chart.bars:
        label, value = esc(bar.label), esc(bar.value_text)
        part = (
            f'<g class="{esc(bar.css)}"><rect x="{_n(bar.x)}" y="{_n(bar.y)}" width="{_n(bar.width)}"'
            f' height="{_n(bar.height)}"><title>{label}: {value}</title></rect>'
        )
        if bar.label_x:
            part += (
                f'<text class="bar-label" x="{_n(bar.label_x)}" y="{_n(bar.label_y)}" text-anchor="end">{label}</text>'
                f'<text class="bar-value" x="{_n(bar.value_x)}" y="{_n(bar.value_y)}">{value}</text>'
            )
        out.append(part + "</g>")
    for series in chart.series:
        name = esc(series.name)
        lines = "".join(f'<polyline points="{esc(path)}"/>' for path in series.paths)
        dots = "".join(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5"><title>{name}: {esc(text)}</title></circle>'
            for x, y, text in series.points
        )
        out.append(f'<g class="series {esc(series.css)}">{lines}{dots}</g>')
    for x, y, text in chart.x_labels:
        out.append(f'<text class="tick" x="{_n(x)}" y="{_n(y)}" text-anchor="middle">{esc(text)}</text>')
    if chart.empty:
        out.append(
            f'<text class="chart-empty" x="{chart.width:.0f}" y="30" text-anchor="end" dx="-12">No data in this period</text>'
        )
    out.append("</svg>")
    if chart.series:
        keys = "".join(f'<span class="key {esc(s.css)}">{esc(s.name)}</span>' for s in chart.series)
        out.append(f'<p class="legend">{keys}</p>')
    return mark_safe("\n".join(out))
