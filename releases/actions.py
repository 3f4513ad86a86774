"""The actions a person can take on a release, shared by the pages and the REST API.

Availability is derived from the state machine and the user's role (the same
predicates the services enforce), so a button is shown exactly when pressing it can work;
a button whose guard is unmet is shown disabled with the guard's sentence.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from releases import approvals, services
from releases import rollout as phased
from releases.errors import Forbidden, Invalid, NotFound
from releases.gate.facts import facts_for
from releases.gate.rules import RULES, first_unmet
from releases.models import Release, Role, State, may_attempt, role_at_least
from releases.platforms import adapter_for
from releases.selectors import role_for
from releases.windows import window_refusal


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
    Action("speedup", _("Speed up review"), "speedup", "secondary", ("reason",)),
    Action("publish", _("Publish"), "publish", "primary", ("rollout", "override_reason")),
    Action(
        "schedule-publish",
        _("Schedule publish"),
        "schedule_publish",
        "secondary",
        ("at", "rollout", "override_reason"),
    ),
    Action("unschedule", _("Cancel the scheduled publish"), "unschedule", "secondary"),
    Action("rollout-advance", _("Advance to the next stage"), "rollout_advance", "primary"),
    Action("rollout-pause", _("Pause rollout"), "rollout_pause", "secondary"),
    Action("rollout-resume", _("Resume rollout"), "rollout_resume", "primary"),
    Action("rollout-revert", _("Revert phased release"), "rollout_revert", "danger", ("reason",)),
    Action("rollback", _("Roll back"), "rollback", "danger", ("reason", "app_version")),
    Action("retry", _("Retry"), "retry", "primary"),
    Action("cancel", _("Cancel release"), "cancel", "danger"),
]
BY_NAME = {action.name: action for action in ACTIONS}


@dataclass(frozen=True)
class Availability:
    action: Action
    enabled: bool
    reason: str = ""
    code: str = ""  # the refusal code of a disabled action: what the API's 409 would name
    # Every unmet rule and limit as (code, reason), the first being `code`/`reason`: asked for by
    # the release page (all_blockers=True), which lists them all under a disabled button.
    blockers: tuple[tuple[str, str], ...] = ()


def _is_manual(release: Release) -> bool:
    return adapter_for(release.app.platform_account).outcomes_recorded_by_hand


def _rollout_live(release: Release) -> bool:
    """A phased release with a live stage that is not over: what its actions act on."""
    rollout = release.rollout or {}
    return rollout.get("stage", 0) >= 1 and rollout.get("status") not in ("completed", "reverted")


def availability(
    release: Release, user, action: Action, facts=None, *, all_blockers: bool = False
) -> Availability | None:
    """Whether `user` is offered `action` on the release now (None: not at all), and if it is
    disabled, the refusal it would meet: the same rules, in the same order, as the service
    (releases.transitions: permission, state, the transition's gate rules, then the limits).

    `facts`: the release's gate facts when the caller judges many releases at once (a Batch of
    releases.gate.facts); by default the release's own, once per read scope."""
    if not may_attempt(release, action.transition, user):
        return None
    if action.name == "record-outcome" and not _is_manual(release):
        return None
    if action.name.startswith("rollout-") and not _rollout_live(release):
        return None
    if action.name == "unschedule" and (release.rollout or {}).get("status") != "scheduled":
        return None
    if action.name == "speedup" and not adapter_for(release.app.platform_account).supports_speedup:
        return None
    if action.min_role and not role_at_least(role_for(user, release.app.team_id), action.min_role):
        return None
    facts = facts or facts_for(release)
    refusal, blockers = None, []
    if action.check_guards:
        meta = getattr(release, action.transition)._django_fsm
        codes = [condition.guard_code for condition in meta.get_transition(release.state).conditions]
        unmet = first_unmet(codes, facts)
        if unmet == "already_approved":
            return None
        if unmet is not None:
            refusal = (unmet, RULES[unmet].reason(facts))
            if all_blockers:
                blockers = [
                    (code, RULES[code].reason(facts)) for code in codes if not RULES[code].holds(facts)
                ]
    if action.name == "publish" and (refusal is None or all_blockers):
        window = window_refusal(release.app, policy=facts.publish_policy)  # an admin may override it
        if window is not None:
            refusal = refusal or window
            if all_blockers:
                blockers.append(tuple(window))
    if action.transition in services.LIMITED_TRANSITIONS and (refusal is None or all_blockers):
        from releases.limits import transition_refusal, transition_refusals

        if all_blockers:
            blockers += [
                tuple(limit) for limit in transition_refusals(release, action.transition, facts=facts)
            ]
            refusal = refusal or (blockers[0] if blockers else None)
        else:
            refusal = transition_refusal(release, action.transition, facts=facts)
    if action.name == "approve" and refusal is None and not approvals.open_capacities_of(facts, user):
        return None  # already approved by this person, or nothing left that they can approve as
    if refusal is None:
        return Availability(action, True)
    return Availability(action, False, refusal[1], refusal[0], tuple(blockers))


