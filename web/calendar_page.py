"""The calendar: for every app of the user's teams, the publish windows of the coming weeks
(China's holidays and make-up working days marked, freezes with their reasons), the scheduled
publishes, the phased releases under way and the planned versions (a release's target date),
so the short-, medium- and long-term plans are in one place. Reads only."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from releases import rollout as phased
from releases import selectors, windows
from releases.limits import clock
from releases.models import App, Release, Role, State, role_at_least
from web.rows import Row

DAYS_SHOWN = 28
# Versions still on their way (a target date on a shipped or abandoned one is history).
PLANNED_STATES = [
    State.DRAFT,
    State.CHECKED,
    State.SUBMITTING,
    State.SUBMIT_FAILED,
    State.SUBMITTED,
    State.APPROVED,
    State.REJECTED,
    State.WITHDRAWN,
    State.ROLLING_OUT,
]


def _hours_text(hours) -> str:
    return ", ".join(
        f"{start:%H:%M}–{end:%H:%M}" if end.hour or end.minute else f"{start:%H:%M}–24:00"
        for start, end in hours
    )


def _policies(apps: list[App]) -> list[Row]:
    """One row per distinct policy: a team's, and each app's own that replaces it."""
    rows, seen_teams = [], set()
    for app in apps:
        own = (app.settings or {}).get("publish_window")
        if own:
            rows.append(Row(title=f"{app.team.name} · {app.name}", policy=windows.parse_policy(own), app=app))
        elif app.team_id not in seen_teams:
            seen_teams.add(app.team_id)
            policy = windows.parse_policy(app.team.publish_policy or {})
            rows.append(Row(title=app.team.name, policy=policy, app=None, team_id=app.team_id))
    return rows


def _days(policies: list[Row], today) -> list[Row]:
    days = []
    for offset in range(DAYS_SHOWN):
        day = today + timedelta(days=offset)
        kind, name = windows.day_kind(day)
        cells = []
        for row in policies:
            hours = windows.day_hours(row.policy, day)
            frozen = [
                f.reason for f in windows.freezes_of(row.policy) if f.start.date() <= day <= f.end.date()
            ]
            cells.append(Row(hours=_hours_text(hours), frozen="; ".join(frozen)))
        days.append(Row(day=day, kind=kind, name=name, cells=cells))
    return days


@login_required
def calendar(request):
    apps = list(selectors.apps_for(request.user).select_related("team").order_by("team__name", "name"))
    app_ids = [app.pk for app in apps]
    releases = Release.objects.filter(app_id__in=app_ids).select_related("app")
    scheduled = [
        Row(release=r, at=clock.local(r.rollout_due_at))
        for r in releases.filter(state=State.APPROVED, rollout_due_at__isnull=False).order_by(
            "rollout_due_at"
        )
        if (r.rollout or {}).get("status") == phased.Status.SCHEDULED
    ]
    phased_now = [
        Row(
            release=r,
            rollout=phased.public(r.rollout),
            next_at=clock.local(parse_datetime(r.rollout["next_stage_at"]))
            if r.rollout.get("next_stage_at")
            else None,
        )
        for r in releases.filter(state=State.ROLLING_OUT).order_by("rollout_due_at")
    ]
    today = clock.local(timezone.now()).date()
    planned = list(
        releases.filter(target_date__isnull=False, state__in=PLANNED_STATES).order_by(
            "target_date", "app__name"
        )
    )
    horizon = [
        Row(title=title, releases=[r for r in planned if low <= (r.target_date - today).days < high])
        for title, low, high in (
            ("overdue", -10_000, 0),
            ("short", 0, 14),
            ("medium", 14, 90),
            ("long", 90, 10_000),
        )
    ]
    policies = _policies(apps)
    admin_of = {
        team_id
        for team_id in {app.team_id for app in apps}
        if role_at_least(selectors.role_for(request.user, team_id), Role.ADMIN)
    }
    for row in policies:
        team_id = row.app.team_id if row.app is not None else row.team_id
        row.editable = team_id in admin_of
    return render(
        request,
        "releases/calendar.html",
        {
            "policies": policies,
            "days": _days(policies, today),
            "scheduled": scheduled,
            "phased": phased_now,
            "horizon": horizon,
            "today": today,
        },
    )
