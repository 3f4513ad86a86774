"""Server-rendered pages. Thin: load through the selectors (another team's object is a 404),
call one service or `actions.perform`, then render or redirect with a flash message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from releases import actions, selectors, services
from releases.errors import SluiceError
from releases.forms import ReleaseForm
from releases.models import EDITABLE, IN_REVIEW, AuditEvent, Release, Role, State, role_at_least

RELEASES_PER_PAGE = 50

# What the flash says after a pressed button worked; the new state follows it.
DONE = {
    "check": "The checks passed",
    "approve": "Approved",
    "send-back": "Sent back to the author",
    "submit": "Submitted for review",
    "record-outcome": "Review outcome recorded",
    "withdraw": "Withdrawal requested",
    "publish": "Publish requested",
    "rollback": "Rollback requested",
    "retry": "Retried",
    "cancel": "Cancelled",
}


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _role(request, team_id: int) -> str | None:
    return selectors.role_for(request.user, team_id)


def _require_developer(request, team_id: int) -> None:
    if not role_at_least(_role(request, team_id), Role.DEVELOPER):
        raise PermissionDenied("Only a developer or above can create or edit releases.")


@login_required
def app_list(request):
    latest = Release.objects.filter(app=OuterRef("pk")).order_by("-created_at", "-pk")
    live = Release.objects.filter(app=OuterRef("pk"), state=State.PUBLISHED).order_by(
        "-state_changed_at", "-pk"
    )
    apps = (
        selectors.apps_for(request.user)
        .defer("authorizer_refresh_token", "settings")
        .annotate(
            latest_id=Subquery(latest.values("pk")[:1]),
            latest_version=Subquery(latest.values("version")[:1]),
            latest_state=Subquery(latest.values("state")[:1]),
            live_id=Subquery(live.values("pk")[:1]),
            live_version=Subquery(live.values("version")[:1]),
            in_review=Count("releases", filter=Q(releases__state__in=IN_REVIEW)),
            release_count=Count("releases"),
        )
        .order_by("team__name", "name")
    )
    return render(request, "releases/app_list.html", {"apps": apps})


@login_required
def app_detail(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    role = _role(request, app.team_id)
    releases = selectors.releases_for(request.user).filter(app=app).order_by("-created_at", "-pk")
    page = Paginator(releases, RELEASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "releases/app_detail.html",
        {
            "app": app,
            "role": role,
            "role_label": Role(role).label,
            "can_create": role_at_least(role, Role.DEVELOPER),
            "authorized": bool(app.authorizer_refresh_token),  # the token itself is never rendered
            "page": page,
        },
    )


@login_required
def release_create(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    _require_developer(request, app.team_id)
    form = ReleaseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            release = services.release_create(
                app=app, actor=request.user, ip=_ip(request), **form.cleaned_data
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Created {app} {release.version} as a draft. Next: run the checks.")
            return redirect("releases:release-detail", release_id=release.pk)
    return render(request, "releases/release_form.html", {"app": app, "form": form, "release": None})


@login_required
def release_edit(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    _require_developer(request, release.app.team_id)
    if release.state not in EDITABLE:
        messages.error(
            request, f"A release that is {State(release.state).label.lower()} can no longer be edited."
        )
        return redirect("releases:release-detail", release_id=release.pk)
    form = ReleaseForm.for_release(release, request.POST if request.method == "POST" else None)
    if form.is_valid():
        before = (release.revision, release.state)
        try:
            release = services.release_update(
                release=release, actor=request.user, changes=form.cleaned_data, ip=_ip(request)
            )
        except SluiceError as exc:
            form.add_service_error(exc)
        else:
            if (release.revision, release.state) == before:
                messages.info(request, "Nothing changed.")
            else:
                messages.success(
                    request, f"Saved revision {release.revision}. It is a draft: run the checks again."
                )
            return redirect("releases:release-detail", release_id=release.pk)
    return render(
        request, "releases/release_form.html", {"app": release.app, "form": form, "release": release}
    )


@login_required
def release_detail(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user).select_related("owner"), pk=release_id)
    role = _role(request, release.app.team_id)
    check_run = release.check_runs.select_related("actor").prefetch_related("results").first()
    current_run = check_run is not None and check_run.revision == release.revision
    blocking = [r for r in check_run.results.all() if r.blocks] if current_run else []
    approvals = release.approvals.select_related("approver").order_by("created_at", "pk")
    events = AuditEvent.objects.filter(release_id=release.pk).order_by("id")  # chain order
    return render(
        request,
        "releases/release_detail.html",
        {
            "release": release,
            "app": release.app,
            "role": role,
            "role_label": Role(role).label,
            "available": actions.available_actions(release, request.user),
            "can_edit": role_at_least(role, Role.DEVELOPER) and release.state in EDITABLE,
            "check_run": check_run,
            "blocking_checks": blocking if release.state == State.DRAFT else [],
            "approvals": approvals,
            "events": events,
        },
    )


@login_required
@require_POST
def release_action(request, release_id: int, name: str):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    action = actions.BY_NAME.get(name)
    if action is None:
        raise Http404("No such action.")
    payload = {field: request.POST.get(field, "") for field in action.fields}
    try:
        actions.perform(release, name, actor=request.user, payload=payload, ip=_ip(request))
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        release = selectors.releases_for(request.user).get(pk=release.pk)
        state = State(release.state).label.lower()
        messages.success(request, f"{DONE[name]}: {release.app} {release.version} is now {state}.")
    return redirect("releases:release-detail", release_id=release.pk)
