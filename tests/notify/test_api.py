"""The channel API contracts: create, list without secrets, test with the platform's answer,
the paged delivery log, and the refusals."""

import pytest

from notify.models import Channel
from tests.fixtures.robots import WEBHOOK_SECRET


@pytest.fixture
def wecom_body(robots):
    return {
        "kind": "wecom",
        "name": "Release room",
        "url": f"{robots.url}/wecom?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
        "events": ["rejected", "approved"],
        "apps": [],
        "language": "zh-Hans",
    }


def test_a_manager_creates_a_channel_and_its_secrets_never_come_back(api_client, mike, robots, app):
    body = {
        "kind": "dingtalk",
        "name": "钉钉群",
        "url": f"{robots.url}/dingtalk?access_token=abcdef123456",
        "secret": "SECsupersecret0001",
        "events": ["rejected"],
        "apps": [app.pk],
    }
    created = api_client("post", "/notification-channels", user=mike, **body)
    assert created.status_code == 201, created.json()
    out = created.json()
    assert out["secret_set"] is True and out["language"] == "zh-Hans" and out["apps"] == [app.pk]
    listed = api_client("get", "/notification-channels", user=mike)
    text = listed.content.decode()
    assert "SECsupersecret0001" not in text and "abcdef123456" not in text
    assert listed.json()["results"][0]["url"].endswith("access_token=%E2%80%A63456")
    stored = Channel.objects.get()
    assert stored.secret == "SECsupersecret0001"  # readable by the sender...
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, url FROM notify_channel")
        raw_secret, raw_url = cursor.fetchone()
    assert "SECsupersecret" not in raw_secret and "abcdef123456" not in raw_url  # ...encrypted at rest


def test_a_webhook_needs_a_standard_webhooks_secret(api_client, mike, robots):
    body = {"kind": "webhook", "name": "CI", "url": f"{robots.url}/hook", "secret": "plain"}
    refused = api_client("post", "/notification-channels", user=mike, **body)
    assert refused.status_code == 400 and "secret" in refused.json()["error"]["details"]
    body["secret"] = WEBHOOK_SECRET
    assert api_client("post", "/notification-channels", user=mike, **body).status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "slack"}, "invalid_request"),
        ({"events": ["everything"]}, "invalid_request"),
        ({"url": "ftp://example.com"}, "invalid_request"),
        ({"url": ""}, "invalid_request"),
        ({"name": "  "}, "invalid_request"),
        ({"quiet_hours": {"start": "22:00"}}, "invalid_request"),
        ({"kind": "webhook", "secret": "whsec_short"}, "invalid_request"),
    ],
)
def test_bad_channels_are_refused_with_a_code_and_nothing_is_stored(
    api_client, mike, wecom_body, change, code
):
    response = api_client("post", "/notification-channels", user=mike, **{**wecom_body, **change})
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert not Channel.objects.exists()


def test_an_email_channel_takes_addresses_in_to(api_client, mike):
    body = {"kind": "email", "name": "Mail", "to": ["qa@example.com", "pm@example.com"]}
    out = api_client("post", "/notification-channels", user=mike, **body).json()
    assert out["to"] == "qa@example.com, pm@example.com" and out["language"] == "en"
    bad = api_client("post", "/notification-channels", user=mike, **{**body, "name": "x", "to": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"


def test_an_app_of_another_team_is_not_found(api_client, mike, wecom_body, other_app):
    response = api_client(
        "post", "/notification-channels", user=mike, **{**wecom_body, "apps": [other_app.pk]}
    )
    assert response.status_code == 404 and not Channel.objects.exists()


def test_viewers_and_developers_cannot_add_channels_and_other_teams_cannot_see_them(
    api_client, mike, vera, alice, olga, wecom_body
):
    assert api_client("post", "/notification-channels", user=vera, **wecom_body).status_code == 403
    assert api_client("post", "/notification-channels", user=alice, **wecom_body).status_code == 403
    channel = api_client("post", "/notification-channels", user=mike, **wecom_body).json()
    assert api_client("get", "/notification-channels", user=olga).json()["results"] == []
    assert api_client("post", f"/notification-channels/{channel['id']}/test", user=olga).status_code == 404
    assert (
        api_client("get", f"/notification-channels/{channel['id']}/deliveries", user=olga).status_code == 404
    )
    assert api_client("post", f"/notification-channels/{channel['id']}/test", user=vera).status_code == 403


def test_send_a_test_answers_with_the_platforms_exact_words(api_client, mike, robots, wecom_body):
    channel = api_client("post", "/notification-channels", user=mike, **wecom_body).json()
    robots.reply(
        "/wecom",
        200,
        '{"errcode":93000,"errmsg":"invalid webhook url, hint: [1733], more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}',
    )
    failed = api_client("post", f"/notification-channels/{channel['id']}/test", user=mike).json()
    assert failed["ok"] is False and failed["status"] == "failed" and failed["http_status"] == 200
    assert failed["answer"].startswith('{"errcode":93000,"errmsg":"invalid webhook url')
    worked = api_client("post", f"/notification-channels/{channel['id']}/test", user=mike).json()
    assert worked == {**worked, "ok": True, "status": "sent", "answer": '{"errcode": 0, "errmsg": "ok"}'}
    [request] = robots.to("/wecom")[1:]
    assert "Sluice 测试消息" in request.json["markdown"]["content"]
    log = api_client("get", f"/notification-channels/{channel['id']}/deliveries?limit=1", user=mike).json()
    assert [row["event"] for row in log["results"]] == ["test"] and log["next"]
    assert log["results"][0]["status"] == "sent" and log["results"][0]["attempts"] == 1
    assert (
        api_client("get", log["next"].removeprefix("/api/v1"), user=mike).json()["results"][0]["status"]
        == "failed"
    )


def test_quiet_hours_and_the_digest_are_beijing_clock_times(api_client, mike, wecom_body):
    body = {**wecom_body, "quiet_hours": {"start": "22:00", "end": "08:00"}, "digest_time": "09:45"}
    out = api_client("post", "/notification-channels", user=mike, **body).json()
    assert out["quiet_hours"] == {"start": "22:00", "end": "08:00"} and out["digest_time"] == "09:45"
    offset = {**wecom_body, "name": "x", "quiet_hours": {"start": "22:00+08:00", "end": "08:00"}}
    assert api_client("post", "/notification-channels", user=mike, **offset).status_code == 400
