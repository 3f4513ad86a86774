"""Background work on a real Redis: a platform step whose worker died is finished by the sweep."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from config.workers import SimpleWorker
from releases import services
from releases.jobs import sweep_in_flight_job
from releases.models import AuditEvent, Release, State
from reviews.platforms.manual import ManualAdapter

QUEUED_ADAPTER = "tests.releases.test_jobs.QueuedManualAdapter"


class QueuedManualAdapter(ManualAdapter):
    """The manual platform, but its steps go through the platform queue like a network platform's."""

    runs_inline = False


@pytest.fixture
def queue():
    q = django_rq.get_queue("default")
    q.connection.flushdb()
    yield q
    q.connection.flushdb()


def _stuck(release, state, minutes):
    Release.objects.filter(pk=release.pk).update(
        state=state,
        state_changed_at=timezone.now() - timedelta(minutes=minutes),
        in_flight_from=State.CHECKED,
    )


def test_the_sweep_finishes_a_submit_whose_worker_died(
    queue, make_release, django_capture_on_commit_callbacks
):
    stale, fresh = make_release("1.0.0"), make_release("1.1.0")
    _stuck(stale, State.SUBMITTING, minutes=30)
    _stuck(fresh, State.PUBLISHING, minutes=0)
    with django_capture_on_commit_callbacks(execute=True):  # jobs are queued on commit
        queue.enqueue(sweep_in_flight_job)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert Release.objects.get(pk=stale.pk).state == State.SUBMITTED
    assert Release.objects.get(pk=fresh.pk).state == State.PUBLISHING  # still inside its worker's time
    assert (
        AuditEvent.objects.filter(release_id=stale.pk, action="submit_succeeded", actor_id=None).count() == 1
    )


def test_running_the_sweep_twice_changes_nothing_more(
    queue, make_release, django_capture_on_commit_callbacks
):
    release = make_release()
    _stuck(release, State.PUBLISHING, minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            queue.enqueue(sweep_in_flight_job)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert AuditEvent.objects.filter(release_id=release.pk, action="publish_succeeded").count() == 1


def test_the_sweep_leaves_a_step_alone_while_a_worker_holds_it_however_long_it_was_in_flight(
    queue, make_release, django_capture_on_commit_callbacks
):
    release = make_release()
    _stuck(release, State.SUBMITTING, minutes=30)  # far past SLUICE_INFLIGHT_STALE_SECONDS
    held_until = timezone.now() + timedelta(minutes=2)
    Release.objects.filter(pk=release.pk).update(step_claimed_by="a-live-worker", step_lease_until=held_until)
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue(sweep_in_flight_job)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    release.refresh_from_db()
    assert (release.state, release.step_claimed_by) == (State.SUBMITTING, "a-live-worker")
    assert not AuditEvent.objects.filter(release_id=release.pk, action="submit_succeeded").exists()


def test_the_sweep_takes_over_a_step_once_its_lease_ran_out(
    queue, make_release, django_capture_on_commit_callbacks
):
    release = make_release()
    _stuck(release, State.SUBMITTING, minutes=5)
    ran_out = timezone.now() - timedelta(seconds=1)
    Release.objects.filter(pk=release.pk).update(step_claimed_by="a-dead-worker", step_lease_until=ran_out)
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue(sweep_in_flight_job)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    release.refresh_from_db()
    assert (release.state, release.step_claimed_by, release.step_lease_until) == (State.SUBMITTED, "", None)


def test_a_step_waiting_in_the_queue_is_not_queued_again_by_each_sweep(
    make_release, app, mike, django_capture_on_commit_callbacks, settings
):
    """A long queue must not fill up with copies of the same step, one more at every sweep."""
    release = make_release(upto="approved_by_manager")
    settings.SLUICE_PLATFORM_ADAPTERS = {**settings.SLUICE_PLATFORM_ADAPTERS, "manual": QUEUED_ADAPTER}
    platform = django_rq.get_queue("platform")
    platform.empty()
    with django_capture_on_commit_callbacks(execute=True):
        services.release_submit(release=release, actor=mike)
    # In flight for long (what the sweep used to take for a dead worker), but its job is queued.
    Release.objects.filter(pk=release.pk).update(state_changed_at=timezone.now() - timedelta(minutes=30))
    for _ in range(3):
        services.release_sweep_in_flight()
    assert platform.count == 1
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTING  # left to the queued job
    platform.empty()
