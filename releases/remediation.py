"""From a rejection to a to-do list: plan tasks from the playbooks, complete them with
evidence, or override them with a reason (audited); and what the API and pages show of them.

The rejection itself, and the planning of its tasks with it, are recorded in its transition's
transaction (releases.rejection_recording); everything here that reads rejections and tasks
only reads.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.memo import memoized
from releases.models import (
    Playbook,
    Rejection,
    RejectionCategory,
    Release,
    RemediationTask,
    Role,
    State,
    english,
    role_at_least,
)
from releases.selectors import role_for

logger = logging.getLogger(__name__)

# The step whose note is the explanation to the reviewer (WeChat's feedback_info, ≤200 chars).
EXPLAIN_KEY = "explain_to_reviewer"
FEEDBACK_MAX = 200
NOTE_MAX = 4000
# A release past these states got an approval after its last rejection: that rejection is history.
APPROVED_SINCE = {
    State.APPROVED,
    State.PUBLISHING,
    State.PUBLISH_FAILED,
    State.PUBLISHED,
    State.ROLLING_BACK,
    State.ROLLBACK_FAILED,
    State.ROLLED_BACK,
}


# -- tasks ----------------------------------------------------------------------------------


def playbook_for(category: str, platform: str) -> Playbook | None:
    """The platform's own playbook for the category where it has one, else every platform's."""
    return (
        Playbook.objects.filter(category=category, platform__in=[platform, ""]).order_by("-platform").first()
    )


def _steps(category: str, platform: str) -> tuple[object | None, list[dict]]:
    """The current playbook version's steps, or one generic step when there is no playbook."""
    playbook = playbook_for(category, platform)
    version = playbook.current if playbook is not None else None
    if version is None:
        label = english(RejectionCategory(category).label).lower()
        return None, [
            {
                "key": f"{category}.fix",
                "title": gettext_noop("Fix the %(problem)s problem the reviewer named") % {"problem": label},
                "description": gettext_noop(
                    "No playbook covers this category yet: read the reason and the screenshots."
                ),
                "required": True,
                "check_key": "",
                "evidence": gettext_noop("What was changed, and where."),
            }
        ]
    fields = ("key", "title", "description", "required", "check_key", "evidence")
    return version, [
        {f: getattr(step, f) for f in fields} for step in version.steps.order_by("position", "pk")
    ]


def plan_tasks(release: Release, rejection: Rejection) -> tuple[list[str], list[str]]:
    """One task per playbook step of each category (deduplicated by key).

    A task the same kind of rejection already had is reopened: the earlier fix did not
    satisfy the reviewer. Returns the keys created and reopened.
    """
    existing = {task.key: task for task in release.remediation_tasks.select_for_update()}
    position = max((t.position for t in existing.values()), default=0)
    created, reopened = [], []
    platform = release.app.platform_account.platform
    for category in rejection.categories:
        version, steps = _steps(category, platform)
        for step in steps:
            task = existing.get(step["key"])
            if task is None:
                position += 1
                task = RemediationTask.objects.create(
                    release=release,
                    rejection=rejection,
                    playbook_version=version,
                    category=category,
                    position=position,
                    **step,
                )
                existing[task.key] = task
                created.append(task.key)
            elif task.rejection_id != rejection.pk and not task.is_open:
                _reopen(task, rejection)
                reopened.append(task.key)
    return created, reopened


def _reopen(task: RemediationTask, rejection: Rejection) -> None:
    task.rejection = rejection
    task.done, task.done_by, task.done_at, task.note = False, None, None, ""
    task.waived_by, task.waived_at, task.waive_reason = None, None, ""
    task.save()


def tasks_for(release: Release) -> list[RemediationTask]:
    """The release's tasks in order, each with `done_by_name` and `waived_by_name` (the people's
    usernames, not their rows), once per read scope."""
    return memoized(("remediation_tasks", release.pk), lambda: _tasks(release))


def _tasks(release: Release) -> list[RemediationTask]:
    username = get_user_model().USERNAME_FIELD
    named = {"done_by_name": F(f"done_by__{username}"), "waived_by_name": F(f"waived_by__{username}")}
    return list(release.remediation_tasks.annotate(**named).order_by("position", "pk"))


def _username(task: RemediationTask, role: str) -> str | None:
    """Who did (`done_by`) or waived (`waived_by`) the task: from tasks_for's names, or the row."""
    if getattr(task, f"{role}_id") is None:
        return None
    name = getattr(task, f"{role}_name", None)
    return name if name is not None else getattr(task, role).get_username()


