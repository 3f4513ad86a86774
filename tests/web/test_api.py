"""The REST API as an outside client sees it: tokens, envelopes, isolation, the full journey."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from releases.models import App, PlatformAccount, Release
from releases.tokens import api_token_create
from tests.conftest import GOOD_NOTES, GOOD_REPORT

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def api(client):
    def call(method, path, user=None, token=None, **body):
        headers = {}
        if user is not None:
            token = api_token_create(user=user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs = {"content_type": "application/json", "data": body} if method in ("post", "patch") else {}
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    return call


def test_it_requires_a_token(api, app):
    response = api("get", "/apps")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_it_rejects_an_unknown_token(api, app):
    assert api("get", "/apps", token="slc_not-a-real-token").status_code == 401


def test_a_token_printed_by_the_command_works(api, app, alice):
    out = io.StringIO()
    call_command("api_token", "alice", stdout=out)
    token = out.getvalue().strip()
    response = api("get", "/apps", token=token)
    assert response.status_code == 200
    assert [a["appid"] for a in response.json()["results"]] == ["wxshop0001"]
    assert token not in str(list(connection.cursor().execute("SELECT key_hash FROM releases_apitoken") or []))


def test_another_teams_objects_are_not_found(api, app, alice, make_release, olga):
    release = make_release()
    for path in (
        f"/apps/{app.pk}",
        f"/apps/{app.pk}/releases",
        f"/releases/{release.pk}",
        f"/releases/{release.pk}/events",
    ):
        response = api("get", path, user=olga)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert api("post", f"/releases/{release.pk}/cancel", user=olga).status_code == 404
    assert api("get", "/apps", user=olga).json() == {"results": [], "next": None}


def test_creating_a_wechat_account_returns_callback_urls_and_never_the_secrets(api, team, adam):
    secret = "s3cr3t-component-secret"
    response = api(
        "post",
        "/platform-accounts",
        user=adam,
        platform="wechat",
        name="Agency platform",
        component_appid="wxcomponent01",
        component_appsecret=secret,
        message_token="tok-123",
        encoding_aes_key=AES_KEY,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["callback_urls"]["authorization"].endswith("/auth")
    assert "$APPID$" in body["callback_urls"]["messages"]
    assert body["secrets_set"] == {
        "component_appsecret": True,
        "message_token": True,
        "encoding_aes_key": True,
    }
    listed = api("get", "/platform-accounts", user=adam).content.decode()
    for text in (response.content.decode(), listed):
        assert secret not in text and AES_KEY not in text and "tok-123" not in text
    with connection.cursor() as cursor:
        cursor.execute("SELECT component_appsecret FROM releases_platformaccount WHERE id = %s", [body["id"]])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    assert PlatformAccount.objects.get(pk=body["id"]).component_appsecret == secret


def test_a_wechat_account_without_its_credentials_is_a_400_naming_them(api, team, adam):
    response = api(
        "post", "/platform-accounts", user=adam, platform="wechat", name="X", encoding_aes_key="short"
    )
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert {"component_appid", "component_appsecret", "message_token", "encoding_aes_key"} <= set(details)
    assert not PlatformAccount.objects.exists()


def test_only_a_team_admin_adds_platform_accounts(api, team, mike):
    response = api("post", "/platform-accounts", user=mike, platform="manual", name="M", team=team.pk)
    assert response.status_code == 403


def test_creating_an_app_hides_its_refresh_token(api, manual_account, mike):
    response = api(
        "post",
        "/apps",
        user=mike,
        name="Cafe",
        appid="wxcafe0001",
        platform_account=manual_account.pk,
        authorizer_refresh_token="refresh-secret",
        privacy_policy_url="https://cafe.example/privacy",
        categories=["餐饮 > 点餐"],
    )
    assert response.status_code == 201, response.content
    assert "refresh-secret" not in response.content.decode()
    assert response.json()["authorizer_refresh_token_set"] is True
    assert App.objects.get(appid="wxcafe0001").authorizer_refresh_token == "refresh-secret"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"version": "1.0.0", "build_report": "big"}, "build_report"),
        ({"version": "1.0.0", "colour": "red"}, "colour"),
        ({"release_notes": "no version"}, "version"),
        ({"version": "one"}, "version"),
        (
            {"version": "1.0.0", "build_report": {"packages": [{"name": "__APP__", "size": "2MB"}]}},
            "build_report.packages",
        ),
        ({"version": "1.0.0", "build_report": {"first_screen_ms": "fast"}}, "build_report.first_screen_ms"),
    ],
)
def test_bad_release_input_is_a_400_naming_the_field_and_creates_nothing(api, app, alice, body, field):
    response = api("post", f"/apps/{app.pk}/releases", user=alice, **body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["details"]
    assert error["message"]
    assert not Release.objects.exists()


def test_the_manual_journey_runs_end_to_end_through_the_api(api, app, alice, mike):
    created = api(
        "post",
        f"/apps/{app.pk}/releases",
        user=alice,
        version="1.0.0",
        release_notes="Points.",
        review_notes=GOOD_NOTES,
        build_report={**GOOD_REPORT, "extra": 1},
    )
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert created.json()["build_report"]["extra"] == 1
    checked = api("post", f"/releases/{rid}/check", user=alice).json()
    assert checked["state"] == "draft"  # the automated checks passed; the manual checklist is open
    manual = [c for c in checked["checks"] if c["kind"] == "manual"]
    assert len(manual) == 5 and {c["status"] for c in manual} == {"pending"}
    for item in manual:
        ticked = api("post", f"/releases/{rid}/checks/{item['key']}/confirm", user=alice).json()
    assert ticked["state"] == "checked"  # the last tick completes the gate
    assert {c["status"] for c in ticked["checks"]} == {"passed"}
    refused = api("post", f"/releases/{rid}/submit", user=mike)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "approval_required")
    assert api("post", f"/releases/{rid}/approve", user=alice).json()["error"]["code"] == "forbidden"
    assert api("post", f"/releases/{rid}/approve", user=mike, comment="ok").json()["approved"] is True
    assert api("post", f"/releases/{rid}/submit", user=mike).json()["state"] == "submitted"
    rejected = api(
        "post",
        f"/releases/{rid}/record-outcome",
        user=mike,
        outcome="rejected",
        reason="1:服务类目不符:<br>(1):类目与功能不符",
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["rejection_reason"].startswith("1:服务类目不符")
    assert rejected.json()["rejection"]["items"][0]["text"].startswith("服务类目不符")
    blocked = api("post", f"/releases/{rid}/submit", user=mike)
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (409, "remediation_incomplete")
    waived = api(
        "post", f"/releases/{rid}/remediation/override", user=mike, reason="Category fixed in the console."
    )
    assert waived.status_code == 200, waived.content
    assert api("post", f"/releases/{rid}/submit", user=mike).json()["state"] == "submitted"
    api("post", f"/releases/{rid}/record-outcome", user=mike, outcome="approved")
    published = api("post", f"/releases/{rid}/publish", user=mike)
    assert published.json()["state"] == "published"
    events = api("get", f"/releases/{rid}/events", user=alice).json()["results"]
    assert [e["action"] for e in events] == [
        "create",
        *["checklist_confirm"] * 5,
        "check",
        "approve",
        "submit",
        "submit_succeeded",
        "review_rejected",
        "remediation_planned",
        "remediation_override",
        "submit",
        "submit_succeeded",
        "review_approved",
        "publish",
        "publish_succeeded",
    ]
    assert set(events[0]) >= {"at", "actor", "action", "from_state", "to_state", "data"}
    assert events[7]["actor"] == "mike" and events[9]["actor"] is None
    assert events[6]["actor"] == "alice" and events[6]["data"]["completed_by"] == "checklist"


def test_failing_checks_answer_409_and_keep_the_run(api, app, alice, make_release):
    release = make_release(review_notes="更新")
    response = api("post", f"/releases/{release.pk}/check", user=alice)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "checks_failed")
    body = api("get", f"/releases/{release.pk}", user=alice).json()
    assert body["state"] == "draft"
    failed = [c for c in body["checks"] if c["status"] == "failed"]
    assert [c["key"] for c in failed] == ["review_notes"]


def test_patching_a_checked_release_sends_it_back_to_draft(api, make_release, alice):
    release = make_release(upto="approved_by_manager")
    response = api("patch", f"/releases/{release.pk}", user=alice, revision=1, release_notes="Changed.")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["approved"]) == ("draft", False)


def test_an_unknown_action_is_a_404(api, make_release, mike):
    release = make_release()
    assert (
        api("post", f"/releases/{release.pk}/explode", user=mike).json()["error"]["code"] == "unknown_action"
    )


def test_the_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/platform-accounts",
        "/api/v1/apps",
        "/api/v1/apps/{app_id}/releases",
        "/api/v1/releases/{release_id}",
        "/api/v1/releases/{release_id}/{action}",
        "/api/v1/releases/{release_id}/events",
        "/api/v1/releases/{release_id}/checks/{key}/confirm",
        "/api/v1/apps/{app_id}/suppressions",
        "/api/v1/apps/{app_id}/qualifications",
        "/api/v1/apps/{app_id}/checklist",
        "/api/v1/apps/{app_id}/approval-policy",
        "/api/v1/checks",
    ):
        assert path in spec["paths"], path
    check = spec["components"]["schemas"]["CheckOut"]["properties"]
    assert set(check) >= {"key", "title", "kind", "severity", "status", "message", "evidence"}
