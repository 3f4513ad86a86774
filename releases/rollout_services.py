"""Writes of phased releases: advance, pause, resume, revert, halt; the scheduler's tick that
advances stages whose hold ended; and the reconciliation with the platform's plan.

Advance and revert are platform steps (releases.step_services: in flight, claimed, retried,
reconciled); pause, resume and halt are recorded facts of the rollout. The scheduler is the
cron tick (config/cron.py) plus a job queued for the moment each hold ends, so a demo with
minute-long holds moves on time and a lost job is caught by the next tick.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from releases import rollout as phased
from releases import windows
from releases.errors import Invalid, Refused
from releases.limits import clock
from releases.models import Release, State
from releases.platforms import PlatformError, adapter_for
from releases.step_services import _dispatch_step
from releases.transitions import _transition

logger = logging.getLogger(__name__)


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise Invalid("reason_required", "Say why.", details={"reason": "Required."})
    return reason


def _stage_data(fresh: Release) -> dict:
    rollout = fresh.rollout
    return {"from_percentage": rollout.get("percentage", 0), "percentage": phased.target_percentage(rollout)}


def release_rollout_advance(*, release: Release, actor, ip: str | None = None) -> Release:
    """Move to the next stage now (a person) or when its hold ended (the scheduler, actor None)."""
    _transition(release, "rollout_advance", actor=actor, ip=ip, data=_stage_data)
    return _dispatch_step(release, release.step_claimed_by)


def release_rollout_pause(*, release: Release, actor, reason: str = "", ip: str | None = None) -> Release:
    data = {"reason": _reason(reason, required=False)}
    return _transition(release, "rollout_pause", actor=actor, ip=ip, data=data)


def release_rollout_resume(*, release: Release, actor, reason: str = "", ip: str | None = None) -> Release:
    data = {"reason": _reason(reason, required=False)}
    return _transition(release, "rollout_resume", actor=actor, ip=ip, data=data)


def release_rollout_revert(*, release: Release, actor, reason: str = "", ip: str | None = None) -> Release:
    """Users who got the new version go back to the online one (revertgrayrelease); required reason
    from a person, the breach from the health gate."""
    reason = _reason(reason, required=actor is not None)
    data = {"reason": reason, "percentage": release.rollout.get("percentage", 0)}
    _transition(release, "rollout_revert", actor=actor, ip=ip, data=data)
    return _dispatch_step(release, release.step_claimed_by)


def release_rollout_halt(*, release: Release, reason: str, data: dict, revert: bool = False) -> Release:
    """The health gate stops the rollout: no further stage until someone resumes or reverts.
    `revert`: a stage is in flight and the app reverts on a breach: once it lands."""
    return _transition(
        release, "rollout_halt", actor=None, args={"reason": reason, "revert": revert}, data=data
    )


def revert_if_pending(release: Release) -> Release:
    """A stage that was in flight when a breach halted the rollout has landed (or failed): the
    automatic revert the breach asked for happens now."""
    rollout = release.rollout or {}
    if not rollout.get("revert_pending") or release.state not in (State.ROLLING_OUT, State.PUBLISH_FAILED):
        return release
    reason = f"Automatic revert: {rollout.get('halted_reason', '')}".strip()
    try:
        return release_rollout_revert(release=release, actor=None, reason=reason)
    except Refused as exc:
        logger.info("The automatic revert of release %s waits: %s", release.pk, exc.message)
        return release


def schedule_stage(release: Release) -> None:
    """Queue the advance for the moment the current stage's hold ends (the tick is the backstop)."""
    if release.state != State.ROLLING_OUT or release.rollout_due_at is None:
        return
    from releases.jobs import enqueue_rollout_tick

    enqueue_rollout_tick(release.rollout_due_at)


def rollouts_due(now=None):
    now = now or timezone.now()
    return Release.objects.filter(state=State.ROLLING_OUT, rollout_due_at__lte=now)


NEXT_WINDOW = "next window"


def _scheduled_at(app, at, actor, override_reason: str):
    """When a scheduled publish goes live: `at` (ISO-8601) inside a window, or the next opening."""
    policy = windows.policy_for(app)
    now = timezone.now()
    if isinstance(at, str) and at.strip().lower() == NEXT_WINDOW:
        opening = windows.next_opening(policy, now)
        if opening is None:
            raise Refused("outside_publish_window", windows.closed_reason(policy, now))
        return opening
    moment = parse_datetime(at) if isinstance(at, str) else None
    if moment is None:
        raise Invalid(
            "invalid_field",
            "“at” must be a moment in ISO-8601 (e.g. 2026-12-08T10:00:00+08:00) or “next window”.",
            details={"at": "ISO-8601 or next window"},
        )
    moment = moment if moment.tzinfo else moment.replace(tzinfo=clock.BEIJING)
    if moment < now - timedelta(minutes=1):
        raise Invalid("invalid_field", "“at” is in the past.", details={"at": "A future moment."})
    refusal = None if windows.is_open(policy, moment) else windows.window_refusal(app, moment)
    if refusal is not None:
        _override_or_refuse_window(app, actor, refusal, override_reason)
    return moment


