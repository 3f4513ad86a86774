"""A release manager's day (issue 15, Done when), in a real browser, in English and in Chinese.

An admin adds the WeChat third-party platform account in the pages and pastes its callback URLs
into the (simulated) WeChat console, tests the connection; the release manager adds the app;
the developer creates a CI token on the tokens page and CI posts a build with miniprogram-ci's
upload result and app.json through the API; the developer writes the review notes, ticks the
checklist and runs the checks; a second person (the manager) approves and submits; WeChat's
reviewer rejects it with two screenshots in the simulator's console, and the developer's open page
turns rejected and shows the pictures; the developer completes the remediation, the manager
resubmits, the reviewer approves and the manager publishes through the confirmation page.

Selectors are the pages' form actions and field ids, so one journey reads both languages; the
state badge is compared with the state's label in the page's language. The worker's jobs run when
a person would wait for them (`_work`, as `rqworker` would): nothing sleeps, every wait is on a
condition. Screenshots: artifacts/browser/<test>/ (CI keeps artifacts/, see README).
"""

import django_rq
import pytest
import requests
from django.utils import translation
from playwright.sync_api import expect

from releases.models import App, PlatformAccount, Release, State
from reviews.models import ComponentTicket, RejectionScreenshot
from simulator.services import sim_push_ticket, sim_register_authorizer, sim_register_component
from tests.releases.test_builds import APP_JSON, UPLOAD_RESULT
from web.language import set_preferred_language

