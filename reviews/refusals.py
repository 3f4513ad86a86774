"""Refused callback deliveries: counted per account and minute, summarised in the audit trail.

The callback URLs are public, so whoever finds one can post to it as often as they like.
A refusal therefore only bumps a counter row (one per account and minute); once the minute
is over, one `callback_rejected` audit event says how many deliveries were refused and why,
and the counter row goes. So an account's refusals add at most one audit event a minute,
however many are sent. The summary is written by the next refusal on that account or by
the cron job (config/cron.py), whichever comes first; a grace period after the minute
keeps a request still counting into it from opening a second row for the same minute.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from releases.audit import audit_record
from releases.models import PlatformAccount
from reviews.models import CallbackRefusals

CLOSED_AFTER = timedelta(seconds=60 + 30)  # the minute, then 30 s of grace


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _row_for_update(account: PlatformAccount, minute: datetime, ip: str | None, now: datetime):
    rows = CallbackRefusals.objects.select_for_update()
    row = rows.filter(account=account, minute=minute).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return CallbackRefusals.objects.create(
                account=account, minute=minute, first_ip=ip, first_at=now, last_at=now
            )
    except IntegrityError:  # another refusal opened the minute's row first
        return rows.get(account=account, minute=minute)


def callback_refusal_count(
    *, account: PlatformAccount, endpoint: str, reason: str, ip: str | None, now: datetime | None = None
) -> int:
    """Count one refused delivery; returns the account's refusals so far in this minute."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _row_for_update(account, _minute(now), ip, now)
        key = f"{endpoint}:{reason}"
        row.count += 1
        row.reasons[key] = row.reasons.get(key, 0) + 1
        row.last_at = now
        row.save(update_fields=["count", "reasons", "last_at"])
    callback_refusals_summarise(account=account, now=now)
    return row.count


def _summary(row: CallbackRefusals) -> dict:
    reasons, endpoints = Counter(), Counter()
    for key, count in row.reasons.items():
        endpoint, _, reason = key.partition(":")
        reasons[reason] += count
        endpoints[endpoint] += count
    return {
        "count": row.count,
        "reasons": dict(reasons.most_common()),
        "endpoints": dict(endpoints.most_common()),
        "minute": row.minute.isoformat(),
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
    }


def callback_refusals_summarise(
    *, account: PlatformAccount | None = None, now: datetime | None = None
) -> int:
    """One `callback_rejected` audit event per account and closed minute; returns how many were written.

    Rows are taken with SKIP LOCKED, so two summarisers never write the same minute twice.
    """
    due = CallbackRefusals.objects.filter(minute__lte=(now or timezone.now()) - CLOSED_AFTER)
    if account is not None:
        due = due.filter(account=account)
    if not due.exists():
        return 0
    written = 0
    with transaction.atomic():
        rows = due.select_related("account").select_for_update(skip_locked=True, of=("self",))
        for row in rows.order_by("minute", "pk"):
            audit_record(
                action="callback_rejected",
                target=row.account,
                team_id=row.account.team_id,
                data=_summary(row),
                ip=row.first_ip,
            )
            row.delete()
            written += 1
    return written
