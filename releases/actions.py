"""The actions a person can take on a release, shared by the pages and the REST API.

Availability is derived from the state machine and the user's role (the same
predicates the services enforce), so a button is shown exactly when pressing it can work;
a button whose guard is unmet is shown disabled with the guard's sentence.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from releases import approvals, services
from releases.errors import Forbidden, Invalid, NotFound
from releases.memo import memoized, remembered
from releases.models import IN_REVIEW, Release, Role, State, guard_text, may_attempt, role_at_least
from releases.platforms import adapter_for
from releases.selectors import role_for


@dataclass(frozen=True)
class Action:
    name: str  # the URL segment: POST /api/v1/releases/{id}/{name}
    label: str  # translated lazily: shown on the pages only
    transition: str
    style: str = "secondary"
    fields: tuple[str, ...] = ()  # form fields the action takes
    check_guards: bool = True
    min_role: str = ""  # beyond the transition's permission (e.g. admins for an override)


ACTIONS = [
    Action("check", _("Run checks"), "mark_checked", "primary", check_guards=False),
    Action("approve", _("Approve"), "approve", "primary", ("comment", "capacity", "revision")),
    Action(
        "override-approval",
        _("Approve by override"),
        "approve",
        "danger",
        ("reason", "revision"),
        min_role=Role.ADMIN,
    ),
    Action("send-back", _("Send back to draft"), "send_back", "danger", ("comment",)),
    Action("submit", _("Submit for review"), "submit", "primary"),
    Action("record-outcome", _("Record review outcome"), "review_approved", "primary", ("outcome", "reason")),
    Action("withdraw", _("Withdraw from review"), "withdraw", "danger"),
    Action("publish", _("Publish"), "publish", "primary"),
    Action("rollback", _("Roll back"), "rollback", "danger"),
    Action("retry", _("Retry"), "retry", "primary"),
    Action("cancel", _("Cancel release"), "cancel", "danger"),
]
BY_NAME = {action.name: action for action in ACTIONS}


@dataclass(frozen=True)
class Availability:
    action: Action
    enabled: bool
    reason: str = ""


def _is_manual(release: Release) -> bool:
    return adapter_for(release.app.platform_account).outcomes_recorded_by_hand


# -- facts the guards, the limits and the pages share, read once per read scope (releases.memo) --


def latest_check_run(release: Release):
    """The release's newest check run, with `result_list` (its results in run order) and
    `actor_name` (who started it, or None), once per read scope: the page, the API answer and
    the `has_passed_checks` guard all read this one."""
    return memoized(("latest_check_run", release.pk), lambda: _latest_check_run(release))


def _latest_check_run(release: Release):
    username = f"actor__{get_user_model().USERNAME_FIELD}"
    run = release.check_runs.annotate(actor_name=F(username)).order_by("-created_at", "-pk").first()
    if run is not None:
        run.result_list = list(run.results.all())
    return run


def releases_in_review(app_id: int) -> list[tuple[int, str, str]]:
    """(pk, version, state) of the app's releases the platform holds (IN_REVIEW, one at a time
    unless something went wrong), newest first. Once per read scope: the `review_in_progress`
    guard and the limits (the review slot, withdrawals under way) share it."""
    return memoized(
        ("releases_in_review", app_id),
        lambda: list(
            Release.objects.filter(app_id=app_id, state__in=IN_REVIEW)
            .order_by("-created_at", "-pk")
            .values_list("pk", "version", "state")
        ),
    )


def other_in_review(release: Release) -> tuple[int, str, str] | None:
    """(pk, version, state) of the newest other release of the app in review, or None."""
    return next((row for row in releases_in_review(release.app_id) if row[0] != release.pk), None)


def _passed_checks(release: Release) -> bool:
    if not remembered(("latest_check_run", release.pk)):
        return release.has_passed_checks()  # nothing read yet: the model's own (lighter) query
    run = latest_check_run(release)
    return run is not None and run.passed and run.finished_at is not None and run.counts_for(release)


# Conditions answered from the shared facts above: the same rule as the model's method (tests hold
# the two equal), without a query of its own for what the page or the answer already read.
SHARED_CONDITIONS = {
    Release.has_passed_checks: _passed_checks,
    Release.is_only_one_in_review: lambda release: other_in_review(release) is None,
}


def _first_unmet(conditions, release: Release):
    """The first condition that does not hold (the one a refusal names), or None."""
    for condition in conditions:
        holds = SHARED_CONDITIONS.get(condition, condition)
        if not holds(release):
            return condition
    return None


def _limits_reason(release: Release, transition: str) -> str:
    """The sentence of the limits guard (quota, withdrawals, lock...), so the button says why."""
    from releases.limits import transition_refusal

    refusal = transition_refusal(release, transition)
    return refusal[1] if refusal else ""


def available_actions(release: Release, user) -> list[Availability]:
    """Actions this user may take now; unmet guards come back disabled with their reason."""
    found = []
    for action in ACTIONS:
        if not may_attempt(release, action.transition, user):
            continue
        if action.name == "record-outcome" and not _is_manual(release):
            continue
        if action.min_role and not role_at_least(role_for(user, release.app.team_id), action.min_role):
            continue
        reason = ""
        if action.check_guards:
            meta = getattr(release, action.transition)._django_fsm
            unmet = _first_unmet(meta.get_transition(release.state).conditions, release)
            if unmet is not None:
                if unmet.guard_code == "already_approved":
                    continue
                reason = guard_text(unmet, release)
        if not reason and action.transition in services.LIMITED_TRANSITIONS:
            reason = _limits_reason(release, action.transition)
        if action.name == "approve" and not reason and not approvals.open_capacities_for(release, user):
            continue  # already approved by this person, or nothing left that they can approve as
        found.append(Availability(action, not reason, reason))
    return found


def perform(release: Release, name: str, *, actor, payload: dict, ip: str | None = None):
    """Run the named action with its payload; raises SluiceError subclasses on refusal."""
    if name not in BY_NAME:
        raise NotFound("unknown_action", f"There is no action “{name}”. Known: {', '.join(BY_NAME)}.")
    action = BY_NAME[name]
    if name != "check":  # release_check decides the role first, in its own words
        services.refuse_unless_permitted(release, action.transition, actor)  # 403 before 400 or 409
    if action.min_role and not role_at_least(role_for(actor, release.app.team_id), action.min_role):
        raise Forbidden("forbidden", "Only a team admin can approve by override.")
    text = {key: _text(payload, key) for key in ("comment", "outcome", "reason", "capacity")}
    revision = _revision(payload)
    match name:
        case "check":
            return services.release_check(release=release, actor=actor, ip=ip)
        case "approve":
            return services.release_approve(
                release=release,
                actor=actor,
                comment=text["comment"],
                capacity=text["capacity"],
                revision=revision,
                ip=ip,
            )
        case "override-approval":
            return services.release_approve_override(
                release=release, actor=actor, reason=text["reason"], revision=revision, ip=ip
            )
        case "send-back":
            return services.release_send_back(release=release, actor=actor, comment=text["comment"], ip=ip)
        case "submit":
            return services.release_submit(release=release, actor=actor, ip=ip)
        case "record-outcome":
            return services.release_record_outcome(
                release=release, actor=actor, outcome=text["outcome"], reason=text["reason"], ip=ip
            )
        case "withdraw":
            return services.release_withdraw(release=release, actor=actor, ip=ip)
        case "publish":
            return services.release_publish(release=release, actor=actor, ip=ip)
        case "rollback":
            return services.release_rollback(release=release, actor=actor, ip=ip)
        case "retry":
            return services.release_retry(release=release, actor=actor, ip=ip)
        case "cancel":
            return services.release_cancel(release=release, actor=actor, ip=ip)


def _revision(payload: dict) -> int | None:
    """The revision an approval is based on (the one on the approver's page), if the caller says."""
    value = payload.get("revision")
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Invalid(
            "invalid_field", "“revision” must be a revision number.", details={"revision": "A number from 1."}
        )
    return value


def _text(payload: dict, key: str) -> str:
    value = payload.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("invalid_field", f"“{key}” must be text.", details={key: "Must be a string."})
    if len(value) > 10_000:
        raise Invalid("invalid_field", f"“{key}” is too long.", details={key: "At most 10,000 characters."})
    return value


STATE_TONE = {
    State.DRAFT: "neutral",
    State.CHECKED: "info",
    State.SUBMITTED: "info",
    State.APPROVED: "good",
    State.PUBLISHED: "good",
    State.REJECTED: "bad",
    State.CANCELLED: "muted",
    State.EXPIRED: "muted",
    State.WITHDRAWN: "muted",
    State.ROLLED_BACK: "muted",
}
