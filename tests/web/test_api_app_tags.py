"""Apps carry tags for targeting (issue 14): set on one app, added and removed on many, filtered
by, and kept per team."""

from releases.models import App, AppTag, AuditEvent


def test_patch_replaces_an_apps_tags_and_get_shows_them(api_client, app, mike):
    changed = api_client("patch", f"/apps/{app.pk}", user=mike, tags=["retail", " tier-1 ", "retail"])

    assert changed.status_code == 200, changed.content
    assert changed.json()["tags"] == ["retail", "tier-1"]
    assert api_client("get", f"/apps/{app.pk}", user=mike).json()["tags"] == ["retail", "tier-1"]
    assert AuditEvent.objects.get(action="app_tags_update").data["after"] == ["retail", "tier-1"]


def test_a_bad_tag_is_refused_and_changes_nothing(api_client, app, mike):
    refused = api_client(
        "patch", f"/apps/{app.pk}", user=mike, tags=["a,b"], privacy_policy_url="https://x.cn"
    )

    assert refused.status_code == 400
    app.refresh_from_db()
    assert not app.tags.exists() and app.privacy_policy_url == ""


def test_the_list_filters_by_tag(api_client, app, manual_account, team, mike):
    other = App.objects.create(team=team, platform_account=manual_account, name="Cafe", appid="wxcafe0001")
    api_client("patch", f"/apps/{other.pk}", user=mike, tags=["food"])

    listed = api_client("get", "/apps?tag=food", user=mike).json()["results"]

    assert [a["appid"] for a in listed] == ["wxcafe0001"]


def test_bulk_tagging_by_ids_and_by_filter(api_client, app, manual_account, team, mike):
    cafe = App.objects.create(team=team, platform_account=manual_account, name="Cafe", appid="wxcafe0001")

    added = api_client(
        "post", "/apps/tags", user=mike, targets={"apps": [app.pk, cafe.pk]}, add=["east", "tier-2"]
    )
    assert added.json() == {"matched": 2, "changed": 2}
    swapped = api_client(
        "post", "/apps/tags", user=mike, targets={"tags": ["east"]}, add=["tier-1"], remove=["tier-2"]
    )
    assert swapped.json() == {"matched": 2, "changed": 2}
    again = api_client("post", "/apps/tags", user=mike, targets={"tags": ["east"]}, add=["tier-1"])

    assert again.json() == {"matched": 2, "changed": 0}
    assert sorted(cafe.tags.values_list("name", flat=True)) == ["east", "tier-1"]


def test_tags_stay_in_their_team(api_client, app, other_app, mike, olga, vera):
    api_client("post", "/apps/tags", user=olga, targets={"apps": [app.pk, other_app.pk]}, add=["mine"])

    assert not app.tags.exists()
    assert list(other_app.tags.values_list("name", flat=True)) == ["mine"]
    assert AppTag.objects.get(name="mine").team_id == other_app.team_id
    assert api_client("get", "/apps?tag=mine", user=mike).json()["results"] == []
    assert api_client("post", "/apps/tags", user=vera, targets={"all": True}, add=["x"]).status_code == 403
