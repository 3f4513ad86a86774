"""The privacy-policy check against real pages served by a live server (the demo policy pages)."""

import pytest

from releases.checks.privacy import sensitive_uses

LOCATION = {"permissions": ["scope.userLocation"], "apis": ["wx.getLocation"]}


@pytest.fixture
def serve_demo_pages(settings):
    """Demo pages are served in demo mode; the live server is on localhost, so allow private hosts."""
    settings.DEMO = True
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    settings.SLUICE_FETCH_TIMEOUT_SECONDS = 5


@pytest.fixture
def policy_at(app, live_server, serve_demo_pages):
    def point(path):
        app.privacy_policy_url = live_server.url + path
        app.save()
        return app.privacy_policy_url

    return point


def test_it_fails_when_the_policy_never_mentions_the_location_the_build_uses(run_check, policy_at):
    url = policy_at("/demo/privacy-policy/no-location/")
    outcome = run_check("privacy_policy", report_changes=LOCATION)
    assert not outcome.passed
    assert outcome.evidence["url"] == url and outcome.evidence["status"] == 200
    [missing] = outcome.evidence["missing"]
    assert missing["topic"] == "location"
    assert missing["because"] == ["scope.userLocation", "wx.getLocation"]
    assert {"位置", "地理位置", "定位", "location"} <= set(missing["looked_for"])
    assert "never mentions location" in outcome.message


def test_it_passes_when_the_policy_explains_every_sensitive_item(run_check, policy_at):
    policy_at("/demo/privacy-policy/")
    report = {"permissions": ["scope.userLocation"], "apis": ["wx.chooseMedia", "getPhoneNumber"]}
    outcome = run_check("privacy_policy", report_changes=report)
    assert outcome.passed, outcome.message
    found = {c["topic"]: c["found"]["text"] for c in outcome.evidence["covered"]}
    assert found == {"location": "位置", "phone_number": "手机号", "album": "相册"}


def test_a_policy_without_location_still_passes_a_build_that_does_not_use_it(run_check, policy_at):
    policy_at("/demo/privacy-policy/no-location/")
    outcome = run_check("privacy_policy", report_changes={"permissions": [], "apis": ["getPhoneNumber"]})
    assert outcome.passed, outcome.message


def test_a_page_that_is_not_there_fails_with_its_status(run_check, policy_at):
    policy_at("/demo/privacy-policy/gone/")
    outcome = run_check("privacy_policy", report_changes=LOCATION)
    assert not outcome.passed
    assert outcome.evidence["status"] == 404
    assert "answered HTTP 404, not 200" in outcome.message


def test_a_policy_behind_a_login_fails_even_though_the_login_page_answers_200(run_check, policy_at):
    policy_at("/")  # the app list: anonymous readers are redirected to /login/?next=/
    outcome = run_check("privacy_policy", report_changes={"permissions": [], "apis": []})
    assert not outcome.passed
    assert "redirects to a login page" in outcome.message
    assert outcome.evidence["final_url"].split("?")[0].endswith("/login/")


def test_it_refuses_a_private_address_unless_settings_allow_it(run_check, policy_at, settings):
    policy_at("/demo/privacy-policy/")
    settings.SLUICE_FETCH_ALLOW_PRIVATE = False
    outcome = run_check("privacy_policy", report_changes=LOCATION)
    assert not outcome.passed
    assert "private or local address" in outcome.message
    assert outcome.evidence["address"] in ("127.0.0.1", "::1")


def test_without_a_url_it_fails_only_a_build_that_uses_something_sensitive(run_check, app):
    assert app.privacy_policy_url == ""
    assert run_check("privacy_policy", report_changes={"permissions": [], "apis": []}).passed
    outcome = run_check("privacy_policy", report_changes={"apis": ["wx.getClipboardData"]})
    assert not outcome.passed
    assert "clipboard (wx.getClipboardData)" in outcome.message and "no privacy policy URL" in outcome.message


def test_the_mapping_knows_api_names_with_or_without_the_wx_prefix_and_ignores_harmless_ones():
    uses = sensitive_uses(
        {
            "permissions": ["scope.record", "scope.bluetooth"],
            "apis": ["startRecord", "wx.openBluetoothAdapter", "wx.request", "wx.navigateTo"],
        }
    )
    assert {topic.id: because for topic, because in uses} == {
        "microphone": ["scope.record", "startRecord"],
        "bluetooth": ["scope.bluetooth", "wx.openBluetoothAdapter"],
    }


def test_latin_words_must_start_a_word_so_allocation_is_not_location():
    from releases.checks.privacy import find_mention, load_topics

    location = next(t for t in load_topics() if t.id == "location")
    assert find_mention("We care about memory allocation.", location) is None
    assert find_mention("We use your Locations to find stores.", location)["text"] == "Location"
    assert find_mention("我们会获取您的地理位置信息", location)["word"] == "位置"
