"""Working days in China: weekends, public holidays and the make-up working days (调休)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from releases.workdays import elapsed_working_days, is_working_day, review_tone, working_days_between

BJ = ZoneInfo("Asia/Shanghai")


def test_a_review_submitted_and_seen_on_the_same_day_has_taken_no_working_day():
    assert working_days_between(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert working_days_between(date(2026, 3, 9), date(2026, 3, 10)) == 1


def test_the_weekend_does_not_count():
    friday, monday = date(2026, 3, 13), date(2026, 3, 16)
    assert working_days_between(friday, monday) == 1


def test_the_national_day_holiday_does_not_count_and_its_make_up_sunday_does():
    assert not is_working_day(date(2025, 10, 1))
    assert is_working_day(date(2025, 9, 28))  # a Sunday worked in exchange for the holiday
    # Friday 26 September to Friday 10 October 2025: 28 Sep, 29 Sep, 30 Sep, 9 Oct, 10 Oct.
    assert working_days_between(date(2025, 9, 26), date(2025, 10, 10)) == 5


def test_the_spring_festival_stops_the_count():
    # 2026: the holiday runs from 15 to 23 February; 14 and 28 February are make-up Saturdays.
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1  # only Saturday the 14th
    assert not is_working_day(date(2026, 2, 17))


def test_a_year_without_a_published_schedule_counts_monday_to_friday():
    assert is_working_day(date(2031, 1, 1))  # a Wednesday; the package has no 2031 data
    assert not is_working_day(date(2031, 1, 4))
    assert working_days_between(date(2030, 12, 31), date(2031, 1, 7)) == 5


def test_elapsed_days_follow_the_beijing_date_not_utc():
    # 23:30 Beijing time on Monday is still Monday there (15:30 UTC); Tuesday 09:00 is one day on.
    submitted = datetime(2026, 3, 9, 23, 30, tzinfo=BJ)
    assert elapsed_working_days(submitted, datetime(2026, 3, 10, 9, 0, tzinfo=BJ)) == 1
    assert elapsed_working_days(submitted, datetime(2026, 3, 9, 23, 59, tzinfo=BJ)) == 0


def test_a_review_is_late_past_three_working_days_or_when_delayed_and_overdue_past_seven():
    assert review_tone(3, delayed=False) == "on_time"
    assert review_tone(1, delayed=True) == "late"
    assert review_tone(4, delayed=False) == "late"
    assert review_tone(7, delayed=False) == "late"
    assert review_tone(8, delayed=False) == "overdue"
    assert review_tone(8, delayed=True) == "overdue"
