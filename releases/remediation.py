"""From a rejection to a to-do list: record the rejection, plan tasks from the playbooks,
complete them with evidence, or override them with a reason (audited).

A rejection is the `review_rejected` audit event (written by releases.services for a push,
a poll or a person). `on_rejected` turns it into a Rejection with classified items and tasks,
inside that event's transaction (releases.services.release_review_decided): a rejection is
recorded whole or not at all, so everything here that reads rejections and tasks only reads.
`sync_rejections` is a repair, never a read's business: it records events stored by older code
(which recorded the rejection after the transition and could lose it), run by
`manage.py reclassify_rejections` and a cron job.
"""

import hashlib
import logging
import re
import unicodedata
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from releases.audit import audit_record
from releases.errors import Forbidden, Invalid, NotFound, Refused
from releases.memo import memoized
from releases.models import (
    AuditEvent,
    Playbook,
    Rejection,
    RejectionCategory,
    Release,
    RemediationTask,
    Role,
    State,
    UnclassifiedReason,
    english,
    role_at_least,
)
from releases.platforms import adapter_for
from releases.selectors import role_for

logger = logging.getLogger(__name__)

OTHER = RejectionCategory.OTHER.value

REJECTED_ACTION = "review_rejected"
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


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, single spaces: how reasons are compared."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def rejection_items(release: Release, reason: str) -> list[dict]:
    """The reason as classified items, by the release's platform (its adapter parses and sorts)."""
    return adapter_for(release.app.platform_account).rejection_items(reason)


# -- recording a rejection ----------------------------------------------------------------


def _screenshots(data: dict) -> list[str]:
    """Media ids, whether the caller stored a list or WeChat's `xx|yy|zz` string."""
    for name in ("screenshots", "screenshot", "ScreenShot"):
        value = data.get(name)
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        if isinstance(value, str) and value.strip():
            return [v.strip() for v in value.split("|") if v.strip()]
    return []


def _categories(items: list[dict]) -> list[str]:
    return list(dict.fromkeys(item["category"] for item in items)) or [OTHER]


def _rejected_at(release: Release, event: AuditEvent | None) -> datetime:
    """The platform's own time (WeChat's FailTime, stored as `platform_at`) when known."""
    if event is None:
        return release.decided_at or timezone.now()
    stamp = event.data.get("platform_at")
    parsed = parse_datetime(stamp) if isinstance(stamp, str) else None
    return parsed if parsed is not None and timezone.is_aware(parsed) else event.at


def _latest_rejected_event(release: Release) -> AuditEvent | None:
    return AuditEvent.objects.filter(release_id=release.pk, action=REJECTED_ACTION).order_by("-id").first()


def on_rejected(
    release: Release,
    reason: str | None = None,
    screenshots: list[str] | None = None,
    audit_id: str | None = None,
    at: datetime | None = None,
    *,
    event: AuditEvent | None = None,
) -> Rejection | None:
    """Record the release's latest rejection once, with its items, tasks and unknown reasons.

    Arguments left out are read from the `review_rejected` audit event (its data may carry
    `reason`, `screenshots` and `audit_id`) and the release. Calling it again for the same
    event returns the existing Rejection (one per event: `audit_event_id` is unique). Errors
    are raised, never swallowed: inside the rejection's transition they undo the rejection.
    """
    event = event or _latest_rejected_event(release)
    if event is not None:
        existing = Rejection.objects.filter(audit_event_id=event.pk).first()
        if existing is not None:
            return existing
    data = event.data if event is not None else {}
    reason = (reason if reason is not None else data.get("reason") or release.rejection_reason or "").strip()
    if event is None and not reason:
        return None
    try:
        with transaction.atomic():
            return _record(
                release,
                reason=reason,
                screenshots=list(screenshots) if screenshots is not None else _screenshots(data),
                audit_id=audit_id
                if audit_id is not None
                else str(data.get("audit_id") or release.platform_audit_id),
                at=at or _rejected_at(release, event),
                event=event,
            )
    except IntegrityError:  # recorded at the same moment by another process
        return Rejection.objects.filter(audit_event_id=event.pk).first() if event is not None else None


def _record(release: Release, *, reason, screenshots, audit_id, at, event) -> Rejection:
    items = rejection_items(release, reason)
    rejection = Rejection.objects.create(
        release=release,
        app_id=release.app_id,
        audit_event_id=event.pk if event is not None else None,
        audit_id=audit_id,
        reason=reason,
        items=items,
        categories=_categories(items),
        screenshots=screenshots,
        at=at,
    )
    created, reopened = plan_tasks(release, rejection)
    # In one order whatever the rejection, so two rejections sharing unknown reasons lock their
    # rows in the same order (each holds them until its transition commits) and never deadlock.
    for text in sorted((item["text"] for item in items if item["category"] == OTHER), key=normalise):
        _count_unclassified(text, release, at)
    audit_record(
        action="remediation_planned",
        actor=None,
        release=release,
        data={
            "rejection": rejection.pk,
            "categories": rejection.categories,
            "created": created,
            "reopened": reopened,
        },
    )
    return rejection


