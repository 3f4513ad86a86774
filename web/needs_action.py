"""The overview's "Needs your action": every release that waits for this user, and why.

An item is what the release page would offer the user, decided by the same code: the
candidates are narrowed by state and role in one query, their gate facts are read for all of
them at once (releases.gate.facts.Batch: one query per kind of fact), and each candidate is
judged by releases.actions.availability, the function that enables or disables the release
page's buttons and mirrors the service's refusals. So the overview cannot list an action the
page refuses, nor miss one it offers (tests/web/test_gate_agreement.py generates situations to
hold the three to that). Only the SHOWN most urgent items are worded.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, ngettext

from releases import approvals, selectors
from releases.actions import BY_NAME, availability
from releases.approvals import capacity_label
from releases.gate.facts import Batch
from releases.gate.rules import RULES
from releases.limits import clock
from releases.limits.rules import window_closes_at
from releases.models import (
    FAILED_TO_IN_FLIGHT,
    MEMBER_CAPACITIES,
    Capacity,
    Release,
    Role,
    State,
    role_at_least,
)
from web.review_pages import countdown

STEP_NAMES = {
    State.SUBMIT_FAILED: gettext_lazy("Submitting"),
    State.WITHDRAW_FAILED: gettext_lazy("Withdrawing"),
    State.PUBLISH_FAILED: gettext_lazy("Publishing"),
    State.ROLLBACK_FAILED: gettext_lazy("Rolling back"),
}

# The kinds, most urgent first (the page sorts by this, then by age).
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

# A submission blocked only by something that passes by itself still waits for the manager:
# the item says what it waits for. Any other refusal (remediation, a closed window) is not theirs.
WAITS = {
    "review_in_progress": gettext_lazy("Another release of this app is in review; submit when it ends."),
    "same_reason_lock": gettext_lazy(
        "Submissions of this app are locked after repeated rejections for the same reason; "
        "submit when the lock lifts."
    ),
    "quota_exhausted": gettext_lazy("The account's review quota is used up; submit when it resets."),
}


@dataclass
class Access:
    """Who the user is in each team, read once (one small query, cached on the user)."""

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


# -- the sentences (only for the items shown) ------------------------------------------------


def _submit_reason(revision: int, waits_for: str) -> str:
    reason = gettext("Revision %(revision)s has every approval it needs: submit it for review.") % {
        "revision": revision
    }
    return f"{reason} {WAITS[waits_for]}" if waits_for else reason


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


def _resubmit_reason(closes: datetime | None, now: datetime, waits_for: str) -> str:
    reason = gettext("Rejected; the remediation tasks are done: resubmit")
    if closes is None:
        reason += "."
    else:
        reason += gettext(" (the window closes %(when)s).") % {"when": countdown(closes, now)}
    return f"{reason} {WAITS[waits_for]}" if waits_for else reason


def _publish_reason() -> str:
    return gettext("Approved by the platform: publish it when the team is ready.")


# -- deciding ----------------------------------------------------------------------------------

# What the judging reads of a candidate (the content is read only for the releases whose checks
# are judged: the Batch reads it for them); reading no more keeps hundreds of rows cheap.
CANDIDATE_FIELDS = (
    "id",
    "app_id",
    "version",
    "author_id",
    "owner_id",
    "state",
    "revision",
    "state_changed_at",
    "decided_at",
    "last_error",
    "app__team_id",
    "app__name",
    "app__platform_account_id",
    "app__checklist",
    "app__required_approvals",
    "app__platform_account__platform",
    "app__platform_account__name",
)


# The states whose actions the gate judges by the release's own content, checks and approvals.
CONTENT_JUDGED = {State.DRAFT, State.CHECKED, State.REJECTED}


def candidates(access: Access, user) -> list[Release]:
    """The releases that can wait for this user, narrowed by state and role in one query (the
    gate decides which really do): checked ones for approvers; approved, rejected and failed
    ones for managers; the user's own drafts, checked and rejected releases."""
    mine = Q(author=user) | Q(owner=user)
    approving = [team for team, held in access.capacities.items() if held]
    wanted = Q(app__team_id__in=approving, state=State.CHECKED)
    managed = [State.CHECKED, State.APPROVED, State.REJECTED, *FAILED_TO_IN_FLIGHT]
    wanted |= Q(app__team_id__in=list(access.managing), state__in=managed)
    own = [State.DRAFT, State.CHECKED, State.REJECTED]
    wanted |= Q(app__team_id__in=list(access.developing), state__in=own) & mine
    return list(
        Release.objects.filter(wanted)
        .select_related("app__platform_account")
        .only(*CANDIDATE_FIELDS)
        .annotate(author_name=F(f"author__{get_user_model().USERNAME_FIELD}"))
        .order_by()
    )


