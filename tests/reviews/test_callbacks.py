"""WeChat's pushes through the real callback URLs, and the review-status mapping used by polling."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

import django_rq
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from releases.crypto import decrypt
from releases.models import AuditEvent, Release, State
from releases.platforms import adapter_for
from reviews.models import CallbackDelivery, CallbackRefusals, ComponentTicket
from reviews.platforms.wechat.crypto import encrypt_message, msg_signature
from reviews.platforms.wechat.events import parse_message_event, to_xml
from reviews.refusals import callback_refusals_summarise
from reviews.services import message_event_apply, review_status_apply
from simulator.models import SimCall
from simulator.services import sim_configure, sim_decide
from tests.fixtures.wechat import (
    APPID,
    COMPONENT_APPID,
    ENCODING_AES_KEY,
    MESSAGE_TOKEN,
    ORIGINAL_ID,
    callback_path,
)

REJECTION = (
    '1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目"金融业-保险_"与你提交代码审核时设置的功能页面内容不一致:<br>'
    "(1):功能页面设置的部分标签不属于所选的服务类目范围。<br>(2):功能页面设置的部分标签与该页面内容不相关。<br>"
)
DELAY = "为了更好的服务小程序，您的服务商正在进行提审系统的优化，可能会导致审核时效的增长，请耐心等待"


def audit_event(event: str, **fields) -> dict:
    now = int(time.time())
    base = {"ToUserName": ORIGINAL_ID, "FromUserName": "od1P50M-fNQI5Gcq-trm4a7apsU8", "CreateTime": now}
    return {**base, "MsgType": "event", "Event": event, **fields}


def ticket_event(ticket: str, create_time: int | None = None) -> dict:
    return {
        "AppId": COMPONENT_APPID,
        "CreateTime": create_time or int(time.time()),
        "InfoType": "component_verify_ticket",
        "ComponentVerifyTicket": ticket,
    }


def review_events(release, prefix="review_"):
    return list(AuditEvent.objects.filter(release_id=release.pk, action__startswith=prefix))


def rejections():
    """The refusals' audit events, once their minute is over and summarised (reviews.refusals)."""
    callback_refusals_summarise(now=timezone.now() + timedelta(minutes=2))
    return list(AuditEvent.objects.filter(action="callback_rejected"))


def refused_for() -> dict:
    """Why the deliveries were refused, from the one summary of their minute."""
    [summary] = rejections()
    return summary.data["reasons"]


def assert_success(response):
    assert response.status_code == 200
    assert response.content == b"success"
    assert response["Content-Type"].startswith("text/plain")


# -- the authorization URL ----------------------------------------------------------------


def test_it_stores_the_component_verify_ticket(wechat_push, wechat_account):
    assert_success(wechat_push("auth", ticket_event("ticket@@@one")))

    assert ComponentTicket.objects.get(account=wechat_account).ticket == "ticket@@@one"


def test_a_newer_ticket_wins_and_a_late_older_one_does_not_replace_it(wechat_push, wechat_account):
    now = int(time.time())
    wechat_push("auth", ticket_event("ticket-old", now - 600))
    wechat_push("auth", ticket_event("ticket-new", now))
    assert_success(wechat_push("auth", ticket_event("ticket-late", now - 300)))

    assert ComponentTicket.objects.get(account=wechat_account).ticket == "ticket-new"


