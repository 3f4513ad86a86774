"""Server-rendered pages. Thin: load through the selectors (another team's object is a 404),
call one service or `actions.perform`, then render or redirect with a flash message."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from releases import actions, app_services, approvals, selectors, services
from releases.checks import REGISTRY
from releases.checks.qualifications import REVIEW_WINDOW_DAYS, qualification_problems
from releases.errors import SluiceError
from releases.gate.facts import facts_for
from releases.memo import in_read_scope
from releases.models import (
    EDITABLE,
    IN_REVIEW,
    MEMBER_CAPACITIES,
    AuditEvent,
    Capacity,
    CheckResult,
    CheckSuppression,
    Membership,
    Platform,
    Release,
    Role,
    State,
    role_at_least,
)
from web.browse import Row, StateBadges, html_row, times, url_maker
from web.forms import ChecklistForm, QualificationForm, ReleaseForm, SuppressionForm
from web.options import options
from web.templatetags.sluice import as_text, by_urgency, check_title, pairs, severity_label, state_label

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
    """Extra context of the app and release pages: rejection, remediation and limits."""
    from web import review_pages

    builder = {"app": review_pages.app_context, "release": review_pages.release_context}[setting]
    return builder(*args)


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


def _app_release_columns() -> dict:
    """An app row's latest and live release (as JSON) and its release counts: subqueries on the
    outer app, which a page of rows pays for."""
    latest = Release.objects.filter(app=OuterRef("pk")).order_by("-created_at", "-pk")
    # Live: the newest published release (read backwards along the app's creation index, which
    # stops at the first one, instead of sorting every published release of the app).
    live = Release.objects.filter(app=OuterRef("pk"), state=State.PUBLISHED).order_by("-created_at", "-pk")
    return {
        "latest": Subquery(latest.values(json=JSONObject(id="pk", version="version", state="state"))[:1]),
        "live": Subquery(live.values(json=JSONObject(id="pk", version="version"))[:1]),
        "in_review": _release_count(state__in=IN_REVIEW),
        "release_count": _release_count(),
    }


# Built once, not per page: each queryset annotated with them resolves its own copy.
APP_RELEASE_COLUMNS = _app_release_columns()


def app_rows(user, q: str = ""):
    """The apps of the user's teams (name or AppID containing `q`), by team and name, each with
    its latest and live release and its release counts (APP_RELEASE_COLUMNS)."""
    apps = selectors.apps_for(user).defer("authorizer_refresh_token", "settings", "checklist")
    if q:
        apps = apps.filter(Q(name__icontains=q) | Q(appid__icontains=q))
    return apps.annotate(**APP_RELEASE_COLUMNS).order_by("team__name", "name", "pk")


# The columns the app list shows (its rows are built from `values()`, no model instances).
APP_ROW_FIELDS = (
    "pk",
    "name",
    "appid",
    "team__name",
    "platform_account__platform",
    "platform_account__name",
    "latest",
    "live",
    "in_review",
    "release_count",
)


# One row of the app list. The rows are HTML built here (html_row escapes every value), not in the
# template: fifty rows of a dozen template variables cost more than the rest of the page did (as
# for the long option lists of releases/options.py). The table around them is the template's.
APP_ROW_HTML = (
    "<tr>"
    '<td><a class="strong" href="{url}">{name}</a><div class="muted small mono">{appid}</div></td>'
    "<td>{team}</td>"
    '<td>{platform}<div class="muted small">{account}</div></td>'
    "<td>{live}</td>"
    "<td>{latest}</td>"
    '<td class="num">{in_review}</td>'
    '<td class="num">{release_count}</td>'
    "</tr>\n"
)
LINK_HTML = '<a href="{url}">{text}</a>'
LATEST_HTML = '<a href="{url}">{text}</a> {badge}'
MUTED_HTML = '<span class="muted">{text}</span>'
IN_REVIEW_HTML = {True: '<span class="count-pill">{text}</span>', False: MUTED_HTML}


def _with_releases(apps) -> list[Row]:
    """The app list's rows: each one's HTML, and the latest and live release (one subquery each,
    as JSON) and the counts as keys."""
    app_url, release_url = url_maker("web:app-detail"), url_maker("web:release-detail")
    platforms, badges = dict(Platform.choices), StateBadges()
    nothing_published = html_row(MUTED_HTML, text=_("Nothing published"))
    no_releases = html_row(MUTED_HTML, text=_("No releases yet"))
    rows = []
    for app in apps.values(*APP_ROW_FIELDS):
        latest, live = app["latest"] or {}, app["live"] or {}
        row = Row(
            pk=app["pk"],
            name=app["name"],
            latest_id=latest.get("id"),
            latest_version=latest.get("version"),
            latest_state=latest.get("state"),
            live_id=live.get("id"),
            live_version=live.get("version"),
            in_review=app["in_review"],
            release_count=app["release_count"],
        )
        live_cell = nothing_published
        if row.live_id:
            live_cell = html_row(LINK_HTML, url=release_url(row.live_id), text=row.live_version)
        latest_cell = no_releases
        if row.latest_id:
            latest_url, badge = release_url(row.latest_id), badges[row.latest_state]
            latest_cell = html_row(LATEST_HTML, url=latest_url, text=row.latest_version, badge=badge)
        platform = app["platform_account__platform"]
        row["html"] = html_row(
            APP_ROW_HTML,
            url=app_url(row.pk),
            name=row.name,
            appid=app["appid"],
            team=app["team__name"],
            platform=platforms.get(platform, platform),
            account=app["platform_account__name"],
            live=live_cell,
            latest=latest_cell,
            in_review=html_row(IN_REVIEW_HTML[bool(row.in_review)], text=row.in_review),
            release_count=row.release_count,
        )
        rows.append(row)
    return rows


@login_required
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
@in_read_scope
def app_detail(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    role = _role(request, app.team_id)
    releases = Release.objects.filter(app=app).order_by("-created_at", "-pk")  # the app: the user's team
    page = Paginator(releases, RELEASES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _app_release_rows(page.object_list.values(*APP_RELEASE_FIELDS))
    today = timezone.localdate()
    suppressions = list(
        CheckSuppression.objects.filter(app=app)
        .select_related("created_by", "removed_by")
        .only(*SUPPRESSION_FIELDS)
        .order_by("-created_at")
    )
    prefetch_related_objects([app], "qualifications")  # one query for the list and its problems
    problems = {p["id"]: p["message"] for p in qualification_problems(app, today)}
    can_manage = role_at_least(role, Role.RELEASE_MANAGER)
    is_admin = role_at_least(role, Role.ADMIN)
    policy = approvals.required_capacities(app)
    capacities = [(c.value, c.label) for c in Capacity]
    suppression_form = SuppressionForm()
    return render(
        request,
        "releases/app_detail.html",
        {
            **_page_context("app", app),
            "app": app,
            "role_label": Role(role).label,
            "can_create": role_at_least(role, Role.DEVELOPER),
            "can_manage": can_manage,
            "is_admin": is_admin,
            "authorized": bool(app.authorizer_refresh_token),  # the token itself is never rendered
            "page": page,
            "active_suppressions": [s for s in suppressions if s.applies_on(today)],
            "past_suppressions": [s for s in suppressions if not s.applies_on(today)][:20],
            "suppression_form": suppression_form,
            # its <select> of every check, joined as text: through the widget templates it cost
            # more than the rest of the suppressions section (see releases/options.py)
            "check_options": options(suppression_form.fields["key"].choices, None) if can_manage else "",
            "qualifications": [(q, problems.get(q.pk)) for q in app.qualifications.all()],
            "qualification_form": QualificationForm(),
            "review_window_days": REVIEW_WINDOW_DAYS,
            "checklist_form": ChecklistForm.for_app(app),
            "policy": policy,
            "policy_labels": [dict(capacities)[c] for c in policy],
            "capacities": capacities,
            "members": _member_rows(app, capacities),
        },
    )


# What the app page shows of a suppression (and `applies_on` reads).
SUPPRESSION_FIELDS = (
    "key",
    "reason",
    "expires_on",
    "created_at",
    "removed_at",
    "created_by__username",
    "removed_by__username",
)

# The columns of the app page's release table (rows from `values()`, no model instances).
APP_RELEASE_FIELDS = (
    "pk",
    "version",
    "state",
    "revision",
    "created_at",
    "state_changed_at",
    "author__username",
)


# One row of the app page's release table: HTML built here (see APP_ROW_HTML for why).
APP_RELEASE_ROW_HTML = (
    "<tr>"
    '<td><a class="strong" href="{url}">{version}</a></td>'
    "<td>{badge}</td>"
    "<td>{author}</td>"
    '<td class="num">{revision}</td>'
    '<td><time datetime="{created_iso}">{created}</time></td>'
    '<td><time datetime="{changed_iso}">{changed}</time></td>'
    "</tr>\n"
)


def _app_release_rows(rows) -> list[Row]:
    """The app page's release rows from `values()`: each one's HTML, and its id, version and state."""
    release_url, badges = url_maker("web:release-detail"), StateBadges()
    out = []
    for row in rows:
        created_iso, created = times(row["created_at"])
        changed_iso, changed = times(row["state_changed_at"])
        html = html_row(
            APP_RELEASE_ROW_HTML,
            url=release_url(row["pk"]),
            version=row["version"],
            badge=badges[row["state"]],
            author=row["author__username"],
            revision=row["revision"],
            created_iso=created_iso,
            created=created,
            changed_iso=changed_iso,
            changed=changed,
        )
        out.append(Row(pk=row["pk"], version=row["version"], state=row["state"], html=html))
    return out


def _member_rows(app, capacities: list[tuple]) -> list[Row]:
    """The team's members by name, each with the capacities they approve in (as text) and, for
    an admin's form, the capacity checkboxes and where the form posts."""
    labels, roles = dict(capacities), dict(Role.choices)
    form_url = url_maker("web:member-capacities-update", app.pk)
    rows = []
    members = Membership.objects.filter(team_id=app.team_id).order_by("user__username")
    for member in members.values("pk", "role", "capacities", "user__username"):
        member = Row(member)
        held = approvals.capacities_of_membership(member)
        chosen = member.capacities or []
        rows.append(
            Row(
                pk=member.pk,
                username=member.user__username,
                role=roles.get(member.role, member.role),
                held=held,
                held_labels=", ".join(str(labels.get(c, "")) for c in held),
                url=form_url(member.pk),
                choices=[(c.value, c.label, c.value in chosen) for c in MEMBER_CAPACITIES],
            )
        )
    return rows