def _offered(facts, user, name: str) -> tuple[bool, str]:
    """(whether the item is due, the refusal it waits on if any) for the page's action `name`."""
    offered = availability(facts.release, user, BY_NAME[name], facts)
    if offered is None:
        return False, ""
    if offered.enabled:
        return True, ""
    return (offered.code in WAITS and name == "submit"), offered.code


def _judge(facts, access: Access, user, items: dict, now: datetime) -> None:
    release, state = facts.release, facts.release.state
    if state in CONTENT_JUDGED and not RULES["superseded"].holds(facts):
        return  # a newer version is published: this one can never ship, so it asks nothing of anyone
    item = partial(_item, items, release)
    if state in FAILED_TO_IN_FLIGHT and _offered(facts, user, "retry")[0]:
        item().add("retry", partial(_retry_reason, state, release.last_error))
    elif state == State.APPROVED and _offered(facts, user, "publish")[0]:
        item().add("publish", _publish_reason)
    elif state == State.CHECKED:
        if _offered(facts, user, "approve")[0]:
            mine = approvals.open_capacities_of(facts, user)
            others = [c for c in approvals.policy_of(release, facts.approvals).missing if c not in mine]
            item().add("approve", partial(_approve_reason, release.author_name, mine, others))
        due, waits_for = _offered(facts, user, "submit")
        if due:
            item().add("submit", partial(_submit_reason, release.revision, waits_for))
    elif state == State.REJECTED:
        due, waits_for = _offered(facts, user, "submit")
        if due:
            closes = window_closes_at(release)
            item().add("resubmit", partial(_resubmit_reason, closes, now, waits_for))
    if user.pk not in (release.author_id, release.owner_id) or release.app.team_id not in access.developing:
        return
    if state in (State.REJECTED, State.CHECKED) and facts.open_tasks:
        item().add("remediate", partial(_remediate_reason, len(facts.open_tasks)))
    if state == State.DRAFT:
        _draft(facts, item)


def _draft(facts, item) -> None:
    """A draft of the user's: checks to run or fix (the gate rule `checks_not_passed`; nothing
    while a run is still going), checklist items to tick (`checklist_incomplete`)."""
    release, run = facts.release, facts.check_run
    if not RULES["checks_not_passed"].holds(facts):
        if run is None or not run.counts_for(release, facts.content_hash):
            item().add("checks", partial(_run_checks_reason, release.revision))
        elif run.finished_at is not None:
            item().add("checks", partial(_blocking_reason, run.blocking))
    unticked = len(facts.unticked)
    if unticked:
        item().add("checklist", partial(_checklist_reason, unticked, release.revision))


def _item(items: dict, release: Release) -> ActionItem:
    found = items.get(release.pk)
    if found is None:
        found = items[release.pk] = ActionItem(
            release.pk, release.app.name, release.version, release.state, release.state_changed_at
        )
    return found


def needs_action(access: Access, user, now: datetime | None = None) -> list[ActionItem]:
    """What waits for this user, most urgent first, then oldest first: one query for the
    candidates, then one per kind of fact the gate reads about them."""
    now = clock.now_or(now)
    items: dict[int, ActionItem] = {}
    # Two batches: publishing and retrying ask nothing of a release's content, checks or
    # approvals, so the releases waiting for those do not make every other batch read them.
    judged, outcomes = [], []
    for release in candidates(access, user):
        (judged if release.state in CONTENT_JUDGED else outcomes).append(release)
    for group in (judged, outcomes):
        for facts in Batch(group, now, attach=True):
            _judge(facts, access, user, items, now)
    return sorted(items.values(), key=lambda item: (item.rank, item.since, item.release_id))
