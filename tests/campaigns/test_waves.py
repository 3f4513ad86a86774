"""A campaign ships one template to a fleet in waves, within the quota and never into its reserve."""

import json

from releases.campaigns import plan
from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import CampaignState, Held
from releases.campaigns.progress import counts, entries_of
from releases.campaigns.services import campaign_approve
from releases.models import QuotaSnapshot, Release, State
from simulator.models import SimCall
from simulator.services import sim_configure
from tests.campaigns.conftest import submitted_appids, work


def test_each_app_gets_an_ordinary_release_with_its_own_ext_json_checked_and_waiting_for_approval(
    fleet, campaign
):
    apps = fleet(3)
    started = campaign(apps, approve=False)

    assert started.state == CampaignState.AWAITING_APPROVAL
    assert started.plan.as_dict() == {"submissions_needed": 3, "quota_left": 20, "reserve": 0}
    releases = {r.app.appid: r for r in Release.objects.select_related("app")}
    assert {r.state for r in releases.values()} == {State.CHECKED}
    second = releases["wxfleet000000001"]
    assert second.template_id == "7"
    assert second.ext_json == {
        "extAppid": "wxfleet000000001",
        "ext": {"merchant": "Merchant 01", "tier": "gold"},
    }
    assert second.review_notes.startswith("Menu and ordering for Merchant 01;")
    assert not SimCall.objects.filter(path__in=["wxa/commit", "wxa/submit_audit"]).exists()


def test_the_approved_campaign_submits_in_waves_committing_each_app_once(fleet, campaign, settings):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 2
    apps = fleet(5)
    started = campaign(apps)

    work()  # the approval's driver run: the first wave
    assert len(submitted_appids()) == 2
    campaign_drive(started.pk)  # the next wave starts once the previous one reached the platform
    work()
    campaign_drive(started.pk)
    work()

    assert sorted(submitted_appids()) == sorted(app.appid for app in apps)
    commits = SimCall.objects.filter(path="wxa/commit")
    assert sorted(commits.values_list("appid", flat=True)) == sorted(app.appid for app in apps)
    assert all(json.loads(json.loads(c.body)["ext_json"])["extAppid"] == c.appid for c in commits)
    entries = list(entries_of(started))
    assert counts(entries) == {State.SUBMITTED: 5}
    assert sorted(e.wave for e in entries) == [1, 1, 2, 2, 3]


def test_the_reserve_is_never_spent_and_the_campaign_says_it_stopped(fleet, campaign):
    sim_configure(quota_limit=5)
    apps = fleet(6)
    started = campaign(apps, reserve=2)
    assert started.plan.as_dict() == {"submissions_needed": 6, "quota_left": 5, "reserve": 2}

    work()
    for _ in range(3):
        campaign_drive(started.pk)
        work()

    assert len(submitted_appids()) == 3
    started.refresh_from_db()
    assert started.halt_code == "quota_reserve"
    assert "2 are kept in reserve" in started.halt_message and "3 apps wait" in started.halt_message
    assert counts(entries_of(started)) == {State.SUBMITTED: 3, State.CHECKED: 3}


def test_an_app_with_another_release_in_review_is_held_and_the_others_go_on(fleet, campaign, alice):
    apps = fleet(2)
    Release.objects.create(app=apps[1], version="1.0.0", author=alice)
    Release.objects.filter(app=apps[1], version="1.0.0").update(state=State.SUBMITTED)
    started = campaign(apps)

    work()

    assert submitted_appids() == [apps[0].appid]
    held = started.entries.get(app=apps[1])
    assert held.held == Held.REVIEW_IN_PROGRESS


def test_a_quota_that_cannot_be_read_submits_nothing(fleet, campaign, mike, monkeypatch):
    started = campaign(fleet(2), approve=False)
    QuotaSnapshot.objects.all().delete()
    monkeypatch.setattr(plan, "quota_refresh", lambda account: None)  # WeChat did not answer

    campaign_approve(campaign=started, actor=mike)
    work()

    started.refresh_from_db()
    assert started.halt_code == "quota_unknown" and submitted_appids() == []
