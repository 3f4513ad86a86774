"""Server-rendered parts of rejections, remediation and limits: context for the release and
app pages (fragments in templates/reviews/), the two task forms, and the playbook library page.

Thin: load through releases.selectors (another team's object is a 404), call one service,
redirect with a flash message.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from releases import selectors
from releases.errors import SluiceError
from releases.limits import app_limits, limits_ahead, release_limits
from releases.limits.labels import label as limit_label
from releases.models import Role, role_at_least
from releases.playbooks.library import library
from releases.rejection_recording import unclassified_reasons
from releases.remediation import (
    latest_rejection,
    rejection_out,
    remediation_complete,
    remediation_override,
    task_out,
    tasks_for,
)
from reviews.models import RejectionScreenshot
from reviews.screenshots import pictures_of
from web.throttle import client_address

# The pages include these by the names the context carries, so releases/ names no reviews template.
REMEDIATION_TEMPLATE = "reviews/_remediation.html"
LIMITS_TEMPLATE = "reviews/_limits.html"


def countdown(moment: datetime | None, now: datetime | None = None) -> str:
    """“in 3 d 4 h”, “in 5 h 12 min”, “in 40 min”: how long until a limit lifts."""
    if moment is None:
        return ""
    seconds = int((moment - (now or timezone.now())).total_seconds())
    if seconds <= 0:
        return gettext("now")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not (days or hours) else rest // 60
    if days:
        return gettext("in %(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("in %(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return gettext("in %(minutes)s min") % {"minutes": minutes}


def _meters(limits: list[dict]) -> list[dict]:
    """Each limit with its countdown and its reset time as the panel prints it (Beijing time,
    already: `resets_at` is local to Beijing), so the template formats no date itself."""
    now = timezone.now()
    meters = []
    for item in limits:
        resets = item["resets_at"]
        meters.append(
            {
                **item,
                "label": limit_label(item["key"], item["label"]),
                "countdown": countdown(resets, now),
                "resets_iso": resets.isoformat() if resets else "",
                "resets_full": f"{resets:%Y-%m-%d %H:%M}" if resets else "",
                "resets_short": f"{resets:%m-%d %H:%M}" if resets else "",
            }
        )
    return meters


def app_context(app) -> dict:
    """For the app page: `{% include limits_template %}` with these variables."""
    return {"limits": _meters(app_limits(app)), "limits_template": LIMITS_TEMPLATE}


def release_context(release, user) -> dict:
    """For the release page: `{% include remediation_template %}` and `{% include limits_template %}`."""
    role = selectors.role_for(user, release.app.team_id)
    latest = latest_rejection(release)
    rejection = rejection_out(latest)
    tasks = [task_out(task) for task in tasks_for(release)]
    return {
        "rejection": rejection,
        # one query, and only when the platform attached screenshots
        "rejection_pictures": pictures_of(latest.pk) if latest is not None and latest.screenshots else [],
        "remediation_tasks": tasks,
        "remediation_open": sum(1 for t in tasks if t["required"] and not t["done"] and not t["waived"]),
        "can_complete_tasks": role_at_least(role, Role.DEVELOPER),
        "can_override_tasks": role_at_least(role, Role.RELEASE_MANAGER),
        # Only what the release can still run into: no withdrawals on a draft, none after review.
        "limits": _meters(
            [limit for limit in release_limits(release) if limit["key"] in limits_ahead(release)]
        ),
        "remediation_template": REMEDIATION_TEMPLATE,
        "limits_template": LIMITS_TEMPLATE,
    }


@login_required
@require_GET
def rejection_screenshot(request, release_id: int, picture_id: int):
    """A fetched rejection screenshot, only to members of the release's team (another team's is a
    404). The type is the one sniffed from the bytes when they were stored; nosniff, no caching by
    shared caches, and a sandbox so the picture, opened on its own, can run nothing."""
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    picture = get_object_or_404(
        RejectionScreenshot,
        pk=picture_id,
        rejection__release=release,
        state=RejectionScreenshot.State.FETCHED,
    )
    response = HttpResponse(bytes(picture.data), content_type=picture.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = (
        f'inline; filename="screenshot-{picture.position + 1}.{picture.content_type.split("/")[-1]}"'
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _back(release_id: int):
    return redirect("web:release-detail", release_id=release_id)


@login_required
@require_POST
def task_done(request, release_id: int, key: str):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    try:
        task = remediation_complete(
            release=release, key=key, actor=request.user, note=request.POST.get("note", ""), ip=_ip(request)
        )
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Done: %(task)s.") % {"task": task.title})
    return _back(release.pk)


@login_required
@require_POST
def override(request, release_id: int):
    release = get_object_or_404(selectors.releases_for(request.user), pk=release_id)
    try:
        tasks = remediation_override(
            release=release, actor=request.user, reason=request.POST.get("reason", ""), ip=_ip(request)
        )
    except SluiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.warning(
            request,
            gettext("Overrode %(count)s open required task(s); the reason is in the audit trail.")
            % {"count": len(tasks)},
        )
    return _back(release.pk)


@login_required
def playbook_list(request):
    """The library as everyone sees it, and what the rules do not recognise yet."""
    return render(
        request,
        "reviews/playbook_list.html",
        {"rows": library(), "unclassified": unclassified_reasons(limit=50)},
    )


def _ip(request) -> str | None:
    return client_address(request)
