"""The whole journey of a release in a real browser, as two people do it.

dev writes a release and runs its checks; manager approves and submits it; the platform's
rejection (typed in by the manager, as on the manual platform) turns dev's open page to
rejected without a reload; dev completes the remediation; manager resubmits, records the
approval and publishes. Every step is a screenshot under artifacts/browser/.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
WAIT_MS = 15_000
REJECTION = "1:服务类目不符:<br>(1):小程序实际运营内容与所选服务类目不符<br>"


def _login(browser, live_server, username, password):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return page


def _press(page, name):
    page.get_by_role("button", name=re.compile(name)).first.click()
    page.wait_for_load_state()


def _state(page):
    return page.locator("h1 .badge").inner_text().strip()


@pytest.mark.django_db(transaction=True)
def test_a_release_goes_from_draft_to_published_through_a_rejection(
    browser, live_server, shots, app, alice, mike
):
    for user in (alice, mike):
        user.set_password("journey-pw")
        user.save()

    dev = _login(browser, live_server, "alice", "journey-pw")
    shots(dev, "dashboard")
    dev.goto(f"{live_server.url}/apps/{app.pk}/")
    dev.get_by_role("link", name="New release").click()
    dev.get_by_label("Version").fill("1.0.0")
    dev.get_by_label(re.compile("^Release notes")).fill("Points: earn points on every order.")
    dev.get_by_label(re.compile("^Review notes")).fill(
        "New points page under 我的 > 积分; granted after payment."
    )
    dev.get_by_label(re.compile("^Total size")).fill("1800")
    dev.get_by_label(re.compile("^Main package")).fill("1100")
    dev.get_by_label(re.compile("^Subpackages")).fill("packageOrder 700")
    dev.get_by_label(re.compile("^Pages")).fill("pages/index/index\npages/points/points")
    dev.get_by_label(re.compile("^First screen")).fill("1200")
    dev.get_by_label(re.compile("^Error monitoring")).fill("Sentry")
    shots(dev, "new-release-form")
    _press(dev, "Create")
    assert _state(dev) == "Draft"
    release_url = dev.url

    while dev.get_by_role("button", name="Confirm: done").count():
        _press(dev, "Confirm: done")
    _press(dev, "Run checks")
    expect(dev.locator("h1 .badge")).to_have_text("Checked", timeout=WAIT_MS)
    shots(dev, "checked")
    assert dev.get_by_role("button", name=re.compile("^Approve")).count() == 0  # the author never approves

    manager = _login(browser, live_server, "mike", "journey-pw")
    manager.goto(release_url)
    _press(manager, "^Approve revision")
    _press(manager, "Submit for review")
    assert _state(manager) == "In review"
    shots(manager, "submitted")

    dev.goto(release_url)
    dev.evaluate("window.__sameDocument = true")
    manager.get_by_label("The platform's decision").select_option("rejected")
    manager.get_by_label(re.compile("^Reason")).fill(REJECTION)
    _press(manager, "Record review outcome")
    expect(dev.locator("h1 .badge")).to_have_text("Rejected", timeout=WAIT_MS)
    assert dev.evaluate("window.__sameDocument") is True  # it turned rejected live, without a reload
    dev.wait_for_selector("#remediation-title", timeout=WAIT_MS)
    shots(dev, "rejected-live")

    refused = manager
    refused.goto(release_url)
    assert refused.get_by_role("button", name="Submit for review").is_disabled()
    while dev.get_by_role("button", name="Mark done").count():
        before = dev.get_by_role("button", name="Mark done").count()
        dev.get_by_role("button", name="Mark done").first.locator("xpath=..").locator(
            "textarea[name=note]"
        ).fill("Category changed to 餐饮 in the console; features match it now.")
        _press(dev, "Mark done")
        assert dev.get_by_role("button", name="Mark done").count() < before
    shots(dev, "remediation-done")

    manager.goto(release_url)
    _press(manager, "Submit for review")
    assert _state(manager) == "In review"
    manager.get_by_label("The platform's decision").select_option("approved")
    _press(manager, "Record review outcome")
    assert _state(manager) == "Approved by platform"
    manager.get_by_role("link", name=re.compile("^Publish")).click()  # what it does, then confirm
    manager.wait_for_load_state()
    shots(manager, "publish-confirmation")
    _press(manager, "^Yes, publish")
    assert _state(manager) == "Published"
    manager.get_by_role("heading", name="Audit trail").click()  # history is folded: open it
    manager.get_by_role("heading", name="Audit trail").scroll_into_view_if_needed()
    shots(manager, "published")
    # The trail names each action in words; its code is the cell's data-action.
    trail = (
        manager.locator("table")
        .last.locator("td[data-action]")
        .evaluate_all("cells => cells.map(c => c.dataset.action)")
    )
    for action in (
        "create",
        "check",
        "approve",
        "submit",
        "review_rejected",
        "remediation_done",
        "publish_succeeded",
    ):
        assert action in trail
