"""The campaign pages: created from the form, read with their plan and apps, moved by their
buttons, updating live, and closed to other teams."""

import copy
import json

import pytest

from releases.campaigns.models import Campaign, CampaignState
from releases.models import App
from tests.conftest import GOOD_NOTES, GOOD_REPORT


@pytest.fixture
def stores(team, manual_account):
    return [
        App.objects.create(
            team=team, platform_account=manual_account, name=f"Store {i}", appid=f"wxstore{i:04d}"
        )
        for i in range(2)
    ]


def form(account, **fields):
    return {
        "platform_account": str(account.pk),
        "template_id": "12",
        "version": "3.1.0",
        "target_kind": "all",
        "ext_json": json.dumps({"ext": {"name": "{{ merchant_name }}"}}),
        "review_notes": GOOD_NOTES,
        "build_report": json.dumps(copy.deepcopy(GOOD_REPORT)),
        "reserve": "2",
        **fields,
    }


def test_a_campaign_created_from_the_form_shows_its_plan_and_its_start_button(
    client, alice, manual_account, stores
):
    client.force_login(alice)
    assert client.get("/campaigns/new").status_code == 200

    response = client.post("/campaigns/new", form(manual_account))

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Submissions needed" in page and "Kept in reserve" in page
    assert f'action="/campaigns/{campaign.pk}/start"' in page
    assert "Store 0" in page and "wxstore0001" in page
    assert f'href="/campaigns/{campaign.pk}/"' in client.get("/campaigns/").content.decode()


def test_bad_json_in_the_form_says_so_and_creates_nothing(client, alice, manual_account, stores):
    client.force_login(alice)
    response = client.post("/campaigns/new", form(manual_account, ext_json="{not json"), follow=True)
    assert "ext_json is not valid JSON." in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_buttons_move_the_campaign_and_the_live_stamp_follows(
    client, alice, mike, manual_account, stores
):
    client.force_login(alice)
    client.post("/campaigns/new", form(manual_account))
    campaign = Campaign.objects.get()
    before = client.get(f"/campaigns/{campaign.pk}/live").json()["stamp"]

    client.post(f"/campaigns/{campaign.pk}/start")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PREPARING
    assert client.get(f"/campaigns/{campaign.pk}/live").json()["stamp"] != before

    refused = client.post(f"/campaigns/{campaign.pk}/approve", follow=True).content.decode()
    assert "Only a release manager or above can approve a campaign." in refused
    client.force_login(mike)
    client.post(f"/campaigns/{campaign.pk}/cancel")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED


def test_another_team_never_sees_a_campaign(client, alice, olga, manual_account, stores):
    client.force_login(alice)
    client.post("/campaigns/new", form(manual_account))
    campaign = Campaign.objects.get()
    client.force_login(olga)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/campaigns/{campaign.pk}/live").status_code == 404
    assert client.post(f"/campaigns/{campaign.pk}/cancel").status_code == 404
    assert "Store 0" not in client.get("/campaigns/").content.decode()


def test_apps_picked_one_by_one_or_by_appid_are_the_campaigns_targets(client, alice, manual_account, stores):
    other = App.objects.create(
        team=stores[0].team, platform_account=manual_account, name="Store 9", appid="wxstore0009"
    )
    client.force_login(alice)
    page = client.get("/campaigns/new").content.decode()
    assert f'<option value="{stores[1].pk}">Store 1 · wxstore0001</option>' in page

    client.post(
        "/campaigns/new",
        form(manual_account, target_kind="apps", apps=[str(stores[1].pk)], appids="wxstore0009"),
    )
    campaign = Campaign.objects.get()
    assert campaign.targets == {"apps": sorted([stores[1].pk, other.pk])}
    assert set(campaign.entries.values_list("app__appid", flat=True)) == {"wxstore0001", "wxstore0009"}


def test_an_appid_of_no_app_of_the_account_is_refused_and_creates_nothing(
    client, alice, manual_account, stores
):
    client.force_login(alice)
    response = client.post(
        "/campaigns/new", form(manual_account, target_kind="apps", appids="wxstore0001 wxnobody"), follow=True
    )
    assert (
        "These AppIDs are not apps of" in response.content.decode()
        and "wxnobody" in response.content.decode()
    )
    assert not Campaign.objects.exists()


def test_the_dry_run_shows_a_few_apps_rendered_and_those_held_and_creates_nothing(
    client, alice, manual_account, stores
):
    App.objects.filter(pk=stores[1].pk).update(authorization_lost_at="2026-01-01T00:00:00Z")
    App.objects.create(
        team=stores[0].team, platform_account=manual_account, name="Store 7", appid="wxstore0007"
    )
    client.force_login(alice)
    response = client.post(
        "/campaigns/new",
        form(
            manual_account,
            preview="1",
            ext_json=json.dumps({"extAppid": "{{ appid }}", "ext": {"city": "{{ city }}"}}),
            variables=json.dumps({"wxstore0000": {"city": "<b>Hangzhou</b>"}}),
            release_notes="Spring menu for {{ merchant_name }}",
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    preview = page[
        page.index('id="campaign-preview"') : page.index("</section>", page.index('id="campaign-preview"'))
    ]
    assert "3 apps are targeted." in preview
    assert "&quot;city&quot;: &quot;&lt;b&gt;Hangzhou&lt;/b&gt;&quot;" in preview  # escaped
    assert "Spring menu for Store 0" in preview
    assert "2 apps would be held back" in preview
    assert "Store 1" in preview and "Authorization lost" in preview
    assert "Store 7" in preview and "no variable “city” for this app" in preview
    assert 'value="Spring menu for {{ merchant_name }}"' not in page  # the form keeps what was typed
    assert "Spring menu for {{ merchant_name }}</textarea>" in page
