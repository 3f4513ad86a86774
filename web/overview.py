"""The overview: every app of the user's teams on one page (the home page, `web:dashboard`).

It lives in reviews/ because it shows review data (working days, remediation, limits) next to
the release pipeline; releases/ reaches it through the SLUICE_DASHBOARD_VIEW hook.

Each part is one plain function of (user, now) that a test can call, and each runs a fixed
number of queries whatever the number of apps, releases and events: aggregates, subqueries
and one grouped query per part, never a query per row. A third-party platform with two
thousand apps gets the same page as a team with one.

The page is rendered often (every change to a release of the teams refreshes it), so the
functions hand the template finished strings: times already formatted in the reader's time
zone, sentences already translated, links already reversed. The template only places them,
and only for the rows it shows: of "needs your action", every item is counted but only the
SHOWN_ACTIONS most urgent are worded.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache, partial

from django.contrib.auth.decorators import login_required
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, ngettext

from releases import selectors
from releases.approvals import capacity_label, content_written_by, required_capacities
from releases.limits import clock
from releases.limits.bulk import account_budgets, locks_in_force, withdrawals_reached
from releases.limits.labels import label as limit_label
from releases.limits.rules import window_days
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
from releases.workdays import (
    EXPECTED_WORKING_DAYS,
    MAX_WORKING_DAYS,
    elapsed_working_days,
    review_tone,
    working_days_between,
)
from web.browse import overview_stamp_of, url_maker
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


# -- needs my action ---------------------------------------------------------------------------


@dataclass(slots=True)
class ActionItem:
    """One release that waits for the user, with every reason why. A reason is a sentence or a
    function making it: hundreds of items are counted, only the shown ones are worded."""

    release_id: int
    app_name: str
    version: str
    state: str
    since: datetime
    kinds: list[str] = field(default_factory=list)
    reasons: list = field(default_factory=list)
    rank: int = len(KINDS)  # of its most urgent kind

    def add(self, kind: str, reason) -> None:
        self.kinds.append(kind)
        self.reasons.append(reason)
        self.rank = min(self.rank, KINDS[kind][0])

    @property
    def kind(self) -> str:
        return min(self.kinds, key=lambda k: KINDS[k][0])

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][1]

    @property
    def reason(self) -> str:
        return " ".join(reason() if callable(reason) else reason for reason in self.reasons)

    @property
    def url(self) -> str:
        return reverse("web:release-detail", args=[self.release_id])

    def age(self, now: datetime | None = None) -> str:
        """How long it has been in its state: "3 days", "5 hours", or "under a minute"."""
        now = now or timezone.now()
        if now - self.since < timedelta(minutes=1):
            return gettext("under a minute")
        return timesince(self.since, now, depth=1)


# The approvals of a checked release's current revision, as bits of one number: one subquery
# per release instead of one per fact.
CAPACITY_BITS = {capacity.value: 1 << n for n, capacity in enumerate(Capacity)}
OVERRIDDEN = 1 << len(CAPACITY_BITS)
APPROVED_BY_ME = OVERRIDDEN << 1


@lru_cache(maxsize=1024)
def _approval_flags(user_id: int) -> Subquery:
    """Built once per user and process (a query copies the expressions it uses, so sharing the
    Subquery is safe): building these CASE expressions costs more than running them."""

    def bit(value: int, **when) -> Func:
        return Func(Case(When(**when, then=Value(value)), default=Value(0)), function="MAX")

    facts = [bit(value, capacity=capacity, override=False) for capacity, value in CAPACITY_BITS.items()]
    facts += [bit(OVERRIDDEN, override=True), bit(APPROVED_BY_ME, approver_id=user_id)]
    flags = facts[0]
    for fact in facts[1:]:
        flags = flags + fact
    approvals = Approval.objects.filter(release=OuterRef("pk"), revision=OuterRef("revision")).order_by()
    return Subquery(approvals.annotate(flags=flags).values("flags"), output_field=IntegerField())


class _AppsInReview:
    """The apps of the checked releases that have another release in review (the platform takes
    one at a time), read on first use: only a worded "submit" item asks, so the page reads it
    at most once, and not at all when no such item is shown."""

    def __init__(self, checked: QuerySet[Release]):
        self.checked = checked
        self.app_ids: set[int] | None = None

    def __contains__(self, app_id: int) -> bool:
        if self.app_ids is None:
            self.app_ids = set(
                Release.objects.filter(state__in=IN_REVIEW, app_id__in=self.checked.values("app_id"))
                .order_by()
                .values_list("app_id", flat=True)
            )
        return app_id in self.app_ids


def _submit_reason(revision: int, app_id: int, in_review: _AppsInReview) -> str:
    reason = gettext("Revision %(revision)s has every approval it needs: submit it for review.") % {
        "revision": revision
    }
    if app_id in in_review:  # a checked release is not in review itself: another one is
        reason += " " + gettext("Another release of this app is in review; submit when it ends.")
    return reason


def _approve_reason(author: str, mine: list[str], others: list[str]) -> str:
    reason = gettext("Checked by %(author)s; waiting for your approval as %(capacities)s") % {
        "author": author,
        "capacities": gettext(" or ").join(str(capacity_label(c)) for c in mine),
    }
    if others:
        return reason + gettext(" (also missing: %(others)s).") % {
            "others": ", ".join(str(capacity_label(c)) for c in others)
        }
    return reason + "."


def _checked_releases(access: Access, user, items: dict, now: datetime) -> None:
    """Checked releases: approvals waiting for a capacity the user holds (never on content they
    wrote), and, for release managers, approved revisions ready to submit."""
    approver_teams = [t for t, held in access.capacities.items() if held]
    if not approver_teams:
        return
    checked = Release.objects.filter(app__team_id__in=approver_teams, state=State.CHECKED)
    in_review = _AppsInReview(checked)
    rows = (
        checked.annotate(
            approval_flags=_approval_flags(user.pk),
            wrote_it=ExpressionWrapper(content_written_by(user.pk), output_field=BooleanField()),
            # the policy as text: a few distinct values, each decoded once below
            policy=Cast("app__required_approvals", TextField()),
        )
        .values(
            "pk",
            "app_id",
            "version",
            "state",
            "revision",
            "state_changed_at",
            "author__username",
            "app__name",
            "app__team_id",
            "policy",
            "approval_flags",
            "wrote_it",
        )
        .order_by()
    )
    decisions: dict[tuple, tuple] = {}
    for row in rows:
        key = (row["policy"], row["approval_flags"] or 0, row["app__team_id"], row["wrote_it"])
        if key not in decisions:
            decisions[key] = _checked_decision(access, *key)
        kind, mine, others = decisions[key]
        if kind == "submit":
            reason = partial(_submit_reason, row["revision"], row["app_id"], in_review)
            _item(items, row).add("submit", reason)
        elif kind == "approve":
            _item(items, row).add("approve", partial(_approve_reason, row["author__username"], mine, others))


def _checked_decision(access: Access, policy: str | None, approvals: int, team_id: int, own: bool) -> tuple:
    """("submit" | "approve" | None, capacities the user may approve in, the others missing) for
    a checked release of `team_id` whose app requires `policy` and whose revision has `approvals`
    (bits); `own`: the user wrote its content (created or edited it). The same for every release
    alike, so decided once."""
    required = required_capacities(App(required_approvals=json.loads(policy) if policy else []))
    missing = [c for c in required if not approvals & CAPACITY_BITS[c]]
    if approvals & OVERRIDDEN or not missing:
        return ("submit" if team_id in access.managing else None), [], []
    if own or approvals & APPROVED_BY_ME:
        return None, [], []
    held = access.capacities.get(team_id, set())
    mine = [c for c in missing if c in held]
    if not mine:
        return None, [], []
    return "approve", mine, [c for c in missing if c not in held]


def _run_checks_reason(revision: int) -> str:
    return gettext("Run the checks on revision %(revision)s.") % {"revision": revision}


def _blocking_reason(n: int) -> str:
    return ngettext(
        "%(count)s blocking check failed: fix and run them again.",
        "%(count)s blocking checks failed: fix and run them again.",
        n,
    ) % {"count": n}


def _checklist_reason(n: int, revision: int) -> str:
    return ngettext(
        "%(count)s checklist item to tick for revision %(revision)s.",
        "%(count)s checklist items to tick for revision %(revision)s.",
        n,
    ) % {"count": n, "revision": revision}


def _my_drafts(draft_ids: list[int], items: dict) -> None:
    """The user's drafts (the ids _outcome_rows found): checks to run or fix, checklist items
    to tick. No query when there is none, as for most release managers."""
    if not draft_ids:
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
        Release.objects.filter(pk__in=draft_ids)
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
        .order_by()
    )
    for row in rows:
        checklist = [i for i in row["app__checklist"] or [] if isinstance(i, dict) and i.get("key")]
        open_items = max(0, len(checklist) - (row["ticked"] or 0))
        current = row["run_id"] is not None and row["run_revision"] == row["revision"]
        item = None
        if not current:
            item = _item(items, row)
            item.add("checks", partial(_run_checks_reason, row["revision"]))
        elif row["run_finished"] is not None and row["blocking"]:
            item = _item(items, row)
            item.add("checks", partial(_blocking_reason, row["blocking"]))
        if open_items:
            item = item or _item(items, row)
            item.add("checklist", partial(_checklist_reason, open_items, row["revision"]))


def _retry_reason(state: str, last_error: str) -> str:
    error = (last_error or gettext("no error recorded")).strip().splitlines()[0][:160]
    return gettext("%(step)s failed (%(error)s); retry it or give up.") % {
        "step": STEP_NAMES[state],
        "error": error,
    }


def _remediate_reason(tasks: int) -> str:
    return ngettext(
        "%(count)s required remediation task open after the rejection.",
        "%(count)s required remediation tasks open after the rejection.",
        tasks,
    ) % {"count": tasks}


def _resubmit_reason(decided_at: datetime | None, now: datetime) -> str:
    reason = gettext("Rejected; the remediation tasks are done: resubmit")
    if decided_at is None:
        return reason + "."
    closes = decided_at + timedelta(days=window_days())
    return reason + gettext(" (the window closes %(when)s).") % {"when": countdown(closes, now)}


def _publish_reason() -> str:
    return gettext("Approved by the platform: publish it when the team is ready.")


@lru_cache(maxsize=1)
def _open_tasks() -> Subquery:
    """A release's required remediation tasks still open (built once: queries copy it)."""
    from releases.models import RemediationTask

    return Subquery(
        RemediationTask.objects.filter(release=OuterRef("pk"), required=True, done=False, waived_at=None)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))  # no GROUP BY: one row, 0 when there is none
        .values("n")
    )