def test_an_authorized_event_queues_the_exchange_of_its_code_and_changes_nothing_yet(
    wechat_push, wechat_account, wechat_app, redis_db, django_capture_on_commit_callbacks
):
    """The push carries an AuthorizationCode, not a token (wechat-fleet.md §1.4): api_query_auth
    exchanges it in a worker, never in the callback's transaction."""
    event = {
        "AppId": COMPONENT_APPID,
        "CreateTime": int(time.time()),
        "InfoType": "authorized",
        "AuthorizerAppid": APPID,
        "AuthorizationCode": "queryauthcode@@@abc",
        "AuthorizationCodeExpiredTime": int(time.time()) + 3600,
        "PreAuthCode": "preauthcode@@@xyz",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert_success(wechat_push("auth", event))

    (job,) = django_rq.get_queue("platform").jobs
    assert job.func_name == "reviews.jobs.exchange_authorization"
    assert job.args[0] == wechat_account.pk and decrypt(job.args[1]) == "queryauthcode@@@abc"
    assert "queryauthcode" not in job.description + job.args[1]  # the code is never logged
    wechat_app.refresh_from_db()
    assert wechat_app.authorizer_refresh_token == "refresh-1"


def test_an_unauthorized_event_flags_the_app_and_is_audited(wechat_push, wechat_account, wechat_app):
    event = {"AppId": COMPONENT_APPID, "CreateTime": int(time.time()), "InfoType": "unauthorized"}
    assert_success(wechat_push("auth", {**event, "AuthorizerAppid": APPID}))

    wechat_app.refresh_from_db()
    assert wechat_app.authorization_lost_at is not None
    logged = AuditEvent.objects.get(action="app_authorization_lost")
    assert (logged.team_id, logged.app_id) == (wechat_account.team_id, wechat_app.pk)
    assert logged.data["source"] == "push"


# -- the message URL: a push makes Sluice ask WeChat, and WeChat's answer decides -------------
# These run against the simulated WeChat: the push is only a trigger, so each needs a platform
# that answers get_auditstatus (and api_get_authorizer_info, for the app's original ID).


@pytest.fixture
def in_review(sim, wechat_release):
    """A release the simulated WeChat holds in review; the simulator pushes nothing by itself."""
    sim_configure(pushes_enabled=False)

    def make(version="1.0.0"):
        auditid = adapter_for(sim.account).submit_audit(sim.app, version_desc="notes").auditid
        return wechat_release(version, audit_id=str(auditid))

    return make


def decide(release, outcome, reason="", screenshots=()):
    sim_decide(
        auditid=int(release.platform_audit_id), outcome=outcome, reason=reason, screenshots=screenshots
    )


def status_calls() -> int:
    return SimCall.objects.filter(path="wxa/get_auditstatus").count()


def test_a_success_push_approves_the_release_wechat_approved_with_one_audit_event(wechat_push, in_review):
    release = in_review()
    decide(release, "approved")

    assert_success(wechat_push("events", audit_event("weapp_audit_success", SuccTime=int(time.time()))))

    release.refresh_from_db()
    assert release.state == State.APPROVED
    [approved] = review_events(release)
    assert approved.action == "review_approved"
    assert approved.actor_id is None
    assert approved.data["source"] == "push"
    assert approved.data["audit_id"] == release.platform_audit_id


def test_a_fail_push_rejects_with_the_platforms_reason_verbatim_and_the_screenshots(wechat_push, in_review):
    release = in_review()
    decide(release, "rejected", REJECTION, ["xxx", "yyy", "zzz"])
    event = audit_event(
        "weapp_audit_fail", Reason=REJECTION, FailTime=int(time.time()), ScreenShot="xxx|yyy|zzz"
    )

    assert_success(wechat_push("events", event))

    release.refresh_from_db()
    assert release.state == State.REJECTED
    assert release.rejection_reason == REJECTION
    [rejected] = review_events(release)
    assert rejected.data["reason"] == REJECTION
    assert rejected.data["screenshots"] == ["xxx", "yyy", "zzz"]
    assert rejected.data["source"] == "push"


def test_a_wechat_rejection_is_sorted_into_its_categories_and_the_api_shows_it(
    wechat_push, in_review, api_client, alice
):
    release = in_review()
    decide(release, "rejected", REJECTION, ["xxx"])
    event = audit_event("weapp_audit_fail", Reason=REJECTION, FailTime=int(time.time()), ScreenShot="xxx")
    assert_success(wechat_push("events", event))

    answer = api_client("get", f"/releases/{release.pk}", user=alice)

    assert answer.status_code == 200
    rejection = answer.json()["rejection"]
    assert rejection["categories"] == ["account_information", "category_mismatch"]
    assert rejection["items"][0]["title"] == "账号信息不符合规范"
    assert rejection["items"][0]["details"] == ["包含色情因素"]


def test_a_delay_push_records_the_platforms_reason_and_keeps_the_release_in_review(wechat_push, in_review):
    release = in_review()
    decide(release, "delayed", DELAY)

    assert_success(
        wechat_push("events", audit_event("weapp_audit_delay", Reason=DELAY, DelayTime=int(time.time())))
    )

    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert release.review_delay_reason == DELAY
    assert release.review_delayed_at is not None
    assert [e.action for e in review_events(release)] == ["review_delayed"]


def test_a_json_envelope_with_a_json_event_is_accepted_too(client, wechat_account, in_review):
    release = in_review()
    decide(release, "approved")
    timestamp, nonce = str(int(time.time())), "415670741"
    event = json.dumps(audit_event("weapp_audit_success", SuccTime=int(time.time())), ensure_ascii=False)
    encrypted = encrypt_message(event, encoding_aes_key=ENCODING_AES_KEY, appid=COMPONENT_APPID)
    signature = msg_signature(MESSAGE_TOKEN, timestamp, nonce, encrypted)
    query = urlencode(
        {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "msg_signature": signature}
    )

    response = client.post(
        f"{callback_path(wechat_account, 'events')}?{query}",
        data=json.dumps({"ToUserName": ORIGINAL_ID, "Encrypt": encrypted}),
        content_type="application/json",
    )

    assert_success(response)
    release.refresh_from_db()
    assert release.state == State.APPROVED


def test_an_event_for_an_app_sluice_does_not_manage_is_acknowledged_and_ignored(wechat_push, wechat_release):
    release = wechat_release()

    assert_success(wechat_push("events", audit_event("weapp_audit_success"), url_appid="wxnotours0000001"))

    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert CallbackDelivery.objects.get().outcome == "ignored"


def test_an_event_of_another_kind_is_acknowledged_and_changes_nothing(wechat_push, wechat_release):
    release = wechat_release()

    assert_success(wechat_push("events", audit_event("wxa_nickname_audit", ret=3)))

    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert review_events(release) == []


# -- repeated deliveries and the push/poll race -----------------------------------------------


def test_a_repeated_delivery_is_processed_once_with_one_call(wechat_push, in_review):
    release = in_review()
    decide(release, "delayed", DELAY)
    event = audit_event("weapp_audit_delay", Reason=DELAY, DelayTime=int(time.time()))

    for _ in range(3):
        assert_success(wechat_push("events", event))

    assert len(review_events(release)) == 1
    assert CallbackDelivery.objects.count() == 1
    assert status_calls() == 1


def test_two_simultaneous_deliveries_of_one_event_are_processed_once(wechat_account, in_review):
    release = in_review()
    decide(release, "approved")
    event = parse_message_event(to_xml(audit_event("weapp_audit_success")))
    start = threading.Barrier(2)

    def deliver():
        start.wait()
        try:
            return message_event_apply(account=wechat_account, appid=APPID, event=event)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(lambda _: deliver(), range(2)))

    assert outcomes == ["duplicate", "processed"]
    assert len(review_events(release)) == 1
    assert status_calls() == 1


