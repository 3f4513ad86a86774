"""Writes of what the platform decided or did: a review outcome (from a push, a poll or a
person typing it in for the manual platform, a rejection recorded whole with it), the
resubmission window passing, and a withdrawal or resubmission made outside Sluice."""

from django.utils.translation import gettext_noop

from releases.errors import Invalid, Refused
from releases.models import AuditEvent, Release
from releases.platforms import adapter_for
from releases.transitions import _transition

OUTCOMES = ("approved", "rejected", "delayed")


def release_review_decided(
    *,
    release: Release,
    outcome: str,
    reason: str = "",
    actor=None,
    ip: str | None = None,
    data: dict | None = None,
) -> Release | None:
    """Record the platform's decision, whoever saw it first (a person, a push or a poll).

    For the system (actor None) a decision that was already recorded is a no-op and
    writes no second event. A rejection is recorded whole, in the transition's transaction:
    its Rejection with the classified items, the remediation tasks and the unknown reasons
    counted (releases.rejection_recording.on_rejected). If any of that fails, the rejection fails and
    the release stays submitted: the error reaches whoever delivered the decision (a poll job
    fails and the sweep polls again, a push is answered with an error and the poll is asked
    to come at once, a person sees the error), and the next delivery records it.
    """
    if outcome not in OUTCOMES:
        raise Invalid(
            "invalid_outcome",
            gettext_noop("Outcome must be one of: %(outcomes)s.") % {"outcomes": ", ".join(OUTCOMES)},
            details={"outcome": gettext_noop("One of %(values)s.") % {"values": ", ".join(OUTCOMES)}},
        )
    if outcome == "rejected" and not reason.strip():
        raise Invalid(
            "reason_required",
            gettext_noop("A rejection needs the platform's reason text."),
            details={"reason": gettext_noop("Required for a rejection.")},
        )
    name = {"approved": "review_approved", "rejected": "review_rejected", "delayed": "review_delayed"}[
        outcome
    ]
    args = {"reason": reason.strip()} if outcome != "approved" else {}
    payload = {**(data or {}), **({"reason": reason.strip()} if reason.strip() else {})}
    then = _record_rejection if outcome == "rejected" else None
    try:
        return _transition(release, name, actor=actor, ip=ip, args=args, data=payload, then=then)
    except Refused:
        if actor is None:
            return None
        raise


def _record_rejection(release: Release, event: AuditEvent) -> None:
    """The rejection's items and tasks, inside the `review_rejected` transition's transaction."""
    from releases.rejection_recording import on_rejected

    on_rejected(release, event=event)


def release_expire(*, release: Release) -> Release | None:
    """The resubmission window passed (a cron job): rejected -> expired, as a system event.

    A release no longer rejected (resubmitted or edited meanwhile) is left alone.
    """
    try:
        return _transition(release, "expire", actor=None, data={"decided_at": release.decided_at})
    except Refused:
        return None


def release_changed_outside(*, release: Release, change: str, audit_id: str = "", data: dict | None = None):
    """The platform shows a withdrawal or a resubmission that was not made through Sluice.

    `change` is "withdrawn" or "resubmitted". Recorded as a system event; a no-op when
    the release already reflects it.
    """
    name = {"withdrawn": "withdrawn_outside", "resubmitted": "resubmitted_outside"}[change]
    args = {"audit_id": audit_id} if change == "resubmitted" else {}
    try:
        return _transition(release, name, actor=None, args=args, data={**(data or {}), "audit_id": audit_id})
    except Refused:
        return None


def release_record_outcome(
    *, release: Release, actor, outcome: str, reason: str = "", ip: str | None = None
) -> Release:
    """The manual platform: a person types in what the platform's console said."""
    if not adapter_for(release.app.platform_account).outcomes_recorded_by_hand:
        raise Refused(
            "outcome_from_platform",
            gettext_noop("This platform reports review outcomes itself; they cannot be typed in."),
        )
    return release_review_decided(release=release, outcome=outcome, reason=reason, actor=actor, ip=ip)
