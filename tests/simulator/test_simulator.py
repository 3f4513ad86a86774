"""The WeChat simulator, over real HTTP where it matters: same paths, verbs, bodies and errcodes as
WeChat (platform-apis.md), a call log a person can trust, encrypted pushes, a staff-only console."""

# The fixtures come from sim_conftest by explicit import (tests/fixtures/wechat.py: the WeChat world):
# ruff: noqa: F811

from datetime import datetime, timedelta
from xml.etree import ElementTree

import httpx
import pytest
import time_machine
from django.contrib.auth import get_user_model
from rq.job import Job

from config.workers import SimpleWorker
from reviews.models import ComponentTicket
from reviews.platforms.wechat.crypto import decrypt_message, msg_signature
from simulator import operations, services
from simulator.models import SimCall, SimPush, SimSubmission
from simulator.services import SHANGHAI
from tests.reviews.sim_conftest import (  # noqa: F401 - fixtures used by name
    AES_KEY,
    COMPONENT_APPID,
    COMPONENT_SECRET,
    MESSAGE_TOKEN,
    MINI_APPID,
    REFRESH_TOKEN,
    WeChat,
    approve,
    platform,
    queue,
    receiver,
    sim_on,
    submit_approved,
    wechat,
)


def _status(auditid: int) -> int:
    return SimSubmission.objects.get(auditid=auditid).status


def _run_jobs(queue):
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


# --- tokens ---------------------------------------------------------------------------------------


def test_a_platform_exchanges_its_ticket_for_a_component_token_then_an_authorizer_token(
    sim_on, live_server, platform
):
    client = WeChat(live_server.url + "/sim")
    component = client.component_token()
    assert component["expires_in"] == 7200 and component["component_access_token"]
    authorizer = client.authorizer_token(component["component_access_token"])
    assert authorizer["expires_in"] == 7200
    assert authorizer["authorizer_refresh_token"] == REFRESH_TOKEN
    client.token = authorizer["authorizer_access_token"]
    assert client.get("/wxa/queryquota")["errcode"] == 0


def test_a_wrong_secret_gets_40125_and_no_token(sim_on, live_server, platform):
    answer = WeChat(live_server.url + "/sim").component_token(secret="not-the-secret")
    assert answer == {"errcode": 40125, "errmsg": "invalid appsecret"}


def test_a_ticket_the_simulator_never_issued_gets_61006_and_an_older_valid_one_still_works(
    sim_on, live_server, platform
):
    client = WeChat(live_server.url + "/sim")
    first = services.sim_current_ticket(COMPONENT_APPID)
    services.sim_push_ticket(COMPONENT_APPID)  # the newer push got lost: the older ticket keeps working
    assert client.component_token(ticket="ticket@@@forged")["errcode"] == 61006
    assert "component_access_token" in client.component_token(ticket=first)


def test_the_authorizer_refresh_token_must_match(sim_on, live_server, platform):
    client = WeChat(live_server.url + "/sim")
    component = client.component_token()["component_access_token"]
    assert client.authorizer_token(component, refresh_token="stale")["errcode"] == 61023


def test_authorizer_info_tells_the_original_id_that_audit_pushes_are_addressed_to(wechat):
    component = wechat.component_token()["component_access_token"]
    body = {"component_appid": COMPONENT_APPID, "authorizer_appid": MINI_APPID}

    answer = wechat.http.post(
        "/cgi-bin/component/api_get_authorizer_info", params={"component_access_token": component}, json=body
    ).json()

    assert answer["authorizer_info"]["user_name"] == services.sim_original_id(MINI_APPID)
    assert answer["authorizer_info"]["user_name"].startswith("gh_")
    assert answer["authorization_info"]["authorizer_appid"] == MINI_APPID
    unknown = {**body, "authorizer_appid": "wxnotauthorized01"}
    assert (
        wechat.http.post(
            "/cgi-bin/component/api_get_authorizer_info",
            params={"component_access_token": component},
            json=unknown,
        ).json()["errcode"]
        == 61003
    )


