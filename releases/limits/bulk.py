"""The app-level limits reached now, for every app of a team at once (the overview).

The counting is releases.limits.counts, the same functions the one-app limits use
(releases.limits.rules); this module only picks the apps whose limits are used up.
"""

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
from releases.limits.quota import AccountBudgets, account_budgets  # noqa: F401 -- accounts at once
from releases.models import App, Rejection
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
    daily, monthly = withdraw_limits()
    limited = apps.filter(platform_account__platform__in=platforms_where(_limiting_withdrawals))
    reached = []
    for app_id, (today, this_month) in sorted(withdrawal_counts(limited.values("pk"), now).items()):
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
