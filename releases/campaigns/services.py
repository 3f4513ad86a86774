"""Writes of a campaign: campaign_<action>, each one atomic block with its audit event.

Who may do what: developers create and start a campaign (starting ticks each app's manual
checklist on the starter's word, since every app runs the same template); one release manager
who neither created nor started it approves it for every app (four eyes, once); release managers
publish, pause, resume, cancel, retry the failed apps and resubmit a rejection group; developers
remediate a group. The driver (releases.campaigns.driver) does the per-app work afterwards.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases import rollout as phased
from releases.audit import audit_record
from releases.campaigns import plan as planning
from releases.campaigns.models import DRIVEN, ENDED, Campaign, CampaignApp, CampaignState, Held
from releases.campaigns.render import RenderError, render_json, render_text, variables_for
from releases.draft_services import _validate_build_report
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.models import App, Role, State, english
from releases.transitions import _require_role
from releases.versioning import parse

MAX_TEXT = 10_000
# Release states a cancelled campaign cancels (what is in review or approved by the platform is
# left to finish: cancelling cannot take back a submission).
CANCELLED_WITH_CAMPAIGN = (
    State.DRAFT,
    State.CHECKED,
    State.SUBMIT_FAILED,
    State.REJECTED,
    State.WITHDRAWN,
    State.EXPIRED,
)
RETRIED_STATES = (State.SUBMIT_FAILED, State.PUBLISH_FAILED)
RETRIED_HELD = (Held.NOT_CREATED, Held.CHECKS_FAILED, Held.REFUSED, Held.APPROVAL_INCOMPLETE)


def _audit(campaign: Campaign, action: str, actor, *, data: dict | None = None, ip=None, from_state=""):
    audit_record(
        action=action,
        actor=actor,
        target=campaign,
        team_id=campaign.team_id,
        from_state=from_state,
        to_state=campaign.state,
        data={"campaign": campaign.pk, **(data or {})},
        ip=ip,
    )


def _enqueue(campaign: Campaign) -> None:
    from releases.campaigns.jobs import enqueue_drive

    enqueue_drive(campaign.pk)


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _refuse_state(campaign: Campaign, allowed, doing: str) -> None:
    if campaign.state not in allowed:
        raise Refused(
            "invalid_state",
            gettext_noop("A campaign that is %(state)s cannot %(doing)s.")
            % {"state": english(CampaignState(campaign.state).label).lower(), "doing": doing},
        )


# -- create ------------------------------------------------------------------------------------


def _validate(template_id, version, ext_json, variables, targets, reserve) -> tuple[str, str]:
    template_id = (template_id or "").strip() if isinstance(template_id, str) else ""
    if not template_id or len(template_id) > 64:
        raise Invalid(
            "invalid_template",
            "Name the template by its platform template_id (at most 64 characters).",
            details={"template_id": "Required."},
        )
    version = (version or "").strip() if isinstance(version, str) else ""
    if parse(version) is None:
        raise Invalid(
            "invalid_version",
            f"“{version}” is not a semantic version such as 1.4.0.",
            details={"version": "Use MAJOR.MINOR.PATCH, e.g. 1.4.0."},
        )
    if not isinstance(ext_json, dict):
        raise Invalid(
            "invalid_ext_json", "ext_json must be a JSON object.", details={"ext_json": "An object."}
        )
    if not isinstance(variables, dict) or not all(isinstance(v, dict) for v in variables.values()):
        raise Invalid(
            "invalid_variables",
            "variables must map each appid to an object of its variables.",
            details={"variables": 'e.g. {"wx123": {"merchant_name": "Acme"}}'},
        )
    if (
        not isinstance(targets, dict)
        or len(targets) != 1
        or next(iter(targets)) not in ("tags", "apps", "all")
    ):
        raise Invalid(
            "invalid_targets",
            'targets must be one of {"tags": [...]}, {"apps": [ids]} or {"all": true}.',
            details={"targets": "Exactly one of tags, apps, all."},
        )
    if reserve is not None and (isinstance(reserve, bool) or not isinstance(reserve, int) or reserve < 0):
        raise Invalid(
            "invalid_reserve", "reserve must be a whole number, 0 or more.", details={"reserve": ">= 0"}
        )
    return template_id, version


def _targeted(account, targets: dict) -> list[App]:
    apps = App.objects.filter(platform_account=account).order_by("name", "pk")
    kind, value = next(iter(targets.items()))
    if kind == "all":
        if value is not True:
            raise Invalid(
                "invalid_targets", 'Write {"all": true} to target every app.', details={"targets": "all"}
            )
        return list(apps)
    if not isinstance(value, list) or not value:
        raise Invalid(
            "invalid_targets", f"targets.{kind} must be a non-empty list.", details={"targets": kind}
        )
    if kind == "tags":
        if not all(isinstance(tag, str) and tag.strip() for tag in value):
            raise Invalid("invalid_targets", "Tags are names (text).", details={"targets": "tags"})
        return list(apps.filter(tags__name__in=[tag.strip() for tag in value]).distinct())
    if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in value):
        raise Invalid("invalid_targets", "targets.apps lists app ids (numbers).", details={"targets": "apps"})
    found = list(apps.filter(pk__in=value))
    unknown = sorted(set(value) - {app.pk for app in found})
    if unknown:
        raise NotFound(
            "unknown_apps",
            f"These apps are not apps of {account.name}: {', '.join(map(str, unknown))}.",
            details={"targets": "apps"},
        )
    return found


def _entry(campaign: Campaign, app: App, position: int) -> CampaignApp:
    entry = CampaignApp(campaign=campaign, app=app, position=position)
    if app.authorization_lost_at is not None:
        entry.held = Held.AUTHORIZATION_LOST
        entry.last_error = app.authorization_problem or "The app's authorization was lost; re-authorize it."
        return entry
    names = variables_for(app, campaign.variables)
    try:
        entry.ext_json = render_json(campaign.ext_json, names)
        render_text(campaign.release_notes, names)
        render_text(campaign.review_notes, names)
    except RenderError as exc:
        entry.held, entry.last_error = Held.RENDER_FAILED, exc.message
    return entry


def campaign_create(
    *,
    account,
    actor,
    template_id: str,
    version: str,
    release_notes: str = "",
    review_notes: str = "",
    ext_json=None,
    variables=None,
    targets=None,
    reserve: int | None = None,
    build_report=None,
    name: str = "",
    ip: str | None = None,
) -> tuple[Campaign, planning.Plan]:
    """A campaign in draft, one entry per targeted app, with its plan against the quota.

    Apps whose authorization is lost are listed, held back; an app whose ext.json or notes cannot
    be rendered is held back with the error. Reading the quota is a platform call when it was
    never read, so it is made before the transaction.
    """
    from django.conf import settings

    _require_role(actor, account.team_id, Role.DEVELOPER, "create a campaign")
    ext_json = {} if ext_json is None else ext_json
    variables = {} if variables is None else variables
    template_id, version = _validate(template_id, version, ext_json, variables, targets, reserve)
    for label, value in (("release_notes", release_notes), ("review_notes", review_notes), ("name", name)):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise Invalid("invalid_field", f"{label} is text of at most {MAX_TEXT} characters.")
    build_report = _validate_build_report(build_report or {})
    apps = _targeted(account, targets)
    if not apps:
        raise Refused("no_apps", gettext_noop("No app of this platform account matches the targets."))
    left = planning.quota_left(account)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            team_id=account.team_id,
            platform_account=account,
            name=name.strip()[:120],
            template_id=template_id,
            version=version,
            release_notes=release_notes,
            review_notes=review_notes,
            ext_json=ext_json,
            variables=variables,
            targets=targets,
            build_report=build_report,
            reserve=settings.SLUICE_CAMPAIGN_RESERVE if reserve is None else reserve,
            created_by=actor,
        )
        entries = CampaignApp.objects.bulk_create(_entry(campaign, app, n) for n, app in enumerate(apps))
        plan = planning.plan_for(campaign, quota=left)
        held = sum(1 for entry in entries if entry.held)
        _audit(
            campaign,
            "campaign_create",
            actor,
            data={
                "template_id": template_id,
                "version": version,
                "apps": len(entries),
                "held": held,
                **plan.as_dict(),
            },
            ip=ip,
        )
    return campaign, plan


# -- the lifecycle -----------------------------------------------------------------------------


def campaign_start(*, campaign: Campaign, actor, ip: str | None = None) -> Campaign:
    """Create every app's release and run its checks (the driver does it, app by app)."""
    _require_role(actor, campaign.team_id, Role.DEVELOPER, "start a campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_state(campaign, (CampaignState.DRAFT,), gettext_noop("be started"))
        campaign.state, campaign.started_by = CampaignState.PREPARING, actor
        campaign.save(update_fields=["state", "started_by", "updated_at"])
        _audit(campaign, "campaign_start", actor, ip=ip, from_state=CampaignState.DRAFT)
        _enqueue(campaign)
    return campaign


def campaign_approve(*, campaign: Campaign, actor, comment: str = "", ip: str | None = None) -> Campaign:
    """One approval for every app, by a release manager who neither created nor started it. The
    driver approves each app's checked release in this person's name; apps whose checks failed,
    or whose policy wants more approvers, are held back one by one."""
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "approve a campaign")
    if actor.pk in (campaign.created_by_id, campaign.started_by_id):
        raise Forbidden(
            "self_approval",
            gettext_noop("You created or started this campaign; another release manager must approve it."),
        )
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_state(
            campaign, (CampaignState.PREPARING, CampaignState.AWAITING_APPROVAL), gettext_noop("be approved")
        )
        from_state = campaign.state
        campaign.state, campaign.approved_by, campaign.approved_at = (
            CampaignState.SUBMITTING,
            actor,
            timezone.now(),
        )
        campaign.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
        _audit(campaign, "campaign_approve", actor, data={"comment": comment}, ip=ip, from_state=from_state)
        _enqueue(campaign)
    return campaign