pytestmark = pytest.mark.browser
WAIT_MS = 15_000
COMPONENT = {
    "appid": "wxcomponentday01",
    "secret": "component-secret-day",
    "token": "day-message-token",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
APPID, REFRESH = "wxdaycafe000001", "refresh-day-1"
NOTES = "新增点餐页面：首页 > 点餐，下单后在 我的 > 订单 查看；测试账号 13800000000 / 123456。"
FIXED = "类目已改为 餐饮 > 点餐平台，页面功能与类目一致。"


def _work() -> int:
    """Run what the worker would, until nothing is queued (a job may queue another)."""
    done = 0
    queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
    while any(queue.count for queue in queues):
        for queue in queues:
            for job in queue.jobs:
                queue.remove(job)
                job.perform()
                done += 1
    return done


def _label(state: State, language: str) -> str:
    with translation.override(language):
        return str(state.label)


def _login(browser, live_server, username: str):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("day-pw")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return page


def _submit(page, selector: str) -> None:
    page.locator(selector).first.click()
    page.wait_for_load_state()


def _action(page, release_id: int, name: str) -> None:
    _submit(page, f'form[action="/releases/{release_id}/actions/{name}"] button[type=submit]')


def _state(page, release: Release, language: str, state: State) -> None:
    expect(page.locator("h1 .badge")).to_have_text(_label(state, language), timeout=WAIT_MS)


@pytest.fixture
def people(team, adam, mike, alice, django_user_model):
    reviewer = django_user_model.objects.create_user(username="reviewer", is_staff=True)
    for user in (adam, mike, alice, reviewer):
        user.set_password("day-pw")
        user.save()
    return {"adam": adam, "mike": mike, "alice": alice, "reviewer": reviewer}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_onboard_build_check_approve_reject_with_screenshots_remediate_resubmit_and_publish(
    browser, live_server, shots, settings, redis_db, team, people, language
):
    settings.SIMULATOR = True
    settings.WECHAT_API_BASE = live_server.url + "/sim"
    settings.DEMO = True  # the demo privacy policy answers the privacy check
    settings.SLUICE_FETCH_ALLOW_PRIVATE = True
    for user in people.values():
        set_preferred_language(user, language)

    # -- onboarding: the admin adds the account and pastes its callback URLs into WeChat's console
    admin = _login(browser, live_server, "adam")
    admin.goto(f"{live_server.url}/teams/{team.pk}/accounts/new")
    admin.locator("#id_platform").select_option("wechat")
    admin.locator("#id_name").fill("Cafe platform")
    admin.locator("#id_component_appid").fill(COMPONENT["appid"])
    admin.locator("#id_component_appsecret").fill(COMPONENT["secret"])
    admin.locator("#id_message_token").fill(COMPONENT["token"])
    admin.locator("#id_encoding_aes_key").fill(COMPONENT["encoding_aes_key"])
    _submit(admin, "form.form button[type=submit]")
    account = PlatformAccount.objects.get(team=team, name="Cafe platform")
    shots(admin, "account-added-callback-urls")
    sim_register_component(
        **COMPONENT,
        auth_callback_url=admin.locator("#cb-auth").inner_text(),
        events_callback_url=admin.locator("#cb-messages").inner_text(),
    )
    sim_push_ticket(COMPONENT["appid"])  # WeChat pushes a ticket every 10 minutes
    _work()
    assert ComponentTicket.objects.filter(account=account).exists()
    _submit(admin, f'form[action="/accounts/{account.pk}/test"] button')
    expect(admin.locator(".probes .tone-good").first).to_be_visible()
    assert admin.locator(".probes .tone-bad").count() == 0
    shots(admin, "connection-tested")

    # -- the app authorizes the platform on WeChat; the manager adds it in Sluice
    sim_register_authorizer(component_appid=COMPONENT["appid"], appid=APPID, refresh_token=REFRESH)
    manager = _login(browser, live_server, "mike")
    manager.goto(f"{live_server.url}/apps/new")
    manager.locator("#id_platform_account").select_option(str(account.pk))
    manager.locator("#id_name").fill("Demo Cafe")
    manager.locator("#id_appid").fill(APPID)
    manager.locator("#id_authorizer_refresh_token").fill(REFRESH)
    manager.locator("#id_privacy_policy_url").fill(f"{live_server.url}/demo/privacy-policy/")
    manager.locator("#id_repository_url").fill("https://github.com/acme/cafe")
    manager.locator("#id_categories").fill("餐饮 > 点餐平台")
    _submit(manager, "form.form button[type=submit]")
    app = App.objects.get(appid=APPID)
    _work()  # the app's original ID is learned from WeChat
    shots(manager, "app-added")

    # -- CI: a token from the tokens page, then the build with what miniprogram-ci printed
    dev = _login(browser, live_server, "alice")
    dev.goto(f"{live_server.url}/me/tokens/")
    dev.locator("#id_name").fill("GitHub Actions: cafe")
    _submit(dev, "form.form button[type=submit]")
    token = dev.locator("#new-token").inner_text().strip()
    shots(dev, "token-created")
    posted = requests.post(
        f"{live_server.url}/api/v1/apps/{app.pk}/builds",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "version": "1.4.0",
            "description": "Order ahead from the menu",
            "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "branch": "release/1.4",
            "ci_url": "https://ci.example.com/demo-cafe/builds/812",
            "miniprogram_ci": UPLOAD_RESULT,
            "app_json": APP_JSON,
            "build_report": {"first_screen_ms": 900, "error_monitoring": "sentry"},
        },
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    release = Release.objects.get(pk=posted.json()["release"]["id"])
    url = f"{live_server.url}/releases/{release.pk}/"

    # -- the developer writes the notes, ticks the checklist and runs the checks
    dev.goto(f"{url}edit")
    dev.locator("#id_review_notes").fill(NOTES)
    _submit(dev, "main form button[type=submit]")
    shots(dev, "built-release")
    confirm = f'form[action^="/releases/{release.pk}/checks/"][action$="/confirm"] button'
    while dev.locator(confirm).count():
        before = dev.locator(confirm).count()
        _submit(dev, confirm)
        assert dev.locator(confirm).count() < before
    _action(dev, release.pk, "check")
    _work()  # the slow checks: the privacy policy page and WeChat's privacy scan
    dev.reload()
    _state(dev, release, language, State.CHECKED)
    assert dev.locator(f'form[action="/releases/{release.pk}/actions/approve"]').count() == 0  # not hers
    shots(dev, "checked")

    # -- four eyes: the manager approves and submits
    manager.goto(url)
    _action(manager, release.pk, "approve")
    _action(manager, release.pk, "submit")
    _work()  # submit_audit on WeChat
    manager.reload()
    _state(manager, release, language, State.SUBMITTED)
    shots(manager, "submitted")

    # -- WeChat's reviewer rejects it with two screenshots; the developer's open page follows
    dev.goto(url)
    dev.evaluate("window.__sameDocument = true")
    auditid = _auditid(release)
    reviewer = _login(browser, live_server, "reviewer")
    reviewer.goto(f"{live_server.url}/sim/console/")
    reviewer.locator(f'input[name="{auditid}-reasons"][value="category-mismatch"]').check()
    shots(reviewer, "sim-console-reject-with-screenshots")
    _submit(reviewer, f'button[name="{auditid}-outcome"][value="rejected"]')
    _work()  # the push, the rejection, then its screenshots fetched from WeChat
    _state(dev, release, language, State.REJECTED)
    assert dev.evaluate("window.__sameDocument") is True  # live, without a reload
    pictures = dev.locator("img.screenshot-thumb")
    expect(pictures).to_have_count(2, timeout=WAIT_MS)
    pictures.first.scroll_into_view_if_needed()
    loaded = "i => i.complete && i.naturalWidth > 0"
    dev.wait_for_function(  # the pictures themselves arrived, not only their frames
        f"() => [...document.querySelectorAll('img.screenshot-thumb')].every({loaded})", timeout=WAIT_MS
    )
    assert RejectionScreenshot.objects.filter(rejection__release=release, state="fetched").count() == 2
    shots(dev, "rejected-with-screenshots")
    picture = dev.context.request.get(
        live_server.url + pictures.first.locator("xpath=..").get_attribute("href")
    )
    assert picture.ok and picture.headers["content-type"] == "image/png"

    # -- remediation, resubmission, the reviewer approves, publish after the confirmation page
    done = f'form[action^="/releases/{release.pk}/remediation/"][action$="/done"]'
    while dev.locator(done).count():
        before = dev.locator(done).count()
        dev.locator(done).first.locator("textarea[name=note]").fill(FIXED)
        _submit(dev, f"{done} button[type=submit]")
        assert dev.locator(done).count() < before
    shots(dev, "remediation-done")
    manager.goto(url)
    _action(manager, release.pk, "submit")
    _work()
    manager.reload()
    _state(manager, release, language, State.SUBMITTED)
    reviewer.goto(f"{live_server.url}/sim/console/")
    _submit(reviewer, f'button[name="{_auditid(release)}-outcome"][value="approved"]')
    _work()
    manager.goto(url)
    _state(manager, release, language, State.APPROVED)
    _submit(manager, f'a[href="/releases/{release.pk}/confirm/publish"]')
    shots(manager, "publish-confirmation")
    _submit(manager, f'form[action="/releases/{release.pk}/actions/publish"] button[type=submit]')
    _work()  # WeChat's release call
    manager.goto(url)
    _state(manager, release, language, State.PUBLISHED)
    shots(manager, "published")
    manager.goto(f"{live_server.url}/")
    shots(manager, "overview")
    expect(manager.locator("#limits-title")).to_be_visible()  # the app among the limits across apps


def _auditid(release: Release) -> str:
    release.refresh_from_db()
    return release.platform_audit_id
