"""Submission limits (a budget with countdowns, in Beijing time) and the guard that enforces them.

`submit_refusal(release)` / `transition_refusal(release, name)` return None or a Refusal,
a `(code, message)` pair whose message says when the limit lifts; releases/services.py calls
the latter before a submit, withdraw or retry (see SLUICE_TRANSITION_GUARD).
"""

from datetime import datetime

from releases.limits import clock
from releases.limits.rules import (  # noqa: F401
    Limit,
    Refusal,
    app_limits,
    lock_refusal,
    quota_refusal,
    release_limits,
    review_slot_refusal,
    speedup_refusal,
    window_refusal,
    withdraw_refusal,
)
from releases.models import Release, State


def submit_refusal(release: Release, now: datetime | None = None) -> Refusal | None:
    """Why this release may not be submitted now, or None. Checked in this order: one review
    per app, the resubmission window, remediation, the same-reason lock, the monthly quota."""
    from releases.remediation import remediation_refusal

    now = clock.now_or(now)
    return (
        review_slot_refusal(release)
        or window_refusal(release, now)
        or _as_refusal(remediation_refusal(release))
        or lock_refusal(release.app, now)
        or quota_refusal(release, now)
    )


def transition_refusal(release: Release, transition: str, now: datetime | None = None) -> Refusal | None:
    """The limits of a transition: `submit`, `withdraw`, or `retry` of a failed submit/withdraw."""
    now = clock.now_or(now)
    if transition == "submit":
        return submit_refusal(release, now)
    if transition == "withdraw":
        return withdraw_refusal(release, now)
    if transition == "retry" and release.state == State.SUBMIT_FAILED:
        # The same attempt again: remediation and the window were checked when it started.
        return review_slot_refusal(release) or lock_refusal(release.app, now) or quota_refusal(release, now)
    if transition == "retry" and release.state == State.WITHDRAW_FAILED:
        return withdraw_refusal(release, now)
    return None


def _as_refusal(pair: tuple[str, str] | None) -> Refusal | None:
    return Refusal(*pair) if pair else None
