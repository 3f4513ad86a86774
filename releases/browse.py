"""Pages for finding your way around many apps: the home page (the overview, served by reviews/
through SLUICE_DASHBOARD_VIEW), the filterable list of every release, and the two small JSON
endpoints the open pages poll to update themselves when a worker or a colleague changes something.

Thin views over plain selector functions; every query goes through the user's teams, and each
endpoint runs a fixed number of queries whatever the data size.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from releases import selectors
from releases.models import AuditEvent, CheckRun, Release, State
from releases.pagecache import cached_page

RELEASES_PER_PAGE = 50
# The overview also refreshes on its own this often, so countdowns and working days stay current.
OVERVIEW_REFRESH_SECONDS = 300


# -- the home page -------------------------------------------------------------------------------


@login_required
@cached_page
def dashboard(request):
    """The overview lives in reviews/ (it needs review data); releases/ names it only by setting."""
    path = getattr(settings, "SLUICE_DASHBOARD_VIEW", "")
    if not path:
        return redirect("releases:app-list")
    return import_string(path)(request)


# -- every release, filtered -------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseFilter:
    state: str = ""
    app_id: int | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params) -> "ReleaseFilter":
        state = params.get("state", "")
        app = params.get("app", "")
        return cls(
            state=state if state in State.values else "",
            app_id=int(app) if app.isdigit() else None,
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


@login_required
@cached_page
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
    now = now or timezone.now()
    last = (
        AuditEvent.objects.filter(team_id__in=selectors.team_ids_for(user))
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return f"{last or 0}|{int(now.timestamp()) // OVERVIEW_REFRESH_SECONDS}"


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
