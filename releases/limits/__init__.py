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
    limits_ahead,
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


def _submit_limits(release: Release, now: datetime, facts) -> list:
    """What may refuse a submit beyond its transition's own conditions (one review per app is one
    of those), in the order a refusal names them: the resubmission window, remediation, the
    same-reason lock, the monthly quota. Each is asked only when needed (thunks)."""
    return [
        lambda: window_refusal(release, now),
        lambda: _rule_refusal("remediation_incomplete", release, facts),
        lambda: lock_refusal(release.app, now, facts.streak if facts else None),
        lambda: quota_refusal(release, now, facts.review_budget if facts else None),
    ]


def _limits_of(release: Release, transition: str, now: datetime, facts) -> list:
    """The limits of a transition: `submit`, `withdraw`, or `retry` of a failed submit/withdraw."""
    if transition == "submit":
        return _submit_limits(release, now, facts)
    if transition == "withdraw" or (transition == "retry" and release.state == State.WITHDRAW_FAILED):
        return [lambda: withdraw_refusal(release, now)]
    if transition == "retry" and release.state == State.SUBMIT_FAILED:
        # The same attempt again: remediation and the window were checked when it started.
        return [
            lambda: _rule_refusal("review_in_progress", release, facts),
            lambda: lock_refusal(release.app, now, facts.streak if facts else None),
            lambda: quota_refusal(release, now, facts.review_budget if facts else None),
        ]
    return []


def submit_refusal(release: Release, now: datetime | None = None, facts=None) -> Refusal | None:
    """Why this release may not be submitted now, beyond its transition's own conditions, or None."""
    return transition_refusal(release, "submit", now, facts)


def transition_refusal(
    release: Release, transition: str, now: datetime | None = None, facts=None
) -> Refusal | None:
    """The first limit that refuses the transition (the one its 409 names), or None."""
    for limit in _limits_of(release, transition, clock.now_or(now), facts):
        if refusal := limit():
            return refusal
    return None


def transition_refusals(
    release: Release, transition: str, now: datetime | None = None, facts=None
) -> list[Refusal]:
    """Every limit that refuses the transition now, in the same order: the release page lists them
    all, so a 24-hour lock is not hidden behind a remediation message."""
    found = (limit() for limit in _limits_of(release, transition, clock.now_or(now), facts))
    return [refusal for refusal in found if refusal]