def test_a_repeated_ticket_delivery_is_stored_once(wechat_push, wechat_account):
    event = ticket_event("ticket@@@same")
    wechat_push("auth", event)
    assert_success(wechat_push("auth", event))

    assert (
        CallbackDelivery.objects.filter(account=wechat_account, event="component_verify_ticket").count() == 1
    )


def test_an_outcome_seen_by_polling_first_makes_the_push_a_no_op_without_a_call(wechat_push, in_review):
    release = in_review()
    decide(release, "rejected", REJECTION, ["xxx"])
    review_status_apply(release, 1, REJECTION, ["xxx"], release.platform_audit_id, "poll")

    assert_success(wechat_push("events", audit_event("weapp_audit_fail", Reason=REJECTION, ScreenShot="xxx")))

    [rejected] = review_events(release)
    assert rejected.data["source"] == "poll"
    assert status_calls() == 0


def test_an_outcome_pushed_first_makes_the_poll_a_no_op(wechat_push, in_review):
    release = in_review()
    decide(release, "approved")
    wechat_push("events", audit_event("weapp_audit_success"))

    audit_id = release.platform_audit_id
    assert review_status_apply(Release.objects.get(pk=release.pk), 0, "", [], audit_id, "poll") is None

    [approved] = review_events(release)
    assert approved.data["source"] == "push"


