"""A campaign over 30 apps in a real browser against the simulated WeChat (issue 14).

Alice creates it from the form and starts it; Mike, a release manager who did neither, approves
it once; it submits in waves (the page counts live); the simulator rejects 5 apps for one reason;
they show as one group, remediated with one note and resubmitted together; every app is published.
The driver and the platform steps run in an RQ worker (drained here, as the worker would).
(Authorizing an app through the simulator's authorization page is the onboarding half of the
issue, built beside this one.)
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
from releases.models import Release, State
from simulator.models import SimSubmission
from simulator.services import sim_configure, sim_decide
from tests.campaigns.conftest import fleet  # noqa: F401 (the fixture)
from tests.conftest import GOOD_REPORT
from tests.reviews.wechat_helpers import REJECTION

pytestmark = pytest.mark.browser
WAIT_MS = 20_000
NOTE = "Account name and avatar now match the merchant's licence."


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


def _page_for(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def _press(page, name: str) -> None:
    page.get_by_role("button", name=re.compile(name)).first.click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_a_campaign_over_30_apps_with_5_rejected_for_one_reason_is_remediated_as_a_group_and_published(
    browser,
    live_server,
    shots,
    sim,
    fleet,  # noqa: F811 (the imported fixture)
    alice,
    mike,
    settings,
):
    settings.SLUICE_CAMPAIGN_WAVE_SIZE = 10
    settings.SLUICE_CAMPAIGN_CALLS_PER_MINUTE = {"*": 100}
    sim_configure(quota_limit=100)
    apps = fleet(30)
    page = _page_for(browser, live_server, alice)

    # 1. Alice creates the campaign from the form, sees its plan, and starts it.
    page.goto(f"{live_server.url}/campaigns/new")
    page.get_by_label("Template ID").fill("7")
    page.get_by_label("Version", exact=True).fill("2.0.0")
    page.get_by_label("Review notes template").fill("Menu and ordering for {{ merchant_name }}.")
    page.get_by_label("Build report of the template").fill(json.dumps(GOOD_REPORT))
    page.get_by_label("Reserve for urgent fixes").fill("2")
    shots(page, "create-form")
    _press(page, "^Create the campaign")
    expect(page.locator("#campaign-plan")).to_contain_text("30")
    shots(page, "draft-with-plan")
    campaign = Campaign.objects.get()
    _press(page, "^Start")
    _work(campaign.pk)
    _work(campaign.pk)
    page.reload()
    expect(page.locator("h1")).to_contain_text("Awaiting approval")
    shots(page, "checked-awaiting-approval")

    # 2. Mike approves once for every app; the waves go out (10 at a time).
    manager = _page_for(browser, live_server, mike)
    manager.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    _press(manager, "^Approve for every app")
    for _ in range(4):
        _work(campaign.pk)
    expect(manager.locator("#campaign-counts")).to_contain_text("30 In review", timeout=WAIT_MS)
    shots(manager, "all-in-review")

    # 3. The simulator rejects 5 for one reason and approves the rest.
    for n, release in enumerate(Release.objects.filter(state=State.SUBMITTED).order_by("app__appid")):
        outcome, reason = ("rejected", REJECTION) if n < 5 else ("approved", "")
        sim_decide(auditid=int(release.platform_audit_id), outcome=outcome, reason=reason)
    _work()
    manager.reload()
    group = manager.locator("#campaign-groups .group")
    expect(group).to_contain_text("5 apps: Account information")
    shots(manager, "rejection-group")

    # 4. One note remediates the group; it is resubmitted together, with that note as feedback_info.
    group.get_by_label("What was fixed").fill(NOTE)
    _press(manager, "^Remediate the group")
    _press(manager, "^Resubmit the group")
    _work(campaign.pk)
    resubmitted = SimSubmission.objects.filter(status=SimSubmission.Status.IN_REVIEW)
    assert resubmitted.count() == 5
    for submission in resubmitted:
        sim_decide(auditid=submission.auditid, outcome="approved")
    _work()
    manager.reload()
    expect(manager.locator("#campaign-counts")).to_contain_text("30 Approved by platform")
    shots(manager, "all-approved")

    # 5. Publish all.
    _press(manager, "^Publish the approved apps")
    for _ in range(4):
        _work(campaign.pk)
    manager.reload()
    expect(manager.locator("#campaign-counts")).to_contain_text("30 Published")
    expect(manager.locator("h1")).to_contain_text("Done")
    shots(manager, "published-done")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DONE
    assert len(apps) == Release.objects.filter(state=State.PUBLISHED).count() == 30
