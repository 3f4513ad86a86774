"""Each vendor gets its exact JSON shape and signature (shared/domain/team-chat-robots.md),
checked on the wire by a local stand-in server."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
from django.core import mail
from standardwebhooks import Webhook

from notify import delivery, detection
from notify.models import Delivery, Preference
from releases import services
from tests.fixtures.robots import WEBHOOK_SECRET

REASON = "1:隐私政策不完善:<br>(1):未说明获取手机号的用途"


@pytest.fixture
def rejected(make_release, mike):
    release = make_release("1.4.2", upto="submitted")
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=REASON)
    return release


def _send(channel) -> list[Delivery]:
    detection.scan()
    delivery.deliver_channel(channel.pk)
    return list(channel.deliveries.order_by("pk"))


def test_wecom_gets_markdown_then_a_text_that_ats_the_author_by_mobile(db, robots, channel, rejected, alice):
    Preference.objects.create(user=alice, mobile="13800000000")
    wecom = channel("wecom", events=["rejected"])
    [sent] = _send(wecom)
    assert sent.status == "sent" and sent.answer == '{"errcode": 0, "errmsg": "ok"}'
    markdown, text = robots.to("/wecom")
    assert markdown.query == {"key": ["693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"]}
    assert markdown.headers["content-type"].startswith("application/json")
    body = markdown.json
    assert list(body) == ["msgtype", "markdown"] and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith('### <font color="warning">Shop 1.4.2 被拒绝')  # zh-Hans by default
    assert "隐私政策不完善" in content and f"/releases/{rejected.pk}/" in content
    assert len(content.encode()) <= 4096
    assert text.json == {
        "msgtype": "text",
        "text": {"content": "Shop 1.4.2 被拒绝", "mentioned_mobile_list": ["13800000000"]},
    }


def test_wecom_markdown_is_cut_to_4096_bytes_on_a_character_boundary():
    from notify.messages import Message
    from notify.vendors import wecom

    [request] = wecom("http://x/wecom?key=k", Message("标题", ["审核" * 2000], "/r/1"))
    content = __import__("json").loads(request.body)["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith("…")


def test_dingtalk_is_signed_in_the_query_and_ats_by_mobile(db, robots, channel, rejected, alice):
    Preference.objects.create(user=alice, mobile="13800000000")
    ding = channel("dingtalk", events=["rejected"])
    before = int(time.time() * 1000)
    _send(ding)
    [request] = robots.to("/dingtalk")
    timestamp = request.query["timestamp"][0]
    assert before <= int(timestamp) <= int(time.time() * 1000)
    # the reference recipe: HMAC-SHA256(key=secret, msg=ts\nsecret), base64, URL-encoded once
    expected = base64.b64encode(
        hmac.new(b"SECdemo0123456789", f"{timestamp}\nSECdemo0123456789".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == [expected]  # parse_qs decoded the one encoding
    body = request.json
    assert body["msgtype"] == "markdown" and body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert body["markdown"]["title"] == "Shop 1.4.2 被拒绝"
    assert body["markdown"]["text"].endswith("@13800000000")


def test_dingtalk_signature_matches_a_fixed_vector():
    from notify.signing import dingtalk_sign

    raw = hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()
    assert dingtalk_sign("SECabc", 1700000000000) == quote_plus(base64.b64encode(raw).decode())


def test_feishu_gets_a_signed_interactive_card_with_a_button(db, robots, channel, rejected):
    feishu = channel("feishu", language="en", events=["rejected"])
    _send(feishu)
    [request] = robots.to("/feishu")
    body = request.json
    ts = body["timestamp"]
    # the string "ts\nsecret" is the HMAC *key*, over an empty message; not URL-encoded
    key = f"{ts}\nfeishu-secret-42".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert abs(int(ts) - time.time()) < 5
    assert body["msg_type"] == "interactive" and "content" not in body
    card = body["card"]
    assert card["header"] == {
        "template": "red",
        "title": {"tag": "plain_text", "content": "Shop 1.4.2 was rejected"},
    }
    div, action = card["elements"]
    assert (
        div["tag"] == "div" and div["text"]["tag"] == "lark_md" and "隐私政策不完善" in div["text"]["content"]
    )
    [button] = action["actions"]
    assert button["tag"] == "button" and button["url"].endswith(f"/releases/{rejected.pk}/")
    assert len(request.body) <= 20 * 1024


def test_feishu_signature_is_not_dingtalks(db):
    from notify.signing import feishu_sign

    dingtalk_style = base64.b64encode(hmac.new(b"s", b"1700000000\ns", hashlib.sha256).digest()).decode()
    assert feishu_sign("s", 1700000000) != dingtalk_style
    assert (
        feishu_sign("s", 1700000000)
        == base64.b64encode(hmac.new(b"1700000000\ns", b"", hashlib.sha256).digest()).decode()
    )


def test_webhook_is_signed_the_standard_webhooks_way_and_carries_the_api_release(
    db, robots, channel, rejected, api_client, mike
):
    hook = channel("webhook", events=["rejected"])
    [sent] = _send(hook)
    [request] = robots.to("/hook")
    assert sent.status == "sent" and sent.http_status == 204
    payload = Webhook(WEBHOOK_SECRET).verify(
        request.body, request.headers
    )  # raises if the signature is wrong
    assert request.headers["webhook-id"] == sent.message_id
    assert payload["type"] == "release.rejected"
    assert payload["timestamp"].startswith(str(sent.created_at.year))
    api = api_client("get", f"/releases/{rejected.pk}", user=mike).json()
    for key in ("id", "app", "version", "state", "rejection_reason", "rejection", "remediation", "checks"):
        assert payload["data"][key] == api[key], key


def test_the_standard_webhooks_test_vector_signs_as_published():
    from notify.signing import webhook_headers

    headers = webhook_headers(
        WEBHOOK_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC).year == 2021


def test_a_webhook_retry_keeps_its_id_and_signs_a_new_timestamp(db, robots, channel, rejected, time_machine):
    hook = channel("webhook", events=["rejected"])
    robots.reply("/hook", 500, "boom")
    [first] = _send(hook)
    assert first.status == "retrying" and first.answer == "boom"
    time_machine.move_to(datetime.now(UTC) + timedelta(hours=1))
    delivery.deliver_channel(hook.pk)
    one, two = robots.to("/hook")
    assert one.headers["webhook-id"] == two.headers["webhook-id"]
    assert one.headers["webhook-timestamp"] != two.headers["webhook-timestamp"]


def test_email_goes_through_djangos_mail_backend_in_the_channels_language(
    db, settings, robots, channel, rejected
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = channel("email", to="qa@example.com, lead@example.com", language="zh-Hans", events=["rejected"])
    [sent] = _send(email)
    [message] = mail.outbox
    assert message.to == ["qa@example.com", "lead@example.com"]
    assert message.subject == "Shop 1.4.2 被拒绝"
    assert "隐私政策不完善" in message.body
    assert sent.status == "sent"
