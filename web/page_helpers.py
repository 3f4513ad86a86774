"""What the app and release pages share: the request's IP for the audit trail, the user's
role in a team, the developer requirement of the release forms, and the rejection,
remediation and limits context (web.review_pages) both pages include."""

from django.core.exceptions import PermissionDenied

from releases import selectors
from releases.models import Role, role_at_least
from web.throttle import client_address


def page_context(setting: str, *args) -> dict:
    """Extra context of the app and release pages: rejection, remediation and limits."""
    from web import review_pages

    builder = {"app": review_pages.app_context, "release": review_pages.release_context}[setting]
    return builder(*args)


def request_ip(request) -> str | None:
    """Who made the request, as audit events record it (web.throttle: proxy-aware)."""
    return client_address(request)


def request_role(request, team_id: int) -> str | None:
    return selectors.role_for(request.user, team_id)


def require_developer(request, team_id: int) -> None:
    if not role_at_least(request_role(request, team_id), Role.DEVELOPER):
        raise PermissionDenied("Only a developer or above can create or edit releases.")
