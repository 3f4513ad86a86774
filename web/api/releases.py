"""Releases: an app's list, create, read, edit, the audit events, and the actions that move a
release through its states."""

from datetime import UTC, datetime

from ninja import Query, Router, Schema, Status
from pydantic import Field, field_validator

from releases import actions, selectors
from releases.memo import in_read_scope
from releases.models import AuditEvent, Platform, Release, State
from releases.services import release_create, release_update
from web.api.core import client_ip, get_or_404
from web.api.paging import PageQuery, page
from web.api.release_out import event_out, release_out, release_summaries, summary_out
from web.api.schemas.common import ERRORS, page_of
from web.api.schemas.releases import (
    ActionIn,
    EventOut,
    ReleaseIn,
    ReleaseOut,
    ReleasePageOut,
    ReleasePatch,
)

router = Router()
EventPage = page_of(EventOut, "EventPage")


@router.get("/apps/{app_id}/releases", response={200: ReleasePageOut, **ERRORS}, tags=["releases"])
def list_releases(request, app_id: int, paging: Query[PageQuery]):
    """The app's releases, newest first: `next` is the path of the following page (null on the
    last). Each row is a summary; GET /releases/{id} has checks, approvals, actions."""
    app = get_or_404(selectors.apps_for(request.user), app_id)
    rows = release_summaries(Release.objects.filter(app=app)).order_by("-created_at", "-pk")
    return page(request, rows, paging, summary_out)


class ReleaseFilters(Schema):
    state: State | None = Field(None, description="Only releases in this state.")
    platform: Platform | None = Field(None, description="Only releases of apps on this platform.")
    updated_since: datetime | None = Field(
        None, description="Only releases changed at or after this time (UTC unless an offset is given)."
    )
    app: int | None = Field(None, ge=1, le=2**63 - 1, description="Only this app's releases.")

    @field_validator("updated_since")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """In UTC; a moment before year 1 or after 9999 there is the start or the end of time."""
        if value is None:
            return None
        try:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            return (datetime.min if value.year < 5000 else datetime.max).replace(tzinfo=UTC)


@router.get("/releases", response={200: ReleasePageOut, **ERRORS}, tags=["releases"])
def list_all_releases(request, filters: Query[ReleaseFilters], paging: Query[PageQuery]):
    """The releases of every app of the caller's teams, newest first, with the filters of the
    release list page; summaries, paged like every list."""
    releases = Release.objects.filter(app__team_id__in=selectors.team_ids_for(request.user))
    if filters.state:
        releases = releases.filter(state=filters.state)
    if filters.app is not None:
        releases = releases.filter(app_id=filters.app)
    if filters.platform:
        releases = releases.filter(app__platform_account__platform=filters.platform)
    if filters.updated_since:
        releases = releases.filter(updated_at__gte=filters.updated_since)
    return page(request, release_summaries(releases).order_by("-pk"), paging, summary_out)


@router.post("/apps/{app_id}/releases", response={201: ReleaseOut, **ERRORS}, tags=["releases"])
def create_release(request, app_id: int, payload: ReleaseIn):
    app = get_or_404(selectors.apps_for(request.user), app_id)
    release = release_create(app=app, actor=request.user, ip=client_ip(request), **payload.model_dump())
    return Status(201, release_out(release, request.user))


