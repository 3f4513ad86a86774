"""China's working days, for "how long has this review taken" (the platforms promise 1 to 7 working days).

Holidays and the weekend days swapped into working days (调休) come from the `chinesecalendar`
package (module `chinese_calendar`), which knows the State Council's schedule year by year. For
a year it has no data for yet (the schedule is published each November), Monday to Friday count.
All dates are Beijing dates: a review submitted at 23:30 Beijing time on a Friday started on Friday.
"""

from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from releases.limits import clock

# WeChat: "审核时长一般为1-7个工作日" — usually decided within 3, at most 7.
EXPECTED_WORKING_DAYS = 3
MAX_WORKING_DAYS = 7


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # no schedule for that year yet
        return day.weekday() < 5


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d <= end: the review's working days since the day it started.

    Submitted on Monday, looked at on Monday: 0; on Tuesday: 1. Over a weekend or a holiday
    the count stands still.
    """
    if end <= start:
        return 0
    return _prefix(end) - _prefix(start)


ORIGIN_YEAR = 2000


def _prefix(day: date) -> int:
    """Working days from 1 January 2000 up to and including `day`."""
    if day.year < ORIGIN_YEAR:
        return 0
    return _year_prefix(day.year - 1) + _within_year(day.year)[day.timetuple().tm_yday - 1]


@lru_cache(maxsize=256)
def _within_year(year: int) -> tuple[int, ...]:
    """Running count of working days in `year`, one entry per day of the year."""
    counts, running, day = [], 0, date(year, 1, 1)
    while day.year == year:
        running += is_working_day(day)
        counts.append(running)
        day += timedelta(days=1)
    return tuple(counts)


@lru_cache(maxsize=256)
def _year_prefix(year: int) -> int:
    """Working days from 1 January 2000 up to and including 31 December of `year`."""
    if year < ORIGIN_YEAR:
        return 0
    return _year_prefix(year - 1) + _within_year(year)[-1]


def elapsed_working_days(since: datetime, now: datetime) -> int:
    """Working days a review has taken so far, counted on Beijing dates."""
    return working_days_between(clock.local(since).date(), clock.local(now).date())


def review_tone(elapsed: int, delayed: bool) -> str:
    """on_time (within the expected 1 to 3), late (past 3, or the platform said it is delayed),
    overdue (past the 7 working days the platform allows itself)."""
    if elapsed > MAX_WORKING_DAYS:
        return "overdue"
    if delayed or elapsed > EXPECTED_WORKING_DAYS:
        return "late"
    return "on_time"
