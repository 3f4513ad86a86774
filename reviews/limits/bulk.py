"""The limits of many accounts and apps at once, in a fixed number of queries (for the overview).

The same answers as quota.review_budget / speedup_budget, rules.withdraw_limits and
rules.lock_until for one account or app (the tests compare them), computed with aggregates
instead of a query per account or app, so a page about two thousand apps costs what a page
about one does.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DateTimeField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from releases.models import App, AuditEvent, PlatformAccount, Release, State
from reviews.limits import clock
from reviews.limits.quota import SPEEDUP_ACTIONS, SUBMIT_ACTIONS, Budget
from reviews.limits.rules import (
    WITHDRAW_ACTIONS,
    Streak,
    lock_hours,
    lock_rejections,
    setting,
    streak_of,
)
from reviews.models import QuotaSnapshot, Rejection

STREAK_DEPTH = 50  # as rules.rejection_streak: the newest 50 rejections decide


@dataclass(frozen=True)
class AccountBudgets:
    review: Budget
    speedup: Budget


def account_budgets(
    accounts: list[PlatformAccount], now: datetime | None = None
) -> dict[int, AccountBudgets]:
    """{account id: its review and speed-up budgets}. Two queries whatever the number of accounts."""
    now = clock.now_or(now)
    ids = [account.pk for account in accounts]
    if not ids:
        return {}
    snapshots = {s.account_id: s for s in QuotaSnapshot.objects.filter(account_id__in=ids)}
    spent = _spent_by_account(ids, now)
    resets_at = clock.next_month_start(now)
    found = {}
    for account_id in ids:
        snapshot = snapshots.get(account_id)
        review, speedup = spent[account_id]["review"], spent[account_id]["speedup"]
        if snapshot is None:
            found[account_id] = AccountBudgets(
                Budget(review, None, resets_at), Budget(speedup, None, resets_at)
            )
            continue
        fresh = clock.same_month(snapshot.refreshed_at, now)
        found[account_id] = AccountBudgets(
            _budget(snapshot.rest, snapshot.limit, review, fresh, resets_at),
            _budget(snapshot.speedup_rest, snapshot.speedup_limit, speedup, fresh, resets_at),
        )
    return found


def _budget(rest: int, limit: int, spent: int, fresh: bool, resets_at: datetime) -> Budget:
    remaining = (rest if fresh else limit) - spent
    return Budget(limit - max(0, remaining), limit, resets_at)


def _spent_by_account(account_ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """Reviews and speed-ups spent per account since the later of the month's start and the last
    quota read (what quota._budget subtracts), in one grouped query."""
    month = clock.month_start(now)
    month_value = Value(month, output_field=DateTimeField())
    refreshed = QuotaSnapshot.objects.filter(account__apps=OuterRef("app_id")).values("refreshed_at")[:1]
    account = App.objects.filter(pk=OuterRef("app_id")).values("platform_account_id")[:1]
    rows = (
        AuditEvent.objects.filter(
            app_id__in=App.objects.filter(platform_account_id__in=account_ids).values("pk"),
            action__in=SUBMIT_ACTIONS + SPEEDUP_ACTIONS,
            at__gte=month,
        )
        .annotate(since=Greatest(month_value, Coalesce(Subquery(refreshed), month_value)))
        .filter(at__gte=F("since"))
        .annotate(account=Subquery(account))
        .values("account", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    spent: dict[int, dict[str, int]] = defaultdict(lambda: {"review": 0, "speedup": 0})
    for row in rows:
        kind = "review" if row["action"] in SUBMIT_ACTIONS else "speedup"
        spent[row["account"]][kind] += row["n"]
    return spent


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


def withdrawals_reached(app_ids_query, now: datetime | None = None) -> list[AppLimit]:
    """Apps whose daily or monthly withdrawals are used up (rules.withdraw_limits), two queries."""
    now = clock.now_or(now)
    day, month = clock.day_start(now), clock.month_start(now)
    done = (
        AuditEvent.objects.filter(app_id__in=app_ids_query, action__in=WITHDRAW_ACTIONS, at__gte=month)
        .values("app_id")
        .annotate(today=Count("id", filter=Q(at__gte=day)), month=Count("id"))
        .order_by()
    )
    counts = {row["app_id"]: [row["today"], row["month"]] for row in done}
    withdrawing = (
        Release.objects.filter(app_id__in=app_ids_query, state=State.WITHDRAWING)
        .values("app_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in withdrawing:
        pair = counts.setdefault(row["app_id"], [0, 0])
        pair[0] += row["n"]
        pair[1] += row["n"]
    daily, monthly = setting("WITHDRAW_DAILY_LIMIT", 5), setting("WITHDRAW_MONTHLY_LIMIT", 10)
    reached = []
    for app_id, (today, this_month) in sorted(counts.items()):
        if this_month >= monthly:
            reached.append(
                AppLimit(
                    app_id,
                    "withdraw_monthly",
                    "Withdrawals this month",
                    this_month,
                    monthly,
                    clock.next_month_start(now),
                )
            )
        elif today >= daily:
            reached.append(
                AppLimit(
                    app_id, "withdraw_daily", "Withdrawals today", today, daily, clock.next_day_start(now)
                )
            )
    return reached


def locks_in_force(app_ids_query, now: datetime | None = None) -> list[AppLimit]:
    """Apps locked by the same-reason rule now (rules.lock_until), in one query.

    Only an app rejected within the lock's length can be locked, so only those apps'
    rejections since their last approval are read.
    """
    now = clock.now_or(now)
    hours = lock_hours()
    recent = Rejection.objects.filter(app_id__in=app_ids_query, at__gt=now - timedelta(hours=hours)).values(
        "app_id"
    )
    last_approved = (
        AuditEvent.objects.filter(app_id=OuterRef("app_id"), action="review_approved")
        .order_by("-at")
        .values("at")[:1]
    )
    rows = (
        Rejection.objects.filter(app_id__in=recent)
        .annotate(approved_at=Subquery(last_approved))
        .filter(Q(approved_at__isnull=True) | Q(at__gt=F("approved_at")))
        .order_by("app_id", "-at", "-pk")
        .only("app_id", "at", "categories")
    )
    by_app: dict[int, list] = defaultdict(list)
    for rejection in rows:
        if len(by_app[rejection.app_id]) < STREAK_DEPTH:
            by_app[rejection.app_id].append(rejection)
    needed = lock_rejections()
    locked = []
    for app_id, rejections in sorted(by_app.items()):
        streak = streak_of(rejections)
        if streak.count < needed or streak.last_at is None:
            continue
        until = streak.last_at + timedelta(hours=hours)
        if now < until:
            locked.append(
                AppLimit(
                    app_id,
                    "same_reason_lock",
                    "Locked: same-reason rejections",
                    needed,
                    needed,
                    until,
                    streak,
                )
            )
    return locked
