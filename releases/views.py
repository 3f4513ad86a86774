"""Server-rendered pages. Thin: load through the selectors (another team's object is a 404),
call one service or `actions.perform`, then render or redirect with a flash message."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from releases import actions, app_services, approvals, selectors, services
from releases.checks import REGISTRY
from releases.checks.qualifications import REVIEW_WINDOW_DAYS, qualification_problems
from releases.errors import SluiceError
from releases.forms import ChecklistForm, QualificationForm, ReleaseForm, SuppressionForm
from releases.memo import in_read_scope
from releases.models import (
    EDITABLE,
    IN_REVIEW,
    MEMBER_CAPACITIES,
    AuditEvent,
    Capacity,
    CheckSuppression,
    Membership,
    Release,
    Role,
    State,
    role_at_least,
)
from releases.pagecache import cached_page

RELEASES_PER_PAGE = 50

# What the flash says after a pressed button worked; the new state follows it.
DONE = {
    "check": gettext_lazy("The checks passed"),
    "approve": gettext_lazy("Approved"),
    "override-approval": gettext_lazy("Approved by override"),
    "send-back": gettext_lazy("Sent back to the author"),
    "submit": gettext_lazy("Submitted for review"),
    "record-outcome": gettext_lazy("Review outcome recorded"),
    "withdraw": gettext_lazy("Withdrawal requested"),
    "publish": gettext_lazy("Publish requested"),
    "rollback": gettext_lazy("Rollback requested"),
    "retry": gettext_lazy("Retried"),
    "cancel": gettext_lazy("Cancelled"),
}


def _page_context(setting: str, *args) -> dict:
    """Extra context from reviews/ (rejection, remediation, limits) through a dotted-path setting."""
    path = getattr(settings, setting, "")
    return import_string(path)(*args) if path else {}


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _role(request, team_id: int) -> str | None:
    return selectors.role_for(request.user, team_id)


def _require_developer(request, team_id: int) -> None:
    if not role_at_least(_role(request, team_id), Role.DEVELOPER):
        raise PermissionDenied("Only a developer or above can create or edit releases.")


APPS_PER_PAGE = 50


def _release_count(**filters):
    """How many releases the outer app has (matching `filters`): a correlated COUNT, computed
    only for the rows of the page shown, not a join over every release of every app."""
    counted = (
        Release.objects.filter(app=OuterRef("pk"), **filters)
        .order_by()
        .values("app")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def app_rows(user, q: str = ""):
    """The apps of the user's teams (name or AppID containing `q`), by team and name, each with
    its latest and live release and its release counts, as subqueries a page of rows pays for."""
    latest = Release.objects.filter(app=OuterRef("pk")).order_by("-created_at", "-pk")
    # Live: the newest published release (read backwards along the app's creation index, which
    # stops at the first one, instead of sorting every published release of the app).
    live = Release.objects.filter(app=OuterRef("pk"), state=State.PUBLISHED).order_by("-created_at", "-pk")
    apps = selectors.apps_for(user).defer("authorizer_refresh_token", "settings", "checklist")
    if q:
        apps = apps.filter(Q(name__icontains=q) | Q(appid__icontains=q))
    return apps.annotate(
        latest=Subquery(latest.values(json=JSONObject(id="pk", version="version", state="state"))[:1]),
        live=Subquery(live.values(json=JSONObject(id="pk", version="version"))[:1]),
        in_review=_release_count(state__in=IN_REVIEW),
        release_count=_release_count(),
    ).order_by("team__name", "name", "pk")


def _with_releases(apps) -> list:
    """Spread the latest and live release (one subquery each, as JSON) into attributes."""
    rows = list(apps)
    for app in rows:
        latest, live = app.latest or {}, app.live or {}
        app.latest_id, app.latest_version, app.latest_state = (
            latest.get("id"),
            latest.get("version"),
            latest.get("state"),
        )
        app.live_id, app.live_version = live.get("id"), live.get("version")
    return rows


@login_required
@cached_page
def app_list(request):
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(app_rows(request.user, q), APPS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "releases/app_list.html",
        {
            "apps": _with_releases(page.object_list),
            "page": page,
            "q": q,
            "query": urlencode({"q": q}) if q else "",
        },
    )


@login_required
@cached_page
@in_read_scope
def app_detail(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    role = _role(request, app.team_id)
    releases = selectors.releases_for(request.user).filter(app=app).order_by("-created_at", "-pk")
    page = Paginator(releases, RELEASES_PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    suppressions = list(
        CheckSuppression.objects.filter(app=app)
        .select_related("created_by", "removed_by")
        .order_by("-created_at")
    )
    problems = {p["id"]: p["message"] for p in qualification_problems(app, today)}
    members = Membership.objects.filter(team_id=app.team_id).select_related("user").order_by("user__username")
    can_manage = role_at_least(role, Role.RELEASE_MANAGER)
    return render(
        request,
        "releases/app_detail.html",
        {
            **_page_context("SLUICE_APP_PAGE_CONTEXT", app),
            "app": app,
            "role": role,
            "role_label": Role(role).label,
            "can_create": role_at_least(role, Role.DEVELOPER),
            "can_manage": can_manage,
            "is_admin": role_at_least(role, Role.ADMIN),
            "authorized": bool(app.authorizer_refresh_token),  # the token itself is never rendered
            "page": page,
            "active_suppressions": [s for s in suppressions if s.applies_on(today)],
            "past_suppressions": [s for s in suppressions if not s.applies_on(today)][:20],
            "suppression_form": SuppressionForm(),
            "qualifications": [
                (q, problems.get(q.pk)) for q in app.qualifications.select_related("created_by")
            ],
            "qualification_form": QualificationForm(),
            "review_window_days": REVIEW_WINDOW_DAYS,
            "checklist_form": ChecklistForm.for_app(app),
            "policy": approvals.required_capacities(app),
            "capacities": [(c.value, c.label) for c in Capacity],
            "member_capacities": [(c.value, c.label) for c in MEMBER_CAPACITIES],
            "members": [(m, approvals.capacities_of_membership(m)) for m in members],
        },
    )


def _app_for_post(request, app_id: int):
    return get_object_or_404(selectors.apps_for(request.user), pk=app_id)


def _back_to_app(app, anchor: str):
    return redirect(f"{reverse('releases:app-detail', args=[app.pk])}#{anchor}")


def _run_app_service(request, app, anchor: str, call, done: str):
    """Call one app service; flash what happened or why not; back to the app page section."""
    try:
        call()
    except SluiceError as exc:
        details = " ".join(f"{k}: {v}" for k, v in exc.details.items())
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, done)
    return _back_to_app(app, anchor)


@login_required
@require_POST
def app_settings(request, app_id: int):
    app = _app_for_post(request, app_id)
    url = request.POST.get("privacy_policy_url", "")
    return _run_app_service(
        request,
        app,
        "app-info",
        lambda: app_services.app_update(
            app=app, actor=request.user, changes={"privacy_policy_url": url}, ip=_ip(request)
        ),
        _("Privacy policy URL saved. Run the checks again to use it."),
    )


@login_required
@require_POST
def suppression_create(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = SuppressionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The suppression was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "suppressions-title")
    key = form.cleaned_data["key"]
    return _run_app_service(
        request,
        app,
        "suppressions-title",
        lambda: app_services.app_suppress_check(
            app=app, actor=request.user, ip=_ip(request), **form.cleaned_data
        ),
        _("“%(check)s” is suppressed until %(until)s.")
        % {"check": REGISTRY[key].title, "until": f"{form.cleaned_data['expires_on']:%Y-%m-%d}"},
    )


@login_required
@require_POST
def suppression_remove(request, app_id: int, suppression_id: int):
    app = _app_for_post(request, app_id)
    return _run_app_service(
        request,
        app,
        "suppressions-title",
        lambda: app_services.app_unsuppress_check(
            app=app, actor=request.user, suppression_id=suppression_id, ip=_ip(request)
        ),
        _("Suppression removed: the check counts again from the next run."),
    )


@login_required
@require_POST
def qualification_create(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = QualificationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The qualification was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "qualifications-title")
    return _run_app_service(
        request,
        app,
        "qualifications-title",
        lambda: app_services.app_add_qualification(
            app=app, actor=request.user, ip=_ip(request), **form.cleaned_data
        ),
        _("Qualification recorded."),
    )


@login_required
@require_POST
def qualification_remove(request, app_id: int, qualification_id: int):
    app = _app_for_post(request, app_id)
    return _run_app_service(
        request,
        app,
        "qualifications-title",
        lambda: app_services.app_remove_qualification(
            app=app, actor=request.user, qualification_id=qualification_id, ip=_ip(request)
        ),
        _("Qualification removed."),
    )


@login_required
@require_POST
def checklist_update(request, app_id: int):
    app = _app_for_post(request, app_id)
    form = ChecklistForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The checklist was not saved:") + " " + form.errors_text())
        return _back_to_app(app, "checklist-title")
    return _run_app_service(
        request,
        app,
        "checklist-title",
        lambda: app_services.app_set_checklist(
            app=app, actor=request.user, items=form.cleaned_data["items"], ip=_ip(request)
        ),
        _("Checklist saved. It applies to every release of this app from now on."),
    )


@login_required
@require_POST
def approval_policy_update(request, app_id: int):
    app = _app_for_post(request, app_id)
    required = request.POST.getlist("required")
    return _run_app_service(
        request,
        app,
        "policy-title",
        lambda: app_services.app_set_approval_policy(
            app=app, actor=request.user, required=required, ip=_ip(request)
        ),
        _("Approval policy saved."),
    )


@login_required
@require_POST
def member_capacities_update(request, app_id: int, membership_id: int):
    app = _app_for_post(request, app_id)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, team_id=app.team_id
    )
    capacities = request.POST.getlist("capacities")
    return _run_app_service(
        request,
        app,
        "policy-title",
        lambda: app_services.member_set_capacities(
            team_id=app.team_id,
            actor=request.user,
            user=membership.user,
            capacities=capacities,
            ip=_ip(request),
        ),
        _("Approval capacities of %(user)s saved.") % {"user": membership.user.get_username()},
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
            messages.success(
                request,
                _("Created %(app)s %(version)s as a draft. Next: run the checks.")
                % {"app": app, "version": release.version},
            )
            return redirect("releases:release-detail", release_id=release.pk)
    return render(request, "releases/release_form.html", {"app": app, "form": form, "release": None})


@login_required
def release_edit(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    _require_developer(request, release.app.team_id)
    if release.state not in EDITABLE:
        messages.error(
            request,
            _("A release that is %(state)s can no longer be edited.")
            % {"state": State(release.state).label.lower()},
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
                messages.info(request, _("Nothing changed."))
            else:
                messages.success(
                    request,
                    _("Saved revision %(revision)s. It is a draft: run the checks again.")
                    % {"revision": release.revision},
                )
            return redirect("releases:release-detail", release_id=release.pk)
    return render(
        request, "releases/release_form.html", {"app": release.app, "form": form, "release": release}
    )


@login_required
@cached_page
@in_read_scope
def release_detail(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user).select_related("owner"), pk=release_id)
    role = _role(request, release.app.team_id)
    check_run = selectors.latest_check_run(release)
    current_run = check_run is not None and check_run.revision == release.revision
    results = list(check_run.results.all()) if check_run else []
    blocking = [r for r in results if r.blocks] if current_run else []
    pending = [r for r in results if r.status == "pending"] if current_run else []
    checklist = selectors.checklist_items(release)
    approvals_list = release.approvals.select_related("approver").order_by("created_at", "pk")
    events = AuditEvent.objects.filter(release_id=release.pk).order_by("id")  # chain order
    is_draft = release.state == State.DRAFT
    return render(
        request,
        "releases/release_detail.html",
        {
            **_page_context("SLUICE_RELEASE_PAGE_CONTEXT", release, request.user),
            "release": release,
            "app": release.app,
            "role": role,
            "role_label": Role(role).label,
            "available": actions.available_actions(release, request.user),
            "can_edit": role_at_least(role, Role.DEVELOPER) and release.state in EDITABLE,
            "check_run": check_run,
            "explanations": {key: check.explanation for key, check in REGISTRY.items()},
            "blocking_checks": blocking if is_draft else [],
            "pending_checks": pending,
            "checklist": checklist,
            "checklist_open": [i for i in checklist if i["tick"] is None],
            "can_tick": is_draft and role_at_least(role, Role.DEVELOPER),
            "policy": approvals.policy_status(release),
            "open_capacities": [
                (c, approvals.capacity_label(c)) for c in approvals.open_capacities_for(release, request.user)
            ],
            "approvals": approvals_list,
            "events": events,
        },
    )


@login_required
@require_GET
def release_check_status(request, release_id: int):
    """What the page polls while slow checks run: how many are still pending."""
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.results.all() if r.status == "pending") if run else 0
    return JsonResponse(
        {
            "run": run.pk if run else None,
            "pending": pending,
            "finished": run is not None and run.finished_at is not None,
            "state": release.state,
        }
    )


@login_required
@require_POST
def release_confirm(request, release_id: int, key: str):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    try:
        tick = services.release_confirm_check(release=release, actor=request.user, key=key, ip=_ip(request))
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        release.refresh_from_db()
        done = _("Confirmed: %(item)s.") % {"item": tick.label}
        if release.state == State.CHECKED:
            done += " " + _(
                "The checklist is complete and the checks passed: %(version)s is now checked."
            ) % {"version": release.version}
        messages.success(request, done)
    return redirect(f"{reverse('releases:release-detail', args=[release.pk])}#checklist-title")


def _after_check(request, release: Release) -> None:
    """The flash after "Run checks": passed, still running, or waiting for the checklist."""
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.results.all() if r.status == "pending") if run else 0
    open_items = release.unticked_checklist()
    if release.state == State.CHECKED:
        messages.success(
            request,
            _("The checks passed: %(app)s %(version)s is now checked.")
            % {"app": release.app, "version": release.version},
        )
    elif pending:
        messages.info(
            request,
            _(
                "Checks started: %(pending)s still running in the background. "
                "This page updates when they finish."
            )
            % {"pending": pending},
        )
    elif open_items:
        messages.info(
            request,
            _(
                "The automated checks passed. Tick the %(count)s open checklist item(s) "
                "to move %(version)s to checked."
            )
            % {"count": len(open_items), "version": release.version},
        )
    else:
        messages.info(request, _("Checks run."))


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
        still = exc.details.get("pending") if isinstance(exc.details, dict) else None
        # part of the service's refusal, which stays English like every SluiceError message
        messages.error(request, exc.message + (f" {len(still)} more still running." if still else ""))
    else:
        release = selectors.releases_for(request.user).get(pk=release.pk)
        if name == "check":
            _after_check(request, release)
            return redirect("releases:release-detail", release_id=release.pk)
        state = State(release.state).label.lower()
        messages.success(
            request,
            _("%(done)s: %(app)s %(version)s is now %(state)s.")
            % {"done": DONE[name], "app": release.app, "version": release.version, "state": state},
        )
    return redirect("releases:release-detail", release_id=release.pk)


# -- demo only ---------------------------------------------------------------------------


def _demo_only() -> None:
    if not (settings.DEBUG or getattr(settings, "DEMO", False)):
        raise Http404("Demo pages are served in demo mode only.")


def demo_privacy_policy(request, variant: str = "full"):
    """A sample privacy policy for the demo (and the privacy check's tests), public on purpose.

    `no-location` omits the location paragraph, so a build using location fails the check.
    """
    _demo_only()
    return render(request, "releases/demo_privacy_policy.html", {"with_location": variant == "full"})
