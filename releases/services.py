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

from releases import approvals
from releases.audit import audit_record
from releases.checks import run_checks, run_pending
from releases.checks.build_report import validate_build_report
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.fingerprint import CONTENT_FIELDS
from releases.gate.facts import checklist_of, fresh_facts, latest_check_runs
from releases.models import (
    EDITABLE,
    IN_FLIGHT,
    OVERRIDE,
    App,
    Approval,
    AuditEvent,
    Capacity,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Release,
    Role,
    State,
    english,
    guard_text,
    may_attempt,
    role_at_least,
)
from releases.platforms import PlatformError, adapter_for
from releases.selectors import active_suppressions, latest_published_version, role_for
from releases.steps import (
    max_attempts,
    step_checkpoint_save,
    step_claim,
    step_defer,
    step_reserve,
    steps_due,
)
from releases.versioning import parse

logger = logging.getLogger(__name__)

OUTCOMES = ("approved", "rejected", "delayed")


def _require_role(actor, team_id: int, minimum: str, doing: str) -> None:
    if not role_at_least(role_for(actor, team_id), minimum):
        raise Forbidden("forbidden", f"Only a {english(Role(minimum).label).lower()} or above can {doing}.")


def _state_label(state: str) -> str:
    return english(State(state).label).lower()


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


def refuse_unless_permitted(release: Release, name: str, actor) -> None:
    """403 unless the actor's role allows the transition from some state: permission is decided
    before state, so a viewer always gets 403, never a 409 about the release's state."""
    meta = getattr(release, name)._django_fsm
    if actor is None or any(meta.has_transition_perm(release, source, actor) for source in meta.transitions):
        return
    if name in ("approve", "send_back") and approvals.capacities_of(actor, release.app):
        why = approvals.self_approval_reason(release, actor)
        if why:
            raise Forbidden("self_approval", f"{why}; someone who did not write it must decide.")
    raise Forbidden(
        "forbidden", f"Your role in {release.app.team} does not allow this action on the release."
    )


def _refuse_unless_allowed(release: Release, name: str, actor) -> None:
    """Name exactly why a transition cannot run: role, wrong state, or which guard."""
    refuse_unless_permitted(release, name, actor)
    method = getattr(release, name)
    if not fsm.can_proceed(method, check_conditions=False):
        raise Refused(
            "invalid_state",
            f"A release that is {_state_label(release.state)} cannot {DOING.get(name, name)}.",
        )
    if actor is not None and not may_attempt(release, name, actor):  # the permission from this state
        raise Forbidden(
            "forbidden", f"Your role in {release.app.team} does not allow this action on the release."
        )
    transition = method._django_fsm.get_transition(release.state)
    for condition in transition.conditions:
        if not condition(release):
            raise Refused(condition.guard_code, guard_text(condition, release))


# Transitions whose platform limits (quota, withdrawals, locks...) releases.limits enforces.
LIMITED_TRANSITIONS = ("submit", "withdraw", "retry")


def _refuse_by_limits(release: Release, name: str) -> None:
    """The limits guard (releases.limits) names a refusal and when it lifts."""
    if name not in LIMITED_TRANSITIONS:
        return
    from releases.limits import transition_refusal

    refusal = transition_refusal(release, name)
    if refusal:
        code, message = refusal
        raise Refused(code, message, details=getattr(refusal, "details", None))


# What a transition re-reads under the row lock: every column but the foreign keys (a release never
# changes app or author), so what the caller loaded along with it (the app, its account) stays loaded.
_ROW_FIELDS = [f.attname for f in Release._meta.concrete_fields if not f.is_relation and not f.primary_key]


def _lock(release: Release) -> None:
    """Lock the app, then the release's row, and re-read the release under that lock.

    The app lock serialises the guards that read sibling rows ("one release in review per app")
    and the writes that complete the check gate; the row lock and the re-read make every guard
    judge the release as it is now, not as the caller loaded it (a stale copy saved whole would
    write its old content back).
    """
    App.objects.select_for_update().filter(pk=release.app_id).first()
    release.refresh_from_db(fields=_ROW_FIELDS, from_queryset=Release.objects.select_for_update())


