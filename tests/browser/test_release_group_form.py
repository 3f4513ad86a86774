"""Creating a release group from the pages (issue 16): from a Douyin app's page, tick its WeChat
twin, type the version and notes once; a mistake is shown in place and the typed text kept; then
the group page shows one draft per platform. Read in Chinese as well."""

import re

import pytest
from playwright.sync_api import expect

from releases.models import ReleaseGroup
from tests.conftest import GOOD_NOTES
from web.language import set_preferred_language

pytestmark = pytest.mark.browser
WAIT_MS = 20_000


def _login(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("group-pw")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return page


@pytest.mark.django_db(transaction=True)
def test_a_developer_ships_one_version_to_wechat_and_douyin_from_the_pages(
    browser, live_server, shots, alice, wechat_app, douyin_app
):
    alice.set_password("group-pw")
    alice.save()
    page = _login(browser, live_server, "alice")
    page.goto(f"{live_server.url}/apps/{douyin_app.pk}/")
    page.get_by_role("link", name="Ship to several platforms…").click()
    page.wait_for_load_state()
    expect(page.get_by_label("Shop (Douyin)", exact=False)).to_be_checked()
    page.get_by_label("Shop (WeChat)", exact=False).check()
    page.get_by_label("Version").fill("two")
    page.get_by_label("Release notes").fill("Loyalty stamps")
    page.get_by_label("Review notes").fill(GOOD_NOTES)
    page.get_by_label("Total size (KB)").fill("1800")
    page.get_by_label("Hold the group on a rejection").check()
    shots(page, "form")
    page.get_by_role("button", name="Create the group").click()
    page.wait_for_load_state()
    expect(page.locator(".form-errors")).to_contain_text("The group was not created.")
    expect(page.get_by_label("Release notes")).to_have_value("Loyalty stamps")
    shots(page, "form-invalid")

    page.get_by_label("Version").fill("2.0.0")
    page.get_by_role("button", name="Create the group").click()
    page.wait_for_load_state()
    group = ReleaseGroup.objects.get()
    assert page.url.endswith(f"/release-groups/{group.pk}/") and group.hold_on_rejection
    for platform in ("wechat", "douyin"):
        expect(page.locator(f"tr[data-platform={platform}] .badge")).to_have_text("Draft", timeout=WAIT_MS)
    shots(page, "group")

    set_preferred_language(alice, "zh-hans")  # read at login
    page = _login(browser, live_server, "alice")
    page.goto(f"{live_server.url}/release-groups/new?app={douyin_app.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("同一版本，多个平台")
    shots(page, "form-zh")