# -- deliveries that are not believed ---------------------------------------------------------


def assert_nothing_changed(release, account):
    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert review_events(release) == []
    assert not CallbackDelivery.objects.exists()
    assert not ComponentTicket.objects.filter(account=account).exists()


def test_a_forged_signature_is_refused_changes_nothing_and_is_audited(
    wechat_push, wechat_account, wechat_release
):
    release = wechat_release()

    response = wechat_push("events", audit_event("weapp_audit_success"), signature="0" * 40)

    assert response.status_code == 403
    assert_nothing_changed(release, wechat_account)
    [refused] = rejections()
    assert refused.data["count"] == 1
    assert (refused.data["reasons"], refused.data["endpoints"]) == ({"bad_signature": 1}, {"events": 1})
    assert (refused.target_type, refused.target_id, refused.team_id) == (
        "platformaccount",
        wechat_account.pk,
        wechat_account.team_id,
    )
    assert refused.ip == "127.0.0.1"


def test_a_message_signed_with_another_token_is_refused(wechat_push, wechat_account, wechat_release):
    release = wechat_release()

    assert wechat_push("auth", ticket_event("forged"), token="not-our-token").status_code == 403
    assert_nothing_changed(release, wechat_account)


def test_a_message_encrypted_for_another_appid_is_refused(wechat_push, wechat_account, wechat_release):
    release = wechat_release()

    response = wechat_push("events", audit_event("weapp_audit_success"), appid="wxsomeothercomp01")

    assert response.status_code == 403
    assert_nothing_changed(release, wechat_account)
    assert refused_for() == {"wrong_appid": 1}


def test_a_stale_timestamp_is_refused_as_a_replay(wechat_push, wechat_account, wechat_release):
    release = wechat_release()
    stale = int(time.time()) - settings.WECHAT_CALLBACK_REPLAY_SECONDS - 60

    response = wechat_push("events", audit_event("weapp_audit_success"), timestamp=stale)

    assert response.status_code == 403
    assert_nothing_changed(release, wechat_account)
    assert refused_for() == {"stale_timestamp": 1}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("garbage", "malformed_body"),
        ("<xml><ToUserName>x</ToUserName></xml>", "malformed_body"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>', "malformed_body"),
        ("<xml><Encrypt><![CDATA[bm90IGNpcGhlcnRleHQ=]]></Encrypt></xml>", "bad_signature"),
    ],
)
def test_a_garbage_body_is_refused(wechat_push, wechat_account, wechat_release, body, reason):
    release = wechat_release()

    response = wechat_push("events", audit_event("weapp_audit_success"), body=body)

    assert response.status_code == (403 if reason == "bad_signature" else 400)
    assert_nothing_changed(release, wechat_account)
    assert refused_for() == {reason: 1}


def test_a_signed_but_undecryptable_message_is_a_400(client, wechat_account, wechat_release):
    release = wechat_release()
    timestamp, nonce, encrypted = str(int(time.time())), "1", "bm90IGNpcGhlcnRleHQ="
    query = urlencode(
        {
            "timestamp": timestamp,
            "nonce": nonce,
            "msg_signature": msg_signature(MESSAGE_TOKEN, timestamp, nonce, encrypted),
        }
    )

    response = client.post(
        f"{callback_path(wechat_account, 'events')}?{query}",
        data=f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>",
        content_type="text/xml",
    )

    assert response.status_code == 400
    assert_nothing_changed(release, wechat_account)
    assert refused_for() == {"undecryptable": 1}


def test_a_decrypted_message_that_is_not_an_event_is_a_400(wechat_push, wechat_account, wechat_release):
    release = wechat_release()

    assert wechat_push("events", "this is not xml").status_code == 400
    assert_nothing_changed(release, wechat_account)
    assert refused_for() == {"malformed_event": 1}


def test_missing_query_parameters_are_a_400(client, wechat_account):
    response = client.post(callback_path(wechat_account, "auth"), data="<xml/>", content_type="text/xml")

    assert response.status_code == 400
    assert refused_for() == {"missing_parameters": 1}


