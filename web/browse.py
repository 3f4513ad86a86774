"""Pages for finding your way around many apps: the filterable list of every release, and the
two small JSON endpoints the open pages (a release, the overview in web/overview.py) poll to
update themselves when a worker or a colleague changes something.

Thin views over plain selector functions; every query goes through the user's teams, and each
endpoint runs a fixed number of queries whatever the data size.
"""

from dataclasses import dataclass
from html import escape

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from releases import selectors
from releases.models import AuditEvent, CheckRun, Release, State
from web.params import query_id
from web.templatetags.sluice import state_badge

RELEASES_PER_PAGE = 50
# The overview also refreshes on its own this often, so countdowns and working days stay current.
OVERVIEW_REFRESH_SECONDS = 300


# -- every release, filtered -------------------------------------------------------------------


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


# -- rows for the tables of many releases or apps (this list, the app list, the app page) ------------


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


# -- live updates ---------------------------------------------------------------------------------


def release_stamp(user, release_id: int) -> dict | None:
    """What changes whenever anything shown on the release page changes: the row itself, its
    newest audit event (approvals, ticks, remediation, decisions...) and its newest check run.
    One query; None for a release the user may not see."""
    runs = CheckRun.objects.filter(release=OuterRef("pk")).order_by("-created_at", "-pk")
    row = (
        Release.objects.filter(pk=release_id, app__team_id__in=selectors.team_ids_for(user))
        .annotate(
            last_event=Subquery(
                AuditEvent.objects.filter(release_id=OuterRef("pk")).order_by("-id").values("id")[:1]
            ),
            last_run=Subquery(runs.values("pk")[:1]),
            run_finished=Subquery(runs.values("finished_at")[:1]),
        )
        .values("pk", "state", "updated_at", "last_event", "last_run", "run_finished")
        .first()
    )
    if row is None:
        return None
    finished = "f" if row["run_finished"] is not None else "p"
    stamp = f"{row['updated_at'].isoformat()}|{row['last_event'] or 0}|{row['last_run'] or 0}{finished}"
    return {
        "stamp": stamp,
        "state": row["state"],
        "state_label": State(row["state"]).label,
        "updated_at": row["updated_at"].isoformat(),
    }


def overview_stamp(user, now=None) -> str:
    """Changes with every audit event of the user's teams (every change to a release writes one),
    and every OVERVIEW_REFRESH_SECONDS so that countdowns move. One query."""
    last = (
        AuditEvent.objects.filter(team_id__in=selectors.team_ids_for(user))
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return overview_stamp_of(last, now)


def overview_stamp_of(last_event_id: int | None, now=None) -> str:
    """overview_stamp() from the newest event id of the user's teams, for a caller that has read it."""
    now = now or timezone.now()
    return f"{last_event_id or 0}|{int(now.timestamp()) // OVERVIEW_REFRESH_SECONDS}"


def _json(data: dict) -> JsonResponse:
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def release_live(request, release_id: int):
    """Polled by the open release page every few seconds: it re-renders when the stamp changes."""
    found = release_stamp(request.user, release_id)
    if found is None:
        raise Http404("No such release.")
    return _json(found)


@login_required
@require_GET
def overview_live(request):
    return _json({"stamp": overview_stamp(request.user)})
