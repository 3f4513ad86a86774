"""RQ entry points: load by id, call one service, let RQ retry what is transient."""

import random

import django_rq
from rq import Retry

# Backoff for transient platform errors (timeouts, 5xx, rate limits): about 15 minutes in all.
STEP_BACKOFF_SECONDS = (5, 15, 30, 60, 180, 600)


def _step_retry() -> Retry:
    """The backoff with ±20% jitter, so workers retrying after one outage do not return in step."""
    return Retry(
        max=len(STEP_BACKOFF_SECONDS),
        interval=[round(s * random.uniform(0.8, 1.2)) for s in STEP_BACKOFF_SECONDS],
    )


def release_step_job(release_id: int) -> None:
    from releases.services import release_step_perform

    release_step_perform(release_id=release_id)


def enqueue_step(release_id: int) -> None:
    """Queued once the current transaction commits (django-rq COMMIT_MODE=on_db_commit)."""
    django_rq.get_queue("platform").enqueue(release_step_job, release_id, retry=_step_retry())


def sweep_in_flight_job() -> int:
    from releases.services import release_sweep_in_flight

    return release_sweep_in_flight()


def check_run_job(run_id: int) -> None:
    from releases.services import release_check_finish

    release_check_finish(run_id=run_id)


def enqueue_check_run(run_id: int) -> None:
    """Finish a run's slow checks in a worker, once the run is committed (COMMIT_MODE=on_db_commit)."""
    django_rq.get_queue("default").enqueue(check_run_job, run_id, retry=Retry(max=2, interval=[10, 60]))