def _app_for_post(request, app_id: int):
    return get_object_or_404(selectors.apps_for(request.user), pk=app_id)


def _back_to_app(app, anchor: str):
    return redirect(f"{reverse('web:app-detail', args=[app.pk])}#{anchor}")


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
            return redirect("web:release-detail", release_id=release.pk)
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
        return redirect("web:release-detail", release_id=release.pk)
    form = ReleaseForm.for_release(release, request.POST if request.method == "POST" else None)
    if form.is_valid():
        before = (release.revision, release.state)
        try:
            release = services.release_update(
                release=release,
                actor=request.user,
                changes=form.cleaned_data,
                revision=form.cleaned_data["revision"],
                ip=_ip(request),
            )
        except SluiceError as exc:
            if exc.code == "stale_revision":  # keep the typed text, now based on the current revision
                form = form.rebased(exc.details["current_revision"])
                form.add_error(None, exc.message)
                form.add_error(None, _("Your text is kept below: saving it again replaces that revision."))
            else:
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
            return redirect("web:release-detail", release_id=release.pk)
    return render(
        request, "releases/release_form.html", {"app": release.app, "form": form, "release": release}
    )


def _when(moment) -> Row:
    """A moment as the release page prints it: `iso` for <time datetime>, `text` to read."""
    iso, text = times(moment)
    return Row(iso=iso, text=text)


