"""Campaigns (issue 14): one template version to many apps of a platform account, in waves.

POST /campaigns creates one (with its plan against the monthly quota), POST /campaigns/{id}/{action}
moves it (start, approve, pause, resume, cancel, retry-failed, publish), GET /campaigns/{id}
shows every app; a rejection group is remediated and resubmitted as a whole.
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Query, Router, Schema, Status
from pydantic import BeforeValidator, Field

from releases import selectors
from releases.campaigns import groups, services
from releases.campaigns.preview import campaign_preview
from releases.campaigns.progress import campaign_out, campaigns_for
from releases.memo import in_read_scope
from web.api.core import client_ip, get_or_404
from web.api.paging import PageQuery, page
from web.api.schemas.common import (
    ERRORS,
    NO_NUL,
    SOME_TEXT,
    JsonObject,
    JsonValue,
    SomeText,
    Strict,
    Text,
    checked_text,
    no_nul_keys,
    not_a_boolean,
    page_of,
    text,
)
from web.api.schemas.releases import SEMVER, BuildReport

router = Router()
BIG = 2**63 - 1


class TagTargets(Strict):
    tags: list[SomeText] = Field(min_length=1, max_length=100)


class AppTargets(Strict):
    apps: list[Annotated[int, Field(ge=1, le=BIG), BeforeValidator(not_a_boolean)]] = Field(
        min_length=1, max_length=20_000
    )


class AllTargets(Strict):
    all: Literal[True]


class CampaignIn(Strict):
    platform_account: int = Field(ge=1, le=BIG)
    template_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        json_schema_extra={"pattern": SOME_TEXT},
        description="The platform's template id.",
    )
    version: str = Field(min_length=1, max_length=64, pattern=NO_NUL, json_schema_extra={"pattern": SEMVER})
    name: str = text(120)
    release_notes: str = text(10_000, description="A template: `{{ variable }}` placeholders.")
    review_notes: str = text(10_000, description="A template: `{{ variable }}` placeholders.")
    ext_json: JsonObject = Field(
        default_factory=dict,
        description="The ext.json template; a string that is just `{{ name }}` takes the variable's value.",
    )
    variables: Annotated[dict[Text, JsonObject], Field(json_schema_extra=no_nul_keys)] = Field(
        default_factory=dict,
        description='Per app, by appid: {"wx123": {"merchant_name": "Acme"}}. appid, app_name and '
        "merchant_name (the app's name) are always there.",
    )
    targets: TagTargets | AppTargets | AllTargets
    reserve: int | None = Field(
        None, ge=0, le=1_000_000, description="Submissions of the monthly quota never spent (default 5)."
    )
    build_report: BuildReport = Field(
        default_factory=dict, description="The template's build, for the checks."
    )


class PlanOut(Schema):
    submissions_needed: int
    quota_left: int | None
    reserve: int


class HaltOut(Schema):
    code: str
    message: str


class CampaignAppOut(Schema):
    app: int
    appid: str
    name: str
    release: int | None
    state: str
    held: str | None
    last_error: str | None
    wave: int | None
    qr_code: str | None = Field(
        None,
        description="The experience QR code, fetched after the commit (best effort): queued, fetched "
        "(the campaign page shows it), failed (qr_error says why), none; null before the commit.",
    )
    qr_error: str | None = None


class GroupAppOut(Schema):
    app: int
    appid: str
    name: str
    release: int
    parked: bool
    parked_until: datetime | None
    open_tasks: int
    resubmit_requested: bool


class GroupOut(Schema):
    key: str
    category: str
    reason: str
    apps: list[GroupAppOut]


class CampaignOut(Schema):
    id: int
    name: str
    state: str
    paused_from: str | None
    platform_account: int
    template_id: str
    version: str
    reserve: int
    plan: PlanOut
    halt: HaltOut | None
    waves: int
    created_by: str
    approved_by: str | None
    created_at: datetime
    counts: dict[str, int]
    held: dict[str, int]
    apps: list[CampaignAppOut]
    rejection_groups: list[GroupOut]


class CampaignSummaryOut(Schema):
    id: int
    name: str
    state: str
    platform_account: int
    template_id: str
    version: str
    apps: int
    created_at: datetime


CampaignPage = page_of(CampaignSummaryOut, "CampaignPage")


class CampaignActionIn(Schema):
    comment: str = checked_text(pattern=NO_NUL, required=False, json_schema_extra={"maxLength": 10_000})
    # publish: a rollout plan for every app, as POST /releases/{id}/publish takes it.
    rollout: JsonValue | None = None


class NoteIn(Strict):
    note: str = checked_text(200)


class GroupActionOut(GroupOut):
    tasks_done: int | None = None
    queued: int | None = None
    parked: list[str] | None = None


class PreviewAppOut(Schema):
    app: int
    appid: str
    name: str
    ext_json: JsonObject
    release_notes: str
    review_notes: str


class PreviewHeldOut(Schema):
    app: int
    appid: str
    name: str
    held: str
    error: str


class PreviewOut(Schema):
    apps: int
    samples: list[PreviewAppOut]
    held: list[PreviewHeldOut]
    held_count: int


def _summary(campaign) -> dict:
    return {
        "id": campaign.pk,
        "name": str(campaign),
        "state": campaign.state,
        "platform_account": campaign.platform_account_id,
        "template_id": campaign.template_id,
        "version": campaign.version,
        "apps": campaign.entries.count(),
        "created_at": campaign.created_at,
    }


@router.post("/campaigns", response={201: CampaignOut, **ERRORS}, tags=["campaigns"])
def create_campaign(request, payload: CampaignIn):
    """A campaign in draft: one entry per targeted app (apps whose authorization was lost are
    listed, held back; an app whose ext.json cannot be rendered is held back with the error).
    `plan` says how many submissions it needs, how many are left this month and the reserve it
    keeps; the campaign never spends the reserve. Then `start`."""
    account = get_or_404(selectors.platform_accounts_for(request.user), payload.platform_account)
    data = payload.model_dump(exclude={"platform_account"})
    campaign, _plan = services.campaign_create(
        account=account, actor=request.user, ip=client_ip(request), **data
    )
    return Status(201, campaign_out(campaigns_for(request.user).get(pk=campaign.pk)))


@router.post("/campaigns/preview", response={200: PreviewOut, **ERRORS}, tags=["campaigns"])
def preview_campaign(request, payload: CampaignIn):
    """A dry run of POST /campaigns with the same body: the rendered ext.json, release notes and
    review notes of the first few apps, and every app that would be held back (a render error, a
    lost authorization; the first 50 listed, all counted). Nothing is created or asked of WeChat."""
    account = get_or_404(selectors.platform_accounts_for(request.user), payload.platform_account)
    data = payload.model_dump(exclude={"platform_account", "name", "reserve", "build_report"})
    return campaign_preview(account=account, actor=request.user, **data)


@router.get("/campaigns", response={200: CampaignPage, **ERRORS}, tags=["campaigns"])
def list_campaigns(request, paging: Query[PageQuery]):
    return page(request, campaigns_for(request.user).order_by("-pk"), paging, _summary)


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, tags=["campaigns"])
@in_read_scope
def get_campaign(request, campaign_id: int):
    """Counts by state, every app's state, hold and last error, the rejection groups."""
    return campaign_out(get_or_404(campaigns_for(request.user), campaign_id))