def _require(actor, release: Release, minimum: str, doing: str) -> None:
    if not role_at_least(role_for(actor, release.app.team_id), minimum):
        raise Forbidden(
            "forbidden",
            gettext_noop("Only a %(role)s or above can %(doing)s.")
            % {"role": english(Role(minimum).label).lower(), "doing": doing},
        )


def _clean_note(note, *, key: str) -> str:
    note = (note or "").strip() if isinstance(note, str) else ""
    if not note:
        raise Invalid(
            "note_required",
            gettext_noop("Say what was done (the evidence) to complete this task."),
            details={"note": gettext_noop("Required.")},
        )
    limit = FEEDBACK_MAX if key == EXPLAIN_KEY else NOTE_MAX
    if len(note) > limit:
        raise Invalid(
            "note_too_long",
            gettext_noop("The note is %(count)s characters; at most %(limit)s are allowed here.")
            % {"count": len(note), "limit": limit},
            details={"note": gettext_noop("At most %(count)s characters.") % {"count": limit}},
        )
    return note


def remediation_complete(*, release: Release, key: str, actor, note: str, ip: str | None = None):
    """Mark one task done with its evidence note (developers and above). Audited."""
    _require(actor, release, Role.DEVELOPER, "complete remediation tasks")
    note = _clean_note(note, key=key)
    with transaction.atomic():
        task = release.remediation_tasks.select_for_update().filter(key=key).first()
        if task is None:
            raise NotFound(
                "unknown_task", gettext_noop("This release has no remediation task “%(key)s”.") % {"key": key}
            )
        task.done, task.done_by, task.done_at, task.note = True, actor, timezone.now(), note
        task.save(update_fields=["done", "done_by", "done_at", "note"])
        audit_record(
            action="remediation_done", actor=actor, release=release, data={"key": key, "note": note}, ip=ip
        )
    return task


def remediation_override(*, release: Release, actor, reason: str, ip: str | None = None):
    """Waive the open required tasks so the release can be resubmitted (release managers). Audited."""
    _require(actor, release, Role.RELEASE_MANAGER, "override remediation tasks")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid(
            "reason_required",
            gettext_noop("Say why the open tasks may be skipped."),
            details={"reason": gettext_noop("Required for an override.")},
        )
    with transaction.atomic():
        tasks = [t for t in release.remediation_tasks.select_for_update() if t.required and t.is_open]
        if not tasks:
            raise Refused(
                "nothing_to_override", gettext_noop("No required remediation task is open on this release.")
            )
        now = timezone.now()
        for task in tasks:
            task.waived_by, task.waived_at, task.waive_reason = actor, now, reason
            task.save(update_fields=["waived_by", "waived_at", "waive_reason"])
        audit_record(
            action="remediation_override",
            actor=actor,
            release=release,
            data={"reason": reason, "keys": [t.key for t in tasks]},
            ip=ip,
        )
    return tasks


def feedback_info(release: Release) -> str | None:
    """The explanation to the reviewer for a resubmission after a rejection (WeChat feedback_info)."""
    task = release.remediation_tasks.filter(key=EXPLAIN_KEY, done=True).first()
    if task is None or not release.rejections.exists():
        return None
    return task.note[:FEEDBACK_MAX]


# -- what the API and pages show -------------------------------------------------------------


def latest_rejection(release: Release) -> Rejection | None:
    """The rejection still relevant to the release: none once it was approved afterwards."""
    if release.state in APPROVED_SINCE:
        return None
    return release.rejections.order_by("-at", "-pk").first()


def rejection_out(rejection: Rejection | None) -> dict | None:
    if rejection is None:
        return None
    return {
        "reason": rejection.reason,
        "items": [
            {"text": i["text"], "category": i["category"], "title": i["title"], "details": i["details"]}
            for i in rejection.items
        ],
        "categories": rejection.categories,
        "screenshots": rejection.screenshots,
        "audit_id": rejection.audit_id,
        "at": rejection.at,
    }


def task_out(task: RemediationTask) -> dict:
    return {
        "key": task.key,
        "title": task.title,
        "description": task.description,
        "category": task.category,
        "required": task.required,
        "done": task.done,
        "done_by": _username(task, "done_by"),
        "done_at": task.done_at,
        "note": task.note,
        "check": task.check_key or None,
        "evidence": task.evidence,
        "waived": task.waived_at is not None,
        "waived_by": _username(task, "waived_by"),
        "waive_reason": task.waive_reason,
    }
