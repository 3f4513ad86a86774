"""Submission limits in Beijing time, at their boundaries (time-machine moves the clock)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from releases import services
from releases.gate import rules
from releases.limits import app_limits, release_limits, speedup_refusal, submit_refusal, withdraw_refusal
from releases.limits.jobs import expire_overdue_releases
from releases.limits.quota import quota_record, quota_refresh_all
from releases.models import QuotaSnapshot, Release, State
from releases.platforms import PlatformError
from releases.playbooks.seed import seed_playbooks
from releases.rejection_recording import on_rejected
from releases.remediation import remediation_override
from releases.tokens import api_token_create
from reviews.platforms.manual import ManualAdapter

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def versions():
    counter = iter(range(1000))
    return lambda: f"1.0.{next(counter)}"


@pytest.fixture
def withdrawal(make_release, mike, versions):
    def make():
        release = make_release(versions(), upto="submitted")
        services.release_withdraw(release=release, actor=mike)
        release.refresh_from_db()
        assert release.state == State.WITHDRAWN
        return release

    return make


@pytest.fixture
def rejection(make_release, mike, versions):
    def make(reason="隐私政策不完善"):
        release = make_release(versions(), upto="submitted")
        services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
        release.refresh_from_db()
        on_rejected(release)
        return release

    return make


@pytest.fixture
def ready(make_release, mike, versions):
    """A release checked and approved, ready to submit, with nothing to remediate."""
    return lambda: make_release(versions(), upto="approved_by_manager")


def _limit(app, key, now=None):
    return next(item for item in app_limits(app, now) if item["key"] == key)


# -- withdrawals: 5 a day, 10 a month, per app ------------------------------------------------------


def test_the_fifth_withdrawal_of_a_day_is_allowed_and_the_sixth_refused(withdrawal, make_release, mike, app):
    with at(bj(2026, 3, 10, 9, 0)):
        for _ in range(4):
            withdrawal()
        fifth = make_release("2.0.0", upto="submitted")
        assert withdraw_refusal(fifth) is None
        services.release_withdraw(release=fifth, actor=mike)
        sixth = make_release("2.0.1", upto="submitted")
        code, message = withdraw_refusal(sixth)
    assert code == "withdraw_limit"
    assert "used its 5 withdrawals today" in message
    assert "2026-03-11 00:00 Beijing time" in message
    assert _limit(app, "withdraw_daily", bj(2026, 3, 10, 9, 0)) == {
        "key": "withdraw_daily",
        "label": "Withdrawals today",
        "code": "withdraw_limit",
        "used": 5,
        "limit": 5,
        "remaining": 0,
        "resets_at": bj(2026, 3, 11),
    }


def test_the_daily_withdrawals_reset_at_midnight_in_shanghai_not_utc(withdrawal, make_release):
    with at(bj(2026, 3, 10, 23, 50)):
        for _ in range(5):
            withdrawal()
        sixth = make_release("2.0.0", upto="submitted")
    with at(bj(2026, 3, 10, 23, 59, 59)):
        assert withdraw_refusal(sixth)[0] == "withdraw_limit"
    with at(bj(2026, 3, 11, 0, 0)):  # 16:00 UTC: a UTC day would not have turned yet
        assert withdraw_refusal(sixth) is None


def test_the_eleventh_withdrawal_of_a_month_waits_for_the_next_month(withdrawal, make_release, app):
    for day in (10, 11):
        with at(bj(2026, 3, day, 10, 0)):
            for _ in range(5):
                withdrawal()
    with at(bj(2026, 3, 12, 10, 0)):
        eleventh = make_release("2.0.0", upto="submitted")
        code, message = withdraw_refusal(eleventh)
        assert code == "withdraw_limit"
        assert "used its 10 withdrawals this month" in message
        assert "2026-04-01 00:00 Beijing time" in message
        assert _limit(app, "withdraw_monthly")["remaining"] == 0
    with at(bj(2026, 4, 1, 0, 0)):
        assert withdraw_refusal(eleventh) is None


def test_withdrawals_made_in_the_platform_console_count_too(make_release, app, versions):
    with at(bj(2026, 3, 10, 10, 0)):
        for _ in range(5):
            release = make_release(versions(), upto="submitted")
            services.release_changed_outside(release=release, change="withdrawn")
        assert _limit(app, "withdraw_daily")["used"] == 5


# -- the same-reason lock ---------------------------------------------------------------------


def test_two_rejections_in_a_row_for_the_same_reason_lock_the_app_for_24_hours(rejection, ready, app):
    with at(bj(2026, 3, 10, 9, 0)):
        rejection("1:隐私政策不完善<br>2:首屏加载过慢")
    with at(bj(2026, 3, 10, 15, 30)):
        rejection("未说明收集用户信息的用途，隐私政策缺失")
        candidate = ready()
    with at(bj(2026, 3, 11, 15, 29, 59)):  # the 24th hour
        code, message = submit_refusal(candidate)
        assert code == "same_reason_lock"
        assert "rejected 2 times in a row for privacy policy" in message
        assert "locked until 2026-03-11 15:30 Beijing time" in message
        lock = _limit(app, "same_reason_lock")
        assert (lock["used"], lock["limit"], lock["remaining"], lock["resets_at"]) == (
            2,
            2,
            0,
            bj(2026, 3, 11, 15, 30),
        )
    with at(bj(2026, 3, 11, 15, 30)):
        assert submit_refusal(candidate) is None
        assert _limit(app, "same_reason_lock")["remaining"] == 1  # one more such rejection locks again


def test_different_reasons_do_not_lock(rejection, ready):
    with at(bj(2026, 3, 10, 9, 0)):
        rejection("隐私政策不完善")
        rejection("图片违规")
        assert submit_refusal(ready()) is None


def test_an_approval_breaks_the_row(rejection, make_release, ready, versions):
    with at(bj(2026, 3, 10, 9, 0)):
        rejection("隐私政策不完善")
        make_release(versions(), upto="approved")
        rejection("隐私政策不完善")
        assert submit_refusal(ready()) is None


def test_unrecognised_reasons_are_never_the_same_reason(rejection, ready):
    with at(bj(2026, 3, 10, 9, 0)):
        rejection("请修改后重新提交")
        rejection("请修改后重新提交")
        assert submit_refusal(ready()) is None


@override_settings(SAME_REASON_LOCK_REJECTIONS=3, SAME_REASON_LOCK_HOURS=2)
def test_the_lock_threshold_and_length_are_settings(rejection, ready):
    with at(bj(2026, 3, 10, 9, 0)):
        rejection()
        rejection()
        candidate = ready()
        assert submit_refusal(candidate) is None
        rejection()
        assert "locked until 2026-03-10 11:00 Beijing time" in submit_refusal(candidate)[1]


# -- the resubmission window ----------------------------------------------------------------------


def test_a_rejected_release_can_be_resubmitted_until_the_seventh_day_ends(rejection, mike):
    with at(bj(2026, 3, 10, 9, 0)):
        release = rejection()
        remediation_override(release=release, actor=mike, reason="Fixed in the console")
    with at(bj(2026, 3, 17, 8, 59, 59)):
        assert submit_refusal(release) is None
        window = next(i for i in release_limits(release) if i["key"] == "resubmission_window")
        assert (window["used"], window["limit"], window["resets_at"]) == (6, 7, bj(2026, 3, 17, 9, 0))
    with at(bj(2026, 3, 17, 9, 0)):
        code, message = submit_refusal(release)
    assert code == "resubmission_window_closed"
    assert "closed at 2026-03-17 09:00 Beijing time" in message
    assert "edit the release to start a new one from draft" in message


@pytest.mark.skipif(
    not hasattr(services, "release_expire"), reason="releases.services.release_expire is not wired yet"
)
def test_the_expiry_job_moves_overdue_rejections_to_expired(rejection):
    with at(bj(2026, 3, 10, 9, 0)):
        overdue = rejection()
    with at(bj(2026, 3, 12, 9, 0)):
        recent = rejection()
    with at(bj(2026, 3, 17, 9, 0)):
        assert expire_overdue_releases() == 1
        assert expire_overdue_releases() == 0
    assert Release.objects.get(pk=overdue.pk).state == State.EXPIRED
    assert Release.objects.get(pk=recent.pk).state == State.REJECTED


# -- one release in review per app --------------------------------------------------------------


def test_only_one_release_per_app_is_in_review(make_release, ready, app):
    make_release("0.9.0", upto="submitted")
    waiting = ready()
    assert not rules.holds("review_in_progress", waiting)
    assert "0.9.0 is already in review" in rules.reason("review_in_progress", waiting)
    assert _limit(app, "in_review")["remaining"] == 0


# -- the monthly review quota of the platform account -----------------------------------------


def test_the_quota_meter_moves_with_each_submission(make_release, app, versions):
    with at(bj(2026, 3, 10, 9, 0)):
        quota_record(app.platform_account, rest=5, limit=20, speedup_rest=1, speedup_limit=3)
    with at(bj(2026, 3, 10, 10, 0)):
        make_release(versions(), upto="approved")  # submitted, then approved
        make_release(versions(), upto="submitted")
        quota = _limit(app, "review_quota")
    assert (quota["used"], quota["limit"], quota["remaining"]) == (17, 20, 3)
    assert quota["resets_at"] == bj(2026, 4, 1)


def test_the_quota_is_shared_by_every_app_of_the_account(make_release, app, team, versions):
    other = app.platform_account.apps.create(team=team, name="Second", appid="wxsecond001")
    quota_record(app.platform_account, rest=2, limit=20)
    make_release(versions(), upto="submitted", app=other)
    assert _limit(app, "review_quota")["remaining"] == 1


def test_an_exhausted_quota_refuses_until_the_first_of_the_month_in_beijing(make_release, ready, app):
    with at(bj(2026, 3, 31, 22, 0)):
        quota_record(app.platform_account, rest=1, limit=20)
    with at(bj(2026, 3, 31, 23, 0)):
        make_release("0.9.0", upto="approved")
        candidate = ready()
    with at(bj(2026, 3, 31, 23, 59, 59)):
        code, message = submit_refusal(candidate)
        assert code == "quota_exhausted"
        assert "resets at 2026-04-01 00:00 Beijing time" in message
        assert submit_refusal(candidate).details == {"lifts_at": "2026-04-01T00:00:00+08:00"}
    with at(bj(2026, 4, 1, 0, 0)):
        assert submit_refusal(candidate) is None
        quota = _limit(app, "review_quota")
        assert (quota["used"], quota["remaining"], quota["resets_at"]) == (0, 20, bj(2026, 5, 1))


class QuotaPlatform(ManualAdapter):
    """A platform that keeps a monthly quota (as WeChat does), here never read yet."""

    monthly_quota = True


@override_settings(SLUICE_PLATFORM_ADAPTERS={"manual": "tests.releases.test_limits.QuotaPlatform"})
def test_an_account_never_read_has_an_unknown_quota_and_is_not_refused(make_release, ready, app):
    make_release("0.9.0", upto="approved")
    quota = _limit(app, "review_quota")
    assert (quota["used"], quota["limit"], quota["remaining"]) == (1, None, None)
    assert submit_refusal(ready()) is None


def test_the_speedup_quota_refuses_when_used_up(make_release, app):
    quota_record(app.platform_account, rest=5, limit=20, speedup_rest=0, speedup_limit=3)
    release = make_release(upto="submitted")
    code, message = speedup_refusal(release)
    assert code == "speedup_exhausted"
    assert _limit(app, "speedup_quota")["remaining"] == 0


class QuotaReadingAdapter(ManualAdapter):
    """A platform that answers queryquota for the whole account."""

    answer = {"rest": 7, "limit": 27, "speedup_rest": 2, "speedup_limit": 5}

    def query_quota(self):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class PerAppQuotaAdapter(ManualAdapter):
    """WeChat's shape: queryquota(app) through any authorized app of the account."""

    def queryquota(self, app):
        assert app.authorizer_refresh_token
        return type("Quota", (), {"rest": 3, "limit": 20, "speedup_rest": 0, "speedup_limit": 0})()