def test_an_unknown_token_gets_40001_and_an_expired_one_42001(wechat):
    token = wechat.token
    wechat.token = "made-up"
    assert wechat.get("/wxa/queryquota")["errcode"] == 40001
    wechat.token = token
    services.sim_expire_tokens()  # fault injection: force expiry
    assert wechat.get("/wxa/queryquota")["errcode"] == 42001
    assert wechat.log_in().get("/wxa/queryquota")["errcode"] == 0  # a refreshed token works again


# --- submitting and following a review -----------------------------------------------------------


def test_submit_returns_an_auditid_and_the_review_is_in_progress(wechat):
    answer = wechat.submit(
        "New points page",
        item_list=[
            {
                "address": "index",
                "tag": "学习",
                "first_class": "文娱",
                "second_class": "资讯",
                "first_id": 1,
                "second_id": 2,
            }
        ],
    )
    assert answer["errcode"] == 0 and answer["auditid"] > 0
    status = wechat.post("/wxa/get_auditstatus", {"auditid": answer["auditid"]})
    assert status == {"errcode": 0, "errmsg": "ok", "status": 2, "reason": "", "screenshot": ""}


def test_a_second_submit_while_one_is_in_review_gets_85009(wechat):
    first = wechat.submit()["auditid"]
    assert wechat.submit()["errcode"] == 85009
    assert SimSubmission.objects.count() == 1 and _status(first) == 2


def test_a_spent_monthly_quota_gets_85085_and_queryquota_says_so(wechat):
    services.sim_configure(quota_limit=1)
    auditid = wechat.submit()["auditid"]
    assert wechat.get("/wxa/undocodeaudit")["errcode"] == 0
    assert wechat.submit()["errcode"] == 85085
    assert _status(auditid) == 3
    quota = wechat.get("/wxa/queryquota")
    assert (quota["rest"], quota["limit"], quota["speedup_rest"], quota["speedup_limit"]) == (0, 1, 5, 5)


def test_get_latest_auditstatus_after_a_rejection_shows_the_reason_and_screenshots(wechat):
    auditid = wechat.submit("v1.2.0")["auditid"]
    reason = services.format_reasons([services.reason_catalogue()[0]])
    services.sim_decide(auditid=auditid, outcome="rejected", reason=reason, screenshots=["m1", "m2"])
    latest = wechat.get("/wxa/get_latest_auditstatus")
    assert reason == "1:账号信息不符合规范:<br>(1):包含色情因素<br>"
    assert (latest["auditid"], latest["status"], latest["reason"]) == (auditid, 1, reason)
    assert latest["ScreenShot"] == "m1|m2"  # the official example's spelling (documented in operations.py)
    assert latest["submit_audit_time"] > 0
    assert wechat.post("/wxa/get_auditstatus", {"auditid": auditid})["screenshot"] == "m1|m2"


def test_an_audit_id_of_another_app_or_none_gets_85012(wechat):
    assert wechat.post("/wxa/get_auditstatus", {"auditid": 123})["errcode"] == 85012
    assert wechat.get("/wxa/get_latest_auditstatus")["errcode"] == 85058


def test_feedback_info_counts_only_after_a_rejection(wechat):
    first = wechat.submit(feedback_info="please look again")["auditid"]
    assert SimSubmission.objects.get(auditid=first).feedback_info == ""
    services.sim_decide(auditid=first, outcome="rejected", reason="1:服务类目不符:<br>")
    second = wechat.submit(feedback_info="fixed the category")["auditid"]
    assert SimSubmission.objects.get(auditid=second).feedback_info == "fixed the category"


def test_a_delayed_review_is_still_in_review_and_shows_its_reason(wechat):
    auditid = wechat.submit()["auditid"]
    services.sim_decide(auditid=auditid, outcome="delayed")
    status = wechat.post("/wxa/get_auditstatus", {"auditid": auditid})
    assert status["status"] == 4 and "提审系统的优化" in status["reason"]
    assert wechat.submit()["errcode"] == 85009
    approve(auditid)  # a final decision still follows a delay
    assert _status(auditid) == 0


def test_a_sped_up_review_cannot_be_sped_up_twice(wechat):
    auditid = wechat.submit()["auditid"]
    assert wechat.post("/wxa/speedupaudit", {"auditid": auditid})["errcode"] == 0
    assert wechat.post("/wxa/speedupaudit", {"auditid": auditid})["errcode"] == 89404
    assert wechat.get("/wxa/queryquota")["speedup_rest"] == 4


