"""The third-party review quota (queryquota): monthly, shared by every app of a platform account.

The platform's numbers are read by a job (`quota_refresh_all`) into a QuotaSnapshot; between
two reads, the submissions Sluice recorded since are subtracted, so the meter moves with each
submission without another call. A snapshot from an earlier month counts as a fresh allocation
of the same size from the 1st, 00:00 Beijing time, until the next read says otherwise.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from django.db.models import BigIntegerField, Case, Count, Q, QuerySet, Value, When

from releases.limits import clock
from releases.memo import recall, remember
from releases.models import App, AuditEvent, PlatformAccount, QuotaSnapshot
from releases.platforms import PlatformError, adapter_for

logger = logging.getLogger(__name__)

# Audit actions that spent a review or a speed-up of the account's quota.
SUBMIT_ACTIONS = ("submit_succeeded",)
SPEEDUP_ACTIONS = ("speedup", "speedup_succeeded")


@runtime_checkable
class QuotaSource(Protocol):
    """What an adapter offers to read the quota: rest, limit, speedup_rest, speedup_limit."""

    def query_quota(self) -> Any: ...


@dataclass(frozen=True)
class Budget:
    used: int
    limit: int | None  # None: never read from the platform, so unknown
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


@dataclass(frozen=True)
class AccountBudgets:
    review: Budget
    speedup: Budget


def account_budgets(
    accounts: list[PlatformAccount], now: datetime | None = None
) -> dict[int, AccountBudgets]:
    """{account id: its review and speed-up budgets}, for one account or many: two queries whatever
    the number of accounts, one when they were read with select_related("quota_snapshot").

    Between two reads of the platform's numbers (a QuotaSnapshot), the submissions recorded
    since the later of the month's start and the read are subtracted; a snapshot of an earlier
    month counts as a fresh allocation of the same size."""
    now = clock.now_or(now)
    month = (clock.month_start(now), clock.next_month_start(now))
    known = recall([("quota_budgets", account.pk, *month) for account in accounts])
    found = {key[1]: value for key, value in known.items()}
    accounts = [account for account in accounts if account.pk not in found]
    ids = [account.pk for account in accounts]
    if not ids:
        return found
    if all(PlatformAccount.quota_snapshot.is_cached(account) for account in accounts):
        snapshots = {a.pk: a.quota_snapshot for a in accounts if hasattr(a, "quota_snapshot")}
    else:
        snapshots = {s.account_id: s for s in QuotaSnapshot.objects.filter(account_id__in=ids)}
    spent = _spent_by_account(ids, snapshots, now)
    resets_at = clock.next_month_start(now)
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
    for account_id in ids:  # what budgets() answers for each of them in this read scope
        remember(("quota_budgets", account_id, *month), found[account_id])
    return found


def _budget(rest: int, limit: int, spent: int, fresh: bool, resets_at: datetime) -> Budget:
    remaining = (rest if fresh else limit) - spent
    return Budget(limit - max(0, remaining), limit, resets_at)


def _spent_by_account(
    account_ids: list[int], snapshots: dict[int, QuotaSnapshot], now: datetime
) -> dict[int, dict[str, int]]:
    """Reviews and speed-ups spent per account since its cutoff (the later of the month's start
    and the last quota read), in one grouped query: one condition per account, no per-row subquery."""
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


def budgets(account: PlatformAccount, now: datetime | None = None) -> tuple[Budget, Budget]:
    """(review, speed-up) budgets of one account (account_budgets of one), remembered for the
    rest of a page's read scope (releases.memo), like every account account_budgets() read."""
    found = account_budgets([account], now)[account.pk]
    return found.review, found.speedup


def review_budget(account: PlatformAccount, now: datetime | None = None) -> Budget:
    return budgets(account, now)[0]


def speedup_budget(account: PlatformAccount, now: datetime | None = None) -> Budget:
    return budgets(account, now)[1]


def quota_record(
    account: PlatformAccount,
    *,
    rest: int,
    limit: int,
    speedup_rest: int = 0,
    speedup_limit: int = 0,
    at: datetime | None = None,
) -> QuotaSnapshot:
    """Store what the platform said. Adapters may call it too, e.g. with rest=0 after 85085."""
    snapshot, _ = QuotaSnapshot.objects.update_or_create(
        account=account,
        defaults={
            "rest": int(rest),
            "limit": int(limit),
            "speedup_rest": int(speedup_rest),
            "speedup_limit": int(speedup_limit),
            "refreshed_at": clock.now_or(at),
        },
    )
    return snapshot


def _field(reading: Any, name: str) -> int:
    value = reading.get(name) if isinstance(reading, dict) else getattr(reading, name)
    return int(value or 0)


def _read(adapter, account: PlatformAccount):
    """The adapter's answer, or None when it cannot tell (manual platform, no authorized app)."""
    if isinstance(adapter, QuotaSource):
        return adapter.query_quota()
    per_app = getattr(adapter, "queryquota", None)
    if per_app is None:
        return None
    # WeChat answers for the whole account through any authorized app's token.
    app = next((a for a in account.apps.all() if a.authorizer_refresh_token), None)
    return per_app(app) if app is not None else None


def quota_refresh(account: PlatformAccount, now: datetime | None = None) -> QuotaSnapshot | None:
    reading = _read(adapter_for(account), account)
    if reading is None:
        return None
    return quota_record(
        account,
        rest=_field(reading, "rest"),
        limit=_field(reading, "limit"),
        speedup_rest=_field(reading, "speedup_rest"),
        speedup_limit=_field(reading, "speedup_limit"),
        at=now,
    )


def quota_refresh_all(accounts: QuerySet[PlatformAccount] | None = None) -> int:
    """Refresh every account that can tell; one failing account keeps its last snapshot."""
    refreshed = 0
    for account in accounts if accounts is not None else PlatformAccount.objects.all():
        try:
            refreshed += quota_refresh(account) is not None
        except PlatformError as exc:
            logger.warning("Could not read the review quota of %s: %s", account, exc.message)
    return refreshed
