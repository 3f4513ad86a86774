"""Writes: every change to a release goes through one of these `<entity>_<action>` functions.

Each one runs the transition, saves, and records the audit event in one transaction, so a
refused or crashed change leaves neither a new state nor an event behind. Platform calls
never run inside that transaction: a step first moves the release to an in-flight state
(committed), then calls the platform, then records the outcome in a second transaction.
"""

import logging
from datetime import timedelta

import django_fsm as fsm
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from releases.audit import audit_record
from releases.checks import run_checks
from releases.checks.build_report import validate_build_report
from releases.errors import Forbidden, Invalid, Refused
from releases.models import (
    EDITABLE,
    IN_FLIGHT,
    App,
    Approval,
    CheckResult,
    CheckRun,
    Release,
    Role,
    State,
    can_manage,
    may_attempt,
    role_at_least,
)
from releases.platforms import PlatformError, adapter_for
from releases.selectors import latest_published_version, role_for
from releases.versioning import parse

logger = logging.getLogger(__name__)

CONTENT_FIELDS = ("version", "release_notes", "review_notes", "build_report")
OUTCOMES = ("approved", "rejected", "delayed")


def _require_role(actor, team_id: int, minimum: str, doing: str) -> None:
    if not role_at_least(role_for(actor, team_id), minimum):
        raise Forbidden("forbidden", f"Only a {Role(minimum).label.lower()} or above can {doing}.")


def _state_label(state: str) -> str:
    return State(state).label.lower()


# What a refusal says the release cannot do, in words rather than transition names.
DOING = {
    "edit": "be edited",
    "mark_checked": "pass its checks",
    "approve": "be approved",
    "send_back": "be sent back",
    "submit": "be submitted",
    "review_approved": "get a review outcome",
    "review_rejected": "get a review outcome",
    "review_delayed": "get a review outcome",
    "withdraw": "be withdrawn",
    "publish": "be published",
    "rollback": "be rolled back",
    "retry": "be retried",
    "expire": "expire",
    "cancel": "be cancelled",
}


def _refuse_unless_allowed(release: Release, name: str, actor) -> None:
    """Name exactly why a transition cannot run: wrong state, role, or which guard."""
    method = getattr(release, name)
    if not fsm.can_proceed(method, check_conditions=False):
        raise Refused(
            "invalid_state",
            f"A release that is {_state_label(release.state)} cannot {DOING.get(name, name)}.",
        )
    if actor is not None and not may_attempt(release, name, actor):
        if name in ("approve", "send_back") and release.author_id == actor.pk and can_manage(release, actor):
            raise Forbidden(
                "self_approval", "You are the author of this release; another release manager must decide."
            )
        raise Forbidden(
            "forbidden", f"Your role in {release.app.team} does not allow this action on the release."
        )
    transition = method._django_fsm.get_transition(release.state)
    for condition in transition.conditions:
        if not condition(release):
            raise Refused(condition.guard_code, condition.guard_message)


def _transition(release: Release, name: str, *, actor, ip=None, data=None, action=None, args=None) -> Release:
    """Run one transition with its guards, save it, and write its audit event, atomically."""
    try:
        with transaction.atomic():
            # Lock the app: guards such as "one release in review per app" read sibling rows.
            App.objects.select_for_update().filter(pk=release.app_id).first()
            _refuse_unless_allowed(release, name, actor)
            from_state = release.state
            getattr(release, name)(**(args or {}))
            release.state_changed_at = (
                timezone.now() if release.state != from_state else release.state_changed_at
            )
            release.save()
            audit_record(
                action=action or name,
                actor=actor,
                release=release,
                from_state=from_state,
                to_state=release.state,
                data=data,
                ip=ip,
            )
    except fsm.ConcurrentTransition:
        release.refresh_from_db()
        raise Refused(
            "concurrent_transition",
            f"Someone else changed this release at the same moment; it is now {_state_label(release.state)}.",
        ) from None
    return release


# -- creating and editing ---------------------------------------------------------------


def _validate_version(app: App, version: str, *, exclude_release_id: int | None = None) -> str:
    version = (version or "").strip()
    if parse(version) is None:
        raise Invalid(
            "invalid_version",
            f"“{version}” is not a semantic version such as 1.4.0.",
            details={"version": "Use MAJOR.MINOR.PATCH, e.g. 1.4.0."},
        )
    if app.releases.filter(version=version).exclude(pk=exclude_release_id).exists():
        raise Refused("version_exists", f"{app} already has a release {version}.")
    latest = latest_published_version(app, exclude_release_id=exclude_release_id)
    if latest is not None and parse(version) <= parse(latest):
        raise Invalid(
            "version_not_greater",
            f"{version} must be greater than the published {latest}.",
            details={"version": f"Must be greater than {latest}."},
        )
    return version


