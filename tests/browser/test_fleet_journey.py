"""The fleet journey of issue 14 in a real browser against the simulated WeChat, as one test.

Adam, a team admin, creates an authorization link on the WeChat account's page, opens the
simulator's authorization page from it and authorizes a new mini program; once the push is handled
the app is in the team. He then creates a campaign over every app of the account (that one and 29
others) from the form, after a dry-run preview, and starts it; Mike, a release manager who did
neither, approves it once; it submits in waves; each app's experience QR code shows on the page;
the simulator rejects 5 apps (the new one among them) for one reason; they show as one group,
remediated with one note and resubmitted together; every app is published. The driver and the
platform steps run in an RQ worker (drained here, as the worker would). Screenshots under
artifacts/browser/.
"""

import json
import re
import threading

import django_rq
import pytest
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from releases.campaigns.driver import campaign_drive
from releases.campaigns.models import Campaign, CampaignState
from releases.models import App, Release, State
from simulator.fleet import sim_add_draft
from simulator.models import SimSubmission
from simulator.services import sim_configure, sim_decide
from tests.campaigns.conftest import fleet  # noqa: F401 (the fixture)
from tests.conftest import GOOD_REPORT
from tests.fixtures.wechat import COMPONENT_APPID
from tests.reviews.wechat_helpers import REJECTION

pytestmark = pytest.mark.browser
WAIT_MS = 20_000
NOTE = "Account name and avatar now match the merchant's licence."
NEW_APPID = "wxbrowsershop001"


def _work(campaign_id: int | None = None) -> None:
    """A driver run (if asked), then every queued job until none is left, on a worker thread."""

    def run():
        try:
            if campaign_id is not None:
                campaign_drive(campaign_id)
            queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
            for _ in range(20):
                jobs = [job for queue in queues for job in queue.jobs]
                if not jobs:
                    break
                for queue in queues:
                    for job in queue.jobs:
                        queue.remove(job)
                        job.perform()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)


def _page_for(browser, live_server_url, user, locale="en-US"):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server_url}]
    )
    return context.new_page()


def _press(page, name: str) -> None:
    page.get_by_role("button", name=re.compile(name)).first.click()
    page.wait_for_load_state()


def _authorize_through_the_simulator(page, sim, shots) -> App:
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/")
    page.get_by_role("button", name="Create an authorization link").click()
    page.wait_for_load_state()
    expect(page.locator(".qr-pair svg")).to_have_count(2)
    shots(page, "authorization-link")
    page.get_by_role("link", name="Open the authorization page").click()
    page.wait_for_load_state()
    page.locator("#appid").fill(NEW_APPID)
    page.locator("#nick_name").fill("Browser Shop")
    shots(page, "simulator-authorization-page")
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("h1")).to_contain_text("Authorization received")
    shots(page, "authorized")
    _work()  # the push's exchange: api_query_auth, api_get_authorizer_info
    app = App.objects.get(appid=NEW_APPID)
    assert (app.name, app.team_id) == ("Browser Shop", sim.account.team_id)
    page.goto(f"{sim.url}/apps/{app.pk}/")
    expect(page.get_by_text("Authorized", exact=True)).to_have_count(1)
    return app


