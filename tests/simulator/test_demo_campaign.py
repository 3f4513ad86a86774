"""The README's demo campaign works: after the demo seeds, `dev` creates a campaign of the demo
template over the `industry:food` merchants from the form (the dry run first), starts it, and
`manager` approves it once; every one of the ten is submitted to the simulated WeChat."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import Campaign, CampaignState
from releases.models import PlatformAccount, Release, State
from reviews.models import CodeTemplate, ComponentTicket
from simulator.management.commands.seed_demo_wechat import COMPONENT_APPID
from simulator.services import sim_current_ticket, sim_push_ticket
from tests.campaigns.conftest import work


@pytest.mark.django_db(transaction=True)
def test_the_readme_demo_campaign_over_the_food_merchants_reaches_review(live_server, settings, redis_db):
    settings.SIMULATOR = True
    settings.WECHAT_API_BASE = live_server.url + "/sim"
    for command in ("seed_demo", "seed_demo_wechat", "seed_demo_fleet"):
        call_command(command)
    account = PlatformAccount.objects.get(component_appid=COMPONENT_APPID)
    sim_push_ticket(COMPONENT_APPID)  # what the running demo's simulator pushes every few minutes
    ComponentTicket.objects.update_or_create(
        account=account, defaults={"ticket": sim_current_ticket(COMPONENT_APPID)}
    )
    redis_db.flushdb()
    template = CodeTemplate.objects.get(account=account)
    dev, manager = Client(), Client()
    dev.force_login(User.objects.get(username="dev"))
    manager.force_login(User.objects.get(username="manager"))
    fields = {
        "platform_account": account.pk,
        "template_id": str(template.template_id),
        "version": template.user_version,
        "target_kind": "tags",
        "tags": "industry:food",
        "ext_json": '{"extAppid": "{{ appid }}", "ext": {"merchant": "{{ merchant_name }}"}}',
        "review_notes": "Order ahead and loyalty points for {{ merchant_name }}.",
        "build_report": '{"first_screen_ms": 1400}',
    }
    dry_run = dev.post("/campaigns/new", {**fields, "preview": "1"}).content.decode()
    assert "10 apps are targeted." in dry_run and "0 apps would be held back" in dry_run

    dev.post("/campaigns/new", fields)
    campaign = Campaign.objects.get()
    dev.post(f"/campaigns/{campaign.pk}/start")
    work()
    campaign_drive(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.AWAITING_APPROVAL
    assert list(campaign.entries.exclude(held="").values_list("held", "last_error")) == []

    manager.post(f"/campaigns/{campaign.pk}/approve")
    work()
    assert Release.objects.filter(campaign_entry__campaign=campaign, state=State.SUBMITTED).count() == 10
