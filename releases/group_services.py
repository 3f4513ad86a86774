"""Release groups: create one version for several apps of a product at once, and act on every
member that allows it.

A group action is each member's own action, run in turn with the member's own rules (its gate,
its platform's limits, four eyes on approval: whoever wrote the release cannot approve it); one
approval of the group is that person's approval of every member. A member that does not allow
the action now is reported, not forced. Each member's own actions stay available on the release.
"""

from django.db import transaction
from django.utils.translation import gettext_noop

from releases import actions
from releases.audit import audit_record
from releases.draft_services import release_create
from releases.errors import Invalid, Refused, SluiceError
from releases.models import App, ReleaseGroup, ReleaseGroupMember, State

GROUP_ACTIONS = ("check", "approve", "submit", "publish")
MAX_APPS = 10


def _apps_of_one_product(apps: list[App]) -> None:
    if not apps:
        raise Invalid(
            "apps_required", gettext_noop("Name the apps to ship to."), details={"apps": "Required."}
        )
    if len(apps) > MAX_APPS:
        raise Invalid(
            "too_many_apps",
            gettext_noop("At most %(count)s apps.") % {"count": MAX_APPS},
            details={"apps": "Too many."},
        )
    if len({app.team_id for app in apps}) > 1:
        raise Invalid(
            "mixed_teams",
            gettext_noop("The apps of a group belong to one team."),
            details={"apps": "Mixed teams."},
        )
    platforms = [app.platform_account.platform for app in apps]
    if len(set(platforms)) != len(platforms):
        raise Invalid(
            "same_platform",
            gettext_noop("A group ships one product to different platforms: name one app per platform."),
            details={"apps": "Two apps on one platform."},
        )


def release_group_create(
    *,
    apps: list[App],
    actor,
    version: str,
    release_notes: str = "",
    review_notes: str = "",
    build_report: dict | None = None,
    hold_on_rejection: bool = False,
    build: dict | None = None,
    code: dict[int, dict] | None = None,
    ip: str | None = None,
) -> ReleaseGroup:
    """The group and one draft per app, all or none (a refusal for one app creates nothing).

    `build` ({"build_commit", "build_branch", "build_ci_url"}) when the notes and report come from
    a CI build; `code` maps an app's id to the code its platform ships ({"template_id",
    "ext_json"}): each platform's template library is its own, so the template is per app."""
    _apps_of_one_product(apps)
    with transaction.atomic():
        group = ReleaseGroup.objects.create(
            team_id=apps[0].team_id,
            version=version.strip(),
            release_notes=release_notes,
            review_notes=review_notes,
            build_report=build_report or {},
            hold_on_rejection=hold_on_rejection,
            created_by=actor,
        )
        for app in apps:
            release = release_create(
                app=app,
                actor=actor,
                version=version,
                release_notes=release_notes,
                review_notes=review_notes,
                build_report=build_report,
                build=build,
                **(code or {}).get(app.pk, {}),
                ip=ip,
            )
            ReleaseGroupMember.objects.create(group=group, release=release)
        audit_record(
            action="release_group_create",
            actor=actor,
            target=group,
            team_id=group.team_id,
            data={"version": group.version, "apps": [app.pk for app in apps]},
            ip=ip,
        )
    return group


def group_members(group: ReleaseGroup):
    return [member.release for member in group.members.select_related("release__app__platform_account")]


def _held(group: ReleaseGroup, action: str) -> None:
    if action not in ("submit", "publish") or not group.hold_on_rejection:
        return
    rejected = [r.app.name for r in group_members(group) if r.state == State.REJECTED]
    if rejected:
        raise Refused(
            "group_held",
            gettext_noop(
                "The group waits: %(apps)s was rejected, and the team holds the group on a rejection."
            )
            % {"apps": ", ".join(rejected)},
        )


def release_group_act(*, group: ReleaseGroup, action: str, actor, ip: str | None = None) -> list[dict]:
    """Run `action` on every member that allows it; one result per member:
    {"release", "done", "code", "message"} (code and message say why a member was left alone)."""
    if action not in GROUP_ACTIONS:
        raise Invalid(
            "unknown_action",
            f"A group can {', '.join(GROUP_ACTIONS)}; act on the release for anything else.",
            details={"action": "Unknown."},
        )
    _held(group, action)
    results = []
    for release in group_members(group):
        offered = actions.availability(release, actor, actions.BY_NAME[action])
        if offered is None:
            results.append({"release": release.pk, "done": False, "code": "not_offered", "message": ""})
            continue
        if not offered.enabled:
            results.append(
                {"release": release.pk, "done": False, "code": offered.code, "message": str(offered.reason)}
            )
            continue
        try:
            actions.perform(release, action, actor=actor, payload={}, ip=ip)
        except SluiceError as exc:
            results.append({"release": release.pk, "done": False, "code": exc.code, "message": exc.message})
        else:
            results.append({"release": release.pk, "done": True, "code": "", "message": ""})
    return results
