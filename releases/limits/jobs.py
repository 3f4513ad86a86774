"""Cron entry points (config/cron.py): thin, idempotent, safe to run at any interval."""

import logging
from datetime import datetime, timedelta

from releases import services
from releases.limits import clock
from releases.limits.quota import quota_refresh_all
from releases.limits.rules import window_days
from releases.models import Release, State

logger = logging.getLogger(__name__)


def expire_overdue_releases(now: datetime | None = None) -> int:
    """Move rejected releases whose resubmission window passed to `expired`.

    Through releases.services.release_expire (a system transition with its audit event); a
    release changed meanwhile is skipped by that service's own guards.
    """
    expire = getattr(services, "release_expire", None)
    if expire is None:
        logger.warning("releases.services.release_expire is missing; overdue releases stay rejected")
        return 0
    cutoff = clock.now_or(now) - timedelta(days=window_days())
    count = 0
    for release in Release.objects.filter(state=State.REJECTED, decided_at__lte=cutoff).select_related("app"):
        try:
            count += expire(release=release) is not None
        except Exception:  # one release must not stop the others
            logger.exception("Could not expire release %s", release.pk)
    return count


def expire_overdue_releases_job() -> int:
    return expire_overdue_releases()


def refresh_quotas_job() -> int:
    return quota_refresh_all()


def sync_rejections_job() -> int:
    """Repair job: record rejections that older code stored without their items and tasks.

    A rejection is recorded whole in its own transition now, so this finds nothing except rows
    written before that (or by old processes still running during an upgrade); no page or guard
    catches up on rejections any more.
    """
    from releases.rejection_recording import sync_rejections

    return sync_rejections()
