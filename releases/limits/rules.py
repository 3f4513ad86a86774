"""The submission limits: what is left, when it resets, and the refusal that names them.

All counting is in Beijing time (clock.py) and from recorded facts (audit events, rejections,
the last quota read), so nothing drifts and every answer can be recomputed. Settings, with
defaults: SAME_REASON_LOCK_REJECTIONS (2), SAME_REASON_LOCK_HOURS (24),
RESUBMISSION_WINDOW_DAYS (7), WITHDRAW_DAILY_LIMIT (5), WITHDRAW_MONTHLY_LIMIT (10).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_noop

from releases.limits import clock
from releases.limits.counts import (  # noqa: F401 -- the limits' settings, asked for here too
    NO_STREAK,
    WITHDRAW_ACTIONS,
    Streak,
    lock_from,
    lock_hours,
    lock_rejections,
    rejection_streaks,
    setting,
    withdrawal_counts,
)
from releases.limits.counts import (
    withdraw_limits as withdrawals_allowed,
)
from releases.limits.quota import Budget, budgets, review_budget, speedup_budget
from releases.memo import memoized
from releases.models import RejectionCategory, Release, S, State
from releases.platform_rules import rules_for
from releases.platforms import has_monthly_quota


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
    """(today, this month) of one app: counts.withdrawal_counts, as the overview asks it of many."""
    return memoized(
        ("withdrawals", app.pk, clock.day_start(now)),
        lambda: withdrawal_counts([app.pk], now).get(app.pk, (0, 0)),
    )


def withdraw_limits(app, now: datetime) -> list[Limit]:
    """The withdrawal rows of the app's platform; none where the platform sets no limit."""
    allowed = withdrawals_allowed(app.platform_account.platform)
    if allowed is None:
        return []
    today, this_month = _withdrawals(app, now)
    daily, monthly = allowed
    return [
        Limit(
            "withdraw_daily", "Withdrawals today", "withdraw_limit", today, daily, clock.next_day_start(now)
        ),
        Limit(
            "withdraw_monthly",
            "Withdrawals this month",
            "withdraw_limit",
            this_month,
            monthly,
            clock.next_month_start(now),
        ),
    ]


# -- the same-reason lock --------------------------------------------------------------------


def rejection_streak(app) -> Streak:
    """The app's newest run of rejections sharing a category (counts.rejection_streaks of one),
    remembered for the rest of a page's read scope (releases.memo)."""
    return rejection_streaks([app.pk]).get(app.pk, NO_STREAK)


def lock_until(app, now: datetime, streak: Streak | None = None) -> tuple[datetime | None, Streak]:
    """When the app's same-reason lock lifts (None: not locked) and its streak (read if not given)."""
    streak = streak if streak is not None else rejection_streak(app)
    return lock_from(streak, now), streak


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


def in_review_limit(app) -> Limit:
    """The platform takes one release per app at a time (the gate rule `review_in_progress`)."""
    from releases.gate.facts import releases_in_review

    busy = bool(releases_in_review(app.pk))
    return Limit("in_review", "Releases in review", "review_in_progress", int(busy), 1, None)


def app_limits(app, now: datetime | None = None) -> list[dict]:
    """Every limit of an app: used, limit (None = unknown), remaining and when it resets."""
    return [limit.as_dict() for limit in _app_limits(app, clock.now_or(now))]


def _app_limits(app, now: datetime) -> list[Limit]:
    review, speedup = budgets(app.platform_account, now)
    quotas = []
    # A platform without a monthly quota (the manual one) shows none, rather than "1 / unknown".
    if review.limit is not None or has_monthly_quota(app.platform_account.platform):
        quotas = [
            _quota_limit("review_quota", "Reviews this month (platform account)", "quota_exhausted", review),
            _quota_limit(
                "speedup_quota", "Speed-ups this month (platform account)", "speedup_exhausted", speedup
            ),
        ]
    return [
        *quotas,
        *withdraw_limits(app, now),
        *([lock_limit(app, now)] if _locks(app) else []),
        in_review_limit(app),
    ]


def _locks(app) -> bool:
    """Whether the app's platform locks resubmissions after same-reason rejections."""
    return rules_for(app.platform_account.platform).same_reason_lock


def window_closes_at(release: Release) -> datetime | None:
    if release.state != State.REJECTED or release.decided_at is None:
        return None
    return release.decided_at + timedelta(days=window_days())


