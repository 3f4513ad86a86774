"""The overview's reviews in progress: the submitted releases with the working days each has
taken, overdue first (one query, whatever the number in review)."""

from datetime import datetime, time, timedelta

from django.db.models import (
    Case,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext

from releases.limits import clock
from releases.models import (
    Release,
    State,
)
from releases.workdays import (
    EXPECTED_WORKING_DAYS,
    MAX_WORKING_DAYS,
    elapsed_working_days,
    review_tone,
    working_days_between,
)
from web.needs_action import Access
from web.rows import url_maker
from web.templatetags.sluice import state_label

SHOWN_REVIEWS = 20


def _releases(access: Access):
    return Release.objects.filter(app__team_id__in=access.team_ids)


# -- small formatting helpers (what the template's filters did, once per value) ----------------


def _times(moment: datetime, zone=None) -> tuple[datetime, str, str]:
    """(the moment in the reader's time zone, as the `c` date format, as `Y-m-d H:i`), what the
    template's date filters gave. `zone`: the current time zone, when the caller has it."""
    local = moment.astimezone(zone or timezone.get_current_timezone())
    return local, local.isoformat(), local.strftime("%Y-%m-%d %H:%M")


def _state_label(state: str) -> str:
    return str(state_label(state))


def _late_before(now: datetime, days: int) -> datetime:
    """The start of the Beijing day after the last date more than `days` working days before
    today: a review started before it has taken more than `days` working days (working days
    only move forward, so it is one comparison in SQL)."""
    today = clock.local(now).date()
    cutoff = today
    while working_days_between(cutoff, today) <= days:
        cutoff -= timedelta(days=1)  # a few steps: working days come back within a week or two
    return clock.next_day_start(datetime.combine(cutoff, time.min, tzinfo=clock.BEIJING))


# -- reviews in progress ------------------------------------------------------------------------


REVIEW_FIELDS = (
    "pk",
    "version",
    "submitted_at",
    "state_changed_at",
    "review_delayed_at",
    "review_delay_reason",
    "app__name",
    "app__platform_account__name",
)
REVIEW_ORDER = {"overdue": 0, "late": 1, "on_time": 2}
DAY_BAR_DAYS = MAX_WORKING_DAYS + 1


def _day_bar(meter: int) -> list[str]:
    """The classes of the little bar of working days (decoration, aria-hidden), a span per day."""
    classes = []
    for day in range(1, DAY_BAR_DAYS + 1):
        names = ["day"]
        if day <= meter:
            names.append("day-used")
        if day > EXPECTED_WORKING_DAYS:
            names.append("day-late")
        if day > MAX_WORKING_DAYS:
            names.append("day-over")
        classes.append(" ".join(names))
    return classes


def _review_row(row: dict, now: datetime) -> dict:
    since = row["submitted_at"] or row["state_changed_at"]
    elapsed = elapsed_working_days(since, now)
    delayed = row["review_delayed_at"] is not None
    return {
        **row,
        "since": since,
        "elapsed": elapsed,
        "tone": review_tone(elapsed, delayed),
        "delayed": delayed,
        "meter": min(elapsed, DAY_BAR_DAYS),
    }


def _review_key(row: dict):
    return (REVIEW_ORDER[row["tone"]], -row["elapsed"], row["since"], row["pk"])


def reviews_in_progress(access: Access, now: datetime | None = None, limit: int | None = None) -> list[dict]:
    """The submitted releases (the platform takes one per app, so at most one per app), with the
    working days each has taken; overdue first, then late, then the longest-running.

    With `limit`, only the most urgent `limit` of them, in one query whatever the number in
    review: overdue and late are "started before a cutoff" (or delayed by the platform), and
    within each the longest-running is the one that started first, so the database orders them."""
    now = clock.now_or(now)
    submitted = _releases(access).filter(state=State.SUBMITTED).annotate(since=_since())
    if limit is None:
        rows = list(submitted.values(*REVIEW_FIELDS))
    else:
        urgency = Case(
            When(since__lt=_late_before(now, MAX_WORKING_DAYS), then=Value(0)),
            When(
                Q(review_delayed_at__isnull=False) | Q(since__lt=_late_before(now, EXPECTED_WORKING_DAYS)),
                then=Value(1),
            ),
            default=Value(2),
            output_field=IntegerField(),
        )
        rows = list(
            submitted.annotate(urgency=urgency)
            .order_by("urgency", "since", "pk")
            .values(*REVIEW_FIELDS)[:limit]
        )
    return sorted((_review_row(row, now) for row in rows), key=_review_key)


def review_rows(reviews: list[dict]) -> list[dict]:
    """The reviews as the page shows them: linked, dated, their status in words (not only colour)."""
    url_for = url_maker("web:release-detail")
    past_max = gettext("past %(days)s working days") % {"days": MAX_WORKING_DAYS}
    past_expected = gettext("past %(days)s working days") % {"days": EXPECTED_WORKING_DAYS}
    zone = timezone.get_current_timezone()
    rows = []
    for review in reviews:
        _, iso, text = _times(review["since"], zone)
        if review["tone"] == "overdue":
            badge, status, note = "tone-bad", gettext("Overdue"), past_max
        elif review["delayed"]:
            reason = review["review_delay_reason"]
            note = Truncator(reason).chars(80) if reason else gettext("the platform said so")
            badge, status = "status-warning", gettext("Delayed")
        elif review["tone"] == "late":
            badge, status, note = "status-warning", gettext("Late"), past_expected
        else:
            badge, status, note = "tone-good", gettext("On time"), ""
        rows.append(
            {
                **review,
                "url": url_for(review["pk"]),
                "since_iso": iso,
                "since_text": text,
                "bar": _day_bar(review["meter"]),
                "badge": badge,
                "status": status,
                "note": note,
            }
        )
    return rows


def _since():
    return Coalesce("submitted_at", "state_changed_at")
