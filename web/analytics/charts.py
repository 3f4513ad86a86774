"""Charts drawn on the server: plain geometry, drawn as inline SVG (no JavaScript and nothing
fetched from elsewhere) for the templates reviews/_bar_chart.html and reviews/_histogram.html.

Each chart carries a title, a one-sentence description for screen readers (the SVG's <desc>) and
its rows, which the templates also render as a data table. The SVG and the table's rows are built
here with html_row, which escapes every value: a chart of a dozen bars through the template engine
(a loop of tags and filters per bar) cost more than the rest of the analytics page. The table's
headings, which are translated, stay in the template (reviews/_chart_table.html).
"""

from dataclasses import dataclass, field
from functools import cached_property

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from web.rows import html_row


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
    kind: str = "bars"  # "bars" (horizontal_bars) or "histogram": how `svg` draws it

    @property
    def empty(self) -> bool:
        return not self.total

    @cached_property
    def svg(self) -> SafeString:
        """The <svg> element, with its <title> and <desc> for screen readers."""
        head = html_row(SVG_HEAD_HTML, width=self.width, height=self.height, key=self.key)
        text = html_row(SVG_TEXT_HTML, key=self.key, title=self.title, description=self.description)
        body = self._histogram_body() if self.kind == "histogram" else self._bars_body()
        return mark_safe(f"{head}\n{text}\n{body}</svg>")  # noqa: S308 - html_row escaped every value

    def _bars_body(self) -> str:
        return "".join(
            html_row(
                BAR_HTML,
                label=bar.label,
                label_y=bar.y - 6,
                y=bar.y,
                track=self.plot["right"],
                width=bar.width,
                height=bar.height,
                value=bar.value,
                text_x=bar.text_x,
                text_y=bar.text_y - 1,
            )
            for bar in self.bars
        )

    def _histogram_body(self) -> str:
        left, right, bottom = self.plot["left"], self.plot["right"], self.plot["bottom"]
        parts = [html_row(UNIT_HTML, unit=self.unit)]
        parts += (
            html_row(TICK_HTML, left=left, right=right, tick_x=left - 6, y=tick["y"], label=tick["label"])
            for tick in self.axis
        )
        for bar in self.bars:
            parts.append(html_row(RECT_HTML, x=bar.x, y=bar.y, width=bar.width, height=bar.height))
            if bar.value:
                parts.append(html_row(VALUE_HTML, x=bar.text_x, y=bar.text_y, value=bar.value))
            parts.append(html_row(BUCKET_HTML, x=bar.text_x, y=bottom + 18, label=bar.label))
        parts.append(html_row(AXIS_HTML, left=left, right=right, y=bottom))
        return "".join(parts)

    @cached_property
    def table_rows(self) -> SafeString:
        """The <tr>s of the data table's body (reviews/_chart_table.html): label, count, share."""
        return mark_safe(  # noqa: S308 - html_row escaped every value
            "".join(
                html_row(
                    TABLE_ROW_HTML,
                    label=bar.label,
                    value=bar.value,
                    share="—" if bar.share is None else f"{bar.share}%",
                )
                for bar in self.bars
            )
        )


SVG_HEAD_HTML = (
    '<svg class="chart-svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
    'role="img" aria-labelledby="chart-{key}-title chart-{key}-desc">'
)
SVG_TEXT_HTML = (
    '<title id="chart-{key}-title">{title}</title>\n<desc id="chart-{key}-desc">{description}</desc>'
)
BAR_HTML = (
    '<text class="chart-label" x="0" y="{label_y}">{label}</text>\n'
    '<rect class="chart-track" x="0" y="{y}" width="{track}" height="{height}" rx="3"></rect>\n'
    '<rect class="chart-bar" x="0" y="{y}" width="{width}" height="{height}" rx="3"></rect>\n'
    '<text class="chart-value" x="{text_x}" y="{text_y}">{value}</text>\n'
)
UNIT_HTML = '<text class="chart-tick" x="0" y="12">{unit}</text>\n'
TICK_HTML = (
    '<line class="chart-grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}"></line>\n'
    '<text class="chart-tick" x="{tick_x}" y="{y}" dy="4" text-anchor="end">{label}</text>\n'
)
RECT_HTML = '<rect class="chart-bar" x="{x}" y="{y}" width="{width}" height="{height}" rx="2"></rect>\n'
VALUE_HTML = '<text class="chart-value" x="{x}" y="{y}" text-anchor="middle">{value}</text>\n'
BUCKET_HTML = (
    '<text class="chart-label chart-label-small" x="{x}" y="{y}" text-anchor="middle">{label}</text>\n'
)
AXIS_HTML = '<line class="chart-axis" x1="{left}" x2="{right}" y1="{y}" y2="{y}"></line>\n'
TABLE_ROW_HTML = (
    '<tr><th scope="row">{label}</th><td class="num">{value}</td><td class="num">{share}</td></tr>\n'
)


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
        ngettext(
            "%(total)s %(unit)s in %(count)s category; the most frequent: %(top)s.",
            "%(total)s %(unit)s in %(count)s categories; the most frequent: %(top)s.",
            len(rows),
        )
        % {"total": total, "unit": unit, "count": len(rows), "top": top_items}
        if total
        else gettext("No %(unit)s in this period.") % {"unit": unit}
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
        gettext("%(lead)s%(total)s %(unit)s; most often %(bucket)s (%(count)s). %(buckets)s.")
        % {
            "lead": lead,
            "total": total,
            "unit": unit,
            "bucket": busiest[0],
            "count": busiest[1],
            "buckets": "; ".join(f"{label}: {value}" for label, value in rows),
        }
        if busiest
        else gettext("No %(unit)s in this period.") % {"unit": unit}
    )
    plot = {"left": left, "right": left + plot_width, "top": top, "bottom": top + plot_height}
    return Chart(
        key,
        title,
        description,
        width,
        height,
        bars,
        unit,
        axis,
        total,
        plot,
        caption or description,
        "histogram",
    )


def _tick(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
