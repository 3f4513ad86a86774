"""Every rule of the release gate that judges one release, each written once.

A rule is a named predicate over `Facts` (releases.gate.facts) with the code a refusal carries
(409 `code`) and the sentence that says what is missing. The transitions' conditions
(releases.models), the buttons and their reasons (releases.actions), the API's refusals and the
overview's "needs your action" all evaluate these same functions, on one release or on a batch
of many. The app- and account-wide limits (quota, withdrawals, the same-reason lock, the
resubmission window) are in releases.limits, computed the same way for one app or many.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from releases import approvals, rollout_rules
from releases.gate.facts import Facts, facts_for


@dataclass(frozen=True)
class Rule:
    code: str  # what a refusal names (409)
    message: str  # the rule in one sentence, when nothing more precise can be said
    holds: Callable[[Facts], bool]
    detail: Callable[[Facts], str] | None = None  # precisely what is missing, when it can say

    def reason(self, facts: Facts) -> str:
        return (self.detail(facts) if self.detail is not None else "") or self.message


def _checks_passed(facts: Facts) -> bool:
    run = facts.check_run
    return (
        run is not None
        and run.passed
        and run.finished_at is not None
        and run.counts_for(facts.release, facts.content_hash)
    )


def _checklist_detail(facts: Facts) -> str:
    missing = facts.unticked
    if not missing:
        return ""
    labels = "; ".join(item.get("label", item["key"]) for item in missing)
    return gettext_noop("Tick the manual checklist for revision %(revision)s; still open: %(labels)s.") % {
        "revision": facts.release.revision,
        "labels": labels,
    }


def _policy(facts: Facts) -> approvals.PolicyStatus:
    return approvals.policy_of(facts.release, facts.approvals)


def _in_review_detail(facts: Facts) -> str:
    other = facts.others_in_review
    if not other:
        return ""
    return gettext_noop(
        "%(app)s %(version)s is already in review and the platform takes one at a time. "
        "It lifts when that review ends (approved, rejected or withdrawn)."
    ) % {"app": facts.release.app, "version": other[0][1]}


def _qualification_detail(facts: Facts) -> str:
    problems = facts.qualification_problems
    if not problems:
        return ""
    return gettext_noop("%(problems)s. Renew it on the app page.") % {
        "problems": "; ".join(p["message"] for p in problems)
    }


def _remediation_detail(facts: Facts) -> str:
    titles = facts.open_tasks
    if not titles:
        return ""
    shown = "; ".join(titles[:5]) + ("; …" if len(titles) > 5 else "")
    message = (
        gettext_noop(
            "%(count)s required remediation tasks are still open (%(tasks)s). It lifts when each is "
            "marked done with a note, or a release manager overrides them with a reason."
        )
        if len(titles) > 1
        else gettext_noop(
            "%(count)s required remediation task is still open (%(tasks)s). It lifts when each is "
            "marked done with a note, or a release manager overrides them with a reason."
        )
    )
    return message % {"count": len(titles), "tasks": shown}


def _not_superseded(facts: Facts) -> bool:
    """A version at or below the app's newest published one can never ship: the platform takes
    only higher versions. A published release (or one on its way back) is not superseded by itself."""
    from releases.models import EVER_PUBLISHED
    from releases.versioning import parse

    published = facts.published_version
    if published is None or facts.release.state in EVER_PUBLISHED:
        return True
    mine, theirs = parse(facts.release.version), parse(published)
    return mine is None or theirs is None or mine > theirs


RULES = {
    rule.code: rule
    for rule in (
        Rule(
            "checks_not_passed",
            gettext_noop("The pre-submission checks have not passed for this revision."),
            _checks_passed,
        ),
        Rule(
            "checklist_incomplete",
            gettext_noop("Tick every item of the manual checklist for this revision first."),
            lambda facts: not facts.unticked,
            _checklist_detail,
        ),
        Rule(
            "approval_required",
            gettext_noop("A release manager who did not write its content must approve this revision first."),
            lambda facts: _policy(facts).complete,
            lambda facts: approvals.missing_message_of(facts.release, _policy(facts)),
        ),
        Rule(
            "already_approved",
            gettext_noop("You have already approved this revision."),
            lambda facts: not _policy(facts).complete,
        ),
        Rule(
            "review_in_progress",
            gettext_noop(
                "Another release of this app is already in review; the platform takes one at a time."
            ),
            lambda facts: not facts.others_in_review,
            _in_review_detail,
        ),
        Rule(
            "qualification_expired",
            gettext_noop(
                "A qualification of this app has expired or expires within the review window; renew it first."
            ),
            lambda facts: not facts.qualification_problems,
            _qualification_detail,
        ),
        Rule(
            "superseded",
            gettext_noop(
                "A newer version of this app is already published: this one can never ship. Cancel it, "
                "or edit it to a higher version."
            ),
            _not_superseded,
            lambda facts: (
                gettext_noop(
                    "%(app)s %(published)s is already published: %(version)s can never ship. Cancel it, or "
                    "edit it to a higher version."
                )
                % {
                    "app": facts.release.app,
                    "published": facts.published_version,
                    "version": facts.release.version,
                }
            ),
        ),
        Rule(
            "remediation_incomplete",
            gettext_noop("Required remediation tasks are still open."),
            lambda facts: not facts.open_tasks,
            _remediation_detail,
        ),
        # Phased releases and rollbacks (releases.rollout_rules).
        Rule(
            "rollout_not_running",
            gettext_noop("The phased release is not running."),
            rollout_rules.rollout_running,
        ),
        Rule(
            "rollout_not_paused",
            gettext_noop("The phased release is neither paused nor halted."),
            rollout_rules.rollout_stopped,
        ),
        Rule(
            "phased_release_live",
            gettext_noop(
                "This version is live for some users in a phased release: revert it before cancelling."
            ),
            rollout_rules.not_phased_live,
        ),
        Rule(
            "speedup_in_flight",
            gettext_noop("A speed-up of this review is already being requested; wait for its answer."),
            lambda facts: facts.release.speedup_state != "requesting",
        ),
        Rule(
            "not_scheduled",
            gettext_noop("No publish is scheduled for this release."),
            rollout_rules.publish_scheduled,
        ),
        Rule(
            "rollout_not_started",
            gettext_noop("No stage of the phased release is live yet."),
            rollout_rules.rollout_started,
        ),
        Rule(
            "gray_percentage_too_low",
            gettext_noop(
                "The next stage must show the version to more users than now (the platform refuses 85082)."
            ),
            rollout_rules.higher_stage,
            rollout_rules.higher_stage_detail,
        ),
        Rule(
            "health_metric_stale",
            gettext_noop("A required health metric has not been reported recently."),
            lambda facts: not rollout_rules.stale_metrics(facts),
            rollout_rules.stale_detail,
        ),
        Rule(
            "phased_release_running",
            gettext_noop(
                "Another version of this app is in a phased release; the platform refuses a rollback (87011)."
            ),
            rollout_rules.no_phased_release,
            rollout_rules.phased_detail,
        ),
        Rule(
            "rollback_twice",
            gettext_noop(
                "The last change of this app's online version was a rollback; the platform allows no "
                "second one until the next release (87012)."
            ),
            rollout_rules.not_twice,
        ),
        Rule(
            "no_previous_version",
            gettext_noop(
                "No earlier version of this app was released through Sluice: nothing to roll back to."
            ),
            rollout_rules.has_previous_version,
        ),
    )
}


def holds(code: str, release, facts: Facts | None = None) -> bool:
    return RULES[code].holds(facts or facts_for(release))


def reason(code: str, release, facts: Facts | None = None) -> str:
    return RULES[code].reason(facts or facts_for(release))


def first_unmet(codes, facts: Facts) -> str | None:
    """The first rule of `codes` that does not hold (the one a refusal names), or None."""
    return next((code for code in codes if not RULES[code].holds(facts)), None)
