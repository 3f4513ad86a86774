"""Recording a rejection: the `review_rejected` audit event turned into a Rejection with
classified items, its remediation tasks (releases.remediation.plan_tasks) and the unknown
reasons counted.

A rejection is the `review_rejected` audit event (written by releases.services for a push,
a poll or a person). `on_rejected` records it inside that event's transaction
(releases.services.release_review_decided): a rejection is recorded whole or not at all, so
everything that reads rejections and tasks only reads. `sync_rejections` is a repair, never a
read's business: it records events stored by older code (which recorded the rejection after
the transition and could lose it), run by `manage.py reclassify_rejections` and a cron job.
"""

import hashlib
import re
import unicodedata
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from releases.audit import audit_record
from releases.models import AuditEvent, Rejection, RejectionCategory, Release, UnclassifiedReason
from releases.platforms import adapter_for
from releases.remediation import plan_tasks

OTHER = RejectionCategory.OTHER.value

REJECTED_ACTION = "review_rejected"


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
