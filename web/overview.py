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

from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import (
    Count,
    OuterRef,
    Q,
    Subquery,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from releases.limits import clock
from releases.memo import in_read_scope
from releases.models import (
    App,
    AuditEvent,
    Release,
    State,
)
from releases.workdays import (
    EXPECTED_WORKING_DAYS,
    MAX_WORKING_DAYS,
)
from web.audit_labels import action_label, state_text
from web.live import overview_stamp_of
from web.needs_action import KINDS, Access, ActionItem, needs_action  # noqa: F401 -- the page's parts
from web.overview_accounts import account_meters
from web.overview_limits import limits_table
from web.overview_reviews import (
    SHOWN_REVIEWS,
    _late_before,
    _releases,
    _since,
    _state_label,
    _times,
    review_rows,
    reviews_in_progress,
)
from web.rows import url_maker
from web.templatetags.sluice import state_tone

SHOWN_ACTIONS = 30
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

# Where releases end: counted over the last ENDED_WINDOW only (see pipeline()).
ENDED_STATES = (State.PUBLISHED, State.WITHDRAWN, State.EXPIRED, State.ROLLED_BACK, State.CANCELLED)
COUNTED_STATES = [state for _, states in LANES for state in states if state not in ENDED_STATES]
ENDED_WINDOW_DAYS = 30


# -- the pipeline ------------------------------------------------------------------------------


def state_counts(access: Access, now: datetime | None = None) -> dict[str, dict]:
    """{state: {"n": releases, "late": of those in review, the late or overdue}} for the states a
    release passes through (COUNTED_STATES), in one grouped query.

    Late means delayed by the platform or past the expected working days."""
    now = clock.now_or(now)
    late_before = _late_before(now, EXPECTED_WORKING_DAYS)
    recent = now - timedelta(days=ENDED_WINDOW_DAYS)
    rows = (
        _releases(access)
        # Live states whole; ended ones over the last 30 days (index release_state_changed_idx).
        .filter(Q(state__in=COUNTED_STATES) | Q(state__in=ENDED_STATES, state_changed_at__gte=recent))
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
    by the hundred thousand and ask nothing of anyone: their tiles count the last 30 days
    (`recent`), which keeps the query on a short index range whatever the history."""
    counted = state_counts(access) if counted is None else counted
    counts = {state: row["n"] for state, row in counted.items()}
    url = reverse("web:release-list")
    lanes = []
    for title, states in LANES:
        tiles = []
        for state in states:
            label = _state_label(state.value)
            count = counts.get(state.value, 0)
            recent = state in ENDED_STATES
            if recent:
                aria = ngettext(
                    "%(label)s in the last 30 days: %(counter)s release",
                    "%(label)s in the last 30 days: %(counter)s releases",
                    count,
                ) % {"label": label, "counter": count}
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
                    "recent": recent,
                    "url": f"{url}?state={state.value}",
                    "tone": state_tone(state.value),
                    "aria": aria,
                }
            )
        lanes.append(
            {
                "title": str(title),
                "states": tiles,
                "total": sum(counts.get(state.value, 0) for state in states if state not in ENDED_STATES),
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
            states = state_text(event.to_state)
            if event.from_state and event.from_state != event.to_state:
                states = f"{state_text(event.from_state)} → {states}"
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
                "action": action_label(event.action),
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
    limits = limits_table(access, now)
    return {
        "access": access,
        "app_count": App.objects.filter(team_id__in=access.team_ids).count(),
        "pipeline": pipeline(access, counted),
        "actions": action_rows(actions[:SHOWN_ACTIONS], now),
        "actions_total": len(actions),
        "limits": limits,
        "soon": limits.soon,
        "reviews": review_rows(reviews),
        "reviews_total": in_review["n"],
        "reviews_late": in_review["late"],
        "accounts": account_meters(access, now, limits.every),
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
@in_read_scope
def dashboard(request):
    return render(request, "reviews/dashboard.html", overview(request.user))
