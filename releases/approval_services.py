"""Writes of the approval step: approve in a capacity of the app's policy, approve by
override (a team admin, with a reason), or send the revision back to its author."""

from django.db import transaction
from django.utils.translation import gettext_noop

from releases import approvals
from releases.errors import Forbidden, Invalid, Refused
from releases.models import OVERRIDE, Approval, Capacity, Release, Role, english, role_at_least
from releases.selectors import role_for
from releases.transitions import _lock, _refuse_stale, _refuse_unless_allowed, _transition


def _approval_capacity(release: Release, actor, capacity: str) -> str:
    """The capacity this approval fills: the one asked for, or the first open one the actor holds."""
    status = approvals.policy_status(release)
    if any(a.approver_id == actor.pk for a in status.approvals):
        raise Refused("already_approved", gettext_noop("You have already approved this revision."))
    held = approvals.capacities_of(actor, release.app)
    if capacity:
        if capacity not in Capacity.values:
            raise Invalid(
                "invalid_capacity",
                gettext_noop("“%(capacity)s” is not an approval capacity.") % {"capacity": capacity},
                details={
                    "capacity": gettext_noop("One of %(values)s.") % {"values": ", ".join(Capacity.values)}
                },
            )
        if capacity not in held:
            raise Forbidden(
                "capacity_not_held",
                gettext_noop("You do not approve as %(capacity)s in %(team)s.")
                % {"capacity": english(approvals.capacity_label(capacity)), "team": release.app.team},
            )
        if capacity not in status.missing:
            raise Refused(
                "approval_not_needed",
                gettext_noop("Revision %(revision)s already has its %(capacity)s approval.")
                % {"revision": release.revision, "capacity": english(approvals.capacity_label(capacity))},
            )
        return capacity
    open_ = [c for c in status.missing if c in held]
    if not open_:
        raise Refused(
            "approval_not_needed",
            gettext_noop("Your approval is not needed: %(why)s")
            % {"why": approvals.missing_message(release)},
        )
    return open_[0]


def release_approve(
    *,
    release: Release,
    actor,
    comment: str = "",
    capacity: str = "",
    revision: int | None = None,
    ip: str | None = None,
) -> Approval:
    """Approve `revision` (the one the approver read; by default that of `release` as loaded) in
    one capacity of the app's policy (see releases.approvals). A release that has moved on to
    another revision since is a 409 `stale_revision`: nobody approves content they have not seen.
    """
    based_on = release.revision if revision is None else revision
    with transaction.atomic():
        _lock(release)
        _refuse_stale(release, based_on, gettext_noop("nothing was approved"))
        _refuse_unless_allowed(release, "approve", actor)
        capacity = _approval_capacity(release, actor, capacity)
        data = {"revision": release.revision, "comment": comment}
        if capacity != Capacity.RELEASE_MANAGER:
            data["capacity"] = capacity
        _transition(release, "approve", actor=actor, ip=ip, data=data)
        return Approval.objects.create(
            release=release, approver=actor, revision=release.revision, comment=comment, capacity=capacity
        )


def release_approve_override(
    *, release: Release, actor, reason: str, revision: int | None = None, ip: str | None = None
) -> Approval:
    """A team admin approves in place of the missing approvers, with a written reason.

    The override completes the policy for this revision on its own; it is audited as
    `approval_override` with the reason and what was missing. Whoever wrote the content (its
    author or an editor) still cannot, and `revision` is bound as for release_approve.
    """
    if not role_at_least(role_for(actor, release.app.team_id), Role.ADMIN):
        raise Forbidden("forbidden", gettext_noop("Only a team admin can approve by override."))
    if not (reason or "").strip():
        raise Invalid(
            "reason_required",
            gettext_noop("Write why the approval policy is overridden for this revision."),
            details={"reason": gettext_noop("Required.")},
        )
    based_on = release.revision if revision is None else revision
    with transaction.atomic():
        _lock(release)
        _refuse_stale(release, based_on, gettext_noop("nothing was approved"))
        why = approvals.self_approval_reason(release, actor)
        if why:
            raise Forbidden(
                "self_approval",
                gettext_noop("%(why)s; another admin who did not write it must override.") % {"why": why},
            )
        _refuse_unless_allowed(release, "approve", actor)
        missing = approvals.policy_status(release).missing
        _transition(
            release,
            "approve",
            actor=actor,
            ip=ip,
            action="approval_override",
            data={"revision": release.revision, "reason": reason.strip(), "missing": missing},
        )
        return Approval.objects.create(
            release=release,
            approver=actor,
            revision=release.revision,
            comment=reason.strip(),
            capacity=OVERRIDE,
            override=True,
        )


def release_send_back(*, release: Release, actor, comment: str, ip: str | None = None) -> Release:
    """An approver refuses this revision; the author fixes it and runs the checks again."""
    if not comment.strip():
        raise Invalid(
            "comment_required",
            gettext_noop("Say what must change before sending the release back."),
            details={"comment": gettext_noop("Required.")},
        )
    return _transition(release, "send_back", actor=actor, ip=ip, data={"comment": comment.strip()})
