"""Events time makes true, found by the periodic jobs once each: a review overdue in working days,
a lock that starts and lifts, a window about to close, quota low, an app gone quiet, and the
morning digest on working days at the channel's time."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notify import detection, periodic
from releases import services
from releases.audit import audit_record
from releases.models import App, QuotaSnapshot

REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途"


def _events(channel) -> list[str]:
    return sorted(channel.deliveries.values_list("event", flat=True))


def _reject(make_release, mike, version):
    release = make_release(version, upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    return release


def test_a_review_is_overdue_after_3_working_days_and_again_after_7(db, channel, make_release, time_machine):
    time_machine.move_to(datetime(2026, 12, 7, 2, 0, tzinfo=UTC), tick=False)  # Monday 10:00 Beijing
    robot = channel("wecom", events=["review_overdue"], language="en")
    make_release("1.0.0", upto="submitted")
    time_machine.move_to(datetime(2026, 12, 10, 2, 0, tzinfo=UTC), tick=False)  # Thursday: 3 working days
    periodic.hourly_job()
    assert _events(robot) == []
    time_machine.move_to(datetime(2026, 12, 11, 2, 0, tzinfo=UTC), tick=False)  # Friday: 4
    periodic.hourly_job()
    periodic.hourly_job()
    [late] = robot.deliveries.all()
    assert late.facts["days"] == 4
    time_machine.move_to(
        datetime(2026, 12, 14, 2, 0, tzinfo=UTC), tick=False
    )  # Monday: the weekend did not count
    periodic.hourly_job()
    assert robot.deliveries.count() == 1
    time_machine.move_to(datetime(2026, 12, 17, 2, 0, tzinfo=UTC), tick=False)  # Thursday: 8
    periodic.hourly_job()
    assert robot.deliveries.count() == 2


def test_a_same_reason_lock_is_announced_when_it_starts_and_when_it_lifts(
    db, channel, make_release, mike, time_machine
):
    time_machine.move_to(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), tick=False)
    robot = channel("wecom", events=["lock_started", "lock_ended", "rejected"], language="en")
    _reject(make_release, mike, "1.0.0")
    _reject(make_release, mike, "1.0.1")  # the second in a row for the same reason locks the app
    detection.scan()
    assert _events(robot) == ["lock_started", "rejected", "rejected"]
    started = robot.deliveries.get(event="lock_started")
    assert "Beijing time" in started.facts["until"]
    time_machine.shift(timedelta(hours=23))
    periodic.minute_job()
    assert "lock_ended" not in _events(robot)
    time_machine.shift(timedelta(hours=1, minutes=1))
    periodic.minute_job()
    periodic.minute_job()
    assert _events(robot).count("lock_ended") == 1


def test_the_window_closing_warning_comes_a_day_before_unless_already_resubmitted(
    db, channel, make_release, mike, time_machine
):
    time_machine.move_to(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), tick=False)
    robot = channel("wecom", events=["window_closing"], language="en")
    kept = _reject(make_release, mike, "1.0.0")
    detection.scan()
    time_machine.shift(timedelta(days=5, hours=23))
    periodic.minute_job()
    assert _events(robot) == []
    time_machine.shift(timedelta(hours=1, minutes=1))
    periodic.minute_job()
    [warning] = robot.deliveries.all()
    assert warning.release_id == kept.pk and warning.facts["closes"] == "2026-12-15 10:00 Beijing time"


def test_quota_low_is_sent_once_per_value_at_3_or_fewer(db, channel, app, time_machine):
    time_machine.move_to(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), tick=False)
    robot = channel("wecom", events=["quota_low"], language="en")
    snapshot = QuotaSnapshot.objects.create(
        account=app.platform_account, rest=4, limit=20, refreshed_at=timezone.now()
    )
    periodic.hourly_job()
    assert _events(robot) == []
    QuotaSnapshot.objects.filter(pk=snapshot.pk).update(rest=3)
    periodic.hourly_job()
    periodic.hourly_job()
    [low] = robot.deliveries.all()
    assert low.facts["remaining"] == 3


def test_an_app_without_a_release_in_30_days_is_pointed_out(db, channel, team, manual_account, time_machine):
    time_machine.move_to(datetime(2026, 12, 8, 2, 0, tzinfo=UTC), tick=False)
    robot = channel("wecom", events=["no_release_30_days"], language="en")
    App.objects.create(
        team=team, platform_account=manual_account, name="Quiet", appid="wxquiet", created_at=timezone.now()
    )
    time_machine.shift(timedelta(days=31))
    periodic.hourly_job()
    periodic.hourly_job()
    [stale] = robot.deliveries.all()
    assert stale.facts["app"] == "Quiet"


def test_step_failures_and_lost_authorizations_come_from_the_trail(db, channel, make_release, app):
    robot = channel("wecom", events=["step_failed", "authorization_lost"], language="en")
    release = make_release("1.0.0")
    with transaction.atomic():
        audit_record(action="publish_failed", release=release, data={"code": "-1", "message": "system error"})
        audit_record(action="platform_unauthorized", target=app.platform_account, app=app, data={})
    detection.scan()
    failed = robot.deliveries.get(event="step_failed")
    assert failed.facts["step"] == "publish" and failed.facts["error"] == "system error"
    assert robot.deliveries.filter(event="authorization_lost").exists()


def test_failed_checks_are_announced(db, channel, make_release, alice):
    robot = channel("wecom", events=["checks_failed"], language="en")
    release = make_release("1.0.0", build_report={"packages": [], "pages": []})
    with pytest.raises(Exception):  # noqa: B017 -- refused with checks_failed, the run is kept
        services.release_check(release=release, actor=alice)
    periodic.minute_job()
    [failed] = robot.deliveries.all()
    assert failed.facts["checks"]


@pytest.mark.parametrize(
    ("when", "working_days_only", "sent"),
    [
        (datetime(2026, 12, 8, 1, 31, tzinfo=UTC), True, True),  # Tuesday 09:31 Beijing
        (datetime(2026, 12, 8, 1, 29, tzinfo=UTC), True, False),  # not yet
        (datetime(2026, 12, 12, 1, 31, tzinfo=UTC), True, False),  # Saturday
        (datetime(2026, 12, 12, 1, 31, tzinfo=UTC), False, True),  # Saturday, asked for
    ],
)
def test_the_morning_digest_comes_at_the_channels_time_on_working_days(
    db, channel, make_release, time_machine, when, working_days_only, sent
):
    time_machine.move_to(when - timedelta(days=2), tick=False)
    make_release("1.0.0", upto="submitted")
    robot = channel("wecom", events=["digest"], language="en", digest_working_days_only=working_days_only)
    robot.digest_time = time(9, 30)
    robot.save()
    time_machine.move_to(when, tick=False)
    periodic.minute_job()
    periodic.minute_job()
    digests = list(robot.deliveries.filter(event="digest"))
    assert len(digests) == (1 if sent else 0)
    if sent:
        sections = digests[0].facts["sections"]
        assert any(line.startswith("In review: Shop 1.0.0") for line in sections)
