"""The overview: every app of the user's teams on one page (the home page, `web:dashboard`).

Each part is one plain function of (user, now) that a test can call, and each runs a fixed
number of queries whatever the number of apps, releases and events: aggregates, subqueries
and one grouped query per part, never a query per row. A third-party platform with two
thousand apps gets the same page as a team with one.

"Needs your action" is decided in web/needs_action.py, by the release page's own rules.

The page is rendered often (every change to a release of the teams refreshes it), so the
functions hand the template finished strings: times already formatted in the reader's time
zone, sentences already translated, links already reversed. The template only places them,
and only for the rows it shows: of "needs your action", every item is counted but only the
SHOWN_ACTIONS most urgent are worded.
"""

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext

from releases.limits import clock
from releases.limits.bulk import account_budgets, locks_in_force, withdrawals_reached
from releases.limits.labels import label as limit_label
from releases.models import (
    App,
    AuditEvent,
    Platform,
    PlatformAccount,
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
from web.browse import overview_stamp_of, url_maker
from web.needs_action import KINDS, Access, ActionItem, needs_action  # noqa: F401 -- the page's parts
from web.review_pages import countdown
from web.templatetags.sluice import state_label, state_tone

SHOWN_ACTIONS = 30
SHOWN_REVIEWS = 20
RECENT_EVENTS = 20

# The pipeline, in the order a release travels; each lane is a row of counters.
LANES = (
    (gettext_lazy("Preparing"), (State.DRAFT, State.CHECKED)),
    (gettext_lazy("With the platform"), (State.SUBMITTING, State.SUBMITTED, State.WITHDRAWING)),
    (gettext_lazy("Decided"), (State.APPROVED, State.REJECTED, State.WITHDRAWN, State.EXPIRED)),
    (gettext_lazy("Live"), (State.PUBLISHING, State.PUBLISHED, State.ROLLING_BACK, State.ROLLED_BACK)),
    (
        gettext_lazy("Failed platform steps"),
        (State.SUBMIT_FAILED, State.WITHDRAW_FAILED, State.PUBLISH_FAILED, State.ROLLBACK_FAILED),
    ),
    (gettext_lazy("Closed"), (State.CANCELLED,)),
)

# Where releases end: counted nowhere on the overview (see pipeline()).
ENDED_STATES = (State.PUBLISHED, State.WITHDRAWN, State.EXPIRED, State.ROLLED_BACK, State.CANCELLED)
COUNTED_STATES = [state for _, states in LANES for state in states if state not in ENDED_STATES]


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


# -- the pipeline ------------------------------------------------------------------------------


def state_counts(access: Access, now: datetime | None = None) -> dict[str, dict]:
    """{state: {"n": releases, "late": of those in review, the late or overdue}} for the states a
    release passes through (COUNTED_STATES), in one grouped query.

    Late means delayed by the platform or past the expected working days."""
    late_before = _late_before(clock.now_or(now), EXPECTED_WORKING_DAYS)
    rows = (
        _releases(access)
        .filter(state__in=COUNTED_STATES)
        .annotate(since=_since())
        .values("state")
        .annotate(
            n=Count("id"),
            late=Count(
                "id",
                filter=Q(state=State.SUBMITTED)
                & (Q(review_delayed_at__isnull=False) | Q(since__lt=late_before)),
            ),
        )
        .order_by()
    )
    return {row["state"]: {"n": row["n"], "late": row["late"]} for row in rows}


def pipeline(access: Access, counted: dict[str, dict] | None = None) -> list[dict]:
    """Counts per state, in lanes (one grouped query, or the state_counts given).

    The states a release ends in (published, withdrawn, expired, rolled back, cancelled) pile up
    by the hundred thousand and ask nothing of anyone: their tiles link to the list without a
    count (None), which keeps the query on the few live releases whatever the history."""
    counted = state_counts(access) if counted is None else counted
    counts = {state: row["n"] for state, row in counted.items()}
    url = reverse("web:release-list")
    lanes = []
    for title, states in LANES:
        tiles = []
        for state in states:
            label = _state_label(state.value)
            count = counts.get(state.value, 0) if state in COUNTED_STATES else None
            if count is None:
                aria = gettext("%(label)s: list every such release") % {"label": label}
            elif count:
                aria = ngettext(
                    "%(label)s: %(counter)s release", "%(label)s: %(counter)s releases", count
                ) % {"label": label, "counter": count}
            else:
                aria = ""
            tiles.append(
                {
                    "state": state.value,
                    "label": label,
                    "count": count,
                    "url": f"{url}?state={state.value}",
                    "tone": state_tone(state.value),
                    "aria": aria,
                }
            )
        lanes.append(
            {
                "title": str(title),
                "states": tiles,
                "total": sum(counts.get(state.value, 0) for state in states),
            }
        )
    return lanes


# -- needs my action (decided in web/needs_action.py) ------------------------------------------


def action_rows(items: list[ActionItem], now: datetime) -> list[dict]:
    """The items as the page shows them: worded, linked and dated (only call it for those shown)."""
    url_for = url_maker("web:release-detail")
    zone = timezone.get_current_timezone()
    rows = []
    for item in items:
        kind = item.kind
        _, iso, text = _times(item.since, zone)
        rows.append(
            {
                "release_id": item.release_id,
                "kind": kind,
                "kind_label": str(KINDS[kind][1]),
                "url": url_for(item.release_id),
                "app_name": item.app_name,
                "version": item.version,
                "state": item.state,
                "state_label": _state_label(item.state),
                "tone": state_tone(item.state),
                "since_iso": iso,
                "since_title": gettext("since %(since)s") % {"since": text},
                "age": item.age(now),
                "reason": item.reason,
            }
        )
    return rows


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


def account_meters(access: Access, now: datetime | None = None) -> list[dict]:
    """Per platform account: the review and speed-up quota (shared by its apps) with countdowns,
    and the apps whose own limits (same-reason lock, withdrawals) are reached now."""
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
    apps_of_teams = App.objects.filter(team_id__in=access.team_ids)
    reached = locks_in_force(apps_of_teams, now) + withdrawals_reached(apps_of_teams, now)
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


# -- recent events -------------------------------------------------------------------------------


EVENT_FIELDS = ("pk", "at", "actor_name", "action", "from_state", "to_state", "release_id", "app_id")


def recent_events(access: Access, limit: int = RECENT_EVENTS) -> list[dict]:
    """The latest audit events of the user's teams, each with the version and app name of the
    release it is about: one query, the release looked up for these rows only."""
    release = Release.objects.filter(pk=OuterRef("release_id"), app__team_id__in=access.team_ids).order_by()
    events = list(
        AuditEvent.objects.filter(team_id__in=access.team_ids)
        .order_by("-id")
        .only(
            "pk", "at", "actor_name", "actor_id", "action", "from_state", "to_state", "release_id", "app_id"
        )
        .annotate(
            release_version=Subquery(release.values("version")[:1]),
            release_app=Subquery(release.values("app__name")[:1]),
        )[:limit]
    )
    url_for = url_maker("web:release-detail")
    zone = timezone.get_current_timezone()
    rows = []
    for event in events:
        local, iso, _ = _times(event.at, zone)
        states = ""
        if event.to_state:
            states = _state_label(event.to_state)
            if event.from_state and event.from_state != event.to_state:
                states = f"{_state_label(event.from_state)} → {states}"
        release = None
        if event.release_version is not None:
            release = {
                "pk": event.release_id,
                "version": event.release_version,
                "app__name": event.release_app,
            }
        rows.append(
            {
                "event": event,
                "actor": event.actor_name,
                "action": event.action.replace("_", " "),
                "release": release,
                "url": url_for(event.release_id) if release else "",
                "at_iso": iso,
                "at_title": local.strftime("%Y-%m-%d %H:%M:%S"),
                "at_text": local.strftime("%m-%d %H:%M"),
                "states": states,
            }
        )
    return rows


# -- the page -------------------------------------------------------------------------------------


def overview(user, now: datetime | None = None) -> dict:
    """Everything the overview shows, for `user` at `now`."""
    now = clock.now_or(now)
    access = Access.of(user)
    actions = needs_action(access, user, now)
    reviews = reviews_in_progress(access, now, limit=SHOWN_REVIEWS)
    counted = state_counts(access, now)
    in_review = counted.get(State.SUBMITTED.value, {"n": 0, "late": 0})
    local_now, now_iso, _ = _times(now)
    events = recent_events(access)
    return {
        "access": access,
        "app_count": App.objects.filter(team_id__in=access.team_ids).count(),
        "pipeline": pipeline(access, counted),
        "actions": action_rows(actions[:SHOWN_ACTIONS], now),
        "actions_total": len(actions),
        "reviews": review_rows(reviews),
        "reviews_total": in_review["n"],
        "reviews_late": in_review["late"],
        "accounts": account_meters(access, now),
        "events": events,
        # what the page's live script compares with /live/overview: from the newest event read above
        "live_stamp": overview_stamp_of(events[0]["event"].pk if events else None, now),
        "expected_days": EXPECTED_WORKING_DAYS,
        "max_days": MAX_WORKING_DAYS,
        "now": now,
        "now_iso": now_iso,
        "now_text": local_now.strftime("%H:%M"),
    }


@login_required
def dashboard(request):
    return render(request, "reviews/dashboard.html", overview(request.user))
