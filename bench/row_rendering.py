"""Python-built table rows against the same rows through the template engine, on real data.

The long tables build their rows in Python with web.rows.html_row (README, Dashboard: the
render path); this measures why, on a seeded database (`manage.py seed_scale`), in this process:

- the audit trail's first page (50 events): web.audit_browser.rows.audit_rows, against a template
  loop printing the same cells from plain values;
- the analytics charts of the big team (web.analytics.charts: SVG and data tables), against
  the chart templates they replaced (kept below).

Each variant runs --rounds times after a warm-up, alternating, and the median CPU time per
render is printed. Read-only.

    .venv/bin/python bench/row_rendering.py --database-url postgres://postgres@127.0.0.1:5432/sluice_bench
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice_bench"

AUDIT_ROWS_TEMPLATE = """{% load i18n %}{% for row in rows %}
<tr id="event-{{ row.pk }}"><td class="nowrap"><time datetime="{{ row.at_iso }}" title="{{ row.at_title }}">{{ row.at_text }}</time>
<div class="muted small mono">#{{ row.pk }}</div></td>
<td class="audit-target">{% if row.app_url %}<a href="{{ row.app_url }}">{{ row.app_name }}</a>{% elif row.app_id %}<span class="muted">{% translate "app" context "audit target" %} #{{ row.app_id }}</span>{% else %}<span class="muted">{{ row.target_type|default:"—" }}</span>{% endif %}
{% if row.release_url %}<div class="small"><a class="version" href="{{ row.release_url }}">{{ row.release_version }}</a></div>{% elif row.release_id %}<div class="small muted">{% translate "release" context "audit target" %} #{{ row.release_id }}</div>{% endif %}</td>
<td>{% if row.actor_name %}{{ row.actor_name }}{% else %}<span class="muted">{% translate "system" %}</span>{% endif %}</td>
<td class="mono">{{ row.action }}</td><td>{{ row.states }}</td>
<td class="audit-data">{% for key, value in row.data_items %}<div class="kv"><span class="muted">{{ key }}:</span> {{ value }}</div>{% endfor %}</td>
{% if any_ip %}<td class="mono small audit-ip">{% if row.show_ip %}{{ row.ip|default:"" }}{% else %}<span class="muted" title="{% translate "Only admins and release managers of this team see IPs" %}">{% translate "hidden" %}</span>{% endif %}</td>{% endif %}
</tr>{% endfor %}"""  # noqa: E501 - one template row, as it was printed

CHART_TABLE_TEMPLATE = """{% load i18n %}<details class="chart-table"><summary>{% translate "Show the numbers as a table" %}</summary>
<table class="table table-compact"><caption class="visually-hidden">{{ chart.title }}</caption>
<tbody>{% for bar in chart.bars %}<tr><th scope="row">{{ bar.label }}</th><td class="num">{{ bar.value }}</td><td class="num">{% if bar.share is not None %}{{ bar.share }}%{% else %}—{% endif %}</td></tr>{% endfor %}</tbody>
<tfoot><tr><th scope="row">{% translate "Total" %}</th><td class="num">{{ chart.total }}</td><td></td></tr></tfoot></table></details>"""  # noqa: E501

BAR_CHART_TEMPLATE = """<figure class="chart"><svg class="chart-svg" viewBox="0 0 {{ chart.width }} {{ chart.height }}" width="{{ chart.width }}" height="{{ chart.height }}" role="img" aria-labelledby="chart-{{ chart.key }}-title chart-{{ chart.key }}-desc">
<title id="chart-{{ chart.key }}-title">{{ chart.title }}</title><desc id="chart-{{ chart.key }}-desc">{{ chart.description }}</desc>
{% for bar in chart.bars %}<text class="chart-label" x="0" y="{{ bar.y|add:'-6' }}">{{ bar.label }}</text>
<rect class="chart-track" x="0" y="{{ bar.y }}" width="{{ chart.plot.right }}" height="{{ bar.height }}" rx="3"></rect>
<rect class="chart-bar" x="0" y="{{ bar.y }}" width="{{ bar.width }}" height="{{ bar.height }}" rx="3"></rect>
<text class="chart-value" x="{{ bar.text_x }}" y="{{ bar.text_y|add:'-1' }}">{{ bar.value }}</text>{% endfor %}
</svg><figcaption class="muted small">{{ chart.caption }}</figcaption>{% include table %}</figure>"""  # noqa: E501

HISTOGRAM_TEMPLATE = """<figure class="chart"><svg class="chart-svg" viewBox="0 0 {{ chart.width }} {{ chart.height }}" width="{{ chart.width }}" height="{{ chart.height }}" role="img" aria-labelledby="chart-{{ chart.key }}-title chart-{{ chart.key }}-desc">
<title id="chart-{{ chart.key }}-title">{{ chart.title }}</title><desc id="chart-{{ chart.key }}-desc">{{ chart.description }}</desc>
<text class="chart-tick" x="0" y="12">{{ chart.unit }}</text>
{% for tick in chart.axis %}<line class="chart-grid" x1="{{ chart.plot.left }}" x2="{{ chart.plot.right }}" y1="{{ tick.y }}" y2="{{ tick.y }}"></line>
<text class="chart-tick" x="{{ chart.plot.left|add:'-6' }}" y="{{ tick.y }}" dy="4" text-anchor="end">{{ tick.label }}</text>{% endfor %}
{% for bar in chart.bars %}<rect class="chart-bar" x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.width }}" height="{{ bar.height }}" rx="2"></rect>
{% if bar.value %}<text class="chart-value" x="{{ bar.text_x }}" y="{{ bar.text_y }}" text-anchor="middle">{{ bar.value }}</text>{% endif %}
<text class="chart-label chart-label-small" x="{{ bar.text_x }}" y="{{ chart.plot.bottom|add:'18' }}" text-anchor="middle">{{ bar.label }}</text>{% endfor %}
<line class="chart-axis" x1="{{ chart.plot.left }}" x2="{{ chart.plot.right }}" y1="{{ chart.plot.bottom }}" y2="{{ chart.plot.bottom }}"></line>
</svg><figcaption class="muted small">{{ chart.caption }}</figcaption>{% include table %}</figure>"""  # noqa: E501


def setup(database_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        SLUICE_AUDIT_KEYS=os.environ.get("BENCH_AUDIT_KEYS") or secrets.token_urlsafe(32),
        LOG_LEVEL="ERROR",
    )
    for name in ("SLUICE_DEMO", "SLUICE_TESTING"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def cpu_ms(function, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        function()
        times.append((time.process_time() - started) * 1000)
    return times


def compare(name: str, variants: dict, rounds: int) -> None:
    """Run the variants alternately (a slow moment of the machine hits both alike)."""
    for function in variants.values():
        cpu_ms(function, 5)
    results: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(rounds):
        for label, function in variants.items():
            results[label] += cpu_ms(function, 1)
    print(name)
    for label, times in results.items():
        print(f"  {label:58} {statistics.median(times):7.2f} ms CPU (median of {rounds})")


def audit_variants(user) -> dict:
    from django.template import engines

    from web.audit_browser.filters import audit_events, ip_team_ids, with_names
    from web.audit_browser.paging import audit_page
    from web.audit_browser.rows import as_text, audit_rows, state_change
    from web.rows import times, url_maker

    events = audit_page(with_names(audit_events(user, {}), user)).events
    ip_teams = ip_team_ids(user)
    template = engines["django"].from_string(AUDIT_ROWS_TEMPLATE)

    def values() -> list[dict]:
        app_url, release_url = url_maker("web:app-detail"), url_maker("web:release-detail")
        rows = []
        for e in events:
            at_iso, at_text = times(e.at)
            version = e.release_version
            data = sorted(e.data.items()) if isinstance(e.data, dict) else []
            rows.append(
                {
                    "pk": e.pk,
                    "at_iso": at_iso,
                    "at_title": f"{at_text}{at_iso[16:19]}",
                    "at_text": at_text,
                    "app_url": app_url(e.app_id) if e.app_name else "",
                    "app_name": e.app_name,
                    "app_id": e.app_id,
                    "target_type": e.target_type,
                    "release_url": release_url(e.release_id) if version else "",
                    "release_version": version,
                    "release_id": e.release_id,
                    "actor_name": e.actor_name,
                    "action": e.action,
                    "states": state_change(e),
                    "data_items": [(key, as_text(value)) for key, value in data],
                    "show_ip": e.team_id in ip_teams,
                    "ip": e.ip,
                }
            )
        return rows

    return {
        f"audit trail, {len(events)} rows: html_row (web.audit_browser)": lambda: audit_rows(
            events, ip_teams=ip_teams
        ),
        f"audit trail, {len(events)} rows: template loop": lambda: template.render(
            {"rows": values(), "any_ip": bool(ip_teams)}
        ),
    }


def chart_variants(user) -> dict:
    from django.template import Context, Template, engines

    from releases import selectors
    from web.analytics import metrics
    from web.analytics.views import _charts

    engine = engines["django"].engine
    teams = list(selectors.teams_for(user).values_list("id", flat=True))
    result = metrics.cached_analytics(teams, metrics.DEFAULT_PERIOD)
    table = Template(CHART_TABLE_TEMPLATE, engine=engine)
    old = {
        "bars": Template(BAR_CHART_TEMPLATE, engine=engine),
        "histogram": Template(HISTOGRAM_TEMPLATE, engine=engine),
    }
    now = {
        "bars": engine.get_template("reviews/_bar_chart.html"),
        "histogram": engine.get_template("reviews/_histogram.html"),
    }

    def render(templates) -> list[str]:
        charts = [chart for chart in _charts(result).values() if chart is not None]
        return [templates[chart.kind].render(Context({"chart": chart, "table": table})) for chart in charts]

    return {
        "analytics charts: SVG and tables built in Python (web.analytics.charts)": lambda: render(now),
        "analytics charts: through the template engine": lambda: render(old),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    setup(args.database_url)
    from django.contrib.auth import get_user_model
    from django.utils import translation

    translation.activate("en")
    user = get_user_model().objects.get(username=args.user)
    compare("Audit trail rows", audit_variants(user), args.rounds)
    compare("Analytics charts", chart_variants(user), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