@override_settings(SLUICE_PLATFORM_ADAPTERS={"manual": "tests.releases.test_limits.QuotaReadingAdapter"})
def test_the_refresh_job_stores_what_the_platform_says(app, monkeypatch):
    assert quota_refresh_all() == 1
    snapshot = QuotaSnapshot.objects.get(account=app.platform_account)
    assert (snapshot.rest, snapshot.limit, snapshot.speedup_rest, snapshot.speedup_limit) == (7, 27, 2, 5)
    monkeypatch.setattr(QuotaReadingAdapter, "answer", PlatformError("timeout"))
    assert quota_refresh_all() == 0
    assert QuotaSnapshot.objects.get(account=app.platform_account).rest == 7  # the last reading is kept


@override_settings(SLUICE_PLATFORM_ADAPTERS={"manual": "tests.releases.test_limits.PerAppQuotaAdapter"})
def test_the_refresh_job_asks_through_an_authorized_app(app):
    assert quota_refresh_all() == 0  # no app is authorized yet
    app.authorizer_refresh_token = "refresh-token"
    app.save()
    assert quota_refresh_all() == 1
    assert QuotaSnapshot.objects.get(account=app.platform_account).rest == 3


def test_a_platform_without_a_monthly_quota_shows_no_quota_rows(app, make_release):
    """The manual platform counts nothing per month: no "1 / unknown" row on its apps' pages."""
    make_release("0.9.0", upto="approved")
    assert {"review_quota", "speedup_quota"}.isdisjoint(item["key"] for item in app_limits(app))


