"""English and Simplified Chinese pages, chosen per user; the API always English (issue 6)."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from releases.models import CheckResult, UserPreference
from releases.tokens import api_token_create
from web.language import SESSION_KEY, preferred_language, set_preferred_language

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture
def chinese(alice):
    set_preferred_language(alice, "zh-hans")
    return alice


def _page(client, name, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_a_chinese_speaking_user_sees_the_dashboard_in_chinese(client, chinese, app):
    client.force_login(chinese)
    page = _page(client, "web:dashboard")
    assert '<html lang="zh-hans">' in page
    for text in ("概览", "待你处理", "发布流水线", "审核中的版本", "退出登录"):
        assert text in page, text
    assert "Needs your action" not in page


def test_a_chinese_speaking_user_sees_a_release_page_in_chinese(client, chinese, make_release):
    release = make_release()
    client.force_login(chinese)
    page = _page(client, "web:release-detail", release.pk)
    for text in ("下一步", "运行检查", "草稿", "审计日志", "人工检查清单", "修改版本"):
        assert text in page, text
    assert "What happens next" not in page


def test_check_titles_are_stored_in_english_and_shown_in_the_readers_language(client, chinese, make_release):
    release = make_release()
    client.force_login(chinese)
    client.post(reverse("web:release-action", args=[release.pk, "check"]))
    stored = CheckResult.objects.get(run__release=release, key="package_size")
    assert stored.title == "Packages within the size limits"
    page = _page(client, "web:release-detail", release.pk)
    assert "代码包大小未超限" in page


def test_an_english_speaking_user_sees_english_pages(client, alice, make_release):
    release = make_release()
    client.force_login(alice)
    assert "Needs your action" in _page(client, "web:dashboard")
    page = _page(client, "web:release-detail", release.pk)
    assert "What happens next" in page and "下一步" not in page


def test_the_preference_wins_over_the_browsers_language(client, alice, chinese):
    client.force_login(chinese)
    page = client.get(reverse("web:app-list"), headers={"accept-language": "en"}).content.decode()
    assert "查找小程序" in page
    set_preferred_language(alice, "en")
    client.force_login(alice)
    page = client.get(reverse("web:app-list"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "Find an app" in page


def test_the_login_page_follows_the_browsers_language(client, db):
    page = client.get(reverse("login"), headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "登录 Sluice" in page and "小程序发布管理。" in page
    page = Client().get(reverse("login")).content.decode()
    assert "Log in to Sluice" in page and "登录" not in page


def test_without_a_choice_the_browsers_language_decides_for_a_signed_in_user_too(client, alice):
    client.force_login(alice)
    page = client.get(reverse("web:dashboard"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "待你处理" in page


def test_the_switcher_saves_the_choice_and_goes_back_to_the_page(client, alice, app):
    client.force_login(alice)
    target = reverse("web:app-detail", args=[app.pk])
    response = client.post(reverse("web:language"), {"language": "zh-hans", "next": target})
    assert response.status_code == 302 and response["Location"] == target
    assert preferred_language(alice) == "zh-hans"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "服务类目" in _page(client, "web:app-detail", app.pk)
    client.post(reverse("web:language"), {"language": "en", "next": target})
    assert UserPreference.objects.get(user=alice).language == "en"
    assert "Service categories" in _page(client, "web:app-detail", app.pk)


def test_the_choice_follows_the_user_to_a_new_session(client, alice, chinese):
    client.force_login(chinese)
    assert client.session[SESSION_KEY] == "zh-hans"
    other = Client()
    other.force_login(alice)
    assert "待你处理" in _page(other, "web:dashboard")


def test_the_switcher_needs_a_login_csrf_a_known_language_and_a_local_next(client, alice):
    url = reverse("web:language")
    response = client.post(url, {"language": "zh-hans"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not UserPreference.objects.exists()

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(url, {"language": "zh-hans"}).status_code == 403
    assert preferred_language(alice) == ""

    client.force_login(alice)
    assert client.get(url).status_code == 405
    assert client.post(url, {"language": "fr"}).status_code == 400
    response = client.post(url, {"language": "zh-hans", "next": "https://evil.example/"})
    assert response["Location"] == reverse("web:dashboard")


def test_the_switcher_in_the_top_bar_offers_the_other_language_with_csrf(client, alice, chinese):
    client.force_login(alice)
    page = _page(client, "web:app-list")
    assert f'action="{reverse("web:language")}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'value="en"' in page and ">English</button>" in page


def test_the_api_answers_in_english_even_for_a_chinese_speaking_user(client, chinese, make_release):
    release = make_release()
    headers = {"Authorization": f"Bearer {api_token_create(user=chinese)}", "accept-language": "zh-hans"}
    checks = client.get("/api/v1/checks", headers=headers)
    assert checks.status_code == 200 and checks["Content-Language"] == "en"
    titles = {c["key"]: c["title"] for c in checks.json()["results"]}
    assert titles["package_size"] == "Packages within the size limits"
    refused = client.post(
        f"/api/v1/releases/{release.pk}/publish", headers=headers, content_type="application/json"
    )
    assert refused.status_code in (403, 409)
    body = refused.content.decode()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body), body


def test_the_language_costs_no_query_per_request(client, alice, mike):
    set_preferred_language(alice, "zh-hans")
    counts = {}
    for user in (alice, mike):
        client.force_login(user)
        client.get(reverse("web:ping"))
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("web:ping")).content.decode()
        counts[user.username] = len(queries)
    assert "Signed in as mike" in page
    assert counts["alice"] == counts["mike"]


# -- the catalogue ----------------------------------------------------------------------------------------


def _po_entries(path: Path) -> dict[tuple[str | None, str, str | None], list[str]]:
    """{(context, msgid, msgid_plural): [msgstr...]} of a .po file (enough of the format for what
    makemessages writes)."""
    entries, current, key = {}, {}, None

    def flush():
        if "msgid" in current and current["msgid"]:
            key = (current.get("msgctxt"), current["msgid"], current.get("msgid_plural"))
            entries[key] = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            current, key = {}, None
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            current[key] = ast.literal_eval(value)
    return entries


def test_every_message_has_a_chinese_translation():
    entries = _po_entries(LOCALE_DIR / "django.po")
    assert len(entries) > 400
    untranslated = [key for key, strings in entries.items() if not all(s.strip() for s in strings)]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (CI may lack gettext): recompile with `manage.py compilemessages` after
    editing the .po, or this fails."""
    with (LOCALE_DIR / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    entries = _po_entries(LOCALE_DIR / "django.po")
    for (context, msgid, plural), strings in entries.items():
        if plural is not None:
            assert compiled.ngettext(msgid, plural, 2) == strings[0], msgid
        elif context is not None:
            assert compiled.pgettext(context, msgid) == strings[0], (context, msgid)
        else:
            assert compiled.gettext(msgid) == strings[0], msgid
    assert len(compiled._catalog) == len(entries) + 1  # + the header