def _transition(
    release: Release,
    name: str,
    *,
    actor,
    ip=None,
    data=None,
    action=None,
    args=None,
    changes=None,
    then=None,
) -> Release:
    """Run one transition with its guards, save it, and write its audit event, atomically.

    The release is re-read under its row lock first; `changes` (content fields) are applied to
    that fresh row; `data` may be a function of it, for audit data that names its revision.
    `then(release, event)` runs last in the same transaction: what the transition means beyond
    its state (a rejection's items and tasks) is recorded with it or not at all, so no reader
    ever has to catch up on it.
    """
    try:
        with transaction.atomic():
            _lock(release)
            for field, value in (changes or {}).items():
                setattr(release, field, value)
            _refuse_unless_allowed(release, name, actor)
            _refuse_by_limits(release, name)
            from_state = release.state
            getattr(release, name)(**(args or {}))
            release.state_changed_at = (
                timezone.now() if release.state != from_state else release.state_changed_at
            )
            release.save()
            event = audit_record(
                action=action or name,
                actor=actor,
                release=release,
                from_state=from_state,
                to_state=release.state,
                data=data(release) if callable(data) else data,
                ip=ip,
            )
            if then is not None:
                then(release, event)
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


# Transitions that start a new revision (the audit actions a stale refusal looks for).
NEW_REVISION = {"edit": "edited it", "send_back": "sent it back"}


def _refuse_stale(release: Release, based_on: int, nothing: str) -> None:
    """409 `stale_revision` unless the release (re-read under its lock) is still at the revision
    the person worked from; `nothing` says what did not happen ("nothing was saved")."""
    if based_on == release.revision:
        return
    details = {"revision": based_on, "current_revision": release.revision}
    if based_on > release.revision:
        raise Refused(
            "stale_revision",
            f"This release is at revision {release.revision}; there is no revision {based_on}, so {nothing}.",
            details=details,
        )
    bumps = AuditEvent.objects.filter(release_id=release.pk, action__in=list(NEW_REVISION))
    last = bumps.order_by("-id").first()
    who = f"{last.actor_name or 'The system'} ({NEW_REVISION[last.action]})" if last else "Someone"
    raise Refused(
        "stale_revision",
        f"{who} changed this release to revision {release.revision} while you had revision {based_on} "
        f"open; {nothing}. Read revision {release.revision}, then try again.",
        details=details,
    )


def release_update(
    *, release: Release, actor, changes: dict, revision: int | None = None, ip: str | None = None
) -> Release:
    """Edit content, based on `revision`: the one the person saw (by default the revision of
    `release` as the caller loaded it).

    If the release has moved on since, it is a 409 `stale_revision` and nothing changes: checked
    under the row lock, so two saves based on one revision never both land, and a stale save
    can never become the revision that earlier checks passed. Any change after `checked` sends
    it back to draft and voids approvals.
    """
    _require_role(actor, release.app.team_id, Role.DEVELOPER, "edit a release")
    based_on = release.revision if revision is None else revision
    with transaction.atomic():
        _lock(release)
        _refuse_stale(release, based_on, "nothing was saved")
        changed = {k: v for k, v in changes.items() if k in CONTENT_FIELDS and getattr(release, k) != v}
        if not changed:
            return release
        if release.state not in EDITABLE:
            raise Refused(
                "invalid_state", f"A release that is {_state_label(release.state)} can no longer be edited."
            )
        if "version" in changed:
            changed["version"] = _validate_version(
                release.app, changed["version"], exclude_release_id=release.pk
            )
        if "build_report" in changed:
            _validate_build_report(changed["build_report"])
        return _transition(
            release, "edit", actor=actor, ip=ip, changes=changed, data={"changed": sorted(changed)}
        )


