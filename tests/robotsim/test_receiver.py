"""The demo receiver: the stand-in robots accept what Sluice signs correctly, refuse the rest in
the vendors' own codes, and the inbox shows the messages as the chat apps would."""

import pytest
from django.core.management import call_command

from notify import delivery, detection
from notify.models import Channel
from releases import services
from robotsim.management.commands import seed_demo_robots
from robotsim.models import Received, Robot


@pytest.fixture
def demo(settings, live_server, monkeypatch, team, mike, adam):
    settings.SIMULATOR = True
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    team.name = "Demo team"
    team.save()
    monkeypatch.setattr(seed_demo_robots, "_this_server", lambda: f"{live_server.url}/sim/robots")
    call_command("seed_demo_robots")
    call_command("seed_demo_robots")  # idempotent
    assert Channel.objects.count() == 3 and Robot.objects.count() == 3
    return live_server.url


def test_every_demo_channel_passes_its_test_with_a_valid_signature(demo, api_client, mike):
    for channel in Channel.objects.all():
        answer = api_client("post", f"/notification-channels/{channel.pk}/test", user=mike).json()
        assert answer["ok"], (channel.kind, answer)
    assert Received.objects.filter(accepted=True).count() == 3


def test_a_wrong_secret_gets_the_vendors_refusal(demo, api_client, mike):
    ding = Channel.objects.get(kind="dingtalk")
    ding.secret = "SECwrong"
    ding.save()
    feishu = Channel.objects.get(kind="feishu")
    feishu.secret = "wrong"
    feishu.save()
    wecom = Channel.objects.get(kind="wecom")
    wecom.url = wecom.url.replace("key=", "key=x")
    wecom.save()
    said = {
        c.kind: api_client("post", f"/notification-channels/{c.pk}/test", user=mike).json()
        for c in (ding, feishu, wecom)
    }
    assert '"errmsg": "sign not match"' in said["dingtalk"]["answer"]
    assert '"code": 19021' in said["feishu"]["answer"]
    assert '"errcode": 93000' in said["wecom"]["answer"]
    assert not any(answer["ok"] for answer in said.values())


def test_a_rejection_shows_in_the_inbox_as_each_app_would(demo, make_release, mike, adam, client):
    release = make_release("5.0.0", upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="图片违规")
    Channel.objects.update(events=["rejected"])
    detection.scan()
    for channel in Channel.objects.all():
        delivery.deliver_channel(channel.pk)
    client.force_login(adam)
    page = client.get("/sim/robots/").content.decode()
    assert page.count("Shop 5.0.0 被拒绝") == 2 and "Shop 5.0.0 was rejected" in page  # zh, zh, en
    assert "tone-red" in page and f'href="/releases/{release.pk}/"' in page  # Feishu's card and button
    assert "图片违规" in page


def test_the_robots_answer_404_when_the_simulator_is_off(settings, client, db):
    settings.SIMULATOR = False
    assert (
        client.post("/sim/robots/wecom/cgi-bin/webhook/send?key=x", "{}", "application/json").status_code
        == 404
    )