@pytest.mark.django_db(transaction=True)
def test_an_app_authorized_in_the_simulator_joins_a_campaign_of_30_and_5_rejected_are_fixed_as_a_group(
    browser,
    sim,
    shots,
    fleet,  # noqa: F811 (the imported fixture)
    adam,
    mike,
    settings,
):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 10
    settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE = {"*": 100}
    sim_configure(quota_limit=100)
    others = fleet(29)
    page = _page_for(browser, sim.url, adam)

    # 1. Adam authorizes a new mini program through the simulator's authorization page.
    new_app = _authorize_through_the_simulator(page, sim, shots)

    # 2. He creates a campaign over every app of the account (30), sees its plan, and starts it.
    page.goto(f"{sim.url}/campaigns/new")
    page.get_by_label("Template ID").fill("7")
    page.get_by_label("Version", exact=True).fill("2.0.0")
    page.get_by_label("Review notes template").fill("Menu and ordering for {{ merchant_name }}.")
    page.get_by_label("Build report of the template").fill(json.dumps(GOOD_REPORT))
    page.get_by_label("Reserve for urgent fixes").fill("2")
    _press(page, "^Preview a few apps")
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("30 apps are targeted.")
    expect(preview).to_contain_text("Menu and ordering for Browser Shop.")
    expect(preview).to_contain_text("0 apps would be held back")
    assert not Campaign.objects.exists()
    shots(page, "create-form-dry-run")
    _press(page, "^Create the campaign")
    expect(page.locator("#campaign-plan")).to_contain_text("30")
    shots(page, "draft-with-plan")
    campaign = Campaign.objects.get()
    assert campaign.entries.filter(app=new_app).exists() and campaign.entries.count() == len(others) + 1
    _press(page, "^Start")
    _work(campaign.pk)
    _work(campaign.pk)
    page.reload()
    expect(page.locator("h1")).to_contain_text("Awaiting approval")
    shots(page, "checked-awaiting-approval")

    # 3. Mike approves once for every app; the waves go out (10 at a time).
    manager = _page_for(browser, sim.url, mike)
    manager.goto(f"{sim.url}/campaigns/{campaign.pk}/")
    _press(manager, "^Approve for every app")
    for _ in range(4):
        _work(campaign.pk)
    expect(manager.locator("#campaign-counts")).to_contain_text("30 In review", timeout=WAIT_MS)
    _work(campaign.pk)  # a driver run after the commits fetches each app's experience QR code
    manager.reload()
    codes = manager.locator("#campaign-apps .qr-cell img")
    expect(codes).to_have_count(30)
    codes.first.scroll_into_view_if_needed()
    manager.wait_for_function(
        "() => { const i = document.querySelector('#campaign-apps .qr-cell img'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    shots(manager, "all-in-review-with-qr-codes")

    # 4. The simulator rejects 5 for one reason (the new app among them) and approves the rest.
    submitted = Release.objects.filter(state=State.SUBMITTED).order_by("app__appid")
    rejected = [release.app.appid for release in submitted[:5]]
    assert NEW_APPID in rejected
    for n, release in enumerate(submitted):
        outcome, reason = ("rejected", REJECTION) if n < 5 else ("approved", "")
        sim_decide(auditid=int(release.platform_audit_id), outcome=outcome, reason=reason)
    _work()
    manager.reload()
    group = manager.locator("#campaign-groups .group")
    expect(group).to_contain_text("5 apps: Account information")
    expect(group).to_contain_text("Browser Shop")
    shots(manager, "rejection-group")

    # 5. One note remediates the group; it is resubmitted together, with that note as feedback_info.
    group.get_by_label("What was fixed").fill(NOTE)
    _press(manager, "^Remediate the group")
    _press(manager, "^Resubmit the group")
    _work(campaign.pk)
    resubmitted = SimSubmission.objects.filter(status=SimSubmission.Status.IN_REVIEW)
    assert sorted(s.authorizer.appid for s in resubmitted.select_related("authorizer")) == sorted(rejected)
    for submission in resubmitted:
        sim_decide(auditid=submission.auditid, outcome="approved")
    _work()
    manager.reload()
    expect(manager.locator("#campaign-counts")).to_contain_text("30 Approved by platform")
    shots(manager, "all-approved")

    # 6. Publish all.
    _press(manager, "^Publish the approved apps")
    for _ in range(4):
        _work(campaign.pk)
    manager.reload()
    expect(manager.locator("#campaign-counts")).to_contain_text("30 Published")
    expect(manager.locator("h1")).to_contain_text("Done")
    shots(manager, "published-done")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE
    assert Release.objects.filter(state=State.PUBLISHED).count() == 30


def test_the_fleet_pages_read_in_chinese(browser, sim, shots, adam):
    sim_add_draft(COMPONENT_APPID, "3.1.0", "会员积分")
    page = _page_for(browser, sim.url, adam, locale="zh-CN")
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/")
    page.get_by_role("button", name="生成授权链接").click()
    page.wait_for_load_state()
    shots(page, "authorization-link-zh")
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/templates")
    page.get_by_role("button", name="从微信同步").click()
    page.wait_for_load_state()
    page.get_by_role("button", name=re.compile("添加到模板库")).click()
    page.wait_for_load_state()
    expect(page.locator("table").first.get_by_text("3.1.0")).to_have_count(1)
    shots(page, "templates-zh")