# -- checks and approvals ----------------------------------------------------------------


def release_check(*, release: Release, actor, ip: str | None = None) -> CheckRun:
    """Run the checks and store the run; the release moves to `checked` once nothing blocks
    and the manual checklist is ticked.

    Fast checks run here. Slow ones (network) are stored "pending" and finished by a worker
    (`release_check_finish`), which then moves the release on if it can. A run where a fast
    check already blocks is kept (so the page can show what failed) and refused with 409
    `checks_failed`; its slow checks still finish in the worker, so the report is complete.
    When the run passes but checklist items are open, the release stays in draft and moves
    on with the last tick (`release_confirm_check`).
    """
    _require_role(actor, release.app.team_id, Role.DEVELOPER, "run checks")
    if release.state != State.DRAFT:
        raise Refused(
            "invalid_state", f"Checks run on drafts; this release is {_state_label(release.state)}."
        )
    # The run vouches for exactly what the checks read: this object's content, hashed now.
    content_hash = release.content_hash()
    results = run_checks(release, suppressions=active_suppressions(release.app))
    with transaction.atomic():
        run = CheckRun.objects.create(
            release=release, revision=release.revision, content_hash=content_hash, actor=actor
        )
        rows = CheckResult.objects.bulk_create(CheckResult(run=run, **result) for result in results)
        pending = [row.key for row in rows if row.status == CheckResult.Status.PENDING]
        if pending:
            from releases.jobs import enqueue_check_run

            enqueue_check_run(run.pk)
        else:
            run.passed = not any(row.blocks for row in rows)
            run.finished_at = timezone.now()
            run.save(update_fields=["passed", "finished_at"])
    failing = [r.title for r in rows if r.blocks]
    if failing:
        details = {"run_id": run.pk}
        if pending:
            details["pending"] = pending
        raise Refused(
            "checks_failed", f"{len(failing)} check(s) failed: {'; '.join(failing)}.", details=details
        )
    if not pending:
        with transaction.atomic():
            _lock(release)
            _advance_if_ready(release, actor=actor, ip=ip, data={"check_run": run.pk})
    return run


def _advance_if_ready(release: Release, *, actor, ip=None, data: dict) -> bool:
    """draft -> checked when the latest run passed and the checklist is complete; else nothing.

    Called with the app locked, by whichever of "run finished" and "last tick" comes last.
    """
    if release.state != State.DRAFT or not (release.has_passed_checks() and release.is_checklist_complete()):
        return False
    try:
        _transition(release, "mark_checked", actor=actor, ip=ip, action="check", data=data)
    except Refused:
        return False  # someone moved it first
    return True


def release_check_finish(*, run_id: int) -> CheckRun | None:
    """Finish the slow checks of a run (in a worker) and move the release on if nothing blocks.

    Idempotent: a finished run is left alone. The slow checks run outside any transaction
    (they call the network); the results, the verdict and the transition are written
    together. If the release changed since the run started (revision or content), the pending
    checks are not run (they would judge content the run is not about); the run is closed with
    a note.
    """
    run = CheckRun.objects.select_related("release__app__platform_account", "actor").filter(pk=run_id).first()
    if run is None or run.finished_at is not None:
        return run
    release = run.release
    keys = list(run.results.filter(status=CheckResult.Status.PENDING).values_list("key", flat=True))
    if run.counts_for(release):
        outcomes = run_pending(release, keys)
    else:
        stale = "The release changed before this check ran; run the checks again on the new revision."
        outcomes = {key: {"status": "error", "message": stale, "evidence": {}} for key in keys}
    with transaction.atomic():
        _lock(release)
        run = CheckRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at is not None:
            return run
        for row in run.results.filter(key__in=keys, status=CheckResult.Status.PENDING):
            outcome = outcomes[row.key]
            row.status, row.message, row.evidence = outcome["status"], outcome["message"], outcome["evidence"]
            row.save(update_fields=["status", "message", "evidence"])
        run.passed = not any(row.blocks for row in run.results.all())
        run.finished_at = timezone.now()
        run.save(update_fields=["passed", "finished_at"])
        started_by = run.actor.get_username() if run.actor_id else None
        _advance_if_ready(release, actor=None, data={"check_run": run.pk, "started_by": started_by})
    return run