def test_an_unknown_callback_key_is_404_and_writes_nothing(client, wechat_account):
    response = client.post(
        "/callbacks/wechat/not-a-key/auth?timestamp=1&nonce=1&msg_signature=x",
        data="<xml/>",
        content_type="text/xml",
    )

    assert response.status_code == 404
    assert rejections() == []
    assert not CallbackRefusals.objects.exists()


def test_a_manual_accounts_key_is_404(client, manual_account):
    assert (
        client.post(callback_path(manual_account, "auth"), data="", content_type="text/xml").status_code
        == 404
    )


def test_the_callback_urls_accept_only_post(client, wechat_account):
    assert client.get(callback_path(wechat_account, "auth")).status_code == 405


# -- review_status_apply: WeChat audit status codes (platform-apis.md §3) ---------------------


def test_status_0_approves(wechat_release):
    release = wechat_release()

    assert review_status_apply(release, 0, "", [], "412345678", "poll").state == State.APPROVED
    assert [(e.action, e.data["source"]) for e in review_events(release)] == [("review_approved", "poll")]


def test_status_1_rejects_with_the_reason_verbatim_and_screenshots(wechat_release):
    release = wechat_release()

    review_status_apply(release, 1, REJECTION, ["a", "b"], "412345678", "poll")

    release.refresh_from_db()
    assert (release.state, release.rejection_reason) == (State.REJECTED, REJECTION)
    assert review_events(release)[0].data["screenshots"] == ["a", "b"]


def test_status_1_without_a_reason_still_rejects_with_a_placeholder(wechat_release):
    release = wechat_release()

    assert review_status_apply(release, 1, "", [], "412345678", "poll").state == State.REJECTED


def test_status_2_changes_nothing(wechat_release):
    release = wechat_release()

    assert review_status_apply(release, 2, "", [], "412345678", "poll") is None
    assert review_events(release) == []


def test_status_3_records_a_withdrawal_made_outside_sluice(wechat_release):
    release = wechat_release()

    assert review_status_apply(release, 3, "", [], "412345678", "poll").state == State.WITHDRAWN
    [withdrawn] = review_events(release, prefix="withdrawn_outside")
    assert withdrawn.actor_id is None
    assert withdrawn.data["audit_id"] == "412345678"


def test_status_4_records_the_delay_once_however_often_it_is_polled(wechat_release):
    release = wechat_release()

    review_status_apply(release, 4, DELAY, [], "412345678", "poll")
    assert review_status_apply(release, 4, DELAY, [], "412345678", "poll") is None

    release.refresh_from_db()
    assert (release.state, release.review_delay_reason) == (State.SUBMITTED, DELAY)
    assert len(review_events(release)) == 1


def test_a_newer_auditid_records_a_resubmission_outside_sluice(wechat_release):
    release = wechat_release(audit_id="100", state="rejected")

    assert review_status_apply(release, 2, "", [], "101", "poll") is not None

    release.refresh_from_db()
    assert (release.state, release.platform_audit_id) == (State.SUBMITTED, "101")
    [resubmitted] = review_events(release, prefix="resubmitted_outside")
    assert resubmitted.data["previous_audit_id"] == "100"


def test_a_newer_auditid_already_decided_is_recorded_as_resubmitted_then_decided(wechat_release):
    release = wechat_release(audit_id="100", state="rejected")

    review_status_apply(release, 0, "", [], "101", "poll")

    actions = [e.action for e in AuditEvent.objects.filter(release_id=release.pk).exclude(action="create")]
    assert actions == ["resubmitted_outside", "review_approved"]
    release.refresh_from_db()
    assert release.state == State.APPROVED


def test_an_older_auditid_is_stale_and_ignored(wechat_release):
    release = wechat_release(audit_id="100")

    assert review_status_apply(release, 0, "", [], "99", "poll") is None
    release.refresh_from_db()
    assert release.state == State.SUBMITTED


def test_an_unknown_status_is_a_clear_error(wechat_release):
    with pytest.raises(ValueError, match="status 7"):
        review_status_apply(wechat_release(), 7, "", [], "412345678", "poll")
