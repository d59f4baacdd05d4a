"""Server-rendered SVG charts: the geometry is computed here; ``{% chart_svg %}``
(``insight/templatetags/insight_render.py``) draws it.

No chart library and no script: a chart is a few rectangles and a polyline in a ``viewBox``
that scales to the width of a phone, with a ``<title>`` and ``<desc>`` for screen readers and
the same numbers in the table beside it (with its CSV). Colours come from classes in
``insight.css`` (the Content-Security-Policy allows no inline style).
"""

from dataclasses import dataclass, field

WIDTH = 520
PLOT_LEFT = 48  # room for the y axis' labels
PLOT_RIGHT = 12
PLOT_TOP = 16
PLOT_BOTTOM = 44  # room for the x axis' labels
FUNNEL_LABEL = 160  # a funnel bar's label on its left
FUNNEL_ROW = 34


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str
    label_x: float = 0
    label_y: float = 0
    value_x: float = 0
    value_y: float = 0
    css: str = "bar"


@dataclass
class Series:
    name: str
    css: str
    points: list[tuple[float, float, str]]  # x, y, the value as text
    # Runs of neighbouring points: a category without a value (no leads, so no rate) breaks the
    # line there rather than joining its neighbours across it or dropping it to 0%.
    runs: list[list[tuple[float, float, str]]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """One polyline's points per run (a run of one point is its dot alone)."""
        runs = self.runs or [self.points]
        return [" ".join(f"{x:.1f},{y:.1f}" for x, y, _ in run) for run in runs if len(run) > 1]


@dataclass
class Chart:
    key: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    x_labels: list[tuple[float, float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    plot_left: float = PLOT_LEFT
    plot_right: float = WIDTH - PLOT_RIGHT
    empty: bool = False


def nice_max(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value * 10:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _tick_text(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:g}%"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _y_ticks(top: float, plot_top: float, plot_height: float, unit: str) -> list[tuple[float, str]]:
    return [(plot_top + plot_height * (1 - i / 4), _tick_text(top * i / 4, unit)) for i in range(5)]


def funnel(key: str, title: str, stages: list[tuple[str, int]]) -> Chart:
    """Horizontal bars, one per stage, as wide as its count (the first stage is the widest)."""
    height = PLOT_TOP + FUNNEL_ROW * max(len(stages), 1) + 8
    top = max((count for _, count in stages), default=0)
    span = WIDTH - FUNNEL_LABEL - 70
    chart = Chart(
        key,
        title,
        "; ".join(f"{label}: {count:,}" for label, count in stages),
        WIDTH,
        height,
        empty=top == 0,
    )
    for i, (label, count) in enumerate(stages):
        y = PLOT_TOP + i * FUNNEL_ROW
        width = span * count / top if top else 0
        chart.bars.append(
            Bar(
                x=FUNNEL_LABEL,
                y=y,
                width=max(width, 1 if count else 0),
                height=FUNNEL_ROW - 8,
                label=label,
                value_text=f"{count:,}",
                label_x=FUNNEL_LABEL - 8,
                label_y=y + (FUNNEL_ROW - 8) / 2 + 4,
                value_x=FUNNEL_LABEL + width + 6,
                value_y=y + (FUNNEL_ROW - 8) / 2 + 4,
            )
        )
    return chart


def columns(key: str, title: str, points: list[tuple[str, float, str]], unit: str = "") -> Chart:
    """Vertical bars over time (pipeline per month, breaches per week): ``points`` are
    (x label, value, value as text)."""
    height = 240
    plot_top, plot_bottom = PLOT_TOP, height - PLOT_BOTTOM
    plot_height = plot_bottom - plot_top
    top = max(nice_max(max((value for _, value, _ in points), default=0)), 4)  # whole ticks
    span = WIDTH - PLOT_LEFT - PLOT_RIGHT
    slot = span / max(len(points), 1)
    chart = Chart(
        key,
        title,
        "; ".join(f"{label}: {text}" for label, _, text in points),
        WIDTH,
        height,
        y_ticks=_y_ticks(top, plot_top, plot_height, unit),
        empty=not any(value for _, value, _ in points),
    )
    every = max(1, round(len(points) / 12))  # at most about a dozen x labels
    for i, (label, value, text) in enumerate(points):
        bar_height = plot_height * value / top
        x = PLOT_LEFT + i * slot + slot * 0.15
        chart.bars.append(
            Bar(
                x=x,
                y=plot_bottom - bar_height,
                width=slot * 0.7,
                height=bar_height,
                label=label,
                value_text=text,
            )
        )
        if i % every == 0:
            chart.x_labels.append((x + slot * 0.35, plot_bottom + 16, label))
    return chart


def lines(
    key: str, title: str, categories: list[str], series: list[tuple[str, str, list[float | None]]]
) -> Chart:
    """Rates (0-100 %) over categories, one polyline per series (the decay curve):
    ``series`` are (name, css class, values; None where there is nothing to rate)."""
    height = 260
    plot_top, plot_bottom = PLOT_TOP, height - PLOT_BOTTOM
    plot_height = plot_bottom - plot_top
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = nice_max(max(values, default=0))
    top = min(top, 100) if values and max(values) <= 100 else top
    span = WIDTH - PLOT_LEFT - PLOT_RIGHT
    slot = span / max(len(categories), 1)
    chart = Chart(
        key,
        title,
        "; ".join(
            f"{name}: "
            + ", ".join(
                f"{c} {v:.0f}%" if v is not None else f"{c} no leads"
                for c, v in zip(categories, vs, strict=True)
            )
            for name, _, vs in series
        ),
        WIDTH,
        height,
        y_ticks=_y_ticks(top, plot_top, plot_height, "%"),
        empty=not values,
    )
    for i, category in enumerate(categories):
        chart.x_labels.append((PLOT_LEFT + slot * (i + 0.5), plot_bottom + 16, category))
    for name, css, vs in series:
        runs: list[list[tuple[float, float, str]]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])  # a gap: the next value starts a new run
                continue
            runs[-1].append((PLOT_LEFT + slot * (i + 0.5), plot_bottom - plot_height * v / top, f"{v:.1f}%"))
        runs = [run for run in runs if run]
        chart.series.append(Series(name, css, [point for run in runs for point in run], runs))
    return chart
