"""Reads: who may see what. Every page and API call goes through these, so team isolation
lives in one place."""

from django.db.models import QuerySet

from releases.models import App, Membership, PlatformAccount, Release, Role, Team, role_at_least


def role_for(user, team_id: int) -> str | None:
    """The user's role in a team, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return None
    cache = getattr(user, "_sluice_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
        user._sluice_roles = cache
    return cache.get(team_id)


def teams_for(user) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).order_by("name")


def team_ids_for(user, minimum: str = Role.VIEWER) -> list[int]:
    role_for(user, 0)  # fill the cache
    return [team_id for team_id, role in user._sluice_roles.items() if role_at_least(role, minimum)]


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
