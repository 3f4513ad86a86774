"""Charts drawn on the server: plain geometry for inline SVG templates (reviews/_bar_chart.html and
reviews/_histogram.html), no JavaScript and nothing fetched from elsewhere.

Each chart carries a title, a one-sentence description for screen readers (the SVG's <desc>) and
its rows, which the templates also render as a data table. Text in the SVG is escaped by the
template like any other text.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    text_x: float  # where the value label goes
    text_y: float
    share: float | None = None  # percent of the total, for the table


@dataclass
class Chart:
    key: str  # unique on the page: ids of <title> and <desc>
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    unit: str = ""
    axis: list[dict] = field(default_factory=list)  # gridlines: {"x" or "y", "label"}
    total: int = 0
    plot: dict = field(default_factory=dict)  # the plotting area: left, right, top, bottom
    caption: str = ""  # the short sentence shown under the chart (the description has every number)

    @property
    def empty(self) -> bool:
        return not self.total


def _nice_max(value: int) -> int:
    """A round axis maximum at or above value: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def horizontal_bars(key: str, title: str, rows: list[tuple[str, int]], *, unit: str) -> Chart:
    """One bar per row in the order given (most frequent first), each under its label, so long
    category names fit on any screen; values are written at the end of the bars."""
    bar_area, row_height, bar_height = 470, 46, 18
    width = bar_area + 60
    height = row_height * max(len(rows), 1)
    total = sum(value for _label, value in rows)
    scale = _nice_max(max((value for _label, value in rows), default=0))
    bars = []
    for index, (label, value) in enumerate(rows):
        bar_width = bar_area * value / scale
        y = index * row_height
        bars.append(
            Bar(
                label=label,
                value=value,
                x=0,
                y=y + 21,
                width=round(max(bar_width, 2 if value else 0), 1),
                height=bar_height,
                text_x=round(bar_width + 6, 1),
                text_y=y + 35,
                share=_percent(value, total),
            )
        )
    top_items = ", ".join(f"{label} {value}" for label, value in rows[:3])
    description = (
        f"{total} {unit} in {len(rows)} categor{'y' if len(rows) == 1 else 'ies'}; "
        f"the most frequent: {top_items}."
        if total
        else f"No {unit} in this period."
    )
    plot = {"left": 0, "right": bar_area, "top": 0, "bottom": height}
    return Chart(key, title, description, width, height, bars, unit, [], total, plot, caption=description)


def histogram(
    key: str, title: str, rows: list[tuple[str, int]], *, unit: str, lead: str = "", caption: str = ""
) -> Chart:
    """Vertical bars, one per bucket in the order given (short to long), labels under the bars."""
    left, right, top, bottom = 38, 10, 28, 34
    plot_width, plot_height = 476, 160
    width, height = left + plot_width + right, top + plot_height + bottom
    total = sum(value for _label, value in rows)
    scale = _nice_max(max((value for _label, value in rows), default=0))
    slot = plot_width / max(len(rows), 1)
    bars = []
    for index, (label, value) in enumerate(rows):
        bar_height = plot_height * value / scale
        x = left + index * slot + slot * 0.12
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(x, 1),
                y=round(top + plot_height - bar_height, 1),
                width=round(slot * 0.76, 1),
                height=round(max(bar_height, 2 if value else 0), 1),
                text_x=round(x + slot * 0.38, 1),
                text_y=round(top + plot_height - bar_height - 5, 1),
                share=_percent(value, total),
            )
        )
    axis = [{"y": round(top + plot_height * (1 - f), 1), "label": _tick(scale * f)} for f in (0, 0.5, 1)]
    busiest = max(rows, key=lambda row: row[1]) if total else None
    description = (
        f"{lead}{total} {unit}; most often {busiest[0]} ({busiest[1]}). "
        + "; ".join(f"{label}: {value}" for label, value in rows)
        + "."
        if busiest
        else f"No {unit} in this period."
    )
    plot = {"left": left, "right": left + plot_width, "top": top, "bottom": top + plot_height}
    return Chart(
        key, title, description, width, height, bars, unit, axis, total, plot, caption or description
    )


def _tick(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