def _validate_build_report(report) -> dict:
    errors = validate_build_report(report)
    if errors:
        fields = ", ".join(f"build_report.{k}" if k != "build_report" else k for k in errors)
        raise Invalid(
            "invalid_build_report",
            f"The build report has fields of the wrong type: {fields}.",
            details={(f"build_report.{k}" if k != "build_report" else k): v for k, v in errors.items()},
        )
    return report


def release_create(
    *,
    app: App,
    actor,
    version: str,
    release_notes: str = "",
    review_notes: str = "",
    build_report: dict | None = None,
    ip: str | None = None,
) -> Release:
    _require_role(actor, app.team_id, Role.DEVELOPER, "create a release")
    version = _validate_version(app, version)
    build_report = _validate_build_report(build_report or {})
    try:
        with transaction.atomic():
            release = Release.objects.create(
                app=app,
                version=version,
                release_notes=release_notes,
                review_notes=review_notes,
                build_report=build_report or {},
                author=actor,
                owner=actor,
            )
            audit_record(
                action="create",
                actor=actor,
                release=release,
                to_state=release.state,
                data={"version": version},
                ip=ip,
            )
    except IntegrityError:
        raise Refused("version_exists", f"{app} already has a release {version}.") from None
    return release


def release_update(*, release: Release, actor, changes: dict, ip: str | None = None) -> Release:
    """Edit content. Any change after `checked` sends it back to draft and voids approvals."""
    _require_role(actor, release.app.team_id, Role.DEVELOPER, "edit a release")
    changed = {k: v for k, v in changes.items() if k in CONTENT_FIELDS and getattr(release, k) != v}
    if not changed:
        return release
    if release.state not in EDITABLE:
        raise Refused(
            "invalid_state", f"A release that is {_state_label(release.state)} can no longer be edited."
        )
    if "version" in changed:
        changed["version"] = _validate_version(release.app, changed["version"], exclude_release_id=release.pk)
    if "build_report" in changed:
        _validate_build_report(changed["build_report"])
    for field, value in changed.items():
        setattr(release, field, value)
    return _transition(release, "edit", actor=actor, ip=ip, data={"changed": sorted(changed)})


# -- checks and approvals ----------------------------------------------------------------


def release_check(*, release: Release, actor, ip: str | None = None) -> CheckRun:
    """Run the checks and store the run; move to `checked` only if nothing blocks.

    A blocked run is kept (so the page can show what failed) and then refused with 409
    `checks_failed`; the release stays in draft.
    """
    if release.state != State.DRAFT:
        raise Refused(
            "invalid_state", f"Checks run on drafts; this release is {_state_label(release.state)}."
        )
    _require_role(actor, release.app.team_id, Role.DEVELOPER, "run checks")
    results = run_checks(release)
    with transaction.atomic():
        run = CheckRun.objects.create(release=release, revision=release.revision, actor=actor)
        rows = CheckResult.objects.bulk_create(CheckResult(run=run, **result) for result in results)
        run.passed = not any(row.blocks for row in rows)
        run.save(update_fields=["passed"])
    if not run.passed:
        failing = [r.title for r in rows if r.blocks]
        raise Refused(
            "checks_failed",
            f"{len(failing)} check(s) failed: {'; '.join(failing)}.",
            details={"run_id": run.pk},
        )
    _transition(release, "mark_checked", actor=actor, ip=ip, action="check", data={"check_run": run.pk})
    return run


def release_approve(*, release: Release, actor, comment: str = "", ip: str | None = None) -> Approval:
    with transaction.atomic():
        _transition(
            release, "approve", actor=actor, ip=ip, data={"revision": release.revision, "comment": comment}
        )
        return Approval.objects.create(
            release=release, approver=actor, revision=release.revision, comment=comment
        )


def release_send_back(*, release: Release, actor, comment: str, ip: str | None = None) -> Release:
    """An approver refuses this revision; the author fixes it and runs the checks again."""
    if not comment.strip():
        raise Invalid(
            "comment_required",
            "Say what must change before sending the release back.",
            details={"comment": "Required."},
        )
    return _transition(release, "send_back", actor=actor, ip=ip, data={"comment": comment.strip()})


# -- steps that call the platform --------------------------------------------------------


def _dispatch_step(release: Release) -> Release:
    """Run the platform call now (no-network adapters) or in a worker once this commits."""
    if adapter_for(release.app.platform_account).runs_inline:
        release_step_perform(release_id=release.pk)
        release.refresh_from_db()
        return release
    from releases.jobs import enqueue_step

    enqueue_step(release.pk)
    return release


def _start_step(release: Release, name: str, *, actor, ip=None, data=None) -> Release:
    _transition(release, name, actor=actor, ip=ip, data=data)
    return _dispatch_step(release)


def release_submit(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "submit", actor=actor, ip=ip, data={"revision": release.revision})


def release_withdraw(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "withdraw", actor=actor, ip=ip)


def release_publish(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "publish", actor=actor, ip=ip)


def release_rollback(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "rollback", actor=actor, ip=ip)