def _outcome_rows(access: Access, user) -> list[dict]:
    """Releases the platform decided or failed on that the user may act on (approved, rejected,
    failed steps), the user's own releases with remediation open, and the user's drafts (for
    _my_drafts, so that a user without drafts costs no query there). One query."""
    mine = Q(author=user) | Q(owner=user)
    managing = list(access.managing)
    wanted = Q(app__team_id__in=managing, state__in=[State.APPROVED, State.REJECTED, *FAILED_TO_IN_FLIGHT])
    wanted |= (
        Q(app__team_id__in=list(access.developing), state__in=[State.REJECTED, State.DRAFT, State.CHECKED])
        & mine
    )
    return list(
        Release.objects.filter(wanted)
        .annotate(open_tasks=_open_tasks())
        .filter(
            Q(state__in=[State.APPROVED, State.DRAFT, *FAILED_TO_IN_FLIGHT])
            | Q(state=State.CHECKED, open_tasks__gt=0)
            # a rejection with tasks open waits for its author or owner, not for the managers
            | (Q(state=State.REJECTED) & (Q(open_tasks=0) | mine))
        )
        .values(
            "pk",
            "version",
            "state",
            "state_changed_at",
            "decided_at",
            "last_error",
            "author_id",
            "owner_id",
            "app__name",
            "app__team_id",
            "open_tasks",
        )
        .order_by()
    )


