"""The notification pages: add a robot, send a test and read the platform's answer, the delivery
log with redelivery, and a person's own preferences; managers only where it changes something."""

import pytest
from django.urls import reverse

from notify import delivery
from notify.detection import FanOut
from notify.models import Channel, Delivery, Preference


@pytest.fixture
def form(robots):
    def make(team, **changes):
        return {
            "team": team.pk,
            "kind": "dingtalk",
            "name": "发布群",
            "url": f"{robots.url}/dingtalk?access_token=tok-123456",
            "secret": "SECpage-secret-1",
            "events": ["rejected", "approved"],
            "language": "zh-Hans",
            "digest_time": "09:30",
            "digest_working_days_only": "on",
            "enabled": "on",
            **changes,
        }

    return make


def test_a_manager_adds_a_robot_tests_it_and_reads_the_platforms_answer(login, mike, team, form, robots):
    client = login(mike)
    response = client.post(reverse("web:notification-channel-create"), form(team))
    channel = Channel.objects.get()
    assert response.url == reverse("web:notification-channel", args=[channel.pk])
    assert channel.events == ["rejected", "approved"] and channel.secret == "SECpage-secret-1"
    robots.reply("/dingtalk", 200, '{"errcode":310000,"errmsg":"sign not match"}')
    page = client.post(
        reverse("web:notification-channel-test", args=[channel.pk]), follow=True
    ).content.decode()
    assert "sign not match" in page and "310000" in page
    page = client.post(
        reverse("web:notification-channel-test", args=[channel.pk]), follow=True
    ).content.decode()
    assert "Test sent" in page or "测试" in page
    assert "SECpage-secret-1" not in page and "tok-123456" not in page
    assert Delivery.objects.filter(channel=channel, event="test").count() == 2


def test_an_edit_without_secret_or_url_keeps_the_stored_ones(login, mike, team, form):
    client = login(mike)
    client.post(reverse("web:notification-channel-create"), form(team))
    channel = Channel.objects.get()
    client.post(
        reverse("web:notification-channel-edit", args=[channel.pk]),
        form(team, url="", secret="", name="Renamed", language="en"),
    )
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.language == "en"
    assert channel.secret == "SECpage-secret-1" and "tok-123456" in channel.url


def test_the_delivery_log_shows_failures_and_redelivers_them(login, mike, team, channel, robots):
    wecom = channel("wecom", language="en")
    robots.reply("/wecom", 200, {"errcode": 40008, "errmsg": "invalid message type"})
    fan = FanOut()
    fan.add(team_id=team.pk, event="approved", source="s1", facts={"app": "Shop", "version": "1.0.0"})
    fan.queue()
    delivery.deliver_channel(wecom.pk)
    client = login(mike)
    page = client.get(reverse("web:notification-channel", args=[wecom.pk])).content.decode()
    assert "invalid message type" in page and "Redeliver" in page
    item = Delivery.objects.get()
    client.post(reverse("web:notification-redeliver", args=[wecom.pk, item.pk]))
    delivery.deliver_channel(wecom.pk)
    item.refresh_from_db()
    assert item.status == "sent"


def test_viewers_see_channels_but_cannot_change_or_test_them(login, vera, mike, team, form, olga):
    login(mike).post(reverse("web:notification-channel-create"), form(team))
    channel = Channel.objects.get()
    client = login(vera)
    page = client.get(reverse("web:notification-channel", args=[channel.pk])).content.decode()
    assert "send-test" not in page and "channel-form" not in page
    client.post(reverse("web:notification-channel-test", args=[channel.pk]))
    client.post(reverse("web:notification-channel-delete", args=[channel.pk]))
    assert Channel.objects.exists() and not Delivery.objects.exists()
    assert login(olga).get(reverse("web:notification-channel", args=[channel.pk])).status_code == 404


def test_a_person_sets_their_own_email_language_and_mobile(login, alice):
    client = login(alice)
    url = reverse("web:notification-preferences")
    client.post(url, {"email_enabled": "on", "language": "zh-Hans", "mobile": "13800000000"})
    preference = Preference.objects.get(user=alice)
    assert (preference.email_enabled, preference.language, preference.mobile) == (
        True,
        "zh-Hans",
        "13800000000",
    )
    client.post(url, {"language": "en", "mobile": "call me"})
    preference.refresh_from_db()
    assert preference.mobile == "13800000000"  # refused, nothing changed
