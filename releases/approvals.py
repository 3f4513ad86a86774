"""The approval policy: which capacities must approve a revision, who holds them, what is missing.

An app requires a set of capacities (App.required_approvals, always including "release
manager"; QA and product are optional). A release manager holds the release-manager
capacity by role; QA and product are carried by a membership (Membership.capacities) and
need at least the developer role. Each approval names one capacity, one person approves a
revision at most once, and nobody approves content they wrote: neither the author nor anyone
who edited any revision (four eyes on the content, issue 11). An admin's approval-by-override
(with a written reason) completes the policy on its own, under the same rule.

Pure reads: the services enforce, the pages and the API show the same answers.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases.models import (
    MEMBER_CAPACITIES,
    OVERRIDE,
    App,
    Approval,
    Capacity,
    Release,
    Role,
    english,
    role_at_least,
)

# The audit action of a content edit (the `edit` transition, releases.services.release_update).
EDIT_ACTION = "edit"


def capacity_label(capacity: str) -> str:
    """The capacity's label in the active language (lazy); `english()` it inside service sentences."""
    if capacity == OVERRIDE:
        return _("Admin override")
    try:
        return Capacity(capacity).label
    except ValueError:
        return capacity


# The capacities in display order, as plain strings (iterating the enum costs more than the rule).
CAPACITY_ORDER = tuple(capacity.value for capacity in Capacity)


def required_capacities(app: App) -> list[str]:
    """The app's policy in display order; a release manager is always required."""
    wanted = {*(app.required_approvals or []), Capacity.RELEASE_MANAGER.value}
    return [c for c in CAPACITY_ORDER if c in wanted]


def capacities_of(user, app: App) -> list[str]:
    """The capacities `user` may approve in for this app (empty: not an approver here)."""
    from releases.selectors import member_capacities_for, role_for

    if user is None or not getattr(user, "is_authenticated", False):
        return []
    role = role_for(user, app.team_id)
    found = []
    if role_at_least(role, Role.RELEASE_MANAGER):
        found.append(Capacity.RELEASE_MANAGER.value)
    if role_at_least(role, Role.DEVELOPER):
        held = member_capacities_for(user, app.team_id)
        found += [c.value for c in MEMBER_CAPACITIES if c in held]
    return found


def capacities_of_membership(membership) -> list[str]:
    """capacities_of() for a member, read from the membership row itself (no query): what a
    page listing every member of a team uses."""
    found = []
    if role_at_least(membership.role, Role.RELEASE_MANAGER):
        found.append(Capacity.RELEASE_MANAGER.value)
    if role_at_least(membership.role, Role.DEVELOPER):
        held = membership.capacities or []
        found += [c.value for c in MEMBER_CAPACITIES if c in held]
    return found


@dataclass
class PolicyStatus:
    required: list[str]
    approvals: list[Approval]  # those of the current revision
    missing: list[str] = field(default_factory=list)
    override: Approval | None = None

    @property
    def complete(self) -> bool:
        return self.override is not None or not self.missing

    def by_capacity(self) -> list[tuple[str, str, Approval | None]]:
        """(capacity, label, approval or None) per required capacity, for the pages."""
        given = {a.capacity: a for a in self.approvals if not a.override}
        return [(c, capacity_label(c), given.get(c)) for c in self.required]


def content_writers(release: Release) -> set[int]:
    """The ids of everyone who wrote this release's content: its author and whoever edited any
    revision of it (releases.gate.facts reads them from the audit trail)."""
    from releases.gate.facts import facts_for

    return facts_for(release).writers


def wrote_content(release: Release, user) -> bool:
    """Whether `user` created or changed the content of this release (then they cannot approve it)."""
    user_id = getattr(user, "pk", None)
    return user_id is not None and (user_id == release.author_id or user_id in content_writers(release))


def self_approval_reason(release: Release, user) -> str:
    """Why `user` may not approve this release because they wrote it (start of a sentence), or ""."""
    if getattr(user, "pk", None) == release.author_id:
        return gettext_noop("You are the author of this release")
    if wrote_content(release, user):
        return gettext_noop("You changed the content of this release")
    return ""


def policy_status(release: Release) -> PolicyStatus:
    """The policy of the release's current revision (from the gate's facts: once per read scope)."""
    from releases.gate.facts import facts_for

    return policy_of(release, facts_for(release).approvals)


def policy_of(release: Release, current: list[Approval]) -> PolicyStatus:
    """The policy of the release's app against `current`, the approvals of its current revision."""
    required = required_capacities(release.app)
    given = {a.capacity for a in current if not a.override}
    override = next((a for a in current if a.override), None)
    return PolicyStatus(required, current, [c for c in required if c not in given], override)


def missing_message(release: Release) -> str:
    return missing_message_of(release, policy_status(release))


def missing_message_of(release: Release, status: PolicyStatus) -> str:
    if status.complete:
        return ""
    if status.missing == [Capacity.RELEASE_MANAGER] and status.required == [Capacity.RELEASE_MANAGER]:
        return gettext_noop(
            "A release manager who did not write its content must approve this revision first."
        )
    missing = ", ".join(english(capacity_label(c)) for c in status.missing)
    policy = ", ".join(english(capacity_label(c)) for c in status.required)
    return gettext_noop(
        "Revision %(revision)s still needs approval as: %(missing)s "
        "(this app requires %(policy)s; each from someone who did not write its content)."
    ) % {"revision": release.revision, "missing": missing, "policy": policy}


def open_capacities_for(release: Release, user) -> list[str]:
    """The missing capacities this user could fill now (empty for whoever wrote the content)."""
    from releases.gate.facts import facts_for

    return open_capacities_of(facts_for(release), user)


def open_capacities_of(facts, user) -> list[str]:
    """open_capacities_for() from a release's gate facts (releases.gate.facts)."""
    release = facts.release
    status = policy_of(release, facts.approvals)
    if status.complete or any(a.approver_id == user.pk for a in status.approvals):
        return []
    held = [c for c in status.missing if c in capacities_of(user, release.app)]
    wrote = user.pk == release.author_id or user.pk in facts.writers
    return held if held and not wrote else []
