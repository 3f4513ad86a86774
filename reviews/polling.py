"""Following a submitted review on an API platform (WeChat, Douyin) by asking, because pushes get lost.

Every submitted release has a ReviewWatch. A poll job asks the adapter's review_status
(WeChat's get_auditstatus, Douyin's versions) and hands the answer to
reviews.services.review_status_apply, the same function the pushes use, so whichever sees
the decision first records it and the other is a no-op. Each poll schedules the next one
(RQ `enqueue_in` on the `platform` queue); the cron sweep catches watches whose scheduled
job was lost and submitted releases that have no watch at all.

Polls claim their watch with a conditional UPDATE of next_poll_at, so a duplicated or
late job, or two workers at once, make one call and the extra job does nothing.
"""

import logging
import random
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from releases.models import Release, State
from releases.platform_rules import rules_for
from releases.platforms import PlatformError, ReviewCode, ReviewStatus, adapter_for, followed_platforms
from reviews.models import ReviewWatch

logger = logging.getLogger(__name__)

# WeChat usually decides in 1-3 working days; across a weekend that is up to 5 calendar days.
# Each platform's window is in releases.platform_rules.
DECISION_WINDOW = (timedelta(hours=20), timedelta(days=5))
# A job fires a little early or late; a watch overdue past the grace was lost by the scheduler.
DUE_TOLERANCE = timedelta(seconds=1)
LOST_AFTER = timedelta(seconds=60)
JITTER = 0.1