def _check_rows(run) -> list:
    """The run's results, most urgent first, each with what its row prints: the badge, the title
    in the reader's language, the severity note, whether it is open (neither passed nor pending)
    and, if so, the check's explanation."""
    if run is None:
        return []
    warning, notes, statuses = _("Warning"), {}, dict(CheckResult.Status.choices)
    rows = by_urgency(run.result_list)
    for result in rows:
        warned = result.status == "failed" and not result.blocks
        result.badge = "warning" if warned else result.status
        result.badge_label = warning if warned else statuses.get(result.status, result.status)
        result.shown_title = check_title(result)
        if result.severity != "error" and result.severity not in notes:
            notes[result.severity] = _("%(severity)s, does not block") % {
                "severity": severity_label(result.severity)
            }
        result.note = notes.get(result.severity, "")
        result.is_open = result.status not in ("passed", "pending")
        check = REGISTRY.get(result.key) if result.is_open else None
        result.explanation = check.explanation if check is not None else ""
    return rows


def _checklist_rows(release: Release) -> list[dict]:
    """The manual checklist of this revision, each ticked item with who confirmed it and when."""
    confirmed = _("Confirmed by %(who)s")
    items = selectors.checklist_items(release)
    for item in items:
        tick = item["tick"]
        if tick is not None:
            item["confirmed"] = confirmed % {"who": tick.confirmed_by.get_username()}
            item["at"] = _when(tick.confirmed_at)
    return items