def campaign_publish(*, campaign: Campaign, actor, rollout=None, ip: str | None = None) -> Campaign:
    """Publish every app the platform approved, now and as the others are approved (in waves);
    `rollout`: a phased plan for each (releases.rollout), a full release by default."""
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "publish a campaign")
    plan = phased.parse_plan(rollout) if rollout is not None else None
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_state(campaign, (CampaignState.SUBMITTING,), gettext_noop("be published"))
        campaign.state, campaign.published_by = CampaignState.PUBLISHING, actor
        campaign.rollout = rollout if plan is not None else None
        campaign.save(update_fields=["state", "published_by", "rollout", "updated_at"])
        data = {"plan": phased.plan_text(plan["plan"])} if plan else {}
        _audit(campaign, "campaign_publish", actor, data=data, ip=ip, from_state=CampaignState.SUBMITTING)
        _enqueue(campaign)
    return campaign


def campaign_pause(*, campaign: Campaign, actor, ip: str | None = None) -> Campaign:
    """No new release, submission or publication until resumed; steps already started finish."""
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "pause a campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_state(campaign, DRIVEN, gettext_noop("be paused"))
        from_state = campaign.state
        campaign.paused_from, campaign.state = from_state, CampaignState.PAUSED
        campaign.save(update_fields=["state", "paused_from", "updated_at"])
        _audit(campaign, "campaign_pause", actor, ip=ip, from_state=from_state)
    return campaign


