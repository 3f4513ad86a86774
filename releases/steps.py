"""Who runs a release's platform step, and when: a lease, like the claim of a review poll.

A step (submit, withdraw, publish, rollback) is run by whichever job first claims it: one
conditional UPDATE takes the release while no lease holds it and stamps a lease that outlives
the job's timeout (config/settings.py enforces it), so a duplicated job, a retried one or the
sweep never make the same call while another worker may still be making it. A transient
failure hands the step back with a lease that ends when the next attempt is due (that attempt
is scheduled then); a killed worker hands nothing back, and its lease simply runs out. The
sweep queues again only steps whose lease has run out, or that no worker ever claimed.

The attempts are counted on the release; once SLUICE_STEP_RETRY_SECONDS is used up, the next
transient failure ends the step in its failed state (releases.services.release_step_perform).
"""

import logging
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from releases.models import IN_FLIGHT, Release

logger = logging.getLogger(__name__)

JITTER = 0.2  # ±20%, so steps failing in the same outage do not all return in the same second


def max_attempts() -> int:
    return len(settings.SLUICE_STEP_RETRY_SECONDS) + 1


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based), jittered."""
    waits = settings.SLUICE_STEP_RETRY_SECONDS
    base = waits[min(attempt, len(waits)) - 1]
    return max(1, round(base * random.uniform(1 - JITTER, 1 + JITTER)))


def step_claim(release_id: int) -> str | None:
    """Take the step of an in-flight release for one attempt; None if another worker holds it,
    its next attempt is not due yet, or the release is no longer in flight.

    Returns the claim (a random token) that the attempt's later writes are conditioned on.
    """
    now = timezone.now()
    claim = secrets.token_hex(8)
    free = Q(step_lease_until__isnull=True) | Q(step_lease_until__lte=now)
    taken = Release.objects.filter(free, pk=release_id, state__in=list(IN_FLIGHT)).update(
        step_claimed_by=claim,
        step_lease_until=now + timedelta(seconds=settings.SLUICE_STEP_LEASE_SECONDS),
        step_attempts=F("step_attempts") + 1,
    )
    return claim if taken else None


def step_checkpoint_save(release: Release, claim: str, checkpoint: dict) -> bool:
    """Record what the adapter saw before its first call; False if the claim was lost meanwhile."""
    saved = Release.objects.filter(pk=release.pk, step_claimed_by=claim, state=release.state).update(
        step_checkpoint=checkpoint
    )
    if saved:
        release.step_checkpoint = checkpoint
    return bool(saved)


def step_defer(release: Release, claim: str, *, code: str, message: str) -> int | None:
    """Hand the step back after a transient failure: nobody takes it before the next attempt is
    due, and that attempt is scheduled. The error is kept on the release (shown while it retries).

    Returns the delay in seconds, or None if the claim was lost meanwhile (nothing scheduled).
    """
    delay = retry_delay(release.step_attempts)
    deferred = Release.objects.filter(pk=release.pk, step_claimed_by=claim, state=release.state).update(
        step_claimed_by="",
        step_lease_until=timezone.now() + timedelta(seconds=delay),
        last_error_code=code,
        last_error=message,
    )
    if not deferred:
        return None
    from releases.jobs import enqueue_step

    enqueue_step(release.pk, delay=delay + 1)  # a second late, so the lease has surely ended
    return delay


def steps_due():
    """In-flight releases nobody is working on: the lease ran out (a worker died, or a scheduled
    retry is due and may have been lost), or no worker ever claimed the step."""
    now = timezone.now()
    unclaimed_since = now - timedelta(seconds=settings.SLUICE_INFLIGHT_STALE_SECONDS)
    return Release.objects.filter(state__in=list(IN_FLIGHT)).filter(
        Q(step_lease_until__lte=now) | Q(step_lease_until__isnull=True, state_changed_at__lt=unclaimed_since)
    )
