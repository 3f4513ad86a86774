"""Pushes are believed only for what they describe and decide nothing by themselves (issue 11, part 3)."""

import time
from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from releases.models import App, AuditEvent, Release, State
from releases.platforms import adapter_for
from releases.tokens import api_token_create
from reviews.models import AuthorizerIdentity, CallbackDelivery, ReviewWatch
from reviews.original_ids import original_id_learn
from reviews.polling import review_watch_start
from simulator.models import SimCall
from simulator.services import sim_configure, sim_decide, sim_original_id, sim_register_authorizer
from tests.fixtures.wechat import APPID, COMPONENT_APPID, ORIGINAL_ID

OTHER_APPID = "wxapp00000000002"
REJECTION = "1:账号信息不符合规范:<br>(1):包含色情因素<br>"


def audit_event(event: str, *, to_user_name: str = ORIGINAL_ID, **fields) -> dict:
    now = int(time.time())
    base = {"ToUserName": to_user_name, "FromUserName": "od1P50M-fNQI5Gcq-trm4a7apsU8", "CreateTime": now}
    return {**base, "MsgType": "event", "Event": event, **fields}


def calls(path: str) -> int:
    return SimCall.objects.filter(path=path).count()


def review_events(release) -> list[str]:
    return list(
        AuditEvent.objects.filter(release_id=release.pk, action__startswith="review_").values_list(
            "action", flat=True
        )
    )


@pytest.fixture
def in_review(sim, wechat_release):
    """A release the simulated WeChat holds in review, followed by a watch; no push by itself."""
    sim_configure(pushes_enabled=False)

    def make(version="1.0.0"):
        auditid = adapter_for(sim.account).submit_audit(sim.app, version_desc="notes").auditid
        release = wechat_release(version, audit_id=str(auditid))
        review_watch_start(release)
        return release

    return make


def decide(release, outcome, reason="", screenshots=()):
    sim_decide(
        auditid=int(release.platform_audit_id), outcome=outcome, reason=reason, screenshots=screenshots
    )


@pytest.fixture
def other_app(sim, team):
    """A second mini program on the same platform account, authorised in the simulator too."""
    sim_register_authorizer(component_appid=COMPONENT_APPID, appid=OTHER_APPID, refresh_token="refresh-2")
    return App.objects.create(
        team=team,
        platform_account=sim.account,
        name="Other app",
        appid=OTHER_APPID,
        authorizer_refresh_token="refresh-2",
    )


# -- part 3: a push is about the app its signed ToUserName names -------------------------------


def test_a_push_signed_for_another_app_and_posted_to_this_apps_url_changes_nothing(
    wechat_push, in_review, other_app
):
    release = in_review()
    decide(release, "approved")  # even when WeChat did approve this app: the push is not about it
    pushed_for_other = audit_event("weapp_audit_success", to_user_name=sim_original_id(OTHER_APPID))

    response = wechat_push("events", pushed_for_other, url_appid=APPID)

    assert response.status_code == 403
    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert review_events(release) == []
    assert calls("wxa/get_auditstatus") == 0
    assert not CallbackDelivery.objects.exists()
    [anomaly] = AuditEvent.objects.filter(action="callback_rejected")
    assert anomaly.data == {"reason": "wrong_app", "endpoint": "events"}


def test_the_original_id_is_learnt_from_wechat_once_before_the_first_push_is_believed(wechat_push, in_review):
    release = in_review()
    decide(release, "delayed", "审核延后")
    assert not AuthorizerIdentity.objects.exists()

    wechat_push("events", audit_event("weapp_audit_delay", Reason="审核延后"))
    decide(release, "approved")
    wechat_push("events", audit_event("weapp_audit_success"))

    assert AuthorizerIdentity.objects.get(app=release.app).original_id == ORIGINAL_ID
    assert calls("cgi-bin/component/api_get_authorizer_info") == 1
    assert Release.objects.get(pk=release.pk).state == State.APPROVED


def _run_platform_jobs() -> None:
    queue = django_rq.get_queue("platform")
    for job in queue.jobs:
        job.perform()


def test_the_original_id_is_learnt_when_an_app_authorizes_the_platform(wechat_push, sim):
    event = {
        "AppId": COMPONENT_APPID,
        "CreateTime": int(time.time()),
        "InfoType": "authorized",
        "AuthorizerAppid": APPID,
        "AuthorizationCode": "queryauthcode@@@abc",
        "AuthorizerRefreshToken": "refresh-1",
    }

    assert wechat_push("auth", event).status_code == 200
    _run_platform_jobs()

    assert AuthorizerIdentity.objects.get(app=sim.app).original_id == ORIGINAL_ID


def test_the_original_id_is_learnt_when_an_app_is_added_through_the_api(client, sim, mike):
    sim_register_authorizer(component_appid=COMPONENT_APPID, appid=OTHER_APPID, refresh_token="refresh-2")
    token = api_token_create(user=mike)

    response = client.post(
        "/api/v1/apps",
        data={"name": "Other app", "appid": OTHER_APPID, "platform_account": sim.account.pk},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    _run_platform_jobs()

    app = App.objects.get(appid=OTHER_APPID)
    assert AuthorizerIdentity.objects.get(app=app).original_id == sim_original_id(OTHER_APPID)


# -- a push is a trigger: WeChat's own answer decides ------------------------------------------


def test_a_genuine_push_cannot_decide_a_review_wechat_has_not_decided(wechat_push, in_review):
    release = in_review()  # replayed, or early: WeChat still has it in review

    response = wechat_push("events", audit_event("weapp_audit_success", SuccTime=int(time.time())))

    assert response.status_code == 200
    release.refresh_from_db()
    assert release.state == State.SUBMITTED
    assert review_events(release) == []
    assert calls("wxa/get_auditstatus") == 1
    assert CallbackDelivery.objects.get().outcome == "ignored"


def test_wechats_answer_not_the_pushs_content_is_recorded(wechat_push, in_review):
    release = in_review()
    decide(release, "rejected", REJECTION, ["m1"])

    wechat_push("events", audit_event("weapp_audit_success", SuccTime=int(time.time())))

    release.refresh_from_db()
    assert (release.state, release.rejection_reason) == (State.REJECTED, REJECTION)
    assert review_events(release) == ["review_rejected"]


def test_repeated_pushes_for_a_decided_review_make_one_status_call(wechat_push, in_review):
    release = in_review()
    decide(release, "approved")

    for second in range(3):  # three distinct deliveries (WeChat's retries, replays)
        event = audit_event("weapp_audit_success", SuccTime=int(time.time()))
        event["CreateTime"] += second
        assert wechat_push("events", event).status_code == 200

    assert calls("wxa/get_auditstatus") == 1
    assert review_events(release) == ["review_approved"]


def test_when_wechat_does_not_answer_the_push_changes_nothing_and_the_poll_comes_at_once(
    wechat_push, in_review
):
    release = in_review()
    original_id_learn(release.app)
    ReviewWatch.objects.filter(release=release).update(next_poll_at=timezone.now() + timedelta(hours=1))
    decide(release, "approved")
    sim_configure(error_rate_pct=100)

    assert wechat_push("events", audit_event("weapp_audit_success")).status_code == 200

    assert Release.objects.get(pk=release.pk).state == State.SUBMITTED
    assert CallbackDelivery.objects.get().outcome == "deferred"
    assert ReviewWatch.objects.get(release=release).next_poll_at <= timezone.now()
