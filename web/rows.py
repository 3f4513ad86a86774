"""The helpers the long tables build their rows with (the release list, the app list and an app's
releases, the audit trail, the analytics charts): rows read by key or attribute, one reverse() per
page of ids, each state badge rendered once, and HTML filled in with every value escaped.

Plain functions of plain values, no queries: fifty rows through the template engine cost more
than the rest of a page (README, Dashboard: the render path; bench/row_rendering.py measures it).
"""

from html import escape

from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import localtime

from web.templatetags.sluice import state_badge


class Row(dict):
    """One table row, precomputed: templates read it by key (their cheapest lookup), Python code
    and tests by attribute."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def url_maker(name: str, *leading):
    """`{% url name *leading pk %}` for a page of ids at the cost of one reverse(): the path
    around the last id."""
    marker = "2147483647"
    head, tail = reverse(name, args=[*leading, int(marker)]).rsplit(marker, 1)
    return lambda pk: f"{head}{pk}{tail}"


class StateBadges(dict):
    """`{% state_badge state %}`'s HTML of each state a page shows, rendered once per state."""

    def __missing__(self, state: str) -> str:
        html = self[state] = get_template("releases/_state_badge.html").render(state_badge(state))
        return html


def html_row(template: str, **values) -> SafeString:
    """`template` (HTML with `{name}` fields) filled with `values`, each escaped unless it is
    already safe HTML (a state badge): what format_html does, at a third of its cost, which
    counts for a table of fifty rows of a dozen values."""
    escaped = {
        k: v if isinstance(v, SafeData) else str(v) if type(v) is int else escape(str(v))
        for k, v in values.items()
    }
    # SafeString itself rather than mark_safe(), whose lazy-string check cost a fifth of a table
    return SafeString(template.format(**escaped))  # every value escaped above (an int needs none)


def times(moment) -> tuple[str, str]:
    """What `moment|date:'c'` and `moment|date:"Y-m-d H:i"` print, in the current time zone."""
    if moment is None:
        return "", ""
    moment = localtime(moment)
    return moment.isoformat(), f"{moment:%Y-%m-%d %H:%M}"
