"""RQ entry points: load by id, call one service."""

from datetime import timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from rq import Retry


def release_step_job(release_id: int, reserved: str = "") -> None:
    """One attempt of a platform step. RQ does not retry it: a transient failure schedules the
    next attempt itself (releases.steps), and a killed worker's step is queued again by the
    sweep once its lease has run out."""
    from releases.services import release_step_perform

    release_step_perform(release_id=release_id, reserved=reserved)


def enqueue_step(release_id: int, *, reserved: str = "", delay: int | None = None) -> None:
    """Queued once the current transaction commits, now or `delay` seconds later. `reserved`: the
    reservation the release holds for this job (releases.steps); without one, the job only takes a
    step that nobody holds."""
    queue = django_rq.get_queue("platform")
    options = {"job_timeout": settings.SLUICE_STEP_JOB_TIMEOUT_SECONDS}
    args = (release_step_job, release_id, reserved)
    if delay:
        later = timedelta(seconds=delay)
        transaction.on_commit(lambda: queue.enqueue_in(later, *args, **options))
    else:
        queue.enqueue(*args, **options)  # COMMIT_MODE=on_db_commit


def service_change_job(app_id: int, reserved: str = "") -> None:
    """The platform call of an app's service change the sweep found abandoned (its process died)."""
    from releases.urgent_services import app_service_perform

    app_service_perform(app_id=app_id, reserved=reserved)


def enqueue_service_change(app_id: int, *, reserved: str = "") -> None:
    queue = django_rq.get_queue("platform")
    queue.enqueue(service_change_job, app_id, reserved, job_timeout=settings.SLUICE_STEP_JOB_TIMEOUT_SECONDS)


def sweep_in_flight_job() -> int:
    from releases.services import release_sweep_in_flight

    return release_sweep_in_flight()


def check_run_job(run_id: int) -> None:
    from releases.services import release_check_finish

    release_check_finish(run_id=run_id)


def enqueue_check_run(run_id: int) -> None:
    """Finish a run's slow checks in a worker, once the run is committed (COMMIT_MODE=on_db_commit)."""
    django_rq.get_queue("default").enqueue(check_run_job, run_id, retry=Retry(max=2, interval=[10, 60]))


def rollout_tick_job() -> int:
    """Advance phased releases whose stage hold ended; reconcile the others with the platform."""
    from releases.rollout_services import release_rollouts_tick

    return release_rollouts_tick()


def enqueue_rollout_tick(at) -> None:
    """A tick at the moment a stage's hold ends, once the current transaction commits."""
    queue = django_rq.get_queue("platform")
    transaction.on_commit(lambda: queue.enqueue_at(at, rollout_tick_job))
