"""A phased release in a real browser against the simulated WeChat (issue 12).

The manager publishes with a three-stage plan (after the confirmation page), monitoring reports a
JavaScript error rate above the app's threshold and the rollout halts on the open page; the
manager reverts it, publishes again, advances to 100% and rolls back, each step live on the
release page and in its audit trail. The platform steps run in an RQ worker (drained here, as
the worker process would); the simulator's log of the calls is saved next to the screenshots
(artifacts/browser/<test>/sim-calls.txt).
"""

import re
import threading

import django_rq
import pytest
import requests
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from releases.models import AuditEvent, State
from releases.tokens import api_token_create
from simulator.models import SimAuthorizer, SimCall
from simulator.services import sim_decide
from tests.browser.conftest import ARTIFACTS
from tests.reviews.wechat_helpers import released_version, submitted

pytestmark = pytest.mark.browser
WAIT_MS = 20_000


def _work() -> None:
    """Run the queued platform steps, on another thread with its own connection (a worker)."""

    def run():
        try:
            queue = django_rq.get_queue("platform")
            for job in queue.jobs:  # what `rqworker platform` would run (RQ's signals need the main thread)
                queue.remove(job)
                job.perform()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)


def _confirm(page, link: str, *, reason: str = "", plan: str = "") -> None:
    page.get_by_role("link", name=re.compile(link)).first.click()
    page.wait_for_load_state()
    if plan:
        page.get_by_label(re.compile("^Rollout plan")).fill(plan)
    if reason:
        page.get_by_label(re.compile("^Reason")).fill(reason)
    return page


def _yes(page, shots, name):
    shots(page, f"confirm-{name}")
    page.get_by_role("button", name=re.compile("^Yes")).click()
    page.wait_for_load_state()


def _press(page, name: str) -> None:
    page.get_by_role("button", name=re.compile(name)).first.click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_publish_in_stages_halt_on_a_breach_revert_publish_again_to_100_and_roll_back(
    browser, live_server, shots, sim, wechat_release, mike
):
    released_version(sim)  # 1.0.0 online on WeChat before this story
    online = wechat_release("1.0.0", audit_id="1", state=State.PUBLISHED)
    auditid = submitted(sim)
    sim_decide(auditid=auditid, outcome="approved")
    release = wechat_release("1.1.0", audit_id=str(auditid), state=State.APPROVED)
    sim.app.settings = {"health": {"metrics": {"js_error_rate": {"max": 0.02}}}}
    sim.app.save()
    SimCall.objects.all().delete()  # the log shows this story's calls only
    client = Client()
    client.force_login(mike)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    url = f"{live_server.url}/releases/{release.pk}/"
    page.goto(url)
    shots(page, "approved")

    # 1. Publish with a three-stage plan, after the confirmation page.
    _confirm(page, "^Publish", plan="5:1, 20:1, 100")
    assert "Who is affected" in page.content()
    _yes(page, shots, "publish")
    _work()
    expect(page.locator(".rollout-percentage")).to_have_text("5%", timeout=WAIT_MS)  # live, no reload
    expect(page.locator("h1 .badge")).to_have_text("Phased release", timeout=WAIT_MS)
    shots(page, "stage-1-5-percent")
    assert (SimAuthorizer.objects.get().gray_percentage, SimAuthorizer.objects.get().gray_status) == (5, 1)

    # 2. Monitoring reports a JavaScript error rate above the threshold: the rollout halts.
    token = api_token_create(user=mike)
    answer = requests.post(
        f"{live_server.url}/api/v1/releases/{release.pk}/health",
        json={"metric": "js_error_rate", "value": 0.031},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.json()["rollout"]["status"] == "halted"
    expect(page.locator(".halt-reason")).to_contain_text("above the threshold of 0.02", timeout=WAIT_MS)
    shots(page, "halted-by-health-gate")

    # 3. Revert the phased release: the 5% go back to 1.0.0, the release is approved again.
    _confirm(page, "^Revert phased release", reason="JS errors at 3.1% after the 5% stage")
    _yes(page, shots, "revert")
    _work()
    expect(page.locator("h1 .badge")).to_have_text("Approved by platform", timeout=WAIT_MS)
    expect(page.locator("[data-rollout-status]")).to_have_attribute("data-rollout-status", "reverted")
    shots(page, "reverted")
    assert SimAuthorizer.objects.get().gray_status == 4

    # 4. Publish again, advance stage by stage to 100%.
    _confirm(page, "^Publish", plan="5:1, 20:1, 100")
    _yes(page, shots, "publish-again")
    _work()
    expect(page.locator(".rollout-percentage")).to_have_text("5%", timeout=WAIT_MS)
    _press(page, "^Advance to the next stage")
    _work()
    expect(page.locator(".rollout-percentage")).to_have_text("20%", timeout=WAIT_MS)
    shots(page, "stage-2-20-percent")
    _press(page, "^Advance to the next stage")
    _work()
    expect(page.locator("h1 .badge")).to_have_text("Published", timeout=WAIT_MS)
    expect(page.locator(".rollout-percentage")).to_have_text("100%", timeout=WAIT_MS)
    shots(page, "published-100-percent")

    # 5. Roll back to 1.0.0, with the constraints shown and a reason.
    _confirm(page, "^Roll back", reason="Checkout conversion dropped 12% on 1.1.0")
    assert page.locator(".constraints .ok").count() == 3
    _yes(page, shots, "rollback")
    _work()
    expect(page.locator("h1 .badge")).to_have_text("Rolled back", timeout=WAIT_MS)
    page.locator("#audit-title").click()  # the history is folded on the release page: open it
    page.locator("#audit-title").scroll_into_view_if_needed()
    shots(page, "rolled-back-audit-trail")
    # The action codes, whatever language the trail's labels are in (a cell keeps its code).
    audit = page.locator("table.audit").inner_text() + " ".join(
        page.locator("table.audit td[data-action]").evaluate_all("cells => cells.map(c => c.dataset.action)")
    )
    for action in ("publish", "stage_succeeded", "health_breach", "rollout_halt", "rollout_revert"):
        assert action in audit
    for action in ("revert_phased_succeeded", "rollout_advance", "publish_succeeded", "rollback_succeeded"):
        assert action in audit
    page.goto(f"{live_server.url}/audit/")
    shots(page, "audit-browser")

    actions = list(AuditEvent.objects.filter(release_id=release.pk).values_list("action", flat=True))
    assert actions.count("publish") == 2 and actions.count("rollout_advance") == 2
    assert online.pk != release.pk
    calls = SimCall.objects.order_by("at", "pk")
    story = [
        f"{c.method} /{c.path}"
        + "".join(f" {key}={value}" for key, value in c.query.items() if key != "access_token")
        + (f" {c.body}" if c.body and c.body != "{}" else "")
        + f" -> {c.errcode}"
        for c in calls
        if "token" not in c.path
    ]
    (
        ARTIFACTS / "test_publish_in_stages_halt_on_a_breach_revert_publish_again_to_100_and_roll_back"
    ).joinpath("sim-calls.txt").write_text("\n".join(story) + "\n")
    paths = [line.split(" ")[1] for line in story]
    assert paths.count("/wxa/grayrelease") == 3  # 5%, then 5% and 20% again
    assert paths.count("/wxa/revertgrayrelease") == 1 and paths.count("/wxa/release") == 1
    assert [
        p
        for p, line in zip(paths, story, strict=True)
        if p == "/wxa/revertcoderelease" and "action" not in line
    ]
