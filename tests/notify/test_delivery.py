"""Delivery never gets in the way: rate limits with coalescing, retries with backoff and a bounded
give-up, redelivery, quiet hours, languages, and transitions that stand whatever the channels do."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from notify import delivery, detection
from notify.detection import FanOut
from notify.models import Delivery, Preference
from releases import services
from releases.models import State

START = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # 10:00 Beijing time, a Tuesday


def _approved(fan: FanOut, team, n: int) -> None:
    facts = {"app": "Shop", "version": f"1.0.{n}", "link": f"/releases/{n}/"}
    fan.add(team_id=team.pk, event="approved", source=f"test:{n}", facts=facts)


def test_a_burst_of_100_events_makes_at_most_20_messages_a_minute_and_the_rest_one_summary(
    db, team, robots, channel, time_machine
):
    time_machine.move_to(START, tick=False)
    wecom = channel("wecom", language="en")
    for n in range(100):  # one event every 0.3 s, each waking the sender
        fan = FanOut()
        _approved(fan, team, n)
        fan.queue()
        delivery.deliver_channel(wecom.pk)
        time_machine.shift(0.3)
    assert len(robots.to("/wecom")) == 20  # the minute's budget, then the queue waits
    time_machine.shift(60)
    delivery.deliver_channel(wecom.pk)
    requests = robots.to("/wecom")
    assert len(requests) == 21
    summary = requests[-1].json["markdown"]["content"]
    assert "80 releases were approved" in summary and "Shop 1.0.49 was approved" in summary
    assert "… and 50 more" in summary and len(summary.encode()) <= 4096
    assert Delivery.objects.filter(status="sent").count() == 100
    carried = Delivery.objects.filter(carried=80)
    assert carried.count() == 80 and carried.exclude(carried_by=None).count() == 79


def test_robot_rate_limit_codes_wait_before_the_next_try(db, team, robots, channel, time_machine):
    time_machine.move_to(START, tick=False)
    ding, wecom = channel("dingtalk"), channel("wecom")
    robots.reply("/dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
    robots.reply("/wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    fan = FanOut()
    _approved(fan, team, 1)
    fan.queue()
    delivery.deliver_channel(ding.pk)
    delivery.deliver_channel(wecom.pk)
    throttled = Delivery.objects.get(channel=ding)
    assert throttled.status == "retrying" and throttled.answer.startswith('{"errcode": 130101')
    assert throttled.next_attempt_at >= START + timedelta(seconds=600)  # DingTalk's 10-minute window
    assert Delivery.objects.get(channel=wecom).next_attempt_at >= START + timedelta(seconds=60)
    time_machine.shift(599)
    delivery.deliver_channel(ding.pk)
    assert len(robots.to("/dingtalk")) == 1  # not yet
    time_machine.shift(2)
    delivery.deliver_channel(ding.pk)
    assert Delivery.objects.get(channel=ding).status == "sent" and len(robots.to("/dingtalk")) == 2


def test_errors_are_retried_with_backoff_then_given_up_and_redelivered_from_the_log(
    db, settings, team, robots, channel, time_machine, api_client, mike
):
    settings.SLUICE_NOTIFY_RETRY_SECONDS = [10, 100]
    time_machine.move_to(START, tick=False)
    hook = channel("webhook")
    robots.reply("/hook", 503, "unavailable", times=3)
    fan = FanOut()
    _approved(fan, team, 1)
    fan.queue()
    delivery.deliver_channel(hook.pk)
    item = Delivery.objects.get()
    assert item.status == "retrying" and item.attempts == 1
    assert START + timedelta(seconds=8) <= item.next_attempt_at <= START + timedelta(seconds=12)
    time_machine.shift(13)
    delivery.deliver_channel(hook.pk)
    item.refresh_from_db()
    assert item.attempts == 2 and item.next_attempt_at >= START + timedelta(seconds=13 + 80)
    time_machine.shift(121)
    delivery.deliver_channel(hook.pk)
    item.refresh_from_db()
    assert (item.status, item.attempts, item.http_status, item.answer) == ("failed", 3, 503, "unavailable")
    time_machine.shift(3600)
    delivery.deliver_channel(hook.pk)
    assert len(robots.to("/hook")) == 3  # given up: nothing more until a person asks
    path = f"/notification-channels/{hook.pk}/deliveries/{item.pk}/redeliver"
    assert api_client("post", path, user=mike).json()["status"] == "queued"
    delivery.deliver_channel(hook.pk)
    item.refresh_from_db()
    assert (item.status, item.attempts) == ("sent", 1) and len(robots.to("/hook")) == 4
    assert robots.to("/hook")[0].headers["webhook-id"] == robots.to("/hook")[-1].headers["webhook-id"]


def test_a_gone_webhook_disables_its_channel(db, team, robots, channel):
    hook = channel("webhook")
    robots.reply("/hook", 410, "gone")
    fan = FanOut()
    _approved(fan, team, 1)
    fan.queue()
    delivery.deliver_channel(hook.pk)
    hook.refresh_from_db()
    assert not hook.enabled and "410" in hook.disabled_reason
    assert Delivery.objects.get().status == "failed"


def test_quiet_hours_hold_what_can_wait_until_morning_and_let_the_urgent_through(
    db, team, robots, channel, time_machine
):
    from datetime import time

    time_machine.move_to(datetime(2026, 12, 8, 15, 0, tzinfo=UTC), tick=False)  # 23:00 Beijing
    wecom = channel("wecom", language="en", quiet_start=time(22), quiet_end=time(8))
    fan = FanOut()
    _approved(fan, team, 1)
    fan.add(team_id=team.pk, event="step_failed", source="urgent", facts={"app": "Shop", "step": "publish"})
    fan.queue()
    delivery.deliver_channel(wecom.pk)
    [urgent] = robots.to("/wecom")
    assert "the publish step failed" in urgent.json["markdown"]["content"]
    held = Delivery.objects.get(event="approved")
    assert held.status == "held" and held.next_attempt_at == datetime(2026, 12, 9, 0, 0, tzinfo=UTC)  # 08:00
    time_machine.move_to(datetime(2026, 12, 9, 0, 0, 30, tzinfo=UTC), tick=False)
    assert delivery.sweep_due() == 1
    delivery.deliver_channel(wecom.pk)
    assert "Shop 1.0.1 was approved" in robots.to("/wecom")[-1].json["markdown"]["content"]


def test_each_recipient_reads_their_own_language(
    db, settings, team, robots, channel, make_release, mike, nina
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    nina.email = "nina@example.com"
    nina.save()
    Preference.objects.create(user=nina, email_enabled=True, language="zh-Hans")
    english = channel("wecom", name="en", language="en", events=["approval_needed"])
    chinese = channel("feishu", name="zh", events=["approval_needed"])  # zh-Hans by default
    release = make_release("2.0.0", upto="checked")
    detection.scan()
    delivery.deliver_channel(english.pk)
    delivery.deliver_channel(chinese.pk)
    delivery.deliver_user(nina.pk)
    assert "Shop 2.0.0 needs approval" in robots.to("/wecom")[0].json["markdown"]["content"]
    assert robots.to("/feishu")[0].json["card"]["header"]["title"]["content"] == "Shop 2.0.0 待审批"
    [email] = mail.outbox  # nina may approve alice's release; email on, in Chinese
    assert email.to == ["nina@example.com"] and email.subject == "Shop 2.0.0 待审批"
    assert f"/releases/{release.pk}/" in email.body


def test_a_failing_channel_never_fails_the_transition(
    db, team, robots, channel, make_release, mike, monkeypatch, django_capture_on_commit_callbacks
):
    channel("wecom", url="http://127.0.0.1:9/wecom?key=nobody-listens")
    release = make_release("3.0.0", upto="submitted")

    def redis_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(detection.django_rq, "get_connection", redis_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="图片违规")
    release.refresh_from_db()
    assert release.state == State.REJECTED
    monkeypatch.undo()
    detection.scan()
    for channel_id in Delivery.objects.values_list("channel_id", flat=True).distinct():
        delivery.deliver_channel(channel_id)
    assert Delivery.objects.filter(event="rejected", status="retrying").exists()
    assert "Could not connect" in Delivery.objects.get(event="rejected").answer
    release.refresh_from_db()
    assert release.state == State.REJECTED


@pytest.mark.parametrize("repeat", [1, 2])
def test_scanning_twice_queues_each_event_once(db, team, robots, channel, make_release, repeat):
    channel("wecom", events=["submitted", "approved", "published"])
    make_release("4.0.0", upto="published")
    for _ in range(repeat):
        detection.scan()
    from notify.models import Cursor

    Cursor.objects.update(last_event_id=0)  # a crash before the cursor moved: replayed, not doubled
    detection.scan()
    assert sorted(Delivery.objects.values_list("event", flat=True)) == ["approved", "published", "submitted"]


def test_a_chinese_message_names_the_category_and_the_playbook_steps_in_chinese():
    """They are stored in English (the rejection's category label, the playbook's step titles)."""
    from django.utils import translation

    from notify.messages import details

    facts = {"categories": ["Account information"], "steps": ["Explain the fix to the reviewer"]}
    with translation.override("zh-hans"):
        lines = details("rejected", facts)
    assert "Account information" not in " ".join(lines)
    assert "Explain the fix to the reviewer" not in " ".join(lines)
