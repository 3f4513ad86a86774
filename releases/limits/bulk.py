"""The app-level limits reached now, for every app of a team at once (the overview).

The counting is releases.limits.counts, the same functions the one-app limits use
(releases.limits.rules); this module only picks the apps whose limits are used up.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from releases.limits import clock
from releases.limits.counts import (
    Streak,
    lock_from,
    lock_hours,
    lock_rejections,
    rejection_streaks,
    withdraw_limits,
    withdrawal_counts,
)
from releases.limits.quota import AccountBudgets, Budget, account_budgets  # noqa: F401 -- accounts at once
from releases.models import App, PlatformAccount, Rejection
from releases.platform_rules import platforms_where


@dataclass(frozen=True)
class AppLimit:
    """One app-level limit that is reached now: a lock or the withdrawals of a day or month."""

    app_id: int
    key: str  # same_reason_lock, withdraw_daily, withdraw_monthly
    label: str
    used: int
    limit: int
    resets_at: datetime
    streak: Streak | None = None
    app_name: str = ""  # with account_id, when the query read them anyway (the locks)
    account_id: int | None = None


def _limiting_withdrawals(rules) -> bool:
    return rules.withdraw_daily is not None


def _locking(rules) -> bool:
    return rules.same_reason_lock


def withdrawals_reached(apps: QuerySet[App], now: datetime | None = None) -> list[AppLimit]:
    """Of `apps`, those whose daily or monthly withdrawals are used up (one query)."""
    now = clock.now_or(now)
    limited = apps.filter(platform_account__platform__in=platforms_where(_limiting_withdrawals))
    return withdrawals_reached_of(withdrawal_counts(limited.values("pk"), now), now)


def withdrawals_reached_of(counts: dict[int, tuple[int, int]], now: datetime) -> list[AppLimit]:
    """Of {app id: (today, this month)} (counts.withdrawal_counts), the apps at their limit."""
    daily, monthly = withdraw_limits()
    reached = []
    for app_id, (today, this_month) in sorted(counts.items()):
        if this_month >= monthly:
            resets = clock.next_month_start(now)
            reached.append(
                AppLimit(app_id, "withdraw_monthly", "Withdrawals this month", this_month, monthly, resets)
            )
        elif today >= daily:
            resets = clock.next_day_start(now)
            reached.append(AppLimit(app_id, "withdraw_daily", "Withdrawals today", today, daily, resets))
    return reached


def locks_in_force(apps: QuerySet[App], now: datetime | None = None) -> list[AppLimit]:
    """Of `apps`, those locked by the same-reason rule now: only apps rejected within the lock's
    length can be locked, so only their streaks are read (two queries)."""
    now = clock.now_or(now)
    recent = Rejection.objects.filter(at__gt=now - timedelta(hours=lock_hours())).values("app_id")
    candidates = {
        row["pk"]: row
        for row in apps.filter(pk__in=recent, platform_account__platform__in=platforms_where(_locking))
        .values("pk", "name", "platform_account_id")
        .order_by("pk")
    }
    if not candidates:
        return []
    needed = lock_rejections()
    locked = []
    for app_id, streak in sorted(rejection_streaks(list(candidates)).items()):
        until = lock_from(streak, now)
        if until is not None:
            row = candidates[app_id]
            locked.append(
                AppLimit(
                    app_id,
                    "same_reason_lock",
                    "Locked: same-reason rejections",
                    needed,
                    needed,
                    until,
                    streak,
                    row["name"],
                    row["platform_account_id"],
                )
            )
    return locked


# -- every limit of every app, for the release manager of many (issue 15) ------------------------


@dataclass(frozen=True)
class Window:
    """An app's publish window now: open (until `closes_at`, None: not within a month) or closed
    (until `opens_at`, `frozen` naming the freeze); `planned`: the app has windows or freezes."""

    planned: bool
    open: bool
    closes_at: datetime | None = None
    opens_at: datetime | None = None
    frozen: str = ""


@dataclass(frozen=True)
class AppLimits:
    """One app's limits now, as the one-app rules count them (releases.limits.counts, windows)."""

    app_id: int
    app_name: str
    team_id: int
    team_name: str
    account_id: int
    account_name: str
    withdrawals_today: int
    withdrawals_month: int
    lock: AppLimit | None
    window: Window
    review: Budget | None  # the account's monthly review quota; None on a manual account
    # Whether the app's platform counts withdrawals at all (releases.platform_rules): Douyin does not.
    withdrawals_limited: bool = True

    @property
    def withdrawals_left_today(self) -> int:
        daily, monthly = withdraw_limits()
        return max(0, min(daily - self.withdrawals_today, monthly - self.withdrawals_month))

    @property
    def withdrawals_left_month(self) -> int:
        return max(0, withdraw_limits()[1] - self.withdrawals_month)


def _window(policy: dict, now: datetime) -> Window:
    from releases import windows

    planned = bool(policy.get("windows") or policy.get("freezes") or policy.get("working_days_only"))
    if windows.is_open(policy, now):
        return Window(planned, True, closes_at=windows.next_closing(policy, now))
    frozen = windows.freeze_at(policy, now)
    return Window(
        planned, False, opens_at=windows.next_opening(policy, now), frozen=frozen.reason if frozen else ""
    )


def apps_limits(apps: QuerySet[App], now: datetime | None = None) -> list[AppLimits]:
    """Every limit of every app of `apps`, in a fixed number of queries whatever their number: the
    apps with their team's policy, the withdrawals (counts.withdrawal_counts), the locks
    (locks_in_force), the accounts' quota (quota.account_budgets). Windows are computed once per
    distinct policy (most apps share their team's)."""
    from releases.windows import policy_of

    now = clock.now_or(now)
    rows = list(
        apps.order_by("name", "pk").values(
            "pk",
            "name",
            "settings",
            "team_id",
            "team__name",
            "team__publish_policy",
            "platform_account_id",
            "platform_account__name",
            "platform_account__platform",
        )
    )
    if not rows:
        return []
    counts = withdrawal_counts([row["pk"] for row in rows], now)
    limiting = set(platforms_where(_limiting_withdrawals))
    locks = {limit.app_id: limit for limit in locks_in_force(apps, now)}
    metered = {row["platform_account_id"] for row in rows if row["platform_account__platform"] != "manual"}
    accounts = list(PlatformAccount.objects.filter(pk__in=metered).select_related("quota_snapshot"))
    budgets = account_budgets(accounts, now) if accounts else {}
    windows_by_policy: dict[str, Window] = {}
    found = []
    for row in rows:
        own = (row["settings"] or {}).get("publish_window")
        key = json.dumps([own, None if own else row["team__publish_policy"]], sort_keys=True, default=str)
        if key not in windows_by_policy:
            windows_by_policy[key] = _window(policy_of(row["settings"], row["team__publish_policy"]), now)
        today, month = counts.get(row["pk"], (0, 0))
        budget = budgets.get(row["platform_account_id"])
        found.append(
            AppLimits(
                app_id=row["pk"],
                app_name=row["name"],
                team_id=row["team_id"],
                team_name=row["team__name"],
                account_id=row["platform_account_id"],
                account_name=row["platform_account__name"],
                withdrawals_today=today,
                withdrawals_month=month,
                lock=locks.get(row["pk"]),
                window=windows_by_policy[key],
                review=budget.review if budget else None,
                withdrawals_limited=row["platform_account__platform"] in limiting,
            )
        )
    return found