def campaign_resume(*, campaign: Campaign, actor, ip: str | None = None) -> Campaign:
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "resume a campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        _refuse_state(campaign, (CampaignState.PAUSED,), gettext_noop("be resumed"))
        campaign.state, campaign.paused_from = campaign.paused_from or CampaignState.PREPARING, ""
        campaign.save(update_fields=["state", "paused_from", "updated_at"])
        _audit(campaign, "campaign_resume", actor, ip=ip, from_state=CampaignState.PAUSED)
        _enqueue(campaign)
    return campaign


def campaign_cancel(*, campaign: Campaign, actor, ip: str | None = None) -> Campaign:
    """Stop for good: releases not yet submitted are cancelled (each audited); reviews already
    under way are left to finish, since cancelling cannot take back a submission."""
    from releases.step_services import release_cancel

    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "cancel a campaign")
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state in ENDED:
            _refuse_state(campaign, (), gettext_noop("be cancelled"))
        from_state = campaign.state
        cancelled = 0
        entries = campaign.entries.select_related("release__app").filter(
            release__state__in=CANCELLED_WITH_CAMPAIGN
        )
        for entry in entries:
            try:
                release_cancel(release=entry.release, actor=actor, ip=ip)
            except Refused:  # it moved meanwhile (a step finished): left as it is now
                continue
            cancelled += 1
        campaign.state, campaign.paused_from = CampaignState.CANCELLED, ""
        campaign.save(update_fields=["state", "paused_from", "updated_at"])
        _audit(
            campaign,
            "campaign_cancel",
            actor,
            data={"releases_cancelled": cancelled},
            ip=ip,
            from_state=from_state,
        )
    return campaign


def campaign_retry_failed(*, campaign: Campaign, actor, ip: str | None = None) -> int:
    """Try again only the apps that failed: a failed submission or publication (retried by the
    driver, within the quota and the call rate), a release that could not be created, checks
    that failed, an approval that did not take. Everything else is left as it is."""
    _require_role(actor, campaign.team_id, Role.RELEASE_MANAGER, "retry a campaign's failed apps")
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state in ENDED:
            _refuse_state(campaign, (), gettext_noop("retry its failed apps"))
        failed_steps = campaign.entries.filter(release__state__in=RETRIED_STATES)
        steps = failed_steps.update(retry_requested=True, held="", last_error="")
        held = campaign.entries.filter(held__in=RETRIED_HELD).update(
            held="", last_error="", retry_requested=True
        )
        _audit(
            campaign,
            "campaign_retry_failed",
            actor,
            data={"apps": steps + held},
            ip=ip,
            from_state=campaign.state,
        )
        _enqueue(campaign)
    return steps + held
