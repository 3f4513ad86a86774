"""The check report says what is wrong, where, and how to fix it; the app page configures the checks."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from releases import app_services, services
from releases.errors import Refused


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.find("</section>", start)]


def _detail(client, release) -> str:
    return client.get(reverse("web:release-detail", args=[release.pk])).content.decode()


def test_it_highlights_the_exact_offending_span_and_explains_the_fix(client, make_release, alice):
    release = make_release(release_notes="全网最低价，销量第一！新增附近门店。")
    with pytest.raises(Refused):
        services.release_check(release=release, actor=alice)
    client.force_login(alice)
    checks = _section(_detail(client, release), "checks-title")
    assert "<mark>全网最低</mark>价，销量第一" in checks
    assert "销量<mark>第一</mark>！新增附近门店。" in checks
    assert "release_notes [8:10]" in checks
    assert '["spans"' not in checks  # evidence is rendered for people, not dumped
    assert "Why the reviewer cares and how to fix it" in checks
    assert "“销量第一” → “月销 2 万件”" in checks


def test_a_suppressed_check_shows_its_badge_reason_and_expiry(client, app, make_release, alice, mike):
    until = timezone.localdate() + timedelta(days=5)
    app_services.app_suppress_check(
        app=app, actor=mike, key="error_monitoring", reason="Monitoring ships in 2.0.", expires_on=until
    )
    release = make_release()
    services.release_check(release=release, actor=alice)
    client.force_login(alice)
    checks = _section(_detail(client, release), "checks-title")
    assert "status-suppressed" in checks and "Monitoring ships in 2.0." in checks
    assert until.isoformat() in checks


def test_the_approvals_card_shows_progress_against_the_policy(client, app, adam, make_release, mike):
    app_services.app_set_approval_policy(app=app, actor=adam, required=["qa", "product"])
    release = make_release(upto="approved_by_manager")
    client.force_login(mike)
    card = _section(_detail(client, release), "approvals-title")
    assert "2 missing" in card
    assert card.count("Waiting") == 2 and "by mike" in card
    client.force_login(adam)
    page = _detail(client, release)
    assert "Approve by override" in _section(page, "next-title")
    assert 'name="reason"' in _section(page, "next-title")


def test_an_approver_holding_two_open_capacities_picks_one(client, app, adam, make_release, team):
    from tests.conftest import _member

    app_services.app_set_approval_policy(app=app, actor=adam, required=["qa", "product"])
    pat = _member(team, "pat", "developer")
    app_services.member_set_capacities(team_id=team.pk, actor=adam, user=pat, capacities=["qa", "product"])
    release = make_release(upto="approved_by_manager")
    client.force_login(pat)
    panel = _section(_detail(client, release), "next-title")
    assert '<option value="qa">QA</option>' in panel and '<option value="product">Product</option>' in panel
    client.post(reverse("web:release-action", args=[release.pk, "approve"]), {"capacity": "product"})
    assert release.approvals.get(approver=pat).capacity == "product"


def test_the_app_page_offers_the_configuration_to_those_who_may_change_it(client, app, mike, adam, vera):
    client.force_login(mike)
    page = client.get(reverse("web:app-detail", args=[app.pk])).content.decode()
    for heading in ("qualifications-title", "suppressions-title", "checklist-title", "policy-title"):
        assert f'aria-labelledby="{heading}"' in page
    assert reverse("web:checklist-update", args=[app.pk]) in page
    assert reverse("web:approval-policy-update", args=[app.pk]) not in page  # admins only
    client.force_login(adam)
    assert (
        reverse("web:approval-policy-update", args=[app.pk])
        in client.get(reverse("web:app-detail", args=[app.pk])).content.decode()
    )
    client.force_login(vera)
    page = client.get(reverse("web:app-detail", args=[app.pk])).content.decode()
    assert "Core flows tested on iOS" in page
    assert reverse("web:checklist-update", args=[app.pk]) not in page


def test_every_label_of_the_app_page_points_at_its_own_field(client, app, adam, make_release):
    make_release("1.0.0")
    client.force_login(adam)  # an admin sees every form of the page
    page = client.get(reverse("web:app-detail", args=[app.pk])).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    targets = re.findall(r'<label for="([^"]+)"', page)
    assert targets and set(targets) <= set(ids)


def test_a_manager_edits_the_checklist_and_the_privacy_url_from_the_app_page(client, app, mike):
    client.force_login(mike)
    client.post(
        reverse("web:checklist-update", args=[app.pk]), {"items": "Core flows tested on iOS\n蓝牙打印\n"}
    )
    app.refresh_from_db()
    assert [i["key"] for i in app.checklist] == ["tested_ios", "item"]
    response = client.post(
        reverse("web:app-settings", args=[app.pk]),
        {"privacy_policy_url": "javascript:alert(1)"},
        follow=True,
    )
    assert "is not an http(s) URL" in response.content.decode()
    client.post(reverse("web:app-settings", args=[app.pk]), {"privacy_policy_url": "https://example.com/p"})
    app.refresh_from_db()
    assert app.privacy_policy_url == "https://example.com/p"


def test_the_demo_policy_pages_exist_only_in_demo_mode(client, settings):
    settings.DEBUG = settings.DEMO = False
    assert client.get("/demo/privacy-policy/").status_code == 404
    settings.DEMO = True
    assert "位置信息" in client.get("/demo/privacy-policy/").content.decode()
    assert "位置信息" not in client.get("/demo/privacy-policy/no-location/").content.decode()