# --- withdrawals ----------------------------------------------------------------------------------


def test_the_sixth_withdrawal_in_a_shanghai_day_gets_87013(wechat):
    with time_machine.travel(datetime(2025, 3, 10, 11, 0, tzinfo=SHANGHAI), tick=True):
        wechat.log_in()
        for _ in range(5):
            wechat.submit()
            assert wechat.get("/wxa/undocodeaudit")["errcode"] == 0
        auditid = wechat.submit()["auditid"]
        assert wechat.get("/wxa/undocodeaudit") == {"errcode": 87013, "errmsg": "no quota to undo code"}
        assert _status(auditid) == 2


def test_withdrawals_are_counted_in_shanghai_days_and_months(platform):
    services.sim_configure(quota_limit=100)
    authorizer = platform.authorizers.get()

    def submit_and_withdraw() -> int:
        operations.submit_audit(authorizer, {"version_desc": "v"})
        try:
            return operations.undocodeaudit(authorizer, {})["errcode"]
        except operations.SimError as error:
            return error.errcode

    # 23:30 in Shanghai is still the same UTC day as 00:30 the next Shanghai day (16:30 UTC).
    with time_machine.travel(datetime(2025, 3, 10, 23, 30, tzinfo=SHANGHAI)):
        assert [submit_and_withdraw() for _ in range(5)] == [0] * 5
        assert submit_and_withdraw() == 87013
    with time_machine.travel(datetime(2025, 3, 11, 0, 30, tzinfo=SHANGHAI)):
        operations.undocodeaudit(authorizer, {})  # the one left in review: a new day, a new quota
        assert [submit_and_withdraw() for _ in range(4)] == [0] * 4
    with time_machine.travel(datetime(2025, 3, 12, 9, 0, tzinfo=SHANGHAI)):
        assert submit_and_withdraw() == 87013  # 10 this month
    with time_machine.travel(datetime(2025, 4, 1, 0, 5, tzinfo=SHANGHAI)):
        assert operations.undocodeaudit(authorizer, {})["errcode"] == 0


# --- release, gray release, rollback -------------------------------------------------------------


def test_release_needs_exactly_an_empty_json_object(wechat):
    submit_approved(wechat)
    assert wechat.post("/wxa/release", {"version": "1"})["errcode"] == 44002
    assert wechat.post("/wxa/release", content=b"")["errcode"] == 44002
    assert wechat.post("/wxa/release", content=b"not json")["errcode"] == 44002
    assert wechat.post("/wxa/release", {}) == {"errcode": 0, "errmsg": "ok"}


def test_release_with_nothing_submitted_gets_85019_and_with_nothing_approved_85020(wechat):
    assert wechat.post("/wxa/release", {}) == {"errcode": 85019, "errmsg": "no version is under auditing"}
    wechat.submit()
    assert wechat.post("/wxa/release", {})["errcode"] == 85020


def test_an_approved_version_is_released_once(wechat):
    submit_approved(wechat)
    assert wechat.post("/wxa/release", {})["errcode"] == 0
    assert wechat.post("/wxa/release", {})["errcode"] == 85052


def test_a_lower_gray_percentage_gets_85082(wechat):
    submit_approved(wechat, "1.0")
    wechat.post("/wxa/release", {})
    assert (
        wechat.post("/wxa/grayrelease", {"gray_percentage": 10})["errcode"] == 85080
    )  # 1.1 not approved yet
    submit_approved(wechat, "1.1")
    assert wechat.post("/wxa/grayrelease", {"gray_percentage": 20})["errcode"] == 0
    assert wechat.post("/wxa/grayrelease", {"gray_percentage": 10})["errcode"] == 85082
    assert wechat.post("/wxa/grayrelease", {"gray_percentage": 50})["errcode"] == 0
    plan = wechat.get("/wxa/getgrayreleaseplan")["gray_release_plan"]
    assert (plan["status"], plan["gray_percentage"]) == (1, 50) and plan["create_timestamp"] > 0
    assert wechat.get("/wxa/revertgrayrelease")["errcode"] == 0
    assert wechat.get("/wxa/getgrayreleaseplan")["gray_release_plan"]["status"] == 4


