"""Phased releases, speed-up and the emergency stop against the simulated WeChat: the calls each
step makes, what a crash between WeChat's answer and our write leaves (the retry reconciles with
getgrayreleaseplan instead of calling twice), and WeChat's refusals shown as they are."""

import json
from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from config.workers import SimpleWorker
from releases import services
from releases.errors import Refused
from releases.health_services import release_health_report
from releases.models import AuditEvent, State
from releases.services import release_step_perform
from simulator.models import SimAuthorizer, SimSettings, SimSubmission
from simulator.services import sim_decide
from tests.reviews.wechat_helpers import adapter, calls, released_version, submitted

PLAN = [{"percentage": 5, "hold_minutes": 1}, {"percentage": 20, "hold_minutes": 1}, {"percentage": 100}]


@pytest.fixture
def approved(sim, wechat_release, mike):
    released_version(sim)  # 1.0 online: a phased release needs an online version (85079)
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="approved")
    return wechat_release("1.1.0", audit_id=str(auditid), state=State.APPROVED)


def run_step(release):
    release.refresh_from_db()
    release_step_perform(release_id=release.pk, reserved=release.step_claimed_by)
    release.refresh_from_db()
    return release


def gray():
    return SimAuthorizer.objects.get()


def test_each_stage_is_a_grayrelease_and_100_percent_is_the_release(approved, mike):
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    release = run_step(approved)
    assert (release.state, release.rollout["percentage"]) == (State.ROLLING_OUT, 5)
    assert (gray().gray_status, gray().gray_percentage) == (1, 5)
    services.release_rollout_advance(release=release, actor=mike)
    release = run_step(release)
    assert (gray().gray_status, gray().gray_percentage) == (1, 20)
    services.release_rollout_advance(release=release, actor=mike)
    release = run_step(release)
    assert release.state == State.PUBLISHED
    assert [json.loads(call.body)["gray_percentage"] for call in calls("wxa/grayrelease")] == [5, 20]
    assert calls("wxa/release").count() == 2  # 1.0 in the fixture, then the last stage
    assert gray().gray_status == 3  # finished


def test_a_crash_after_grayrelease_answered_is_reconciled_without_a_second_call(sim, approved, mike):
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    adapter(sim).grayrelease(approved.app, 5)  # the dead worker's call, never recorded
    release = run_step(approved)
    assert (release.state, release.rollout["percentage"]) == (State.ROLLING_OUT, 5)
    assert calls("wxa/grayrelease").count() == 1
    assert AuditEvent.objects.filter(release_id=release.pk, action="stage_succeeded").count() == 1


def test_a_crash_after_revertgrayrelease_answered_is_reconciled(sim, approved, mike):
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    release = run_step(approved)
    services.release_rollout_revert(release=release, actor=mike, reason="errors up")
    adapter(sim).revertgrayrelease(release.app)  # the dead worker's call, never recorded
    release = run_step(release)
    assert (release.state, release.rollout["status"]) == (State.APPROVED, "reverted")
    assert calls("wxa/revertgrayrelease").count() == 1
    assert gray().gray_status == 4


def test_publishing_again_after_a_revert_starts_a_new_gray_release(approved, mike):
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    release = run_step(approved)
    services.release_rollout_revert(release=release, actor=mike, reason="errors up")
    release = run_step(release)
    services.release_publish(release=release, actor=mike, rollout=PLAN)
    release = run_step(release)
    assert (release.state, gray().gray_status, gray().gray_percentage) == (State.ROLLING_OUT, 1, 5)


def breach_while_the_next_stage_is_in_flight(approved, mike, *, auto_revert: bool):
    approved.app.settings = {
        "health": {"metrics": {"js_error_rate": {"max": 0.02}}, "auto_revert": auto_revert}
    }
    approved.app.save(update_fields=["settings"])
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    release = run_step(approved)
    services.release_rollout_advance(release=release, actor=mike)  # 20%: queued, not run yet
    release.refresh_from_db()
    assert release.state == State.PUBLISHING
    release_health_report(release=release, actor=mike, metric="js_error_rate", value=0.031)
    release.refresh_from_db()
    assert (release.state, release.rollout["status"]) == (State.PUBLISHING, "halted")
    return run_step(release)  # the stage's call lands


def test_a_breach_while_a_stage_is_in_flight_halts_the_rollout_once_that_stage_lands(approved, mike):
    release = breach_while_the_next_stage_is_in_flight(approved, mike, auto_revert=False)
    assert (release.state, release.rollout["status"], release.rollout["percentage"]) == (
        State.ROLLING_OUT,
        "halted",
        20,
    )
    assert (release.rollout["next_stage_at"], release.rollout_due_at) == (None, None)
    assert "js_error_rate is 0.031" in release.rollout["halted_reason"]
    services.release_rollouts_tick(timezone.now() + timedelta(days=1))  # long after the hold
    release.refresh_from_db()
    assert (release.state, release.rollout["stage"]) == (State.ROLLING_OUT, 2)
    assert [json.loads(call.body)["gray_percentage"] for call in calls("wxa/grayrelease")] == [5, 20]
    assert calls("wxa/release").count() == 1  # only 1.0 in the fixture: no 100% stage
    with pytest.raises(Refused) as refused:
        services.release_rollout_advance(release=release, actor=mike)
    assert refused.value.code == "rollout_not_running"


