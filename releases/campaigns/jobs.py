"""RQ entry points of the campaign driver: a run per campaign, queued by every campaign service
once its transaction commits, and by the cron tick (config/cron.py) for every campaign with work."""

import django_rq
from django.conf import settings

from releases.campaigns.models import DRIVEN, Campaign


def campaign_drive_job(campaign_id: int) -> None:
    from releases.campaigns.driver import campaign_drive

    campaign_drive(campaign_id)


def enqueue_drive(campaign_id: int) -> None:
    """A run once the current transaction commits (COMMIT_MODE=on_db_commit)."""
    queue = django_rq.get_queue("default")
    queue.enqueue(campaign_drive_job, campaign_id, job_timeout=settings.SLUICE_CAMPAIGN_LEASE_SECONDS)


def campaigns_tick_job() -> int:
    """The cron tick: a run for every campaign with work to do (one already running is left alone)."""
    ids = list(Campaign.objects.filter(state__in=DRIVEN).values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue_drive(campaign_id)
    return len(ids)