def release_confirm_check(*, release: Release, actor, key: str, ip: str | None = None) -> ChecklistTick:
    """A person ticks one manual checklist item for the current revision and its exact content.

    Ticking twice is harmless (the first tick stands). The tick that completes the
    checklist of a release whose checks already passed moves it to `checked`.
    """
    _require_role(actor, release.app.team_id, Role.DEVELOPER, "tick the checklist")
    item = next((i for i in checklist_of(release.app) if i["key"] == key), None)
    if item is None:
        raise NotFound("unknown_check", f"“{key}” is not an item of {release.app}'s manual checklist.")
    with transaction.atomic():
        _lock(release)
        if release.state != State.DRAFT:
            raise Refused(
                "invalid_state",
                f"The checklist is ticked on drafts; this release is {_state_label(release.state)}.",
            )
        tick = fresh_facts(release).ticks.get(key)
        if tick is not None:
            return tick
        tick = ChecklistTick.objects.create(
            release=release,
            revision=release.revision,
            content_hash=release.content_hash(),
            key=key,
            label=item.get("label", key),
            confirmed_by=actor,
        )
        audit_record(
            action="checklist_confirm",
            actor=actor,
            release=release,
            from_state=release.state,
            to_state=release.state,
            data={"key": key, "label": tick.label, "revision": release.revision},
            ip=ip,
        )
        run = latest_check_runs([release.pk]).get(release.pk)
        _advance_if_ready(
            release,
            actor=actor,
            ip=ip,
            data={"check_run": run.pk if run else None, "completed_by": "checklist"},
        )
    return tick


def _approval_capacity(release: Release, actor, capacity: str) -> str:
    """The capacity this approval fills: the one asked for, or the first open one the actor holds."""
    status = approvals.policy_status(release)
    if any(a.approver_id == actor.pk for a in status.approvals):
        raise Refused("already_approved", "You have already approved this revision.")
    held = approvals.capacities_of(actor, release.app)
    if capacity:
        if capacity not in Capacity.values:
            raise Invalid(
                "invalid_capacity",
                f"“{capacity}” is not an approval capacity.",
                details={"capacity": f"One of {', '.join(Capacity.values)}."},
            )
        if capacity not in held:
            raise Forbidden(
                "capacity_not_held",
                f"You do not approve as {english(approvals.capacity_label(capacity))} in {release.app.team}.",
            )
        if capacity not in status.missing:
            raise Refused(
                "approval_not_needed",
                f"Revision {release.revision} already has its "
                f"{english(approvals.capacity_label(capacity))} approval.",
            )
        return capacity
    open_ = [c for c in status.missing if c in held]
    if not open_:
        raise Refused(
            "approval_not_needed",
            "Your approval is not needed: " + approvals.missing_message(release),
        )
    return open_[0]


def release_approve(
    *,
    release: Release,
    actor,
    comment: str = "",
    capacity: str = "",
    revision: int | None = None,
    ip: str | None = None,
) -> Approval:
    """Approve `revision` (the one the approver read; by default that of `release` as loaded) in
    one capacity of the app's policy (see releases.approvals). A release that has moved on to
    another revision since is a 409 `stale_revision`: nobody approves content they have not seen.
    """
    based_on = release.revision if revision is None else revision
    with transaction.atomic():
        _lock(release)
        _refuse_stale(release, based_on, "nothing was approved")
        _refuse_unless_allowed(release, "approve", actor)
        capacity = _approval_capacity(release, actor, capacity)
        data = {"revision": release.revision, "comment": comment}
        if capacity != Capacity.RELEASE_MANAGER:
            data["capacity"] = capacity
        _transition(release, "approve", actor=actor, ip=ip, data=data)
        return Approval.objects.create(
            release=release, approver=actor, revision=release.revision, comment=comment, capacity=capacity
        )