def _override_or_refuse_window(app, actor, refusal, override_reason):
    from releases.step_services import _override_or_refuse

    _override_or_refuse(Release(app=app), actor, refusal, override_reason)


def release_schedule_publish(
    *, release: Release, actor, at, rollout=None, override_reason: str = "", ip: str | None = None
) -> Release:
    """Publish later: at `at` (inside a window, or with an admin's override) or at the next opening.
    The cron tick publishes it when due; the publish transition takes the release out of
    `approved` atomically, so a tick run twice (or a crash and a restart) publishes once."""
    parsed = phased.parse_plan(rollout) if rollout is not None else phased.default_plan(release.app)
    override_reason = (override_reason or "").strip()
    moment = _scheduled_at(release.app, at, actor, override_reason)
    data = {"at": moment.isoformat(), "plan": phased.plan_text(parsed["plan"])}
    if override_reason:
        data["window_override"] = override_reason
    return _transition(
        release, "schedule_publish", actor=actor, ip=ip, data=data, args={"rollout": parsed, "at": moment}
    )


def release_unschedule(*, release: Release, actor, ip: str | None = None) -> Release:
    return _transition(release, "unschedule", actor=actor, ip=ip)


def release_publish_scheduled(now=None) -> int:
    """Publish the scheduled releases that are due. One whose moment fell into a freeze (added since
    it was scheduled) moves to the next opening instead, audited."""
    from releases.step_services import release_publish

    now = now or timezone.now()
    published = 0
    due = Release.objects.filter(state=State.APPROVED, rollout_due_at__lte=now).select_related("app__team")
    for release in due:
        rollout = release.rollout or {}
        if rollout.get("status") != phased.Status.SCHEDULED:
            continue
        plan = {key: rollout[key] for key in ("plan", "experiencer_first", "debuger_first") if key in rollout}
        try:
            if not rollout.get("window_override") and windows.window_refusal(release.app, now) is not None:
                opening = windows.next_opening(windows.policy_for(release.app), now)
                if opening is not None:
                    _transition(
                        release,
                        "schedule_publish",
                        actor=None,
                        action="publish_rescheduled",
                        args={"rollout": plan, "at": opening},
                        data={"at": opening.isoformat(), "was": rollout.get("scheduled_at")},
                    )
                continue
            release_publish(release=release, actor=None, rollout=plan, scheduled=True)
            published += 1
        except Refused as exc:
            logger.info("Scheduled publish of release %s waits: %s", release.pk, exc.message)
        except Exception:  # noqa: BLE001 -- one poisoned release must not stop the tick
            logger.exception("Could not publish scheduled release %s", release.pk)
    return published


def release_rollouts_tick(now=None) -> int:
    """Advance every running rollout whose hold ended, and reconcile the others with the platform.
    A stage that may not advance (a stale required metric) waits and is tried at the next tick.
    Returns the number advanced."""
    release_publish_scheduled(now)
    advanced = 0
    for release in rollouts_due(now).select_related("app__platform_account", "app__team"):
        if release.rollout.get("status") != phased.Status.RUNNING:
            continue
        policy = windows.policy_for(release.app)
        if policy.get("advance_in_window") and not windows.is_open(policy, now or timezone.now()):
            continue  # the stage waits for the window
        try:
            release_rollout_advance(release=release, actor=None)
            advanced += 1
        except Refused as exc:
            logger.info("Rollout of release %s waits: %s", release.pk, exc.message)
        except Exception:  # noqa: BLE001 -- one poisoned release must not stop the tick
            logger.exception("Could not advance the rollout of release %s", release.pk)
    for release in Release.objects.filter(state=State.ROLLING_OUT).select_related("app__platform_account"):
        try:
            release_rollout_reconcile(release=release)
        except Exception:  # noqa: BLE001
            logger.exception("Could not reconcile the rollout of release %s", release.pk)
    return advanced


def release_rollout_reconcile(*, release: Release) -> Release | None:
    """Read the platform's plan (getgrayreleaseplan) and record what changed there (its console):
    the plan deleted means the phased release was reverted; another percentage is recorded. The
    call is made outside any transaction; the transition re-reads the release under its lock."""
    adapter = adapter_for(release.app.platform_account)
    try:
        plan = adapter.phased_plan(release)
    except PlatformError as exc:
        logger.info("Could not read the phased plan of release %s: %s", release.pk, exc.message)
        return None
    if plan is None:
        return None
    seen_at = release.state_changed_at
    fresh = Release.objects.get(pk=release.pk)
    if fresh.state != State.ROLLING_OUT or fresh.state_changed_at != seen_at:
        return None  # it moved while we asked: the next tick looks again
    try:
        if plan["status"] == "deleted":
            return _transition(fresh, "reverted_outside", actor=None, data={"platform_plan": plan})
        if plan["percentage"] != fresh.rollout.get("percentage"):
            return _transition(
                fresh,
                "rollout_changed_outside",
                actor=None,
                args={"percentage": plan["percentage"]},
                data={"platform_plan": plan, "was": fresh.rollout.get("percentage")},
            )
    except Refused:
        return None
    return None
