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
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

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
from reviews.workdays import EXPECTED_WORKING_DAYS, MAX_WORKING_DAYS, elapsed_working_days, review_tone

SHOWN_ACTIONS = 30
SHOWN_REVIEWS = 50
RECENT_EVENTS = 20

# The pipeline, in the order a release travels; each lane is a row of counters.
LANES = (
    ("Preparing", (State.DRAFT, State.CHECKED)),
    ("With the platform", (State.SUBMITTING, State.SUBMITTED, State.WITHDRAWING)),
    ("Decided", (State.APPROVED, State.REJECTED, State.WITHDRAWN, State.EXPIRED)),
    ("Live", (State.PUBLISHING, State.PUBLISHED, State.ROLLING_BACK, State.ROLLED_BACK)),
    (
        "Failed platform steps",
        (State.SUBMIT_FAILED, State.WITHDRAW_FAILED, State.PUBLISH_FAILED, State.ROLLBACK_FAILED),
    ),
    ("Closed", (State.CANCELLED,)),
)

STEP_NAMES = {
    State.SUBMIT_FAILED: "Submitting",
    State.WITHDRAW_FAILED: "Withdrawing",
    State.PUBLISH_FAILED: "Publishing",
    State.ROLLBACK_FAILED: "Rolling back",
}

# Needs my action: the kinds, most urgent first (the page sorts by this, then by age).
KINDS = {
    "retry": (0, "Retry"),
    "approve": (1, "Approve"),
    "submit": (2, "Submit"),
    "remediate": (3, "Fix rejection"),
    "resubmit": (4, "Resubmit"),
    "publish": (5, "Publish"),
    "checks": (6, "Checks"),
    "checklist": (7, "Checklist"),
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


def pipeline(access: Access) -> list[dict]:
    """Counts per state, in lanes; one grouped query."""
    counts = dict(_releases(access).values_list("state").annotate(n=Count("id")).order_by())
    url = reverse("releases:release-list")
    return [
        {
            "title": title,
            "states": [
                {
                    "state": state.value,
                    "label": state.label,
                    "count": counts.get(state.value, 0),
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
            return "under a minute"
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
    for row in rows:
        team_id = row["app__team_id"]
        required = required_capacities(App(required_approvals=row["app__required_approvals"]))
        missing = [c for c in required if not row[f"ok_{c}"]]
        complete = row["overridden"] or not missing
        if complete:
            if team_id in access.managing:
                reason = f"Revision {row['revision']} has every approval it needs: submit it for review."
                if row["busy"]:
                    reason += " Another release of this app is in review; submit when it ends."
                _item(items, row).add("submit", reason)
            continue
        if row["author_id"] == user.pk or row["mine"]:
            continue
        mine = [c for c in missing if c in access.capacities.get(team_id, set())]
        if not mine:
            continue
        others = [capacity_label(c) for c in missing if c not in mine]
        reason = (
            f"Checked by {row['author__username']}; waiting for your approval as "
            f"{' or '.join(capacity_label(c) for c in mine)}"
        )
        reason += f" (also missing: {', '.join(others)})." if others else "."
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
            item.add("checks", f"Run the checks on revision {row['revision']}.")
        elif row["run_finished"] is not None and row["blocking"]:
            item = _item(items, row)
            n = row["blocking"]
            item.add("checks", f"{n} blocking check{'s' if n != 1 else ''} failed: fix and run them again.")
        if open_items:
            item = item or _item(items, row)
            item.add(
                "checklist",
                f"{open_items} checklist item{'s' if open_items != 1 else ''} to tick for revision "
                f"{row['revision']}.",
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
            error = (row["last_error"] or "no error recorded").strip().splitlines()[0][:160]
            _item(items, row).add("retry", f"{STEP_NAMES[state]} failed ({error}); retry it or give up.")
        elif state == State.APPROVED:
            _item(items, row).add("publish", "Approved by the platform: publish it when the team is ready.")
        elif tasks and (is_mine and team_id in access.developing):
            _item(items, row).add(
                "remediate",
                f"{tasks} required remediation task{'s' if tasks != 1 else ''} open after the rejection.",
            )
        elif state == State.REJECTED and not tasks and team_id in access.managing:
            reason = "Rejected; the remediation tasks are done: resubmit"
            closes = row["decided_at"] + timedelta(days=window_days()) if row["decided_at"] else None
            reason += f" (the window closes {countdown(closes, now)})." if closes else "."
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


def reviews_in_progress(access: Access, now: datetime | None = None) -> list[dict]:
    """Every submitted release (the platform takes one per app, so at most one per app), with
    the working days it has taken; overdue first, then late, then the longest-running."""
    now = clock.now_or(now)
    rows = (
        _releases(access)
        .filter(state=State.SUBMITTED)
        .values(
            "pk",
            "version",
            "submitted_at",
            "state_changed_at",
            "review_delayed_at",
            "review_delay_reason",
            "app__name",
            "app__platform_account__name",
        )
    )
    order = {"overdue": 0, "late": 1, "on_time": 2}
    found = []
    for row in rows:
        since = row["submitted_at"] or row["state_changed_at"]
        elapsed = elapsed_working_days(since, now)
        tone = review_tone(elapsed, row["review_delayed_at"] is not None)
        found.append(
            {
                **row,
                "since": since,
                "elapsed": elapsed,
                "tone": tone,
                "delayed": row["review_delayed_at"] is not None,
                "url": reverse("releases:release-detail", args=[row["pk"]]),
                "meter": min(elapsed, MAX_WORKING_DAYS + 1),
            }
        )
    return sorted(found, key=lambda r: (order[r["tone"]], -r["elapsed"], r["since"]))


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
    budgets = account_budgets(accounts, now)
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
            "review": _meter(budgets[account.pk].review, now),
            "speedup": _meter(budgets[account.pk].speedup, now),
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
    reviews = reviews_in_progress(access, now)
    return {
        "access": access,
        "app_count": App.objects.filter(team_id__in=access.team_ids).count(),
        "pipeline": pipeline(access),
        "actions": actions[:SHOWN_ACTIONS],
        "actions_total": len(actions),
        "reviews": reviews[:SHOWN_REVIEWS],
        "reviews_total": len(reviews),
        "reviews_late": sum(1 for r in reviews if r["tone"] != "on_time"),
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
