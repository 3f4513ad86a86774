"""The submission limits: what is left, when it resets, and the refusal that names them.

All counting is in Beijing time (clock.py) and from recorded facts (audit events, rejections,
the last quota read), so nothing drifts and every answer can be recomputed. Settings, with
defaults: SAME_REASON_LOCK_REJECTIONS (2), SAME_REASON_LOCK_HOURS (24),
RESUBMISSION_WINDOW_DAYS (7), WITHDRAW_DAILY_LIMIT (5), WITHDRAW_MONTHLY_LIMIT (10).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from releases.actions import other_in_review, releases_in_review
from releases.limits import clock
from releases.limits.quota import Budget, budgets, review_budget, speedup_budget
from releases.memo import memoized
from releases.models import AuditEvent, Rejection, RejectionCategory, Release, State

# A withdrawal the platform counted: ours, or one made in its console.
WITHDRAW_ACTIONS = ("withdraw_succeeded", "withdrawn_outside")


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def lock_rejections() -> int:
    return max(1, setting("SAME_REASON_LOCK_REJECTIONS", 2))


def lock_hours() -> int:
    return setting("SAME_REASON_LOCK_HOURS", 24)


def window_days() -> int:
    return setting("RESUBMISSION_WINDOW_DAYS", 7)


class Refusal(tuple):
    """(code, message), unpackable as a pair; `details` carries `lifts_at` when there is one."""

    def __new__(cls, code: str, message: str, lifts_at: datetime | None = None):
        refusal = super().__new__(cls, (code, message))
        refusal.details = {"lifts_at": clock.local(lifts_at).isoformat()} if lifts_at else {}
        return refusal

    @property
    def code(self) -> str:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]


@dataclass(frozen=True)
class Limit:
    key: str
    label: str
    code: str  # the refusal code when nothing is left
    used: int
    limit: int | None
    resets_at: datetime | None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "code": self.code,
            "used": self.used,
            "limit": self.limit,
            "remaining": self.remaining,
            "resets_at": clock.local(self.resets_at) if self.resets_at else None,
        }


# -- withdrawals -----------------------------------------------------------------------------


def _withdrawals(app, now: datetime) -> tuple[int, int]:
    """(today, this month): withdrawals the platform counted plus those under way."""
    return memoized(("withdrawals", app.pk, clock.day_start(now)), lambda: _count_withdrawals(app, now))


def _count_withdrawals(app, now: datetime) -> tuple[int, int]:
    """One short index range (app, action, at): the month's withdrawals are few (the platform
    allows ten), so their times are read and counted here. Those under way come from the app's
    releases in review (releases.actions), which the review slot reads anyway."""
    done = list(
        AuditEvent.objects.filter(app_id=app.pk, action__in=WITHDRAW_ACTIONS, at__gte=clock.month_start(now))
        .order_by()
        .values_list("at", flat=True)
    )
    day_start = clock.day_start(now)
    withdrawing = sum(1 for _, _, state in releases_in_review(app.pk) if state == State.WITHDRAWING)
    return sum(1 for at in done if at >= day_start) + withdrawing, len(done) + withdrawing


def withdraw_limits(app, now: datetime) -> list[Limit]:
    today, this_month = _withdrawals(app, now)
    return [
        Limit(
            "withdraw_daily",
            "Withdrawals today",
            "withdraw_limit",
            today,
            setting("WITHDRAW_DAILY_LIMIT", 5),
            clock.next_day_start(now),
        ),
        Limit(
            "withdraw_monthly",
            "Withdrawals this month",
            "withdraw_limit",
            this_month,
            setting("WITHDRAW_MONTHLY_LIMIT", 10),
            clock.next_month_start(now),
        ),
    ]


# -- the same-reason lock --------------------------------------------------------------------


@dataclass(frozen=True)
class Streak:
    count: int  # rejections in a row sharing a category
    category: str | None
    last_at: datetime | None


def rejection_streak(app) -> Streak:
    """The newest run of rejections of the app (any release) sharing a category, with no
    approval in between; an unrecognised reason ("other") is never "the same reason".
    Remembered for the rest of a page's read scope (releases.memo)."""
    return memoized(("rejection_streak", app.pk), lambda: _rejection_streak(app))


