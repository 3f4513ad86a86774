"""Every page is served with a Content-Security-Policy that allows no inline script or style, and
no page needs one: scripts come from static/js, styles from static/css (issue 11). The browser
tests check the same in chromium (tests/browser/test_csp.py)."""

from html.parser import HTMLParser

import pytest


class InlineFinder(HTMLParser):
    """What a strict policy would refuse: <script> without src, <style>, on*= and style= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on") or name == "style"]


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


@pytest.fixture
def staff(adam):
    adam.is_staff = adam.is_superuser = True
    adam.save()
    return adam


@pytest.fixture
def pages(make_release, staff, settings):
    settings.SIMULATOR = True
    release = make_release(upto="submitted")
    return [
        "/",
        "/apps/",
        f"/apps/{release.app_id}/",
        "/releases/",
        f"/releases/{release.pk}/",
        f"/releases/{release.pk}/edit",
        f"/apps/{release.app_id}/releases/new",
        "/analytics/",
        "/audit/",
        "/playbooks/",
        "/sim/console/",
        "/admin/",
        f"/admin/releases/app/{release.app_id}/change/",
        "/no-such-page/",
    ]


def test_every_page_is_served_with_a_policy_that_refuses_inline_scripts_and_styles(client, staff, pages):
    client.force_login(staff)
    for path in pages:
        policy = client.get(path)["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"):
            assert directive in policy, (path, directive)
        assert "unsafe" not in policy, path


def test_the_login_page_and_the_api_carry_the_policy_too(client, db):
    assert "script-src 'self'" in client.get("/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in client.get("/api/v1/apps")["Content-Security-Policy"]


def test_no_page_has_an_inline_script_event_handler_or_style(client, staff, pages):
    found = {"/login/": inline_parts(client.get("/login/").content.decode())}
    client.force_login(staff)
    for path in pages:
        found[path] = inline_parts(client.get(path).content.decode())
    assert {path: parts for path, parts in found.items() if parts} == {}


def test_the_inline_finder_finds_what_a_strict_policy_refuses():
    html = '<script>x()</script><script src="/a.js"></script><a onclick="y()" style="color:red">z</a>'
    assert sorted(inline_parts(html)) == ["inline <script>", "onclick= on <a>", "style= on <a>"]
