"""The campaigns API: create with a plan, read every app, act, and refuse clearly."""

import copy

import pytest

from releases.campaigns.driver import campaign_drive
from releases.models import App, AppTag, Release, State
from tests.conftest import GOOD_NOTES, GOOD_REPORT


@pytest.fixture
def fleet(team, manual_account):
    gold = AppTag.objects.create(team=team, name="gold")
    apps = []
    for i in range(3):
        app = App.objects.create(
            team=team, platform_account=manual_account, name=f"Store {i}", appid=f"wxstore{i:04d}"
        )
        if i < 2:
            app.tags.add(gold)
        apps.append(app)
    return apps


def body(account, **fields):
    return {
        "platform_account": account.pk,
        "template_id": "12",
        "version": "3.1.0",
        "review_notes": GOOD_NOTES + " {{ merchant_name }}",
        "ext_json": {"ext": {"shop": "{{ shop_id }}", "name": "{{ merchant_name }}"}},
        "variables": {"wxstore0000": {"shop_id": 1}, "wxstore0001": {"shop_id": 2}},
        "targets": {"tags": ["gold"]},
        "reserve": 3,
        "build_report": copy.deepcopy(GOOD_REPORT),
        **fields,
    }


def test_a_campaign_is_created_with_its_plan_and_every_targeted_app(api_client, alice, manual_account, fleet):
    response = api_client("post", "/campaigns", user=alice, **body(manual_account))

    assert response.status_code == 201, response.json()
    found = response.json()
    assert found["state"] == "draft"
    assert found["plan"] == {"submissions_needed": 2, "quota_left": None, "reserve": 3}
    assert [(a["appid"], a["state"], a["held"]) for a in found["apps"]] == [
        ("wxstore0000", "not_created", None),
        ("wxstore0001", "not_created", None),
    ]
    listed = api_client("get", "/campaigns", user=alice).json()["results"]
    assert [c["id"] for c in listed] == [found["id"]]


def test_an_app_missing_a_variable_is_held_with_the_error_and_the_others_go_on(
    api_client, alice, manual_account, fleet
):
    response = api_client("post", "/campaigns", user=alice, **body(manual_account, targets={"all": True}))

    apps = {a["appid"]: a for a in response.json()["apps"]}
    assert apps["wxstore0002"]["held"] == "render_failed"
    assert "shop_id" in apps["wxstore0002"]["last_error"]
    assert response.json()["plan"]["submissions_needed"] == 2


def test_an_app_whose_authorization_was_lost_is_listed_and_left_out(api_client, alice, manual_account, fleet):
    App.objects.filter(pk=fleet[0].pk).update(authorization_lost_at="2026-12-01T00:00:00Z")
    found = api_client("post", "/campaigns", user=alice, **body(manual_account)).json()
    assert found["apps"][0]["held"] == "authorization_lost"
    assert found["counts"] == {"authorization_lost": 1, "not_created": 1}


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"targets": {"tags": ["nobody"]}}, 409, "no_apps"),
        ({"targets": {"apps": [999999]}}, 404, "unknown_apps"),
        ({"version": "three"}, 400, "invalid_version"),
        ({"reserve": -1}, 400, "invalid_request"),
        ({"template_id": "  "}, 400, "invalid_template"),
        ({"targets": {"all": True, "tags": ["gold"]}}, 400, "invalid_request"),
    ],
)
def test_bad_input_is_refused_clearly_and_creates_nothing(
    api_client, alice, manual_account, fleet, fields, status, code
):
    response = api_client("post", "/campaigns", user=alice, **body(manual_account, **fields))
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert not api_client("get", "/campaigns", user=alice).json()["results"]


def test_the_creator_cannot_approve_and_another_team_sees_nothing(
    api_client, alice, mike, nina, olga, manual_account, fleet
):
    created = api_client("post", "/campaigns", user=mike, **body(manual_account)).json()
    path = f"/campaigns/{created['id']}"

    assert api_client("post", f"{path}/approve", user=nina).status_code == 409  # not started yet
    assert api_client("post", f"{path}/start", user=alice).status_code == 200
    refused = api_client("post", f"{path}/approve", user=mike)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "self_approval"
    assert api_client("get", path, user=olga).status_code == 404
    assert api_client("post", f"{path}/cancel", user=olga).status_code == 404
    assert api_client("post", f"{path}/frobnicate", user=mike).status_code in (400, 404)


def test_a_manual_campaign_runs_to_submitted_through_the_api(
    api_client, alice, mike, nina, manual_account, fleet, drain
):
    created = api_client("post", "/campaigns", user=alice, **body(manual_account)).json()
    path = f"/campaigns/{created['id']}"
    api_client("post", f"{path}/start", user=alice)
    campaign_drive(created["id"])
    campaign_drive(created["id"])
    assert api_client("get", path, user=alice).json()["state"] == "awaiting_approval"

    approved = api_client("post", f"{path}/approve", user=nina, comment="Template reviewed")
    assert approved.status_code == 200
    campaign_drive(created["id"])

    found = api_client("get", path, user=alice).json()
    assert found["counts"] == {"submitted": 2}
    assert found["approved_by"] == "nina"
    assert set(Release.objects.values_list("state", flat=True)) == {State.SUBMITTED}
    release = Release.objects.get(app__appid="wxstore0001")
    assert release.ext_json == {"ext": {"shop": 2, "name": "Store 1"}}


def test_a_dry_run_renders_a_few_apps_names_those_held_and_creates_nothing(
    api_client, alice, olga, manual_account, fleet
):
    from releases.campaigns.models import Campaign

    response = api_client(
        "post", "/campaigns/preview", user=alice, **body(manual_account, targets={"all": True})
    )

    assert response.status_code == 200, response.json()
    found = response.json()
    assert found["apps"] == 3 and found["held_count"] == 1
    assert [(s["appid"], s["ext_json"]) for s in found["samples"]] == [
        ("wxstore0000", {"ext": {"shop": 1, "name": "Store 0"}}),
        ("wxstore0001", {"ext": {"shop": 2, "name": "Store 1"}}),
    ]
    assert found["samples"][0]["review_notes"].endswith(" Store 0")
    assert found["held"] == [
        {
            "app": fleet[2].pk,
            "appid": "wxstore0002",
            "name": "Store 2",
            "held": "render_failed",
            "error": "no variable “shop_id” for this app",
        }
    ]
    assert not Campaign.objects.exists()
    other = api_client("post", "/campaigns/preview", user=olga, **body(manual_account, targets={"all": True}))
    assert other.status_code == 404