def test_a_platform_without_a_quota_is_skipped(app):
    assert quota_refresh_all() == 0
    assert not QuotaSnapshot.objects.exists()


# -- the API -------------------------------------------------------------------------------------


@pytest.mark.urls("tests.releases.test_remediation")
def test_the_api_lists_every_limit_of_an_app(client, app, alice, olga):
    quota_record(app.platform_account, rest=4, limit=20)
    auth = {"Authorization": f"Bearer {api_token_create(user=alice)}"}
    with at(bj(2026, 3, 10, 9, 0)):
        response = client.get(f"/api/v1/apps/{app.pk}/limits", headers=auth)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["key"] for r in results] == [
        "review_quota",
        "speedup_quota",
        "withdraw_daily",
        "withdraw_monthly",
        "same_reason_lock",
        "in_review",
    ]
    daily = results[2]
    assert daily == {
        "key": "withdraw_daily",
        "label": "Withdrawals today",
        "code": "withdraw_limit",
        "used": 0,
        "limit": 5,
        "remaining": 5,
        "resets_at": "2026-03-11T00:00:00+08:00",
    }
    outsider = {"Authorization": f"Bearer {api_token_create(user=olga)}"}
    assert client.get(f"/api/v1/apps/{app.pk}/limits", headers=outsider).status_code == 404


