"""Reads: who may see what. Every page and API call goes through these, so team isolation
lives in one place."""

from django.db.models import QuerySet

from releases.models import App, Membership, PlatformAccount, Release, Role, Team, role_at_least


def _memberships(user) -> dict[int, tuple[str, list]]:
    """{team id: (role, approval capacities)} of the user, read once per user object (one query
    answers both questions: the pages ask them of the user of the request many times)."""
    found = getattr(user, "_sluice_memberships", None)
    if found is None:
        rows = Membership.objects.filter(user=user).values_list("team_id", "role", "capacities")
        found = user._sluice_memberships = {team_id: (role, capacities) for team_id, role, capacities in rows}
    return found


def forget_memberships(user) -> None:
    """Drop what _memberships() read for this user object (after its memberships changed)."""
    user.__dict__.pop("_sluice_memberships", None)


def role_for(user, team_id: int) -> str | None:
    """The user's role in a team."""
    if user is None or not user.is_authenticated:
        return None
    return _memberships(user).get(team_id, (None, None))[0]


def teams_for(user) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("name")


def team_ids_for(user, minimum: str = Role.VIEWER) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return [team_id for team_id, (role, _) in _memberships(user).items() if role_at_least(role, minimum)]


def apps_for(user) -> QuerySet[App]:
    return App.objects.filter(team_id__in=team_ids_for(user)).select_related("team", "platform_account")


def platform_accounts_for(user) -> QuerySet[PlatformAccount]:
    return PlatformAccount.objects.filter(team_id__in=team_ids_for(user)).select_related("team")


def releases_for(user) -> QuerySet[Release]:
    return Release.objects.filter(app__team_id__in=team_ids_for(user)).select_related(
        "app", "app__team", "app__platform_account", "author"
    )


def latest_published_version(app: App, *, exclude_release_id: int | None = None) -> str | None:
    from releases.models import EVER_PUBLISHED
    from releases.versioning import max_version

    versions = Release.objects.filter(app=app, state__in=EVER_PUBLISHED)
    if exclude_release_id:
        versions = versions.exclude(pk=exclude_release_id)
    return max_version(versions.values_list("version", flat=True))


def member_capacities_for(user, team_id: int) -> list[str]:
    """The approval capacities (qa, product) the user's membership carries."""
    if user is None or not user.is_authenticated:
        return []
    return list(_memberships(user).get(team_id, (None, None))[1] or [])


def active_suppressions(app: App, day=None) -> dict:
    """{check key: CheckSuppression} of the suppressions that apply on `day` (today, local)."""
    from django.utils import timezone

    from releases.models import CheckSuppression

    day = day or timezone.localdate()
    live = CheckSuppression.objects.filter(app=app, removed_at=None, expires_on__gte=day).select_related(
        "created_by"
    )
    return {s.key: s for s in live}


def latest_check_run(release: Release):
    """The release's newest check run with `result_list` (its results in run order), `actor_name`
    and `blocking`, once per read scope: the page, the API answer and the polls read this one."""
    from releases.gate.facts import latest_check_runs
    from releases.memo import memoized

    return memoized(
        ("latest_check_run", release.pk),
        lambda: latest_check_runs([release.pk], results=True).get(release.pk),
    )


def checklist_items(release: Release) -> list[dict]:
    """The app's manual checklist for this revision and content, each with its tick (or None)."""
    from releases.gate.facts import checklist_of, facts_for

    ticks = facts_for(release).ticks
    return [
        {"key": item["key"], "label": item.get("label", item["key"]), "tick": ticks.get(item["key"])}
        for item in checklist_of(release.app)
    ]


def manual_check_rows(release: Release) -> list[dict]:
    """The checklist in the shape of check results (kind "manual"), for the API's `checks`."""
    rows = []
    for item in checklist_items(release):
        tick = item["tick"]
        if tick is None:
            status, message, evidence = "pending", "Waiting for a person to confirm this.", {}
        else:
            who = tick.confirmed_by.get_username()
            status = "passed"
            message = f"Confirmed by {who} for revision {tick.revision}."
            evidence = {"confirmed_by": who, "confirmed_at": tick.confirmed_at.isoformat()}
        rows.append(
            {
                "key": item["key"],
                "title": item["label"],
                "kind": "manual",
                "severity": "error",
                "status": status,
                "message": message,
                "evidence": evidence,
            }
        )
    return rows
