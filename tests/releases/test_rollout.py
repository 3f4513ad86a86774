"""Phased releases on the manual platform (steps run inline): the plan, the stages, the
scheduler's holds (time-travelled), pause, resume, revert, and the rules checked before acting."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from releases import actions, services
from releases.errors import Invalid, Refused
from releases.models import AuditEvent, Release, State

PLAN = [{"percentage": 5, "hold_minutes": 120}, {"percentage": 20, "hold_minutes": 480}, {"percentage": 100}]


@pytest.fixture
def approved(make_release):
    return make_release(upto="approved")


def publish(release, mike, plan=PLAN):
    services.release_publish(release=release, actor=mike, rollout=plan)
    release.refresh_from_db()
    return release


def test_publishing_with_a_plan_shows_its_first_stage_and_when_the_next_one_is_due(approved, mike):
    before = timezone.now()
    release = publish(approved, mike)
    assert release.state == State.ROLLING_OUT
    rollout = release.rollout
    assert (rollout["status"], rollout["stage"], rollout["percentage"]) == ("running", 1, 5)
    assert release.rollout_due_at - before >= timedelta(minutes=120)
    assert release.rollout_due_at - before < timedelta(minutes=121)
    event = AuditEvent.objects.filter(release_id=release.pk, action="publish").get()
    assert event.data == {"plan": "5% (2 h) → 20% (8 h) → 100%", "percentage": 5}


def test_without_a_plan_the_apps_default_is_used_and_by_default_it_is_a_full_release(approved, mike, app):
    release = publish(approved, mike, plan=None)
    assert release.state == State.PUBLISHED
    assert (release.rollout["status"], release.rollout["percentage"]) == ("completed", 100)


def test_the_apps_default_plan_applies_when_publish_names_none(make_release, mike, app):
    app.settings = {"rollout_plan": [{"percentage": 10, "hold_minutes": 60}, {"percentage": 100}]}
    app.save()
    release = publish(make_release(upto="approved"), mike, plan=None)
    assert (release.state, release.rollout["percentage"]) == (State.ROLLING_OUT, 10)


@pytest.mark.parametrize(
    "plan",
    [
        [{"percentage": 20, "hold_minutes": 1}, {"percentage": 5, "hold_minutes": 1}, {"percentage": 100}],
        [{"percentage": 20, "hold_minutes": 1}, {"percentage": 20, "hold_minutes": 1}, {"percentage": 100}],
        [{"percentage": 5, "hold_minutes": 1}, {"percentage": 50}],
        [{"percentage": 5}, {"percentage": 100}],
        [],
        "all at once",
        [{"percentage": 101}],
    ],
)
def test_a_plan_the_platform_would_refuse_is_a_400_and_changes_nothing(approved, mike, plan):
    with pytest.raises(Invalid) as refused:
        services.release_publish(release=approved, actor=mike, rollout=plan)
    assert refused.value.code == "invalid_rollout"
    approved.refresh_from_db()
    assert approved.state == State.APPROVED
    assert not AuditEvent.objects.filter(release_id=approved.pk, action="publish").exists()


def test_the_scheduler_advances_each_stage_only_when_its_hold_has_ended(approved, mike):
    release = publish(approved, mike)
    with time_machine.travel(timezone.now() + timedelta(minutes=119)):
        assert services.release_rollouts_tick() == 0
    release.refresh_from_db()
    assert release.rollout["percentage"] == 5
    with time_machine.travel(timezone.now() + timedelta(minutes=121)):
        assert services.release_rollouts_tick() == 1
        release.refresh_from_db()
        assert (release.state, release.rollout["stage"], release.rollout["percentage"]) == (
            State.ROLLING_OUT,
            2,
            20,
        )
    with time_machine.travel(timezone.now() + timedelta(minutes=121 + 481)):
        assert services.release_rollouts_tick() == 1
    release.refresh_from_db()
    assert (release.state, release.rollout["status"], release.rollout["percentage"]) == (
        State.PUBLISHED,
        "completed",
        100,
    )
    stages = AuditEvent.objects.filter(release_id=release.pk, action="rollout_advance")
    assert [e.actor_id for e in stages] == [None, None]  # the scheduler did it


def test_advance_now_skips_the_rest_of_the_hold(approved, mike):
    release = publish(approved, mike)
    actions.perform(release, "rollout-advance", actor=mike, payload={})
    release.refresh_from_db()
    assert release.rollout["percentage"] == 20


def test_a_paused_rollout_does_not_advance_and_resumes_with_the_time_it_had_left(approved, mike):
    release = publish(approved, mike)
    with time_machine.travel(timezone.now() + timedelta(minutes=60), tick=False):
        services.release_rollout_pause(release=release, actor=mike, reason="weekend")
        release.refresh_from_db()
        assert release.rollout["status"] == "paused"
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert services.release_rollouts_tick() == 0
        release.refresh_from_db()
        assert release.rollout["percentage"] == 5
        with pytest.raises(Refused) as refused:
            services.release_rollout_advance(release=release, actor=mike)
        assert refused.value.code == "rollout_not_running"
        services.release_rollout_resume(release=release, actor=mike)
        release.refresh_from_db()
        left = release.rollout_due_at - timezone.now()
        assert timedelta(minutes=59) < left <= timedelta(minutes=60)


def test_pause_twice_and_resume_while_running_are_refused_by_name(approved, mike):
    release = publish(approved, mike)
    with pytest.raises(Refused) as refused:
        services.release_rollout_resume(release=release, actor=mike)
    assert refused.value.code == "rollout_not_paused"
    services.release_rollout_pause(release=release, actor=mike)
    with pytest.raises(Refused) as refused:
        services.release_rollout_pause(release=release, actor=mike)
    assert refused.value.code == "rollout_not_running"


def test_at_the_last_stage_there_is_nothing_higher_to_advance_to(make_release, mike):
    release = publish(
        make_release(upto="approved"), mike, [{"percentage": 50, "hold_minutes": 5}, {"percentage": 100}]
    )
    Release.objects.filter(pk=release.pk).update(rollout={**release.rollout, "percentage": 100})
    release.refresh_from_db()
    with pytest.raises(Refused) as refused:
        services.release_rollout_advance(release=release, actor=mike)
    assert refused.value.code == "gray_percentage_too_low"


def test_revert_needs_a_reason_and_returns_to_approved_so_it_can_be_published_again(approved, mike):
    release = publish(approved, mike)
    with pytest.raises(Invalid) as refused:
        services.release_rollout_revert(release=release, actor=mike, reason=" ")
    assert refused.value.code == "reason_required"
    services.release_rollout_revert(release=release, actor=mike, reason="crash spike")
    release.refresh_from_db()
    assert (release.state, release.rollout["status"], release.rollout["percentage"]) == (
        State.APPROVED,
        "reverted",
        0,
    )
    release = publish(release, mike)
    assert (release.state, release.rollout["status"], release.rollout["percentage"]) == (
        State.ROLLING_OUT,
        "running",
        5,
    )


def test_no_rollback_of_the_online_version_while_another_is_in_a_phased_release(make_release, mike):
    online = make_release("1.0.0", upto="published")
    publish(make_release("1.1.0", upto="approved"), mike)
    with pytest.raises(Refused) as refused:
        services.release_rollback(release=online, actor=mike, reason="bad")
    assert refused.value.code == "phased_release_running"
    [offered] = [a for a in actions.available_actions(online, mike) if a.action.name == "rollback"]
    assert (offered.enabled, offered.code) == (False, "phased_release_running")


def test_a_viewer_cannot_touch_a_rollout(approved, mike, vera):
    from releases.errors import Forbidden

    release = publish(approved, mike)
    for name in ("rollout-advance", "rollout-pause", "rollout-revert"):
        with pytest.raises(Forbidden):
            actions.perform(release, name, actor=vera, payload={"reason": "x"})


def test_rollback_needs_a_reason_an_earlier_version_and_not_a_rollback_just_before(make_release, mike):
    first = make_release("1.0.0", upto="published")
    with pytest.raises(Refused) as refused:
        services.release_rollback(release=first, actor=mike, reason="bad")
    assert refused.value.code == "no_previous_version"
    second = make_release("1.1.0", upto="published")
    with pytest.raises(Invalid) as refused:
        services.release_rollback(release=second, actor=mike, reason="")
    assert refused.value.code == "reason_required"
    services.release_rollback(release=second, actor=mike, reason="checkout broken")
    second.refresh_from_db()
    assert second.state == State.ROLLED_BACK
    event = AuditEvent.objects.get(release_id=second.pk, action="rollback")
    assert event.data == {"reason": "checkout broken"}
    first.refresh_from_db()
    with pytest.raises(Refused) as refused:  # 1.0.0 is online again, by a rollback: not twice in a row
        services.release_rollback(release=first, actor=mike, reason="again")
    assert refused.value.code in ("rollback_twice", "no_previous_version")


def test_a_failed_stage_cannot_be_cancelled_while_the_version_is_live_for_some_users(approved, mike):
    release = publish(approved, mike)
    services.release_rollout_advance(release=release, actor=mike)
    Release.objects.filter(pk=release.pk).update(state=State.PUBLISH_FAILED)  # the 20% call failed
    release.refresh_from_db()
    with pytest.raises(Refused) as refused:
        services.release_cancel(release=release, actor=mike)
    assert refused.value.code == "phased_release_live"
    services.release_rollout_revert(release=release, actor=mike, reason="give up")
    release.refresh_from_db()
    assert release.state == State.APPROVED
    services.release_cancel(release=release, actor=mike)
