"""The limits of many accounts and apps at once, in a fixed number of queries (for the overview).

The same answers as quota.review_budget / speedup_budget, rules.withdraw_limits and
rules.lock_until for one account or app (the tests compare them), computed with aggregates
instead of a query per account or app, so a page about two thousand apps costs what a page
about one does.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from releases.limits import clock
from releases.limits.quota import SPEEDUP_ACTIONS, SUBMIT_ACTIONS, Budget
from releases.limits.rules import (
    WITHDRAW_ACTIONS,
    Streak,
    lock_hours,
    lock_rejections,
    setting,
    streak_of,
)
from releases.models import App, AuditEvent, PlatformAccount, QuotaSnapshot, Rejection, Release, State


@dataclass(frozen=True)
class AccountBudgets:
    review: Budget
    speedup: Budget


def account_budgets(
    accounts: list[PlatformAccount], now: datetime | None = None
) -> dict[int, AccountBudgets]:
    """{account id: its review and speed-up budgets}. Two queries whatever the number of accounts;
    one when the accounts were read with select_related("quota_snapshot")."""
    now = clock.now_or(now)
    ids = [account.pk for account in accounts]
    if not ids:
        return {}
    if all(PlatformAccount.quota_snapshot.is_cached(account) for account in accounts):
        snapshots = {a.pk: a.quota_snapshot for a in accounts if hasattr(a, "quota_snapshot")}
    else:
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
    app_name: str = ""  # with account_id, when the query read them anyway (the locks)
    account_id: int | None = None


def withdrawals_reached(apps: QuerySet[App], now: datetime | None = None) -> list[AppLimit]:
    """Of `apps`, those whose daily or monthly withdrawals are used up (rules.withdraw_limits), one
    query: the withdrawals done (grouped per app) and those under way, as a UNION ALL."""
    now = clock.now_or(now)
    app_ids_query = apps.values("pk")
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


@dataclass(frozen=True)
class _Rejected:
    at: datetime
    categories: list


@lru_cache(maxsize=4)
def _lock_expressions(needed: int) -> tuple[Subquery, Exists, dict[str, Subquery]]:
    """For locks_in_force, built once per process (a query copies the expressions it uses): the
    `needed`-th newest rejection's time, "approved at or after it", and the newest `needed`
    rejections' times and categories."""
    newest = Rejection.objects.filter(app_id=OuterRef("pk")).order_by("-at", "-pk")
    approved_since = Exists(
        AuditEvent.objects.filter(
            app_id=OuterRef("pk"), action="review_approved", at__gte=OuterRef("oldest_needed")
        )
    )
    rejected = {}
    for n in range(needed):
        rejected[f"at_{n}"] = Subquery(newest.values("at")[n : n + 1])
        rejected[f"categories_{n}"] = Subquery(newest.values("categories")[n : n + 1])
    return Subquery(newest.values("at")[needed - 1 : needed]), approved_since, rejected


def locks_in_force(apps: QuerySet[App], now: datetime | None = None) -> list[AppLimit]:
    """Of `apps`, those locked by the same-reason rule now (rules.lock_until), in one query.

    A lock needs the app's newest `needed` rejections, all after its last approval, to share a
    reason, the newest inside the lock's length. The query keeps the apps rejected inside that
    window whose `needed`-th newest rejection came after their last approval (a few index
    probes per app: reviews 0003 rejection (app_id, at, id), audit (app_id, action, at)), and
    reads the newest `needed` rejections of those only, never an app's whole history.
    """
    now = clock.now_or(now)
    hours, needed = lock_hours(), lock_rejections()
    oldest_needed, approved_since, rejected = _lock_expressions(needed)
    rows = (
        apps.filter(pk__in=Rejection.objects.filter(at__gt=now - timedelta(hours=hours)).values("app_id"))
        .alias(oldest_needed=oldest_needed)
        .filter(oldest_needed__isnull=False)
        .filter(~approved_since)
        .annotate(**rejected)
        .values("pk", "name", "platform_account_id", *rejected)
        .order_by("pk")
    )
    locked = []
    for row in rows:
        rejections = [_Rejected(row[f"at_{n}"], row[f"categories_{n}"] or []) for n in range(needed)]
        streak = streak_of(rejections)
        if streak.count < needed or streak.last_at is None:
            continue
        until = streak.last_at + timedelta(hours=hours)
        if now < until:
            locked.append(
                AppLimit(
                    row["pk"],
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
