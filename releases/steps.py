"""Who runs a release's platform step, and when: a lease, like the claim of a review poll.

A step (submit, withdraw, publish, rollback) is run by whichever job claims it: one conditional
UPDATE takes the release while no lease holds it and stamps a lease that outlives the job's
timeout (config/settings.py enforces it), so a duplicated job, a retried one or the sweep never
make the same call while another worker may still be making it.

A job is queued with a reservation: the release names it and holds the step for it for
SLUICE_INFLIGHT_STALE_SECONDS, so only that job may claim the step meanwhile and the sweep leaves
it alone while it waits in the queue. A transient failure reserves the step for the next attempt,
scheduled for when it is due. A killed worker hands nothing back: its lease runs out. The sweep
reserves again, and queues, only steps whose lease or reservation has run out.

The attempts are counted on the release; once SLUICE_STEP_RETRY_SECONDS is used up, the next
transient failure ends the step in its failed state (releases.services.release_step_perform).

The same lease holds the other calls with an in-flight state: a release's speed-up
(`speedup_state` requesting) and an app's service change (`service_state` going offline or
online, on the app's own lease columns), so one sweep restarts them all.
"""

import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from releases.models import IN_FLIGHT, App, Release
from releases.service_model import SERVICE_IN_FLIGHT

JITTER = 0.2  # ±20%, so steps failing in the same outage do not all return in the same second


def max_attempts() -> int:
    return len(settings.SLUICE_STEP_RETRY_SECONDS) + 1


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based), jittered."""
    waits = settings.SLUICE_STEP_RETRY_SECONDS
    base = waits[min(attempt, len(waits)) - 1]
    return max(1, round(base * random.uniform(1 - JITTER, 1 + JITTER)))


def reservation() -> tuple[str, object]:
    """A new reservation for a queued job: its token, and until when it holds."""
    return secrets.token_hex(8), timezone.now() + timedelta(seconds=settings.SLUICE_INFLIGHT_STALE_SECONDS)


def _free(now) -> Q:
    return Q(step_lease_until__isnull=True) | Q(step_lease_until__lte=now)


def _release_in_flight() -> Q:
    return Q(state__in=list(IN_FLIGHT)) | Q(speedup_state="requesting")


def _in_flight_rows(model):
    if model is App:
        return App.objects.filter(service_state__in=list(SERVICE_IN_FLIGHT))
    return Release.objects.filter(_release_in_flight())


def _claim(model, pk: int, reserved: str) -> str | None:
    now = timezone.now()
    claim = secrets.token_hex(8)
    mine = Q(step_claimed_by=reserved) if reserved else Q(pk__in=[])
    taken = (
        _in_flight_rows(model)
        .filter(_free(now) | mine, pk=pk)
        .update(
            step_claimed_by=claim,
            step_lease_until=now + timedelta(seconds=settings.SLUICE_STEP_LEASE_SECONDS),
            step_attempts=F("step_attempts") + 1,
        )
    )
    return claim if taken else None


def _reserve(model, pk: int) -> str | None:
    token, until = reservation()
    free = _in_flight_rows(model).filter(_free(timezone.now()), pk=pk)
    reserved = free.update(step_claimed_by=token, step_lease_until=until)
    return token if reserved else None


def step_claim(release_id: int, reserved: str = "") -> str | None:
    """Take the step of an in-flight release for one attempt: free, or reserved for this job.

    None if another worker holds it, it is reserved for another job (a retry not yet due, a job
    already queued), or the release is no longer in flight. Returns the claim, a fresh token the
    attempt's later writes are conditioned on (so a second run of the same job cannot claim too).
    """
    return _claim(Release, release_id, reserved)


def step_reserve(release_id: int) -> str | None:
    """Reserve a step nobody is on (for the sweep to queue it again); None if someone is."""
    return _reserve(Release, release_id)


def app_step_claim(app_id: int, reserved: str = "") -> str | None:
    """step_claim for an app's service change in flight."""
    return _claim(App, app_id, reserved)


def app_step_reserve(app_id: int) -> str | None:
    return _reserve(App, app_id)


def step_checkpoint_save(release: Release, claim: str, checkpoint: dict) -> bool:
    """Record what the adapter saw before its first call; False if the claim was lost meanwhile."""
    saved = Release.objects.filter(pk=release.pk, step_claimed_by=claim, state=release.state).update(
        step_checkpoint=checkpoint
    )
    if saved:
        release.step_checkpoint = checkpoint
    return bool(saved)


def step_defer(release: Release, claim: str, *, code: str, message: str) -> int | None:
    """Hand the step back after a transient failure, reserved for its next attempt, which is
    scheduled for when it is due. The error is kept on the release (shown while it retries).

    Returns the delay in seconds, or None if the claim was lost meanwhile (nothing scheduled).
    """
    delay = retry_delay(release.step_attempts)
    token, pickup = reservation()
    deferred = Release.objects.filter(pk=release.pk, step_claimed_by=claim, state=release.state).update(
        step_claimed_by=token,
        step_lease_until=pickup + timedelta(seconds=delay),
        last_error_code=code,
        last_error=message,
    )
    if not deferred:
        return None
    from releases.jobs import enqueue_step

    enqueue_step(release.pk, reserved=token, delay=delay)
    return delay


def step_wait(release: Release, claim: str, *, seconds: int) -> bool:
    """Hand the step back unattempted, reserved for a job `seconds` from now: the platform's
    shortest interval between two submissions has not passed (releases.platform_rules
    `submit_interval`). Not a failure: no error is shown and no attempt is spent. False if the
    claim was lost meanwhile (nothing scheduled)."""
    token, pickup = reservation()
    handed_back = Release.objects.filter(pk=release.pk, step_claimed_by=claim, state=release.state).update(
        step_claimed_by=token,
        step_lease_until=pickup + timedelta(seconds=seconds),
        step_attempts=F("step_attempts") - 1,
    )
    if not handed_back:
        return False
    from releases.jobs import enqueue_step

    enqueue_step(release.pk, reserved=token, delay=seconds)
    return True


def steps_due():
    """In-flight releases nobody is on: the lease ran out (a worker died), or the reservation did
    (the job that was to take it was lost, or waited in the queue longer than it holds). A step
    without either (in flight since before leases existed) waits as long as a reservation would."""
    now = timezone.now()
    unclaimed_since = now - timedelta(seconds=settings.SLUICE_INFLIGHT_STALE_SECONDS)
    return Release.objects.filter(_release_in_flight()).filter(
        Q(step_lease_until__lte=now) | Q(step_lease_until__isnull=True, state_changed_at__lt=unclaimed_since)
    )


def app_steps_due():
    """Apps whose service change is in flight and nobody is on (its lease ran out)."""
    return _in_flight_rows(App).filter(_free(timezone.now()))
