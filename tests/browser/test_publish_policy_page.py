"""A team admin sets the publish windows and a freeze in a real browser: from the calendar to the
policy page, a mistake marked on its row, then saved and shown on the calendar."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from releases.models import Team

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_an_admin_sets_windows_and_a_freeze_from_the_calendar(browser, live_server, shots, app, adam):
    client = Client()
    client.force_login(adam)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/calendar/")
    page.get_by_role("link", name="Edit windows and freezes").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish windows and freezes")

    window = page.locator("#window-1")
    for day in ("Mon", "Tue", "Wed", "Thu"):
        window.get_by_label(day).check()
    window.get_by_label("From").fill("10:00")
    window.get_by_label("To").fill("16:00")
    freeze = page.locator("#freeze-1")
    freeze.get_by_label("From").fill("2026-11-12T00:00")
    freeze.get_by_label("Until").fill("2026-11-09T00:00")  # before it starts
    freeze.get_by_label("Reason").fill("Double 11")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#freeze-1 .field-error")).to_have_text("The freeze must end after it starts.")
    expect(page.locator(".form-errors")).to_contain_text("Nothing was saved.")
    shots(page, "freeze-marked-in-place")
    assert Team.objects.get(pk=app.team_id).publish_policy in ({}, None)

    page.locator("#freeze-1").get_by_label("From").fill("2026-11-09T00:00")
    page.locator("#freeze-1").get_by_label("Until").fill("2026-11-12T00:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The publish windows and freezes are saved.")).to_be_visible()
    shots(page, "saved")
    policy = Team.objects.get(pk=app.team_id).publish_policy
    assert policy["windows"][0] == {"days": ["mon", "tue", "wed", "thu"], "from": "10:00", "to": "16:00"}
    assert policy["freezes"][0]["reason"] == "Double 11"
    page.goto(f"{live_server.url}/calendar/")
    expect(page.locator("#windows-title + p")).to_contain_text("mon, tue, wed, thu 10:00–16:00")
    shots(page, "calendar")
