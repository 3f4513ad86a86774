"""Per-platform review rules as data (issue 16): limits, locks, checks and the rejection classifier
read the app's platform, so a Douyin app shows Douyin's rules and a WeChat app keeps WeChat's."""

from releases.checks.base import applicable_checks
from releases.limits import app_limits
from releases.models import App, PlatformAccount
from reviews.rejections import classify_reason, rules_for


def keys(app) -> set[str]:
    return {limit["key"] for limit in app_limits(app)}


def douyin_app(team):
    account = PlatformAccount.objects.create(team=team, platform="douyin", name="Douyin")
    return App.objects.create(team=team, platform_account=account, name="Cafe (Douyin)", appid="tt01")


def test_a_douyin_app_has_no_withdrawal_limit_or_same_reason_lock_a_wechat_app_keeps_them(
    db, team, wechat_app
):
    assert {"withdraw_daily", "withdraw_monthly", "same_reason_lock"} <= keys(wechat_app)
    assert not {"withdraw_daily", "withdraw_monthly", "same_reason_lock", "review_quota"} & keys(
        douyin_app(team)
    )


def test_douyins_checks_apply_to_douyin_releases_and_wechats_package_sizes_do_not(
    db, team, wechat_app, make_release
):
    on_douyin = {check.key for check in applicable_checks(make_release("1.0.0", app=douyin_app(team)))}
    on_wechat = {check.key for check in applicable_checks(make_release("1.0.0", app=wechat_app))}
    assert {"douyin_reviewer_note", "douyin_host_apps", "review_notes", "privacy_policy"} <= on_douyin
    assert not {"package_size", "platform_privacy_scan"} & on_douyin
    assert "package_size" in on_wechat and "douyin_reviewer_note" not in on_wechat


def test_douyins_wording_is_classified_by_its_own_rules():
    reason = "抖音: 小程序存在强制关注行为"  # words only Douyin's rules know
    assert classify_reason(reason)[0]["category"] == "other"
    assert classify_reason(reason, rules_for("douyin"))[0]["category"] == "content_or_induced_sharing"