def release_approve_override(
    *, release: Release, actor, reason: str, revision: int | None = None, ip: str | None = None
) -> Approval:
    """A team admin approves in place of the missing approvers, with a written reason.

    The override completes the policy for this revision on its own; it is audited as
    `approval_override` with the reason and what was missing. Whoever wrote the content (its
    author or an editor) still cannot, and `revision` is bound as for release_approve.
    """
    if not role_at_least(role_for(actor, release.app.team_id), Role.ADMIN):
        raise Forbidden("forbidden", "Only a team admin can approve by override.")
    if not (reason or "").strip():
        raise Invalid(
            "reason_required",
            "Write why the approval policy is overridden for this revision.",
            details={"reason": "Required."},
        )
    based_on = release.revision if revision is None else revision
    with transaction.atomic():
        _lock(release)
        _refuse_stale(release, based_on, "nothing was approved")
        why = approvals.self_approval_reason(release, actor)
        if why:
            raise Forbidden("self_approval", f"{why}; another admin who did not write it must override.")
        _refuse_unless_allowed(release, "approve", actor)
        missing = approvals.policy_status(release).missing
        _transition(
            release,
            "approve",
            actor=actor,
            ip=ip,
            action="approval_override",
            data={"revision": release.revision, "reason": reason.strip(), "missing": missing},
        )
        return Approval.objects.create(
            release=release,
            approver=actor,
            revision=release.revision,
            comment=reason.strip(),
            capacity=OVERRIDE,
            override=True,
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


def release_publish(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "publish", actor=actor, ip=ip)


def release_rollback(*, release: Release, actor, ip: str | None = None) -> Release:
    return _start_step(release, "rollback", actor=actor, ip=ip)


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
    claim = step_claim(release_id, reserved)
    if claim is None:
        return None
    release = Release.objects.select_related("app__platform_account", "app__team").get(pk=release_id)
    step = IN_FLIGHT.get(release.state)
    if step is None:
        return None
    adapter = adapter_for(release.app.platform_account)
    try:
        outcome = _step_call(adapter, step, release, claim)
    except PlatformError as exc:
        return _step_error(adapter, step, release, claim, exc)
    if outcome is None:
        return None
    args, data = outcome
    finished = _finish_step(release, f"{step}_succeeded", args=args, data=data)
    if finished is not None and step == "submit":
        adapter.on_submitted(finished)
    return finished


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
    writes no second event. A rejection is recorded whole, in the transition's transaction:
    its Rejection with the classified items, the remediation tasks and the unknown reasons
    counted (releases.remediation.on_rejected). If any of that fails, the rejection fails and
    the release stays submitted: the error reaches whoever delivered the decision (a poll job
    fails and the sweep polls again, a push is answered with an error and the poll is asked
    to come at once, a person sees the error), and the next delivery records it.
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
    then = _record_rejection if outcome == "rejected" else None
    try:
        return _transition(release, name, actor=actor, ip=ip, args=args, data=payload, then=then)
    except Refused:
        if actor is None:
            return None
        raise


def _record_rejection(release: Release, event: AuditEvent) -> None:
    """The rejection's items and tasks, inside the `review_rejected` transition's transaction."""
    from releases.remediation import on_rejected

    on_rejected(release, event=event)


def release_expire(*, release: Release) -> Release | None:
    """The resubmission window passed (a cron job): rejected -> expired, as a system event.

    A release no longer rejected (resubmitted or edited meanwhile) is left alone.
    """
    try:
        return _transition(release, "expire", actor=None, data={"decided_at": release.decided_at})
    except Refused:
        return None


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
    return count