def sync_rejections() -> int:
    """Repair: record every `review_rejected` event that has no Rejection yet (idempotent).

    Rejections are recorded in their own transition now, so this only ever finds events stored
    by older code, which recorded the rejection afterwards and logged a failure instead of
    raising it (also those written by old processes still running during an upgrade). Run by
    `manage.py reclassify_rejections` and the cron job (releases.limits.jobs); never by a page,
    an API answer or a guard, which read rejections and tasks as they are.
    """
    events = AuditEvent.objects.filter(action=REJECTED_ACTION, release_id__isnull=False)
    seen = Rejection.objects.filter(audit_event_id=OuterRef("pk"))
    unseen = list(events.exclude(Exists(seen)).order_by("id").values_list("pk", flat=True))
    if not unseen:  # the usual answer: read as ids only, the events themselves when there are some
        return 0
    count = 0
    for event in AuditEvent.objects.filter(pk__in=unseen).order_by("id"):
        target = Release.objects.filter(pk=event.release_id).first()
        if target is not None and on_rejected(target, event=event) is not None:
            count += 1
    return count


# -- unclassified reasons -------------------------------------------------------------------


def _count_unclassified(text: str, release: Release, at: datetime) -> None:
    normal = normalise(text)
    if not normal:
        return
    key = hashlib.sha256(normal.encode()).hexdigest()
    row, _ = UnclassifiedReason.objects.select_for_update().get_or_create(
        key=key, defaults={"text": text, "first_seen_at": at, "last_seen_at": at}
    )
    row.count += 1
    row.last_seen_at = max(row.last_seen_at, at)
    row.last_release_id = release.pk
    row.save(update_fields=["count", "last_seen_at", "last_release_id"])


def unclassified_reasons(limit: int = 100) -> list[UnclassifiedReason]:
    """Rejection items no rule recognised, most frequent first: what the rules should learn."""
    return list(UnclassifiedReason.objects.order_by("-count", "-last_seen_at")[:limit])


def reclassify_rejections() -> int:
    """Apply the current rules to every stored rejection and recount the unknown reasons.

    Run after editing rules.toml. Tasks already planned are left alone.
    """
    with transaction.atomic():
        UnclassifiedReason.objects.all().delete()
        count = 0
        rejections = Rejection.objects.select_related("release__app__platform_account")
        for rejection in rejections.order_by("at", "pk"):
            rejection.items = rejection_items(rejection.release, rejection.reason)
            rejection.categories = _categories(rejection.items)
            rejection.save(update_fields=["items", "categories"])
            for item in rejection.items:
                if item["category"] == OTHER:
                    _count_unclassified(item["text"], rejection.release, rejection.at)
            count += 1
    return count


# -- tasks ----------------------------------------------------------------------------------


def _steps(category: str) -> tuple[object | None, list[dict]]:
    """The current playbook version's steps, or one generic step when there is no playbook."""
    playbook = Playbook.objects.filter(category=category).first()
    version = playbook.current if playbook is not None else None
    if version is None:
        label = RejectionCategory(category).label.lower()
        return None, [
            {
                "key": f"{category}.fix",
                "title": f"Fix the {label} problem the reviewer named",
                "description": "No playbook covers this category yet: read the reason and the screenshots.",
                "required": True,
                "check_key": "",
                "evidence": "What was changed, and where.",
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
    for category in rejection.categories:
        version, steps = _steps(category)
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
        raise Forbidden("forbidden", f"Only a {english(Role(minimum).label).lower()} or above can {doing}.")


def _clean_note(note, *, key: str) -> str:
    note = (note or "").strip() if isinstance(note, str) else ""
    if not note:
        raise Invalid(
            "note_required",
            "Say what was done (the evidence) to complete this task.",
            details={"note": "Required."},
        )
    limit = FEEDBACK_MAX if key == EXPLAIN_KEY else NOTE_MAX
    if len(note) > limit:
        raise Invalid(
            "note_too_long",
            f"The note is {len(note)} characters; at most {limit} are allowed here.",
            details={"note": f"At most {limit} characters."},
        )
    return note


def remediation_complete(*, release: Release, key: str, actor, note: str, ip: str | None = None):
    """Mark one task done with its evidence note (developers and above). Audited."""
    _require(actor, release, Role.DEVELOPER, "complete remediation tasks")
    note = _clean_note(note, key=key)
    with transaction.atomic():
        task = release.remediation_tasks.select_for_update().filter(key=key).first()
        if task is None:
            raise NotFound("unknown_task", f"This release has no remediation task “{key}”.")
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
            "Say why the open tasks may be skipped.",
            details={"reason": "Required for an override."},
        )
    with transaction.atomic():
        tasks = [t for t in release.remediation_tasks.select_for_update() if t.required and t.is_open]
        if not tasks:
            raise Refused("nothing_to_override", "No required remediation task is open on this release.")
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