def available_actions(
    release: Release, user, facts=None, *, all_blockers: bool = False
) -> list[Availability]:
    """Actions this user may take now; unmet guards come back disabled with their reason (and
    with every blocker, when `all_blockers`)."""
    found = (availability(release, user, action, facts, all_blockers=all_blockers) for action in ACTIONS)
    return [offered for offered in found if offered is not None]


def perform(release: Release, name: str, *, actor, payload: dict, ip: str | None = None):
    """Run the named action with its payload; raises SluiceError subclasses on refusal."""
    if name not in BY_NAME:
        raise NotFound("unknown_action", f"There is no action “{name}”. Known: {', '.join(BY_NAME)}.")
    action = BY_NAME[name]
    if name != "check":  # release_check decides the role first, in its own words
        services.refuse_unless_permitted(release, action.transition, actor)  # 403 before 400 or 409
    if action.min_role and not role_at_least(role_for(actor, release.app.team_id), action.min_role):
        raise Forbidden("forbidden", gettext_noop("Only a team admin can approve by override."))
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
            return services.release_publish(
                release=release,
                actor=actor,
                ip=ip,
                rollout=_rollout(payload),
                override_reason=_text(payload, "override_reason"),
            )
        case "schedule-publish":
            return services.release_schedule_publish(
                release=release,
                actor=actor,
                at=payload.get("at") or "",
                rollout=_rollout(payload),
                override_reason=_text(payload, "override_reason"),
                ip=ip,
            )
        case "unschedule":
            return services.release_unschedule(release=release, actor=actor, ip=ip)
        case "rollback":
            return services.release_rollback(
                release=release,
                actor=actor,
                reason=text["reason"],
                app_version=_number(payload, "app_version"),
                ip=ip,
            )
        case "speedup":
            return services.release_speedup(release=release, actor=actor, reason=text["reason"], ip=ip)
        case "rollout-advance":
            return services.release_rollout_advance(release=release, actor=actor, ip=ip)
        case "rollout-pause":
            return services.release_rollout_pause(release=release, actor=actor, reason=text["reason"], ip=ip)
        case "rollout-resume":
            return services.release_rollout_resume(release=release, actor=actor, reason=text["reason"], ip=ip)
        case "rollout-revert":
            return services.release_rollout_revert(release=release, actor=actor, reason=text["reason"], ip=ip)
        case "retry":
            return services.release_retry(release=release, actor=actor, ip=ip)
        case "cancel":
            return services.release_cancel(release=release, actor=actor, ip=ip)


def _rollout(payload: dict):
    """The plan a publish overrides the app's default with: JSON from the API, text from a form."""
    value = payload.get("rollout")
    if isinstance(value, str):
        return phased.from_text(value)
    return value


def _number(payload: dict, key: str) -> int | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Invalid("invalid_field", f"“{key}” must be a number.", details={key: "A number from 1."})
    return value


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