def _platform_outcomes(rows: list[dict], access: Access, user, items: dict, now: datetime) -> None:
    """Rejections (remediation, resubmission), approvals to publish and failed steps to retry."""
    user_id = user.pk
    for row in rows:
        state, team_id = row["state"], row["app__team_id"]
        tasks = row["open_tasks"] or 0
        if state in FAILED_TO_IN_FLIGHT:
            _item(items, row).add("retry", partial(_retry_reason, state, row["last_error"]))
        elif state == State.APPROVED:
            _item(items, row).add("publish", _publish_reason)
        elif tasks and user_id in (row["author_id"], row["owner_id"]) and team_id in access.developing:
            _item(items, row).add("remediate", partial(_remediate_reason, tasks))
        elif state == State.REJECTED and not tasks and team_id in access.managing:
            _item(items, row).add("resubmit", partial(_resubmit_reason, row["decided_at"], now))


def _item(items: dict, row: dict) -> ActionItem:
    item = items.get(row["pk"])
    if item is None:
        item = items[row["pk"]] = ActionItem(
            row["pk"], row["app__name"], row["version"], row["state"], row["state_changed_at"]
        )
    return item


def needs_action(access: Access, user, now: datetime | None = None) -> list[ActionItem]:
    """What waits for this user, most urgent first, then oldest first: two queries, a third when
    the user has drafts, and one more when a "submit" item is worded (_AppsInReview)."""
    now = clock.now_or(now)
    items: dict[int, ActionItem] = {}
    outcomes = _outcome_rows(access, user)
    _checked_releases(access, user, items, now)
    _my_drafts([row["pk"] for row in outcomes if row["state"] == State.DRAFT], items)
    _platform_outcomes(outcomes, access, user, items, now)
    return sorted(items.values(), key=lambda item: (item.rank, item.since, item.release_id))


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
