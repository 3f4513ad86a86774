"""Rejection screenshots fetched as pictures (issue 15, wechat-fleet.md §6), best effort.

A rejection names its screenshots by media id. Recording it plans one pending
RejectionScreenshot per id in the rejection's own transaction, and a job on the platform queue
fetches them once that commits: outside any transaction, each row claimed first (a conditional
UPDATE with a lease), so a repeated job, the sweep and a second worker never fetch one picture
twice at once, and a fetched picture is never fetched again. A transient failure is logged and
retried later with backoff; a permanent one (an unknown media id, not a picture, too large) ends
the row failed with the reason. The rejection, its reason text and its tasks never wait for this.

What is kept is checked: at most MAX_BYTES, and the type is read from the bytes themselves
(PNG, JPEG, GIF, WebP), never from what the platform claimed.
"""

import logging
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string
from redis.exceptions import RedisError

from releases.models import Rejection, Release
from releases.platforms import PlatformError, adapter_for
from reviews.models import RejectionScreenshot

logger = logging.getLogger(__name__)

State = RejectionScreenshot.State
MAX_BYTES = 5 * 1024 * 1024
MAX_PER_REJECTION = 10  # WeChat attaches a few; a list longer than this is not screenshots
RETRY_SECONDS = (60, 300, 1800, 7200, 21600)  # then the row is failed for good
LEASE_SECONDS = 120
SWEEP_DAYS = 14  # rejections older than this are not looked at by the sweep

MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(data: bytes) -> str | None:
    """The picture's type from its first bytes, or None when it is none we show."""
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _platforms_with_screenshots() -> list[str]:
    return [
        platform
        for platform, path in settings.SLUICE_PLATFORM_ADAPTERS.items()
        if getattr(import_string(path), "fetches_screenshots", False)
    ]


def screenshots_plan(rejection: Rejection) -> int:
    """Pending rows for the rejection's media ids, and their fetch queued after commit (idempotent)."""
    media_ids = list(dict.fromkeys(m for m in rejection.screenshots if m))[:MAX_PER_REJECTION]
    if not media_ids:
        return 0
    rows = [
        RejectionScreenshot(rejection=rejection, position=i, media_id=media_id[:200])
        for i, media_id in enumerate(media_ids)
    ]
    RejectionScreenshot.objects.bulk_create(rows, ignore_conflicts=True)
    rejection_id = rejection.pk
    transaction.on_commit(lambda: _enqueue(rejection_id))
    return len(rows)


def screenshots_plan_for(release) -> int:
    """After a rejection was recorded for `release` (inside its transaction): plan its screenshots
    when its platform attaches any."""
    if not getattr(adapter_for(release.app.platform_account), "fetches_screenshots", False):
        return 0
    rejection = Rejection.objects.filter(release=release).order_by("-pk").first()
    return screenshots_plan(rejection) if rejection is not None else 0


def _enqueue(rejection_id: int, delay: int = 0) -> None:
    from reviews.jobs import fetch_screenshots

    try:
        queue = django_rq.get_queue("platform")
        if delay:
            queue.enqueue_in(timedelta(seconds=delay), fetch_screenshots, rejection_id)
        else:
            queue.enqueue(fetch_screenshots, rejection_id)
    except (RedisError, OSError) as exc:  # the sweep queues it again
        logger.warning("Could not queue the screenshots of rejection %s: %s", rejection_id, exc)


