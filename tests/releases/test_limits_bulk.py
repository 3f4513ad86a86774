"""The overview's limits for many accounts and apps at once agree with the one-app answers."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from releases import services
from releases.limits.bulk import account_budgets, locks_in_force, withdrawals_reached
from releases.limits.quota import quota_record, review_budget, speedup_budget
from releases.limits.rules import lock_until, withdraw_limits
from releases.models import App, PlatformAccount, State
from releases.rejection_recording import on_rejected

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def versions():
    counter = iter(range(1000))
    return lambda: f"2.0.{next(counter)}"


@pytest.fixture
def second_app(team):
    account = PlatformAccount.objects.create(team=team, platform="manual", name="Second account")
    return App.objects.create(team=team, platform_account=account, name="Second", appid="wxsecond01")


def test_account_budgets_match_the_per_account_quota_in_every_case(
    make_release, app, second_app, manual_account, versions
):
    third = PlatformAccount.objects.create(team=app.team, platform="manual", name="Never read")
    with at(bj(2026, 3, 2, 10, 0)):
        quota_record(manual_account, rest=20, limit=30, speedup_rest=2, speedup_limit=3)
        quota_record(second_app.platform_account, rest=5, limit=10)
    with at(bj(2026, 3, 5, 10, 0)):
        make_release(versions(), upto="published")
        make_release(versions(), upto="submitted")
        make_release(versions(), upto="submitted", app=second_app)
    accounts = [manual_account, second_app.platform_account, third]
    for moment in (bj(2026, 3, 5, 12, 0), bj(2026, 4, 1, 0, 0)):  # same month as the read, then the next
        bulk = account_budgets(accounts, moment)
        for account in accounts:
            assert bulk[account.pk].review == review_budget(account, moment), (account, moment)
            assert bulk[account.pk].speedup == speedup_budget(account, moment), (account, moment)
    march = account_budgets(accounts, bj(2026, 3, 5, 12, 0))
    assert (march[manual_account.pk].review.used, march[manual_account.pk].review.limit) == (12, 30)
    assert march[third.pk].review.limit is None


def test_account_budgets_take_a_fixed_number_of_queries(django_assert_num_queries, manual_account):
    accounts = [manual_account] + [
        PlatformAccount.objects.create(team=manual_account.team, platform="manual", name=f"A{n}")
        for n in range(5)
    ]
    quota_record(accounts[1], rest=5, limit=10)
    with django_assert_num_queries(2):
        expected = account_budgets(accounts)
    read = list(
        PlatformAccount.objects.filter(pk__in=[a.pk for a in accounts]).select_related("quota_snapshot")
    )
    with django_assert_num_queries(1):  # the quota reads came with the accounts
        assert account_budgets(read) == expected


def _withdraw(make_release, mike, version, app):
    release = make_release(version, upto="submitted", app=app)
    services.release_withdraw(release=release, actor=mike)


def test_withdrawals_reached_matches_the_per_app_limits(make_release, mike, app, second_app, versions):
    with at(bj(2026, 3, 10, 9, 0)):
        for _ in range(5):
            _withdraw(make_release, mike, versions(), app)
        _withdraw(make_release, mike, versions(), second_app)
        now = bj(2026, 3, 10, 18, 0)
        reached = withdrawals_reached(App.objects.all(), now)
    assert [(r.app_id, r.key, r.used, r.limit) for r in reached] == [(app.pk, "withdraw_daily", 5, 5)]
    daily = next(limit for limit in withdraw_limits(app, now) if limit.key == "withdraw_daily")
    assert (daily.used, daily.resets_at) == (5, reached[0].resets_at)
    assert withdrawals_reached(App.objects.all(), bj(2026, 3, 11, 0, 0)) == []  # a new Beijing day


def _reject(make_release, mike, version, reason, app):
    release = make_release(version, upto="submitted", app=app)
    services.release_record_outcome(release=release, actor=mike, outcome="rejected", reason=reason)
    release.refresh_from_db()
    on_rejected(release)
    return release


@pytest.mark.parametrize("needed", [2, 3])
def test_locks_in_force_match_the_per_app_lock(
    make_release, mike, app, second_app, versions, settings, needed
):
    settings.SAME_REASON_LOCK_REJECTIONS = needed
    with at(bj(2026, 3, 10, 9, 0)):
        _reject(make_release, mike, versions(), "1:隐私政策不完善<br>2:首屏加载过慢", app)
        _reject(make_release, mike, versions(), "隐私政策不完善", second_app)
    with at(bj(2026, 3, 10, 15, 30)):
        _reject(make_release, mike, versions(), "未说明收集用户信息的用途，隐私政策缺失", app)
        _reject(make_release, mike, versions(), "首屏加载过慢", second_app)  # another reason: no lock
    apps = App.objects.all()
    for moment in (bj(2026, 3, 10, 16, 0), bj(2026, 3, 11, 15, 29), bj(2026, 3, 11, 15, 30)):
        locked = {limit.app_id: limit.resets_at for limit in locks_in_force(apps, moment)}
        for candidate in (app, second_app):
            until, _ = lock_until(candidate, moment)
            assert locked.get(candidate.pk) == until, (candidate, moment)
    locked = {2: [app.pk], 3: []}[needed]
    assert [limit.app_id for limit in locks_in_force(apps, bj(2026, 3, 11, 15, 29))] == locked


def test_the_limits_of_every_app_take_a_query_or_two_whatever_the_number_of_apps(
    make_release, mike, app, second_app, versions, django_assert_num_queries
):
    with at(bj(2026, 3, 10, 9, 0)):
        for target in (app, app, second_app):
            _reject(make_release, mike, versions(), "隐私政策不完善", target)
        _withdraw(make_release, mike, versions(), second_app)
        with django_assert_num_queries(3):  # the apps rejected lately, their last approvals, their streaks
            (locked,) = locks_in_force(App.objects.all())
        with django_assert_num_queries(1):
            withdrawals_reached(App.objects.all())
    assert (locked.app_id, locked.app_name, locked.account_id) == (app.pk, "Shop", app.platform_account_id)


def test_an_approval_ends_the_row_for_the_bulk_lock_too(make_release, mike, app, versions):
    with at(bj(2026, 3, 10, 9, 0)):
        _reject(make_release, mike, versions(), "隐私政策不完善", app)
    with at(bj(2026, 3, 10, 10, 0)):
        make_release(versions(), upto="approved")
    with at(bj(2026, 3, 10, 11, 0)):
        released = _reject(make_release, mike, versions(), "隐私政策不完善", app)
        assert released.state == State.REJECTED
        assert locks_in_force(App.objects.all()) == []
        assert lock_until(app, bj(2026, 3, 10, 11, 0))[0] is None
