"""What a message needs to know about an event, read once when the worker sees it.

Facts are frozen into each delivery (a redelivery says what happened then, not what is true now).
Webhook deliveries also carry the release exactly as `GET /api/v1/releases/{id}` shows it: the
API's serializer belongs to the web layer, above this one, so web registers it here when the app
loads (web/apps.py) instead of being imported, which the layers forbid.
"""

from collections.abc import Callable

from notify.models import Preference
from releases.models import Membership, RejectionCategory, Release, Role, can_approve, role_at_least

_representation: Callable[[Release], dict] | None = None


def register_release_representation(function: Callable[[Release], dict]) -> None:
    global _representation
    _representation = function


def release_representation(release: Release) -> dict:
    """The release as the API returns it (a plain-JSON dict), or its id when no API is loaded."""
    if _representation is None:
        return {"id": release.pk, "app": release.app_id, "version": release.version, "state": release.state}
    return _representation(release)


def _label(category: str) -> str:
    try:
        return str(RejectionCategory(category).label)
    except ValueError:
        return category


def release_facts(release: Release, event: str, data: dict | None = None) -> dict:
    data = data or {}
    facts = {
        "app": release.app.name,
        "appid": release.app.appid,
        "version": release.version,
        "release_id": release.pk,
        "link": f"/releases/{release.pk}/",
    }
    if event == "rejected":
        rejection = release.rejections.order_by("-at", "-pk").first()
        reason = rejection.reason if rejection else release.rejection_reason
        facts["reason"] = reason.replace("<br>", " ")[:500]  # WeChat separates its items with <br>
        facts["categories"] = [_label(c) for c in (rejection.categories if rejection else [])]
        facts["steps"] = list(
            release.remediation_tasks.order_by("position", "pk").values_list("title", flat=True)[:3]
        )
    elif event == "review_delayed":
        facts["reason"] = (data.get("reason") or release.review_delay_reason)[:500]
    elif event == "step_failed":
        facts["step"] = data.get("step", "")
        facts["error"] = str(data.get("message", ""))[:500]
    return facts


def people(release: Release | None, team_id: int, event: str) -> list:
    """Who an event is for: approvers when approval is needed, admins for account matters,
    otherwise the release's author and owner."""
    members = [m.user for m in Membership.objects.filter(team_id=team_id).select_related("user")]
    if event == "approval_needed" and release is not None:
        return [u for u in members if can_approve(release, u)]
    if release is None or event in ("quota_low", "authorization_lost"):
        roles = {m.user_id: m.role for m in Membership.objects.filter(team_id=team_id)}
        return [u for u in members if role_at_least(roles.get(u.pk), Role.RELEASE_MANAGER)]
    wanted = {release.author_id, release.owner_id}
    return [u for u in members if u.pk in wanted]


def preferences(users) -> dict[int, Preference]:
    return {p.user_id: p for p in Preference.objects.filter(user__in=users)}
