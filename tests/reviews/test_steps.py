"""Platform steps against the simulated WeChat: claimed once, given up in bounds, reconciled.

A step is run by whichever attempt claims it; a transient failure is tried again later, a
bounded number of times, and then ends in the failed state with the last error; a retry
and a rollback first ask WeChat whether an earlier attempt's call already took effect.
"""

import threading
from datetime import timedelta

import django_rq
from django.db import connection
from django.utils import timezone

from releases.models import AuditEvent, Release, State
from releases.services import release_retry, release_step_perform, release_sweep_in_flight
from reviews.platforms.wechat.errors import ERRCODES
from simulator.models import SimCall, SimSubmission
from simulator.services import sim_configure
from tests.reviews.wechat_helpers import adapter, calls, in_flight, released_version

BUSY = ("wechat_-1", ERRCODES[-1].sentence)


def lease_runs_out(release) -> None:
    """Time passes until the step's lease (or its wait before the next attempt) has ended."""
    Release.objects.filter(pk=release.pk).update(step_lease_until=timezone.now() - timedelta(seconds=1))


def rollbacks() -> int:
    """revertcoderelease calls that roll back (not the history listing on the same path)."""
    return sum("action" not in call.query for call in calls("wxa/revertcoderelease"))


def test_two_workers_running_the_same_step_at_once_call_wechat_once(sim, wechat_release):
    release = in_flight(wechat_release)
    sim_configure(latency_ms=200)  # both are inside the step at the same time
    start, finished, errors = threading.Barrier(2), [], []

    def worker():
        try:
            start.wait()
            finished.append(release_step_perform(release_id=release.pk))
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    assert sorted(result is None for result in finished) == [False, True]  # one did it, one left it
    assert calls("wxa/get_latest_auditstatus").count() == 1
    assert calls("wxa/submit_audit").count() == 1
    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert release.platform_audit_id == str(SimSubmission.objects.get().auditid)
    assert AuditEvent.objects.filter(release_id=release.pk, action="submit_succeeded").count() == 1


def test_a_transient_failure_reserves_the_step_for_its_next_attempt_which_is_scheduled(
    sim, wechat_release, settings
):
    settings.SLUICE_STEP_RETRY_SECONDS = [10]
    release = in_flight(wechat_release)
    sim_configure(error_rate_pct=100)
    failed_at = timezone.now()
    assert release_step_perform(release_id=release.pk) is None
    release.refresh_from_db()
    assert (release.state, release.step_attempts) == (State.SUBMITTING, 1)
    assert (release.last_error_code, release.last_error) == BUSY  # shown while it is retried
    registry = django_rq.get_queue("platform").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = django_rq.get_queue("platform").fetch_job(job_id)
    assert job.args == (release.pk, release.step_claimed_by)  # the next attempt holds the reservation
    assert 7 <= (registry.get_scheduled_time(job_id) - failed_at).total_seconds() <= 13  # 10 s ± 20%

    sim_configure(error_rate_pct=0)
    made = SimCall.objects.count()
    assert release_step_perform(release_id=release.pk) is None  # any other job does nothing
    assert release_sweep_in_flight() == 0  # nor does the sweep
    assert SimCall.objects.count() == made

    release = release_step_perform(release_id=release.pk, reserved=release.step_claimed_by)  # when due
    assert release.state == State.SUBMITTED
    assert (release.last_error_code, release.last_error, release.step_attempts) == ("", "", 2)
    assert (release.step_claimed_by, release.step_lease_until) == ("", None)


def test_a_step_failing_transiently_ends_failed_with_the_last_error_once_its_retries_are_used_up(
    sim, wechat_release, settings
):
    settings.SLUICE_STEP_RETRY_SECONDS = [1, 1]  # three attempts
    release = in_flight(wechat_release)
    sim_configure(error_rate_pct=100)
    for _ in range(2):
        assert release_step_perform(release_id=release.pk) is None
        lease_runs_out(release)

    release = release_step_perform(release_id=release.pk)
    assert release.state == State.SUBMIT_FAILED
    assert (release.last_error_code, release.last_error) == BUSY
    event = AuditEvent.objects.get(release_id=release.pk, action="submit_failed")
    assert event.actor_id is None
    assert event.data == {"code": BUSY[0], "message": BUSY[1], "attempts": 3, "gave_up": True}
    assert release_step_perform(release_id=release.pk) is None  # a late job finds nothing to do


def test_a_retry_after_giving_up_adopts_the_submission_a_lost_attempt_made(
    sim, wechat_release, mike, settings
):
    settings.SLUICE_STEP_RETRY_SECONDS = [1]
    release = in_flight(wechat_release)
    began = timezone.now() - timedelta(minutes=5)
    Release.objects.filter(pk=release.pk).update(state_changed_at=began, step_began_at=began)
    # An attempt a minute later submitted, and its worker died before writing the auditid down.
    auditid = adapter(sim).submit_audit(sim.app, version_desc=release.review_notes).auditid
    SimSubmission.objects.filter(auditid=auditid).update(submitted_at=began + timedelta(minutes=1))
    sim_configure(error_rate_pct=100)  # then WeChat was down until the step gave up
    for _ in range(2):
        lease_runs_out(release)
        release_step_perform(release_id=release.pk)
    assert Release.objects.get(pk=release.pk).state == State.SUBMIT_FAILED

    sim_configure(error_rate_pct=0)
    retried = release_retry(release=Release.objects.get(pk=release.pk), actor=mike)  # the release manager
    release = release_step_perform(release_id=release.pk, reserved=retried.step_claimed_by)  # its job

    assert release.state == State.SUBMITTED
    assert release.platform_audit_id == str(auditid)
    assert calls("wxa/submit_audit").count() == 1


def test_a_rollback_whose_earlier_call_took_effect_is_recorded_without_calling_again(sim, wechat_release):
    released_version(sim)
    released_version(sim)
    release = in_flight(wechat_release, State.ROLLING_BACK, came_from=State.PUBLISHED)
    seen = adapter(sim).checkpoint("rollback", release)
    Release.objects.filter(pk=release.pk).update(step_checkpoint={**seen, "taken_by": "an-earlier-attempt"})
    adapter(sim).revertcoderelease(sim.app)  # that attempt's call; its worker died before the write

    release = release_step_perform(release_id=release.pk)

    assert release.state == State.ROLLED_BACK, release.last_error
    assert rollbacks() == 1  # the earlier attempt's only


def test_a_rollback_whose_earlier_attempt_made_no_call_calls_revertcoderelease(sim, wechat_release):
    released_version(sim)
    released_version(sim)
    release = in_flight(wechat_release, State.ROLLING_BACK, came_from=State.PUBLISHED)
    seen = adapter(sim).checkpoint("rollback", release)
    Release.objects.filter(pk=release.pk).update(step_checkpoint={**seen, "taken_by": "an-earlier-attempt"})

    release = release_step_perform(release_id=release.pk)

    assert release.state == State.ROLLED_BACK, release.last_error
    assert rollbacks() == 1


def test_a_rollback_saves_what_wechat_showed_before_its_first_call(sim, wechat_release):
    released_version(sim)
    released_version(sim)
    release = in_flight(wechat_release, State.ROLLING_BACK, came_from=State.PUBLISHED)
    sim_configure(error_rate_pct=0)
    before = adapter(sim).checkpoint("rollback", release)

    release = release_step_perform(release_id=release.pk)

    assert release.state == State.ROLLED_BACK
    assert {k: release.step_checkpoint[k] for k in before} == before
    assert before["history"] == [1]