def test_gray_release_needs_a_version_online_first(wechat):
    submit_approved(wechat)
    assert wechat.post("/wxa/grayrelease", {"gray_percentage": 5})["errcode"] == 85079
    assert wechat.post("/wxa/grayrelease", {"gray_percentage": 101})["errcode"] == 85081


def test_rollback_errcodes_follow_the_doc(wechat):
    submit_approved(wechat, "1.0")
    wechat.post("/wxa/release", {})
    assert wechat.get("/wxa/revertcoderelease")["errcode"] == 87012  # no previous version
    submit_approved(wechat, "1.1")
    wechat.post("/wxa/grayrelease", {"gray_percentage": 30})
    assert wechat.get("/wxa/revertcoderelease")["errcode"] == 87011  # gray release running
    wechat.post("/wxa/release", {})  # the full release ends the gray plan
    history = wechat.get("/wxa/revertcoderelease", action="get_history_version")
    assert [v["app_version"] for v in history["version_list"]] == [1]
    assert history["version_list"][0]["user_desc"] == "1.0"
    assert wechat.get("/wxa/revertcoderelease", app_version="7")["errcode"] == 87012
    assert wechat.get("/wxa/revertcoderelease", app_version="1")["errcode"] == 0
    assert wechat.get("/wxa/revertcoderelease")["errcode"] == 87012  # no second rollback


# --- the call log and the switch -----------------------------------------------------------------


def test_every_call_appears_in_the_call_log_without_tokens_or_secrets(wechat):
    auditid = wechat.submit("desc")["auditid"]
    wechat.post("/wxa/get_auditstatus", {"auditid": auditid})
    wechat.post("/wxa/release", content=b"")
    calls = list(SimCall.objects.order_by("at", "pk"))
    assert [(c.method, c.path, c.errcode) for c in calls] == [
        ("POST", "cgi-bin/component/api_component_token", 0),
        ("POST", "cgi-bin/component/api_authorizer_token", 0),
        ("POST", "wxa/submit_audit", 0),
        ("POST", "wxa/get_auditstatus", 0),
        ("POST", "wxa/release", 44002),
    ]
    assert calls[2].appid == MINI_APPID and '"version_desc": "desc"' in calls[2].body
    assert calls[2].response["auditid"] == auditid
    logged = " ".join(f"{c.query} {c.body} {c.response}" for c in calls)
    secrets_ = [COMPONENT_SECRET, REFRESH_TOKEN, services.sim_current_ticket(COMPONENT_APPID), wechat.token]
    assert all(secret not in logged for secret in secrets_)
    assert all("access_token" not in c.query and "component_access_token" not in c.query for c in calls)


def test_the_wrong_verb_gets_wechats_method_errcode(wechat):
    assert wechat.http.get("/wxa/release", params={"access_token": wechat.token}).json()["errcode"] == 43002
    assert wechat.post("/wxa/queryquota", {})["errcode"] == 43001


def test_every_simulator_page_is_a_404_when_the_simulator_is_off(
    settings, live_server, platform, admin_client
):
    settings.SIMULATOR = False
    answer = httpx.post(live_server.url + "/sim/cgi-bin/component/api_component_token", json={})
    assert answer.status_code == 404
    assert httpx.get(live_server.url + "/sim/wxa/queryquota").status_code == 404
    assert admin_client.get("/sim/console/").status_code == 404
    assert SimCall.objects.count() == 0


# --- faults ---------------------------------------------------------------------------------------


def test_an_injected_system_error_changes_nothing(wechat):
    services.sim_configure(error_rate_pct=100)
    assert wechat.submit() == {"errcode": -1, "errmsg": "system error"}
    assert SimSubmission.objects.count() == 0
    assert SimCall.objects.filter(errcode=-1).count() == 1


def test_added_latency_slows_every_call(wechat):
    services.sim_configure(latency_ms=300)
    started = datetime.now()
    wechat.get("/wxa/queryquota")
    assert datetime.now() - started >= timedelta(milliseconds=300)