def _claim(row_id: int) -> bool:
    now = timezone.now()
    return bool(
        RejectionScreenshot.objects.filter(pk=row_id, state=State.PENDING, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .update(claimed_until=now + timedelta(seconds=LEASE_SECONDS), attempts=F("attempts") + 1)
    )


def _store(row: RejectionScreenshot, data: bytes) -> None:
    content_type = sniff(data)
    if content_type is None:
        raise PlatformError("The platform's answer is not a PNG, JPEG, GIF or WebP picture.", permanent=True)
    RejectionScreenshot.objects.filter(pk=row.pk, state=State.PENDING).update(
        state=State.FETCHED,
        data=data,
        size=len(data),
        content_type=content_type,
        fetched_at=timezone.now(),
        claimed_until=None,
        last_error="",
    )


def _failed(row: RejectionScreenshot, exc: PlatformError) -> int | None:
    """Record the failure; the seconds until the next attempt, or None when it is given up."""
    attempts = RejectionScreenshot.objects.filter(pk=row.pk).values_list("attempts", flat=True).first() or 1
    give_up = exc.permanent or attempts > len(RETRY_SECONDS)
    wait = None if give_up else RETRY_SECONDS[attempts - 1]
    RejectionScreenshot.objects.filter(pk=row.pk, state=State.PENDING).update(
        state=State.FAILED if give_up else State.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=wait or 0),
        claimed_until=None,
        last_error=str(exc.message)[:300],
    )
    logger.warning(
        "Screenshot %s of rejection %s (attempt %s): %s%s",
        row.media_id,
        row.rejection_id,
        attempts,
        exc.message,
        "; given up" if give_up else f"; retried in {wait} s",
    )
    return wait


def screenshots_fetch(rejection_id: int) -> int:
    """Fetch the rejection's pending screenshots that are due; the number fetched now.

    Each is claimed first and fetched outside any transaction; a failure is recorded on its row
    and a later attempt queued, so the job itself never fails and never loses the others.
    """
    rejection = (
        Rejection.objects.select_related("release__app__platform_account").filter(pk=rejection_id).first()
    )
    if rejection is None:
        return 0
    app = rejection.release.app
    adapter = adapter_for(app.platform_account)
    fetched, settled, retry_in = 0, 0, []
    pending = RejectionScreenshot.objects.filter(rejection=rejection, state=State.PENDING).defer("data")
    for row in pending:
        if not _claim(row.pk):
            continue  # not due yet, or another worker holds it
        try:
            data, _claimed_type = adapter.fetch_screenshot(app, row.media_id, max_bytes=MAX_BYTES)
            if len(data) > MAX_BYTES:
                raise PlatformError(f"The picture is larger than {MAX_BYTES} bytes.", permanent=True)
            _store(row, data)
            fetched += 1
        except PlatformError as exc:
            wait = _failed(row, exc)
            if wait is not None:
                retry_in.append(wait)
        settled += 1
    if settled:  # the release page shows them: its live stamp (web/live.py) includes updated_at
        Release.objects.filter(pk=rejection.release_id).update(updated_at=timezone.now())
    if retry_in:
        _enqueue(rejection_id, delay=min(retry_in))
    return fetched


def screenshots_sweep() -> int:
    """Periodic: plan rejections whose screenshots were never planned (recorded by a repair, or
    Redis was down), and queue the fetch of every rejection with a row due. Returns jobs queued."""
    since = timezone.now() - timedelta(days=SWEEP_DAYS)
    unplanned = (
        Rejection.objects.filter(
            at__gte=since, release__app__platform_account__platform__in=_platforms_with_screenshots()
        )
        .exclude(screenshots=[])
        .exclude(Exists(RejectionScreenshot.objects.filter(rejection=OuterRef("pk"))))
    )
    for rejection in unplanned[:100]:
        with transaction.atomic():
            screenshots_plan(rejection)
    now = timezone.now()
    due = (
        RejectionScreenshot.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .values_list("rejection_id", flat=True)
        .distinct()
    )
    rejection_ids = sorted(set(due[:500]))
    for rejection_id in rejection_ids:
        _enqueue(rejection_id)
    return len(rejection_ids)


def pictures_of(rejection_id: int | None) -> list[RejectionScreenshot]:
    """The rejection's screenshots without their bytes, for the release page."""
    if rejection_id is None:
        return []
    return list(
        RejectionScreenshot.objects.filter(rejection_id=rejection_id).defer("data").order_by("position")
    )
