"""Release groups: one version shipped to several platforms side by side (issue 16).

`POST /release-groups` creates the group and one draft per app; `GET /release-groups/{id}` says
where each platform stands; `POST /release-groups/{id}/{action}` (check, approve, submit,
publish) acts on every member that allows it and says, per member, what it did or why not.
"""

from ninja import Router, Schema, Status
from pydantic import Field

from releases import selectors
from releases.errors import NotFound
from releases.group_services import group_members, release_group_act, release_group_create
from releases.models import ReleaseGroup
from web.api.core import client_ip, get_or_404
from web.api.schemas.common import ERRORS, NO_NUL, Id, Strict, text
from web.api.schemas.releases import SEMVER, BuildReport

router = Router()


class ReleaseGroupIn(Strict):
    version: str = Field(min_length=1, max_length=64, pattern=NO_NUL, json_schema_extra={"pattern": SEMVER})
    release_notes: str = text(10_000)
    review_notes: str = text(10_000)
    build_report: BuildReport = Field(default_factory=dict)
    apps: list[Id] = Field(min_length=1, max_length=10, description="One app per platform, of one team.")
    hold_on_rejection: bool = Field(
        False, description="A rejection on one platform holds the group's submit and publish for all."
    )


class GroupMemberOut(Schema):
    app: int
    app_name: str
    platform: str
    release: int
    state: str


class ReleaseGroupOut(Schema):
    id: int
    version: str
    release_notes: str
    hold_on_rejection: bool
    releases: list[GroupMemberOut]


class GroupMemberResult(Schema):
    release: int
    done: bool
    code: str
    message: str


class GroupActionOut(ReleaseGroupOut):
    results: list[GroupMemberResult]


def group_out(group: ReleaseGroup) -> dict:
    return {
        "id": group.pk,
        "version": group.version,
        "release_notes": group.release_notes,
        "hold_on_rejection": group.hold_on_rejection,
        "releases": [
            {
                "app": release.app_id,
                "app_name": release.app.name,
                "platform": release.app.platform_account.platform,
                "release": release.pk,
                "state": release.state,
            }
            for release in group_members(group)
        ],
    }


def groups_for(user):
    return ReleaseGroup.objects.filter(team_id__in=selectors.team_ids_for(user))


@router.post("/release-groups", response={201: ReleaseGroupOut, **ERRORS}, tags=["release groups"])
def create_release_group(request, payload: ReleaseGroupIn):
    """Apps of one product on different platforms (one per platform) -> the group and one release each."""
    visible = {app.pk: app for app in selectors.apps_for(request.user).select_related("platform_account")}
    missing = [pk for pk in payload.apps if pk not in visible]
    if missing:
        raise NotFound("not_found", "No such apps, or not yours.", details={"apps": missing})
    group = release_group_create(
        apps=[visible[pk] for pk in dict.fromkeys(payload.apps)],
        actor=request.user,
        ip=client_ip(request),
        **payload.model_dump(exclude={"apps"}),
    )
    return Status(201, group_out(group))


@router.get("/release-groups/{group_id}", response={200: ReleaseGroupOut, **ERRORS}, tags=["release groups"])
def get_release_group(request, group_id: int):
    return group_out(get_or_404(groups_for(request.user), group_id))


@router.post(
    "/release-groups/{group_id}/{action}", response={200: GroupActionOut, **ERRORS}, tags=["release groups"]
)
def release_group_action(request, group_id: int, action: str):
    """check, approve, submit or publish every member that allows it; each result says what happened."""
    group = get_or_404(groups_for(request.user), group_id)
    results = release_group_act(group=group, action=action, actor=request.user, ip=client_ip(request))
    return {**group_out(group), "results": results}
