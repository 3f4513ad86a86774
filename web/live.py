"""The two small JSON endpoints the open pages poll to update themselves when a worker or a
colleague changes something: a release page (web/release_pages.py, static/js/live.js) and the
overview (web/overview.py), and the stamps they compare, which the pages also start from.

Each endpoint runs one query whatever the data size, through the user's teams.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from releases import selectors
from releases.models import AuditEvent, CheckRun, Release, State

# The overview also refreshes on its own this often, so countdowns and working days stay current.
OVERVIEW_REFRESH_SECONDS = 300


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
