"""Phased releases, speed-up and the emergency stop against the simulated WeChat: the calls each
step makes, what a crash between WeChat's answer and our write leaves (the retry reconciles with
getgrayreleaseplan instead of calling twice), and WeChat's refusals shown as they are."""

import json

import pytest

from releases import services
from releases.errors import Refused
from releases.models import AuditEvent, State
from releases.services import release_step_perform
from simulator.models import SimAuthorizer
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


def test_a_crash_after_speedupaudit_answered_is_recorded_as_done_when_pressed_again(sim, in_review, mike):
    from releases.transitions import _transition

    # The request was recorded and WeChat sped the review up, then the process died before the write.
    _transition(in_review, "speedup", actor=mike, action="speedup_requested", data={"reason": "hotfix"})
    adapter(sim).speedupaudit(in_review.app, in_review.platform_audit_id)
    services.release_speedup(release=in_review, actor=mike, reason="hotfix")
    last = AuditEvent.objects.filter(release_id=in_review.pk).order_by("-id").first()
    assert (last.action, last.data) == ("speedup_succeeded", {"reconciled": True})


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