Action = Literal["start", "approve", "pause", "resume", "cancel", "retry-failed", "publish"]


@router.post("/campaigns/{campaign_id}/{action}", response={200: CampaignOut, **ERRORS}, tags=["campaigns"])
def campaign_action(request, campaign_id: int, action: Action, payload: CampaignActionIn | None = None):
    """`start` (developers) creates each app's release and runs its checks, ticking each app's
    manual checklist on the starter's word; `approve` (a release manager who neither created nor
    started it, else 403 `self_approval`) approves every checked release and starts the waves;
    `publish` (optional `rollout`) publishes each app the platform approved; `pause`, `resume`,
    `cancel` (releases not yet submitted are cancelled); `retry-failed` retries only the apps that
    failed. A campaign in the wrong state is a 409 `invalid_state`."""
    campaign = get_or_404(campaigns_for(request.user), campaign_id)
    body = payload.model_dump() if payload else {}
    ip, actor = client_ip(request), request.user
    if action == "approve":
        services.campaign_approve(campaign=campaign, actor=actor, comment=body.get("comment") or "", ip=ip)
    elif action == "publish":
        services.campaign_publish(campaign=campaign, actor=actor, rollout=body.get("rollout"), ip=ip)
    elif action == "retry-failed":
        services.campaign_retry_failed(campaign=campaign, actor=actor, ip=ip)
    else:
        getattr(services, f"campaign_{action}")(campaign=campaign, actor=actor, ip=ip)
    return campaign_out(campaigns_for(request.user).get(pk=campaign.pk))


GroupAction = Literal["remediate", "resubmit"]


@router.post(
    "/campaigns/{campaign_id}/rejection-groups/{key}/{action}",
    response={200: GroupActionOut, **ERRORS},
    tags=["campaigns"],
)
def group_action(request, campaign_id: int, key: str, action: GroupAction, payload: NoteIn | None = None):
    """`remediate` (`{"note"}`, at most 200 characters: it is also the explanation sent to the
    reviewer) completes every open remediation task of the group's releases; `resubmit` sends the
    group back into the waves (409 `remediation_incomplete` while tasks are open). Apps parked
    by the same-reason lock stay parked and are listed in `parked`."""
    campaign = get_or_404(campaigns_for(request.user), campaign_id)
    if action == "remediate":
        note = payload.note if payload else ""
        return groups.campaign_group_remediate(
            campaign=campaign, key=key, actor=request.user, note=note, ip=client_ip(request)
        )
    return groups.campaign_group_resubmit(
        campaign=campaign, key=key, actor=request.user, ip=client_ip(request)
    )
