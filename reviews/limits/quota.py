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

from django.db.models import QuerySet

from releases.models import AuditEvent, PlatformAccount
from releases.platforms import PlatformError, adapter_for
from reviews.limits import clock
from reviews.models import QuotaSnapshot

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


def _spent(account: PlatformAccount, actions: tuple[str, ...], since: datetime) -> int:
    apps = list(account.apps.values_list("pk", flat=True))
    return AuditEvent.objects.filter(app_id__in=apps, action__in=actions, at__gte=since).count()


def _budget(account, snapshot, rest: int | None, limit: int | None, actions, now) -> Budget:
    resets_at = clock.next_month_start(now)
    if snapshot is None or limit is None:
        return Budget(_spent(account, actions, clock.month_start(now)), None, resets_at)
    if clock.same_month(snapshot.refreshed_at, now):
        remaining = rest - _spent(account, actions, snapshot.refreshed_at)
    else:
        remaining = limit - _spent(account, actions, clock.month_start(now))
    return Budget(limit - max(0, remaining), limit, resets_at)


def _snapshot(account: PlatformAccount) -> QuotaSnapshot | None:
    return QuotaSnapshot.objects.filter(account=account).first()


def review_budget(account: PlatformAccount, now: datetime | None = None) -> Budget:
    now = clock.now_or(now)
    snapshot = _snapshot(account)
    rest, limit = (snapshot.rest, snapshot.limit) if snapshot else (None, None)
    return _budget(account, snapshot, rest, limit, SUBMIT_ACTIONS, now)


def speedup_budget(account: PlatformAccount, now: datetime | None = None) -> Budget:
    now = clock.now_or(now)
    snapshot = _snapshot(account)
    rest, limit = (snapshot.speedup_rest, snapshot.speedup_limit) if snapshot else (None, None)
    return _budget(account, snapshot, rest, limit, SPEEDUP_ACTIONS, now)


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
