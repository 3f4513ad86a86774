"""Writes that make a release and take it to `checked`: create, edit, run the checks, tick
the manual checklist (whichever of the last two completes the gate moves the release)."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.checks import run_checks, run_pending
from releases.checks.build_report import validate_build_report
from releases.errors import Invalid, NotFound, Refused
from releases.fingerprint import CONTENT_FIELDS
from releases.gate.facts import checklist_of, fresh_facts, latest_check_runs
from releases.models import EDITABLE, App, ChecklistTick, CheckResult, CheckRun, Release, Role, State
from releases.selectors import active_suppressions, latest_published_version
from releases.transitions import _lock, _refuse_stale, _require_role, _state_label, _transition
from releases.versioning import parse

# Where the code came from: set from a CI build (releases/build_services.py), never by hand.
BUILD_FIELDS = ("build_commit", "build_branch", "build_ci_url")
# The code a third-party platform ships (releases/fingerprint.py CODE_FIELDS).
CODE_FIELDS = ("template_id", "ext_json")


def _validate_version(app: App, version: str, *, exclude_release_id: int | None = None) -> str:
    version = (version or "").strip()
    if parse(version) is None:
        raise Invalid(
            "invalid_version",
            gettext_noop("“%(version)s” is not a semantic version such as 1.4.0.") % {"version": version},
            details={"version": gettext_noop("Use MAJOR.MINOR.PATCH, e.g. 1.4.0.")},
        )
    if app.releases.filter(version=version).exclude(pk=exclude_release_id).exists():
        raise Refused(
            "version_exists",
            gettext_noop("%(app)s already has a release %(version)s.") % {"app": app, "version": version},
        )
    latest = latest_published_version(app, exclude_release_id=exclude_release_id)
    if latest is not None and parse(version) <= parse(latest):
        raise Invalid(
            "version_not_greater",
            gettext_noop("%(version)s must be greater than the published %(latest)s.")
            % {"version": version, "latest": latest},
            details={"version": gettext_noop("Must be greater than %(latest)s.") % {"latest": latest}},
        )
    return version


def _validate_build_report(report) -> dict:
    errors = validate_build_report(report)
    if errors:
        fields = ", ".join(f"build_report.{k}" if k != "build_report" else k for k in errors)
        raise Invalid(
            "invalid_build_report",
            gettext_noop("The build report has fields of the wrong type: %(fields)s.") % {"fields": fields},
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
    target_date=None,
    build: dict | None = None,
    template_id: str = "",
    ext_json: dict | None = None,
    ip: str | None = None,
) -> Release:
    """A new draft; `build` ({"build_commit", "build_branch", "build_ci_url"}) when CI made it."""
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
                target_date=target_date,
                template_id=template_id,
                ext_json=ext_json or {},
                **(build or {}),
                author=actor,
                owner=actor,
            )
            audit_record(
                action="create",
                actor=actor,
                release=release,
                to_state=release.state,
                data={"version": version, **({"commit": build["build_commit"]} if build else {})},
                ip=ip,
            )
    except IntegrityError:
        raise Refused(
            "version_exists",
            gettext_noop("%(app)s already has a release %(version)s.") % {"app": app, "version": version},
        ) from None
    return release


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
        _refuse_stale(release, based_on, gettext_noop("nothing was saved"))
        if "target_date" in changes and changes["target_date"] != release.target_date:
            _set_target_date(release, actor, changes["target_date"], ip)
        editable = (*CONTENT_FIELDS, *BUILD_FIELDS, *CODE_FIELDS)
        changed = {k: v for k, v in changes.items() if k in editable and getattr(release, k) != v}
        if not changed:
            return release
        if release.state not in EDITABLE:
            raise Refused(
                "invalid_state",
                gettext_noop("A release that is %(state)s can no longer be edited.")
                % {"state": _state_label(release.state)},
            )
        if "version" in changed:
            changed["version"] = _validate_version(
                release.app, changed["version"], exclude_release_id=release.pk
            )
        if "build_report" in changed:
            _validate_build_report(changed["build_report"])
        return _transition(
            release,
            "edit",
            actor=actor,
            ip=ip,
            changes=changed,
            data={
                "changed": sorted(changed),
                **({"commit": c} if (c := changed.get("build_commit")) else {}),
            },
        )


def _set_target_date(release: Release, actor, target_date, ip) -> None:
    """A planned date is not content: it is saved and audited without a new revision."""
    release.target_date = target_date
    release.save(update_fields=["target_date", "updated_at"])
    audit_record(
        action="target_date_set",
        actor=actor,
        release=release,
        from_state=release.state,
        to_state=release.state,
        data={"target_date": target_date.isoformat() if target_date else None},
        ip=ip,
    )


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
            "invalid_state",
            gettext_noop("Checks run on drafts; this release is %(state)s.")
            % {"state": _state_label(release.state)},
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
            "checks_failed",
            gettext_noop("%(count)s check(s) failed: %(checks)s.")
            % {"count": len(failing), "checks": "; ".join(failing)},
            details=details,
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
        raise NotFound(
            "unknown_check",
            gettext_noop("“%(key)s” is not an item of %(app)s's manual checklist.")
            % {"key": key, "app": release.app},
        )
    with transaction.atomic():
        _lock(release)
        if release.state != State.DRAFT:
            raise Refused(
                "invalid_state",
                gettext_noop("The checklist is ticked on drafts; this release is %(state)s.")
                % {"state": _state_label(release.state)},
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
