"""Writes of the steps that call the platform (submit, withdraw, publish, rollback, retry),
one attempt at such a call, the sweep that restarts abandoned ones; and cancel.

A step commits its in-flight state with its audit event first, then the adapter is called
(inline for adapters without network, in an RQ worker otherwise), then a second transaction
records what came of it. Each attempt claims the step first (releases.steps).
"""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases import rollout as phased
from releases.draft_services import release_check_finish
from releases.errors import Forbidden, Invalid, Refused
from releases.fingerprint import code_identity
from releases.models import IN_FLIGHT, App, CheckRun, Release
from releases.platform_rules import rules_for
from releases.platforms import PlatformError, adapter_for
from releases.steps import (
    app_step_reserve,
    app_steps_due,
    max_attempts,
    step_checkpoint_save,
    step_claim,
    step_defer,
    step_reserve,
    step_wait,
    steps_due,
)
from releases.transitions import _transition
from releases.windows import window_refusal

logger = logging.getLogger(__name__)


def _dispatch_step(release: Release, reserved: str) -> Release:
    """Run the platform call now (no-network adapters) or in a worker once this commits; the
    release holds the step for it under `reserved` (releases.steps)."""
    if adapter_for(release.app.platform_account).runs_inline:
        release_step_perform(release_id=release.pk, reserved=reserved)
        release.refresh_from_db()
        return release
    from releases.jobs import enqueue_step

    enqueue_step(release.pk, reserved=reserved)
    return release


def _start_step(release: Release, name: str, *, actor, ip=None, data=None) -> Release:
    _transition(release, name, actor=actor, ip=ip, data=data)
    return _dispatch_step(release, release.step_claimed_by)


def release_submit(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "submit", actor=actor, ip=ip, data=lambda fresh: {"revision": fresh.revision})


def release_withdraw(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "withdraw", actor=actor, ip=ip)


def release_publish(
    *,
    release: Release,
    actor,
    ip: str | None = None,
    rollout=None,
    override_reason: str = "",
    scheduled: bool = False,
) -> Release:
    """`rollout`: a plan overriding the app's default (releases.rollout); a full release by default.
    A bad plan is a 400 `invalid_rollout` before anything changes. Outside the publish window
    (releases.windows) a 409 `outside_publish_window` names the next opening, unless a team
    admin overrides it with a reason (audited); a scheduled publish was judged when scheduled."""
    parsed = phased.parse_plan(rollout) if rollout is not None else phased.default_plan(release.app)
    platform = release.app.platform_account.platform
    if len(parsed["plan"]) > 1 and not rules_for(platform).phased_release:
        raise Invalid(
            "invalid_rollout",
            gettext_noop("This platform offers no phased release through its API: publish to everyone."),
            details={"rollout": "One stage of 100%."},
        )
    override_reason = (override_reason or "").strip()
    refusal = None if scheduled else window_refusal(release.app)
    if refusal is not None:
        _override_or_refuse(release, actor, refusal, override_reason)

    def data(fresh):
        found = {"plan": phased.plan_text(parsed["plan"]), "percentage": parsed["plan"][0]["percentage"]}
        if refusal is not None:
            found["window_override"] = override_reason
        if scheduled:
            found["scheduled"] = True
        return found

    _transition(release, "publish", actor=actor, ip=ip, data=data, args={"rollout": parsed})
    return _dispatch_step(release, release.step_claimed_by)


def _override_or_refuse(release: Release, actor, refusal, override_reason: str) -> None:
    """Outside the window only a team admin may go ahead, and only with a reason."""
    from releases.models import Role, role_at_least
    from releases.selectors import role_for

    if not override_reason:
        raise Refused(refusal.code, refusal.message, details=refusal.details)
    if actor is None or not role_at_least(role_for(actor, release.app.team_id), Role.ADMIN):
        raise Forbidden(
            "forbidden", gettext_noop("Only a team admin can publish outside the publish window.")
        )