def _rejection_streak(app) -> Streak:
    approved = (
        AuditEvent.objects.filter(app_id=app.pk, action="review_approved")
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    rejections = Rejection.objects.filter(app_id=app.pk).order_by("-at", "-pk")
    if approved is not None:
        rejections = rejections.filter(at__gt=approved)
    return streak_of(rejections.values_list("categories", "at", named=True)[:50])  # rows, not models


def streak_of(rejections) -> Streak:
    """The streak of rejections given newest first (anything with `categories` and `at`), all
    after the app's last approval; shared with the overview, which loads many apps at once."""
    count, shared, last_at = 0, None, None
    for rejection in rejections:
        categories = set(rejection.categories) - {RejectionCategory.OTHER.value}
        narrowed = categories if shared is None else shared & categories
        if not narrowed:
            break
        shared, count = narrowed, count + 1
        last_at = last_at or rejection.at
    category = sorted(shared)[0] if shared else None
    return Streak(count, category, last_at)


def lock_until(app, now: datetime) -> tuple[datetime | None, Streak]:
    streak = rejection_streak(app)
    if streak.count < lock_rejections() or streak.last_at is None:
        return None, streak
    until = streak.last_at + timedelta(hours=lock_hours())
    return (until if now < until else None), streak


def lock_limit(app, now: datetime) -> Limit:
    """Rejections in a row for the same reason, out of the number that locks the app."""
    until, streak = lock_until(app, now)
    n = lock_rejections()
    # Once a lock has lifted, one more rejection for that reason locks again.
    used = n if until else min(streak.count, n - 1)
    return Limit("same_reason_lock", "Same-reason rejections in a row", "same_reason_lock", used, n, until)


# -- quota, review slot ------------------------------------------------------------------------


def _quota_limit(key: str, label: str, code: str, budget: Budget) -> Limit:
    return Limit(key, label, code, budget.used, budget.limit, budget.resets_at)


def in_review_limit(app, exclude: Release | None = None) -> Limit:
    others = [pk for pk, _, _ in releases_in_review(app.pk) if exclude is None or pk != exclude.pk]
    return Limit("in_review", "Releases in review", "review_in_progress", min(len(others), 1), 1, None)


def app_limits(app, now: datetime | None = None) -> list[dict]:
    """Every limit of an app: used, limit (None = unknown), remaining and when it resets."""
    return [limit.as_dict() for limit in _app_limits(app, clock.now_or(now))]


def _app_limits(app, now: datetime) -> list[Limit]:
    review, speedup = budgets(app.platform_account, now)
    return [
        _quota_limit("review_quota", "Reviews this month (platform account)", "quota_exhausted", review),
        _quota_limit(
            "speedup_quota", "Speed-ups this month (platform account)", "speedup_exhausted", speedup
        ),
        *withdraw_limits(app, now),
        lock_limit(app, now),
        in_review_limit(app),
    ]


def window_closes_at(release: Release) -> datetime | None:
    if release.state != State.REJECTED or release.decided_at is None:
        return None
    return release.decided_at + timedelta(days=window_days())


def release_limits(release: Release, now: datetime | None = None) -> list[dict]:
    """The app's limits plus this release's resubmission window while it is rejected."""
    now = clock.now_or(now)
    limits = [limit.as_dict() for limit in _app_limits(release.app, now)]
    closes = window_closes_at(release)
    if closes is not None:
        days = window_days()
        elapsed = min(days, max(0, (now - release.decided_at).days))
        window = Limit(
            "resubmission_window",
            "Days of the resubmission window used",
            "resubmission_window_closed",
            elapsed if now < closes else days,
            days,
            closes,
        )
        limits.append(window.as_dict())
    return limits


# -- refusals ------------------------------------------------------------------------------------


def _category_label(category: str | None) -> str:
    return RejectionCategory(category).label.lower() if category else "the same reason"


def review_slot_refusal(release: Release) -> Refusal | None:
    other = other_in_review(release)
    if other is None:
        return None
    return Refusal(
        "review_in_progress",
        f"{release.app} {other[1]} is already in review and the platform takes one at a time. "
        "It lifts when that review ends (approved, rejected or withdrawn).",
    )


def window_refusal(release: Release, now: datetime) -> Refusal | None:
    closes = window_closes_at(release)
    if closes is None or now < closes:
        return None
    return Refusal(
        "resubmission_window_closed",
        f"The {window_days()}-day resubmission window after the rejection closed at {clock.when(closes)}. "
        "This attempt cannot be resubmitted: edit the release to start a new one from draft "
        "(checks and approval again).",
    )


def lock_refusal(app, now: datetime) -> Refusal | None:
    until, streak = lock_until(app, now)
    if until is None:
        return None
    return Refusal(
        "same_reason_lock",
        f"{app} was rejected {streak.count} times in a row for {_category_label(streak.category)}; "
        f"submissions are locked until {clock.when(until)}. Fix the cause before resubmitting.",
        until,
    )


def quota_refusal(release: Release, now: datetime) -> Refusal | None:
    account = release.app.platform_account
    budget = review_budget(account, now)
    if budget.remaining != 0:
        return None
    return Refusal(
        "quota_exhausted",
        f"The monthly review quota of {account.name} ({budget.limit} submissions, shared by all its apps) "
        f"is used up. It resets at {clock.when(budget.resets_at)}; more can be requested in "
        "小程序服务商助手.",
        budget.resets_at,
    )


def speedup_refusal(release: Release, now: datetime | None = None) -> Refusal | None:
    """For a speed-up action (`speedup_exhausted`); not wired to a transition yet."""
    now = clock.now_or(now)
    budget = speedup_budget(release.app.platform_account, now)
    if budget.remaining != 0:
        return None
    return Refusal(
        "speedup_exhausted",
        f"The speed-up quota of {release.app.platform_account.name} ({budget.limit} this month) is used up. "
        f"It resets at {clock.when(budget.resets_at)}.",
        budget.resets_at,
    )


def withdraw_refusal(release: Release, now: datetime | None = None) -> Refusal | None:
    now = clock.now_or(now)
    exhausted = [limit for limit in withdraw_limits(release.app, now) if limit.exhausted]
    if not exhausted:
        return None
    limit = max(exhausted, key=lambda item: item.resets_at)  # the one that lifts last decides
    period = "today" if limit.key == "withdraw_daily" else "this month"
    return Refusal(
        "withdraw_limit",
        f"{release.app} has used its {limit.limit} withdrawals {period} (the platform allows "
        f"{setting('WITHDRAW_DAILY_LIMIT', 5)} a day and {setting('WITHDRAW_MONTHLY_LIMIT', 10)} a month). "
        f"The next one is possible from {clock.when(limit.resets_at)}.",
        limit.resets_at,
    )
