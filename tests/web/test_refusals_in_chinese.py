"""The services' refusals are message ids (issue 15): stored and answered by the API in English, read
in Chinese on the pages, the field-level details too."""

import re

import pytest
from django.urls import reverse

from releases import app_services, draft_services, onboarding, services
from releases.errors import SluiceError
from releases.messages import localize
from releases.remediation import remediation_override
from tests.web.test_no_english_in_chinese_pages import english_words
from web.language import set_preferred_language


def _refusal(call, **kwargs) -> SluiceError:
    with pytest.raises(SluiceError) as caught:
        call(**kwargs)
    return caught.value


@pytest.fixture
def refusals(app, alice, adam, mike, manual_account, team, make_release):
    """The refusals people meet most: creating and editing a release, approving, remediation, onboarding."""
    published = make_release("1.0.0", upto="published")
    draft = make_release("1.1.0")
    checked = make_release("1.2.0", upto="checked")
    services.release_approve(release=checked, actor=mike)
    stale = draft_services.release_update(release=draft, actor=alice, changes={"review_notes": "更新说明。"})
    return [
        _refusal(services.release_create, app=app, actor=alice, version="one"),
        _refusal(services.release_create, app=app, actor=alice, version="0.9.0"),
        _refusal(draft_services.release_update, release=published, actor=mike, changes={"review_notes": "x"}),
        _refusal(
            draft_services.release_update,
            release=stale,
            actor=alice,
            changes={"review_notes": "y"},
            revision=1,
        ),
        _refusal(services.release_approve, release=checked, actor=mike),
        _refusal(remediation_override, release=draft, actor=mike, reason="ok"),
        _refusal(remediation_override, release=draft, actor=mike, reason=""),
        _refusal(
            onboarding.app_create, account=manual_account, actor=mike, name="Cafe", appid="not an appid"
        ),
        _refusal(onboarding.app_create, account=manual_account, actor=alice, name="Cafe", appid="wxcafe"),
        _refusal(onboarding.member_add, team_id=team.pk, actor=adam, username="ghost", role="viewer"),
        _refusal(onboarding.member_add, team_id=team.pk, actor=adam, username="mike", role="viewer"),
        _refusal(onboarding.member_add, team_id=team.pk, actor=adam, username="mike", role="boss"),
        _refusal(
            onboarding.platform_account_create, team_id=team.pk, actor=adam, platform="wechat", name="WeChat"
        ),
        _refusal(
            onboarding.platform_account_create, team_id=team.pk, actor=alice, platform="manual", name="M"
        ),
        _refusal(
            app_services.app_suppress_check, app=app, actor=mike, key="nope", reason="x", expires_on=None
        ),
        _refusal(
            app_services.app_suppress_check,
            app=app,
            actor=mike,
            key="review_notes",
            reason="x",
            expires_on="soon",
        ),
        _refusal(app_services.app_add_qualification, app=app, actor=mike, kind="licence", number="1"),
        _refusal(app_services.app_set_checklist, app=app, actor=mike, items=[{"label": ""}]),
        _refusal(app_services.app_update, app=app, actor=mike, changes={"privacy_policy_url": "ftp://x"}),
        _refusal(app_services.app_update, app=app, actor=alice, changes={"categories": ["餐饮"]}),
    ]


def test_the_most_seen_refusals_are_english_when_stored_and_chinese_when_read(refusals):
    for refusal in refusals:
        chinese = localize(refusal.message, "zh-hans")
        assert chinese != refusal.message, refusal.message
        names = {"mike", "ghost", "boss", "one", "appid", "Shop", "component_appid", "not", "nope", "licence",
                 "soon", "ftp", "expires", "on", "review", "notes"}  # fmt: skip
        assert [w for w in english_words(f"<p>{chinese}</p>") if w not in names] == [], (
            refusal.message,
            chinese,
        )
        for problem in refusal.details.values():
            if isinstance(problem, str) and not re.fullmatch(r"[a-z_]+(, [a-z_]+)*", problem):  # codes stay
                assert localize(problem, "zh-hans") != problem, problem


def test_the_release_form_shows_the_refusal_and_its_field_in_the_reader_s_language(login, alice, app):
    client = login(alice)
    url = reverse("web:release-create", args=[app.pk])
    english = client.post(url, {"version": "one"}).content.decode()
    assert "“one” is not a semantic version such as 1.4.0." in english
    assert "Use MAJOR.MINOR.PATCH, e.g. 1.4.0." in english
    set_preferred_language(alice, "zh-hans")
    chinese = login(alice).post(url, {"version": "one"}).content.decode()
    assert "“one”不是语义化版本号（例如 1.4.0）。" in chinese
    assert "使用 主版本.次版本.修订号 格式，例如 1.4.0。" in chinese


def test_an_onboarding_refusal_reads_in_chinese(login, adam, team):
    set_preferred_language(adam, "zh-hans")
    page = login(adam).post(
        reverse("web:member-add", args=[team.pk]), {"username": "ghost", "role": "viewer"}
    )
    assert "没有名为“ghost”的有效用户。" in page.content.decode()


def test_the_api_answers_a_refusal_in_english_whatever_the_user_s_language(api, alice, app):
    set_preferred_language(alice, "zh-hans")
    answer = api("post", f"/apps/{app.pk}/releases", user=alice, version="one", review_notes="x")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "“one” is not a semantic version such as 1.4.0."


def test_publish_windows_and_rollout_plans_refuse_in_english_and_read_in_chinese():
    from datetime import datetime

    from releases import rollout, windows
    from releases.limits.clock import BEIJING

    policy = windows.parse_policy({"windows": [{"days": ["mon"], "from": "10:00", "to": "16:00"}]})
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=BEIJING)
    closed = windows.closed_reason(policy, sunday)
    assert closed == (
        "This is outside the app's publish window. The next opening is 2026-12-07 10:00 Beijing time."
    )
    assert (
        localize(closed, "zh-hans")
        == "当前不在此小程序的发布时段内。下次开放时间为北京时间 2026-12-07 10:00。"
    )
    refusals = [
        _refusal(rollout.parse_plan, value=[{"percentage": 50, "hold_minutes": 60}, {"percentage": 20}]),
        _refusal(rollout.parse_plan, value=[{"percentage": 50, "hold_minutes": 60}]),
        _refusal(
            windows.parse_policy, value={"windows": [{"days": ["mon"], "from": "25:00", "to": "10:00"}]}
        ),
        _refusal(rollout.from_text, text="5:120, half, 100"),  # typed on the publish confirmation page
    ]
    for refusal in refusals:
        chinese = localize(refusal.message, "zh-hans")
        typed = {"half"}
        assert chinese != refusal.message and not set(english_words(f"<p>{chinese}</p>")) - typed, chinese


def test_an_app_page_refusal_and_its_field_read_in_chinese(login, mike, app):
    set_preferred_language(mike, "zh-hans")
    page = login(mike).post(
        reverse("web:suppression-create", args=[app.pk]),
        {"key": "review_notes", "reason": "法务已确认。", "expires_on": "2020-01-01"},
        follow=True,
    )
    assert "到期日期已过。 expires_on: 今天或以后。" in page.content.decode()
