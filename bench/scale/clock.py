"""Time in the generator: instants are integer microseconds since the epoch (cheap to add and
sort in the hot loops), turned into datetimes only when a row is written."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder

YEAR_US = 365 * 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def micros(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def month_of(us: int) -> tuple[int, int]:
    moment = dt(us).astimezone(SHANGHAI)
    return moment.year, moment.month


def platform_at(us: int) -> str:
    return dt(us - us % 1_000_000).astimezone(SHANGHAI).isoformat()


def django_json_datetime(moment: datetime) -> str:
    """A datetime as Django's JSON encoder writes it into an event's data (the chain hashes that text)."""
    return json.loads(json.dumps(moment, cls=DjangoJSONEncoder))
