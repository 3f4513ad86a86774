"""Notifications in a real browser: an admin configures a Feishu robot (the demo's stand-in),
sends a test and reads the platform's answer; a reviewer rejects the release in the WeChat
simulator; the rejection reaches the robot as a card and shows in the channel's delivery log.
Screenshots of every step under artifacts/browser/."""

import re

import django_rq
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from config.workers import SimpleWorker
from notify.models import Channel
from releases import services
from releases.models import Release
from robotsim.models import Robot

pytestmark = pytest.mark.browser
WAIT_MS = 15_000


def _work() -> None:
    """What the worker would do now: every queue, scheduled jobs due included, until empty."""
    queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
    for _ in range(4):
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=True)


def _login(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("sluice-demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return page


@pytest.mark.django_db(transaction=True)
def test_a_robot_is_configured_tested_and_tells_the_team_about_a_rejection(
    browser, live_server, shots, settings, monkeypatch
):
    port = live_server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("PORT", port)
    settings.SIMULATOR = True
    settings.DEMO = True  # the demo privacy policy the app's checks fetch
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    settings.WECHAT_API_BASE = f"{live_server.url}/sim"
    django_rq.get_queue("default").connection.flushdb()
    call_command("seed_demo")
    call_command("seed_demo_wechat")
    Robot.objects.create(vendor="feishu", name="Release group", secret="feishu-journey-secret")
    admin = _login(browser, live_server, "admin")

    admin.goto(f"{live_server.url}/sim/robots/")
    url = admin.locator(".robot-url").first.inner_text().strip()
    shots(admin, "robot-inbox-empty")

    admin.goto(f"{live_server.url}/notifications/")
    form = admin.locator("#channel-form")
    form.get_by_label("Kind").select_option("feishu")
    form.get_by_label("Name").fill("Release group")
    form.get_by_label("Webhook URL").fill(url)
    form.get_by_label("Signing secret").fill("feishu-journey-secret")
    form.get_by_label("Rejected", exact=True).check()
    form.get_by_label("Approved by the platform").check()
    shots(admin, "add-channel")
    form.get_by_role("button", name="Add channel").click()
    admin.wait_for_load_state()
    expect(admin.locator("h1")).to_contain_text("Release group")

    admin.get_by_role("button", name="Send a test").click()
    admin.wait_for_load_state()
    expect(admin.locator(".messages")).to_contain_text(
        'The platform answered 200: {"code": 0, "msg": "success"'
    )
    shots(admin, "test-sent")
    channel_url = admin.url.split("#")[0]
    assert "feishu-journey-secret" not in admin.content()

    release = Release.objects.get(app__appid="wxdemocafe0000001", version="1.0.0")
    dev, manager = release.author, release.app.team.memberships.get(user__username="manager").user
    for item in release.app.checklist:
        services.release_confirm_check(release=release, actor=dev, key=item["key"])
    services.release_check(release=release, actor=dev)
    _work()
    services.release_approve(release=Release.objects.get(pk=release.pk), actor=manager)
    services.release_submit(release=Release.objects.get(pk=release.pk), actor=manager)
    _work()
    assert Release.objects.get(pk=release.pk).state == "submitted"

    admin.goto(f"{live_server.url}/sim/console/")
    admin.locator("textarea").first.fill("1:小程序名称与服务内容不符:<br>(1):名称含有“官方”字样")
    shots(admin, "simulator-reject")
    admin.get_by_role("button", name="Reject").first.click()
    admin.wait_for_load_state()
    _work()
    assert Release.objects.get(pk=release.pk).state == "rejected"

    admin.goto(f"{live_server.url}/sim/robots/")
    card = admin.locator("#inbox .chat").first
    expect(card).to_contain_text("Demo Cafe 1.0.0 被拒绝", timeout=WAIT_MS)
    expect(card).to_contain_text("名称含有")
    expect(card.get_by_role("link", name="在 Sluice 中查看")).to_be_visible()
    shots(admin, "robot-inbox-rejection")

    admin.goto(channel_url)
    log = admin.locator("#deliveries")
    expect(log).to_contain_text("rejected")
    expect(log.locator("tr", has_text="rejected")).to_contain_text("Sent")
    shots(admin, "delivery-log")
    assert (
        Channel.objects.get(name="Release group").deliveries.filter(event="rejected", status="sent").exists()
    )
