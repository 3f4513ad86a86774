"""The overview: every app of the user's teams on one page (the home page, `releases:dashboard`).

It lives in reviews/ because it shows review data (working days, remediation, limits) next to
the release pipeline; releases/ reaches it through the SLUICE_DASHBOARD_VIEW hook.

Each part is one plain function of (user, now) that a test can call, and each runs a fixed
number of queries whatever the number of apps, releases and events: aggregates, subqueries
and one grouped query per part, never a query per row. A third-party platform with two
thousand apps gets the same page as a team with one.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, ngettext

from releases import selectors
from releases.approvals import capacity_label, required_capacities
from releases.browse import overview_stamp
from releases.models import (
    FAILED_TO_IN_FLIGHT,
    IN_REVIEW,
    MEMBER_CAPACITIES,
    App,
    Approval,
    AuditEvent,
    Capacity,
    ChecklistTick,
    CheckResult,
    CheckRun,
    Platform,
    PlatformAccount,
    Release,
    Role,
    State,
    role_at_least,
)
from reviews.limits import clock
from reviews.limits.bulk import account_budgets, locks_in_force, withdrawals_reached
from reviews.limits.rules import window_days
from reviews.pages import countdown
from reviews.workdays import (
    EXPECTED_WORKING_DAYS,
    MAX_WORKING_DAYS,
    elapsed_working_days,
    review_tone,
    working_days_between,
)

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

STEP_NAMES = {
    State.SUBMIT_FAILED: gettext_lazy("Submitting"),
    State.WITHDRAW_FAILED: gettext_lazy("Withdrawing"),
    State.PUBLISH_FAILED: gettext_lazy("Publishing"),
    State.ROLLBACK_FAILED: gettext_lazy("Rolling back"),
}

# Needs my action: the kinds, most urgent first (the page sorts by this, then by age).
KINDS = {
    "retry": (0, gettext_lazy("Retry")),
    "approve": (1, gettext_lazy("Approve")),
    "submit": (2, gettext_lazy("Submit")),
    "remediate": (3, gettext_lazy("Fix rejection")),
    "resubmit": (4, gettext_lazy("Resubmit")),
    "publish": (5, gettext_lazy("Publish")),
    "checks": (6, gettext_lazy("Checks")),
    "checklist": (7, gettext_lazy("Checklist")),
}


@dataclass
class Access:
    """Who the user is in each team, read once (two small queries, cached on the user)."""

    team_ids: list[int]
    managing: set[int]  # teams where the user is a release manager or admin
    developing: set[int]  # teams where the user is a developer or above
    capacities: dict[int, set[str]]  # team -> approval capacities the user holds there

    @classmethod
    def of(cls, user) -> "Access":
        team_ids = selectors.team_ids_for(user)
        roles = {team_id: selectors.role_for(user, team_id) for team_id in team_ids}
        capacities = {}
        for team_id, role in roles.items():
            held = set()
            if role_at_least(role, Role.RELEASE_MANAGER):
                held.add(Capacity.RELEASE_MANAGER.value)
            if role_at_least(role, Role.DEVELOPER):
                member = selectors.member_capacities_for(user, team_id)
                held |= {c.value for c in MEMBER_CAPACITIES if c in member}
            capacities[team_id] = held
        return cls(
            team_ids=team_ids,
            managing={t for t, r in roles.items() if role_at_least(r, Role.RELEASE_MANAGER)},
            developing={t for t, r in roles.items() if role_at_least(r, Role.DEVELOPER)},
            capacities=capacities,
        )


def _releases(access: Access):
    return Release.objects.filter(app__team_id__in=access.team_ids)


# -- the pipeline ------------------------------------------------------------------------------


def state_counts(access: Access, now: datetime | None = None) -> dict[str, dict]:
    """{state: {"n": releases, "late": of those in review, the late or overdue}} for the states a
    release passes through (COUNTED_STATES), in one grouped query.

    Late means delayed by the platform or past the expected working days: started on a Beijing
    date before a cutoff found here (working days only move forward, so it is one comparison)."""
    now = clock.now_or(now)
    today = clock.local(now).date()
    cutoff = today
    while working_days_between(cutoff, today) <= EXPECTED_WORKING_DAYS:
        cutoff -= timedelta(days=1)  # a few steps: working days come back within a week or two
    late_before = clock.next_day_start(datetime.combine(cutoff, datetime.min.time(), tzinfo=clock.BEIJING))
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
    url = reverse("releases:release-list")
    return [
        {
            "title": title,
            "states": [
                {
                    "state": state.value,
                    "label": state.label,
                    "count": counts.get(state.value, 0) if state in COUNTED_STATES else None,
                    "url": f"{url}?state={state.value}",
                }
                for state in states
            ],
            "total": sum(counts.get(state.value, 0) for state in states),
        }
        for title, states in LANES
    ]


# -- needs my action ---------------------------------------------------------------------------


@dataclass
class ActionItem:
    release_id: int
    app_name: str
    version: str
    state: str
    since: datetime
    kinds: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, kind: str, reason: str) -> None:
        self.kinds.append(kind)
        self.reasons.append(reason)

    @property
    def kind(self) -> str:
        return min(self.kinds, key=lambda k: KINDS[k][0])

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][1]

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)

    @property
    def url(self) -> str:
        return reverse("releases:release-detail", args=[self.release_id])

    @property
    def age(self) -> str:
        """How long it has been in its state: "3 days", "5 hours", or "a moment"."""
        if timezone.now() - self.since < timedelta(minutes=1):
            return gettext("under a minute")
        return timesince(self.since, depth=1)


def _approved(capacity: str):
    return Exists(
        Approval.objects.filter(
            release=OuterRef("pk"), revision=OuterRef("revision"), capacity=capacity, override=False
        )
    )


def _checked_releases(access: Access, user, items: dict, now: datetime) -> None:
    """Checked releases: approvals waiting for a capacity the user holds (never their own
    release), and, for release managers, approved revisions ready to submit."""
    approver_teams = [t for t, held in access.capacities.items() if held]
    if not approver_teams:
        return
    rows = (
        Release.objects.filter(app__team_id__in=approver_teams, state=State.CHECKED)
        .annotate(
            **{f"ok_{c.value}": _approved(c.value) for c in Capacity},
            overridden=Exists(
                Approval.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision"), override=True)
            ),
            mine=Exists(
                Approval.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision"), approver=user)
            ),
            busy=Exists(
                Release.objects.filter(app_id=OuterRef("app_id"), state__in=IN_REVIEW).exclude(
                    pk=OuterRef("pk")
                )
            ),
        )
        .values(
            "pk",
            "version",
            "state",
            "revision",
            "state_changed_at",
            "author_id",
            "author__username",
            "app__name",
            "app__team_id",
            "app__required_approvals",
            *[f"ok_{c.value}" for c in Capacity],
            "overridden",
            "mine",
            "busy",
        )
    )
    labels = {c.value: str(capacity_label(c.value)) for c in Capacity}
    policies: dict[tuple, list[str]] = {}
    for row in rows:
        team_id = row["app__team_id"]
        policy = tuple(row["app__required_approvals"] or ())
        if policy not in policies:
            policies[policy] = required_capacities(App(required_approvals=list(policy)))
        required = policies[policy]
        missing = [c for c in required if not row[f"ok_{c}"]]
        complete = row["overridden"] or not missing
        if complete:
            if team_id in access.managing:
                reason = gettext(
                    "Revision %(revision)s has every approval it needs: submit it for review."
                ) % {"revision": row["revision"]}
                if row["busy"]:
                    reason += " " + gettext("Another release of this app is in review; submit when it ends.")
                _item(items, row).add("submit", reason)
            continue
        if row["author_id"] == user.pk or row["mine"]:
            continue
        mine = [c for c in missing if c in access.capacities.get(team_id, set())]
        if not mine:
            continue
        others = [labels[c] for c in missing if c not in mine]
        reason = gettext("Checked by %(author)s; waiting for your approval as %(capacities)s") % {
            "author": row["author__username"],
            "capacities": gettext(" or ").join(labels[c] for c in mine),
        }
        reason += gettext(" (also missing: %(others)s).") % {"others": ", ".join(others)} if others else "."
        _item(items, row).add("approve", reason)


def _my_drafts(access: Access, user, items: dict) -> None:
    """Drafts the user authored or owns: checks to run or fix, checklist items to tick."""
    if not access.developing:
        return
    latest = CheckRun.objects.filter(release=OuterRef("pk")).order_by("-created_at", "-pk")
    blocking = (
        CheckResult.objects.filter(
            run_id=OuterRef("run_id"), severity="error", status__in=["failed", "error"]
        )
        .values("run_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    ticks = (
        ChecklistTick.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision"))
        .values("release")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Release.objects.filter(app__team_id__in=access.developing, state=State.DRAFT)
        .filter(Q(author=user) | Q(owner=user))
        .annotate(
            run_id=Subquery(latest.values("pk")[:1]),
            run_revision=Subquery(latest.values("revision")[:1]),
            run_finished=Subquery(latest.values("finished_at")[:1]),
            blocking=Subquery(blocking),
            ticked=Subquery(ticks),
        )
        .values(
            "pk",
            "version",
            "state",
            "revision",
            "state_changed_at",
            "app__name",
            "app__checklist",
            "run_id",
            "run_revision",
            "run_finished",
            "blocking",
            "ticked",
        )
    )
    for row in rows:
        checklist = [i for i in row["app__checklist"] or [] if isinstance(i, dict) and i.get("key")]
        open_items = max(0, len(checklist) - (row["ticked"] or 0))
        current = row["run_id"] is not None and row["run_revision"] == row["revision"]
        item = None
        if not current:
            item = _item(items, row)
            item.add(
                "checks", gettext("Run the checks on revision %(revision)s.") % {"revision": row["revision"]}
            )
        elif row["run_finished"] is not None and row["blocking"]:
            item = _item(items, row)
            n = row["blocking"]
            item.add(
                "checks",
                ngettext(
                    "%(count)s blocking check failed: fix and run them again.",
                    "%(count)s blocking checks failed: fix and run them again.",
                    n,
                )
                % {"count": n},
            )
        if open_items:
            item = item or _item(items, row)
            item.add(
                "checklist",
                ngettext(
                    "%(count)s checklist item to tick for revision %(revision)s.",
                    "%(count)s checklist items to tick for revision %(revision)s.",
                    open_items,
                )
                % {"count": open_items, "revision": row["revision"]},
            )


def _platform_outcomes(access: Access, user, items: dict, now: datetime) -> None:
    """Rejections (remediation, resubmission), approvals to publish and failed steps to retry."""
    from reviews.models import RemediationTask

    open_tasks = (
        RemediationTask.objects.filter(release=OuterRef("pk"), required=True, done=False, waived_at=None)
        .values("release")
        .annotate(n=Count("id"))
        .values("n")
    )
    mine = Q(author=user) | Q(owner=user)
    managing = list(access.managing)
    wanted = Q(app__team_id__in=managing, state__in=[State.APPROVED, State.REJECTED, *FAILED_TO_IN_FLIGHT])
    wanted |= (
        Q(app__team_id__in=list(access.developing), state__in=[State.REJECTED, State.DRAFT, State.CHECKED])
        & mine
    )
    rows = (
        Release.objects.filter(app__team_id__in=access.team_ids)
        .filter(wanted)
        .annotate(open_tasks=Subquery(open_tasks))
        .filter(~Q(state__in=[State.DRAFT, State.CHECKED]) | Q(open_tasks__gt=0))
        .values(
            "pk",
            "version",
            "state",
            "revision",
            "state_changed_at",
            "decided_at",
            "last_error",
            "last_error_code",
            "author_id",
            "owner_id",
            "app__name",
            "app__team_id",
            "open_tasks",
        )
    )
    for row in rows:
        state, team_id = row["state"], row["app__team_id"]
        is_mine = user.pk in (row["author_id"], row["owner_id"])
        tasks = row["open_tasks"] or 0
        if state in FAILED_TO_IN_FLIGHT:
            error = (row["last_error"] or gettext("no error recorded")).strip().splitlines()[0][:160]
            _item(items, row).add(
                "retry",
                gettext("%(step)s failed (%(error)s); retry it or give up.")
                % {"step": STEP_NAMES[state], "error": error},
            )
        elif state == State.APPROVED:
            _item(items, row).add(
                "publish", gettext("Approved by the platform: publish it when the team is ready.")
            )
        elif tasks and (is_mine and team_id in access.developing):
            _item(items, row).add(
                "remediate",
                ngettext(
                    "%(count)s required remediation task open after the rejection.",
                    "%(count)s required remediation tasks open after the rejection.",
                    tasks,
                )
                % {"count": tasks},
            )
        elif state == State.REJECTED and not tasks and team_id in access.managing:
            reason = gettext("Rejected; the remediation tasks are done: resubmit")
            closes = row["decided_at"] + timedelta(days=window_days()) if row["decided_at"] else None
            reason += (
                gettext(" (the window closes %(when)s).") % {"when": countdown(closes, now)}
                if closes
                else "."
            )
            _item(items, row).add("resubmit", reason)


def _item(items: dict, row: dict) -> ActionItem:
    if row["pk"] not in items:
        items[row["pk"]] = ActionItem(
            row["pk"], row["app__name"], row["version"], row["state"], row["state_changed_at"]
        )
    return items[row["pk"]]


def needs_action(access: Access, user, now: datetime | None = None) -> list[ActionItem]:
    """What waits for this user, most urgent first, then oldest first; three queries."""
    now = clock.now_or(now)
    items: dict[int, ActionItem] = {}
    _checked_releases(access, user, items, now)
    _my_drafts(access, user, items)
    _platform_outcomes(access, user, items, now)
    return sorted(items.values(), key=lambda item: (KINDS[item.kind][0], item.since, item.release_id))


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


def _review_row(row: dict, now: datetime) -> dict:
    since = row["submitted_at"] or row["state_changed_at"]
    elapsed = elapsed_working_days(since, now)
    return {
        **row,
        "since": since,
        "elapsed": elapsed,
        "tone": review_tone(elapsed, row["review_delayed_at"] is not None),
        "delayed": row["review_delayed_at"] is not None,
        "url": reverse("releases:release-detail", args=[row["pk"]]),
        "meter": min(elapsed, MAX_WORKING_DAYS + 1),
    }


def _review_key(row: dict):
    return (REVIEW_ORDER[row["tone"]], -row["elapsed"], row["since"], row["pk"])


def reviews_in_progress(access: Access, now: datetime | None = None, limit: int | None = None) -> list[dict]:
    """The submitted releases (the platform takes one per app, so at most one per app), with the
    working days each has taken; overdue first, then late, then the longest-running.

    With `limit`, only the most urgent `limit` of them, read in two small queries whatever the
    number in review: the longest-running overall and the longest-running the platform marked
    delayed (the only ones that can be late while younger than others) hold every one of them."""
    now = clock.now_or(now)
    submitted = _releases(access).filter(state=State.SUBMITTED).annotate(since=_since())
    if limit is None:
        rows = list(submitted.values(*REVIEW_FIELDS))
    else:
        oldest = submitted.order_by("since", "pk").values(*REVIEW_FIELDS)[:limit]
        delayed = (
            submitted.filter(review_delayed_at__isnull=False).order_by("since", "pk").values(*REVIEW_FIELDS)
        )[:limit]
        # Two plain queries, not a UNION of slices: SQLite refuses LIMIT inside a compound query.
        rows = list({row["pk"]: row for row in [*oldest, *delayed]}.values())
    found = sorted((_review_row(row, now) for row in rows), key=_review_key)
    return found if limit is None else found[:limit]


def _since():
    return Coalesce("submitted_at", "state_changed_at")


# -- quota and limits -----------------------------------------------------------------------------


def _meter(budget, now: datetime) -> dict:
    return {
        "used": budget.used,
        "limit": budget.limit,
        "remaining": budget.remaining,
        "resets_at": clock.local(budget.resets_at),
        "countdown": countdown(budget.resets_at, now),
        "low": budget.limit is not None and budget.remaining <= max(1, budget.limit // 10),
        "low_mark": (budget.limit or 0) * 0.7,
        "high_mark": (budget.limit or 0) * 0.9,
    }


def account_meters(access: Access, now: datetime | None = None) -> list[dict]:
    """Per platform account: the review and speed-up quota (shared by its apps) with countdowns,
    and the apps whose own limits (same-reason lock, withdrawals) are reached now."""
    now = clock.now_or(now)
    accounts = list(
        PlatformAccount.objects.filter(team_id__in=access.team_ids)
        .select_related("team")
        .annotate(app_count=Count("apps"))
        .only("pk", "name", "platform", "team__name")
        .order_by("team__name", "name")
    )
    # A manual account submits by hand in the platform's console: no meter is shown for it, so
    # its submissions are not counted (that would read every manual submission of the month).
    budgets = account_budgets([a for a in accounts if a.platform != Platform.MANUAL], now)
    app_ids = App.objects.filter(team_id__in=access.team_ids).values("pk")
    reached = locks_in_force(app_ids, now) + withdrawals_reached(app_ids, now)
    apps = {
        pk: (name, account_id)
        for pk, name, account_id in App.objects.filter(pk__in=[r.app_id for r in reached]).values_list(
            "pk", "name", "platform_account_id"
        )
    }
    by_account: dict[int, list[dict]] = {}
    for limit in reached:
        name, account_id = apps.get(limit.app_id, ("", None))
        by_account.setdefault(account_id, []).append(
            {
                "app_id": limit.app_id,
                "app_name": name,
                "label": limit.label,
                "key": limit.key,
                "used": limit.used,
                "limit": limit.limit,
                "resets_at": clock.local(limit.resets_at),
                "countdown": countdown(limit.resets_at, now),
                "url": reverse("releases:app-detail", args=[limit.app_id]),
            }
        )
    return [
        {
            "account": account,
            "review": _meter(budgets[account.pk].review, now) if account.pk in budgets else None,
            "speedup": _meter(budgets[account.pk].speedup, now) if account.pk in budgets else None,
            "apps_at_limit": by_account.get(account.pk, []),
        }
        for account in accounts
    ]


# -- recent events -------------------------------------------------------------------------------


def recent_events(access: Access, limit: int = RECENT_EVENTS) -> list[dict]:
    """The latest audit events of the user's teams, with the release each is about (two queries)."""
    events = list(
        AuditEvent.objects.filter(team_id__in=access.team_ids)
        .order_by("-id")
        .only(
            "pk", "at", "actor_name", "actor_id", "action", "from_state", "to_state", "release_id", "app_id"
        )[:limit]
    )
    release_ids = {e.release_id for e in events if e.release_id}
    releases = {
        row["pk"]: row
        for row in Release.objects.filter(pk__in=release_ids, app__team_id__in=access.team_ids).values(
            "pk", "version", "app__name"
        )
    }
    return [
        {
            "event": event,
            "action": event.action.replace("_", " "),
            "release": releases.get(event.release_id),
            "url": reverse("releases:release-detail", args=[event.release_id])
            if event.release_id in releases
            else "",
        }
        for event in events
    ]


# -- the page -------------------------------------------------------------------------------------


def overview(user, now: datetime | None = None) -> dict:
    """Everything the overview shows, for `user` at `now`."""
    now = clock.now_or(now)
    access = Access.of(user)
    actions = needs_action(access, user, now)
    reviews = reviews_in_progress(access, now, limit=SHOWN_REVIEWS)
    counted = state_counts(access, now)
    in_review = counted.get(State.SUBMITTED.value, {"n": 0, "late": 0})
    return {
        "access": access,
        "app_count": App.objects.filter(team_id__in=access.team_ids).count(),
        "pipeline": pipeline(access, counted),
        "actions": actions[:SHOWN_ACTIONS],
        "actions_total": len(actions),
        "reviews": reviews,
        "reviews_total": in_review["n"],
        "reviews_late": in_review["late"],
        "accounts": account_meters(access, now),
        "events": recent_events(access),
        "live_stamp": overview_stamp(user, now),
        "expected_days": EXPECTED_WORKING_DAYS,
        "max_days": MAX_WORKING_DAYS,
        "now": now,
    }


@login_required
def dashboard(request):
    return render(request, "reviews/dashboard.html", overview(request.user))
