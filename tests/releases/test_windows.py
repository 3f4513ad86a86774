"""Publish windows and freezes in Beijing time, time-travelled: a publish outside them is refused
naming the next opening, China's holidays and make-up working days count, an admin may override
with a reason (audited), and a scheduled publish goes live once, when due."""

from datetime import datetime

import pytest
import time_machine

from releases import services
from releases.errors import Forbidden, Invalid, Refused
from releases.limits.clock import BEIJING
from releases.models import AuditEvent, State
from releases.windows import is_open, next_opening, parse_policy

WEEKDAYS = {
    "windows": [{"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}],
    "working_days_only": True,
}


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def policy(team):
    team.publish_policy = parse_policy(WEEKDAYS)
    team.save()
    return team.publish_policy


def test_a_window_is_open_inside_its_hours_on_its_days_only(policy):
    assert is_open(policy, bj(2024, 9, 10, 10, 0))  # Tuesday
    assert not is_open(policy, bj(2024, 9, 10, 16, 0))
    assert not is_open(policy, bj(2024, 9, 10, 9, 59))
    assert not is_open(policy, bj(2024, 5, 17, 11, 0))  # Friday
    assert next_opening(policy, bj(2024, 5, 16, 17, 0)) == bj(2024, 5, 20, 10, 0)  # Thu evening -> Mon


def test_public_holidays_are_closed_and_make_up_working_days_open(policy):
    assert not is_open(policy, bj(2024, 10, 3, 11, 0))  # National Day, a Thursday
    assert next_opening(policy, bj(2024, 9, 30, 17, 0)) == bj(2024, 10, 8, 10, 0)
    assert is_open(policy, bj(2024, 10, 12, 11, 0))  # a Saturday made a working day (调休)
    assert next_opening(policy, bj(2024, 9, 12, 17, 0)) == bj(2024, 9, 14, 10, 0)  # 调休 before 中秋


def test_a_freeze_closes_its_window_and_the_next_opening_is_after_it(team):
    team.publish_policy = parse_policy(
        {
            **WEEKDAYS,
            "freezes": [{"from": "2024-11-11T00:00", "to": "2024-11-12T12:00", "reason": "Double 11"}],
        }
    )
    policy = team.publish_policy
    assert not is_open(policy, bj(2024, 11, 11, 11, 0))  # a Monday
    assert next_opening(policy, bj(2024, 11, 11, 11, 0)) == bj(2024, 11, 12, 12, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"windows": [{"days": ["someday"], "from": "10:00", "to": "16:00"}]},
        {"windows": [{"days": ["mon"], "from": "16:00", "to": "10:00"}]},
        {"freezes": [{"from": "2024-11-11T00:00", "to": "2024-11-12T00:00"}]},
        {"colour": "red"},
    ],
)
def test_a_bad_policy_is_refused_by_name(bad):
    with pytest.raises(Invalid) as refused:
        parse_policy(bad)
    assert refused.value.code == "invalid_publish_policy"


def test_publishing_outside_the_window_is_a_409_naming_the_next_opening(policy, make_release, mike):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0)), pytest.raises(Refused) as refused:  # a Friday
        services.release_publish(release=release, actor=mike)
    assert refused.value.code == "outside_publish_window"
    assert "2024-05-20 10:00 Beijing time" in refused.value.message
    assert refused.value.details["lifts_at"] == "2024-05-20T10:00:00+08:00"
    release.refresh_from_db()
    assert release.state == State.APPROVED


def test_an_admin_overrides_the_window_with_a_reason_which_is_audited(policy, make_release, mike, adam):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0)):
        with pytest.raises(Forbidden):
            services.release_publish(release=release, actor=mike, override_reason="hotfix")
        services.release_publish(release=release, actor=adam, override_reason="payment outage hotfix")
    release.refresh_from_db()
    assert release.state == State.PUBLISHED
    event = AuditEvent.objects.get(release_id=release.pk, action="publish")
    assert event.data["window_override"] == "payment outage hotfix"


def test_the_publish_button_says_why_it_is_disabled_outside_the_window(policy, make_release, mike):
    from releases.actions import available_actions

    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0)):
        [publish] = [a for a in available_actions(release, mike) if a.action.name == "publish"]
    assert (publish.enabled, publish.code) == (False, "outside_publish_window")


def test_schedule_at_the_next_window_publishes_once_when_due(policy, make_release, mike):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0), tick=False):
        services.release_schedule_publish(release=release, actor=mike, at="next window")
        release.refresh_from_db()
        assert (release.rollout["status"], release.rollout_due_at) == ("scheduled", bj(2024, 5, 20, 10, 0))
    with time_machine.travel(bj(2024, 5, 20, 9, 59), tick=False):
        services.release_rollouts_tick()
    release.refresh_from_db()
    assert release.state == State.APPROVED
    with time_machine.travel(bj(2024, 5, 20, 10, 0, 30), tick=False):
        services.release_rollouts_tick()
        services.release_rollouts_tick()  # a second tick (or a restarted one) finds nothing to do
    release.refresh_from_db()
    assert release.state == State.PUBLISHED
    assert AuditEvent.objects.filter(release_id=release.pk, action="publish").count() == 1
    assert AuditEvent.objects.get(release_id=release.pk, action="publish").data["scheduled"] is True


def test_a_scheduled_moment_outside_the_window_is_refused_naming_the_next_opening(policy, make_release, mike):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0)), pytest.raises(Refused) as refused:
        services.release_schedule_publish(release=release, actor=mike, at="2024-05-18T11:00:00+08:00")
    assert refused.value.code == "outside_publish_window"


def test_unschedule_cancels_and_a_second_one_is_refused(policy, make_release, mike):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 5, 17, 11, 0), tick=False):
        services.release_schedule_publish(release=release, actor=mike, at="next window")
        services.release_unschedule(release=release, actor=mike)
        with pytest.raises(Refused) as refused:
            services.release_unschedule(release=release, actor=mike)
    assert refused.value.code == "not_scheduled"
    with time_machine.travel(bj(2024, 5, 20, 11, 0), tick=False):
        services.release_rollouts_tick()
    release.refresh_from_db()
    assert (release.state, release.rollout) == (State.APPROVED, {})


def test_a_freeze_added_after_scheduling_moves_the_publish_to_the_next_opening(
    team, policy, make_release, mike
):
    release = make_release(upto="approved")
    with time_machine.travel(bj(2024, 9, 12, 17, 0), tick=False):  # next opening: Sat 14 (调休)
        services.release_schedule_publish(release=release, actor=mike, at="next window")
    team.publish_policy = parse_policy(
        {
            **WEEKDAYS,
            "freezes": [{"from": "2024-09-14T00:00", "to": "2024-09-15T00:00", "reason": "Mid-Autumn"}],
        }
    )
    team.save()
    with time_machine.travel(bj(2024, 9, 14, 10, 1), tick=False):
        services.release_rollouts_tick()
    release.refresh_from_db()
    assert release.state == State.APPROVED
    event = AuditEvent.objects.get(release_id=release.pk, action="publish_rescheduled")
    assert event.data["at"] == "2024-09-18T10:00:00+08:00"  # 15-17 Sep 2024 are holidays (中秋)