# --- pushes ---------------------------------------------------------------------------------------


def _decrypted(request) -> ElementTree.Element:
    encrypted = ElementTree.fromstring(request.body).findtext("Encrypt")  # noqa: S314 - our own test data
    query = request.query
    assert query["encrypt_type"] == "aes"
    assert query["msg_signature"] == msg_signature(
        MESSAGE_TOKEN, query["timestamp"], query["nonce"], encrypted
    )
    plaintext = decrypt_message(encrypted, encoding_aes_key=AES_KEY, appid=COMPONENT_APPID)
    return ElementTree.fromstring(plaintext)  # noqa: S314


def test_a_rejection_is_pushed_encrypted_to_the_apps_event_url(
    platform, queue, receiver, django_capture_on_commit_callbacks
):
    _run_jobs(queue)  # the ticket push from the fixture
    authorizer = platform.authorizers.get()
    auditid = operations.submit_audit(authorizer, {"version_desc": "v"})["auditid"]
    with django_capture_on_commit_callbacks(execute=True):
        services.sim_decide(
            auditid=auditid, outcome="rejected", reason="1:服务类目不符:<br>", screenshots=["a", "b"]
        )
    _run_jobs(queue)
    request = receiver.requests[-1]
    assert request.path == f"/callbacks/{MINI_APPID}/events"
    event = _decrypted(request)
    assert event.findtext("MsgType") == "event" and event.findtext("Event") == "weapp_audit_fail"
    assert event.findtext("Reason") == "1:服务类目不符:<br>" and event.findtext("ScreenShot") == "a|b"
    assert event.findtext("ToUserName") == services.sim_original_id(MINI_APPID)  # its original ID, gh_...
    assert int(event.findtext("FailTime")) > 0
    assert SimPush.objects.get(auditid=auditid).status == SimPush.Status.SENT


def test_the_ticket_is_pushed_encrypted_to_the_authorization_url(
    platform, queue, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.sim_push_ticket(COMPONENT_APPID)
    _run_jobs(queue)
    request = receiver.requests[-1]
    assert request.path == "/callbacks/auth"
    ticket = _decrypted(request)
    assert ticket.findtext("InfoType") == "component_verify_ticket"
    assert ticket.findtext("AppId") == COMPONENT_APPID
    assert ticket.findtext("ComponentVerifyTicket") == services.sim_current_ticket(COMPONENT_APPID)


@pytest.mark.parametrize(
    ("fault", "status"), [({"pushes_enabled": False}, "off"), ({"lost_push_pct": 100}, "dropped")]
)
def test_switched_off_or_lost_pushes_are_never_sent(
    platform, queue, receiver, django_capture_on_commit_callbacks, fault, status
):
    services.sim_configure(**fault)
    auditid = operations.submit_audit(platform.authorizers.get(), {})["auditid"]
    with django_capture_on_commit_callbacks(execute=True):
        approve(auditid)
    queue.connection.flushdb()  # forget the fixture's ticket push
    _run_jobs(queue)
    assert receiver.requests == []
    assert SimPush.objects.get(auditid=auditid).status == status
    assert _status(auditid) == 0  # the decision itself stands; polling will see it


# --- scripted mode --------------------------------------------------------------------------------


def test_scripted_mode_decides_a_submission_after_n_seconds(
    platform, queue, django_capture_on_commit_callbacks
):
    services.sim_configure(
        scripted_enabled=True,
        scripted_after_seconds=30,
        scripted_approve_pct=0,
        scripted_reject_pct=100,
        scripted_delay_pct=0,
    )
    queue.connection.flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        auditid = operations.submit_audit(platform.authorizers.get(), {})["auditid"]
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1
    with django_capture_on_commit_callbacks(execute=True):
        Job.fetch(scheduled[0], connection=queue.connection).perform()
    submission = SimSubmission.objects.get(auditid=auditid)
    assert (
        submission.status == 1
        and submission.reason.startswith("1:")
        and submission.screenshot.count("|") == 1
    )


def test_a_scripted_delay_is_followed_by_a_final_decision(
    platform, queue, django_capture_on_commit_callbacks
):
    services.sim_configure(scripted_approve_pct=0, scripted_reject_pct=0, scripted_delay_pct=100)
    auditid = operations.submit_audit(platform.authorizers.get(), {})["auditid"]
    queue.connection.flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.scripted_decide(auditid).status == 4
    (follow_up,) = queue.scheduled_job_registry.get_job_ids()
    with django_capture_on_commit_callbacks(execute=True):
        Job.fetch(follow_up, connection=queue.connection).perform()
    assert _status(auditid) == 0
    assert list(SimPush.objects.filter(auditid=auditid).values_list("event", flat=True)) == [
        "weapp_audit_success",
        "weapp_audit_delay",
    ]


def test_a_scripted_decision_leaves_a_withdrawn_submission_alone(platform):
    authorizer = platform.authorizers.get()
    auditid = operations.submit_audit(authorizer, {})["auditid"]
    operations.undocodeaudit(authorizer, {})
    assert services.scripted_decide(auditid) is None
    assert _status(auditid) == 3


# --- the reviewer console -------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(username="reviewer", password="pw", is_staff=True)


def test_the_console_requires_a_staff_user(sim_on, client, platform, django_user_model):
    assert client.get("/sim/console/").status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user(username="dev"))
    assert client.get("/sim/console/").status_code == 403
    assert client.post("/sim/console/settings", {"error_rate_pct": 100}).status_code == 403


