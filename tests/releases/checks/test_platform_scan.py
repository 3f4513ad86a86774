"""The platform's own privacy scan: run in the worker through the adapter hook, skipped when not offered."""

import pytest

from releases import services
from releases.models import App, PlatformAccount, State
from releases.platforms import PlatformAdapter

FINDINGS = [
    {"api": "wx.onLocationChange", "problem": "without_auth", "message": "not in the privacy guideline"}
]


class ScanningAdapter(PlatformAdapter):
    """The network edge, faked: a platform whose scan finds what the test puts in `found`."""

    found: list | None = []

    def privacy_scan(self, release):
        return self.found


@pytest.fixture
def scanned_app(team, settings):
    settings.SLUICE_PLATFORM_ADAPTERS = {
        **settings.SLUICE_PLATFORM_ADAPTERS,
        "wechat": f"{__name__}.ScanningAdapter",
    }
    account = PlatformAccount.objects.create(team=team, platform="wechat", name="Scanned")
    yield App.objects.create(team=team, platform_account=account, name="Scanned", appid="wxscan0001")
    ScanningAdapter.found = []


def test_the_manual_platform_offers_no_scan_so_the_check_passes_with_a_note(run_check):
    outcome = run_check("platform_privacy_scan")
    assert outcome.passed
    assert "not offered by this platform" in outcome.message


def test_findings_of_the_scan_fail_the_check_in_the_worker(
    scanned_app, make_release, alice, tick_checklist, drain, django_capture_on_commit_callbacks
):
    ScanningAdapter.found = FINDINGS
    release = tick_checklist(make_release(app=scanned_app), alice)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.release_check(release=release, actor=alice)
    assert run.results.get(key="platform_privacy_scan").status == "pending"
    drain()
    result = run.results.get(key="platform_privacy_scan")
    assert result.status == "failed"
    assert result.evidence == {"items": FINDINGS}
    assert "wx.onLocationChange: not in the privacy guideline" in result.message
    release.refresh_from_db()
    assert release.state == State.DRAFT


def test_a_clean_scan_passes_and_lets_the_release_move_on(
    scanned_app, make_release, alice, tick_checklist, drain, django_capture_on_commit_callbacks
):
    ScanningAdapter.found = []
    release = tick_checklist(make_release(app=scanned_app), alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_check(release=release, actor=alice)
    drain()
    release.refresh_from_db()
    assert release.state == State.CHECKED


def test_a_scan_that_cannot_be_read_is_an_error_that_blocks(
    scanned_app, make_release, alice, tick_checklist, drain, django_capture_on_commit_callbacks
):
    ScanningAdapter.found = None
    release = tick_checklist(make_release(app=scanned_app), alice)

    def broken(self, release):
        raise RuntimeError("61039 privacy check task not finished")

    ScanningAdapter.privacy_scan, original = broken, ScanningAdapter.privacy_scan
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.release_check(release=release, actor=alice)
        drain()
    finally:
        ScanningAdapter.privacy_scan = original
    result = run.results.get(key="platform_privacy_scan")
    assert result.status == "error" and "61039" in result.message
    release.refresh_from_db()
    assert release.state == State.DRAFT