@router.get("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
@in_read_scope
def get_release(request, release_id: int):
    return release_out(get_or_404(selectors.releases_for(request.user), release_id), request.user)


@router.patch("/releases/{release_id}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def update_release(request, release_id: int, payload: ReleasePatch):
    """Edit the content, based on `revision` (required): if the release is no longer at that
    revision the answer is a 409 `stale_revision` and nothing changes; GET it again and redo the edit.
    """
    release = get_or_404(selectors.releases_for(request.user), release_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if "target_date" in payload.model_fields_set:  # null clears the planned date
        changes["target_date"] = payload.target_date
    revision = changes.pop("revision")
    release = release_update(
        release=release, actor=request.user, changes=changes, revision=revision, ip=client_ip(request)
    )
    return release_out(release, request.user)


@router.get("/releases/{release_id}/events", response={200: EventPage, **ERRORS}, tags=["releases"])
def release_events(request, release_id: int, paging: Query[PageQuery]):
    """The release's audit events, oldest first."""
    release = get_or_404(selectors.releases_for(request.user), release_id)
    events = AuditEvent.objects.filter(release_id=release.pk).order_by("id")
    return page(request, events, paging, event_out)


@router.post("/releases/{release_id}/{action}", response={200: ReleaseOut, **ERRORS}, tags=["releases"])
def release_action(request, release_id: int, action: str, payload: ActionIn | None = None):
    """Actions: check, approve, override-approval, send-back, submit, record-outcome, withdraw,
    speedup, publish, rollout-advance, rollout-pause, rollout-resume, rollout-revert, rollback,
    retry, cancel.

    `publish` takes an optional `rollout`, a plan overriding the app's default
    (`settings.rollout_plan`, else a full release): `[{"percentage": 5, "hold_minutes": 120},
    {"percentage": 20, "hold_minutes": 480}, {"percentage": 100}]`, or `{"plan": [...],
    "experiencer_first": true, "debuger_first": false}`; percentages only increase and end at
    100 (else 400 `invalid_rollout`). The release's `rollout` then shows {status, stage,
    percentage, next_stage_at, plan}; the scheduler advances each stage when its hold ends.
    `rollout-advance` moves to the next stage now; `rollout-pause` / `rollout-resume` stop and
    restart the scheduler; `rollout-revert` (required `reason`) takes the version back from the
    users who got it and returns the release to approved. `rollback` takes a required `reason`
    and optionally `app_version` (one of the platform's five most recent); refused while another
    version is in a phased release (409 `phased_release_running`), without an earlier version
    (`no_previous_version`) or right after a rollback (`rollback_twice`). `speedup` (required
    `reason`) spends the month's speed-up quota: 409 `speedup_exhausted` when none is left, the
    platform's refusal (e.g. `wechat_89402`) when it refuses.

    Outside the app's publish window (`settings.publish_window`, else the team's policy: weekly
    windows in Beijing time, China's holidays and make-up working days, freezes) `publish` is a
    409 `outside_publish_window` whose message and `details.lifts_at` name the next opening; a
    team admin may override with `override_reason` (audited). `schedule-publish` takes `at`
    (ISO-8601, or "next window") and optionally `rollout`; the scheduler publishes it then.
    `unschedule` cancels it.

    `check` runs the fast checks at once; slow ones (privacy policy, platform scan) run in a
    worker: the answer is then 200 with the release still in draft, `check_run.pending` > 0
    and those checks "pending"; poll `GET /releases/{id}` until `check_run.finished_at` is
    set. The release moves to `checked` when the run passes and every manual checklist item
    is ticked (`POST /releases/{id}/checks/{key}/confirm`), whichever comes last.
    `approve` takes `comment` and optionally `capacity` (release_manager, qa, product);
    `override-approval` (team admins) takes a required `reason`; `send-back` takes
    `comment`; `record-outcome` (manual platform) takes `outcome` (approved, rejected,
    delayed) and `reason`. `approve` and `override-approval` take an optional `revision`, the one
    the approver read: another is a 409 `stale_revision`. Nobody who created or edited the content
    approves it (403 `self_approval`). A refused action is a 409 whose code names the guard (e.g.
    `approval_required`, `checks_failed`, `checklist_incomplete`, `qualification_expired`,
    `review_in_progress`).
    """
    release = get_or_404(selectors.releases_for(request.user), release_id)
    actions.perform(
        release, action, actor=request.user, payload=payload.dict() if payload else {}, ip=client_ip(request)
    )
    release = selectors.releases_for(request.user).get(pk=release.pk)
    return release_out(release, request.user)