def test_each_simulator_console_links_to_the_other_platforms(sim_on, client, staff):
    client.force_login(staff)
    assert 'href="/sim/douyin/console/"' in client.get("/sim/console/").content.decode()
    douyin = client.get("/sim/douyin/console/").content.decode()
    assert 'href="/sim/console/"' in douyin and 'aria-current="page">Simulator<' in douyin


def test_a_staff_reviewer_rejects_with_catalogue_reasons(sim_on, client, staff, platform):
    auditid = operations.submit_audit(platform.authorizers.get(), {"version_desc": "<script>x</script>"})[
        "auditid"
    ]
    client.force_login(staff)
    page = client.get("/sim/console/").content.decode()
    assert str(auditid) in page and "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    answer = client.post(
        f"/sim/console/audits/{auditid}/decide",
        {
            f"{auditid}-outcome": "rejected",
            f"{auditid}-reasons": ["account-porn", "category-mismatch"],
            f"{auditid}-screenshots": "s1|s2",
        },
    )
    assert answer.status_code == 302
    submission = SimSubmission.objects.get(auditid=auditid)
    assert submission.status == 1 and submission.screenshot == "s1|s2"
    assert submission.reason == (
        "1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目不符:<br>(1):小程序实际运营内容与所选服务类目不符<br>"
    )
    assert SimPush.objects.filter(auditid=auditid, event="weapp_audit_fail").exists()
    page = client.get("/sim/console/").content.decode()
    assert "weapp_audit_fail" in page and "1:账号信息不符合规范:\n(1):包含色情因素" in page
    assert "&lt;br&gt;" not in page  # WeChat's <br> reads as a line break, not as text


def test_a_rejection_without_any_reason_changes_nothing(sim_on, client, staff, platform):
    auditid = operations.submit_audit(platform.authorizers.get(), {})["auditid"]
    client.force_login(staff)
    client.post(f"/sim/console/audits/{auditid}/decide", {f"{auditid}-outcome": "rejected"})
    assert _status(auditid) == 2


def test_the_console_saves_scripted_mode_and_fault_settings(sim_on, client, staff, platform):
    client.force_login(staff)
    form = {
        "scripted_enabled": "on",
        "scripted_after_seconds": 5,
        "scripted_approve_pct": 50,
        "scripted_reject_pct": 50,
        "scripted_delay_pct": 0,
        "error_rate_pct": 10,
        "latency_ms": 0,
        "pushes_enabled": "on",
        "lost_push_pct": 25,
        "quota_limit": 20,
        "speedup_limit": 5,
    }
    client.post("/sim/console/settings", form)
    conf = services.SimSettings.load()
    assert conf.scripted_enabled and conf.lost_push_pct == 25 and conf.error_rate_pct == 10
    client.post("/sim/console/settings", {**form, "scripted_reject_pct": 60})  # 110%: refused
    assert services.SimSettings.load().scripted_reject_pct == 50