def test_a_breach_while_a_stage_is_in_flight_reverts_after_it_lands_when_the_app_says_so(approved, mike):
    release = breach_while_the_next_stage_is_in_flight(approved, mike, auto_revert=True)
    assert release.state == State.REVERTING
    release = run_step(release)
    assert (release.state, release.rollout["status"]) == (State.APPROVED, "reverted")
    assert [json.loads(call.body)["gray_percentage"] for call in calls("wxa/grayrelease")] == [5, 20]
    assert calls("wxa/revertgrayrelease").count() == 1
    assert gray().gray_status == 4
    actions = list(AuditEvent.objects.filter(release_id=release.pk).values_list("action", flat=True))
    assert actions[-5:] == [
        "health_breach",
        "rollout_halt",
        "stage_succeeded",
        "rollout_revert",
        "revert_phased_succeeded",
    ]


def test_a_percentage_changed_or_a_plan_deleted_in_the_console_is_picked_up(approved, mike):
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    release = run_step(approved)
    SimAuthorizer.objects.update(gray_percentage=10)
    services.release_rollouts_tick()
    release.refresh_from_db()
    assert release.rollout["percentage"] == 10
    assert AuditEvent.objects.filter(release_id=release.pk, action="rollout_changed_outside").exists()
    SimAuthorizer.objects.update(gray_status=4)
    services.release_rollouts_tick()
    release.refresh_from_db()
    assert (release.state, release.rollout["status"]) == (State.APPROVED, "reverted")


def test_rollback_during_a_phased_release_is_refused_before_calling_wechat(approved, mike, wechat_release):
    online = wechat_release("1.0.0", audit_id="1", state=State.PUBLISHED)
    services.release_publish(release=approved, actor=mike, rollout=PLAN)
    run_step(approved)
    with pytest.raises(Refused) as refused:
        services.release_rollback(release=online, actor=mike, reason="bad")
    assert refused.value.code == "phased_release_running"
    assert not [c for c in calls("wxa/revertcoderelease") if "action" not in c.query]


# -- speed-up ---------------------------------------------------------------------------------


@pytest.fixture
def in_review(sim, wechat_release):
    auditid = submitted(sim)
    return wechat_release("1.1.0", audit_id=str(auditid))


def test_a_speedup_spends_the_quota_and_a_second_one_is_refused_with_wechats_reason(in_review, mike):
    services.release_speedup(release=in_review, actor=mike, reason="hotfix")
    assert calls("wxa/speedupaudit").count() == 1
    assert AuditEvent.objects.filter(release_id=in_review.pk, action="speedup_succeeded").count() == 1
    with pytest.raises(Refused) as refused:
        services.release_speedup(release=in_review, actor=mike, reason="again")
    assert refused.value.code == "wechat_89404"
    assert AuditEvent.objects.filter(release_id=in_review.pk, action="speedup_failed").count() == 1


def lease_runs_out(row) -> None:
    """Time passes beyond the lease of the process that died holding the call."""
    type(row).objects.filter(pk=row.pk).update(step_lease_until=timezone.now() - timedelta(seconds=1))


def run_platform_queue() -> int:
    queue = django_rq.get_queue("platform")
    count = queue.count
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    return count


def test_a_speedup_in_flight_is_requesting_and_a_second_press_is_refused_without_a_call(in_review, mike):
    from releases.transitions import _transition

    # The request is committed; the process is still waiting for WeChat's answer.
    _transition(in_review, "speedup", actor=mike, action="speedup_requested", data={"reason": "hotfix"})
    assert in_review.speedup_state == "requesting"
    with pytest.raises(Refused) as refused:
        services.release_speedup(release=in_review, actor=mike, reason="again")
    assert refused.value.code == "speedup_in_flight"
    assert calls("wxa/speedupaudit").count() == 0


def test_a_crash_after_speedupaudit_answered_is_reconciled_once_by_the_sweep(sim, in_review, mike, redis_db):
    from releases.transitions import _transition

    # The request was recorded and WeChat sped the review up, then the process died before the write.
    _transition(in_review, "speedup", actor=mike, action="speedup_requested", data={"reason": "hotfix"})
    adapter(sim).speedupaudit(in_review.app, in_review.platform_audit_id)
    assert services.release_sweep_in_flight() == 0  # its lease still holds the call
    lease_runs_out(in_review)
    assert services.release_sweep_in_flight() == 1
    run_platform_queue()
    in_review.refresh_from_db()
    assert (in_review.speedup_state, in_review.step_claimed_by) == ("requested", "")
    events = AuditEvent.objects.filter(release_id=in_review.pk, action="speedup_succeeded")
    assert [event.data for event in events] == [{"reconciled": True}]
    assert SimSubmission.objects.filter(sped_up_at__isnull=False).count() == 1
    assert services.release_sweep_in_flight() == 0  # nothing left in flight


