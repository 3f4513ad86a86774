"""The overview for a release manager of many apps (issue 15): one table of every app's limits
(withdrawals left, the same-reason lock and its end, the publish window and when it closes, the
account's review quota), and the limits about to change that ask for action (a lock lifting, a
window closing on an approved release).

The numbers are releases.limits.bulk.apps_limits, which counts with the one-app rules' own
functions in a fixed number of queries; this module only words and sorts them. The most urgent
rows are shown first, the rest behind a disclosure, so forty apps still read at a glance.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext

from releases.limits import clock
from releases.limits.bulk import AppLimits, apps_limits
from releases.limits.counts import withdraw_limits
from releases.models import App, Release, State
from web.needs_action import Access
from web.review_pages import countdown
from web.rows import url_maker

SHOWN_FIRST = 10  # rows shown before "all apps"
WINDOW_SOON = timedelta(hours=3)  # an approved release's window closing this soon is an action


def _when(moment: datetime, now: datetime) -> dict:
    local = clock.local(moment)
    same_day = local.date() == clock.local(now).date()
    return {
        "iso": local.isoformat(),
        "title": f"{local:%Y-%m-%d %H:%M} {gettext('Beijing time')}",
        "short": f"{local:%H:%M}" if same_day else f"{local:%m-%d %H:%M}",
        "countdown": countdown(moment, now),
    }


def _withdrawals(limits: AppLimits) -> dict:
    if not limits.withdrawals_limited:
        return {"text": gettext("no limit on this platform"), "tone": "muted"}
    daily, monthly = withdraw_limits()
    left, left_month = limits.withdrawals_left_today, limits.withdrawals_left_month
    return {
        "text": gettext("%(left)s of %(daily)s today · %(month)s of %(monthly)s this month")
        % {"left": left, "daily": daily, "month": left_month, "monthly": monthly},
        # an untouched allowance is no news, even a small one: only one spent down to its last is
        "tone": "danger" if left == 0 else ("warn" if left == 1 < daily else ""),
    }


def _lock(limits: AppLimits, now: datetime) -> dict | None:
    if limits.lock is None:
        return None
    return {"until": _when(limits.lock.resets_at, now), "tone": "danger"}


def _window(limits: AppLimits, now: datetime) -> dict:
    window = limits.window
    if not window.planned:
        return {"text": gettext("any time"), "tone": "muted"}
    if window.open:
        if window.closes_at is None:
            return {"text": gettext("open"), "tone": ""}
        soon = window.closes_at - now <= WINDOW_SOON
        return {
            "text": gettext("open, closes"),
            "at": _when(window.closes_at, now),
            "tone": "warn" if soon else "",
        }
    text = (
        gettext("frozen (%(reason)s), opens") % {"reason": window.frozen}
        if window.frozen
        else gettext("closed, opens")
    )
    if window.opens_at is None:
        return {"text": gettext("closed, no opening planned"), "tone": "danger"}
    return {"text": text, "at": _when(window.opens_at, now), "tone": "muted"}


def _quota(limits: AppLimits) -> dict:
    budget = limits.review
    if budget is None:
        return {"text": gettext("not tracked (submitted by hand)"), "tone": "muted"}
    if budget.limit is None:
        return {"text": gettext("not read yet"), "tone": "muted"}
    remaining = budget.remaining
    return {
        "text": gettext("%(remaining)s of %(limit)s left") % {"remaining": remaining, "limit": budget.limit},
        "tone": "danger" if remaining == 0 else ("warn" if remaining <= max(1, budget.limit // 10) else ""),
    }


def _urgency(row: dict) -> int:
    tones = [row["withdrawals"]["tone"], row["window"]["tone"], row["quota"]["tone"]]
    if row["lock"] or "danger" in tones:
        return 0
    return 1 if "warn" in tones else 2


@dataclass
class LimitsTable:
    rows: list[dict]  # every app, the most urgent first
    soon: list[dict]  # what is about to change and asks for action (for "Needs your action")
    every: list[AppLimits]  # the numbers, for the account meters' "apps at their limit"

    @property
    def first(self) -> list[dict]:
        return self.rows[:SHOWN_FIRST]

    @property
    def rest(self) -> list[dict]:
        return self.rows[SHOWN_FIRST:]


def limits_table(access: Access, now: datetime | None = None) -> LimitsTable:
    """Every app of the user's teams with its limits, and the limits about to change for the
    teams the user manages: a fixed number of queries whatever the number of apps."""
    now = clock.now_or(now)
    every = apps_limits(App.objects.filter(team_id__in=access.team_ids), now)
    app_url = url_maker("web:app-detail")
    rows = []
    for limits in every:
        row = {
            "app_id": limits.app_id,
            "app_name": limits.app_name,
            "url": app_url(limits.app_id),
            "team_name": limits.team_name,
            "account_name": limits.account_name,
            "withdrawals": _withdrawals(limits),
            "lock": _lock(limits, now),
            "window": _window(limits, now),
            "quota": _quota(limits),
        }
        rows.append(row)
    rows.sort(key=lambda row: (_urgency(row), row["app_name"].lower(), row["app_id"]))
    return LimitsTable(rows=rows, soon=_soon(access, every, now), every=every)


def _soon(access: Access, every: list[AppLimits], now: datetime) -> list[dict]:
    """For the teams the user manages: every same-reason lock (it lifts within a day: submit then)
    and every approved release whose publish window closes within WINDOW_SOON (publish before)."""
    managed = [limits for limits in every if limits.team_id in access.managing]
    app_url, release_url = url_maker("web:app-detail"), url_maker("web:release-detail")
    soon = []
    for limits in managed:
        if limits.lock is not None:
            until = _when(limits.lock.resets_at, now)
            soon.append(
                {
                    "kind": "lock",
                    "kind_label": gettext("Lock ends"),
                    "url": app_url(limits.app_id),
                    "title": limits.app_name,
                    "text": gettext(
                        "Submissions are locked after repeated rejections for the same reason; "
                        "the lock lifts %(countdown)s (%(at)s): submit the fixed version then."
                    )
                    % {"countdown": until["countdown"], "at": until["short"]},
                    "at": until,
                    "moment": limits.lock.resets_at,
                }
            )
    closing = {
        limits.app_id: limits.window.closes_at
        for limits in managed
        if limits.window.planned
        and limits.window.open
        and limits.window.closes_at is not None
        and limits.window.closes_at - now <= WINDOW_SOON
    }
    if closing:
        approved = Release.objects.filter(app_id__in=list(closing), state=State.APPROVED).values_list(
            "pk", "version", "app_id", "app__name"
        )
        for release_id, version, app_id, app_name in approved.order_by("app__name", "pk"):
            at = _when(closing[app_id], now)
            soon.append(
                {
                    "kind": "window",
                    "kind_label": gettext("Window closes"),
                    "url": release_url(release_id),
                    "title": f"{app_name} {version}",
                    "text": gettext(
                        "Approved: the publish window closes %(countdown)s (%(at)s); publish before it does."
                    )
                    % {"countdown": at["countdown"], "at": at["short"]},
                    "at": at,
                    "moment": closing[app_id],
                }
            )
    return sorted(soon, key=lambda item: item["moment"])
