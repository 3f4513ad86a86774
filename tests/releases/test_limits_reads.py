"""The limits read shared facts once per page: the app's releases in review (the review slot, the
withdrawals under way) and the rejections after the latest approval (the same-reason lock)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from releases import services
from releases.actions import available_actions
from releases.gate import rules
from releases.limits import app_limits, transition_refusal, withdraw_refusal
from releases.limits.rules import rejection_streak
from releases.memo import read_scope
from releases.models import Release, State


def _limit(app, key):
    return next(item for item in app_limits(app) if item["key"] == key)


def test_a_withdrawal_under_way_counts_and_holds_the_review_slot(make_release, app, mike):
    withdrawing = make_release("1.0.0", upto="submitted")
    Release.objects.filter(pk=withdrawing.pk).update(state=State.WITHDRAWING)  # its job not run yet
    assert (_limit(app, "withdraw_daily")["used"], _limit(app, "withdraw_monthly")["used"]) == (1, 1)
    assert _limit(app, "in_review")["used"] == 1
    ready = make_release("1.1.0", upto="approved_by_manager")
    assert "1.0.0 is already in review" in rules.reason("review_in_progress", ready)
    withdrawing.refresh_from_db()
    assert withdraw_refusal(withdrawing) is None  # one of five today


def test_the_guard_the_button_and_the_limits_read_the_releases_in_review_once_per_page(
    make_release, app, mike
):
    make_release("1.0.0", upto="submitted")
    ready = make_release("1.1.0", upto="approved_by_manager")
    with read_scope(), CaptureQueriesContext(connection) as reads:
        assert ready.is_only_one_in_review() is False
        submit = next(a for a in available_actions(ready, mike) if a.action.name == "submit")
        assert (submit.enabled, submit.code) == (False, "review_in_progress")
        assert transition_refusal(ready, "submit") is None  # one review per app is the guard's
    in_review = [  # the releases in review (not the app's published version, another fact)
        q["sql"]
        for q in reads.captured_queries
        if '"releases_release"."state" IN' in q["sql"] and "'submitted'" in q["sql"]
    ]
    assert len(in_review) == 1


def test_the_streak_counts_only_rejections_after_the_latest_approval(make_release, app, mike):
    def reject(version):
        release = make_release(version, upto="submitted")
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason="图片违规")

    reject("1.0.0")
    assert rejection_streak(app).count == 1  # no approval yet: every rejection counts
    make_release("1.1.0", upto="approved")
    assert rejection_streak(app).count == 0
    reject("1.2.0")
    reject("1.3.0")
    streak = rejection_streak(app)
    assert (streak.count, streak.category) == (2, "image_violation")


def test_the_limits_panel_names_each_limit_in_the_readers_language(client, make_release, mike, app):
    from releases.limits.quota import quota_record
    from web.language import set_preferred_language

    quota_record(app.platform_account, rest=5, limit=20, speedup_rest=1, speedup_limit=3)  # a read quota
    release = make_release("1.0.0")
    set_preferred_language(mike, "zh-hans")
    client.force_login(mike)
    everything = (
        "本月提审次数（平台账号）",
        "今日撤回次数",
        "本月撤回次数",
        "同一原因连续驳回次数",
        "审核中的版本",
    )
    # The app page shows every limit; a draft's page those it can still meet before submitting.
    ahead = ("本月提审次数（平台账号）", "同一原因连续驳回次数", "审核中的版本")
    for url, names in ((f"/apps/{app.pk}/", everything), (f"/releases/{release.pk}/", ahead)):
        panel = (
            client.get(url).content.decode().split('aria-labelledby="limits-title"')[1].split("</table>")[0]
        )
        for name in names:
            assert name in panel, (url, name)
        assert "this month" not in panel and "in a row" not in panel


def test_the_api_keeps_the_limits_english_names(client, mike, app):
    from releases.limits.quota import quota_record
    from releases.tokens import api_token_create
    from web.language import set_preferred_language

    quota_record(app.platform_account, rest=5, limit=20, speedup_rest=1, speedup_limit=3)
    set_preferred_language(mike, "zh-hans")
    auth = {"Authorization": f"Bearer {api_token_create(user=mike)}"}
    limits = client.get(f"/api/v1/apps/{app.pk}/limits", headers=auth).json()["results"]
    assert {item["key"]: item["label"] for item in limits}[
        "review_quota"
    ] == "Reviews this month (platform account)"
