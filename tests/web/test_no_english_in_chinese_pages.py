"""Chinese first (issue 15): every page, read in Simplified Chinese with realistic data, shows no
English word a person would have to read — only product and platform names and code identifiers.

The pages are the ones tests/web/test_reads_never_write.py enumerates from the URL resolver (a new
page is read here as soon as it exists) and the WeChat simulator's console, over the same world
plus what makes pages talk: checks that fail, a rejection with its remediation, audit events,
analytics. Data a team types (app names, review notes) is Chinese here, as a Chinese team's would
be; what the product says must be translated.

Visible text is the text of the page outside <script>, <style>, <code>, <kbd> and elements marked
translate="no" (HTML's own flag for text that stays as it is: identifiers, user input), plus the
title, placeholder and aria-label attributes. A word is three or more ASCII letters; a token with
an underscore, a dot, a slash, a digit or an inner capital (first_screen_ms, requiredPrivateInfos,
pages/index, example.com) is a code identifier, never a word.

When this fails it names each page and the English it shows: wrap the string for translation
({% translate %}, gettext, or gettext_noop for text stored and translated at display time) and add
its msgstr to locale/zh_Hans/LC_MESSAGES/django.po; only a name or identifier goes on ALLOWED.
"""

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from releases import services
from releases.errors import Refused
from releases.models import App, CheckResult, CheckRun, CheckSuppression, PlatformAccount, Team
from tests.web.test_reads_never_write import page_paths, world  # noqa: F401 (the shared world)
from web.language import set_preferred_language

CHINESE_NOTES = "新增积分页面，入口在 我的 > 积分；支付完成后发放积分。"
# A build whose first screen is slow and which has no error monitoring: checks fail and say why.
SLOW_REPORT = {
    "packages": [{"name": "__FULL__", "size": 3_000_000}, {"name": "__APP__", "size": 1_200_000}],
    "permissions": ["scope.userLocation"],
    "apis": ["getLocation"],
    "pages": ["pages/index/index"],
    "first_screen_ms": 1800,
    "error_monitoring": "",
}