# --- end to end: the simulator's push through Sluice's real callback URL -------------------------


def test_a_pushed_rejection_reaches_sluices_callback_and_rejects_the_release(
    sim_on, live_server, queue, wechat_account, wechat_release
):
    from tests.fixtures import wechat as sluice

    services.sim_register_component(
        appid=sluice.COMPONENT_APPID,
        secret=sluice.COMPONENT_SECRET,
        token=sluice.MESSAGE_TOKEN,
        encoding_aes_key=sluice.ENCODING_AES_KEY,
        auth_callback_url=live_server.url + sluice.callback_path(wechat_account, "auth"),
        events_callback_url=live_server.url + sluice.callback_path(wechat_account, "events", appid="$APPID$"),
    )
    authorizer = services.sim_register_authorizer(
        component_appid=sluice.COMPONENT_APPID, appid=sluice.APPID, refresh_token="refresh-1"
    )
    sim_on.WECHAT_API_BASE = live_server.url + "/sim"  # Sluice asks the simulator what the push says
    services.sim_push_ticket(sluice.COMPONENT_APPID)
    ComponentTicket.objects.create(
        account=wechat_account, ticket=services.sim_current_ticket(sluice.COMPONENT_APPID)
    )
    auditid = operations.submit_audit(authorizer, {"version_desc": "notes"})["auditid"]
    release = wechat_release(audit_id=str(auditid))
    services.sim_decide(auditid=auditid, outcome="rejected", reason="1:服务类目不符:<br>", screenshots=["s1"])
    _run_jobs(queue)
    assert SimPush.objects.get(auditid=auditid).http_status == 200
    release.refresh_from_db()
    assert release.state == "rejected" and "服务类目不符" in release.rejection_reason


# --- rejection screenshots (wechat-fleet.md §6) ---------------------------------------------------


def test_get_material_serves_a_picture_for_a_screenshot_the_reviewer_attached_and_40007_otherwise(wechat):
    auditid = wechat.submit()["auditid"]
    services.sim_decide(auditid=auditid, outcome="rejected", reason="1:x:<br>", screenshots=["sim_media_1"])
    params = {"access_token": wechat.token}
    picture = wechat.http.post(
        "/cgi-bin/material/get_material", params=params, json={"media_id": "sim_media_1"}
    )
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG\r\n\x1a\n")
    unknown = wechat.post("/cgi-bin/material/get_material", {"media_id": "sim_media_2"})
    assert unknown["errcode"] == 40007
    temporary = wechat.http.get("/cgi-bin/media/get", params={**params, "media_id": "sim_media_1"})
    assert temporary.content == picture.content
    assert wechat.http.post("/cgi-bin/material/get_material", json={"media_id": "sim_media_1"}).json()[
        "errcode"
    ] in (40001, 41001)  # no token, no picture
    assert SimCall.objects.filter(path="cgi-bin/material/get_material", errcode=0).count() == 1


def test_the_console_previews_the_screenshots_a_rejection_attaches(sim_on, client, staff, platform):
    auditid = operations.submit_audit(platform.authorizers.get(), {})["auditid"]
    client.force_login(staff)
    page = client.get("/sim/console/").content.decode()
    media_ids = (
        page.split(f'name="{auditid}-screenshots" maxlength="1000" value="')[1].split('"')[0].split("|")
    )
    assert len(media_ids) == 2 and f"/sim/console/media/{media_ids[0]}.png" in page
    preview = client.get(f"/sim/console/media/{media_ids[0]}.png")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"

    client.post(
        f"/sim/console/audits/{auditid}/decide",
        {
            f"{auditid}-outcome": "rejected",
            f"{auditid}-reasons": ["account-porn"],
            f"{auditid}-screenshots": "|".join(media_ids),
        },
    )
    assert SimSubmission.objects.get(auditid=auditid).screenshot == "|".join(media_ids)
    page = client.get("/sim/console/").content.decode()
    assert f'src="/sim/console/media/{media_ids[1]}.png"' in page
    client.logout()
    assert client.get(f"/sim/console/media/{media_ids[0]}.png").status_code == 302
