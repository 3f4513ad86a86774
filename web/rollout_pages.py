"""After approval, on the pages: the phased-release section of the release page, the
confirmation pages of the steps that cannot be taken back (publish, roll back, revert, stop the
service), and the emergency stop's form. The confirmation pages read only; their forms post to
the release's actions (web.release_changes) or to the app's service (below)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from releases import actions, selectors
from releases import rollout as phased
from releases.errors import SluiceError
from releases.health_services import latest_samples
from releases.models import EVER_PUBLISHED, Release, Role, role_at_least
from releases.service_model import SS
from releases.urgent_services import app_service_set
from web.page_helpers import request_ip, request_role
from web.rows import Row, times

# The actions whose button opens a confirmation page first: what happens, to whom, what it spends.
CONFIRMED = ("publish", "rollback", "rollout-revert")


def _when(moment) -> Row | None:
    if moment is None:
        return None
    iso, text = times(moment)
    return Row(iso=iso, text=text)


def rollout_context(release: Release) -> dict:
    """The release page's phased-release section: each stage (done, live, next), when the next
    one is due, why it halted, and the latest health values."""
    rollout = release.rollout or {}
    if not rollout:
        return {"rollout": None}
    stage = rollout.get("stage", 0)
    stages = [
        Row(
            number=number,
            percentage=item["percentage"],
            hold=item.get("hold_minutes"),
            status="done" if number < stage else "live" if number == stage else "next",
        )
        for number, item in enumerate(rollout["plan"], start=1)
    ]
    due = parse_datetime(rollout["next_stage_at"]) if rollout.get("next_stage_at") else None
    return {
        "rollout": Row(
            status=rollout["status"],
            stage=stage,
            stages=stages,
            count=len(stages),
            percentage=rollout.get("percentage", 0),
            next_stage_at=_when(due),
            halted_reason=rollout.get("halted_reason", ""),
            plan_text=phased.plan_text(rollout["plan"]),
            members_first=rollout.get("experiencer_first") or rollout.get("debuger_first"),
        ),
        "health": latest_samples(release),
    }


def _constraints(release: Release) -> list[Row]:
    """The rules of a rollback, each with whether it holds now (what the button would meet): met,
    said as what is fine; unmet, the rule's own refusal."""
    from releases.gate.facts import facts_for
    from releases.gate.rules import RULES

    facts = facts_for(release)
    met = {
        "no_previous_version": _("An earlier version was released: there is one to go back to."),
        "rollback_twice": _("The last change of the online version was not a rollback."),
        "phased_release_running": _("No other version of this app is in a phased release."),
    }
    rows = []
    for code, sentence in met.items():
        holds = RULES[code].holds(facts)
        rows.append(Row(code=code, holds=holds, text=sentence if holds else RULES[code].reason(facts)))
    return rows


@login_required
def release_confirm_action(request, release_id: int, name: str):
    """What pressing `name` will do, before it is done: the consequences, who is affected, the
    limits it spends, and the form that does it (disabled with the reason if it cannot)."""
    if name not in CONFIRMED:
        raise Http404("Nothing to confirm for this action.")
    release = get_object_or_404(
        selectors.releases_for(request.user).select_related("app__platform_account"), pk=release_id
    )
    offered = actions.availability(release, request.user, actions.BY_NAME[name])
    if offered is None:
        raise Http404("This action is not offered on this release.")
    app = release.app
    context = {
        "release": release,
        "app": app,
        "name": name,
        "offered": offered,
        "default_plan": phased.plan_text(phased.default_plan(app)["plan"]) if name == "publish" else "",
        "previous": Release.objects.filter(app=app, state__in=EVER_PUBLISHED)
        .exclude(pk=release.pk)
        .order_by("-created_at")
        .values_list("version", flat=True)
        .first(),
        "constraints": _constraints(release) if name == "rollback" else [],
        **(rollout_context(release) if name == "rollout-revert" else {}),
    }
    return render(request, "releases/confirm_action.html", context)


@login_required
def app_service_confirm(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    if not role_at_least(request_role(request, app.team_id), Role.ADMIN):
        raise Http404("Only a team admin can stop an app's service.")
    return render(
        request, "releases/confirm_service.html", {"app": app, "going_online": not app.service_online}
    )


@login_required
@require_POST
def app_service(request, app_id: int):
    app = get_object_or_404(selectors.apps_for(request.user), pk=app_id)
    online = request.POST.get("online") == "true"
    try:
        app_service_set(
            app=app,
            actor=request.user,
            online=online,
            reason=request.POST.get("reason", ""),
            ip=request_ip(request),
        )
    except SluiceError as exc:
        messages.error(request, exc.message)
        return redirect("web:app-service-confirm", app_id=app.pk)
    if online:
        messages.success(request, _("%(app)s is back online.") % {"app": app})
    else:
        messages.warning(
            request, _("%(app)s is offline: nobody can open it until you bring it back.") % {"app": app}
        )
    return redirect("web:app-detail", app_id=app.pk)


def service_banner(app) -> dict:
    """The app page's loud banner while its service is offline, and the change in flight or failed
    (the emergency stop's state machine, releases.service_model)."""
    state = app.service_state
    titles = {
        SS.GOING_OFFLINE: _("Taking the service offline: waiting for the platform's answer"),
        SS.GOING_ONLINE: _("Bringing the service back online: waiting for the platform's answer"),
        SS.STOP_FAILED: _("The emergency stop failed: the service is still online"),
        SS.START_FAILED: _("Bringing the service back failed: it is still offline"),
    }
    change = None
    if state in titles:
        failed = state in (SS.STOP_FAILED, SS.START_FAILED)
        change = Row(title=titles[state], failed=failed, error=app.service_error, code=app.service_error_code)
    offline = None
    if not app.service_online and state != SS.GOING_ONLINE:
        # After a failed restart the recorded reason is the restart's, not the stop's.
        reason = app.service_reason if state == SS.OFFLINE else ""
        offline = Row(reason=reason, at=_when(app.service_changed_at or timezone.now()))
    return {"service_offline": offline, "service_change": change}