def _approval_rows(release: Release, policy) -> list[Row]:
    """Every approval of every revision, oldest first; those of an earlier revision are void.
    A release never edited (revision 1) has only the current revision's: the policy's own."""
    if release.revision == 1:
        given = sorted(policy.approvals, key=lambda a: (a.created_at, a.pk))
    else:
        given = release.approvals.select_related("approver").order_by("created_at", "pk")
    rows = []
    for approval in given:
        if approval.override:
            did = _("approved by override revision %(revision)s")
        else:
            did = _("approved revision %(revision)s")
        rows.append(
            Row(
                who=approval.approver.get_username(),
                did=did % {"revision": approval.revision},
                capacity=_("as %(capacity)s") % {"capacity": approval.capacity_label},
                void=approval.revision != release.revision,
                at=_when(approval.created_at),
                comment=approval.comment,
            )
        )
    return rows


# The release's moments the page prints (`at.created_at.iso`, `at.created_at.text`).
RELEASE_TIMES = ("created_at", "submitted_at", "decided_at", "state_changed_at", "review_delayed_at")


def _event_rows(release: Release) -> tuple[list[Row], int]:
    """The release's audit trail in chain order, each event with what its table row prints (the
    template places them), and the id of the newest event (0 when there is none)."""
    events = (
        AuditEvent.objects.filter(release_id=release.pk)
        .order_by("id")
        .values_list("id", "at", "actor_name", "action", "from_state", "to_state", "data")
    )
    zone, labels, rows, last = timezone.get_current_timezone(), {}, [], 0
    for pk, at, actor, action, from_state, to_state, data in events:
        for state in (from_state, to_state):
            if state not in labels:
                labels[state] = str(state_label(state))
        moved = f"{labels[from_state]} → " if from_state and from_state != to_state else ""
        local = at.astimezone(zone)
        rows.append(
            Row(
                iso=local.isoformat(),
                seconds=f"{local:%Y-%m-%d %H:%M:%S}",
                text=f"{local:%Y-%m-%d %H:%M}",
                actor=actor,
                action=action,
                states=moved + labels[to_state],
                data=[(key, as_text(value)) for key, value in pairs(data)],
            )
        )
        last = pk
    return rows, last


