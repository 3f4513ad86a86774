"""RQ entry points: load by id, call one service, let RQ retry what is transient."""

import django_rq
from rq import Retry

# Backoff for transient platform errors (timeouts, 5xx, rate limits): about 15 minutes in all.
STEP_RETRY = Retry(max=6, interval=[5, 15, 30, 60, 180, 600])


def release_step_job(release_id: int) -> None:
    from releases.services import release_step_perform

    release_step_perform(release_id=release_id)


def enqueue_step(release_id: int) -> None:
    """Queued once the current transaction commits (django-rq COMMIT_MODE=on_db_commit)."""
    django_rq.get_queue("platform").enqueue(release_step_job, release_id, retry=STEP_RETRY)


def sweep_in_flight_job() -> int:
    from releases.services import release_sweep_in_flight

    return release_sweep_in_flight()