def release_retry(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "retry", actor=actor, ip=ip, data={"error": release.last_error})


def release_cancel(*, release: Release, actor, ip: str | None = None) -> Release:
    return _transition(release, "cancel", actor=actor, ip=ip)


def release_step_perform(*, release_id: int) -> Release | None:
    """Make the platform call for an in-flight release and record what came of it.

    Idempotent: a release no longer in flight is left alone, so a retried or duplicated
    job does nothing. Before submitting again, ask the platform whether it already holds
    our submission (a worker may have died after the call and before the write).
    Transient errors propagate so the job is retried; permanent ones land in the failed
    state with the platform's message.
    """
    release = Release.objects.select_related("app__platform_account", "app__team").get(pk=release_id)
    step = IN_FLIGHT.get(release.state)
    if step is None:
        return None
    adapter = adapter_for(release.app.platform_account)
    try:
        if step == "submit":
            submission = adapter.find_submission(release) or adapter.submit(release)
            args, data = {"audit_id": submission.audit_id}, {"audit_id": submission.audit_id}
        else:
            getattr(adapter, step)(release)
            args, data = {}, {}
    except PlatformError as exc:
        if not exc.permanent and not adapter.runs_inline:
            raise
        logger.warning("Platform refused %s of release %s: %s", step, release.pk, exc.message)
        return _finish_step(
            release,
            "step_failed",
            action=f"{step}_failed",
            args={"code": exc.code, "message": exc.message},
            data={"code": exc.code, "message": exc.message},
        )
    finished = _finish_step(release, f"{step}_succeeded", args=args, data=data)
    if finished is not None and step == "submit":
        adapter.on_submitted(finished)
    return finished


def _finish_step(
    release: Release, name: str, *, args: dict, data: dict, action: str | None = None
) -> Release | None:
    try:
        return _transition(release, name, actor=None, args=args, data=data, action=action)
    except Refused:
        # Someone (a push, a sweep, a person) finished this step first: nothing to do.
        return None


def release_review_decided(
    *,
    release: Release,
    outcome: str,
    reason: str = "",
    actor=None,
    ip: str | None = None,
    data: dict | None = None,
) -> Release | None:
    """Record the platform's decision, whoever saw it first (a person, a push or a poll).

    For the system (actor None) a decision that was already recorded is a no-op and
    writes no second event.
    """
    if outcome not in OUTCOMES:
        raise Invalid(
            "invalid_outcome",
            f"Outcome must be one of: {', '.join(OUTCOMES)}.",
            details={"outcome": f"One of {', '.join(OUTCOMES)}."},
        )
    if outcome == "rejected" and not reason.strip():
        raise Invalid(
            "reason_required",
            "A rejection needs the platform's reason text.",
            details={"reason": "Required for a rejection."},
        )
    name = {"approved": "review_approved", "rejected": "review_rejected", "delayed": "review_delayed"}[
        outcome
    ]
    args = {"reason": reason.strip()} if outcome != "approved" else {}
    payload = {**(data or {}), **({"reason": reason.strip()} if reason.strip() else {})}
    try:
        return _transition(release, name, actor=actor, ip=ip, args=args, data=payload)
    except Refused:
        if actor is None:
            return None
        raise


def release_changed_outside(*, release: Release, change: str, audit_id: str = "", data: dict | None = None):
    """The platform shows a withdrawal or a resubmission that was not made through Sluice.

    `change` is "withdrawn" or "resubmitted". Recorded as a system event; a no-op when
    the release already reflects it.
    """
    name = {"withdrawn": "withdrawn_outside", "resubmitted": "resubmitted_outside"}[change]
    args = {"audit_id": audit_id} if change == "resubmitted" else {}
    try:
        return _transition(release, name, actor=None, args=args, data={**(data or {}), "audit_id": audit_id})
    except Refused:
        return None


def release_record_outcome(
    *, release: Release, actor, outcome: str, reason: str = "", ip: str | None = None
) -> Release:
    """The manual platform: a person types in what the platform's console said."""
    if not adapter_for(release.app.platform_account).outcomes_recorded_by_hand:
        raise Refused(
            "outcome_from_platform", "This platform reports review outcomes itself; they cannot be typed in."
        )
    return release_review_decided(release=release, outcome=outcome, reason=reason, actor=actor, ip=ip)


def release_sweep_in_flight() -> int:
    """Retry steps whose worker vanished: in flight for longer than the stale limit."""
    cutoff = timezone.now() - timedelta(seconds=settings.SLUICE_INFLIGHT_STALE_SECONDS)
    stale = Release.objects.filter(state__in=list(IN_FLIGHT), state_changed_at__lt=cutoff).values_list(
        "pk", flat=True
    )
    count = 0
    for release_id in stale:
        try:
            release_step_perform(release_id=release_id)
            count += 1
        except Exception:  # one poisoned release must not stop the sweep
            logger.exception("Sweep could not finish the step of release %s", release_id)
    return count
