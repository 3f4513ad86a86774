"""The Content-Security-Policy in a real chromium: every page arrives with it, runs its own scripts
(static/js only) and breaks none of its rules; a script injected inline is refused (issue 11).
Every other browser test also fails on a violation (conftest's no_csp_violation)."""

import re

import pytest

from tests.browser import conftest

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(adam):
    adam.is_staff = adam.is_superuser = True
    adam.set_password("csp-pw")
    adam.save()
    return adam


@pytest.mark.django_db(transaction=True)
def test_every_page_runs_under_the_policy_without_a_violation(
    browser, live_server, settings, staff, make_release
):
    settings.SIMULATOR = True
    release = make_release()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    first = page.goto(f"{live_server.url}/login/")
    assert "script-src 'self'" in first.headers["content-security-policy"]
    page.get_by_label("Username").fill("adam")
    page.get_by_label("Password").fill("csp-pw")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()

    paths = [
        "/",
        "/apps/",
        f"/apps/{release.app_id}/",
        "/releases/",
        f"/releases/{release.pk}/",
        "/analytics/",
        "/audit/",
        "/playbooks/",
        "/admin/",
        f"/admin/releases/app/{release.app_id}/change/",
        "/admin/axes/accessattempt/",
        "/sim/console/",
    ]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy and "default-src 'self'" in policy, path
        page.wait_for_load_state("networkidle")

    # an inline script, as an injection would add, is refused
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.head.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected") is None
    refused = list(conftest._violations)
    conftest._violations.clear()  # the one violation this test caused on purpose
    assert len(refused) == 1 and "inline script" in refused[0]