def poll_delay(*, polls: int, elapsed: timedelta, platform: str = "wechat") -> int:
    """Seconds until the next poll of a review submitted `elapsed` ago and polled `polls` times.

    The curve (defaults MIN=120 s, MAX=3600 s):
    - soon after submit: MIN, then doubling each poll (2, 4, 8, 16, 32 min...), because a
      quick decision (or a rejection by an automated check) often comes in the first hour;
    - then every MAX (hourly), which costs 24 calls a day per review;
    - inside the expected decision window, 20 h to 5 days after submission (1-3 working
      days, weekends included), tighter again: every max(MIN, MAX / 4) (15 min), so a
      decision whose push was lost is seen within minutes rather than an hour.
    Demos and tests set REVIEW_POLL_MIN_SECONDS / REVIEW_POLL_MAX_SECONDS to seconds.
    """
    low, high = settings.REVIEW_POLL_MIN_SECONDS, settings.REVIEW_POLL_MAX_SECONDS
    delay = min(low * 2 ** min(polls, 32), high)
    window = rules_for(platform).decision_window  # WeChat's is DECISION_WINDOW
    if window[0] <= elapsed <= window[1]:
        delay = min(delay, max(low, high // 4))
    return delay


def _jittered(seconds: int) -> int:
    """Spread polls of many reviews submitted together so they do not hit WeChat at once."""
    return max(1, round(seconds * random.uniform(1 - JITTER, 1 + JITTER)))


def _schedule(release_id: int, delay: int) -> None:
    from reviews.jobs import poll_release

    django_rq.get_queue("platform").enqueue_in(timedelta(seconds=delay), poll_release, release_id)


def review_watch_start(release: Release) -> ReviewWatch:
    """Follow a release that was just submitted (or resubmitted): first poll after MIN seconds."""
    delay = settings.REVIEW_POLL_MIN_SECONDS
    watch, _ = ReviewWatch.objects.update_or_create(
        release=release,
        defaults={
            "audit_id": release.platform_audit_id,
            "polls": 0,
            "last_status": None,
            "last_polled_at": None,
            "next_poll_at": timezone.now() + timedelta(seconds=delay),
            "active": True,
        },
    )
    transaction.on_commit(lambda: _schedule(release.pk, delay))
    return watch


def _claim(release_id: int, now) -> bool:
    """Take this poll: move next_poll_at out of reach so no other job polls meanwhile."""
    lease = now + timedelta(seconds=settings.WECHAT_HTTP_TIMEOUT_SECONDS * 4 + 60)
    return bool(
        ReviewWatch.objects.filter(
            release_id=release_id, active=True, next_poll_at__lte=now + DUE_TOLERANCE
        ).update(next_poll_at=lease)
    )


def review_poll(release_id: int) -> str:
    """Ask the platform once about a submitted release and record what it says.

    Returns what happened ("not_due", "stopped", "error", "polled") for logs and tests.
    """
    now = timezone.now()
    if not _claim(release_id, now):
        return "not_due"
    watch = ReviewWatch.objects.select_related("release__app__platform_account").get(release_id=release_id)
    release = watch.release
    if release.state != State.SUBMITTED:
        _stop(watch)
        return "stopped"
    try:
        answer = review_ask(release, audit_id=release.platform_audit_id or watch.audit_id, source="poll")
    except PlatformError as exc:
        logger.warning("Polling the review of release %s failed: %s", release.pk, exc.message)
        _reschedule(watch, now, status=watch.last_status)
        return "error"
    release.refresh_from_db()
    if release.state != State.SUBMITTED:
        _stop(watch, now=now, status=answer.status)
        return "polled"
    if release.platform_audit_id and release.platform_audit_id != watch.audit_id:
        watch.audit_id = release.platform_audit_id  # resubmitted outside Sluice: follow the new one
    _reschedule(watch, now, status=answer.status)
    return "polled"


def review_ask(release: Release, *, audit_id: str = "", source: str) -> ReviewStatus:
    """Ask the platform about the release's submission and record what it says; returns its answer.

    The one status call of both a poll and a pushed event (reviews.push, the Douyin push): whatever
    the trigger, the state only ever changes on the platform's own answer. Raises PlatformError.
    """
    adapter = adapter_for(release.app.platform_account)
    answer = adapter.review_status(release, audit_id or release.platform_audit_id)
    if answer is None:
        raise PlatformError("The platform holds no submission for this app yet.", code="no_submission")
    _apply(release, answer, source)
    if answer.status == ReviewCode.WITHDRAWN:
        _notice_resubmission(adapter, release, answer.audit_id, source)
    return answer


def review_poll_soon(release: Release) -> None:
    """Make the release's watch due now and queue its poll (after commit): a push could not ask itself."""
    updated = ReviewWatch.objects.filter(release=release, active=True).update(next_poll_at=timezone.now())
    if updated:
        transaction.on_commit(lambda: _schedule(release.pk, 0))


def _apply(release: Release, answer: ReviewStatus, source: str) -> None:
    from reviews.services import review_status_apply

    review_status_apply(
        release,
        status=int(answer.status),
        reason=answer.reason,
        screenshots=answer.screenshots,
        audit_id=str(answer.audit_id),
        source=source,
    )


def _notice_resubmission(adapter, release: Release, audit_id: str, source: str) -> None:
    """Our submission was withdrawn; a newer one on the platform means someone resubmitted in its console."""
    latest = adapter.latest_review(release)
    if latest is None or str(latest.audit_id) == str(audit_id):
        return
    release.refresh_from_db()
    _apply(release, latest, source)


def _reschedule(watch: ReviewWatch, now, *, status) -> None:
    elapsed = now - (watch.release.submitted_at or now)
    platform = watch.release.app.platform_account.platform
    delay = _jittered(poll_delay(polls=watch.polls, elapsed=elapsed, platform=platform))
    watch.polls += 1
    watch.last_status = status
    watch.last_polled_at = now
    watch.next_poll_at = now + timedelta(seconds=delay)
    watch.save(update_fields=["audit_id", "polls", "last_status", "last_polled_at", "next_poll_at"])
    _schedule(watch.release_id, delay)


def _stop(watch: ReviewWatch, *, now=None, status=None) -> None:
    watch.active = False
    fields = ["active"]
    if now is not None:
        watch.polls += 1
        watch.last_polled_at = now
        watch.last_status = status
        fields += ["polls", "last_polled_at", "last_status"]
    watch.save(update_fields=fields)


def review_sweep() -> int:
    """Poll every watch whose scheduled job was lost, and start watches that are missing.

    Returns the number of polls queued.
    """
    now = timezone.now()
    unwatched = Release.objects.filter(
        state=State.SUBMITTED, app__platform_account__platform__in=followed_platforms()
    ).exclude(review_watch__active=True)
    started = set()
    for release in unwatched:
        ReviewWatch.objects.update_or_create(
            release=release,
            defaults={"audit_id": release.platform_audit_id, "polls": 0, "next_poll_at": now, "active": True},
        )
        started.add(release.pk)
    lost = ReviewWatch.objects.filter(active=True, next_poll_at__lte=now - LOST_AFTER).values_list(
        "release_id", flat=True
    )
    release_ids = started | set(lost)
    from reviews.jobs import poll_release

    queue = django_rq.get_queue("platform")
    for release_id in sorted(release_ids):
        queue.enqueue(poll_release, release_id)
    return len(release_ids)
