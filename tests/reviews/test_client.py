"""The WeChat HTTP client at the network edge: every answer is decoded or named, never guessed."""

import json

import httpx
import pytest

from reviews.platforms.wechat.client import WeChatClient
from reviews.platforms.wechat.errors import ERRCODES, WeChatError
from reviews.platforms.wechat.schemas import Answer, AuditState, LatestAuditState, SubmitAudit


def client_answering(handler) -> WeChatClient:
    return WeChatClient(base_url="https://wechat.test", timeout=2, transport=httpx.MockTransport(handler))


def answering(payload, status=200):
    return client_answering(lambda request: httpx.Response(status, json=payload))


def failure(client, *args, **kwargs) -> WeChatError:
    with pytest.raises(WeChatError) as caught:
        client.get(*args, **kwargs)
    return caught.value


def test_it_decodes_a_successful_answer_into_its_model():
    answer = answering({"errcode": 0, "errmsg": "ok", "auditid": 1234567}).get("/wxa/x", SubmitAudit)
    assert answer.auditid == 1234567


def test_it_accepts_both_spellings_of_the_screenshot_field():
    body = {"errcode": 0, "auditid": 1, "status": 1, "reason": "帐号信息不合规范", "user_version": "V1.5"}
    upper = answering({**body, "ScreenShot": "xx|yy|zz"}).get("/wxa/get_latest_auditstatus", LatestAuditState)
    lower = answering({**body, "screenshot": "aa|bb"}).get("/wxa/get_latest_auditstatus", LatestAuditState)
    assert upper.screenshots == ["xx", "yy", "zz"]
    assert lower.screenshots == ["aa", "bb"]


def test_an_answer_without_screenshots_has_none():
    answer = answering({"errcode": 0, "status": 2}).get("/wxa/get_auditstatus", AuditState)
    assert answer.screenshots == []


@pytest.mark.parametrize(
    "errcode", [85009, 85085, 85086, 86002, 87013, 89405, 85019, 85020, 87011, 87012, 44002]
)
def test_a_permanent_errcode_becomes_a_named_error_with_a_sentence(errcode):
    error = failure(answering({"errcode": errcode, "errmsg": "raw text"}), "/wxa/x", Answer)
    assert error.permanent
    assert error.code == f"wechat_{errcode}"
    assert error.errcode == errcode
    assert error.message == ERRCODES[errcode].sentence
    assert error.message.endswith(".") and "raw text" not in error.message


@pytest.mark.parametrize("errcode", [-1, 45009, 9402202, 61039])
def test_a_busy_or_rate_limited_errcode_is_transient(errcode):
    error = failure(answering({"errcode": errcode, "errmsg": "busy"}), "/wxa/x", Answer)
    assert not error.permanent
    assert error.code == f"wechat_{errcode}"


def test_an_unknown_errcode_is_permanent_and_quotes_wechat():
    error = failure(answering({"errcode": 12345, "errmsg": "something new"}), "/wxa/submit_audit", Answer)
    assert error.permanent
    assert error.message == "WeChat refused submit_audit with errcode 12345: something new."


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_http_5xx_is_transient(status):
    error = failure(answering({"errcode": 0}, status=status), "/wxa/queryquota", Answer)
    assert not error.permanent
    assert "HTTP" in error.message and str(status) in error.message


def test_an_http_404_is_permanent_and_points_at_the_api_base():
    error = failure(answering({}, status=404), "/wxa/queryquota", Answer)
    assert error.permanent
    assert "WECHAT_API_BASE" in error.message


def test_a_timeout_is_transient():
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    error = failure(client_answering(slow), "/wxa/queryquota", Answer)
    assert not error.permanent
    assert error.message == "WeChat did not answer queryquota within 2 s."


def test_a_connection_error_is_transient():
    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    error = failure(client_answering(refused), "/wxa/queryquota", Answer)
    assert not error.permanent and error.code == "wechat_connection"


def test_an_answer_that_is_not_json_is_transient():
    client = client_answering(lambda request: httpx.Response(200, text="<html>gateway</html>"))
    error = failure(client, "/wxa/queryquota", Answer)
    assert not error.permanent
    assert error.message == "WeChat's answer to queryquota is not JSON."


def test_an_answer_missing_a_field_is_transient_and_names_the_field():
    error = failure(answering({"errcode": 0, "errmsg": "ok"}), "/wxa/submit_audit", SubmitAudit)
    assert not error.permanent
    assert "auditid" in error.message


def test_an_answer_with_an_unknown_audit_status_is_refused():
    error = failure(answering({"errcode": 0, "status": 9}), "/wxa/get_auditstatus", AuditState)
    assert not error.permanent and "status" in error.message


def test_a_post_sends_utf8_json_and_the_token_as_a_query_parameter():
    seen = {}

    def record(request):
        seen.update(url=str(request.url), body=request.content, type=request.headers["content-type"])
        return httpx.Response(200, json={"errcode": 0, "auditid": 7})

    client_answering(record).post(
        "/wxa/submit_audit", SubmitAudit, params={"access_token": "T"}, body={"version_desc": "积分页"}
    )
    assert seen["url"] == "https://wechat.test/wxa/submit_audit?access_token=T"
    assert json.loads(seen["body"]) == {"version_desc": "积分页"}
    assert "积分页".encode() in seen["body"]  # not \u-escaped
    assert seen["type"].startswith("application/json")


def test_an_empty_json_object_is_sent_as_exactly_two_braces():
    seen = {}

    def record(request):
        seen["body"] = request.content
        return httpx.Response(200, json={"errcode": 0})

    client_answering(record).post("/wxa/release", Answer, params={"access_token": "T"}, body={})
    assert seen["body"] == b"{}"
