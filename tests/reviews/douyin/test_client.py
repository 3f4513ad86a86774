"""Douyin's answers at the network edge: the v2 envelope, the token endpoint's bare fields, and
every failure class (transient to retry, permanent to show) — plus the connection test over HTTP."""

import httpx
import pytest

from releases.platforms import adapter_for
from reviews.platforms.douyin.client import DouyinClient
from reviews.platforms.douyin.errors import DouyinError


def answering(status=200, body=None, content=None):
    def handler(request):
        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=body)

    return DouyinClient(base_url="http://douyin.test", transport=httpx.MockTransport(handler))


def refused(client) -> DouyinError:
    with pytest.raises(DouyinError) as caught:
        client.get("/api/apps/v1/package_version/versions/", token="t")
    return caught.value


def test_the_v2_envelope_gives_its_data_and_the_token_endpoint_its_bare_fields():
    assert answering(body={"err_no": 0, "err_msg": "", "log_id": "x", "data": {"a": 1}}).get("/x/") == {
        "a": 1
    }
    assert (
        answering(body={"component_access_token": "clt.1", "expires_in": 7200}).get("/t/")["expires_in"]
        == 7200
    )


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"status": 502, "body": {}}, "douyin_http_5xx"),
        ({"status": 429, "body": {}}, "douyin_http_429"),
        ({"content": b"<html>gateway</html>"}, "douyin_malformed"),
        ({"body": {"err_no": 28001005, "err_msg": "busy"}}, "douyin_28001005"),
        ({"body": {"err_no": 11301, "err_msg": "too often"}}, "douyin_11301"),
        ({"body": {"errno": 40045, "message": "retry"}}, "douyin_40045"),
    ],
)
def test_busy_rate_limited_or_garbled_answers_are_transient(answer, code):
    error = refused(answering(**answer))
    assert (error.code, error.permanent) == (code, False)


@pytest.mark.parametrize(
    ("err_no", "name"),
    [
        (11303, "already_in_review"),
        (10107, "app_banned"),
        (28001018, "permission_missing"),
        (99999, "unknown"),
    ],
)
def test_conflicts_bans_missing_permissions_and_unknown_codes_are_permanent(err_no, name):
    error = refused(answering(body={"err_no": err_no, "err_msg": "原文"}))
    assert (error.name, error.permanent) == (name, True)
    if name == "unknown":
        assert "原文" in error.message


def test_a_wrong_api_base_is_a_permanent_error_naming_it():
    error = refused(answering(status=404, body={}))
    assert error.permanent and "DOUYIN_API_BASE" in error.message


def test_the_connection_test_proves_the_ticket_and_the_secret(douyin_sim):
    probes = adapter_for(douyin_sim.account).connection_test()
    assert [(probe.what, probe.ok) for probe in probes] == [
        ("component_ticket", True),
        ("component_access_token", True),
    ]


def test_the_connection_test_names_a_wrong_secret(douyin_sim):
    douyin_sim.account.component_appsecret = "wrong"
    douyin_sim.account.save()
    token_probe = adapter_for(douyin_sim.account).connection_test()[1]
    assert not token_probe.ok and "40038" in token_probe.detail
