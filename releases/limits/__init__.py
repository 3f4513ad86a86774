"""Submission limits (a budget with countdowns, in Beijing time) and the guard that enforces them.

`transition_refusal(release, name)` returns None or a Refusal, a `(code, message)` pair whose
message says when the limit lifts; releases/transitions.py calls it before a submit, withdraw or
retry, releases/actions.py to say why a button is disabled.
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
    speedup_refusal,
    window_refusal,
    withdraw_refusal,
)
from releases.models import Release, State


def _rule_refusal(code: str, release: Release, facts) -> Refusal | None:
    """A gate rule of the release itself (releases.gate.rules) as a refusal, when it fails."""
    from releases.gate.facts import facts_for
    from releases.gate.rules import RULES

    rule, facts = RULES[code], facts or facts_for(release)
    return None if rule.holds(facts) else Refusal(code, rule.reason(facts))


def submit_refusal(release: Release, now: datetime | None = None, facts=None) -> Refusal | None:
    """Why this release may not be submitted now, beyond its transition's own conditions (one
    review per app is one of those), or None. Checked in this order: the resubmission window,
    remediation, the same-reason lock, the monthly quota."""
    now = clock.now_or(now)
    return (
        window_refusal(release, now)
        or _rule_refusal("remediation_incomplete", release, facts)
        or lock_refusal(release.app, now, facts.streak if facts else None)
        or quota_refusal(release, now, facts.review_budget if facts else None)
    )


def transition_refusal(
    release: Release, transition: str, now: datetime | None = None, facts=None
) -> Refusal | None:
    """The limits of a transition: `submit`, `withdraw`, or `retry` of a failed submit/withdraw."""
    now = clock.now_or(now)
    if transition == "submit":
        return submit_refusal(release, now, facts)
    if transition == "withdraw":
        return withdraw_refusal(release, now)
    if transition == "speedup":
        return speedup_refusal(release, now)
    if transition == "retry" and release.state == State.SUBMIT_FAILED:
        # The same attempt again: remediation and the window were checked when it started.
        return (
            _rule_refusal("review_in_progress", release, facts)
            or lock_refusal(release.app, now, facts.streak if facts else None)
            or quota_refusal(release, now, facts.review_budget if facts else None)
        )
    if transition == "retry" and release.state == State.WITHDRAW_FAILED:
        return withdraw_refusal(release, now)
    return None