def test_no_speedup_left_is_a_409_speedup_exhausted_without_calling_wechat(in_review, mike, sim):
    from django.utils import timezone

    from releases.models import QuotaSnapshot

    QuotaSnapshot.objects.create(
        account=sim.account, rest=10, limit=20, speedup_rest=0, speedup_limit=5, refreshed_at=timezone.now()
    )
    with pytest.raises(Refused) as refused:
        services.release_speedup(release=in_review, actor=mike, reason="hotfix")
    assert refused.value.code == "speedup_exhausted"
    assert calls("wxa/speedupaudit").count() == 0


def test_a_speedup_of_a_submission_not_in_the_queue_shows_89402(in_review, mike):
    sim_decide(auditid=int(in_review.platform_audit_id), outcome="approved")
    with pytest.raises(Refused) as refused:
        services.release_speedup(release=in_review, actor=mike, reason="hotfix")
    assert refused.value.code == "wechat_89402"
    in_review.refresh_from_db()
    assert (in_review.speedup_state, in_review.speedup_error_code) == ("failed", "wechat_89402")


# -- emergency stop -----------------------------------------------------------------------------


def test_an_admin_takes_the_service_offline_and_back(sim, adam, mike):
    from releases.errors import Forbidden

    with pytest.raises(Forbidden):
        services.app_service_set(app=sim.app, actor=mike, online=False, reason="leak")
    services.app_service_set(app=sim.app, actor=adam, online=False, reason="data leak")
    sim.app.refresh_from_db()
    assert (sim.app.service_online, sim.app.service_reason) == (False, "data leak")
    assert gray().visible is False
    assert [json.loads(c.body) for c in calls("wxa/change_visitstatus")] == [{"action": "close"}]
    services.app_service_set(app=sim.app, actor=adam, online=True, reason="fixed")
    assert gray().visible is True
    actions = list(AuditEvent.objects.filter(app_id=sim.app.pk).values_list("action", flat=True))
    assert actions[-4:] == [
        "service_change_requested",
        "service_offline",
        "service_change_requested",
        "service_online",
    ]


LEAK = {"reason": "leak"}


def test_an_app_shows_going_offline_while_the_call_is_in_flight(sim, adam):
    from releases.urgent_services import _app_transition

    app = _app_transition(
        sim.app, "service_stop", actor=adam, action="service_change_requested", data={}, args=LEAK
    )
    assert (app.service_state, app.service_online) == ("going_offline", True)
    with pytest.raises(Refused) as refused:
        services.app_service_set(app=sim.app, actor=adam, online=False, reason="again")
    assert refused.value.code == "service_change_in_flight"
    assert calls("wxa/change_visitstatus").count() == 0


def test_a_stop_wechat_refuses_lands_in_stop_failed_and_the_service_stays_online(sim, adam):
    adapter(sim).getgrayreleaseplan(sim.app)  # the tokens are fetched before WeChat starts failing
    SimSettings.objects.update_or_create(pk=1, defaults={"error_rate_pct": 100})
    with pytest.raises(Refused) as refused:
        services.app_service_set(app=sim.app, actor=adam, online=False, reason="leak")
    assert refused.value.code == "wechat_-1"
    sim.app.refresh_from_db()
    assert (sim.app.service_state, sim.app.service_online) == ("stop_failed", True)
    assert sim.app.service_error
    assert gray().visible is True
    SimSettings.objects.filter(pk=1).update(error_rate_pct=0)
    services.app_service_set(app=sim.app, actor=adam, online=False, reason="leak")  # stop again
    sim.app.refresh_from_db()
    assert (sim.app.service_state, sim.app.service_error) == ("offline", "")


def test_a_crash_after_change_visitstatus_answered_is_recorded_once_by_the_sweep(sim, adam, redis_db):
    from releases.urgent_services import _app_transition

    app = _app_transition(
        sim.app, "service_stop", actor=adam, action="service_change_requested", data={}, args=LEAK
    )
    adapter(sim).change_visitstatus(app, "close")  # the dead process's call, never recorded
    lease_runs_out(app)
    assert services.release_sweep_in_flight() == 1
    run_platform_queue()
    app.refresh_from_db()
    assert (app.service_state, app.service_online, app.service_reason) == ("offline", False, "leak")
    assert gray().visible is False
    offline = AuditEvent.objects.filter(app_id=app.pk, action="service_offline")
    assert [event.data for event in offline] == [{"reason": "leak", "reconciled": True}]
    assert services.release_sweep_in_flight() == 0
