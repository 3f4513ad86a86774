"""The list of every release of the user's teams (/releases/), filtered by state, app and text,
fifty a page, its rows built in Python with web.rows.

A thin view over plain functions; every query goes through the user's teams, and the page runs a
fixed number of queries whatever the data size.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404, render
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from releases import selectors
from releases.models import Release, State
from web.params import query_id
from web.rows import Row, StateBadges, html_row, times, url_maker

RELEASES_PER_PAGE = 50


@dataclass(frozen=True)
class ReleaseFilter:
    state: str = ""
    app_id: int | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params) -> "ReleaseFilter":
        state = params.get("state", "")
        return cls(
            state=state if state in State.values else "",
            app_id=query_id(params, "app"),
            q=params.get("q", "").strip()[:100],
        )

    @property
    def active(self) -> bool:
        return bool(self.state or self.app_id or self.q)

    @property
    def without_app(self) -> str:
        return self.query_string(app="")

    def query_string(self, **changes) -> str:
        """The filter as a query string, e.g. for the pager links (without `page`)."""
        from urllib.parse import urlencode

        values = {"state": self.state, "app": self.app_id or "", "q": self.q, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


# The columns the release list shows (its rows are built from `values()`, no model instances).
RELEASE_ROW_FIELDS = (
    "pk",
    "version",
    "state",
    "revision",
    "state_changed_at",
    "app_id",
    "app__name",
    "app__appid",
    "app__team__name",
    "author__username",
)


def filtered_releases(user, flt: ReleaseFilter) -> QuerySet[Release]:
    """The releases of the user's teams matching the filter, newest first."""
    releases = (
        Release.objects.filter(app__team_id__in=selectors.team_ids_for(user))
        .select_related("app", "app__team", "author")
        .only(
            "pk",
            "version",
            "state",
            "revision",
            "created_at",
            "state_changed_at",
            "submitted_at",
            "app__name",
            "app__appid",
            "app__team__name",
            "author__username",
        )
        .order_by("-pk")
    )
    if flt.state:
        releases = releases.filter(state=flt.state)
    if flt.app_id:
        releases = releases.filter(app_id=flt.app_id)
    if flt.q:
        releases = releases.filter(
            Q(version__icontains=flt.q) | Q(app__name__icontains=flt.q) | Q(app__appid__icontains=flt.q)
        )
    return releases


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows: past that the page says "5,000+" instead of making
    PostgreSQL count a team's whole history (a full COUNT(*) over 170,000 rows) on every load."""

    COUNT_CAP = 5000

    @cached_property
    def count(self) -> int:
        found = self.object_list.order_by().values("pk")[: self.COUNT_CAP + 1].count()
        self.capped = found > self.COUNT_CAP
        return min(found, self.COUNT_CAP)

    capped = False


# One row of the release list: HTML built here (html_row escapes every value), because fifty rows
# through the template engine cost more than the rest of the page (see releases/options.py).
RELEASE_ROW_HTML = (
    "<tr>"
    '<td><a href="{app_url}">{app_name}</a>'
    '<div class="muted small">{team} · <span class="mono">{appid}</span></div></td>'
    '<td><a class="strong version" href="{url}">{version}</a><div class="muted small">{revision}</div></td>'
    "<td>{badge}</td>"
    "<td>{author}</td>"
    '<td class="nowrap"><time datetime="{changed_iso}">{changed}</time></td>'
    "</tr>\n"
)


def release_rows(rows) -> list[Row]:
    """The release list's rows from `values()`: each one's HTML, and its id, version and state."""
    release_url, app_url = url_maker("web:release-detail"), url_maker("web:app-detail")
    badges, revision = StateBadges(), gettext("revision %(revision)s")
    out = []
    for row in rows:
        changed_iso, changed = times(row["state_changed_at"])
        html = html_row(
            RELEASE_ROW_HTML,
            app_url=app_url(row["app_id"]),
            app_name=row["app__name"],
            team=row["app__team__name"],
            appid=row["app__appid"],
            url=release_url(row["pk"]),
            version=row["version"],
            revision=revision % {"revision": row["revision"]},
            badge=badges[row["state"]],
            author=row["author__username"],
            changed_iso=changed_iso,
            changed=changed,
        )
        out.append(Row(pk=row["pk"], version=row["version"], state=row["state"], html=html))
    return out


@login_required
@require_GET
def release_list(request):
    flt = ReleaseFilter.from_query(request.GET)
    app = None
    if flt.app_id:
        app = get_object_or_404(
            selectors.apps_for(request.user).defer("authorizer_refresh_token", "settings"), pk=flt.app_id
        )
    page = CappedPaginator(filtered_releases(request.user, flt), RELEASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = release_rows(page.object_list.values(*RELEASE_ROW_FIELDS))
    return render(
        request,
        "releases/release_list.html",
        {
            "page": page,
            "filter": flt,
            "filter_app": app,
            "states": State.choices,
            "state_label": State(flt.state).label if flt.state else "",
        },
    )