# The demo's stand-in for a team's own privacy policy (a web page of the team, not Sluice's UI).
NOT_UI = ("/demo/",)
# Names and identifiers, never translated. Lowercase; compared case-insensitively.
ALLOWED = {
    # products, platforms, companies, standards and formats
    "sluice", "wechat", "weixin", "douyin", "alipay", "tencent", "bytedance", "sentry", "fundebug",
    "github", "gitlab", "miniprogram", "appid", "appsecret", "api", "url", "urls", "json", "csv",
    "http", "https", "html", "xml", "aes", "sha", "utc", "iso", "www", "com", "bearer", "curl",
    "pdf", "png", "jpg", "ios", "android", "cdn", "webhook", "webhooks",
    "english",  # a language named in its own language (the switch, a channel's language choices)
    "sec",  # the prefix of a DingTalk signing secret, quoted in its help text
    # code identifiers with no mark of one: a check's key (in its menu option), app.json's key, a WeChat API
    "qualifications", "permission", "setprivacysetting",
    "location",  # quoted: the English word the privacy check looks for in a policy
    # values from the world's data: usernames, the test client's host, a reason the shared world types
    "alice", "mike", "nina", "vera", "adam", "olga", "testserver", "legal", "cleared",
    "robot",  # the name the shared world gives its notification channel
    "releasegroup",  # an audit event's target type (a model name) where no app is its target
}  # fmt: skip
TOKEN = re.compile(r"[A-Za-z0-9_./]+")
WORD = re.compile(r"[A-Za-z]{3,}")
IDENTIFIER = re.compile(r"[_./0-9]|[a-z][A-Z]")
SKIPPED = {"script", "style", "code", "kbd", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is its content hidden from this test
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = bool(self.stack and self.stack[-1]) or tag in SKIPPED or attrs.get("translate") == "no"
        if not hidden:
            self.parts += [attrs[name] or "" for name in SHOWN_ATTRIBUTES if name in attrs]
            if tag == "input" and attrs.get("type") in ("submit", "button"):
                self.parts.append(attrs.get("value") or "")
        if tag not in VOID:
            self.stack.append(hidden)

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_words(html: str) -> list[str]:
    tokens = (token.strip("./") for token in TOKEN.findall(visible_text(html)))
    words = (token for token in tokens if WORD.fullmatch(token) and not IDENTIFIER.search(token))
    return sorted({word for word in words if word.lower() not in ALLOWED})


def where(text: str, word: str) -> str:
    """The word in its sentence, to find the string to translate."""
    at = re.search(rf"(?<![A-Za-z0-9_./]){re.escape(word)}(?![A-Za-z0-9_])", text)
    return text[max(0, at.start() - 40) : at.end() + 40] if at else ""


@pytest.fixture
def team(db):
    return Team.objects.create(name="商城团队")


@pytest.fixture(autouse=True)
def chinese_data(monkeypatch):
    """What a Chinese team types is Chinese (the review notes of every release)."""
    monkeypatch.setattr("tests.conftest.GOOD_NOTES", CHINESE_NOTES)
    monkeypatch.setattr("tests.fixtures.wechat.GOOD_NOTES", CHINESE_NOTES)


@pytest.fixture
def talking_world(world, make_release, mike, alice):  # noqa: F811 (the imported fixture)
    """The shared world, with Chinese names, failing checks and an approval rejected."""
    PlatformAccount.objects.filter(name="Manual").update(name="人工提审账号")
    PlatformAccount.objects.filter(name="WeChat platform").update(name="微信第三方平台")
    App.objects.filter(name="Shop").update(name="积分商城")
    App.objects.filter(name="Shop (WeChat)").update(name="积分商城（微信）")
    CheckSuppression.objects.update(reason="法务已确认可以上线。")
    slow = make_release("1.7.0", build_report=SLOW_REPORT)
    with pytest.raises(Refused):
        services.release_check(release=slow, actor=alice)
    assert CheckRun.objects.filter(release=slow).exists()
    world["release_id"].append(slow.pk)
    return world


def test_every_page_in_chinese_shows_no_english_but_names(talking_world, mike, adam, settings):
    settings.SIMULATOR = True
    set_preferred_language(mike, "zh-hans")
    mike.is_staff = True  # the simulator's console (and the admin links) are for staff
    mike.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(mike)
    english, read = {}, set()
    consoles = [reverse("simulator:console"), reverse("douyin_sim:console")]
    for path in [*page_paths(talking_world), *consoles]:
        if path.startswith(NOT_UI):
            continue
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("content-type", ""):
            continue
        read.add(path)
        html = response.content.decode()
        words = english_words(html)
        if words:
            english[path] = (words, visible_text(html))
    # Pages for team admins only (the publish windows and freezes), read as an admin.
    set_preferred_language(adam, "zh-hans")
    admin = Client()
    admin.force_login(adam)
    for path in [p for p in page_paths(talking_world) if "publish-policy" in p]:
        response = admin.get(path)
        if response.status_code != 200:
            continue
        read.add(path)
        words = english_words(response.content.decode())
        if words:
            english[path] = (words, visible_text(response.content.decode()))
    # ... and with its mistakes marked in place.
    invalid = admin.post(
        f"/teams/{adam.memberships.first().team_id}/publish-policy/",
        {
            "windows-TOTAL_FORMS": "1",
            "windows-INITIAL_FORMS": "0",
            "windows-0-days": ["mon"],
            "windows-0-start": "16:00",
            "windows-0-end": "10:00",
            "freezes-TOTAL_FORMS": "1",
            "freezes-INITIAL_FORMS": "0",
            "freezes-0-reason": "春节",
        },
    )
    assert invalid.status_code == 400
    words = english_words(invalid.content.decode())
    if words:
        english["publish-policy (invalid)"] = (words, visible_text(invalid.content.decode()))
    # The campaign form's dry run: one app rendered, one held back for a variable it lacks.
    shop = App.objects.get(pk=talking_world["app_id"][0])
    App.objects.create(
        team=shop.team, platform_account=shop.platform_account, name="甜品店", appid="wxdessert01"
    )
    dry_run = client.post(
        "/campaigns/new",
        {
            "platform_account": shop.platform_account_id,
            "template_id": "7",
            "version": "9.1.0",
            "target_kind": "all",
            "ext_json": '{"城市": "{{ shop_city }}"}',
            "variables": json.dumps({shop.appid: {"shop_city": "杭州"}}),
            "release_notes": "{{ merchant_name }} 的春季菜单",
            "preview": "1",
        },
    )
    assert "campaign-preview" in dry_run.content.decode()
    words = english_words(dry_run.content.decode())
    if words:
        english["/campaigns/new (dry run)"] = (words, visible_text(dry_run.content.decode()))
    # The release group form (issue 16), its refusals in place: no app, a version that is none.
    invalid = client.post(reverse("web:release-group-create"), {"version": "下一版", "total_kb": "大"})
    assert invalid.status_code == 200
    words = english_words(invalid.content.decode())
    if words:
        english["release-groups/new (invalid)"] = (words, visible_text(invalid.content.decode()))
    release_id = talking_world["release_id"][1]
    assert {"/", f"/releases/{release_id}/", "/audit/", "/analytics/", "/sim/console/"} <= read
    assert {"/sim/douyin/console/", "/release-groups/new"} <= read
    assert any("publish-policy" in path for path in read)
    report = "\n".join(
        f"  {path}: {' '.join(words)}\n"
        + "".join(f"      {word}: …{where(text, word)}…\n" for word in words[:8])
        for path, (words, text) in english.items()
    )
    assert not english, (
        "English on Chinese pages (translate it in locale/zh_Hans/LC_MESSAGES/django.po, "
        "or add a name/identifier to ALLOWED in this file):\n" + report
    )


def test_the_visible_text_is_what_a_reader_sees():
    html = (
        '<p title="Hover me">Shown <script>var hidden = 1;</script><code>release_submit</code>'
        '<span translate="no">User typed</span><br><input type="submit" value="Send"></p>'
    )
    assert english_words(html) == ["Hover", "Send", "Shown"]


def test_a_refusal_and_a_check_message_are_stored_in_english_and_read_in_chinese(make_release, alice):
    release = make_release("1.6.0", build_report=SLOW_REPORT)
    set_preferred_language(alice, "zh-hans")
    client = Client()
    client.force_login(alice)
    action = reverse("web:release-action", args=[release.pk, "check"])
    page = client.post(action, follow=True).content.decode()
    assert "项检查未通过：" in page  # the flash message of the refusal
    assert "首屏耗时 1800 毫秒（上限 3000 毫秒）。" in page  # a check result's message
    stored = CheckResult.objects.get(run__release=release, key="first_screen")
    assert stored.message == "First screen in 1800 ms (limit 3000 ms)."
