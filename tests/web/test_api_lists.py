"""Every list of the API is paged (`limit`, `next`, a maximum page size), the cross-app release
list filters like the release page, and the OpenAPI document names each list's schema apart."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from releases.models import App, PlatformAccount, Release
from tests.web.conftest import error_code


@pytest.fixture
def many_apps(team, manual_account):
    return App.objects.bulk_create(
        App(team=team, platform_account=manual_account, name=f"App {n:03}", appid=f"wxmany{n:04}")
        for n in range(7)
    )


def test_the_app_list_comes_a_page_at_a_time_and_next_leads_to_the_rest(api, alice, many_apps):
    first = api("get", "/apps?limit=5", user=alice).json()
    assert [a["name"] for a in first["results"]] == [f"App {n:03}" for n in range(5)]
    assert first["next"].startswith("/api/v1/apps?")
    second = api("get", first["next"].removeprefix("/api/v1"), user=alice).json()
    assert [a["name"] for a in second["results"]] == ["App 005", "App 006"]
    assert second["next"] is None


def test_a_page_larger_than_the_maximum_is_a_400(api, alice, app):
    response = api("get", "/apps?limit=201", user=alice)
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["details"]


def test_the_app_list_says_a_refresh_token_is_set_without_decrypting_any(api, alice, app, many_apps):
    App.objects.filter(pk=app.pk).update(authorizer_refresh_token="")
    with connection.cursor() as cursor:  # a ciphertext no key can open: decrypting it would fail
        cursor.execute(
            "UPDATE releases_app SET authorizer_refresh_token = %s WHERE id = %s", ["gAAAA-broken", app.pk]
        )
    response = api("get", "/apps?limit=200", user=alice)
    assert response.status_code == 200
    by_id = {a["id"]: a for a in response.json()["results"]}
    assert by_id[app.pk]["authorizer_refresh_token_set"] is True
    assert by_id[many_apps[0].pk]["authorizer_refresh_token_set"] is False
    assert api("get", f"/apps/{app.pk}", user=alice).json()["authorizer_refresh_token_set"] is True


def test_every_list_is_paged(api, alice, app, make_release):
    release = make_release()
    for path in (
        "/platform-accounts",
        "/apps",
        "/checks",
        "/releases",
        f"/apps/{app.pk}/releases",
        f"/apps/{app.pk}/suppressions",
        f"/apps/{app.pk}/qualifications",
        f"/apps/{app.pk}/limits",
        f"/releases/{release.pk}/events",
    ):
        body = api("get", f"{path}?limit=1", user=alice).json()
        assert set(body) == {"results", "next"}, path
        assert len(body["results"]) <= 1, path


def test_the_release_list_of_every_app_filters_by_state_app_platform_and_time(
    api, alice, app, make_release, other_app, olga, team
):
    wechat = PlatformAccount.objects.create(team=team, platform="wechat", name="WeChat")
    mini = App.objects.create(team=team, platform_account=wechat, name="Mini", appid="wxmini0001")
    draft, checked = make_release("1.0.0"), make_release("1.1.0", upto="checked")
    on_wechat = Release.objects.create(app=mini, version="3.0.0", author=alice, owner=alice)
    Release.objects.create(app=other_app, version="9.0.0", author=olga, owner=olga)
    Release.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))

    def ids(query):
        response = api("get", f"/releases{query}", user=alice)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids("") == [on_wechat.pk, checked.pk, draft.pk]  # newest first; another team's never
    assert ids("?state=checked") == [checked.pk]
    assert ids(f"?app={app.pk}") == [checked.pk, draft.pk]
    assert ids(f"?app={other_app.pk}") == []
    assert ids("?platform=wechat") == [on_wechat.pk]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert ids(f"?updated_since={since.replace('+', '%2B')}") == [on_wechat.pk, checked.pk]
    page = api("get", f"/releases?app={app.pk}&limit=1", user=alice).json()
    assert page["next"] == f"/api/v1/releases?app={app.pk}&limit=1&offset=1"
    assert api("get", "/releases?state=sideways", user=alice).status_code == 400


def test_each_list_has_its_own_schema_name_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json()
    answers = {
        path: operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        for path, operations in doc["paths"].items()
        if "get" in operations and path != "/api/v1/openapi.json"
    }
    lists = {
        path: ref.rsplit("/", 1)[1] for path, ref in answers.items() if ref.endswith(("Page", "PageOut"))
    }
    assert sorted(set(lists.values())) == [
        "AppPage",
        "CampaignPage",
        "ChannelPage",
        "CheckDefinitionPage",
        "DeliveryPage",
        "DraftPage",  # a platform account's template draft box (issue 14)
        "EventPage",
        "LimitPage",
        "PlatformAccountPage",
        "QualificationPage",
        "ReleasePageOut",  # the two release lists: the same rows
        "SuppressionPage",
        "TemplatePage",
    ]
    assert len(lists) == 14
    assert "ListOut" not in doc["components"]["schemas"]


def test_an_error_answer_is_the_envelope(api, alice):
    response = api("get", "/apps?offset=-1", user=alice)
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