# The limits a release meets next, by where it stands: before a (re)submission the quota, the
# lock, the one-review slot and the window; in review the withdrawals and speed-ups; after the
# review, none of these (the release page shows no limits table then).
PRE_SUBMIT = ("review_quota", "same_reason_lock", "in_review", "resubmission_window")
IN_REVIEW_LIMITS = ("withdraw_daily", "withdraw_monthly", "speedup_quota")
LIMITS_AHEAD = {
    **{state: PRE_SUBMIT for state in (S.DRAFT, S.CHECKED, S.SUBMITTING, S.SUBMIT_FAILED, S.REJECTED)},
    **{state: PRE_SUBMIT for state in (S.WITHDRAWN, S.EXPIRED)},
    **{state: IN_REVIEW_LIMITS for state in (S.SUBMITTED, S.WITHDRAWING, S.WITHDRAW_FAILED)},
}


def limits_ahead(release: Release) -> tuple[str, ...]:
    """The keys of the limits this release can still run into, in its state."""
    return LIMITS_AHEAD.get(release.state, ())


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
    return str(RejectionCategory(category).label).lower() if category else gettext_noop("the same reason")


def window_refusal(release: Release, now: datetime) -> Refusal | None:
    closes = window_closes_at(release)
    if closes is None or now < closes:
        return None
    return Refusal(
        "resubmission_window_closed",
        gettext_noop(
            "The %(days)s-day resubmission window after the rejection closed at %(closed)s. "
            "This attempt cannot be resubmitted: edit the release to start a new one from draft "
            "(checks and approval again)."
        )
        % {"days": window_days(), "closed": clock.when(closes)},
    )


def lock_refusal(app, now: datetime, streak: Streak | None = None) -> Refusal | None:
    if not _locks(app):
        return None
    until, streak = lock_until(app, now, streak)
    if until is None:
        return None
    return Refusal(
        "same_reason_lock",
        gettext_noop(
            "%(app)s was rejected %(count)s times in a row for %(category)s; "
            "submissions are locked until %(until)s. Fix the cause before resubmitting."
        )
        % {
            "app": app,
            "count": streak.count,
            "category": _category_label(streak.category),
            "until": clock.when(until),
        },
        until,
    )


def quota_refusal(release: Release, now: datetime, budget: Budget | None = None) -> Refusal | None:
    account = release.app.platform_account
    budget = budget if budget is not None else review_budget(account, now)
    if budget.remaining != 0:
        return None
    return Refusal(
        "quota_exhausted",
        gettext_noop(
            "The monthly review quota of %(account)s (%(limit)s submissions, shared by all its apps) "
            "is used up. It resets at %(resets)s; more can be requested in 小程序服务商助手."
        )
        % {"account": account.name, "limit": budget.limit, "resets": clock.when(budget.resets_at)},
        budget.resets_at,
    )


def speedup_refusal(release: Release, now: datetime | None = None) -> Refusal | None:
    """For a speed-up (`speedup_exhausted`): the `speedup` transition's limit."""
    now = clock.now_or(now)
    budget = speedup_budget(release.app.platform_account, now)
    if budget.remaining != 0:
        return None
    return Refusal(
        "speedup_exhausted",
        gettext_noop(
            "The speed-up quota of %(account)s (%(limit)s this month) is used up. It resets at %(resets)s."
        )
        % {
            "account": release.app.platform_account.name,
            "limit": budget.limit,
            "resets": clock.when(budget.resets_at),
        },
        budget.resets_at,
    )


def withdraw_refusal(release: Release, now: datetime | None = None) -> Refusal | None:
    now = clock.now_or(now)
    exhausted = [limit for limit in withdraw_limits(release.app, now) if limit.exhausted]
    if not exhausted:
        return None
    limit = max(exhausted, key=lambda item: item.resets_at)  # the one that lifts last decides
    message = (
        gettext_noop(
            "%(app)s has used its %(limit)s withdrawals today (the platform allows %(daily)s a day and "
            "%(monthly)s a month). The next one is possible from %(next)s."
        )
        if limit.key == "withdraw_daily"
        else gettext_noop(
            "%(app)s has used its %(limit)s withdrawals this month (the platform allows %(daily)s a day and "
            "%(monthly)s a month). The next one is possible from %(next)s."
        )
    )
    daily, monthly = withdrawals_allowed(release.app.platform_account.platform)
    return Refusal(
        "withdraw_limit",
        message
        % {
            "app": release.app,
            "limit": limit.limit,
            "daily": daily,
            "monthly": monthly,
            "next": clock.when(limit.resets_at),
        },
        limit.resets_at,
    )