def test_limits_are_read_in_beijing_time_whatever_the_window_started_on(rejection):
    with at(bj(2026, 3, 10, 9, 0)):
        release = rejection()
    assert release.decided_at == bj(2026, 3, 10, 9, 0)
    assert timedelta(days=7) == (
        next(i for i in release_limits(release, bj(2026, 3, 10, 9, 0)) if i["key"] == "resubmission_window")[
            "resets_at"
        ]
        - release.decided_at
    )


# -- the whole promise, through the services, the limits guard and the API ---------------------


@pytest.mark.urls("tests.releases.test_remediation")
def test_the_demo_promise_holds_through_the_wiring(client, make_release, mike, alice, app):
    """Two same-reason rejections lock the app with a countdown, the tasks say what to do, an early
    resubmission is refused with a clear message, and the quota meter moves with each submission."""
    seed_playbooks()
    as_alice = {"Authorization": f"Bearer {api_token_create(user=alice)}"}
    as_mike = {"Authorization": f"Bearer {api_token_create(user=mike)}"}
    with at(bj(2026, 3, 10, 9, 0)):
        quota_record(app.platform_account, rest=10, limit=20)
        first = make_release("1.0.0", upto="submitted")
        services.release_record_outcome(
            release=first, actor=mike, outcome="rejected", reason="1:隐私政策不完善"
        )
        body = client.get(f"/api/v1/releases/{first.pk}", headers=as_alice).json()
        assert body["rejection"]["items"][0]["category"] == "privacy_policy"
        assert body["remediation"][0]["key"] == "privacy_policy.permissions"
        refused = client.post(
            f"/api/v1/releases/{first.pk}/submit", headers=as_mike, content_type="application/json"
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "remediation_incomplete")
        for task in first.remediation_tasks.filter(required=True):
            done = client.post(
                f"/api/v1/releases/{first.pk}/remediation/{task.key}/done",
                headers=as_alice,
                content_type="application/json",
                data={"note": "fixed"},
            )
            assert done.status_code == 200
        services.release_submit(release=Release.objects.get(pk=first.pk), actor=mike)
        limits = client.get(f"/api/v1/apps/{app.pk}/limits", headers=as_alice).json()["results"]
        assert next(i for i in limits if i["key"] == "review_quota")["remaining"] == 8
        services.release_record_outcome(
            release=Release.objects.get(pk=first.pk),
            actor=mike,
            outcome="rejected",
            reason="隐私政策仍不完善",
        )
        second = make_release("1.0.1", upto="approved_by_manager")
        refused = client.post(
            f"/api/v1/releases/{second.pk}/submit", headers=as_mike, content_type="application/json"
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "same_reason_lock")
        assert "locked until 2026-03-11 09:00 Beijing time" in refused.json()["error"]["message"]
        client.force_login(mike)
        assert "locked until 2026-03-11 09:00" in client.get(f"/releases/{second.pk}/").content.decode()
    with at(bj(2026, 3, 17, 9, 0)):
        assert expire_overdue_releases() == 1
    assert Release.objects.get(pk=first.pk).state == State.EXPIRED
