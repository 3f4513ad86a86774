"""What the app-level limits count, for one app or for many in one query.

The same-reason lock reads each app's newest rejections after its last approval; the withdrawal
limits count each app's withdrawals this day and month. releases.limits.rules asks these of one
app (the guard, the app and release pages, the API), releases.limits.bulk of every app of a
team (the overview): the same function either way, so the two cannot drift.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from releases.limits import clock
from releases.memo import recall, remember
from releases.models import App, AuditEvent, Rejection, RejectionCategory, Release, State
from releases.platform_rules import rules_for

# A withdrawal the platform counted: ours, or one made in its console.
WITHDRAW_ACTIONS = ("withdraw_succeeded", "withdrawn_outside")


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def lock_rejections() -> int:
    return max(1, setting("SAME_REASON_LOCK_REJECTIONS", 2))


def lock_hours() -> int:
    return setting("SAME_REASON_LOCK_HOURS", 24)


# -- the same-reason lock --------------------------------------------------------------------


@dataclass(frozen=True)
class Streak:
    count: int  # rejections in a row sharing a category (at most lock_rejections() are read)
    category: str | None
    last_at: datetime | None


NO_STREAK = Streak(0, None, None)


def streak_of(rejections) -> Streak:
    """The streak of rejections given newest first (anything with `categories` and `at`), all
    after the app's last approval; an unrecognised reason ("other") is never "the same reason"."""
    count, shared, last_at = 0, None, None
    for rejection in rejections:
        categories = set(rejection.categories or []) - {RejectionCategory.OTHER.value}
        narrowed = categories if shared is None else shared & categories
        if not narrowed:
            break
        shared, count = narrowed, count + 1
        last_at = last_at or rejection.at
    category = sorted(shared)[0] if shared else None
    return Streak(count, category, last_at)


def rejection_streaks(app_ids) -> dict[int, Streak]:
    """{app id: the newest run of its rejections sharing a category, with no approval in between}
    for every app of `app_ids` (ids or a values("pk") query) that has one, in two queries whatever
    the number of apps: each app's newest lock_rejections() rejections (a window over the index
    rejections (app_id, at, id)), and each app's last `review_approved` (an index probe on audit
    (app_id, action, at)). The rejections after an app's last approval are its newest ones, so
    the newest few, cut at the approval, are the streak."""
    app_ids = set(app_ids)  # ids, not a subquery: the planner then walks the index per app
    known = {key[1]: streak for key, streak in recall([("rejection_streak", a) for a in app_ids]).items()}
    found = _read_streaks(app_ids - set(known))
    for app_id in app_ids - set(known):  # what the one-app form answers in this read scope too
        remember(("rejection_streak", app_id), found.get(app_id, NO_STREAK))
    return {**known, **found}


def _read_streaks(app_ids: set[int]) -> dict[int, Streak]:
    if not app_ids:
        return {}
    newest_first = [F("at").desc(), F("pk").desc()]
    rows = list(
        Rejection.objects.filter(app_id__any_of=app_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("app_id")], order_by=newest_first))
        .filter(rank__lte=lock_rejections())
        .order_by("app_id", "-at", "-pk")
        .values_list("app_id", "categories", "at", named=True)
    )
    if not rows:
        return {}
    approved = (
        AuditEvent.objects.filter(app_id=OuterRef("pk"), action="review_approved")
        .order_by("-at")
        .values("at")[:1]
    )
    approved_at = dict(
        App.objects.filter(pk__any_of={row.app_id for row in rows})
        .annotate(approved_at=Subquery(approved))
        .values_list("pk", "approved_at")
    )
    by_app = defaultdict(list)
    for row in rows:
        since = approved_at.get(row.app_id)
        if since is None or row.at > since:
            by_app[row.app_id].append(row)
    return {app_id: streak_of(rejections) for app_id, rejections in by_app.items()}


def lock_from(streak: Streak, now: datetime) -> datetime | None:
    """When the same-reason lock of an app with this streak lifts, or None if it is not locked."""
    if streak.count < lock_rejections() or streak.last_at is None:
        return None
    until = streak.last_at + timedelta(hours=lock_hours())
    return until if now < until else None


# -- withdrawals -----------------------------------------------------------------------------


def withdrawal_counts(app_ids, now: datetime) -> dict[int, tuple[int, int]]:
    """{app id: (today, this month)}: withdrawals the platform counted plus those under way, for
    every app of `app_ids` (ids or a values("pk") query) that has any, in one query (the
    withdrawals done, grouped per app, and those under way, as a UNION ALL)."""
    day, month = clock.day_start(now), clock.month_start(now)
    done = (
        AuditEvent.objects.filter(app_id__in=app_ids, action__in=WITHDRAW_ACTIONS, at__gte=month)
        .values("app_id")
        .annotate(today=Count("id", filter=Q(at__gte=day)), month=Count("id"))
        .order_by()
    )
    withdrawing = (
        Release.objects.filter(app_id__in=app_ids, state=State.WITHDRAWING)
        .values("app_id")
        .annotate(today=Count("id"), month=Count("id"))
        .order_by()
    )
    counts: dict[int, tuple[int, int]] = {}
    for app_id, today, this_month in done.union(withdrawing, all=True).values_list(
        "app_id", "today", "month"
    ):
        before = counts.get(app_id, (0, 0))
        counts[app_id] = (before[0] + today, before[1] + this_month)
    return counts


def withdraw_limits(platform: str = "wechat") -> tuple[int, int] | None:
    """(per day, per month) withdrawals the platform allows an app (releases.platform_rules; WeChat's
    numbers overridable by the settings), None when the platform sets no limit."""
    rules = rules_for(platform)
    if rules.withdraw_daily is None or rules.withdraw_monthly is None:
        return None
    return (
        setting("WITHDRAW_DAILY_LIMIT", rules.withdraw_daily),
        setting("WITHDRAW_MONTHLY_LIMIT", rules.withdraw_monthly),
    )
