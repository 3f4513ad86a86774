"""The release page reads at a glance (issue 15): at 1440x900 a typical release fits in two
screens, in English and in Chinese, whatever its state; what happens next comes first; a disabled
button lists every blocker. Screenshots under artifacts/browser/."""

import pytest

from releases import services
from web.language import set_preferred_language

pytestmark = pytest.mark.browser
SCREEN = {"width": 1440, "height": 900}
REASON = "1:隐私政策不完善:<br>(1):未说明获取位置信息的用途<br>2:首屏加载时间过长"


def _page(browser, live_server, user, language):
    user.set_password("layout-pw")
    user.save()
    set_preferred_language(user, language)
    page = browser.new_context(viewport=SCREEN).new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "layout-pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.fixture
def stories(make_release, mike):
    """A release in each state a person meets most: a draft with open checks, one waiting for
    approval, one rejected with its remediation, one in review, one published."""
    rejected = make_release("1.1.0", upto="submitted")
    services.release_record_outcome(release=rejected, actor=mike, outcome="rejected", reason=REASON)
    return {
        "draft": make_release("1.2.0"),
        "checked": make_release("1.3.0", upto="checked"),
        "rejected": rejected,
        "published": make_release("1.0.0", upto="published"),
        "submitted": make_release("1.4.0", upto="submitted"),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_typical_release_fits_in_two_screens(browser, live_server, shots, stories, mike, language):
    page = _page(browser, live_server, mike, language)
    heights = {}
    for name, release in stories.items():
        page.goto(f"{live_server.url}/releases/{release.pk}/")
        page.wait_for_load_state()
        shots(page, f"{name}-{language}")
        heights[name] = page.evaluate("document.documentElement.scrollHeight")
        first = page.locator("main h2").first.inner_text()
        assert first in ("What happens next", "下一步"), (name, first)
    assert {name: h for name, h in heights.items() if h > 2 * SCREEN["height"]} == {}, heights


@pytest.mark.django_db(transaction=True)
def test_a_disabled_submit_lists_every_blocker(browser, live_server, make_release, mike, shots):
    """Rejected twice for the same reason: the 24-hour lock shows beside the open remediation."""
    for version in ("1.0.0", "1.1.0"):
        rejected = make_release(version, upto="submitted")
        services.release_record_outcome(release=rejected, actor=mike, outcome="rejected", reason=REASON)
    page = _page(browser, live_server, mike, "en")
    page.goto(f"{live_server.url}/releases/{rejected.pk}/")
    blockers = page.locator("#why-submit li")
    shots(page, "blockers")
    codes = [blockers.nth(i).get_attribute("data-code") for i in range(blockers.count())]
    assert codes == ["remediation_incomplete", "same_reason_lock"], codes
