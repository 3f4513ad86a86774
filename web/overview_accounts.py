"""The overview's platform accounts: the review and speed-up quota of each, with countdowns, and
the apps whose own limits (same-reason lock, withdrawals) are reached now."""

from dataclasses import replace
from datetime import datetime

from django.db.models import (
    Count,
)
from django.utils.translation import gettext, ngettext

from releases.limits import clock
from releases.limits.bulk import (
    AppLimits,
    account_budgets,
    locks_in_force,
    withdrawals_reached,
    withdrawals_reached_of,
)
from releases.limits.labels import label as limit_label
from releases.models import (
    App,
    Platform,
    PlatformAccount,
)
from web.needs_action import Access
from web.review_pages import countdown
from web.rows import url_maker

# -- quota and limits -----------------------------------------------------------------------------


def _beijing(moment: datetime, now: datetime) -> dict:
    """A reset or lift moment: Beijing time for the title, a countdown to show."""
    local = clock.local(moment)
    return {
        "resets_at": local,
        "resets_iso": local.isoformat(),
        "resets_title": f"{local.strftime('%Y-%m-%d %H:%M')} {gettext('Beijing time')}",
        "countdown": countdown(moment, now),
    }


def _meter(budget, now: datetime) -> dict:
    return {
        "used": budget.used,
        "limit": budget.limit,
        "remaining": budget.remaining,
        "low": budget.limit is not None and budget.remaining <= max(1, budget.limit // 10),
        "low_mark": (budget.limit or 0) * 0.7,
        "high_mark": (budget.limit or 0) * 0.9,
        **_beijing(budget.resets_at, now),
    }


def _limit_text(limit) -> str:
    if limit.key == "same_reason_lock":
        return gettext("submissions locked after repeated rejections for the same reason")
    label = limit_label(limit.key, limit.label)
    return gettext("%(label)s used up (%(used)s/%(limit)s)") % {
        "label": str(label).lower(),
        "used": limit.used,
        "limit": limit.limit,
    }


SNAPSHOT_FIELDS = [
    f"quota_snapshot__{name}"
    for name in ("account", "rest", "limit", "speedup_rest", "speedup_limit", "refreshed_at")
]


def _reached(access: Access, now: datetime, every: list[AppLimits] | None) -> list:
    """The apps' limits reached now: from the overview's table of every app when it was read
    (releases.limits.bulk.apps_limits), else counted for the user's teams."""
    if every is None:
        apps_of_teams = App.objects.filter(team_id__in=access.team_ids)
        return locks_in_force(apps_of_teams, now) + withdrawals_reached(apps_of_teams, now)
    named = {limits.app_id: limits for limits in every}
    withdrawals = withdrawals_reached_of(
        {a.app_id: (a.withdrawals_today, a.withdrawals_month) for a in every if a.withdrawals_month}, now
    )
    return [limits.lock for limits in every if limits.lock is not None] + [
        replace(limit, app_name=named[limit.app_id].app_name, account_id=named[limit.app_id].account_id)
        for limit in withdrawals
    ]


def account_meters(
    access: Access, now: datetime | None = None, every: list[AppLimits] | None = None
) -> list[dict]:
    """Per platform account: the review and speed-up quota (shared by its apps) with countdowns,
    and the apps whose own limits (same-reason lock, withdrawals) are reached now (from `every`,
    the overview's table of every app's limits, when given)."""
    now = clock.now_or(now)
    accounts = list(
        PlatformAccount.objects.filter(team_id__in=access.team_ids)
        .select_related("team", "quota_snapshot")  # the last quota read, for account_budgets
        .annotate(app_count=Count("apps"))
        .only("pk", "name", "platform", "team__name", *SNAPSHOT_FIELDS)
        .order_by("team__name", "name")
    )
    # A manual account submits by hand in the platform's console: no meter is shown for it, so
    # its submissions are not counted (that would read every manual submission of the month).
    budgets = account_budgets([a for a in accounts if a.platform != Platform.MANUAL], now)
    reached = _reached(access, now, every)
    # The locks come with their app's name and account; the withdrawals (rare) are looked up.
    unnamed = {limit.app_id for limit in reached if limit.account_id is None}
    apps = {}
    if unnamed:
        rows = App.objects.filter(pk__in=unnamed).values_list("pk", "name", "platform_account_id")
        apps = {pk: (name, account_id) for pk, name, account_id in rows}
    app_url = url_maker("web:app-detail")
    by_account: dict[int, list[dict]] = {}
    for limit in reached:
        if limit.account_id is None:
            name, account_id = apps.get(limit.app_id, ("", None))
        else:
            name, account_id = limit.app_name, limit.account_id
        by_account.setdefault(account_id, []).append(
            {
                "app_id": limit.app_id,
                "app_name": name,
                "label": limit.label,
                "key": limit.key,
                "used": limit.used,
                "limit": limit.limit,
                "text": _limit_text(limit),
                "url": app_url(limit.app_id),
                **_beijing(limit.resets_at, now),
            }
        )
    review_label, speedup_label = gettext("Reviews this month"), gettext("Speed-ups this month")
    rows = []
    for account in accounts:
        budget = budgets.get(account.pk)
        review = _meter(budget.review, now) if budget else None
        speedup = _meter(budget.speedup, now) if budget else None
        meters = []
        if budget:
            meters = [
                {**review, "id": f"meter-review-{account.pk}", "label": review_label},
                {**speedup, "id": f"meter-speedup-{account.pk}", "label": speedup_label},
            ]
        rows.append(
            {
                "account": account,
                "manual": account.platform == Platform.MANUAL,
                "apps": ngettext("%(counter)s app", "%(counter)s apps", account.app_count)
                % {"counter": account.app_count},
                "review": review,
                "speedup": speedup,
                "meters": meters,
                "apps_at_limit": by_account.get(account.pk, []),
            }
        )
    return rows
