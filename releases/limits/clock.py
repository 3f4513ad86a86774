"""Beijing time: platform quotas and daily limits roll over at 00:00 in Asia/Shanghai,
whatever the server's or the user's time zone."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_noop

BEIJING = ZoneInfo("Asia/Shanghai")


def now_or(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def local(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def day_start(now: datetime) -> datetime:
    return datetime.combine(local(now).date(), time(0), tzinfo=BEIJING)


def next_day_start(now: datetime) -> datetime:
    return datetime.combine(local(now).date() + timedelta(days=1), time(0), tzinfo=BEIJING)


def month_start(now: datetime) -> datetime:
    return datetime.combine(local(now).date().replace(day=1), time(0), tzinfo=BEIJING)


def next_month_start(now: datetime) -> datetime:
    first = local(now).date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(following, time(0), tzinfo=BEIJING)


def same_month(a: datetime, b: datetime) -> bool:
    return month_start(a) == month_start(b)


def when(moment: datetime) -> str:
    """How a refusal names a moment: `2026-12-01 00:00 Beijing time`."""
    return gettext_noop("%(moment)s Beijing time") % {"moment": local(moment).strftime("%Y-%m-%d %H:%M")}
