"""One version on WeChat and Douyin side by side, in a real browser (issue 16): the group page runs
the checks, one approval covers both, both are submitted; Douyin rejects while WeChat approves;
WeChat is published; Douyin is remediated and resubmitted on its own release page, then published.
Both platforms are the simulators over HTTP; the platform steps run as the worker would."""

import re
import threading

import django_rq
import pytest
from django.db import connections
from playwright.sync_api import expect

from releases import services
from releases.group_services import group_members, release_group_create
from releases.models import CheckRun, State
from reviews.polling import review_ask
from simulator.douyin import operations as douyin
from simulator.douyin import state as douyin_state
from simulator.services import sim_decide
from tests.conftest import GOOD_NOTES, GOOD_REPORT
from tests.fixtures.douyin import DY_APPID, ten_seconds_later

pytestmark = pytest.mark.browser
WAIT_MS = 20_000


def _work() -> None:
    """Run the queued platform steps on another thread with its own connection (a worker)."""

    def run():
        try:
            queue = django_rq.get_queue("platform")
            for job in queue.jobs:
                queue.remove(job)
                job.perform()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)


def _login(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("group-pw")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return page


def _press(page, name):
    page.get_by_role("button", name=re.compile(name)).first.click()
    page.wait_for_load_state()


def _state(page, platform):
    return page.locator(f"tr[data-platform={platform}] .badge").inner_text().strip()


@pytest.mark.django_db(transaction=True)
def test_douyin_rejects_wechat_approves_wechat_ships_douyin_is_fixed_and_ships(
    browser, live_server, shots, sim, douyin_sim, alice, mike
):
    for user in (alice, mike):
        user.set_password("group-pw")
        user.save()
    group = release_group_create(
        apps=[sim.app, douyin_sim.app],
        actor=alice,
        version="2.0.0",
        release_notes="Loyalty stamps on WeChat and Douyin.",
        review_notes=GOOD_NOTES,
        build_report=GOOD_REPORT,
    )
    wechat, dy = sorted(group_members(group), key=lambda r: r.app.platform_account.platform != "wechat")
    dy = services.release_update(
        release=dy, actor=alice, changes={"template_id": "7", "ext_json": {"extAppid": DY_APPID}}
    )
    for release in (wechat, dy):
        for item in release.app.checklist:
            services.release_confirm_check(release=release, actor=alice, key=item["key"])
    url = f"{live_server.url}/release-groups/{group.pk}/"

    dev = _login(browser, live_server, "alice")
    dev.goto(url)
    shots(dev, "group-draft")
    _press(dev, "Run checks")
    for run in CheckRun.objects.filter(finished_at__isnull=True):
        services.release_check_finish(run_id=run.pk)  # the slow checks, as the worker would
    dev.reload()
    assert (_state(dev, "wechat"), _state(dev, "douyin")) == ("Checked", "Checked")

    manager = _login(browser, live_server, "mike")
    manager.goto(url)
    _press(manager, "^Approve")  # one approval covers both platforms
    _press(manager, "Submit for review")
    _work()
    manager.reload()
    assert (_state(manager, "wechat"), _state(manager, "douyin")) == ("In review", "In review")
    shots(manager, "both-in-review")

    douyin.decide(DY_APPID, approve=False, reason="小程序服务类目与实际不符")  # pushed to Sluice
    wechat.refresh_from_db()
    sim_decide(auditid=int(wechat.platform_audit_id), outcome="approved")
    review_ask(wechat, source="poll")
    manager.reload()
    assert (_state(manager, "wechat"), _state(manager, "douyin")) == ("Approved by platform", "Rejected")
    shots(manager, "douyin-rejected-wechat-approved")

    _press(manager, "^Publish")  # WeChat goes ahead: Douyin's rejection does not hold it
    _work()
    manager.reload()
    assert (_state(manager, "wechat"), _state(manager, "douyin")) == ("Published", "Rejected")
    shots(manager, "wechat-published")

    dev.goto(f"{live_server.url}/releases/{dy.pk}/")
    dev.wait_for_selector("#remediation-title", timeout=WAIT_MS)
    while dev.get_by_role("button", name="Mark done").count():
        dev.get_by_role("button", name="Mark done").first.locator("xpath=..").locator(
            "textarea[name=note]"
        ).fill("服务类目已改为餐饮 > 点餐平台，功能与类目一致。")
        _press(dev, "Mark done")
    shots(dev, "douyin-remediated")
    ten_seconds_later()  # Douyin takes one submission per 10 s
    manager.goto(f"{live_server.url}/releases/{dy.pk}/")
    _press(manager, "Submit for review")
    _work()
    assert douyin_state.load("app", DY_APPID)["audit"]["status"] == 0  # in review again on Douyin
    douyin.decide(DY_APPID, approve=True)
    manager.goto(url)
    expect(manager.locator("tr[data-platform=douyin] .badge")).to_have_text("Approved by platform")
    _press(manager, "^Publish")
    _work()
    manager.reload()
    assert (_state(manager, "wechat"), _state(manager, "douyin")) == ("Published", "Published")
    assert dy.__class__.objects.get(pk=dy.pk).state == State.PUBLISHED
    shots(manager, "both-published")
