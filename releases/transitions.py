"""The core every release write runs through: lock, refuse or run one transition, audit it.

`_transition` locks the app and the release's row, re-reads the release, names why a
transition cannot run (role, state, gate rule, platform limit) and otherwise runs it, saves
it and records its audit event in one transaction. The writes themselves live in the
`*_services` modules next to this one (gathered by releases.services).
"""

import django_fsm as fsm
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from releases import approvals
from releases.audit import audit_record
from releases.errors import Forbidden, Refused
from releases.models import (
    App,
    AuditEvent,
    Release,
    Role,
    State,
    english,
    guard_text,
    may_attempt,
    role_at_least,
)
from releases.selectors import role_for


def _require_role(actor, team_id: int, minimum: str, doing: str) -> None:
    if not role_at_least(role_for(actor, team_id), minimum):
        raise Forbidden(
            "forbidden",
            gettext_noop("Only a %(role)s or above can %(doing)s.")
            % {"role": english(Role(minimum).label).lower(), "doing": doing},
        )


def _state_label(state: str) -> str:
    return english(State(state).label).lower()


# What a refusal says the release cannot do, in words rather than transition names.
DOING = {
    "edit": gettext_noop("be edited"),
    "mark_checked": gettext_noop("pass its checks"),
    "approve": gettext_noop("be approved"),
    "send_back": gettext_noop("be sent back"),
    "submit": gettext_noop("be submitted"),
    "review_approved": gettext_noop("get a review outcome"),
    "review_rejected": gettext_noop("get a review outcome"),
    "review_delayed": gettext_noop("get a review outcome"),
    "withdraw": gettext_noop("be withdrawn"),
    "publish": gettext_noop("be published"),
    "rollback": gettext_noop("be rolled back"),
    "rollout_advance": gettext_noop("advance its phased release"),
    "rollout_pause": gettext_noop("pause its phased release"),
    "rollout_resume": gettext_noop("resume its phased release"),
    "rollout_revert": gettext_noop("revert its phased release"),
    "rollout_halt": gettext_noop("halt its phased release"),
    "speedup": gettext_noop("be sped up"),
    "retry": gettext_noop("be retried"),
    "expire": gettext_noop("expire"),
    "cancel": gettext_noop("be cancelled"),
}


def refuse_unless_permitted(release: Release, name: str, actor) -> None:
    """403 unless the actor's role allows the transition from some state: permission is decided
    before state, so a viewer always gets 403, never a 409 about the release's state."""
    meta = getattr(release, name)._django_fsm
    if actor is None or any(meta.has_transition_perm(release, source, actor) for source in meta.transitions):
        return
    if name in ("approve", "send_back") and approvals.capacities_of(actor, release.app):
        why = approvals.self_approval_reason(release, actor)
        if why:
            raise Forbidden(
                "self_approval",
                gettext_noop("%(why)s; someone who did not write it must decide.") % {"why": why},
            )
    raise Forbidden(
        "forbidden",
        gettext_noop("Your role in %(team)s does not allow this action on the release.")
        % {"team": release.app.team},
    )


def _refuse_unless_allowed(release: Release, name: str, actor) -> None:
    """Name exactly why a transition cannot run: role, wrong state, or which guard."""
    refuse_unless_permitted(release, name, actor)
    method = getattr(release, name)
    if not fsm.can_proceed(method, check_conditions=False):
        raise Refused(
            "invalid_state",
            gettext_noop("A release that is %(state)s cannot %(doing)s.")
            % {"state": _state_label(release.state), "doing": DOING.get(name, name)},
        )
    if actor is not None and not may_attempt(release, name, actor):  # the permission from this state
        raise Forbidden(
            "forbidden",
            gettext_noop("Your role in %(team)s does not allow this action on the release.")
            % {"team": release.app.team},
        )
    meta = method._django_fsm
    field = meta.field if isinstance(meta.field, str) else meta.field.name
    transition = meta.get_transition(getattr(release, field))  # `state`, or the speed-up's own
    for condition in transition.conditions:
        if not condition(release):
            raise Refused(condition.guard_code, guard_text(condition, release))


# Transitions whose platform limits (quota, withdrawals, locks...) releases.limits enforces.
LIMITED_TRANSITIONS = ("submit", "withdraw", "retry", "speedup")


