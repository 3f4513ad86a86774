"""The campaign driver: one RQ job run moves every app of a campaign as far as it can go now.

Claimed: a run takes the campaign with one conditional UPDATE under a lease, so two runs (a cron
tick and a service's enqueue, two workers) never drive it at once; a killed run's lease runs out
and the next tick takes over. Idempotent: what to do next is read from each release's state
(created? checked? approved? submitted?), never from a counter the run would have to keep, and
each per-app write (the release and its campaign row) is one transaction, so a run killed between
two apps leaves nothing half-done. The platform calls themselves happen in the release steps
(releases.step_services), which are claimed and reconcile with the platform before repeating a
call that may have taken effect.

Waves: the submissions of one run, at most SLUICE_CAMPAIGN_WAVE_SIZE, started only once the
previous wave left `submitting`; each takes a token of the account's call-rate bucket; none
spends the quota's reserve; an app with a release in review elsewhere, or parked by the
same-reason lock, is held. After 45009 or -1 on any of the campaign's steps, no new step starts
until the backoff is over.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases import approvals
from releases.audit import audit_record
from releases.campaigns import plan as planning
from releases.campaigns import ratelimit
from releases.campaigns.models import DRIVEN, Campaign, CampaignApp, CampaignState, Held
from releases.campaigns.qr import qr_codes_queue
from releases.campaigns.render import render_text, variables_for
from releases.errors import Refused, SluiceError
from releases.gate.facts import checklist_of, latest_check_runs
from releases.limits import clock, lock_refusal
from releases.models import IN_REVIEW, Approval, Capacity, Release, State
from releases.platforms import has_monthly_quota

logger = logging.getLogger(__name__)

# Transient platform answers that mean "slower": the daily call limit and "system busy".
BACKOFF_CODES = ("wechat_45009", "wechat_-1", "wechat_45011")
# Answers that spend the whole account's budget: the campaign halts instead of trying others.
BUDGET_CODES = ("wechat_85085", "quota_exhausted")
ACTIVE = (
    State.DRAFT,
    State.CHECKED,
    State.SUBMITTING,
    State.SUBMITTED,
    State.APPROVED,
    State.PUBLISHING,
    State.ROLLING_OUT,
    State.WITHDRAWING,
    State.REVERTING,
)


# -- the claim ---------------------------------------------------------------------------------


def claim(campaign_id: int) -> str | None:
    now = timezone.now()
    token = secrets.token_hex(8)
    taken = Campaign.objects.filter(
        Q(driver_lease_until__isnull=True) | Q(driver_lease_until__lte=now), pk=campaign_id, state__in=DRIVEN
    ).update(
        driver_claim=token, driver_lease_until=now + timedelta(seconds=settings.SLUICE_CAMPAIGN_LEASE_SECONDS)
    )
    return token if taken else None


def _unclaim(campaign_id: int, token: str) -> None:
    Campaign.objects.filter(pk=campaign_id, driver_claim=token).update(
        driver_claim="", driver_lease_until=None
    )


# -- the run -----------------------------------------------------------------------------------


def campaign_drive(campaign_id: int) -> bool | None:
    """One run; None when another run holds the campaign (or it is not driven now), else whether
    work is left that a later run will do (pending checks, reviews, waves still to come)."""
    token = claim(campaign_id)
    if token is None:
        return None
    try:
        campaign = Campaign.objects.select_related("platform_account", "team").get(pk=campaign_id)
        halt = Halt()
        _prepare(campaign)
        if campaign.approved_by_id:
            _approve(campaign)
        if campaign.state in (CampaignState.SUBMITTING, CampaignState.PUBLISHING):
            _submit_wave(campaign, halt)
        if campaign.state == CampaignState.PUBLISHING:
            _publish_wave(campaign, halt)
        qr_codes_queue(campaign)  # best effort, after each app's commit; never holds an app
        _settle(campaign)
        Campaign.objects.filter(pk=campaign.pk).update(
            halt_code=halt.code,
            halt_message=halt.message,
            waves=campaign.waves,
            backoff_until=campaign.backoff_until,
            backoff_step=campaign.backoff_step,
        )
        return Campaign.objects.filter(pk=campaign.pk, state__in=DRIVEN).exists()
    finally:
        _unclaim(campaign_id, token)


class Halt:
    """What stops the campaign for now, shown on its page (the first reason found wins)."""

    code = ""
    message = ""

    def set(self, code: str, message: str) -> None:
        if not self.code:
            self.code, self.message = code, message


def _still_driven(campaign: Campaign) -> bool:
    """A pause or cancel made while this run works: stop before the next app."""
    state = Campaign.objects.filter(pk=campaign.pk).values_list("state", flat=True).first()
    return state == campaign.state


def _hold(entry: CampaignApp, held: str, error: str = "") -> None:
    entry.held, entry.last_error = held, error
    CampaignApp.objects.filter(pk=entry.pk).update(held=held, last_error=error, updated_at=timezone.now())


# -- prepare: a release per app, its checklist ticked, its checks run --------------------------


def _create_release(campaign: Campaign, entry: CampaignApp) -> None:
    from releases.draft_services import release_create

    names = variables_for(entry.app, campaign.variables)
    try:
        with transaction.atomic():
            release = release_create(
                app=entry.app,
                actor=campaign.started_by,
                version=campaign.version,
                release_notes=render_text(campaign.release_notes, names),
                review_notes=render_text(campaign.review_notes, names),
                build_report=campaign.build_report,
                template_id=campaign.template_id,
                ext_json=entry.ext_json,
            )
            CampaignApp.objects.filter(pk=entry.pk, release__isnull=True).update(
                release=release, held="", last_error=""
            )
            entry.release = release
    except SluiceError as exc:
        _hold(entry, Held.NOT_CREATED, exc.message)


def _run_checks(campaign: Campaign, entry: CampaignApp) -> None:
    from releases.draft_services import release_check, release_confirm_check

    release = entry.release
    actor = campaign.started_by
    try:
        for item in checklist_of(release.app):  # one template, vouched for once by the starter
            release_confirm_check(release=release, actor=actor, key=item["key"])
        release.refresh_from_db()
        if release.state != State.DRAFT:
            return
        run = latest_check_runs([release.pk]).get(release.pk)
        if run is None or not run.counts_for(release) or entry.retry_requested:
            CampaignApp.objects.filter(pk=entry.pk).update(retry_requested=False)
            release_check(release=release, actor=actor)
        elif run.finished_at is not None and not run.passed:
            failing = "; ".join(row.title for row in run.blocking)
            _hold(
                entry,
                Held.CHECKS_FAILED,
                gettext_noop("%(count)s check(s) failed: %(checks)s.")
                % {"count": len(run.blocking), "checks": failing},
            )
    except Refused as exc:
        _hold(entry, Held.CHECKS_FAILED if exc.code == "checks_failed" else Held.REFUSED, exc.message)
    except SluiceError as exc:
        _hold(entry, Held.REFUSED, exc.message)


def _prepare(campaign: Campaign) -> None:
    entries = campaign.entries.select_related("app", "release__app__platform_account").filter(held="")
    for entry in entries.filter(release__isnull=True):
        if not _still_driven(campaign):
            return
        _create_release(campaign, entry)
    for entry in entries.filter(release__state=State.DRAFT):
        if not _still_driven(campaign):
            return
        _run_checks(campaign, entry)


# -- approve: the campaign's one approval, on each checked release -----------------------------


def _approve(campaign: Campaign) -> None:
    from releases.approval_services import release_approve

    mine = Approval.objects.filter(
        release_id=OuterRef("release_id"),
        revision=OuterRef("release__revision"),
        approver=campaign.approved_by,
    )
    entries = (
        campaign.entries.select_related("release__app")
        .filter(held__in=("", Held.APPROVAL_INCOMPLETE), release__state=State.CHECKED)
        .exclude(Q(held="") & Exists(mine))  # approved by this campaign already: nothing to read
    )
    for entry in entries:
        release = entry.release
        if release.is_approved():
            continue
        try:
            release_approve(
                release=release,
                actor=campaign.approved_by,
                comment=f"Campaign #{campaign.pk}",
                capacity=Capacity.RELEASE_MANAGER,
            )
        except Refused as exc:
            if exc.code not in ("approval_not_needed", "already_approved"):
                _hold(entry, Held.REFUSED, exc.message)
                continue
        except SluiceError as exc:
            _hold(entry, Held.REFUSED, exc.message)
            continue
        release.refresh_from_db()
        if release.is_approved():
            if entry.held:
                _hold(entry, Held.NONE)
        else:
            _hold(entry, Held.APPROVAL_INCOMPLETE, approvals.missing_message(release))


# -- submit in waves ---------------------------------------------------------------------------


def _backing_off(campaign: Campaign, halt: Halt, now) -> bool:
    """Back off after "too many calls" or "busy" on any of the campaign's steps: the step retries
    itself; the campaign starts nothing new until the wait (growing each time) is over."""
    releases = Release.objects.filter(campaign_entry__campaign=campaign)
    slowed = releases.filter(
        state__in=(State.SUBMITTING, State.PUBLISHING), last_error_code__in=BACKOFF_CODES
    )
    if slowed.exists():
        if campaign.backoff_until is None or campaign.backoff_until <= now:
            waits = settings.SLUICE_CAMPAIGN_BACKOFF_SECONDS
            wait = waits[min(campaign.backoff_step, len(waits) - 1)]
            campaign.backoff_until, campaign.backoff_step = (
                now + timedelta(seconds=wait),
                campaign.backoff_step + 1,
            )
    elif campaign.backoff_until is None or campaign.backoff_until <= now:
        campaign.backoff_until, campaign.backoff_step = None, 0
    if campaign.backoff_until is not None and campaign.backoff_until > now:
        halt.set(
            "backoff",
            gettext_noop(
                "The platform asked for fewer calls (45009 or -1); the campaign waits until %(until)s."
            )
            % {"until": clock.when(campaign.backoff_until)},
        )
        return True
    return False


def _candidates(campaign: Campaign):
    """Apps ready to be submitted, in campaign order: checked and approved, or sent back for
    another try (a rejection group's resubmission, retry-failed)."""
    ready = Q(release__state=State.CHECKED, held__in=("", Held.REVIEW_IN_PROGRESS, Held.SAME_REASON_LOCK))
    again = Q(retry_requested=True, release__state__in=(State.REJECTED, State.SUBMIT_FAILED))
    again &= Q(held__in=("", Held.REVIEW_IN_PROGRESS, Held.SAME_REASON_LOCK))
    return campaign.entries.select_related("release__app__platform_account", "app").filter(ready | again)


def _budget_spent(campaign: Campaign) -> bool:
    return (
        Release.objects.filter(
            campaign_entry__campaign=campaign, state=State.SUBMIT_FAILED, last_error_code__in=BUDGET_CODES
        )
        .exclude(campaign_entry__retry_requested=True)
        .exists()
    )


def _submit_wave(campaign: Campaign, halt: Halt) -> None:
    from releases.step_services import release_retry, release_submit

    now = timezone.now()
    if _backing_off(campaign, halt, now):
        return
    if Release.objects.filter(campaign_entry__campaign=campaign, state=State.SUBMITTING).exists():
        return  # the previous wave is still on its way to the platform
    candidates = list(_candidates(campaign))
    if not candidates:
        return
    account = campaign.platform_account
    plan = planning.plan_for(campaign, read=True)
    if plan.quota_left is None and has_monthly_quota(account.platform):
        halt.set(
            "quota_unknown",
            gettext_noop("The monthly review quota could not be read; the campaign waits until it can."),
        )
        return
    if _budget_spent(campaign) or plan.spendable == 0:
        halt.set(
            "quota_reserve",
            gettext_noop(
                "%(left)s submissions are left this month and %(reserve)s are kept in reserve for "
                "urgent fixes: the campaign stops here, %(waiting)s apps wait."
            )
            % {"left": plan.quota_left or 0, "reserve": plan.reserve, "waiting": len(candidates)},
        )
        return
    size = settings.SLUICE_CAMPAIGN_WAVE_SIZE
    if plan.spendable is not None:
        size = min(size, plan.spendable)
    started = 0
    for entry in candidates:
        if started >= size or not _still_driven(campaign):
            break
        release = entry.release
        if Release.objects.filter(app_id=release.app_id, state__in=IN_REVIEW).exclude(pk=release.pk).exists():
            _hold(entry, Held.REVIEW_IN_PROGRESS, gettext_noop("Another release of this app is in review."))
            continue
        locked = lock_refusal(release.app, now)
        if locked is not None:
            _hold(entry, Held.SAME_REASON_LOCK, locked.message)
            continue
        if not ratelimit.take(account.pk, "submit"):
            halt.set("rate_limit", gettext_noop("The call rate of this platform account is used up for now."))
            break
        try:
            with transaction.atomic():
                CampaignApp.objects.filter(pk=entry.pk).update(
                    wave=campaign.waves + 1, held="", last_error="", retry_requested=False
                )
                if release.state == State.SUBMIT_FAILED:
                    release_retry(release=release, actor=campaign.approved_by)
                else:
                    release_submit(release=release, actor=campaign.approved_by)
            started += 1
        except Refused as exc:
            if exc.code == "quota_exhausted":
                halt.set("quota_reserve", exc.message)
                break
            held = {"review_in_progress": Held.REVIEW_IN_PROGRESS, "same_reason_lock": Held.SAME_REASON_LOCK}
            _hold(entry, held.get(exc.code, Held.REFUSED), exc.message)
        except SluiceError as exc:
            _hold(entry, Held.REFUSED, exc.message)
    if started:
        campaign.waves += 1


# -- publish -----------------------------------------------------------------------------------


def _publish_wave(campaign: Campaign, halt: Halt) -> None:
    from releases.step_services import release_publish, release_retry

    if campaign.backoff_until is not None and campaign.backoff_until > timezone.now():
        return
    ready = Q(release__state=State.APPROVED, held="") | Q(
        release__state=State.PUBLISH_FAILED, retry_requested=True
    )
    entries = campaign.entries.select_related("release__app__platform_account").filter(ready)
    for entry in entries[: settings.SLUICE_CAMPAIGN_WAVE_SIZE]:
        if not _still_driven(campaign):
            break
        if not ratelimit.take(campaign.platform_account_id, "publish"):
            halt.set("rate_limit", gettext_noop("The call rate of this platform account is used up for now."))
            break
        try:
            with transaction.atomic():
                CampaignApp.objects.filter(pk=entry.pk).update(held="", last_error="", retry_requested=False)
                if entry.release.state == State.PUBLISH_FAILED:
                    release_retry(release=entry.release, actor=campaign.published_by)
                else:
                    release_publish(
                        release=entry.release, actor=campaign.published_by, rollout=campaign.rollout
                    )
        except SluiceError as exc:
            _hold(entry, Held.REFUSED, exc.message)


# -- settle: the campaign's own state ----------------------------------------------------------


def _settle(campaign: Campaign) -> None:
    entries = campaign.entries.filter(held="")
    if campaign.state == CampaignState.PREPARING:
        pending = entries.filter(Q(release__isnull=True) | Q(release__state=State.DRAFT)).exists()
        if not pending:
            _move(campaign, CampaignState.AWAITING_APPROVAL, "campaign_prepared")
    elif campaign.state == CampaignState.PUBLISHING:
        busy = campaign.entries.filter(release__state__in=ACTIVE + (State.REJECTED,)).exists()
        busy |= campaign.entries.filter(retry_requested=True).exists()
        if not busy:
            _move(campaign, CampaignState.DONE, "campaign_done")


def _move(campaign: Campaign, to: str, action: str) -> None:
    with transaction.atomic():
        moved = Campaign.objects.filter(pk=campaign.pk, state=campaign.state).update(state=to)
        if moved:
            from_state, campaign.state = campaign.state, to
            audit_record(
                action=action,
                target=campaign,
                team_id=campaign.team_id,
                from_state=from_state,
                to_state=to,
                data={"campaign": campaign.pk},
            )
