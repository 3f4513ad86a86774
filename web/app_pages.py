"""The app list and the app page (its releases, suppressions, qualifications, checklist,
approval policy and members). Reads only: load through the selectors (another team's app is
a 404), render; the forms the app page posts are web.app_changes."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce, JSONObject
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from releases import approvals, selectors
from releases.checks.qualifications import REVIEW_WINDOW_DAYS, qualification_problems
from releases.memo import in_read_scope
from releases.models import (
    IN_REVIEW,
    MEMBER_CAPACITIES,
    Capacity,
    CheckSuppression,
    Membership,
    Platform,
    Release,
    Role,
    State,
    role_at_least,
)
from web.forms import ChecklistForm, QualificationForm, SuppressionForm
from web.options import options
from web.page_helpers import page_context, request_role
from web.rollout_pages import service_banner
from web.rows import Row, StateBadges, html_row, times, url_maker

RELEASES_PER_PAGE = 50


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


def app_rows(user, q: str = "", tag: str = ""):
    """The apps of the user's teams (name or AppID containing `q`, carrying `tag`), by team and
    name, each with its latest and live release and its release counts (APP_RELEASE_COLUMNS)."""
    apps = selectors.apps_for(user).defer("authorizer_refresh_token", "settings", "checklist")
    if q:
        apps = apps.filter(Q(name__icontains=q) | Q(appid__icontains=q))
    if tag:
        apps = apps.filter(tags__name=tag)
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
    tag = request.GET.get("tag", "").strip()[:64]
    page = Paginator(app_rows(request.user, q, tag), APPS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "releases/app_list.html",
        {
            "apps": _with_releases(page.object_list),
            "page": page,
            "q": q,
            "tag": tag,
            "query": urlencode({k: v for k, v in (("q", q), ("tag", tag)) if v}),
            "can_add_app": bool(selectors.team_ids_for(request.user, Role.RELEASE_MANAGER)),
            "can_group": bool(selectors.team_ids_for(request.user, Role.DEVELOPER)),
        },
    )


@login_required
@in_read_scope
def app_detail(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    role = request_role(request, app.team_id)
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
            **page_context("app", app),
            **service_banner(app),
            "app": app,
            "role_label": Role(role).label,
            "can_create": role_at_least(role, Role.DEVELOPER),
            "can_manage": can_manage,
            "is_admin": is_admin,
            "authorized": bool(app.authorizer_refresh_token),  # the token itself is never rendered
            "tags": list(app.tags.values_list("name", flat=True)),
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