def _refuse_by_limits(release: Release, name: str) -> None:
    """The limits guard (releases.limits) names a refusal and when it lifts."""
    if name not in LIMITED_TRANSITIONS:
        return
    from releases.limits import transition_refusal

    refusal = transition_refusal(release, name)
    if refusal:
        code, message = refusal
        raise Refused(code, message, details=getattr(refusal, "details", None))


# What a transition re-reads under the row lock: every column but the foreign keys (a release never
# changes app or author), so what the caller loaded along with it (the app, its account) stays loaded.
_ROW_FIELDS = [f.attname for f in Release._meta.concrete_fields if not f.is_relation and not f.primary_key]


def _lock(release: Release) -> None:
    """Lock the app, then the release's row, and re-read the release under that lock.

    The app lock serialises the guards that read sibling rows ("one release in review per app")
    and the writes that complete the check gate; the row lock and the re-read make every guard
    judge the release as it is now, not as the caller loaded it (a stale copy saved whole would
    write its old content back).
    """
    App.objects.select_for_update().filter(pk=release.app_id).first()
    release.refresh_from_db(fields=_ROW_FIELDS, from_queryset=Release.objects.select_for_update())


def _transition(
    release: Release,
    name: str,
    *,
    actor,
    ip=None,
    data=None,
    action=None,
    args=None,
    changes=None,
    then=None,
) -> Release:
    """Run one transition with its guards, save it, and write its audit event, atomically.

    The release is re-read under its row lock first; `changes` (content fields) are applied to
    that fresh row; `data` may be a function of it, for audit data that names its revision.
    `then(release, event)` runs last in the same transaction: what the transition means beyond
    its state (a rejection's items and tasks) is recorded with it or not at all, so no reader
    ever has to catch up on it.
    """
    try:
        with transaction.atomic():
            _lock(release)
            for field, value in (changes or {}).items():
                setattr(release, field, value)
            _refuse_unless_allowed(release, name, actor)
            _refuse_by_limits(release, name)
            from_state = release.state
            getattr(release, name)(**(args or {}))
            release.state_changed_at = (
                timezone.now() if release.state != from_state else release.state_changed_at
            )
            release.save()
            event = audit_record(
                action=action or name,
                actor=actor,
                release=release,
                from_state=from_state,
                to_state=release.state,
                data=data(release) if callable(data) else data,
                ip=ip,
            )
            if then is not None:
                then(release, event)
    except fsm.ConcurrentTransition:
        release.refresh_from_db()
        raise Refused(
            "concurrent_transition",
            gettext_noop("Someone else changed this release at the same moment; it is now %(state)s.")
            % {"state": _state_label(release.state)},
        ) from None
    return release


# Transitions that start a new revision (the audit actions a stale refusal looks for).
NEW_REVISION = {"edit": gettext_noop("edited it"), "send_back": gettext_noop("sent it back")}


def _refuse_stale(release: Release, based_on: int, nothing: str) -> None:
    """409 `stale_revision` unless the release (re-read under its lock) is still at the revision
    the person worked from; `nothing` says what did not happen ("nothing was saved")."""
    if based_on == release.revision:
        return
    details = {"revision": based_on, "current_revision": release.revision}
    if based_on > release.revision:
        raise Refused(
            "stale_revision",
            gettext_noop(
                "This release is at revision %(current)s; there is no revision %(based_on)s, so %(nothing)s."
            )
            % {"current": release.revision, "based_on": based_on, "nothing": nothing},
            details=details,
        )
    bumps = AuditEvent.objects.filter(release_id=release.pk, action__in=list(NEW_REVISION))
    last = bumps.order_by("-id").first()
    params = {"current": release.revision, "based_on": based_on, "nothing": nothing}
    if last is None:
        message = gettext_noop(
            "Someone changed this release to revision %(current)s while you had revision %(based_on)s "
            "open; %(nothing)s. Read revision %(current)s, then try again."
        )
    else:
        message = gettext_noop(
            "%(who)s (%(how)s) changed this release to revision %(current)s while you had revision "
            "%(based_on)s open; %(nothing)s. Read revision %(current)s, then try again."
        )
        params |= {"who": last.actor_name or gettext_noop("The system"), "how": NEW_REVISION[last.action]}
    raise Refused("stale_revision", message % params, details=details)
