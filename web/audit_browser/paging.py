"""Keyset pages of the audit trail: a page boundary is an event's (time, id), so page 1,000 costs
what page one does (an OFFSET would read every row before it)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from releases.models import AuditEvent

PAGE_SIZE = 50


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_of(event: AuditEvent) -> str:
    """A page boundary: the event's time in microseconds and its id (events sort by both)."""
    return f"{(event.at - _EPOCH) // timedelta(microseconds=1)}.{event.pk}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    try:
        micros, pk = (value or "").split(".")
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def older_than(at: datetime, pk: int) -> Q:
    # at__lte lets the database use the (…, at, id) index range; the rest breaks ties by id.
    return Q(at__lte=at) & (Q(at__lt=at) | Q(pk__lt=pk))


def newer_than(at: datetime, pk: int) -> Q:
    return Q(at__gte=at) & (Q(at__gt=at) | Q(pk__gt=pk))


@dataclass
class AuditPage:
    events: list[AuditEvent]
    older: str | None = None  # cursor for the next (older) page, if there is one
    newer: str | None = None  # cursor for the previous (newer) page, if there is one
    is_first: bool = True


def audit_page(events: QuerySet[AuditEvent], *, before=None, after=None, size=PAGE_SIZE) -> AuditPage:
    """One page newest first. `before`/`after` are cursors (see cursor_of); a bad one means page one."""
    before, after = parse_cursor(before), parse_cursor(after)
    if after is not None:
        rows = list(events.filter(newer_than(*after)).order_by("at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return AuditPage(
            rows,
            older=cursor_of(rows[-1]) if rows else None,
            newer=cursor_of(rows[0]) if rows and more_newer else None,
            is_first=not more_newer,
        )
    if before is not None:
        events = events.filter(older_than(*before))
    rows = list(events.order_by("-at", "-id")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return AuditPage(
        rows,
        older=cursor_of(rows[-1]) if rows and more_older else None,
        newer=cursor_of(rows[0]) if rows and before is not None else None,
        is_first=before is None,
    )


# One event of the page as HTML, built here (html_row escapes every value: event data is typed by