def release_rollback(
    *, release: Release, actor, reason: str = "", app_version=None, ip: str | None = None
) -> Release:
    """A required reason; `app_version` picks one of the platform's five most recent versions."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason_required", "Say why you roll back.", details={"reason": "Required."})
    if app_version is not None and (isinstance(app_version, bool) or not isinstance(app_version, int)):
        raise Invalid("invalid_field", "“app_version” must be a version number from the platform's history.")
    data = {"reason": reason, **({"app_version": app_version} if app_version is not None else {})}
    _transition(release, "rollback", actor=actor, ip=ip, data=data, args={"app_version": app_version})
    return _dispatch_step(release, release.step_claimed_by)


def release_retry(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "retry", actor=actor, ip=ip, data=lambda fresh: {"error": fresh.last_error})


def release_cancel(*, release: Release, actor, ip: str | None = None) -> Release:
    return _transition(release, "cancel", actor=actor, ip=ip)


def release_step_perform(*, release_id: int, reserved: str = "") -> Release | None:
    """One attempt at the platform call of an in-flight release, and what came of it.

    The attempt first claims the step (releases.steps): a release no longer in flight, or
    whose step another worker holds, is left alone, so a duplicated, retried or swept job
    never makes the call twice at once. Adapters reconcile before repeating a call whose
    effect may already have happened (a worker killed between the call and the write).
    A permanent error lands in the failed state with the platform's message; a transient
    one is tried again later, until SLUICE_STEP_RETRY_SECONDS is used up, and then lands in
    the failed state too, with the last error. Returns the release once the step ended,
    None while it goes on (or another worker has it).
    """
    row = Release.objects.filter(pk=release_id).values("state", "speedup_state").first()
    if row and row["state"] not in IN_FLIGHT and row["speedup_state"] == "requesting":
        from releases.urgent_services import release_speedup_perform

        return release_speedup_perform(release_id=release_id, reserved=reserved)
    claim = step_claim(release_id, reserved)
    if claim is None:
        return None
    release = Release.objects.select_related("app__platform_account", "app__team").get(pk=release_id)
    step = IN_FLIGHT.get(release.state)
    if step is None:
        return None
    if step == "submit" and (wait := submit_wait_seconds(release)):
        step_wait(release, claim, seconds=wait)
        logger.info("Release %s waits %s s: the platform's interval between submissions", release.pk, wait)
        return None
    adapter = adapter_for(release.app.platform_account)
    try:
        outcome = _step_call(adapter, step, release, claim)
    except PlatformError as exc:
        return _after_stage(_step_error(adapter, step, release, claim, exc))
    if outcome is None:
        return None
    args, data = outcome
    succeeded = f"{step}_succeeded"
    if step == "publish" and not phased.is_full(release.rollout):
        succeeded = "stage_succeeded"  # a stage of a phased release is live, not the whole release
    if step == "publish" and release.rollout:
        data = {**data, "percentage": phased.target_percentage(release.rollout)}
    finished = _finish_step(release, succeeded, args=args, data=data)
    if finished is not None and step == "submit":
        adapter.on_submitted(finished)
    return _after_stage(finished)


def submit_wait_seconds(release: Release) -> int:
    """Seconds until the app may be submitted again under its platform's `submit_interval`
    (Douyin: 10 s, else 11301), counted from the app's latest submission; 0 when it may now."""
    interval = rules_for(release.app.platform_account.platform).submit_interval
    if not interval:
        return 0
    last = (
        Release.objects.filter(app_id=release.app_id, submitted_at__isnull=False)
        .aggregate(last=Max("submitted_at"))
        .get("last")
    )
    if last is None:
        return 0
    return max(0, math.ceil((last + interval - timezone.now()).total_seconds()))


def _after_stage(finished: Release | None) -> Release | None:
    """A stage of a phased release landed (or failed): the next one is scheduled, unless a health
    breach halted it meanwhile, and then the revert it asked for runs (releases.health_services)."""
    if finished is None or finished.state not in ("rolling_out", "publish_failed"):
        return finished
    from releases.rollout_services import revert_if_pending, schedule_stage

    schedule_stage(finished)
    return revert_if_pending(finished)


