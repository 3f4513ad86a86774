"""The limits of many accounts and apps at once, in a fixed number of queries (for the overview).

The same answers as quota.review_budget / speedup_budget, rules.withdraw_limits and
rules.lock_until for one account or app (the tests compare them), computed with aggregates
instead of a query per account or app, so a page about two thousand apps costs what a page
about one does.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Case, Count, F, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import RowNumber

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
    spent = _spent_by_account(ids, snapshots, now)
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


def _spent_by_account(
    account_ids: list[int], snapshots: dict[int, QuotaSnapshot], now: datetime
) -> dict[int, dict[str, int]]:
    """Reviews and speed-ups spent per account since the later of the month's start and the last
    quota read (what quota._budget subtracts), in one grouped query: each account's cutoff is
    known from its snapshot, so the query has one condition per account, no per-row subquery."""
    month = clock.month_start(now)
    cutoffs = {}
    for account_id in account_ids:
        snapshot = snapshots.get(account_id)
        cutoffs[account_id] = max(month, snapshot.refreshed_at) if snapshot is not None else month
    apps_of = {a: App.objects.filter(platform_account_id=a).values("pk") for a in account_ids}
    wanted = Q()
    for account_id, cutoff in cutoffs.items():
        wanted |= Q(app_id__in=apps_of[account_id], at__gte=cutoff)
    rows = (
        AuditEvent.objects.filter(
            wanted, action__in=SUBMIT_ACTIONS + SPEEDUP_ACTIONS, at__gte=min(cutoffs.values())
        )
        .annotate(
            account=Case(
                *[When(app_id__in=apps_of[a], then=Value(a)) for a in account_ids],
                output_field=BigIntegerField(),
            )
        )
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
    """Apps whose daily or monthly withdrawals are used up (rules.withdraw_limits), one query:
    the withdrawals done (grouped per app) and those under way, as a UNION ALL."""
    now = clock.now_or(now)
    day, month = clock.day_start(now), clock.month_start(now)
    done = (
        AuditEvent.objects.filter(app_id__in=app_ids_query, action__in=WITHDRAW_ACTIONS, at__gte=month)
        .values("app_id")
        .annotate(today=Count("id", filter=Q(at__gte=day)), month=Count("id"))
        .order_by()
    )
    withdrawing = (
        Release.objects.filter(app_id__in=app_ids_query, state=State.WITHDRAWING)
        .values("app_id")
        .annotate(today=Count("id"), month=Count("id"))
        .order_by()
    )
    counts: dict[int, list[int]] = {}
    for app_id, today, this_month in done.union(withdrawing, all=True).values_list(
        "app_id", "today", "month"
    ):
        pair = counts.setdefault(app_id, [0, 0])
        pair[0] += today
        pair[1] += this_month
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
    """Apps locked by the same-reason rule now (rules.lock_until), in two queries at most.

    Only an app rejected within the lock's length can be locked, so only those apps'
    rejections since their last approval are read.
    """
    now = clock.now_or(now)
    hours = lock_hours()
    last_approved = (
        AuditEvent.objects.filter(app_id=OuterRef("app_id"), action="review_approved")
        .order_by("-at")
        .values("at")[:1]
    )
    # 1. The few apps rejected inside the lock window, each with its last approval (one subquery
    #    per app, not per rejection).
    recent = dict(
        Rejection.objects.filter(app_id__in=app_ids_query, at__gt=now - timedelta(hours=hours))
        .order_by()
        .values("app_id")
        .distinct()
        .annotate(approved_at=Subquery(last_approved))
        .values_list("app_id", "approved_at")
    )
    if not recent:
        return []
    # 2. Their newest rejections: the lock needs `needed` in a row for one reason, all after the
    #    app's last approval, so the newest `needed` per app decide (a window function keeps
    #    only those); the ones before the approval are dropped here.
    needed = lock_rejections()
    newest = (
        Rejection.objects.filter(app_id__in=list(recent))
        .annotate(
            row=Window(RowNumber(), partition_by=[F("app_id")], order_by=[F("at").desc(), F("pk").desc()])
        )
        .filter(row__lte=needed)
        .order_by("app_id", "-at", "-pk")
        .only("app_id", "at", "categories")
    )
    by_app: dict[int, list] = defaultdict(list)
    for rejection in newest:
        approved_at = recent[rejection.app_id]
        if approved_at is None or rejection.at > approved_at:
            by_app[rejection.app_id].append(rejection)
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
