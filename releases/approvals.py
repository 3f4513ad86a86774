"""The approval policy: which capacities must approve a revision, who holds them, what is missing.

An app requires a set of capacities (App.required_approvals, always including "release
manager"; QA and product are optional). A release manager holds the release-manager
capacity by role; QA and product are carried by a membership (Membership.capacities) and
need at least the developer role. Each approval names one capacity, one person approves a
revision at most once, and the author never approves their own release. An admin's
approval-by-override (with a written reason) completes the policy on its own.

Pure reads: the services enforce, the pages and the API show the same answers.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

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


def capacity_label(capacity: str) -> str:
    """The capacity's label in the active language (lazy); `english()` it inside service sentences."""
    if capacity == OVERRIDE:
        return _("Admin override")
    try:
        return Capacity(capacity).label
    except ValueError:
        return capacity


def required_capacities(app: App) -> list[str]:
    """The app's policy in display order; a release manager is always required."""
    wanted = set(app.required_approvals or []) | {Capacity.RELEASE_MANAGER}
    return [c.value for c in Capacity if c in wanted]


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


def policy_status(release: Release) -> PolicyStatus:
    """The policy of the release's current revision (remembered within a page's read scope)."""
    from releases.memo import memoized

    return memoized(("policy_status", release.pk, release.revision), lambda: _policy_status(release))


def _policy_status(release: Release) -> PolicyStatus:
    current = list(
        release.approvals.filter(revision=release.revision).select_related("approver").order_by("created_at")
    )
    required = required_capacities(release.app)
    given = {a.capacity for a in current if not a.override}
    override = next((a for a in current if a.override), None)
    return PolicyStatus(required, current, [c for c in required if c not in given], override)


def missing_message(release: Release) -> str:
    status = policy_status(release)
    if status.complete:
        return ""
    if status.missing == [Capacity.RELEASE_MANAGER] and status.required == [Capacity.RELEASE_MANAGER]:
        return "A release manager other than the author must approve this revision first."
    missing = ", ".join(english(capacity_label(c)) for c in status.missing)
    policy = ", ".join(english(capacity_label(c)) for c in status.required)
    return (
        f"Revision {release.revision} still needs approval as: {missing} "
        f"(this app requires {policy}; each from someone other than the author)."
    )


def open_capacities_for(release: Release, user) -> list[str]:
    """The missing capacities this user could fill now (empty for the author)."""
    if release.author_id == getattr(user, "pk", None):
        return []
    status = policy_status(release)
    if status.complete or any(a.approver_id == user.pk for a in status.approvals):
        return []
    held = capacities_of(user, release.app)
    return [c for c in status.missing if c in held]
