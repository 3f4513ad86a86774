"""The page that creates a release group (issue 16): a person picks the apps (one per platform),
types the version, notes and build report once, and lands on the group page with one draft per
platform; a refusal is shown on the form, in the reader's language, and creates nothing."""

import re

from django.urls import reverse

from releases.models import App, Build, Release, ReleaseGroup
from reviews.models import CodeTemplate
from tests.conftest import GOOD_NOTES
from web.language import set_preferred_language

NEW = reverse("web:release-group-create")


def form_data(apps, **fields):
    return {
        "apps": [app.pk for app in apps],
        "version": "2.0.0",
        "release_notes": "Loyalty stamps",
        "review_notes": GOOD_NOTES,
        "total_kb": "1800",
        "main_kb": "1100",
        "first_screen_ms": "1200",
        "error_monitoring": "Sentry",
        **fields,
    }


def test_the_app_page_link_ticks_that_app_and_offers_only_apps_the_person_may_release(
    db, login, alice, vera, wechat_app, douyin_app, other_app
):
    page = login(alice).get(NEW, {"app": douyin_app.pk}).content.decode()
    ticked = re.findall(r'<input type="checkbox" name="apps" value="(\d+)"[^>]*\bchecked', page)
    assert ticked == [str(douyin_app.pk)]
    assert "Shop (WeChat)" in page and other_app.name not in page
    assert 'name="csrfmiddlewaretoken"' in page
    app_page = login(alice).get(reverse("web:app-detail", args=[douyin_app.pk])).content.decode()
    assert f"{NEW}?app={douyin_app.pk}" in app_page
    # a viewer may create no release: the page offers nothing and says who can
    assert "Shop (WeChat)" not in login(vera).get(NEW).content.decode()


def test_creating_a_group_from_the_page_makes_one_draft_per_platform_and_shows_the_group(
    db, login, alice, wechat_app, douyin_app
):
    response = login(alice).post(NEW, form_data([wechat_app, douyin_app], hold_on_rejection="on"))
    group = ReleaseGroup.objects.get()
    assert response.status_code == 302 and response.url == reverse("web:release-group", args=[group.pk])
    assert group.hold_on_rejection and group.created_by == alice
    drafts = Release.objects.filter(group_membership__group=group)
    assert sorted(r.app.platform_account.platform for r in drafts) == ["douyin", "wechat"]
    for release in drafts:
        assert release.state == "draft" and release.review_notes == GOOD_NOTES
        assert {"name": "__FULL__", "size": 1800 * 1024} in release.build_report["packages"]
        assert release.build_report["error_monitoring"] == "Sentry"


def test_two_apps_on_one_platform_are_refused_on_the_apps_field_in_chinese_and_nothing_is_created(
    db, login, alice, team, wechat_app, douyin_app
):
    second = App.objects.create(
        team=team, platform_account=wechat_app.platform_account, name="Shop 2", appid="wx-second"
    )
    set_preferred_language(alice, "zh-hans")
    response = login(alice).post(NEW, form_data([wechat_app, second]))
    assert response.status_code == 200
    assert "每个平台" in str(response.context["form"].errors["apps"])
    assert "name one app per platform" not in response.content.decode()
    assert not ReleaseGroup.objects.exists() and not Release.objects.exists()


def test_a_bad_version_is_shown_on_its_field_and_the_typed_text_is_kept(
    db, login, alice, wechat_app, douyin_app
):
    response = login(alice).post(NEW, form_data([wechat_app, douyin_app], version="two"))
    form = response.context["form"]
    assert response.status_code == 200 and form.errors["version"]
    assert "Loyalty stamps" in response.content.decode()
    assert not ReleaseGroup.objects.exists()


def test_apps_of_a_team_where_the_person_is_a_viewer_or_a_stranger_cannot_be_put_in_a_group(
    db, login, vera, olga, wechat_app, other_app, douyin_app
):
    response = login(vera).post(NEW, form_data([wechat_app, douyin_app]))
    assert response.status_code == 200 and response.context["form"].errors["apps"]
    response = login(olga).post(NEW, form_data([other_app, douyin_app]))
    assert response.status_code == 200 and response.context["form"].errors["apps"]
    assert not Release.objects.exists()


def test_the_form_needs_its_csrf_token(db, login, alice, wechat_app, douyin_app):
    client = login(alice, enforce_csrf_checks=True)
    assert client.post(NEW, form_data([wechat_app, douyin_app])).status_code == 403
    assert not ReleaseGroup.objects.exists()


def test_a_template_and_ext_json_reach_the_app_whose_account_keeps_templates(
    db, login, alice, wechat_app, douyin_app
):
    CodeTemplate.objects.create(account=wechat_app.platform_account, template_id=42, user_version="2.0.0")
    client = login(alice)
    page = client.get(NEW).content.decode()
    assert f'name="template_{wechat_app.pk}"' in page and f'name="template_{douyin_app.pk}"' not in page
    bad = client.post(
        NEW,
        form_data(
            [wechat_app, douyin_app],
            **{f"template_{wechat_app.pk}": "42", f"ext_json_{wechat_app.pk}": "[1]"},
        ),
    )
    assert bad.status_code == 200 and bad.context["form"].errors[f"ext_json_{wechat_app.pk}"]
    client.post(
        NEW,
        form_data(
            [wechat_app, douyin_app],
            **{f"template_{wechat_app.pk}": "42", f"ext_json_{wechat_app.pk}": '{"extAppid": "wx1"}'},
        ),
    )
    wechat = Release.objects.get(app=wechat_app)
    assert (wechat.template_id, wechat.ext_json) == ("42", {"extAppid": "wx1"})
    assert Release.objects.get(app=douyin_app).template_id == ""


def test_a_ci_build_gives_the_group_its_report_and_commit(
    db, login, alice, wechat_app, douyin_app, make_release
):
    earlier = make_release(app=wechat_app, version="1.9.0")
    build = Build.objects.create(
        app=wechat_app, release=earlier, version="1.9.0", commit="a" * 40, branch="main", created_by=alice
    )
    earlier.build_report = {"packages": [{"name": "__FULL__", "size": 4321}], "pages": ["pages/a/a"]}
    earlier.save(update_fields=["build_report"])
    data = form_data([wechat_app, douyin_app], build=str(build.pk))
    for key in ("total_kb", "main_kb"):
        data.pop(key)
    login(alice).post(NEW, data)
    for release in Release.objects.filter(version="2.0.0"):
        assert release.build_commit == "a" * 40 and release.build_branch == "main"
        assert release.build_report["pages"] == ["pages/a/a"]
        assert release.build_report["first_screen_ms"] == 1200