def _live_stamp(release: Release, run, last_event: int) -> str:
    """The stamp web.browse.release_stamp gives this release (what static/js/live.js polls),
    from the rows this page read, so it costs no query of its own (a test holds the two equal)."""
    finished = "f" if run is not None and run.finished_at is not None else "p"
    return f"{release.updated_at.isoformat()}|{last_event}|{run.pk if run is not None else 0}{finished}"


# Columns of the release's app and platform account the page never reads: the secrets (never
# decrypted for it) and the app's settings and categories.
UNSHOWN_COLUMNS = (
    "app__authorizer_refresh_token",
    "app__settings",
    "app__categories",
    "app__platform_account__component_appsecret",
    "app__platform_account__message_token",
    "app__platform_account__encoding_aes_key",
)


def _shown_releases(user):
    """The user's releases (the selector: team isolation) joined with what the page shows: the
    app, its platform account, the author and the owner; not the team row, nor UNSHOWN_COLUMNS."""
    shown = selectors.releases_for(user).select_related(None)
    return shown.select_related("app__platform_account", "author", "owner").defer(*UNSHOWN_COLUMNS)


@login_required
@in_read_scope
def release_detail(request, release_id: int):
    user = request.user
    release = get_object_or_404(_shown_releases(user), pk=release_id)
    role = _role(request, release.app.team_id)
    # First the rejection, remediation and limits, which warm what the guards of the buttons
    # share with them (releases.memo); then the check run, which the guards reuse. All reads:
    # a rejection's tasks were recorded with the rejection itself (releases.services).
    extras = _page_context("release", release, user)
    check_run = selectors.latest_check_run(release)
    current_run = check_run is not None and check_run.counts_for(release)
    results = _check_rows(check_run)
    pending = [r for r in results if r.status == "pending"] if current_run else []
    is_draft = release.state == State.DRAFT
    blocking = [r for r in results if r.blocks] if current_run and is_draft else []
    checklist = _checklist_rows(release)
    events, last_event = _event_rows(release)
    policy = approvals.policy_status(release)
    return render(
        request,
        "releases/release_detail.html",
        {
            **extras,
            "release": release,
            "app": release.app,
            "role": role,
            "role_label": Role(role).label,
            "live_stamp": _live_stamp(release, check_run, last_event),
            "available": actions.available_actions(release, user),
            "can_edit": role_at_least(role, Role.DEVELOPER) and release.state in EDITABLE,
            "check_run": check_run,
            "check_run_at": _when(check_run.created_at) if check_run else None,
            "results": results,
            "blocking_checks": blocking,
            "pending_checks": pending,
            "checklist": checklist,
            "checklist_open": [i for i in checklist if i["tick"] is None],
            "can_tick": is_draft and role_at_least(role, Role.DEVELOPER),
            "policy": policy,
            "open_capacities": [
                (c, approvals.capacity_label(c)) for c in approvals.open_capacities_for(release, user)
            ],
            "approvals": _approval_rows(release, policy),
            "events": events,
            "at": Row({name: _when(getattr(release, name)) for name in RELEASE_TIMES}),
        },
    )


@login_required
@require_GET
def release_check_status(request, release_id: int):
    """What the page polls while slow checks run: how many are still pending."""
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.result_list if r.status == "pending") if run else 0
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
    return redirect(f"{reverse('web:release-detail', args=[release.pk])}#checklist-title")


def _after_check(request, release: Release) -> None:
    """The flash after "Run checks": passed, still running, or waiting for the checklist."""
    run = selectors.latest_check_run(release)
    pending = sum(1 for r in run.result_list if r.status == "pending") if run else 0
    open_items = facts_for(release).unticked
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
            return redirect("web:release-detail", release_id=release.pk)
        state = State(release.state).label.lower()
        messages.success(
            request,
            _("%(done)s: %(app)s %(version)s is now %(state)s.")
            % {"done": DONE[name], "app": release.app, "version": release.version, "state": state},
        )
    return redirect("web:release-detail", release_id=release.pk)


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
