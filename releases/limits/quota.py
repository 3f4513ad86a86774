"""The third-party review quota (queryquota): monthly, shared by every app of a platform account.

The platform's numbers are read by a job (`quota_refresh_all`) into a QuotaSnapshot; between
two reads, the submissions Sluice recorded since are subtracted, so the meter moves with each
submission without another call. A snapshot from an earlier month counts as a fresh allocation
of the same size from the 1st, 00:00 Beijing time, until the next read says otherwise.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from django.db.models import Count, QuerySet

from releases.limits import clock
from releases.memo import memoized
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


def _spent(account: PlatformAccount, since: datetime) -> tuple[int, int]:
    """(reviews, speed-ups) the account's apps spent since `since`: one query, the apps as a
    subquery (not a list of ids in Python), counted per action."""
    per_action = dict(
        AuditEvent.objects.filter(
            app_id__in=App.objects.filter(platform_account_id=account.pk).values("pk"),
            action__in=SUBMIT_ACTIONS + SPEEDUP_ACTIONS,
            at__gte=since,
        )
        .order_by()
        .values_list("action")
        .annotate(n=Count("id"))
    )
    return (
        sum(per_action.get(action, 0) for action in SUBMIT_ACTIONS),
        sum(per_action.get(action, 0) for action in SPEEDUP_ACTIONS),
    )


def _budget(snapshot, rest: int | None, limit: int | None, spent: int, now) -> Budget:
    """`spent`: counted since this month's snapshot was read, or since the month's start when
    there is no snapshot of this month (see _budgets)."""
    resets_at = clock.next_month_start(now)
    if snapshot is None or limit is None:
        return Budget(spent, None, resets_at)
    remaining = (rest if clock.same_month(snapshot.refreshed_at, now) else limit) - spent
    return Budget(limit - max(0, remaining), limit, resets_at)


def _snapshot(account: PlatformAccount) -> QuotaSnapshot | None:
    return QuotaSnapshot.objects.filter(account=account).first()


def budgets(account: PlatformAccount, now: datetime | None = None) -> tuple[Budget, Budget]:
    """(review, speed-up) budgets of the account: one snapshot read and one count for both.
    Remembered for the rest of a page's read scope (releases.memo)."""
    now = clock.now_or(now)
    return memoized(
        ("quota_budgets", account.pk, clock.month_start(now), clock.next_month_start(now)),
        lambda: _budgets(account, now),
    )


def _budgets(account: PlatformAccount, now: datetime) -> tuple[Budget, Budget]:
    snapshot = _snapshot(account)
    since = clock.month_start(now)
    if snapshot is not None and clock.same_month(snapshot.refreshed_at, now):
        since = snapshot.refreshed_at
    reviews, speedups = _spent(account, since)
    if snapshot is None:
        return _budget(None, None, None, reviews, now), _budget(None, None, None, speedups, now)
    return (
        _budget(snapshot, snapshot.rest, snapshot.limit, reviews, now),
        _budget(snapshot, snapshot.speedup_rest, snapshot.speedup_limit, speedups, now),
    )


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
