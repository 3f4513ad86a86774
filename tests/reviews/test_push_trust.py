"""Pushes are believed only for what they describe, decide nothing by themselves, and refusals
cost a counter, not an audit row each (issue 11, parts 3 and 7)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django_rq
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from rq.cron import CronScheduler

from releases.models import App, AuditEvent, Release, State
from releases.platforms import adapter_for
from releases.tokens import api_token_create
from reviews.jobs import summarise_refusals
from reviews.models import AuthorizerIdentity, CallbackDelivery, CallbackRefusals, ReviewWatch
from reviews.original_ids import original_id_learn
from reviews.polling import review_watch_start
from reviews.refusals import callback_refusals_summarise
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


def summaries(*, at=None) -> list[AuditEvent]:
    """The `callback_rejected` events once every minute so far is over and summarised."""
    callback_refusals_summarise(now=(at or timezone.now()) + timedelta(minutes=2))
    return list(AuditEvent.objects.filter(action="callback_rejected").order_by("pk"))


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
    [anomaly] = summaries()
    assert (anomaly.data["count"], anomaly.data["reasons"]) == (1, {"wrong_app": 1})


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


def test_the_original_id_is_learnt_when_an_app_authorizes_the_platform(sim):
    from config.workers import SimpleWorker
    from simulator.fleet import sim_authorize
    from simulator.models import SimComponent, SimPreAuthCode

    component = SimComponent.objects.get(appid=COMPONENT_APPID)
    code = SimPreAuthCode.objects.create(component=component, code="preauthcode@@@trust").code
    # The administrator authorizes again: `updateauthorized` is pushed, then exchanged in a worker.
    sim_authorize(component_appid=COMPONENT_APPID, pre_auth_code=code, appid=APPID)
    queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
    for _ in range(2):
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True)

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


# -- part 7: refused deliveries are counted, and summarised once a minute ----------------------

MINUTE = datetime(2026, 3, 2, 4, 5, 10, tzinfo=UTC)


def test_fifty_forged_posts_write_one_audit_event_that_counts_them(wechat_push, wechat_account):
    with time_machine.travel(MINUTE, tick=False):
        for _ in range(50):
            assert (
                wechat_push("events", audit_event("weapp_audit_success"), signature="0" * 40).status_code
                == 403
            )
        assert not AuditEvent.objects.filter(action="callback_rejected").exists()

    [summary] = summaries(at=MINUTE)
    assert summary.data["count"] == 50
    assert summary.data["reasons"] == {"bad_signature": 50}
    assert summary.data["minute"] == "2026-03-02T04:05:00+00:00"
    assert (summary.target_id, summary.team_id, summary.ip) == (
        wechat_account.pk,
        wechat_account.team_id,
        "127.0.0.1",
    )
    assert not CallbackRefusals.objects.exists()


def test_refusals_are_summarised_per_minute_by_the_next_refusal_or_the_cron_job(wechat_push):
    forged = audit_event("weapp_audit_success")
    with time_machine.travel(MINUTE, tick=False):
        for _ in range(3):
            wechat_push("events", forged, signature="0" * 40)
    with time_machine.travel(MINUTE + timedelta(minutes=1), tick=False):
        wechat_push("auth", "<xml/>", body="garbage")
        wechat_push("auth", "<xml/>", body="garbage")
    with time_machine.travel(MINUTE + timedelta(minutes=3), tick=False):
        wechat_push("events", forged, signature="0" * 40)  # writes the two closed minutes' summaries
        closed = list(AuditEvent.objects.filter(action="callback_rejected").order_by("pk"))

    assert [(e.data["count"], e.data["reasons"], e.data["endpoints"]) for e in closed] == [
        (3, {"bad_signature": 3}, {"events": 3}),
        (2, {"malformed_body": 2}, {"auth": 2}),
    ]
    assert [e.data["count"] for e in summaries(at=MINUTE + timedelta(minutes=3))] == [3, 2, 1]


def test_refusals_are_summarised_every_minute_from_rqcron(redis_db):
    scheduler = CronScheduler(connection=redis_db)
    scheduler.load_config_from_file(str(Path(settings.BASE_DIR) / "config" / "cron.py"))
    intervals = {job.func: job.interval for job in scheduler.get_jobs()}
    assert intervals[summarise_refusals] == 60
