"""Douyin takes one submission of an app per 10 seconds (11301, douyin.md §3.4; submit_interval in
releases/platform_rules.py): a resubmission inside the interval is not sent to be refused, its
job is put off until the interval has passed (not slept on), then it goes through."""

from datetime import timedelta

import django_rq
from django.utils import timezone

from releases.models import AuditEvent, Release, State
from releases.services import release_step_perform
from releases.step_services import submit_wait_seconds
from simulator.douyin import operations as sim
from simulator.douyin import state as sim_state
from tests.fixtures.douyin import DY_APPID, ten_seconds_later
from tests.reviews.douyin.test_adapter import submitted


def scheduled_in() -> list[float]:
    """Seconds from now of each step job scheduled on the platform queue."""
    queue = django_rq.get_queue("platform")
    registry = queue.scheduled_job_registry
    now = timezone.now()
    return [
        (registry.get_scheduled_time(job_id) - now).total_seconds()
        for job_id in registry.get_job_ids()
        if queue.fetch_job(job_id).func_name == "releases.jobs.release_step_job"
    ]


def test_a_resubmission_inside_the_interval_waits_for_it_then_goes_through(douyin_sim, douyin_release):
    submitted(douyin_release)
    sim.decide(DY_APPID, approve=False, reason="类目不符")
    release = Release.objects.filter(app=douyin_sim.app).get()
    submissions = sim_state.load("app", DY_APPID)["last_audit_at"]
    Release.objects.filter(pk=release.pk).update(state=State.SUBMITTING, in_flight_from=State.REJECTED)
    attempts = Release.objects.get(pk=release.pk).step_attempts
    django_rq.get_queue("platform").scheduled_job_registry.remove_jobs()

    release_step_perform(release_id=release.pk)

    waiting = Release.objects.get(pk=release.pk)
    assert waiting.state == State.SUBMITTING  # still on its way, not failed
    assert (waiting.last_error_code, waiting.last_error) == ("", "")  # a wait is not an error
    assert waiting.step_attempts == attempts  # and spends no attempt
    assert sim_state.load("app", DY_APPID)["last_audit_at"] == submissions  # Douyin was not called
    assert [round(s) for s in scheduled_in()] in ([10], [9])  # the job is put off, not slept on
    assert AuditEvent.objects.filter(action="submit_failed").count() == 0

    # A duplicate of the job, or the sweep, does not take the step while it waits.
    assert release_step_perform(release_id=release.pk) is None
    assert sim_state.load("app", DY_APPID)["last_audit_at"] == submissions

    # Ten seconds later (the clocks moved on): the job reserved for it submits.
    ten_seconds_later()
    reserved = Release.objects.get(pk=release.pk).step_claimed_by
    release_step_perform(release_id=release.pk, reserved=reserved)
    assert Release.objects.get(pk=release.pk).state == State.SUBMITTED


def test_only_a_platform_with_an_interval_waits(db, douyin_app, wechat_app, make_release):
    first = make_release(app=douyin_app)
    Release.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(seconds=3))
    second = make_release("1.1.0", app=douyin_app)
    assert submit_wait_seconds(second) == 7
    Release.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(seconds=30))
    assert submit_wait_seconds(second) == 0
    on_wechat = make_release(app=wechat_app)
    Release.objects.filter(pk=on_wechat.pk).update(submitted_at=timezone.now())
    assert submit_wait_seconds(make_release("1.1.0", app=wechat_app)) == 0
