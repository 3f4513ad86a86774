"""A browser journey (issue 14): a team admin creates an authorization link on the WeChat
account's page, opens the simulator's authorization page from it, authorizes a new mini program,
lands on the thank-you page, and finds the app in the team once the push is handled. In English
and in Chinese; screenshots under artifacts/browser/."""

import re

import django_rq

from config.workers import SimpleWorker
from releases.models import App
from simulator.fleet import sim_add_draft
from tests.fixtures.wechat import COMPONENT_APPID


def _login(browser, url, username, password, locale="en-US"):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale).new_page()
    page.goto(f"{url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").first.click()
    page.wait_for_load_state()
    return page


def _run_jobs():
    queues = [django_rq.get_queue("default"), django_rq.get_queue("platform")]
    for _ in range(3):
        SimpleWorker(queues, connection=queues[0].connection).work(burst=True)


def test_an_admin_authorizes_a_mini_program_through_the_simulator(browser, sim, shots, adam):
    adam.set_password("fleet-pw")
    adam.save()
    page = _login(browser, sim.url, "adam", "fleet-pw")
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/")
    page.get_by_role("button", name="Create an authorization link").click()
    page.wait_for_load_state()
    assert page.locator(".qr-pair svg").count() == 2
    shots(page, "authorization-link")

    page.get_by_role("link", name="Open the authorization page").click()
    page.wait_for_load_state()
    page.locator("#appid").fill("wxbrowsershop001")
    page.locator("#nick_name").fill("Browser Shop")
    shots(page, "simulator-authorization-page")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state()
    assert "Authorization received" in page.locator("h1").inner_text()
    shots(page, "authorized")

    _run_jobs()
    app = App.objects.get(appid="wxbrowsershop001")
    assert (app.name, app.team_id) == ("Browser Shop", sim.account.team_id)
    page.goto(f"{sim.url}/apps/{app.pk}/")
    assert page.get_by_text("Authorized", exact=True).count() == 1
    shots(page, "app-page")


def test_the_fleet_pages_read_in_chinese(browser, sim, shots, adam):
    adam.set_password("fleet-pw")
    adam.save()
    sim_add_draft(COMPONENT_APPID, "3.1.0", "会员积分")
    page = _login(browser, sim.url, "adam", "fleet-pw", locale="zh-CN")
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/")
    page.get_by_role("button", name="生成授权链接").click()
    page.wait_for_load_state()
    shots(page, "authorization-link-zh")
    page.goto(f"{sim.url}/accounts/{sim.account.pk}/templates")
    page.get_by_role("button", name="从微信同步").click()
    page.wait_for_load_state()
    page.get_by_role("button", name=re.compile("添加到模板库")).click()
    page.wait_for_load_state()
    assert page.locator("table").first.get_by_text("3.1.0").count() == 1
    shots(page, "templates-zh")