def _step_call(adapter, step: str, release: Release, claim: str) -> tuple[dict, dict] | None:
    """The adapter's call, with its checkpoint saved first; None if the claim was lost meanwhile.

    Anything else than a PlatformError (a bug, RQ's job timeout) counts as a transient failure,
    so it too is retried a bounded number of times instead of forever.
    """
    try:
        if not release.step_checkpoint:
            checkpoint = adapter.checkpoint(step, release)
            if checkpoint and not step_checkpoint_save(release, claim, {**checkpoint, "taken_by": claim}):
                return None
        if step == "submit":
            _upload_code(adapter, release)
            submission = adapter.find_submission(release) or adapter.submit(release)
            return {"audit_id": submission.audit_id}, {"audit_id": submission.audit_id}
        getattr(adapter, step)(release)
        return {}, {}
    except PlatformError:
        raise
    except Exception as exc:
        logger.exception("The %s step of release %s stopped on an unexpected error", step, release.pk)
        raise PlatformError(
            f"The {step} step stopped on an unexpected error ({type(exc).__name__}).", code="step_error"
        ) from exc


def _upload_code(adapter, release: Release) -> None:
    """The release's template code becomes the app's test version before it is submitted, unless
    Sluice already uploaded exactly that code (releases/fingerprint.py code_identity)."""
    code = code_identity(release)
    if not code or release.app.test_code == code:
        return
    adapter.upload(release)
    App.objects.filter(pk=release.app_id).update(test_code=code)


def _step_error(adapter, step: str, release: Release, claim: str, exc: PlatformError) -> Release | None:
    error = {"code": exc.code, "message": exc.message}
    if exc.permanent or adapter.runs_inline:
        logger.warning("Platform refused %s of release %s: %s", step, release.pk, exc.message)
        return _finish_step(release, "step_failed", action=f"{step}_failed", args=error, data=error)
    attempts = release.step_attempts
    if attempts >= max_attempts():
        logger.warning("Giving up %s of release %s after %s attempts: %s", step, release.pk, attempts, exc)
        return _finish_step(
            release,
            "step_failed",
            action=f"{step}_failed",
            args={**error, "gave_up": True},
            data={**error, "attempts": attempts, "gave_up": True},
        )
    delay = step_defer(release, claim, **error)
    logger.info(
        "Attempt %s at %s of release %s failed: %s; next in %s s", attempts, step, release.pk, exc, delay
    )
    return None


def _finish_step(
    release: Release, name: str, *, args: dict, data: dict, action: str | None = None
) -> Release | None:
    # Applied to the row as re-read under its lock (see _transition), so nothing read before is kept.
    changes = {"step_lease_until": None, "step_claimed_by": ""}
    if name != "step_failed":
        changes |= {"last_error_code": "", "last_error": ""}  # the errors of attempts that were retried
    try:
        return _transition(release, name, actor=None, args=args, data=data, action=action, changes=changes)
    except Refused:
        # Someone (a push, a sweep, a person) finished this step first: nothing to do.
        return None


def release_sweep_in_flight() -> int:
    """Queue again the steps nobody is working on (their worker died, or their scheduled retry
    was lost): only once their lease has run out, so a live worker is never doubled.

    Check runs whose worker vanished (still pending after SLUICE_INFLIGHT_STALE_SECONDS) are
    finished too. Returns the number of steps queued (or, for adapters without network, run).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.SLUICE_INFLIGHT_STALE_SECONDS)
    for run_id in CheckRun.objects.filter(finished_at=None, created_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        try:
            release_check_finish(run_id=run_id)
        except Exception:  # noqa: BLE001 -- one poisoned run must not stop the sweep
            logger.exception("Sweep could not finish check run %s", run_id)
    count = 0
    for release in steps_due().select_related("app__platform_account"):
        try:
            reserved = step_reserve(release.pk)
            if reserved:
                _dispatch_step(release, reserved)
                count += 1
        except Exception:  # one poisoned release must not stop the sweep
            logger.exception("Sweep could not restart the step of release %s", release.pk)
    for app in app_steps_due().select_related("platform_account"):
        try:
            reserved = app_step_reserve(app.pk)
            if reserved:
                _dispatch_service_change(app, reserved)
                count += 1
        except Exception:  # noqa: BLE001 -- one poisoned app must not stop the sweep
            logger.exception("Sweep could not restart the service change of app %s", app.pk)
    return count


def _dispatch_service_change(app, reserved: str) -> None:
    """An app's service change whose process died: made again (idempotent) and recorded once."""
    if adapter_for(app.platform_account).runs_inline:
        from releases.urgent_services import app_service_perform

        app_service_perform(app_id=app.pk, reserved=reserved)
        return
    from releases.jobs import enqueue_service_change

    enqueue_service_change(app.pk, reserved=reserved)
